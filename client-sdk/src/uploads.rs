//! The photo upload queue, speaking the resumable protocol of `docs/photo-uploads.md`.
//!
//! Thumbnails first: before any full photo, each sync sends the thumbnail of every queued
//! photo (oldest first, `PUT /v1/photos/{sha256}/thumbnail`), so a supervisor can review the
//! shelf while the full photos still wait for a better signal. A thumbnail is rendered with the
//! shared rule (`fieldsync_shared::thumbnail`) from the photo file at send time (attaching stays
//! fast), at most once per photo: it is kept in the device database until the server took it
//! (`photos.thumbnail`: pending, sent, none). A photo that does not decode here (HEIC, a
//! corrupt file) has no thumbnail (`none`), never an error; sending one again after a lost
//! answer is harmless (the server answers `200`).
//!
//! Per queued photo: the file is read and checked against its hash (a file corrupted or changed
//! on the device is never sent), then declared. `stored`: nothing is sent. `upload`: the upload
//! id, mode and part layout are committed to the device database first; a `single` upload sends
//! the whole body (presigned to the object store, or to the server), a `multipart` one asks the
//! server which parts it holds and sends only the others, committing each part number as soon
//! as the part is acknowledged; then `complete`. Declaring the same photo again returns the open
//! upload, so a connection lost (or an app killed) half-way resumes where it stopped.
//!
//! Photo files are never deleted here: a photo's bytes stay on the device at least until the
//! server confirmed it stored them (`complete`, or `stored` on declaration), and afterwards too,
//! since the app shows them.
//!
//! Failures: a transport error (offline, or the object store unreachable) pauses the photo phase
//! for this sync; a refusal or 5xx leaves that photo queued and moves on to the next; both are
//! reported as warnings and never stop document sync. A photo whose bytes are not what it
//! claims (local hash, or the server's `422 checksum_mismatch`) or that the server refuses for
//! good (`413`, `415`, `400`) is marked failed, keeps its file and is not retried until
//! [`Device::retry_failed_photos`] (or the user attaches it again).

use std::collections::{BTreeSet, HashMap};

use fieldsync_shared::{thumbnail, Sha256};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::device::Device;
use crate::error::{DeviceError, Result};
use crate::http::{Declared, Http, UploadMode};
use crate::store::{self, OpenUpload, PhotoRow, PhotoState};

/// Declarations per photo and sync (a `409 upload_incomplete` or an upload that vanished on the
/// server starts the next one); whatever is left is resumed by the next sync.
const MAX_CYCLES: u32 = 3;

/// What became of one photo in this sync.
enum Outcome {
    /// The server confirmed it holds the photo.
    Stored,
    /// It cannot be uploaded as it is; it leaves the queue.
    Failed(String),
    /// It stays queued.
    Requeue(String),
}

/// One declaration's result.
enum Cycle {
    Done,
    Again,
}

/// A queued or uploaded photo, as the app may show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoUpload {
    pub sha256: Sha256,
    pub size_bytes: u64,
    pub content_type: String,
    pub state: PhotoState,
    /// The server's upload id while an upload is open.
    pub upload_id: Option<String>,
    /// Number of parts of the open upload (1 for a single-request upload).
    pub parts: Option<u32>,
    /// Parts the server confirmed holding, ascending (multipart only).
    pub parts_done: Vec<u32>,
    /// Upload attempts that did not finish.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Where its thumbnail stands (thumbnails first).
    pub thumbnail: ThumbnailState,
}

/// Where a photo's thumbnail stands (`photos.thumbnail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
struct PendingThumbnail {
    sha256: Sha256,
    path: String,
    size_bytes: u64,
    /// Rendered by an earlier sync whose sending failed.
    jpeg: Option<Vec<u8>>,
}

/// Queued photos (pending or uploading) whose thumbnail is still to send, oldest first.
fn pending_thumbnails(conn: &Connection) -> Result<Vec<PendingThumbnail>> {
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
fn keep_thumbnail(conn: &Connection, sha: &Sha256, jpeg: &[u8]) -> Result<()> {
    conn.execute(
        "UPDATE photos SET thumbnail_jpeg = ?2 WHERE sha256 = ?1",
        params![sha.to_hex(), jpeg],
    )?;
    Ok(())
}

/// Sets the thumbnail state (`sent` or `none`) and drops the rendered bytes.
fn set_thumbnail_state(conn: &Connection, sha: &Sha256, state: ThumbnailState) -> Result<()> {
    conn.execute(
        "UPDATE photos SET thumbnail = ?2, thumbnail_jpeg = NULL WHERE sha256 = ?1",
        params![sha.to_hex(), state.as_str()],
    )?;
    Ok(())
}

fn thumbnail_states(conn: &Connection) -> Result<HashMap<String, ThumbnailState>> {
    let mut stmt = conn.prepare("SELECT sha256, thumbnail FROM photos")?;
    let mut rows = stmt.query([])?;
    let mut out = HashMap::new();
    while let Some(r) = rows.next()? {
        let state: String = r.get(1)?;
        out.insert(r.get(0)?, ThumbnailState::parse(&state)?);
    }
    Ok(out)
}

/// What rendering a photo's thumbnail gave.
enum Rendered {
    Jpeg(Vec<u8>),
    /// Not an image this device decodes, or a thumbnail the server would refuse.
    Nothing,
    /// The file cannot be read or is not the photo; the photo phase reports it.
    Later,
}

/// Renders the thumbnail of the photo file (blocking, CPU-heavy).
fn render_thumbnail(file: &std::path::Path, photo: &PendingThumbnail) -> Rendered {
    let Ok(bytes) = std::fs::read(file) else {
        return Rendered::Later;
    };
    if bytes.len() as u64 != photo.size_bytes || Sha256::digest(&bytes) != photo.sha256 {
        return Rendered::Later;
    }
    match thumbnail::render(&bytes) {
        // Never send what the server's check refuses.
        Some(jpeg) if thumbnail::validate(&jpeg).is_ok() => Rendered::Jpeg(jpeg),
        _ => Rendered::Nothing,
    }
}

impl PhotoUpload {
    fn from_row(r: PhotoRow, thumbnail: ThumbnailState) -> Self {
        PhotoUpload {
            sha256: r.sha256,
            size_bytes: r.size_bytes,
            content_type: r.content_type,
            state: r.state,
            upload_id: r.upload.as_ref().map(|u| u.upload_id.clone()),
            parts: r.upload.as_ref().map(|u| u.parts),
            parts_done: r.parts_done,
            attempts: r.attempts,
            last_error: r.last_error,
            thumbnail,
        }
    }
}

impl Device {
    /// The photo queue: every photo of this device with its upload state, oldest first.
    pub fn photo_uploads(&self) -> Result<Vec<PhotoUpload>> {
        let conn = self.lock();
        let thumbnails = thumbnail_states(&conn)?;
        Ok(store::all_photos(&conn)?
            .into_iter()
            .map(|row| {
                let thumbnail = thumbnails
                    .get(&row.sha256.to_hex())
                    .copied()
                    .unwrap_or(ThumbnailState::Unavailable);
                PhotoUpload::from_row(row, thumbnail)
            })
            .collect())
    }

    /// Queues the failed photos again (e.g. after the user repaired storage); the next sync
    /// tries them once more. Returns how many.
    pub fn retry_failed_photos(&self) -> Result<u32> {
        store::requeue_failed_photos(&self.lock())
    }

    /// Uploads queued photos; returns how many the server confirmed. Problems with single
    /// photos, and a lost connection, end up in `warnings` (the photos stay queued or are
    /// marked failed, see the module docs); only a rejected session or a local storage failure
    /// is an error.
    pub(crate) fn upload_photos(&self, http: &Http, warnings: &mut Vec<String>) -> Result<u32> {
        if !self.send_thumbnails(http, warnings)? {
            return Ok(0);
        }
        let queued = store::queued_photos(&self.lock())?;
        let total = queued.len();
        let mut uploaded = 0;
        for (i, photo) in queued.iter().enumerate() {
            let sha = photo.sha256;
            match self.upload_photo(http, photo) {
                Ok(Outcome::Stored) => {
                    store::mark_photo_uploaded(&self.lock(), &sha)?;
                    uploaded += 1;
                }
                Ok(Outcome::Failed(why)) => {
                    store::mark_photo_failed(&self.lock(), &sha, &why)?;
                    warnings.push(format!(
                        "photo {sha} failed and is no longer uploaded (its file is kept): {why}"
                    ));
                }
                Ok(Outcome::Requeue(why)) => {
                    store::note_photo_error(&self.lock(), &sha, &why)?;
                    warnings.push(format!("photo {sha} stays queued: {why}"));
                }
                Err(e @ DeviceError::Offline(_)) => {
                    store::note_photo_error(&self.lock(), &sha, &e.to_string())?;
                    warnings.push(format!(
                        "photo uploads paused, {} photo(s) stay queued and resume at the next sync: {e}",
                        total - i
                    ));
                    break;
                }
                Err(e @ DeviceError::Server { .. }) => {
                    store::note_photo_error(&self.lock(), &sha, &e.to_string())?;
                    warnings.push(format!("photo {sha} stays queued: {e}"));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(uploaded)
    }

    /// Sends the thumbnails of all queued photos that have none on the server yet, oldest
    /// first. `false`: the connection was lost, the photo phase pauses for this sync (warned).
    /// A refusal or 5xx leaves that thumbnail and moves on; the full photos follow anyway.
    fn send_thumbnails(&self, http: &Http, warnings: &mut Vec<String>) -> Result<bool> {
        let todo = pending_thumbnails(&self.lock())?;
        for photo in &todo {
            let sha = photo.sha256;
            let jpeg = match &photo.jpeg {
                Some(jpeg) => jpeg.clone(),
                None => match render_thumbnail(&self.dir.join(&photo.path), photo) {
                    Rendered::Jpeg(jpeg) => {
                        keep_thumbnail(&self.lock(), &sha, &jpeg)?;
                        jpeg
                    }
                    Rendered::Nothing => {
                        set_thumbnail_state(&self.lock(), &sha, ThumbnailState::Unavailable)?;
                        continue;
                    }
                    Rendered::Later => continue,
                },
            };
            match http.put_thumbnail(&sha, &jpeg) {
                Ok(()) => set_thumbnail_state(&self.lock(), &sha, ThumbnailState::Sent)?,
                Err(e @ DeviceError::Offline(_)) => {
                    let queued = store::queued_photos(&self.lock())?.len();
                    warnings.push(format!(
                        "photo uploads paused, {queued} photo(s) stay queued and resume at the next sync: {e}"
                    ));
                    return Ok(false);
                }
                // Not this photo's to retry: the photo itself is still uploaded.
                Err(DeviceError::Server {
                    status,
                    reason,
                    message,
                }) if matches!(status, 400 | 404 | 413 | 422) => {
                    set_thumbnail_state(&self.lock(), &sha, ThumbnailState::Unavailable)?;
                    warnings.push(format!(
                        "the thumbnail of photo {sha} was refused ({status} {reason}): {message}"
                    ));
                }
                Err(e @ DeviceError::Server { .. }) => {
                    warnings.push(format!("the thumbnail of photo {sha} stays queued: {e}"));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn upload_photo(&self, http: &Http, photo: &PhotoRow) -> Result<Outcome> {
        let bytes = match std::fs::read(self.dir.join(&photo.path)) {
            Ok(b) => b,
            Err(e) => {
                return Ok(Outcome::Requeue(format!(
                    "its file {} cannot be read: {e}",
                    photo.path
                )))
            }
        };
        if bytes.len() as u64 != photo.size_bytes || Sha256::digest(&bytes) != photo.sha256 {
            return Ok(Outcome::Failed(
                "the file on this device is corrupt or was changed (its bytes are no longer the \
                 photo); attach the photo again"
                    .into(),
            ));
        }
        for _ in 0..MAX_CYCLES {
            match self.upload_cycle(http, photo, &bytes) {
                Ok(Cycle::Done) => return Ok(Outcome::Stored),
                Ok(Cycle::Again) => {}
                Err(DeviceError::Server {
                    status,
                    reason,
                    message,
                }) if is_permanent(status, &reason) => {
                    return Ok(Outcome::Failed(format!(
                        "the server refused it ({status} {reason}): {message}"
                    )))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Outcome::Requeue(
            "the upload did not finish; it resumes at the next sync".into(),
        ))
    }

    /// Declares the photo and sends what the server lacks, then completes.
    fn upload_cycle(&self, http: &Http, photo: &PhotoRow, bytes: &[u8]) -> Result<Cycle> {
        let sha = &photo.sha256;
        let (upload, put) = match http.declare_photo(sha, photo.size_bytes, &photo.content_type)? {
            Declared::Stored {} => return Ok(Cycle::Done),
            Declared::Upload {
                upload_id,
                mode,
                put,
                part_size,
                parts,
            } => {
                let multipart = mode == UploadMode::Multipart;
                let upload = OpenUpload {
                    upload_id,
                    multipart,
                    part_size: if multipart {
                        part_size
                    } else {
                        photo.size_bytes
                    },
                    parts: if multipart { parts } else { 1 },
                };
                (upload, put)
            }
        };
        if upload.multipart && !layout_covers(&upload, photo.size_bytes) {
            return Err(DeviceError::Server {
                status: 201,
                reason: "bad_response".into(),
                message: format!(
                    "the server's part layout ({} parts of {} bytes) does not fit {} bytes",
                    upload.parts, upload.part_size, photo.size_bytes
                ),
            });
        }
        // Committed before any byte is sent: a restarted app knows which upload it had open.
        store::set_photo_upload(&self.lock(), sha, &upload)?;
        let id = upload.upload_id.as_str();
        let sent = if upload.multipart {
            self.send_parts(http, sha, &upload, bytes)
        } else {
            match &put {
                Some(req) => http.send_presigned(req, bytes),
                None => http.put_content(id, &photo.content_type, bytes),
            }
            .map(|()| Some(Cycle::Done))
        };
        match sent {
            Ok(Some(Cycle::Done)) => {}
            Ok(Some(Cycle::Again)) => return Ok(Cycle::Again),
            // The server already holds everything: stored.
            Ok(None) => return Ok(Cycle::Done),
            Err(e) if is_gone(&e) => return self.forget_upload(sha),
            Err(e) => return Err(e),
        }
        match http.complete_upload(id) {
            Ok(_) => Ok(Cycle::Done),
            Err(e) if is_gone(&e) => self.forget_upload(sha),
            // `upload_incomplete`: the next declaration returns the same upload, whose status
            // says which parts are missing.
            Err(DeviceError::Server { status: 409, .. }) => Ok(Cycle::Again),
            Err(e) => Err(e),
        }
    }

    /// Sends the parts the server does not hold yet, recording each one as it is acknowledged.
    /// `Ok(None)`: the server says the upload is already stored.
    fn send_parts(
        &self,
        http: &Http,
        sha: &Sha256,
        upload: &OpenUpload,
        bytes: &[u8],
    ) -> Result<Option<Cycle>> {
        let id = upload.upload_id.as_str();
        let status = http.upload_status(id)?;
        match status.status.as_str() {
            "uploading" => {}
            "stored" => return Ok(None),
            // failed, expired: declare again.
            _ => return self.forget_upload(sha).map(Some),
        }
        // What the server holds is the truth (a part recorded here may have been lost there).
        let held: BTreeSet<u32> = status
            .stored_parts
            .into_iter()
            .filter(|n| (1..=upload.parts).contains(n))
            .collect();
        store::set_photo_parts(&self.lock(), sha, &held.iter().copied().collect::<Vec<_>>())?;
        for n in (1..=upload.parts).filter(|n| !held.contains(n)) {
            let start = usize::try_from(u64::from(n - 1) * upload.part_size)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let end = start
                .saturating_add(usize::try_from(upload.part_size).unwrap_or(usize::MAX))
                .min(bytes.len());
            let part = &bytes[start..end];
            let part_sha = Sha256::digest(part);
            match http.part_request(id, n, &part_sha, part.len())? {
                Some(req) => http.send_presigned(&req, part)?,
                None => http.put_part(id, n, &part_sha, part)?,
            }
            store::add_photo_part(&self.lock(), sha, n)?;
        }
        Ok(Some(Cycle::Done))
    }

    /// The server no longer knows the upload (expired, aborted, failed): declare again.
    fn forget_upload(&self, sha: &Sha256) -> Result<Cycle> {
        store::clear_photo_upload(&self.lock(), sha)?;
        Ok(Cycle::Again)
    }
}

/// `parts` parts of `part_size` bytes, the last one shorter, exactly cover `size` bytes.
fn layout_covers(upload: &OpenUpload, size: u64) -> bool {
    upload.part_size > 0
        && upload.parts > 0
        && u64::from(upload.parts) == size.div_ceil(upload.part_size)
}

/// The upload is unknown where we sent it (expired and cleaned up, aborted) or closed (`409
/// upload_closed`: failed or expired): declare again.
fn is_gone(e: &DeviceError) -> bool {
    match e {
        DeviceError::Server { status: 404, .. } => true,
        DeviceError::Server {
            status: 409,
            reason,
            ..
        } => reason == "upload_closed",
        _ => false,
    }
}

/// Refusals of our server that sending the same bytes again cannot change: the bytes are not
/// the declared photo, the photo is too large, of an unsupported type, or malformed. (The object
/// store's own refusals, e.g. an expired signature, are retried with a fresh request.)
fn is_permanent(status: u16, reason: &str) -> bool {
    !reason.starts_with("object_store_") && matches!(status, 400 | 413 | 415 | 422)
}
