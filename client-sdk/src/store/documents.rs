//! The `documents` table: each Automerge document's bytes, its heads, and the heads the
//! server acknowledged (a document is pending while the two differ).

use automerge::{AutoCommit, ChangeHash};
use fieldsync_shared::protocol::{self, Receipt};
use fieldsync_shared::{DocId, DocKind, Timestamp};
use rusqlite::{params, Connection, OptionalExtension, Params};

use crate::error::{DeviceError, Result};

/// Sorted, concatenated 32-byte hashes: a canonical form, so equal sets compare equal as blobs.
pub fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted.iter().flat_map(|h| h.0).collect()
}

fn decode_heads(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|c| <[u8; 32]>::try_from(c).ok().map(ChangeHash))
        .collect()
}

/// One stored document.
pub struct DocRow {
    pub id: DocId,
    pub kind: DocKind,
    pub data: Vec<u8>,
    pub heads: Vec<ChangeHash>,
    pub synced_heads: Vec<ChangeHash>,
}

impl DocRow {
    /// The Automerge document, ready to be edited under `actor`.
    pub fn load(&self, actor: &automerge::ActorId) -> Result<AutoCommit> {
        // The shared loader fixes the text encoding, so notes index the same on every replica.
        Ok(fieldsync_shared::document::load_document(&self.data)?.with_actor(actor.clone()))
    }
    /// Does the document hold changes the server has not acknowledged?
    pub fn is_pending(&self) -> bool {
        encode_heads(&self.heads) != encode_heads(&self.synced_heads)
    }
}

/// A `documents` row as read: id, kind, data, heads, synced heads.
type RawDocRow = (String, String, Vec<u8>, Vec<u8>, Vec<u8>);

fn doc_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawDocRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_doc_row(raw: RawDocRow) -> Result<DocRow> {
    let (id, kind, data, heads, synced) = raw;
    Ok(DocRow {
        id: DocId::parse(&id)?,
        kind: DocKind::parse(&kind)
            .ok_or_else(|| DeviceError::Storage(format!("unknown document kind {kind:?}")))?,
        data,
        heads: decode_heads(&heads),
        synced_heads: decode_heads(&synced),
    })
}

const DOC_COLUMNS: &str = "doc_id, kind, data, heads, synced_heads";

/// The documents matching `filter` (a `WHERE` clause), oldest edit first.
fn doc_rows(conn: &Connection, filter: &str, params: impl Params) -> Result<Vec<DocRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {DOC_COLUMNS} FROM documents WHERE {filter} ORDER BY updated_at, doc_id"
    ))?;
    let rows = stmt
        .query_map(params, doc_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(to_doc_row).collect()
}

pub fn load_doc(conn: &Connection, id: DocId) -> Result<Option<DocRow>> {
    let raw = conn
        .query_row(
            &format!("SELECT {DOC_COLUMNS} FROM documents WHERE doc_id = ?1"),
            [id.to_string()],
            doc_row,
        )
        .optional()?;
    raw.map(to_doc_row).transpose()
}

/// All documents (of one kind, or all), oldest edit first.
pub fn list_docs(conn: &Connection, kind: Option<DocKind>) -> Result<Vec<DocRow>> {
    doc_rows(conn, "?1 IS NULL OR kind = ?1", [kind.map(|k| k.as_str())])
}

/// Documents whose heads differ from what the server acknowledged.
/// Ids of the local documents (of one kind, or all), ascending.
pub fn doc_ids(conn: &Connection, kind: Option<DocKind>) -> Result<Vec<DocId>> {
    let mut stmt =
        conn.prepare("SELECT doc_id FROM documents WHERE ?1 IS NULL OR kind = ?1 ORDER BY doc_id")?;
    let ids = stmt
        .query_map([kind.map(|k| k.as_str())], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.iter().map(|s| Ok(DocId::parse(s)?)).collect()
}

pub fn pending_docs(conn: &Connection) -> Result<Vec<DocRow>> {
    doc_rows(conn, "heads != synced_heads", [])
}

/// Writes the whole document (insert or replace its bytes and heads), keeping `synced_heads`.
pub fn save_doc(conn: &Connection, id: DocId, kind: DocKind, doc: &mut AutoCommit) -> Result<()> {
    let heads = encode_heads(&doc.get_heads());
    let data = doc.save();
    conn.execute(
        "INSERT INTO documents (doc_id, kind, data, heads, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (doc_id) DO UPDATE SET data = excluded.data, heads = excluded.heads,
             updated_at = excluded.updated_at",
        params![
            id.to_string(),
            kind.as_str(),
            data,
            heads,
            Timestamp::now().millis()
        ],
    )?;
    Ok(())
}

pub fn set_synced_heads(conn: &Connection, id: DocId, heads: &[ChangeHash]) -> Result<()> {
    conn.execute(
        "UPDATE documents SET synced_heads = ?2 WHERE doc_id = ?1",
        params![id.to_string(), encode_heads(heads)],
    )?;
    Ok(())
}

/// Keeps the server's latest receipt for the document (a no-op when it is not stored here).
pub fn set_receipt(conn: &Connection, id: DocId, receipt: &Receipt) -> Result<()> {
    conn.execute(
        "UPDATE documents SET receipt = ?2 WHERE doc_id = ?1",
        params![id.to_string(), protocol::encode(receipt)],
    )?;
    Ok(())
}

/// The server's latest receipt for the document, if any (one that no longer decodes is none).
pub fn receipt(conn: &Connection, id: DocId) -> Result<Option<Receipt>> {
    let bytes: Option<Option<Vec<u8>>> = conn
        .query_row(
            "SELECT receipt FROM documents WHERE doc_id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(bytes.flatten().and_then(|b| protocol::decode(&b).ok()))
}

/// Forgets every acknowledgement: the next sync pushes every document's whole history. The
/// receipts stay: they are what lets the server take back others' changes it lost.
pub fn clear_all_synced_heads(conn: &Connection) -> Result<()> {
    conn.execute("UPDATE documents SET synced_heads = x''", [])?;
    Ok(())
}
