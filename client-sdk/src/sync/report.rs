//! What one sync did, for the app to show.

use fieldsync_shared::DocId;
use serde::Serialize;

use crate::store::RefusedEditReport;

/// What one sync (`Device::sync`) did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// `POST /v1/sync` round trips.
    pub rounds: u32,
    /// Documents whose pushed changes the server stored.
    pub docs_pushed: u32,
    /// Changes sent in those documents.
    pub changes_pushed: u32,
    /// Documents received (or updated) from the server.
    pub docs_received: u32,
    /// Documents deleted because the user may no longer see them (a store moved to another
    /// territory, the user changed team; docs/read-scopes.md). The user's own documents are
    /// never deleted.
    pub evicted: u32,
    pub photos_uploaded: u32,
    /// Documents the server refused; their local data is kept.
    pub refused: Vec<RefusedDoc>,
    /// Effects of this device's edits that the server's write policies refused: the edits
    /// were stored, and undone by a change of the server's that this sync also pulled. Kept on
    /// the device too (`Device::refused_edits`).
    pub refused_edits: Vec<RefusedEditReport>,
    /// The server did not recognise our cursor (e.g. restored from a backup): everything was
    /// pushed and pulled again.
    pub reset: bool,
    /// Things that did not go through: photos that stay queued (offline, server errors, file
    /// missing) or failed (corrupt file, refused by the server), documents that could not be
    /// read.
    pub warnings: Vec<String>,
}

/// A document the server refused as a whole (nothing of it stored there).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedDoc {
    pub doc_id: DocId,
    pub reason: String,
    pub message: String,
}
