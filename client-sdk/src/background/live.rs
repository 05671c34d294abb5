//! Live push on the device: while the background sync runs with live push on, a thread of
//! its own holds the server's live stream (`GET /v1/live`, docs/live-push.md) and asks the
//! sync thread for a sync when the stream says the device lacks something, so an approval
//! arrives within seconds instead of at the next scheduled sync.
//!
//! * The stream resumes from the device's pull cursor, so nothing committed while it was
//!   away goes unannounced (the server reads its feed from there).
//! * A sync is asked for when an event's cursor is past the device's, or documents left the
//!   read scope, or the scope changed; the device's own pushes come back with a cursor it
//!   already holds once its sync stored the page, and are then ignored.
//! * Reconnects: at once after the token expired (the request refreshes it on the 401),
//!   otherwise after capped exponential backoff with full jitter (the same as the sync's),
//!   reset once a stream is caught up. A refused session waits for the app (`sync_now`).
//! * The blocking read runs on a reader thread per connection that owns only the socket; the
//!   live thread itself polls for the stop, so stopping the background sync never waits for
//!   the network. A reader whose stream was given up ends at its next event or heartbeat, or
//!   when its read times out (a minute of silence).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::backoff::{seed, Backoff};
use super::retry::{retry_kind, Retry};
use super::{Shared, SyncObserver, SyncSchedule};
use crate::device::Device;
use crate::error::{DeviceError, Result};
use crate::http::{Http, LiveEvent, LiveEvents};
use crate::store::{self, keys};

/// How often the live thread looks at the stop flag while it waits for events.
const POLL: Duration = Duration::from_millis(100);
/// Events read ahead of the live thread.
const READ_AHEAD: usize = 16;

/// What to do after a stream ended.
#[derive(Debug, PartialEq)]
enum Then {
    /// Connect again at once.
    Reconnect,
    /// Connect again after this long.
    After(Duration),
    /// Wait for the app to ask for a sync (the session was refused).
    WhenAsked,
    /// The background sync stops.
    Stop,
}

pub(super) struct LiveWorker {
    pub(super) device: Arc<Device>,
    pub(super) shared: Arc<Shared>,
    pub(super) observer: Arc<dyn SyncObserver>,
    backoff: Backoff,
}

impl LiveWorker {
    pub(super) fn new(
        device: Arc<Device>,
        shared: Arc<Shared>,
        observer: Arc<dyn SyncObserver>,
        schedule: SyncSchedule,
    ) -> LiveWorker {
        LiveWorker {
            device,
            shared,
            observer,
            backoff: Backoff::new(schedule, seed()),
        }
    }

    pub(super) fn run(mut self) {
        loop {
            let then = self.hold_stream();
            let go_on = match then {
                Then::Reconnect => !self.stopping(),
                Then::After(delay) => self.pause(Some(Instant::now() + delay)),
                Then::WhenAsked => self.pause(None),
                Then::Stop => false,
            };
            if !go_on {
                return;
            }
        }
    }

    fn stopping(&self) -> bool {
        self.shared.requests().stop
    }

    /// Waits until `until` (or, with `None`, until the app asks for a sync). False: stop.
    fn pause(&self, until: Option<Instant>) -> bool {
        let mut requests = self.shared.requests();
        let asked = requests.asked;
        loop {
            if requests.stop {
                return false;
            }
            let now = Instant::now();
            match until {
                Some(at) if at <= now => return true,
                None if requests.asked != asked => return true,
                _ => {}
            }
            let wait = until.map_or(Duration::from_secs(3600), |at| at - now);
            requests = self
                .shared
                .wake
                .wait_timeout(requests, wait)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Opens the stream from the device's cursor.
    fn open(&self) -> Result<LiveEvents> {
        let db = self.device.database();
        let (url, after) = {
            let conn = db.lock();
            let url = store::meta_get(&conn, keys::SERVER_URL)?.ok_or(DeviceError::NotLoggedIn)?;
            (url, store::cursor(&conn)?.map(|c| c.seq))
        };
        Http::with_session(&url, db)?.open_live(after)
    }

    /// The feed position the device holds (`-1`: none yet).
    fn device_seq(&self) -> i64 {
        store::cursor(&self.device.database().lock())
            .ok()
            .flatten()
            .map_or(-1, |c| c.seq)
    }

    /// Holds one stream until it ends; says what to do next.
    fn hold_stream(&mut self) -> Then {
        let events = match self.open() {
            Ok(events) => events,
            Err(e) => {
                return match retry_kind(&e) {
                    Retry::UserMustAct => Then::WhenAsked,
                    Retry::Offline(_) | Retry::Backoff => Then::After(self.backoff.next_delay()),
                };
            }
        };
        let (tx, rx) = mpsc::sync_channel(READ_AHEAD);
        let reader = std::thread::Builder::new()
            .name("fieldsync-live-reader".into())
            .spawn(move || read_events(events, tx));
        if reader.is_err() {
            return Then::After(self.backoff.next_delay());
        }
        loop {
            if self.stopping() {
                return Then::Stop;
            }
            let event = match rx.recv_timeout(POLL) {
                Ok(Ok(Some(event))) => event,
                Err(RecvTimeoutError::Timeout) => continue,
                // Closed, cut, or gone silent: connect again (after a pause).
                Ok(Ok(None)) | Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                    return Then::After(self.backoff.next_delay())
                }
            };
            let then = self.handle(&event);
            self.emit(&event);
            if let Some(then) = then {
                return then;
            }
        }
    }

    /// Acts on one event; `Some` when the stream ends.
    fn handle(&mut self, event: &LiveEvent) -> Option<Then> {
        match event {
            LiveEvent::Ready { .. } => {
                self.backoff.reset();
                None
            }
            LiveEvent::Changes {
                cursor,
                evicted,
                scope,
                ..
            } => {
                if *cursor > self.device_seq() || !evicted.is_empty() || *scope {
                    self.shared.ask_sync();
                }
                None
            }
            LiveEvent::End { reason, .. } => Some(match reason.as_str() {
                // The next request gets a 401 and refreshes the token.
                "token_expired" => Then::Reconnect,
                // Another stream of this device (another background sync) holds the place:
                // do not take it back at once.
                "replaced" => Then::After(self.backoff.next_delay()),
                // Revoked, or aged out: the reconnection's refresh says whether to wait for
                // the user.
                _ => Then::After(self.backoff.next_delay()),
            }),
        }
    }

    fn emit(&self, event: &LiveEvent) {
        let observer = self.observer.clone();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| observer.on_live(event)));
    }
}

/// The reader thread: passes events on until the stream ends or nobody listens.
fn read_events(mut events: LiveEvents, tx: mpsc::SyncSender<Result<Option<LiveEvent>>>) {
    loop {
        let next = events.next_event();
        let last = !matches!(next, Ok(Some(_)));
        if tx.send(next).is_err() || last {
            return;
        }
    }
}
