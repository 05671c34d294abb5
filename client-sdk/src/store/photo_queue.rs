//! The `photos` table: the queue of photo files to upload, with the state of each one's
//! resumable upload and of its thumbnail (the order they are sent in is `send_queue`'s).

use std::collections::HashMap;

use fieldsync_shared::{Sha256, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{DeviceError, Result};

/// SQL assignments that forget a photo's open upload (the next attempt declares it again).
const FORGET_UPLOAD: &str =
    "upload_id = NULL, mode = NULL, part_size = NULL, parts = NULL, parts_done = '[]'";

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
    /// `Device::retry_failed_photos`.
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
        &format!(
            "INSERT INTO photos (sha256, path, size_bytes, content_type, state, added_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)
             ON CONFLICT (sha256) DO UPDATE SET state = 'pending', {FORGET_UPLOAD}, attempts = 0,
                 last_error = NULL, updated_at = excluded.updated_at
             WHERE photos.state = 'failed'"
        ),
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

/// Where the photo's file is, relative to the device directory, if the photo is known here.
pub fn photo_file(conn: &Connection, sha: &Sha256) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT path FROM photos WHERE sha256 = ?1",
            [sha.to_hex()],
            |r| r.get(0),
        )
        .optional()?)
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
        &format!(
            "UPDATE photos SET state = 'pending', {FORGET_UPLOAD}, updated_at = ?2
             WHERE sha256 = ?1 AND state IN ('pending', 'uploading')"
        ),
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
        &format!(
            "UPDATE photos SET state = 'failed', {FORGET_UPLOAD}, attempts = attempts + 1,
                 last_error = ?2, updated_at = ?3
             WHERE sha256 = ?1"
        ),
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

/// Where a photo's thumbnail stands (`photos.thumbnail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThumbnailState {
    /// To render (if not yet) and send before the photo itself.
    Pending,
    /// The server has it.
    Sent,
    /// Nothing to send (stored as `none`): the photo does not decode here (e.g. HEIC), the
    /// server refused the thumbnail, or the photo was uploaded before this app version.
    Unavailable,
}

impl ThumbnailState {
    pub fn as_str(self) -> &'static str {
        match self {
            ThumbnailState::Pending => "pending",
            ThumbnailState::Sent => "sent",
            ThumbnailState::Unavailable => "none",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(ThumbnailState::Pending),
            "sent" => Ok(ThumbnailState::Sent),
            "none" => Ok(ThumbnailState::Unavailable),
            other => Err(DeviceError::Storage(format!(
                "unknown thumbnail state {other:?}"
            ))),
        }
    }
}

/// A queued photo whose thumbnail is still to send.
pub struct PendingThumbnail {
    pub sha256: Sha256,
    pub path: String,
    pub size_bytes: u64,
    /// Rendered by an earlier sync whose sending failed.
    pub jpeg: Option<Vec<u8>>,
}

/// Queued photos (pending or uploading) whose thumbnail is still to send, oldest first.
pub fn pending_thumbnails(conn: &Connection) -> Result<Vec<PendingThumbnail>> {
    let mut stmt = conn.prepare(
        "SELECT sha256, path, size_bytes, thumbnail_jpeg FROM photos
         WHERE state IN ('pending', 'uploading') AND thumbnail = 'pending'
         ORDER BY added_at, sha256",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let sha: String = r.get(0)?;
        let size: i64 = r.get(2)?;
        out.push(PendingThumbnail {
            sha256: Sha256::parse(&sha)?,
            path: r.get(1)?,
            size_bytes: u64::try_from(size).unwrap_or(0),
            jpeg: r.get(3)?,
        });
    }
    Ok(out)
}

/// Keeps the rendered thumbnail until it is sent.
pub fn keep_thumbnail(conn: &Connection, sha: &Sha256, jpeg: &[u8]) -> Result<()> {
    conn.execute(
        "UPDATE photos SET thumbnail_jpeg = ?2 WHERE sha256 = ?1",
        params![sha.to_hex(), jpeg],
    )?;
    Ok(())
}

/// Sets the thumbnail state (`sent` or `none`) and drops the rendered bytes.
pub fn set_thumbnail_state(conn: &Connection, sha: &Sha256, state: ThumbnailState) -> Result<()> {
    conn.execute(
        "UPDATE photos SET thumbnail = ?2, thumbnail_jpeg = NULL WHERE sha256 = ?1",
        params![sha.to_hex(), state.as_str()],
    )?;
    Ok(())
}

pub fn thumbnail_states(conn: &Connection) -> Result<HashMap<String, ThumbnailState>> {
    let mut stmt = conn.prepare("SELECT sha256, thumbnail FROM photos")?;
    let mut rows = stmt.query([])?;
    let mut out = HashMap::new();
    while let Some(r) = rows.next()? {
        let state: String = r.get(1)?;
        out.insert(r.get(0)?, ThumbnailState::parse(&state)?);
    }
    Ok(out)
}
