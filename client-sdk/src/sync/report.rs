//! What one sync did, for the app to show.

use fieldsync_shared::protocol::PushFinding;
use fieldsync_shared::{DocId, Timestamp};
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
    /// What the server's rules found when this sync submitted a visit or an order: `held`
    /// findings undid the submission (an order back to `pending_approval` or draft; also
    /// listed in `refused_edits`), `flagged` ones kept it for the supervisor to see.
    pub findings: Vec<FindingReport>,
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

/// A finding of the server's rules on a document this sync pushed (docs/verdicts.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingReport {
    pub doc_id: DocId,
    /// Stable rule code, e.g. `overdue_receivables`.
    pub code: String,
    pub message: String,
    /// The field it is about, e.g. `lines.COLA-330.quantity`.
    pub field: Option<String>,
    /// `flag`, `needs_approval` or `block`.
    pub severity: String,
    /// `held` or `flagged`.
    pub outcome: String,
}

impl FindingReport {
    pub(crate) fn from_push(doc_id: DocId, findings: Vec<PushFinding>) -> Vec<FindingReport> {
        findings
            .into_iter()
            .map(|f| FindingReport {
                doc_id,
                code: f.code,
                message: f.message,
                field: f.field,
                severity: f.severity,
                outcome: f.outcome,
            })
            .collect()
    }

    /// A held finding as a refused edit of the document (its field, else `status`).
    pub(crate) fn held(&self, at: Timestamp) -> Option<RefusedEditReport> {
        (self.outcome == "held").then(|| RefusedEditReport {
            doc_id: self.doc_id,
            field: self.field.clone().unwrap_or_else(|| "status".into()),
            code: self.code.clone(),
            message: self.message.clone(),
            at,
        })
    }
}
