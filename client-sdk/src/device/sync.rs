//! Syncing with the server, and what is left to sync or was refused.

use fieldsync_shared::{DocId, DocKind};

use super::Device;
use crate::error::Result;
use crate::store::{self, RefusedEditReport};
use crate::sync::{self, Pending, SyncReport};

impl Device {
    /// Synchronises with the server: master data, documents, thumbnails, photos. Requires a
    /// login.
    /// Returns what was done; fails with `Offline` / `Unauthorized` / `Server` without losing
    /// anything (retry later).
    pub fn sync(&self) -> Result<SyncReport> {
        // Refreshes the session on the first 401 (an access token that expired offline).
        let http = self.session_http()?;
        sync::run(&self.db, &http)
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
