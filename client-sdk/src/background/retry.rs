//! Which failed syncs the background sync retries by itself, and which wait for the app.

use crate::error::DeviceError;

/// How a failed sync is retried.
#[derive(Debug, PartialEq)]
pub(super) enum Retry {
    /// The server could not be reached: retry with backoff.
    Offline(String),
    /// It may pass (server overloaded or down, local storage hiccup): retry with backoff.
    Backoff,
    /// Retrying cannot help until the user acts: wait for sync_now.
    UserMustAct,
}

pub(super) fn retry_kind(e: &DeviceError) -> Retry {
    match e {
        DeviceError::Offline(message) => Retry::Offline(message.clone()),
        DeviceError::Unauthorized | DeviceError::NotLoggedIn => Retry::UserMustAct,
        // 2xx here: the answer could not be read (cut or mangled on the way): a retry is safe.
        DeviceError::Server { status, .. } if *status >= 500 || *status < 300 => Retry::Backoff,
        DeviceError::Server {
            status: 408 | 429, ..
        } => Retry::Backoff,
        // The request itself is refused (forbidden, too large, an app too old...).
        DeviceError::Server { .. } => Retry::UserMustAct,
        _ => Retry::Backoff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_retried_unless_the_user_must_act() {
        let server = |status: u16, reason: &str| DeviceError::Server {
            status,
            reason: reason.into(),
            message: String::new(),
        };
        assert_eq!(
            retry_kind(&DeviceError::Offline("cut".into())),
            Retry::Offline("cut".into())
        );
        for status in [500, 502, 503, 504, 408, 429, 200] {
            assert_eq!(retry_kind(&server(status, "x")), Retry::Backoff, "{status}");
        }
        for status in [400, 403, 404, 413, 422, 426] {
            assert_eq!(
                retry_kind(&server(status, "x")),
                Retry::UserMustAct,
                "{status}"
            );
        }
        assert_eq!(retry_kind(&DeviceError::Unauthorized), Retry::UserMustAct);
        assert_eq!(retry_kind(&DeviceError::NotLoggedIn), Retry::UserMustAct);
        assert_eq!(
            retry_kind(&DeviceError::Storage("disk full".into())),
            Retry::Backoff
        );
    }
}
