//! Syncing with the server, and what is left to sync or was refused.

use fieldsync_shared::{DocId, DocKind, Timestamp};

use super::Device;
use crate::error::Result;
use crate::store::{self, RefusedEditReport};
use crate::sync::{self, Pending, SyncReport};
use crate::sync_status::{self, SyncStatus};

impl Device {
    /// Synchronises with the server: master data, documents, thumbnails, photos. Requires a
    /// login.
    /// Returns what was done; fails with `Offline` / `Unauthorized` / `Server` without losing
    /// anything (retry later).
    pub fn sync(&self) -> Result<SyncReport> {
        // Refreshes the session on the first 401 (an access token that expired offline).
        let outcome = self
            .session_http()
            .and_then(|http| sync::run(&self.db, &http));
        sync_status::record(&self.db, &outcome);
        outcome
    }

    /// What the app shows about sync, read offline ([`SyncStatus`]).
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let uploads = self.photo_uploads()?;
        sync_status::status(&self.db, self.pending()?, &uploads, &self.refused_edits()?)
    }

    /// The user has seen the refused edits: `unread_refused_edits` counts from now.
    pub fn mark_refused_edits_read(&self) -> Result<()> {
        sync_status::mark_refused_edits_read(&self.db, Timestamp::now())
    }

    /// Work the server does not have yet.
    pub fn pending(&self) -> Result<Pending> {
        sync::pending(&self.db.lock(), self.db.actor())
    }

    /// The most recent refused edits (at most `KEPT_REFUSED_EDITS`, 200), newest first.
    pub fn refused_edits(&self) -> Result<Vec<RefusedEditReport>> {
        store::refused_edits(&self.db.lock())
    }

    /// Loads Automerge bytes (a `save()` or changes) received outside of `sync()` into the
    /// local copy of a document, creating it if new: the pull path, for tests and for
    /// device-to-device transfer.
    #[doc(hidden)]
    pub fn receive_document(&self, id: DocId, kind: DocKind, data: &[u8]) -> Result<SyncReport> {
        sync::receive(&self.db, id, kind, data)
    }
}
