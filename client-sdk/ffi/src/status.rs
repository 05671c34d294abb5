//! The sync status for the app's UI (`fieldsync_client::SyncStatus`), read offline.

use crate::device::FieldsyncDevice;
use crate::error::Result;
use crate::records::{int, long};

/// What the app shows about sync: the work waiting, the last success, the last failure, the
/// refused edits the user has not seen. Read from the device, no network.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncStatus {
    /// Documents with changes the server does not have yet, and those changes.
    pub documents: i32,
    pub changes: i32,
    /// Photos waiting for upload, and their bytes.
    pub photos: i32,
    pub photo_bytes: i64,
    /// Photos that wait for `retry_failed_photos`.
    pub photos_failed: i32,
    /// When a sync last succeeded on this device (ms since the epoch).
    pub last_synced_at_ms: Option<i64>,
    /// The last sync that failed, if none succeeded since.
    pub last_failure: Option<SyncFailure>,
    /// Refused edits newer than the last `mark_refused_edits_read`.
    pub unread_refused_edits: i32,
}

/// A failed sync: `reason` is a stable code (`offline`, `unauthorized`, `not_logged_in`, or
/// the server's reason), `message` the text.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncFailure {
    pub reason: String,
    pub message: String,
    pub at_ms: i64,
}

impl From<fieldsync_client::SyncStatus> for SyncStatus {
    fn from(s: fieldsync_client::SyncStatus) -> Self {
        SyncStatus {
            documents: int(s.documents),
            changes: int(s.changes),
            photos: int(s.photos),
            photo_bytes: long(s.photo_bytes),
            photos_failed: int(s.photos_failed),
            last_synced_at_ms: s.last_synced_at.map(|t| t.millis()),
            last_failure: s.last_failure.map(|f| SyncFailure {
                reason: f.reason,
                message: f.message,
                at_ms: f.at.millis(),
            }),
            unread_refused_edits: int(s.unread_refused_edits),
        }
    }
}

#[uniffi::export]
impl FieldsyncDevice {
    /// The sync status, offline and fast: the background sync pushes it to
    /// `SyncObserver.on_status` when it changes; read it after a local edit and when a screen
    /// opens.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        Ok(self.device.sync_status()?.into())
    }

    /// The user has seen the refused edits (`refused_edits()`): `unread_refused_edits` counts
    /// from now.
    pub fn mark_refused_edits_read(&self) -> Result<()> {
        Ok(self.device.mark_refused_edits_read()?)
    }
}
