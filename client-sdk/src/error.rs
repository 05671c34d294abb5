//! The one error type of the device library. Each variant says what the caller (an app screen,
//! the CLI, a later FFI layer) should do about it: fix the input, log in again, retry later...

use fieldsync_shared::policy::Refusal;
use fieldsync_shared::rules::Finding;
use fieldsync_shared::{DocumentError, ParseError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DeviceError {
    /// A shared business rule refused the edit; nothing was committed. Each finding names the
    /// rule, a stable code, the field and a human message.
    #[error("refused by the business rules: {}", summarize(.findings))]
    Invalid { findings: Vec<Finding> },

    /// A value typed by the user (SKU, date, amount, ...) is malformed; the error names the field.
    #[error("{0}")]
    InvalidInput(#[from] ParseError),

    /// The visit, order, store, product ... does not exist on this device.
    #[error("{what} {id} not found on this device")]
    NotFound { what: &'static str, id: String },

    /// The operation needs a signed-in user (profile for edits, token for sync).
    #[error("not logged in: log in first")]
    NotLoggedIn,

    /// The server could not be reached or the connection broke. Nothing was lost: retry later.
    #[error("server unreachable ({0}); your work is kept on the device, sync again later")]
    Offline(String),

    /// The server rejected the token. Log in again; local work is kept.
    #[error("the server rejected the session: log in again (local work is kept)")]
    Unauthorized,

    /// The server answered with an error body.
    #[error("server error {status} ({reason}): {message}")]
    Server {
        status: u16,
        reason: String,
        message: String,
    },

    /// The document is not in a state that allows this edit (e.g. a visit already checked out).
    #[error("{message}")]
    WrongState { message: String },

    /// A write policy (`fieldsync_shared::policy`) refused the edit: this user may not change
    /// this part of the document, or not in its current status. Nothing was committed. `field`
    /// and `code` are the policy's stable snake_case names (e.g. `review`, `comment_required`).
    #[error("not allowed: {message}")]
    Forbidden {
        field: String,
        code: String,
        message: String,
    },

    /// The local database or photo folder failed.
    #[error("local storage: {0}")]
    Storage(String),

    /// An Automerge document could not be read or written.
    #[error("document: {0}")]
    Document(String),
}

fn summarize(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{} ({})", f.message, f.code))
        .collect::<Vec<_>>()
        .join("; ")
}

impl DeviceError {
    pub(crate) fn wrong_state(message: impl Into<String>) -> Self {
        DeviceError::WrongState {
            message: message.into(),
        }
    }

    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Self {
        DeviceError::NotFound {
            what,
            id: id.to_string(),
        }
    }

    /// Stable snake_case code of the error kind, for machine-readable output.
    pub fn reason(&self) -> &str {
        match self {
            DeviceError::Invalid { .. } => "rule_violation",
            DeviceError::InvalidInput(_) => "invalid_input",
            DeviceError::NotFound { .. } => "not_found",
            DeviceError::NotLoggedIn => "not_logged_in",
            DeviceError::Offline(_) => "offline",
            DeviceError::Unauthorized => "unauthorized",
            DeviceError::Server { reason, .. } => reason,
            DeviceError::WrongState { .. } => "wrong_state",
            DeviceError::Forbidden { .. } => "forbidden",
            DeviceError::Storage(_) => "storage",
            DeviceError::Document(_) => "document",
        }
    }
}

impl From<Refusal> for DeviceError {
    fn from(r: Refusal) -> Self {
        DeviceError::Forbidden {
            field: r.field.as_str().to_string(),
            code: r.code,
            message: r.message,
        }
    }
}

impl From<rusqlite::Error> for DeviceError {
    fn from(e: rusqlite::Error) -> Self {
        DeviceError::Storage(e.to_string())
    }
}

impl From<std::io::Error> for DeviceError {
    fn from(e: std::io::Error) -> Self {
        DeviceError::Storage(e.to_string())
    }
}

impl From<DocumentError> for DeviceError {
    fn from(e: DocumentError) -> Self {
        DeviceError::Document(e.to_string())
    }
}

impl From<automerge::AutomergeError> for DeviceError {
    fn from(e: automerge::AutomergeError) -> Self {
        DeviceError::Document(e.to_string())
    }
}

impl From<autosurgeon::ReconcileError> for DeviceError {
    fn from(e: autosurgeon::ReconcileError) -> Self {
        DeviceError::Document(e.to_string())
    }
}

impl From<serde_json::Error> for DeviceError {
    fn from(e: serde_json::Error) -> Self {
        DeviceError::Storage(format!("stored JSON: {e}"))
    }
}

pub type Result<T, E = DeviceError> = std::result::Result<T, E>;
