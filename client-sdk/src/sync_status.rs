//! The sync status an app shows, available offline: the work waiting (documents, changes,
//! photos and their bytes), when the last sync succeeded, the last failure with its reason,
//! and the refused edits the user has not seen yet. The outcome of every sync is kept in the
//! device database (`meta`), so the status survives restarts.

use fieldsync_shared::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{DeviceError, Result};
use crate::send_queue::PhotoUpload;
use crate::store::{self, Database, PhotoState, RefusedEditReport};
use crate::sync::{Pending, SyncReport};

/// `meta` keys of the status.
const LAST_SYNCED_AT: &str = "sync_status.last_synced_at";
const LAST_FAILURE: &str = "sync_status.last_failure";
const REFUSED_EDITS_READ_AT: &str = "sync_status.refused_edits_read_at";

/// What the app shows about sync ([`crate::Device::sync_status`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncStatus {
    /// Documents with changes the server does not have yet, and those changes.
    pub documents: u32,
    pub changes: u32,
    /// Photos waiting for upload (not failed), and their bytes.
    pub photos: u32,
    pub photo_bytes: u64,
    /// Photos that wait for the app (`retry_failed_photos`).
    pub photos_failed: u32,
    /// When a sync last succeeded on this device.
    pub last_synced_at: Option<Timestamp>,
    /// The last sync that failed, if none succeeded since.
    pub last_failure: Option<SyncFailure>,
    /// Refused edits newer than the last [`crate::Device::mark_refused_edits_read`].
    pub unread_refused_edits: u32,
}

/// A failed sync: `reason` is the error's stable code (`offline`, `unauthorized`,
/// `not_logged_in`, the server's reason...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncFailure {
    pub reason: String,
    pub message: String,
    pub at: Timestamp,
}

/// Keeps the outcome of a sync. Best effort: a status that cannot be written must not turn a
/// sync's result into an error.
pub(crate) fn record(db: &Database, outcome: &Result<SyncReport>) {
    let conn = db.lock();
    let now = Timestamp::now();
    let _ = match outcome {
        Ok(_) => store::meta_set(&conn, LAST_SYNCED_AT, &now.millis().to_string())
            .and_then(|()| store::meta_delete(&conn, LAST_FAILURE)),
        Err(e) => {
            failure_json(e, now).map_or(Ok(()), |json| store::meta_set(&conn, LAST_FAILURE, &json))
        }
    };
}

fn failure_json(e: &DeviceError, at: Timestamp) -> Option<String> {
    serde_json::to_string(&SyncFailure {
        reason: e.reason().to_string(),
        message: e.to_string(),
        at,
    })
    .ok()
}

/// The status, from what is waiting and the kept outcomes.
pub(crate) fn status(
    db: &Database,
    pending: Pending,
    uploads: &[PhotoUpload],
    refused: &[RefusedEditReport],
) -> Result<SyncStatus> {
    let conn = db.lock();
    let millis = |key| -> Result<Option<i64>> {
        Ok(store::meta_get(&conn, key)?.and_then(|v| v.parse().ok()))
    };
    let last_synced_at = millis(LAST_SYNCED_AT)?.map(Timestamp);
    let read_at = millis(REFUSED_EDITS_READ_AT)?.unwrap_or(i64::MIN);
    let last_failure =
        store::meta_get(&conn, LAST_FAILURE)?.and_then(|json| serde_json::from_str(&json).ok());
    let waiting = uploads
        .iter()
        .filter(|p| matches!(p.state, PhotoState::Pending | PhotoState::Uploading));
    Ok(SyncStatus {
        documents: pending.documents,
        changes: pending.changes,
        photos: pending.photos,
        photo_bytes: waiting.map(|p| p.size_bytes).sum(),
        photos_failed: pending.photos_failed,
        last_synced_at,
        last_failure,
        unread_refused_edits: refused
            .iter()
            .filter(|r| r.at.millis() > read_at)
            .count()
            .try_into()
            .unwrap_or(u32::MAX),
    })
}

/// The user saw the refused edits up to `now`.
pub(crate) fn mark_refused_edits_read(db: &Database, now: Timestamp) -> Result<()> {
    store::meta_set(&db.lock(), REFUSED_EDITS_READ_AT, &now.millis().to_string())
}
