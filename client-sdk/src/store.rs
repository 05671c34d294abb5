//! Row-level access to the device database (see `schema.rs` for the tables). Every function
//! takes a `&Connection` so callers can run several of them inside one transaction
//! (`Transaction` derefs to `Connection`).

use automerge::{AutoCommit, ChangeHash};
use fieldsync_shared::master::{CreditSnapshot, Product, Store, UserProfile};
use fieldsync_shared::protocol::Cursor;
use fieldsync_shared::{DocId, DocKind, Sha256, Sku, StoreId, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{DeviceError, Result};

// ---------------------------------------------------------------------------------------------
// meta

pub mod keys {
    pub const DEVICE_ID: &str = "device_id";
    pub const ACTOR_ID: &str = "actor_id";
    pub const SERVER_URL: &str = "server_url";
    pub const TENANT: &str = "tenant";
    pub const PROFILE: &str = "profile";
    pub const ACCESS_TOKEN: &str = "access_token";
    pub const PULL_CURSOR: &str = "pull_cursor";
    pub const MASTER_VERSION: &str = "master_version";
    /// Followed by the date: `order_seq:2026-11-22`.
    pub const ORDER_SEQ_PREFIX: &str = "order_seq:";
}

pub fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn meta_delete(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}

pub fn profile(conn: &Connection) -> Result<Option<UserProfile>> {
    match meta_get(conn, keys::PROFILE)? {
        Some(json) => Ok(Some(serde_json::from_str(&json)?)),
        None => Ok(None),
    }
}

pub fn cursor(conn: &Connection) -> Result<Option<Cursor>> {
    match meta_get(conn, keys::PULL_CURSOR)? {
        Some(json) => Ok(Some(serde_json::from_str(&json)?)),
        None => Ok(None),
    }
}

pub fn set_cursor(conn: &Connection, cursor: Option<&Cursor>) -> Result<()> {
    match cursor {
        Some(c) => meta_set(conn, keys::PULL_CURSOR, &serde_json::to_string(c)?),
        None => meta_delete(conn, keys::PULL_CURSOR),
    }
}

pub fn master_version(conn: &Connection) -> Result<i64> {
    Ok(meta_get(conn, keys::MASTER_VERSION)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Takes the next order sequence number of `date` (1-based). Call inside the transaction that
/// creates the order, so a number is never handed out twice.
pub fn next_order_seq(conn: &Connection, date: &str) -> Result<u32> {
    let key = format!("{}{date}", keys::ORDER_SEQ_PREFIX);
    let current: u32 = meta_get(conn, &key)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let next = current.saturating_add(1);
    meta_set(conn, &key, &next.to_string())?;
    Ok(next)
}

// ---------------------------------------------------------------------------------------------
// documents

/// Sorted, concatenated 32-byte hashes: a canonical form, so equal sets compare equal as blobs.
pub fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted.iter().flat_map(|h| h.0).collect()
}

pub fn decode_heads(bytes: &[u8]) -> Vec<ChangeHash> {
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
        Ok(AutoCommit::load(&self.data)?.with_actor(actor.clone()))
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
    let mut stmt = conn.prepare(&format!(
        "SELECT {DOC_COLUMNS} FROM documents WHERE ?1 IS NULL OR kind = ?1 ORDER BY updated_at, doc_id"
    ))?;
    let rows = stmt
        .query_map([kind.map(|k| k.as_str())], doc_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(to_doc_row).collect()
}

/// Documents whose heads differ from what the server acknowledged.
pub fn pending_docs(conn: &Connection) -> Result<Vec<DocRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {DOC_COLUMNS} FROM documents WHERE heads != synced_heads ORDER BY updated_at, doc_id"
    ))?;
    let rows = stmt
        .query_map([], doc_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(to_doc_row).collect()
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

/// Forgets every acknowledgement: the next sync pushes every document's whole history.
pub fn clear_all_synced_heads(conn: &Connection) -> Result<()> {
    conn.execute("UPDATE documents SET synced_heads = x''", [])?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// master data

pub fn upsert_store(conn: &Connection, store: &Store) -> Result<()> {
    conn.execute(
        "INSERT INTO stores (id, code, json) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET code = excluded.code, json = excluded.json",
        params![
            store.id.to_string(),
            store.code.as_str(),
            serde_json::to_string(store)?
        ],
    )?;
    Ok(())
}

pub fn upsert_product(conn: &Connection, product: &Product) -> Result<()> {
    conn.execute(
        "INSERT INTO products (sku, json) VALUES (?1, ?2)
         ON CONFLICT (sku) DO UPDATE SET json = excluded.json",
        params![product.sku.as_str(), serde_json::to_string(product)?],
    )?;
    Ok(())
}

pub fn upsert_credit(conn: &Connection, credit: &CreditSnapshot) -> Result<()> {
    conn.execute(
        "INSERT INTO credit (store_id, json) VALUES (?1, ?2)
         ON CONFLICT (store_id) DO UPDATE SET json = excluded.json",
        params![credit.store_id.to_string(), serde_json::to_string(credit)?],
    )?;
    Ok(())
}

fn json_rows<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    param: Option<&str>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let rows: Vec<String> = match param {
        Some(p) => stmt
            .query_map([p], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
        None => stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
    };
    rows.iter()
        .map(|j| serde_json::from_str(j).map_err(DeviceError::from))
        .collect()
}

pub fn stores(conn: &Connection) -> Result<Vec<Store>> {
    json_rows(conn, "SELECT json FROM stores ORDER BY code", None)
}

pub fn store(conn: &Connection, id: StoreId) -> Result<Option<Store>> {
    Ok(json_rows(
        conn,
        "SELECT json FROM stores WHERE id = ?1",
        Some(&id.to_string()),
    )?
    .into_iter()
    .next())
}

pub fn store_by_code(conn: &Connection, code: &str) -> Result<Option<Store>> {
    Ok(
        json_rows(conn, "SELECT json FROM stores WHERE code = ?1", Some(code))?
            .into_iter()
            .next(),
    )
}

pub fn products(conn: &Connection) -> Result<Vec<Product>> {
    json_rows(conn, "SELECT json FROM products ORDER BY sku", None)
}

pub fn product(conn: &Connection, sku: &Sku) -> Result<Option<Product>> {
    Ok(json_rows(
        conn,
        "SELECT json FROM products WHERE sku = ?1",
        Some(sku.as_str()),
    )?
    .into_iter()
    .next())
}

pub fn credit(conn: &Connection, store: StoreId) -> Result<Option<CreditSnapshot>> {
    Ok(json_rows(
        conn,
        "SELECT json FROM credit WHERE store_id = ?1",
        Some(&store.to_string()),
    )?
    .into_iter()
    .next())
}

// ---------------------------------------------------------------------------------------------
// photos

#[derive(Debug, Clone, PartialEq)]
pub struct PhotoRow {
    pub sha256: Sha256,
    /// Relative to the device directory.
    pub path: String,
    pub size_bytes: u64,
    pub content_type: String,
    pub uploaded: bool,
}

/// Queues a photo for upload; a photo already known (same bytes) keeps its row and state.
pub fn insert_photo(conn: &Connection, photo: &PhotoRow) -> Result<()> {
    conn.execute(
        "INSERT INTO photos (sha256, path, size_bytes, content_type, state, added_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5) ON CONFLICT (sha256) DO NOTHING",
        params![
            photo.sha256.to_hex(),
            photo.path,
            i64::try_from(photo.size_bytes).unwrap_or(i64::MAX),
            photo.content_type,
            Timestamp::now().millis()
        ],
    )?;
    Ok(())
}

pub fn pending_photos(conn: &Connection) -> Result<Vec<PhotoRow>> {
    let mut stmt = conn.prepare(
        "SELECT sha256, path, size_bytes, content_type FROM photos
         WHERE state = 'pending' ORDER BY added_at, sha256",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(sha, path, size, content_type)| {
            Ok(PhotoRow {
                sha256: Sha256::parse(&sha)?,
                path,
                size_bytes: u64::try_from(size).unwrap_or(0),
                content_type,
                uploaded: false,
            })
        })
        .collect()
}

pub fn mark_photo_uploaded(conn: &Connection, sha: &Sha256) -> Result<()> {
    conn.execute(
        "UPDATE photos SET state = 'uploaded' WHERE sha256 = ?1",
        [sha.to_hex()],
    )?;
    Ok(())
}
