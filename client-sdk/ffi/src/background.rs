//! Background sync for apps: a foreign-implemented `SyncObserver` (Kotlin, Swift or Python
//! object) receives every state change of the device's sync thread and the sync status when
//! it changes (`fieldsync_client::background`). With a `LiveObserver` the background sync also
//! holds the server's live stream and syncs within seconds of a change the device lacks; the
//! observer receives each event of the stream.

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

/// An event of the live stream (docs/live-push.md).
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum LiveEvent {
    /// Documents the user may see changed on the server (`changed`) or left the user's read
    /// scope (`evicted`, ids) up to the feed position `cursor`; `more`: others did too;
    /// `scope`: the read scope itself changed. The background sync brings them right away.
    Changes {
        cursor: i64,
        changed: Vec<LiveChange>,
        evicted: Vec<String>,
        more: bool,
        scope: bool,
    },
    /// The stream is connected and caught up to `cursor`.
    Ready { cursor: i64 },
    /// The server ended the stream (`token_expired`, `unauthorized`, `replaced`, `shutdown`,
    /// `unavailable`); the background sync reconnects by itself.
    End { reason: String, message: String },
}

/// A changed document: its id and kind (`visit`, `order`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LiveChange {
    pub doc_id: String,
    pub kind: String,
}

impl From<&bg::LiveEvent> for LiveEvent {
    fn from(e: &bg::LiveEvent) -> Self {
        match e {
            bg::LiveEvent::Changes {
                cursor,
                changed,
                evicted,
                more,
                scope,
            } => LiveEvent::Changes {
                cursor: *cursor,
                changed: changed
                    .iter()
                    .map(|c| LiveChange {
                        doc_id: c.doc_id.to_string(),
                        kind: c.kind.as_str().to_string(),
                    })
                    .collect(),
                evicted: evicted.iter().map(ToString::to_string).collect(),
                more: *more,
                scope: *scope,
            },
            bg::LiveEvent::Ready { cursor } => LiveEvent::Ready { cursor: *cursor },
            bg::LiveEvent::End { reason, message } => LiveEvent::End {
                reason: reason.clone(),
                message: message.clone(),
            },
        }
    }
}

/// Implemented by the app to follow the live stream. Called on the live thread, never the UI
/// thread: post to the UI and return quickly. An exception goes to the `SyncObserver`'s
/// `on_error`.
#[uniffi::export(foreign)]
pub trait LiveObserver: Send + Sync {
    fn on_live(&self, event: LiveEvent) -> Result<(), CallbackError>;
}

/// Adapts the app's observers to the device library's.
struct Bridge {
    sync: Arc<dyn SyncObserver>,
    live: Option<Arc<dyn LiveObserver>>,
}

impl bg::SyncObserver for Bridge {
    fn on_state(&self, state: &bg::SyncState) {
        let state = SyncState::from(state);
        match &state {
            SyncState::Offline { .. } | SyncState::Failed { .. } => {
                log::warn!(target: "fieldsync::sync", "{state}")
            }
            _ => log::info!(target: "fieldsync::sync", "{state}"),
        }
        if let Err(error) = self.sync.on_state(state) {
            self.report("SyncObserver.on_state", error);
        }
    }

    fn on_status(&self, status: &fieldsync_client::SyncStatus) {
        if let Err(error) = self.sync.on_status(status.clone().into()) {
            self.report("SyncObserver.on_status", error);
        }
    }

    fn on_live(&self, event: &bg::LiveEvent) {
        let Some(live) = &self.live else {
            return;
        };
        log::debug!(target: "fieldsync::live", "{event:?}");
        if let Err(error) = live.on_live(event.into()) {
            self.report("LiveObserver.on_live", error);
        }
    }
}

impl Bridge {
    /// An exception of the app's callback: to the log and to the app's `on_error`.
    fn report(&self, callback: &str, error: CallbackError) {
        log::error!(target: "fieldsync::observer", "{callback} threw: {error}");
        if let Err(again) = self.sync.on_error(error) {
            log::error!(target: "fieldsync::observer", "SyncObserver.on_error threw: {again}");
        }
    }
}

#[uniffi::export]
impl FieldsyncDevice {
    /// Starts syncing in the background: every `interval_secs` (and at once) when given and
    /// positive, else only on `request_sync`; failures are retried with backoff. With a
    /// `live_observer` it also holds the server's live stream while online and syncs within
    /// seconds of a change this device lacks (an approval, a colleague's edit); the observer
    /// receives each event. Replaces a running one.
    #[uniffi::method(default(interval_secs = None, live_observer = None))]
    pub fn start_background_sync(
        &self,
        observer: Arc<dyn SyncObserver>,
        interval_secs: Option<i64>,
        live_observer: Option<Arc<dyn LiveObserver>>,
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
        let live = live_observer.is_some();
        let bridge = Arc::new(Bridge {
            sync: observer,
            live: live_observer,
        });
        let sync = if live {
            BackgroundSync::start_live(self.device.clone(), schedule, bridge)
        } else {
            BackgroundSync::start(self.device.clone(), schedule, bridge)
        };
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
