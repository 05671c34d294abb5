//! Thumbnails, the first part of the send queue: a thumbnail is rendered with the shared rule
//! (`fieldsync_shared::thumbnail`) from the photo file at send time (attaching stays fast), at
//! most once per photo: it is kept in the device database until the server took it
//! (`photos.thumbnail`: pending, sent, none). A photo that does not decode here (HEIC, a
//! corrupt file) has no thumbnail (`none`), never an error; sending one again after a lost
//! answer is harmless (the server answers `200`).

use std::path::Path;

use fieldsync_shared::{thumbnail, Sha256};

use super::paused;
use crate::error::{DeviceError, Result};
use crate::http::Http;
use crate::store::{self, Database, PendingThumbnail, ThumbnailState};

/// Sends the thumbnails of all queued photos that have none on the server yet, oldest
/// first. `false`: the connection was lost, the photo phase pauses for this sync (warned).
/// A refusal or 5xx leaves that thumbnail and moves on; the full photos follow anyway.
pub(super) fn send_all(db: &Database, http: &Http, warnings: &mut Vec<String>) -> Result<bool> {
    let todo = store::pending_thumbnails(&db.lock())?;
    for photo in &todo {
        let sha = photo.sha256;
        let jpeg = match &photo.jpeg {
            Some(jpeg) => jpeg.clone(),
            None => match render_thumbnail(&db.dir().join(&photo.path), photo) {
                Rendered::Jpeg(jpeg) => {
                    store::keep_thumbnail(&db.lock(), &sha, &jpeg)?;
                    jpeg
                }
                Rendered::Nothing => {
                    store::set_thumbnail_state(&db.lock(), &sha, ThumbnailState::Unavailable)?;
                    continue;
                }
                Rendered::Later => continue,
            },
        };
        match http.put_thumbnail(&sha, &jpeg) {
            Ok(()) => store::set_thumbnail_state(&db.lock(), &sha, ThumbnailState::Sent)?,
            Err(e @ DeviceError::Offline(_)) => {
                let queued = store::queued_photos(&db.lock())?.len();
                warnings.push(paused(queued, &e));
                return Ok(false);
            }
            // Not this photo's to retry: the photo itself is still uploaded.
            Err(DeviceError::Server {
                status,
                reason,
                message,
            }) if matches!(status, 400 | 404 | 413 | 422) => {
                store::set_thumbnail_state(&db.lock(), &sha, ThumbnailState::Unavailable)?;
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

/// What rendering a photo's thumbnail gave.
enum Rendered {
    Jpeg(Vec<u8>),
    /// Not an image this device decodes, or a thumbnail the server would refuse.
    Nothing,
    /// The file cannot be read or is not the photo; the photo phase reports it.
    Later,
}

/// Renders the thumbnail of the photo file (blocking, CPU-heavy).
fn render_thumbnail(file: &Path, photo: &PendingThumbnail) -> Rendered {
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
