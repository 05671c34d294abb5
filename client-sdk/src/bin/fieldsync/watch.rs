//! `fieldsync watch`: syncs in the background with live push and prints each change as it
//! arrives (one line each; one JSON object a line with `--json`), until interrupted, until
//! `--count` changed documents were printed, or until the session is refused.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fieldsync_client::{
    BackgroundSync, Device, DeviceError, LiveEvent, SyncObserver, SyncSchedule, SyncState,
};
use serde_json::json;

use crate::error::{CliError, CliResult};
use crate::output::{say, Out};

/// A full sync every so often besides the live stream (as the app's schedule would).
const INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Why watching ends.
enum Stop {
    /// `--count` changes were printed.
    Counted,
    /// The session was refused or there is none: the user must log in.
    UserMustAct(DeviceError),
}

/// Prints what the background sync and the live stream report.
struct Printer {
    json: bool,
    /// Changed documents left to print before stopping (`--count`).
    left: Mutex<Option<u64>>,
    stop: Mutex<mpsc::Sender<Stop>>,
}

impl Printer {
    fn stop(&self, why: Stop) {
        let _ = self
            .stop
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(why);
    }

    /// Counts printed changes; stops at `--count`.
    fn counted(&self, n: u64) {
        let mut left = self.left.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(left) = left.as_mut() {
            *left = left.saturating_sub(n);
            if *left == 0 {
                self.stop(Stop::Counted);
            }
        }
    }
}

impl SyncObserver for Printer {
    fn on_state(&self, state: &SyncState) {
        let line = match state {
            SyncState::Synced { report } if report.docs_received > 0 => {
                format!("synced: received {} document(s)", report.docs_received)
            }
            SyncState::Offline { message, retry_in } => {
                format!("offline, retrying in {} s: {message}", retry_in.as_secs())
            }
            SyncState::Failed {
                reason, message, ..
            } => format!("sync failed ({reason}): {message}"),
            _ => return,
        };
        if self.json {
            say(&json!({ "sync": state }).to_string());
        } else {
            say(&line);
        }
        if let SyncState::Failed {
            retry_in: None,
            reason,
            message,
        } = state
        {
            let error = match reason.as_str() {
                "not_logged_in" => DeviceError::NotLoggedIn,
                "unauthorized" => DeviceError::Unauthorized,
                _ => DeviceError::Server {
                    status: 400,
                    reason: reason.clone(),
                    message: message.clone(),
                },
            };
            self.stop(Stop::UserMustAct(error));
        }
    }

    fn on_live(&self, event: &LiveEvent) {
        if self.json {
            match serde_json::to_string(event) {
                Ok(line) => say(&line),
                Err(e) => eprintln!("could not render JSON: {e}"),
            }
        } else {
            match event {
                LiveEvent::Changes {
                    changed, evicted, ..
                } => {
                    for c in changed {
                        say(&format!("changed {} {}", c.kind.as_str(), c.doc_id));
                    }
                    for id in evicted {
                        say(&format!("left your scope {id}"));
                    }
                }
                LiveEvent::Ready { cursor } => say(&format!("watching (feed position {cursor})")),
                LiveEvent::End { reason, message } => say(&format!(
                    "the server ended the stream ({reason}): {message}"
                )),
            }
        }
        if let LiveEvent::Changes {
            changed, evicted, ..
        } = event
        {
            self.counted((changed.len() + evicted.len()) as u64);
        }
    }
}

/// Watches until interrupted, until `count` changes were printed, or until the session is
/// refused (exit code 5).
pub fn watch(device: Device, out: &Out, count: Option<u64>) -> CliResult<()> {
    if !device.is_logged_in()? {
        return Err(CliError::Device(DeviceError::NotLoggedIn));
    }
    let (tx, rx) = mpsc::channel();
    let printer = Arc::new(Printer {
        json: out.json,
        left: Mutex::new(count.filter(|n| *n > 0)),
        stop: Mutex::new(tx),
    });
    let schedule = SyncSchedule {
        interval: Some(INTERVAL),
        ..SyncSchedule::default()
    };
    let sync = BackgroundSync::start_live(Arc::new(device), schedule, printer);
    // Interrupting the process is the usual end; the other ends come from the observer.
    let stop = rx.recv();
    sync.stop();
    match stop {
        Ok(Stop::UserMustAct(e)) => Err(CliError::Device(e)),
        Ok(Stop::Counted) | Err(_) => Ok(()),
    }
}
