//! Photos, the second part of the send queue, speaking the resumable protocol of
//! `docs/photo-uploads.md`.
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
//! `Device::retry_failed_photos` (or the user attaches it again).

use std::collections::BTreeSet;

use fieldsync_shared::Sha256;

use super::paused;
use crate::error::{DeviceError, Result};
use crate::http::{Declared, Http, UploadMode};
use crate::store::{self, Database, OpenUpload, PhotoRow};

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

/// Uploads queued photos, oldest first; returns how many the server confirmed. Problems with
/// single photos, and a lost connection, end up in `warnings` (the photos stay queued or are
/// marked failed, see the module docs); only a rejected session or a local storage failure
/// is an error.
pub(super) fn upload_all(db: &Database, http: &Http, warnings: &mut Vec<String>) -> Result<u32> {
    let queued = store::queued_photos(&db.lock())?;
    let total = queued.len();
    let mut uploaded = 0;
    for (i, photo) in queued.iter().enumerate() {
        let sha = photo.sha256;
        match upload_photo(db, http, photo) {
            Ok(Outcome::Stored) => {
                store::mark_photo_uploaded(&db.lock(), &sha)?;
                uploaded += 1;
            }
            Ok(Outcome::Failed(why)) => {
                store::mark_photo_failed(&db.lock(), &sha, &why)?;
                warnings.push(format!(
                    "photo {sha} failed and is no longer uploaded (its file is kept): {why}"
                ));
            }
            Ok(Outcome::Requeue(why)) => {
                store::note_photo_error(&db.lock(), &sha, &why)?;
                warnings.push(format!("photo {sha} stays queued: {why}"));
            }
            Err(e @ DeviceError::Offline(_)) => {
                store::note_photo_error(&db.lock(), &sha, &e.to_string())?;
                warnings.push(paused(total - i, &e));
                break;
            }
            Err(e @ DeviceError::Server { .. }) => {
                store::note_photo_error(&db.lock(), &sha, &e.to_string())?;
                warnings.push(format!("photo {sha} stays queued: {e}"));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(uploaded)
}

fn upload_photo(db: &Database, http: &Http, photo: &PhotoRow) -> Result<Outcome> {
    let bytes = match std::fs::read(db.dir().join(&photo.path)) {
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
        match upload_cycle(db, http, photo, &bytes) {
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
fn upload_cycle(db: &Database, http: &Http, photo: &PhotoRow, bytes: &[u8]) -> Result<Cycle> {
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
    store::set_photo_upload(&db.lock(), sha, &upload)?;
    let id = upload.upload_id.as_str();
    let sent = if upload.multipart {
        send_parts(db, http, sha, &upload, bytes)
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
        Err(e) if is_gone(&e) => return forget_upload(db, sha),
        Err(e) => return Err(e),
    }
    match http.complete_upload(id) {
        Ok(_) => Ok(Cycle::Done),
        Err(e) if is_gone(&e) => forget_upload(db, sha),
        // `upload_incomplete`: the next declaration returns the same upload, whose status
        // says which parts are missing.
        Err(DeviceError::Server { status: 409, .. }) => Ok(Cycle::Again),
        Err(e) => Err(e),
    }
}

/// Sends the parts the server does not hold yet, recording each one as it is acknowledged.
/// `Ok(None)`: the server says the upload is already stored.
fn send_parts(
    db: &Database,
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
        _ => return forget_upload(db, sha).map(Some),
    }
    // What the server holds is the truth (a part recorded here may have been lost there).
    let held: BTreeSet<u32> = status
        .stored_parts
        .into_iter()
        .filter(|n| (1..=upload.parts).contains(n))
        .collect();
    store::set_photo_parts(&db.lock(), sha, &held.iter().copied().collect::<Vec<_>>())?;
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
        store::add_photo_part(&db.lock(), sha, n)?;
    }
    Ok(Some(Cycle::Done))
}

/// The server no longer knows the upload (expired, aborted, failed): declare again.
fn forget_upload(db: &Database, sha: &Sha256) -> Result<Cycle> {
    store::clear_photo_upload(&db.lock(), sha)?;
    Ok(Cycle::Again)
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
