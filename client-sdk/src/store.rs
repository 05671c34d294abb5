//! Row-level access to the device database (see `schema.rs` for the tables). Every function
//! takes a `&Connection` so callers can run several of them inside one transaction
//! (`Transaction` derefs to `Connection`).

use std::collections::HashSet;

use automerge::{AutoCommit, ChangeHash};
use fieldsync_shared::document::AnyDocument;
use fieldsync_shared::master::{CreditSnapshot, Product, Store, UserProfile};
use fieldsync_shared::protocol::Cursor;
use fieldsync_shared::{DocId, DocKind, Sha256, Sku, StoreId, Timestamp, UserId};
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

/// What evicting one document removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evicted {
    /// The document held changes the server had not acknowledged (they are gone).
    pub had_unsynced: bool,
    /// Device-relative paths of photo files whose queue rows were deleted: remove them once
    /// the transaction committed.
    pub photo_files: Vec<String>,
}

/// Deletes a document the server says this device may no longer hold (`PullPage::evict`),
/// with the queue rows of its photos that are already uploaded (a photo still queued is this
/// user's work and stays). Never deletes a document owned by `me`: the server never evicts
/// those, and one that does not hydrate here cannot be checked, so it stays too. `None`:
/// nothing deleted (absent, own, or unreadable).
pub fn delete_evicted(conn: &Connection, id: DocId, me: UserId) -> Result<Option<Evicted>> {
    let Some(row) = load_doc(conn, id)? else {
        return Ok(None);
    };
    let Ok(doc) = fieldsync_shared::document::load_document(&row.data) else {
        return Ok(None);
    };
    let (owner, photos): (UserId, Vec<Sha256>) =
        match fieldsync_shared::document::hydrate_any(row.kind, &doc) {
            Ok(AnyDocument::Visit(v)) => {
                (v.person_id, v.photos.values().map(|p| p.sha256).collect())
            }
            Ok(AnyDocument::Order(o)) => (o.person_id, Vec::new()),
            Err(_) => return Ok(None),
        };
    if owner == me {
        return Ok(None);
    }
    conn.execute("DELETE FROM documents WHERE doc_id = ?1", [id.to_string()])?;
    // A photo file is shared by content hash: keep it while a remaining visit uses it.
    let still_used = if photos.is_empty() {
        HashSet::new()
    } else {
        photos_referenced_by_visits(conn)?
    };
    let mut photo_files = Vec::new();
    for sha in photos.iter().filter(|sha| !still_used.contains(*sha)) {
        let path: Option<String> = conn
            .query_row(
                "DELETE FROM photos WHERE sha256 = ?1 AND state = 'uploaded' RETURNING path",
                [sha.to_hex()],
                |r| r.get(0),
            )
            .optional()?;
        photo_files.extend(path);
    }
    Ok(Some(Evicted {
        had_unsynced: row.is_pending(),
        photo_files,
    }))
}

/// Hashes of the photos referenced by the visits on this device.
fn photos_referenced_by_visits(conn: &Connection) -> Result<HashSet<Sha256>> {
    let mut used = HashSet::new();
    for row in list_docs(conn, Some(DocKind::Visit))? {
        let Ok(doc) = fieldsync_shared::document::load_document(&row.data) else {
            continue;
        };
        if let Ok(visit) = fieldsync_shared::document::hydrate_visit(&doc) {
            used.extend(visit.photos.values().map(|p| p.sha256));
        }
    }
    Ok(used)
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

/// Keeps only the stores `keep` (and their credit snapshots): the others left the user's read
/// scope. Returns how many stores were dropped.
pub fn retain_stores(conn: &Connection, keep: &[StoreId]) -> Result<usize> {
    let keep = serde_json::to_string(&keep.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    conn.execute(
        "DELETE FROM credit WHERE store_id NOT IN (SELECT value FROM json_each(?1))",
        [&keep],
    )?;
    Ok(conn.execute(
        "DELETE FROM stores WHERE id NOT IN (SELECT value FROM json_each(?1))",
        [&keep],
    )?)
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

/// Where a photo is in its upload (`photos.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoState {
    /// Queued; no upload open (or it must be declared again).
    Pending,
    /// An upload is open on the server; `upload_id` and the parts sent are known.
    Uploading,
    /// The server confirmed the photo is stored.
    Uploaded,
    /// The server found the bytes are not the photo, or refused it for good. Not retried until
    /// [`crate::Device::retry_failed_photos`].
    Failed,
}

impl PhotoState {
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoState::Pending => "pending",
            PhotoState::Uploading => "uploading",
            PhotoState::Uploaded => "uploaded",
            PhotoState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => PhotoState::Pending,
            "uploading" => PhotoState::Uploading,
            "uploaded" => PhotoState::Uploaded,
            "failed" => PhotoState::Failed,
            other => {
                return Err(DeviceError::Storage(format!(
                    "unknown photo state {other:?}"
                )))
            }
        })
    }
}

/// A photo to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPhoto {
    pub sha256: Sha256,
    /// Relative to the device directory.
    pub path: String,
    pub size_bytes: u64,
    pub content_type: String,
}

/// The upload the server opened for a photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenUpload {
    pub upload_id: String,
    pub multipart: bool,
    pub part_size: u64,
    pub parts: u32,
}

/// One row of the photo queue.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoRow {
    pub sha256: Sha256,
    /// Relative to the device directory.
    pub path: String,
    pub size_bytes: u64,
    pub content_type: String,
    pub state: PhotoState,
    pub upload: Option<OpenUpload>,
    /// Part numbers the server holds, ascending.
    pub parts_done: Vec<u32>,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Queues a photo for upload; a photo already known (same bytes) keeps its row and state,
/// except a failed one, which is queued again (its file was just written afresh).
pub fn insert_photo(conn: &Connection, photo: &NewPhoto) -> Result<()> {
    let now = Timestamp::now().millis();
    conn.execute(
        "INSERT INTO photos (sha256, path, size_bytes, content_type, state, added_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)
         ON CONFLICT (sha256) DO UPDATE SET state = 'pending', upload_id = NULL, mode = NULL,
             part_size = NULL, parts = NULL, parts_done = '[]', attempts = 0,
             last_error = NULL, updated_at = excluded.updated_at
         WHERE photos.state = 'failed'",
        params![
            photo.sha256.to_hex(),
            photo.path,
            i64::try_from(photo.size_bytes).unwrap_or(i64::MAX),
            photo.content_type,
            now
        ],
    )?;
    Ok(())
}

const PHOTO_COLUMNS: &str = "sha256, path, size_bytes, content_type, state, upload_id, mode, \
                             part_size, parts, parts_done, attempts, last_error";

fn photo_row(r: &rusqlite::Row<'_>) -> Result<PhotoRow> {
    let sha: String = r.get(0)?;
    let size: i64 = r.get(2)?;
    let state: String = r.get(4)?;
    let upload_id: Option<String> = r.get(5)?;
    let mode: Option<String> = r.get(6)?;
    let part_size: Option<i64> = r.get(7)?;
    let parts: Option<i64> = r.get(8)?;
    let parts_done: String = r.get(9)?;
    let attempts: i64 = r.get(10)?;
    let upload = match (upload_id, mode, part_size, parts) {
        (Some(upload_id), Some(mode), Some(part_size), Some(parts)) => Some(OpenUpload {
            upload_id,
            multipart: mode == "multipart",
            part_size: u64::try_from(part_size).unwrap_or(0),
            parts: u32::try_from(parts).unwrap_or(0),
        }),
        _ => None,
    };
    Ok(PhotoRow {
        sha256: Sha256::parse(&sha)?,
        path: r.get(1)?,
        size_bytes: u64::try_from(size).unwrap_or(0),
        content_type: r.get(3)?,
        state: PhotoState::parse(&state)?,
        upload,
        parts_done: serde_json::from_str(&parts_done)?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        last_error: r.get(11)?,
    })
}

fn photo_rows(conn: &Connection, filter: &str) -> Result<Vec<PhotoRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PHOTO_COLUMNS} FROM photos {filter} ORDER BY added_at, sha256"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(photo_row(r)?);
    }
    Ok(out)
}

/// Photos still to upload (pending or uploading), oldest first.
pub fn queued_photos(conn: &Connection) -> Result<Vec<PhotoRow>> {
    photo_rows(conn, "WHERE state IN ('pending', 'uploading')")
}

/// Every photo of this device, oldest first.
pub fn all_photos(conn: &Connection) -> Result<Vec<PhotoRow>> {
    photo_rows(conn, "")
}

/// Number of photos in each state: (queued, failed).
pub fn photo_counts(conn: &Connection) -> Result<(u32, u32)> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(state IN ('pending', 'uploading')), 0),
                COALESCE(SUM(state = 'failed'), 0) FROM photos",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Records the upload the server opened. The parts already recorded are kept when it is the
/// same upload (a resumed one), forgotten otherwise.
pub fn set_photo_upload(conn: &Connection, sha: &Sha256, upload: &OpenUpload) -> Result<()> {
    conn.execute(
        "UPDATE photos SET state = 'uploading',
             parts_done = CASE WHEN upload_id IS ?2 THEN parts_done ELSE '[]' END,
             upload_id = ?2, mode = ?3, part_size = ?4, parts = ?5, updated_at = ?6
         WHERE sha256 = ?1",
        params![
            sha.to_hex(),
            upload.upload_id,
            if upload.multipart {
                "multipart"
            } else {
                "single"
            },
            i64::try_from(upload.part_size).unwrap_or(i64::MAX),
            upload.parts,
            Timestamp::now().millis()
        ],
    )?;
    Ok(())
}

/// Replaces the list of parts the server holds (as the server reported it).
pub fn set_photo_parts(conn: &Connection, sha: &Sha256, parts: &[u32]) -> Result<()> {
    let mut parts = parts.to_vec();
    parts.sort_unstable();
    parts.dedup();
    conn.execute(
        "UPDATE photos SET parts_done = ?2, updated_at = ?3 WHERE sha256 = ?1",
        params![
            sha.to_hex(),
            serde_json::to_string(&parts)?,
            Timestamp::now().millis()
        ],
    )?;
    Ok(())
}

/// Records that the server holds part `part` of the photo's open upload (committed at once, so
/// an app killed after this part resumes after it).
pub fn add_photo_part(conn: &Connection, sha: &Sha256, part: u32) -> Result<()> {
    let done: Option<String> = conn
        .query_row(
            "SELECT parts_done FROM photos WHERE sha256 = ?1",
            [sha.to_hex()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(done) = done else { return Ok(()) };
    let mut parts: Vec<u32> = serde_json::from_str(&done)?;
    parts.push(part);
    set_photo_parts(conn, sha, &parts)
}

/// Forgets the open upload: the next attempt declares the photo again.
pub fn clear_photo_upload(conn: &Connection, sha: &Sha256) -> Result<()> {
    conn.execute(
        "UPDATE photos SET state = 'pending', upload_id = NULL, mode = NULL, part_size = NULL,
             parts = NULL, parts_done = '[]', updated_at = ?2
         WHERE sha256 = ?1 AND state IN ('pending', 'uploading')",
        params![sha.to_hex(), Timestamp::now().millis()],
    )?;
    Ok(())
}

/// The server confirmed the photo is stored.
pub fn mark_photo_uploaded(conn: &Connection, sha: &Sha256) -> Result<()> {
    conn.execute(
        "UPDATE photos SET state = 'uploaded', last_error = NULL, updated_at = ?2
         WHERE sha256 = ?1",
        params![sha.to_hex(), Timestamp::now().millis()],
    )?;
    Ok(())
}

/// An attempt stopped; the photo stays queued.
pub fn note_photo_error(conn: &Connection, sha: &Sha256, error: &str) -> Result<()> {
    conn.execute(
        "UPDATE photos SET attempts = attempts + 1, last_error = ?2, updated_at = ?3
         WHERE sha256 = ?1",
        params![sha.to_hex(), error, Timestamp::now().millis()],
    )?;
    Ok(())
}

/// The photo cannot be uploaded as it is; it leaves the queue (its file is kept).
pub fn mark_photo_failed(conn: &Connection, sha: &Sha256, error: &str) -> Result<()> {
    conn.execute(
        "UPDATE photos SET state = 'failed', upload_id = NULL, mode = NULL, part_size = NULL,
             parts = NULL, parts_done = '[]', attempts = attempts + 1, last_error = ?2,
             updated_at = ?3
         WHERE sha256 = ?1",
        params![sha.to_hex(), error, Timestamp::now().millis()],
    )?;
    Ok(())
}

/// Puts every failed photo back in the queue. Returns how many.
pub fn requeue_failed_photos(conn: &Connection) -> Result<u32> {
    let n = conn.execute(
        "UPDATE photos SET state = 'pending', attempts = 0, updated_at = ?1
         WHERE state = 'failed'",
        [Timestamp::now().millis()],
    )?;
    Ok(n as u32)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use fieldsync_shared::document::{new_document, reconcile_order, reconcile_visit};
    use fieldsync_shared::order::{
        Order, OrderNumber, OrderStatus, PaymentMethod, ORDER_SCHEMA_VERSION,
    };
    use fieldsync_shared::visit::{PhotoRef, Visit};
    use fieldsync_shared::{Date, DeviceId, PersonCode};

    use super::*;

    fn photo(n: u8) -> (Sha256, PhotoRef) {
        let sha = Sha256::digest(&[n; 8]);
        let photo = PhotoRef {
            sha256: sha,
            size_bytes: 8,
            content_type: "image/jpeg".into(),
            step: None,
            taken_at: Timestamp::now(),
            taken_by: UserId::new_random(),
            position: None,
        };
        (sha, photo)
    }

    fn queue(conn: &Connection, sha: Sha256, uploaded: bool) {
        insert_photo(
            conn,
            &NewPhoto {
                sha256: sha,
                path: format!("photos/{sha}.jpg"),
                size_bytes: 8,
                content_type: "image/jpeg".into(),
            },
        )
        .unwrap();
        if uploaded {
            mark_photo_uploaded(conn, &sha).unwrap();
        }
    }

    fn save_visit(conn: &Connection, owner: UserId, photos: &[(Sha256, PhotoRef)]) -> DocId {
        let id = DocId::new_random();
        let mut visit = Visit::new(
            id,
            StoreId::new_random(),
            owner,
            Date::parse("2026-11-22").unwrap(),
        );
        visit.photos = photos
            .iter()
            .map(|(sha, p)| (sha.to_hex(), p.clone()))
            .collect::<BTreeMap<_, _>>();
        let mut doc = new_document(automerge::ActorId::random());
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
        save_doc(conn, id, DocKind::Visit, &mut doc).unwrap();
        id
    }

    #[test]
    fn eviction_deletes_others_documents_and_only_their_uploaded_photos() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("device.db")).unwrap();
        let (me, colleague) = (UserId::new_random(), UserId::new_random());
        let (uploaded, queued) = (photo(1), photo(2));
        queue(&conn, uploaded.0, true);
        queue(&conn, queued.0, false);
        let theirs = save_visit(&conn, colleague, &[uploaded.clone(), queued.clone()]);
        let mine = save_visit(&conn, me, &[]);

        let gone = delete_evicted(&conn, theirs, me).unwrap().expect("deleted");
        assert!(gone.had_unsynced, "never acknowledged by a server");
        assert_eq!(gone.photo_files, vec![format!("photos/{}.jpg", uploaded.0)]);
        assert!(load_doc(&conn, theirs).unwrap().is_none());
        let left: Vec<Sha256> = all_photos(&conn)
            .unwrap()
            .iter()
            .map(|p| p.sha256)
            .collect();
        assert_eq!(left, vec![queued.0], "a photo still to upload stays queued");

        // The user's own documents are never deleted, nor are absent ones reported.
        assert_eq!(delete_evicted(&conn, mine, me).unwrap(), None);
        assert!(load_doc(&conn, mine).unwrap().is_some());
        assert_eq!(
            delete_evicted(&conn, DocId::new_random(), me).unwrap(),
            None
        );

        // Orders too.
        let order_id = DocId::new_random();
        let date = Date::parse("2026-11-22").unwrap();
        let order = Order {
            schema: ORDER_SCHEMA_VERSION,
            id: order_id,
            number: OrderNumber::generate(
                &PersonCode::parse("R001").unwrap(),
                date,
                &DeviceId::new_random(),
                1,
            ),
            store_id: StoreId::new_random(),
            person_id: colleague,
            visit_id: None,
            order_date: date,
            requested_delivery: date.add_days(3),
            payment: PaymentMethod::Cash,
            status: OrderStatus::Draft,
            lines: BTreeMap::new(),
            notes: autosurgeon::Text::with_value(""),
            created_at: Timestamp::now(),
            submitted_at: None,
        };
        let mut doc = new_document(automerge::ActorId::random());
        reconcile_order(&mut doc, &order).unwrap();
        doc.commit();
        save_doc(&conn, order_id, DocKind::Order, &mut doc).unwrap();
        assert!(delete_evicted(&conn, order_id, me).unwrap().is_some());
        assert!(load_doc(&conn, order_id).unwrap().is_none());
    }

    #[test]
    fn retain_stores_drops_the_others_and_their_credit() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("device.db")).unwrap();
        let ids: Vec<StoreId> = (0..3).map(|_| StoreId::new_random()).collect();
        for id in &ids {
            conn.execute(
                "INSERT INTO stores (id, code, json) VALUES (?1, ?1, '{}')",
                [id.to_string()],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO credit (store_id, json) VALUES (?1, '{}')",
                [id.to_string()],
            )
            .unwrap();
        }
        assert_eq!(retain_stores(&conn, &ids[..1]).unwrap(), 2);
        let count = |table: &str| -> i64 {
            conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!((count("stores"), count("credit")), (1, 1));
    }
}
