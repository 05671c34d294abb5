//! Background sync for apps: a foreign-implemented `SyncObserver` (Kotlin, Swift or Python
//! object) receives every state change of the device's sync thread and the sync status when
//! it changes (`fieldsync_client::background`).

use std::sync::Arc;

use fieldsync_client::{self as bg, BackgroundSync, SyncSchedule};

use crate::device::{wrong_state, FieldsyncDevice};
use crate::error::{CallbackError, Result};
use crate::records::SyncReport;
use crate::status::SyncStatus;

/// State of the background sync, as the observer sees it. Prints as a short sentence
/// (`syncing`, `offline, retry in 2000 ms: ...`), in logs and in Kotlin's `toString`.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
#[uniffi::export(Display)]
pub enum SyncState {
    /// Nothing running; waiting for the next scheduled run or `request_sync`.
    Idle,
    Syncing,
    Synced {
        report: SyncReport,
    },
    /// The server is unreachable; retried by itself after `retry_in_ms`.
    Offline {
        message: String,
        retry_in_ms: i64,
    },
    /// The server or the device failed. Retried after `retry_in_ms`; `None` when the user must
    /// act first (sign in again: `reason` `unauthorized` or `not_logged_in`).
    Failed {
        reason: String,
        message: String,
        retry_in_ms: Option<i64>,
    },
    Stopped,
}

impl std::fmt::Display for SyncState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncState::Idle => f.write_str("idle"),
            SyncState::Syncing => f.write_str("syncing"),
            SyncState::Synced { report } => write!(
                f,
                "synced: {} documents ({} changes) pushed, {} received, {} photos uploaded",
                report.docs_pushed,
                report.changes_pushed,
                report.docs_received,
                report.photos_uploaded
            ),
            SyncState::Offline {
                message,
                retry_in_ms,
            } => write!(f, "offline, retry in {retry_in_ms} ms: {message}"),
            SyncState::Failed {
                reason,
                message,
                retry_in_ms: Some(ms),
            } => write!(f, "failed ({reason}), retry in {ms} ms: {message}"),
            SyncState::Failed {
                reason,
                message,
                retry_in_ms: None,
            } => write!(f, "failed ({reason}), waiting for the user: {message}"),
            SyncState::Stopped => f.write_str("stopped"),
        }
    }
}

impl From<&bg::SyncState> for SyncState {
    fn from(s: &bg::SyncState) -> Self {
        let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        match s {
            bg::SyncState::Idle => SyncState::Idle,
            bg::SyncState::Syncing => SyncState::Syncing,
            bg::SyncState::Synced { report } => SyncState::Synced {
                report: report.clone().into(),
            },
            bg::SyncState::Offline { message, retry_in } => SyncState::Offline {
                message: message.clone(),
                retry_in_ms: ms(*retry_in),
            },
            bg::SyncState::Failed {
                reason,
                message,
                retry_in,
            } => SyncState::Failed {
                reason: reason.clone(),
                message: message.clone(),
                retry_in_ms: retry_in.map(ms),
            },
            bg::SyncState::Stopped => SyncState::Stopped,
        }
    }
}

/// Implemented by the app. Called on the sync thread, never the UI thread: post to the UI
/// (Handler/`Dispatchers.Main`, `DispatchQueue.main`) and return quickly. Do not call
/// `stop_background_sync` from inside `on_state` (it waits for this very thread).
#[uniffi::export(foreign)]
pub trait SyncObserver: Send + Sync {
    fn on_state(&self, state: SyncState) -> Result<(), CallbackError>;

    /// The sync status changed (what `sync_status()` returns): sent when the background sync
    /// starts and after each sync that changed it, right after the sync's outcome state.
    fn on_status(&self, status: SyncStatus) -> Result<(), CallbackError>;

    /// `on_state` or `on_status` threw: the exception, with its stack trace, for the app's crash reporting.
    /// The sync goes on. Also logged (target `fieldsync::observer`).
    fn on_error(&self, error: CallbackError) -> Result<(), CallbackError>;
}

/// Adapts the app's observer to the device library's.
struct Bridge(Arc<dyn SyncObserver>);

impl bg::SyncObserver for Bridge {
    fn on_state(&self, state: &bg::SyncState) {
        let state = SyncState::from(state);
        match &state {
            SyncState::Offline { .. } | SyncState::Failed { .. } => {
                log::warn!(target: "fieldsync::sync", "{state}")
            }
            _ => log::info!(target: "fieldsync::sync", "{state}"),
        }
        if let Err(error) = self.0.on_state(state) {
            self.report("on_state", error);
        }
    }

    fn on_status(&self, status: &fieldsync_client::SyncStatus) {
        if let Err(error) = self.0.on_status(status.clone().into()) {
            self.report("on_status", error);
        }
    }
}

impl Bridge {
    /// An exception of the app's callback: to the log and to the app's `on_error`.
    fn report(&self, callback: &str, error: CallbackError) {
        log::error!(target: "fieldsync::observer", "SyncObserver.{callback} threw: {error}");
        if let Err(again) = self.0.on_error(error) {
            log::error!(target: "fieldsync::observer", "SyncObserver.on_error threw: {again}");
        }
    }
}

#[uniffi::export]
impl FieldsyncDevice {
    /// Starts syncing in the background: every `interval_secs` (and at once) when given and
    /// positive, else only on `request_sync`; failures are retried with backoff. Replaces a running one.
    #[uniffi::method(default(interval_secs = None))]
    pub fn start_background_sync(
        &self,
        observer: Arc<dyn SyncObserver>,
        interval_secs: Option<i64>,
    ) {
        let schedule = SyncSchedule {
            interval: interval_secs
                .and_then(|s| u64::try_from(s).ok())
                .filter(|s| *s > 0)
                .map(std::time::Duration::from_secs),
            ..SyncSchedule::default()
        };
        // Stopping waits for the sync thread, which may be calling the observer, which may
        // call back into this device: never hold the lock while stopping.
        let old = self.background().take();
        if let Some(old) = old {
            old.stop();
        }
        let sync = BackgroundSync::start(self.device.clone(), schedule, Arc::new(Bridge(observer)));
        let raced = self.background().replace(sync);
        if let Some(raced) = raced {
            raced.stop();
        }
    }

    /// Asks the background sync to run as soon as possible (e.g. the network came back, the
    /// user pulled to refresh). Returns at once.
    pub fn request_sync(&self) -> Result<()> {
        match self.background().as_ref() {
            Some(sync) => {
                sync.sync_now();
                Ok(())
            }
            None => Err(wrong_state(
                "background sync is not running: call start_background_sync first",
            )),
        }
    }

    /// Stops the background sync after its current run; returns when stopped (the observer
    /// gets `Stopped`). Does nothing when not running.
    pub fn stop_background_sync(&self) {
        let running = self.background().take();
        if let Some(sync) = running {
            sync.stop();
        }
    }
}
