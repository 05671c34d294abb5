//! Findings a supervisor's phone shows: those its author's phone showed (kept in the document)
//! and those of the server's rules (a sync's report, the review lists in `review.rs`). Rule,
//! severity and outcome are wire strings, so a finding of a newer app or server still reads.

use fieldsync_client as client;
use fieldsync_shared::evaluation::ShownFinding;

/// A finding the author's phone showed when the document was edited (off-site check-in,
/// stale stock, photo outside the visit, discount beyond authority, ...).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RecordedFinding {
    /// `geofence`, `visit_timing`, `photos`, `freshness`, `credit`, `pricing`, ...
    pub rule: String,
    /// `flag`, `needs_approval` or `block`.
    pub severity: String,
    /// Stable snake_case code, e.g. `outside_geofence`.
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    /// When the phone showed it.
    pub at_ms: i64,
}

impl From<ShownFinding> for RecordedFinding {
    fn from(f: ShownFinding) -> Self {
        RecordedFinding {
            rule: f.rule,
            severity: f.severity,
            code: f.code,
            message: f.message,
            field: f.field,
            at_ms: f.at.millis(),
        }
    }
}

/// A finding of the server's rules on a document (docs/verdicts.md).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ServerFinding {
    pub doc_id: String,
    /// Stable snake_case code, e.g. `overdue_receivables`, `photo_taken_outside_visit`.
    pub code: String,
    pub message: String,
    /// The field it is about, e.g. `lines.COLA-330.quantity`.
    pub field: Option<String>,
    /// `flag`, `needs_approval` or `block`.
    pub severity: String,
    /// `held` (the server undid the submission) or `flagged` (kept, for the supervisor).
    pub outcome: String,
}

impl From<client::FindingReport> for ServerFinding {
    fn from(f: client::FindingReport) -> Self {
        ServerFinding {
            doc_id: f.doc_id.to_string(),
            code: f.code,
            message: f.message,
            field: f.field,
            severity: f.severity,
            outcome: f.outcome,
        }
    }
}
