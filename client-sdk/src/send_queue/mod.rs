//! The send queue: what a device sends after its documents, in which order, and what each
//! item waits for. It is persisted in the device database (the `photos` table, `store`), so it
//! survives restarts; every other module asks this one: attaching a photo [`enqueue`]s it, a
//! sync calls [`send`] once its documents are pushed, the app reads [`photo_uploads`].
//!
//! The order and its dependencies, in one place:
//! 1. **Documents first** (the sync's rounds, before [`send`] is called): they are small, and
//!    the server accepts a thumbnail only for a photo that a document it holds references.
//! 2. **Thumbnails first** (`thumbnails.rs`): the thumbnail of every queued photo, oldest first
//!    (`PUT /v1/photos/{sha256}/thumbnail`), before any full photo, so a supervisor can review
//!    the shelf while the full photos still wait for a better signal.
//! 3. **Then the photos** (`photos.rs`), oldest first, each with the resumable upload protocol.
//!
//! A lost connection while sending thumbnails pauses the whole queue for this sync; a thumbnail
//! that cannot be made or is refused does not hold its photo back (`ThumbnailState::Unavailable`).

mod photos;
mod thumbnails;

use fieldsync_shared::Sha256;
use rusqlite::Connection;
use serde::Serialize;

use crate::error::{DeviceError, Result};
use crate::http::Http;
use crate::network_policy;
use crate::store::{self, Database, NewPhoto, PhotoRow, PhotoState, ThumbnailState};

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

/// Queues a photo (in the caller's transaction): its thumbnail, then its bytes, go with the
/// next sync after the document that references it.
pub(crate) fn enqueue(conn: &Connection, photo: &NewPhoto) -> Result<()> {
    store::insert_photo(conn, photo)
}

/// Sends the queue in its order (see the module docs): every pending thumbnail, then the
/// photos. Call after the documents are pushed. Returns how many photos the server confirmed;
/// what did not go through is in `warnings` and stays queued (or failed).
pub(crate) fn send(db: &Database, http: &Http, warnings: &mut Vec<String>) -> Result<u32> {
    if !thumbnails::send_all(db, http, warnings)? {
        return Ok(0);
    }
    // The app's network policy or a pause may hold the full photos (network_policy).
    if let Some(why) = network_policy::photos_held(&db.lock())? {
        warnings.push(why);
        return Ok(0);
    }
    photos::upload_all(db, http, warnings)
}

/// The warning of a queue paused by a lost connection, with `queued` photos left for the next
/// sync.
fn paused(queued: usize, e: &DeviceError) -> String {
    format!("photo uploads paused, {queued} photo(s) stay queued and resume at the next sync: {e}")
}

/// Every photo of this device with its upload state, oldest first.
pub(crate) fn photo_uploads(conn: &Connection) -> Result<Vec<PhotoUpload>> {
    let thumbnails = store::thumbnail_states(conn)?;
    Ok(store::all_photos(conn)?
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

/// Puts the failed photos back in the queue; the next sync tries them once more.
pub(crate) fn retry_failed(conn: &Connection) -> Result<u32> {
    store::requeue_failed_photos(conn)
}
