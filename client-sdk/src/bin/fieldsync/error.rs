//! How a failed command ends: its exit code and the error it reports (text on stderr, or
//! JSON on stdout with `--json`).

use fieldsync_client::DeviceError;
use serde_json::json;

use crate::output::say;

/// A failure of the CLI itself (bad id prefix, unreadable password) or of the library.
pub enum CliError {
    Device(DeviceError),
    Usage(String),
}

impl From<DeviceError> for CliError {
    fn from(e: DeviceError) -> Self {
        CliError::Device(e)
    }
}

pub type CliResult<T> = Result<T, CliError>;

pub fn exit_code(e: &CliError) -> u8 {
    match e {
        CliError::Usage(_) => 2,
        CliError::Device(d) => match d {
            DeviceError::Invalid { .. } => 3,
            DeviceError::Offline(_) => 4,
            DeviceError::Unauthorized | DeviceError::NotLoggedIn => 5,
            DeviceError::InvalidInput(_) | DeviceError::NotFound { .. } => 2,
            DeviceError::WrongState { .. } | DeviceError::Forbidden { .. } => 6,
            DeviceError::Server { .. } => 7,
            DeviceError::Storage(_) | DeviceError::Document(_) => 1,
        },
    }
}

pub fn report_error(e: &CliError, json: bool) {
    let (reason, message, findings) = match e {
        CliError::Usage(m) => ("usage".to_string(), m.clone(), Vec::new()),
        CliError::Device(d) => {
            let findings = match d {
                DeviceError::Invalid { findings } => findings.clone(),
                _ => Vec::new(),
            };
            (d.reason().to_string(), d.to_string(), findings)
        }
    };
    if json {
        let mut error = json!({ "reason": reason, "message": message, "findings": findings });
        if let CliError::Device(DeviceError::Forbidden { field, code, .. }) = e {
            error["field"] = json!(field);
            error["code"] = json!(code);
        }
        say(&json!({ "error": error }).to_string());
        return;
    }
    match e {
        CliError::Device(DeviceError::Invalid { findings }) => {
            eprintln!("refused ({reason}):");
            for f in findings {
                let field = f
                    .field
                    .as_deref()
                    .map(|x| format!(" [{x}]"))
                    .unwrap_or_default();
                eprintln!("  {}/{}{}: {}", f.rule.as_str(), f.code, field, f.message);
            }
        }
        CliError::Device(DeviceError::Forbidden {
            field,
            code,
            message,
        }) => eprintln!("not allowed ({code}) [{field}]: {message}"),
        _ => eprintln!("error ({reason}): {message}"),
    }
}
