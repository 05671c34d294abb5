//! The one error type apps see, and the one place the device library's rich error is turned
//! into it (two tiers, as in mozilla application-services: `DeviceError` inside, a small
//! `FieldsyncError` whose variants say what the app should do).
//!
//! No variant has a field called `message`: Kotlin exceptions already have one, and uniffi
//! generates `override val message` from the fields. The human text is `detail`.

use fieldsync_client::DeviceError;
use fieldsync_shared::{rules, ParseError};

use crate::mirror::mirror_enum;

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FieldsyncError {
    /// The server cannot be reached. Nothing was lost: the work stays on the device, sync
    /// again later (background sync retries by itself).
    #[error("offline: {detail}")]
    Offline { detail: String },

    /// Sign in again: wrong credentials (`invalid_credentials`), a session the server no
    /// longer accepts (`session_rejected`), or no session on this device (`not_logged_in`).
    /// Local work is kept.
    #[error("unauthorized ({reason}): {detail}")]
    Unauthorized { reason: String, detail: String },

    /// A write policy refuses this edit for this user: `field` is the part of the document
    /// (`status`, `notes`, `review`, `lines`...), `code` a stable reason such as
    /// `visit_frozen` or `not_author`. Nothing was committed.
    #[error("forbidden ({field}, {code}): {detail}")]
    Forbidden {
        field: String,
        code: String,
        detail: String,
    },

    /// A business rule or a malformed value refuses the input; nothing was committed.
    /// `field` names what to fix (`steps.greet`, `lines.COLA-330.quantity`, `sku`, ...),
    /// `rule` the rule (`visit_timing`, `pricing`, ... or `input` for a malformed value),
    /// `code` a stable reason. `findings` lists every blocking finding (empty for input).
    #[error("invalid {field} ({rule}/{code}): {detail}")]
    Invalid {
        field: String,
        rule: String,
        code: String,
        detail: String,
        findings: Vec<Finding>,
    },

    /// The visit, order, store, product or file does not exist on this device.
    #[error("{what} {id} not found")]
    NotFound { what: String, id: String },

    /// The document is not in a state that allows this (e.g. lines of a submitted order).
    #[error("{detail}")]
    WrongState { detail: String },

    /// The server refused the request; `reason` is its machine-readable code.
    #[error("server error {status} ({reason}): {detail}")]
    Server {
        /// The HTTP status.
        status: i32,
        reason: String,
        detail: String,
    },

    /// The device's database or files failed (disk full, corrupt document...).
    #[error("local storage: {detail}")]
    Storage { detail: String },
}

/// An exception an app callback threw (`SyncObserver.on_state`, `LogSink.log`), caught at the
/// boundary instead of lost: the library goes on, and reports it to the app where it can
/// (`SyncObserver.on_error`, the log sink).
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum CallbackError {
    /// `detail`: the exception as the app's language prints it, with its stack trace.
    #[error("app callback failed: {detail}")]
    Failed { detail: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CallbackError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CallbackError::Failed { detail: e.reason }
    }
}

pub type Result<T, E = FieldsyncError> = std::result::Result<T, E>;

impl From<DeviceError> for FieldsyncError {
    fn from(e: DeviceError) -> Self {
        let detail = e.to_string();
        match e {
            DeviceError::Invalid { findings } => {
                let first = findings.first();
                FieldsyncError::Invalid {
                    field: first.and_then(|f| f.field.clone()).unwrap_or_default(),
                    rule: first
                        .map(|f| f.rule.as_str().to_string())
                        .unwrap_or_default(),
                    code: first.map(|f| f.code.clone()).unwrap_or_default(),
                    detail,
                    findings: findings.into_iter().map(Finding::from).collect(),
                }
            }
            DeviceError::InvalidInput(parse) => parse.into(),
            DeviceError::Forbidden {
                field,
                code,
                message,
            } => FieldsyncError::Forbidden {
                field,
                code,
                detail: message,
            },
            DeviceError::NotFound { what, id } => FieldsyncError::NotFound {
                what: what.to_string(),
                id,
            },
            DeviceError::NotLoggedIn => FieldsyncError::Unauthorized {
                reason: "not_logged_in".into(),
                detail,
            },
            DeviceError::Offline(_) => FieldsyncError::Offline { detail },
            DeviceError::Unauthorized => FieldsyncError::Unauthorized {
                reason: "session_rejected".into(),
                detail,
            },
            // A 401 with a body: the login itself was refused (wrong username or password).
            DeviceError::Server {
                status: 401,
                reason,
                message,
            } => FieldsyncError::Unauthorized {
                reason,
                detail: message,
            },
            DeviceError::Server {
                status,
                reason,
                message,
            } => FieldsyncError::Server {
                status: status.into(),
                reason,
                detail: message,
            },
            DeviceError::WrongState { message } => FieldsyncError::WrongState { detail: message },
            DeviceError::Storage(_) | DeviceError::Document(_) => {
                FieldsyncError::Storage { detail }
            }
        }
    }
}

impl FieldsyncError {
    /// A negative count (quantity, facings): `Invalid` with rule `input`, code `negative`.
    pub(crate) fn negative(field: &str, value: i64) -> Self {
        FieldsyncError::Invalid {
            field: field.to_string(),
            rule: "input".into(),
            code: "negative".into(),
            detail: format!("{field} must not be negative (got {value})"),
            findings: Vec::new(),
        }
    }

    /// A blank text that must say something (a rejection's comment): `Invalid` with rule
    /// `input`, code `required`.
    pub(crate) fn required(field: &str) -> Self {
        FieldsyncError::Invalid {
            field: field.to_string(),
            rule: "input".into(),
            code: "required".into(),
            detail: format!("{field} is required"),
            findings: Vec::new(),
        }
    }
}

/// A malformed value: `Invalid` with rule `input`.
impl From<ParseError> for FieldsyncError {
    fn from(e: ParseError) -> Self {
        FieldsyncError::Invalid {
            field: e.field.to_string(),
            rule: "input".into(),
            code: "malformed".into(),
            detail: e.to_string(),
            findings: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// findings: what business rules say, on success (flags) and in `Invalid` (blocking)

mirror_enum!(
    /// What a finding does: Flag (recorded for the supervisor), NeedsApproval (goes ahead,
    /// needs a supervisor), Block (refused).
    Severity = rules::Severity { Flag, NeedsApproval, Block }
);

/// One outcome of a business rule: flags and approvals come back from successful edits,
/// blocking findings inside `FieldsyncError::Invalid`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Finding {
    /// `geofence`, `visit_timing`, `photos`, `freshness`, `credit`, `pricing`, ...
    pub rule: String,
    pub severity: Severity,
    /// Stable snake_case code, e.g. `outside_geofence`, `step_missing`.
    pub code: String,
    pub message: String,
    /// The field it is about, e.g. `steps.greet` or `lines.COLA-330.quantity`.
    pub field: Option<String>,
}

impl From<rules::Finding> for Finding {
    fn from(f: rules::Finding) -> Self {
        Finding {
            rule: f.rule.as_str().to_string(),
            severity: f.severity.into(),
            code: f.code,
            message: f.message,
            field: f.field,
        }
    }
}

pub(crate) fn findings(v: rules::Verdict) -> Vec<Finding> {
    v.findings.into_iter().map(Finding::from).collect()
}
