//! Background sync: one thread per [`BackgroundSync`] that runs [`Device::sync`] when asked
//! ([`BackgroundSync::sync_now`]) and on a schedule, and retries failures with capped
//! exponential backoff and full jitter. Every state change goes to a [`SyncObserver`], and
//! so does the [`SyncStatus`] when it changed (at start and after each sync).
//!
//! The thread only calls `Device::sync`, which holds the device's connection for short
//! sections and never across network I/O, so the app keeps reading and writing while a sync
//! is in flight. What a failed attempt leaves behind is always safe to retry (see `sync`).
//!
//! Which failures are retried:
//! * `Offline` (no connection, a connection cut mid-request, a timeout): [`SyncState::Offline`],
//!   retried after the backoff delay.
//! * A server error that may pass (5xx, 408, 429) or a local one (storage, a document):
//!   [`SyncState::Failed`] with `retry_in`, retried after the backoff delay.
//! * `Unauthorized`, `NotLoggedIn` and other refusals of the request (4xx): `Failed` with
//!   `retry_in: None`. Retrying cannot help until the user acts (logs in again, updates the
//!   app), so nothing runs until the next [`BackgroundSync::sync_now`]; the scheduled runs stop
//!   too, so a phone never hammers a server that refuses it.
//!
//! Started with [`BackgroundSync::start_live`], it also holds the server's live stream on a
//! thread of its own (`live.rs`) and syncs when the stream says the device lacks something;
//! every event goes to [`SyncObserver::on_live`].

mod backoff;
mod live;
mod retry;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use backoff::{seed, Backoff};
use retry::{retry_kind, Retry};

use crate::device::Device;
use crate::error::DeviceError;
use crate::http::LiveEvent;
use crate::sync::SyncReport;
use crate::sync_status::SyncStatus;

/// Receives every state change of the background sync, on the sync thread. Must not block long.
pub trait SyncObserver: Send + Sync + 'static {
    fn on_state(&self, state: &SyncState);

    /// The sync status changed: sent when the thread starts and after each sync that changed
    /// it (the outcome's state first). Read from the device, so it holds offline too.
    fn on_status(&self, _status: &SyncStatus) {}

    /// An event of the live stream ([`BackgroundSync::start_live`]), on the live thread: what
    /// changed on the server. The sync it asks for follows on the sync thread.
    fn on_live(&self, _event: &LiveEvent) {}
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SyncState {
    /// Nothing running; waiting for the next scheduled run or sync_now().
    Idle,
    Syncing,
    Synced {
        report: SyncReport,
    },
    /// Server unreachable; retried automatically after `retry_in` (exponential backoff + jitter).
    Offline {
        message: String,
        retry_in: Duration,
    },
    /// Server error (5xx, 503...) retried after retry_in; or not retried (retry_in None) when the
    /// user must act (unauthorized, not logged in).
    Failed {
        reason: String,
        message: String,
        retry_in: Option<Duration>,
    },
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncSchedule {
    /// Run every `interval` when idle; None: only on sync_now() and retries.
    pub interval: Option<Duration>,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for SyncSchedule {
    /// Every 5 minutes; retries after 2 s, doubling up to 5 minutes.
    fn default() -> Self {
        SyncSchedule {
            interval: Some(Duration::from_secs(5 * 60)),
            min_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(5 * 60),
        }
    }
}

/// A running background sync. Dropping it stops it (like [`BackgroundSync::stop`]).
pub struct BackgroundSync {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The live stream's thread, when live push is on.
    live: Option<JoinHandle<()>>,
}

/// Whether the background sync holds the live stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LivePush {
    Off,
    On,
}

/// What the app asks of the sync thread.
#[derive(Default)]
struct Requests {
    /// A sync is wanted as soon as possible (several calls coalesce into one).
    sync_now: bool,
    /// How many times the app asked for a sync (the live thread waits for the next one
    /// after its session was refused).
    asked: u64,
    stop: bool,
}

struct Shared {
    requests: Mutex<Requests>,
    wake: Condvar,
}

impl Shared {
    fn requests(&self) -> MutexGuard<'_, Requests> {
        // Only plain flags live behind the lock: a panic cannot leave them half-written.
        self.requests.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A sync as soon as possible, without resetting the backoff (the live stream asks).
    fn ask_sync(&self) {
        self.requests().sync_now = true;
        self.wake.notify_all();
    }
}

impl BackgroundSync {
    /// Starts the sync thread. With a scheduled `interval` the first sync runs at once; with
    /// none, the thread waits for [`BackgroundSync::sync_now`].
    pub fn start(
        device: Arc<Device>,
        schedule: SyncSchedule,
        observer: Arc<dyn SyncObserver>,
    ) -> BackgroundSync {
        BackgroundSync::launch(device, schedule, observer, LivePush::Off)
    }

    /// Like [`BackgroundSync::start`], and also holds the server's live stream while online:
    /// a change the device lacks (an approval, a colleague's edit) is synced within seconds.
    /// Its events go to [`SyncObserver::on_live`].
    pub fn start_live(
        device: Arc<Device>,
        schedule: SyncSchedule,
        observer: Arc<dyn SyncObserver>,
    ) -> BackgroundSync {
        BackgroundSync::launch(device, schedule, observer, LivePush::On)
    }

    fn launch(
        device: Arc<Device>,
        schedule: SyncSchedule,
        observer: Arc<dyn SyncObserver>,
        live: LivePush,
    ) -> BackgroundSync {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Requests {
                sync_now: schedule.interval.is_some(),
                asked: 0,
                stop: false,
            }),
            wake: Condvar::new(),
        });
        let live = (live == LivePush::On).then(|| {
            let worker =
                live::LiveWorker::new(device.clone(), shared.clone(), observer.clone(), schedule);
            std::thread::Builder::new()
                .name("fieldsync-live".into())
                .spawn(move || worker.run())
                .expect("spawning the live stream thread")
        });
        let worker = Worker {
            device,
            schedule,
            observer,
            shared: shared.clone(),
            backoff: Backoff::new(schedule, seed()),
            status: None,
        };
        let thread = std::thread::Builder::new()
            .name("fieldsync-sync".into())
            .spawn(move || worker.run())
            .expect("spawning the background sync thread");
        BackgroundSync {
            shared,
            thread: Some(thread),
            live,
        }
    }

    /// Ask for a sync as soon as possible (coalesced with one already queued; resets backoff).
    pub fn sync_now(&self) {
        let mut requests = self.shared.requests();
        requests.sync_now = true;
        requests.asked = requests.asked.wrapping_add(1);
        drop(requests);
        self.shared.wake.notify_all();
    }

    /// Stops the thread after the current sync (also on drop). Returns when stopped (at once
    /// when called from the observer, on the sync thread: it stops after the observer returns).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.requests().stop = true;
        self.shared.wake.notify_all();
        // The live thread polls the stop flag and never waits for the network: quick to join.
        if let Some(live) = self.live.take() {
            if live.thread().id() != std::thread::current().id() {
                let _ = live.join();
            }
        }
        if let Some(thread) = self.thread.take() {
            // Stopped from the observer, on the sync thread itself: it ends after this state.
            if thread.thread().id() == std::thread::current().id() {
                return;
            }
            // The worker catches panics of the sync and of the observer; nothing to report.
            let _ = thread.join();
        }
    }
}

impl Drop for BackgroundSync {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for BackgroundSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackgroundSync").finish_non_exhaustive()
    }
}

struct Worker {
    device: Arc<Device>,
    schedule: SyncSchedule,
    observer: Arc<dyn SyncObserver>,
    shared: Arc<Shared>,
    backoff: Backoff,
    /// The status last sent to the observer.
    status: Option<SyncStatus>,
}

/// What happens after one attempt.
enum Next {
    /// Wait this long (or for sync_now).
    In(Duration),
    /// Wait for sync_now only.
    WhenAsked,
}

impl Worker {
    fn run(mut self) {
        self.emit(&SyncState::Idle);
        self.emit_status();
        let mut next_run: Option<Instant> = None;
        while self.wait(next_run) {
            self.emit(&SyncState::Syncing);
            let result =
                catch_unwind(AssertUnwindSafe(|| self.device.sync())).unwrap_or_else(|_| {
                    Err(DeviceError::Storage(
                        "the sync stopped on an internal error".into(),
                    ))
                });
            let (state, next) = self.outcome(result);
            self.emit(&state);
            if matches!(state, SyncState::Synced { .. }) {
                self.emit(&SyncState::Idle);
            }
            // After the states, so reading the status never delays what the UI shows.
            self.emit_status();
            next_run = match next {
                Next::In(delay) => Some(Instant::now() + delay),
                Next::WhenAsked => None,
            };
        }
        self.emit(&SyncState::Stopped);
    }

    /// Waits until a sync is due (`next_run` passed, or sync_now). Returns false to stop.
    fn wait(&mut self, next_run: Option<Instant>) -> bool {
        let mut requests = self.shared.requests();
        loop {
            if requests.stop {
                return false;
            }
            if requests.sync_now {
                requests.sync_now = false;
                // The app asked: the network may be back, so start again from a short delay.
                self.backoff.reset();
                return true;
            }
            let now = Instant::now();
            requests = match next_run {
                Some(at) if at <= now => return true,
                Some(at) => {
                    self.shared
                        .wake
                        .wait_timeout(requests, at - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self
                    .shared
                    .wake
                    .wait(requests)
                    .unwrap_or_else(|p| p.into_inner()),
            };
        }
    }

    /// The state to report for a sync's result, and when to run next.
    fn outcome(&mut self, result: Result<SyncReport, DeviceError>) -> (SyncState, Next) {
        let scheduled = || match self.schedule.interval {
            Some(interval) => Next::In(interval),
            None => Next::WhenAsked,
        };
        match result {
            Ok(report) => {
                self.backoff.reset();
                (SyncState::Synced { report }, scheduled())
            }
            Err(e) => match retry_kind(&e) {
                Retry::Offline(message) => {
                    let retry_in = self.backoff.next_delay();
                    (SyncState::Offline { message, retry_in }, Next::In(retry_in))
                }
                Retry::Backoff => {
                    let retry_in = self.backoff.next_delay();
                    let state = SyncState::Failed {
                        reason: e.reason().to_string(),
                        message: e.to_string(),
                        retry_in: Some(retry_in),
                    };
                    (state, Next::In(retry_in))
                }
                Retry::UserMustAct => {
                    self.backoff.reset();
                    let state = SyncState::Failed {
                        reason: e.reason().to_string(),
                        message: e.to_string(),
                        retry_in: None,
                    };
                    (state, Next::WhenAsked)
                }
            },
        }
    }

    fn emit(&self, state: &SyncState) {
        // A panicking observer must not take the sync thread down with it.
        let _ = catch_unwind(AssertUnwindSafe(|| self.observer.on_state(state)));
    }

    /// Sends the status when it differs from the last one sent. Best effort: a status that
    /// cannot be read now is sent after a later sync.
    fn emit_status(&mut self) {
        let Ok(status) = self.device.sync_status() else {
            return;
        };
        if self.status.as_ref() == Some(&status) {
            return;
        }
        let _ = catch_unwind(AssertUnwindSafe(|| self.observer.on_status(&status)));
        self.status = Some(status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every state (and status); lets a test wait for one.
    #[derive(Default)]
    struct Recorder {
        states: Mutex<Vec<SyncState>>,
        statuses: Mutex<Vec<SyncStatus>>,
        changed: Condvar,
    }

    impl SyncObserver for Recorder {
        fn on_state(&self, state: &SyncState) {
            self.states.lock().unwrap().push(state.clone());
            self.changed.notify_all();
        }

        fn on_status(&self, status: &SyncStatus) {
            self.statuses.lock().unwrap().push(status.clone());
        }
    }

    impl Recorder {
        /// Waits until `count` states match `pred` (a deadlock guard, not a timing check).
        fn wait_for(&self, count: usize, pred: impl Fn(&SyncState) -> bool) -> Vec<SyncState> {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut states = self.states.lock().unwrap();
            while states.iter().filter(|s| pred(s)).count() < count {
                let left = deadline
                    .checked_duration_since(Instant::now())
                    .unwrap_or_else(|| panic!("states so far: {states:?}"));
                states = self.changed.wait_timeout(states, left).unwrap().0;
            }
            states.clone()
        }
    }

    fn quick() -> SyncSchedule {
        SyncSchedule {
            interval: None,
            min_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(20),
        }
    }

    #[test]
    fn not_logged_in_fails_once_and_waits_for_the_app() {
        let dir = tempfile::tempdir().unwrap();
        let device = Arc::new(Device::open(dir.path()).unwrap());
        let recorder = Arc::new(Recorder::default());
        let sync = BackgroundSync::start(device, quick(), recorder.clone());
        sync.sync_now();
        let states = recorder.wait_for(1, |s| matches!(s, SyncState::Failed { .. }));
        sync.stop();
        let mut states_after = recorder.states.lock().unwrap().clone();
        assert_eq!(states_after.pop(), Some(SyncState::Stopped));
        // Not retried: nothing happened between the failure and the stop.
        assert_eq!(states_after, states);
        assert_eq!(
            states,
            vec![
                SyncState::Idle,
                SyncState::Syncing,
                SyncState::Failed {
                    reason: "not_logged_in".into(),
                    message: DeviceError::NotLoggedIn.to_string(),
                    retry_in: None,
                }
            ]
        );
    }

    #[test]
    fn the_status_is_pushed_at_start_and_when_a_sync_changed_it() {
        let dir = tempfile::tempdir().unwrap();
        let device = Arc::new(Device::open(dir.path()).unwrap());
        let recorder = Arc::new(Recorder::default());
        let sync = BackgroundSync::start(device, quick(), recorder.clone());
        sync.sync_now();
        recorder.wait_for(1, |s| matches!(s, SyncState::Failed { .. }));
        // Stopping waits for the thread, which sends the status right after the failure.
        sync.stop();
        let statuses = recorder.statuses.lock().unwrap().clone();
        assert_eq!(statuses.len(), 2, "{statuses:?}");
        assert_eq!(statuses[0].last_failure, None);
        let failure = statuses[1].last_failure.as_ref().expect("the failure");
        assert_eq!(failure.reason, "not_logged_in");
    }

    #[test]
    fn the_observer_may_stop_the_sync_from_the_sync_thread() {
        /// Stops the background sync it is handed on the first failure.
        #[derive(Default)]
        struct StopOnFailure {
            sync: Mutex<Option<BackgroundSync>>,
            recorder: Recorder,
        }
        impl SyncObserver for StopOnFailure {
            fn on_state(&self, state: &SyncState) {
                self.recorder.on_state(state);
                if matches!(state, SyncState::Failed { .. }) {
                    if let Some(sync) = self.sync.lock().unwrap().take() {
                        sync.stop();
                    }
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let device = Arc::new(Device::open(dir.path()).unwrap());
        let observer = Arc::new(StopOnFailure::default());
        let sync = BackgroundSync::start(device, quick(), observer.clone());
        *observer.sync.lock().unwrap() = Some(sync);
        if let Some(sync) = observer.sync.lock().unwrap().as_ref() {
            sync.sync_now();
        }
        let states = observer.recorder.wait_for(1, |s| *s == SyncState::Stopped);
        assert!(matches!(
            states.as_slice(),
            [
                SyncState::Idle,
                SyncState::Syncing,
                SyncState::Failed { .. },
                SyncState::Stopped
            ]
        ));
    }

    #[test]
    fn an_unreachable_server_is_retried_with_backoff_until_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let device = Arc::new(Device::open(dir.path()).unwrap());
        {
            // A session with a server at an address where nothing listens.
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            drop(listener);
            let conn = device.database().lock();
            crate::store::meta_set(&conn, crate::store::keys::SERVER_URL, &url).unwrap();
            crate::store::meta_set(&conn, crate::store::keys::ACCESS_TOKEN, "t").unwrap();
        }
        let recorder = Arc::new(Recorder::default());
        let sync = BackgroundSync::start(device, quick(), recorder.clone());
        sync.sync_now();
        // Retried by itself, without another sync_now.
        let states = recorder.wait_for(3, |s| matches!(s, SyncState::Offline { .. }));
        sync.stop();
        let offline: Vec<Duration> = states
            .iter()
            .filter_map(|s| match s {
                SyncState::Offline { retry_in, .. } => Some(*retry_in),
                _ => None,
            })
            .collect();
        assert!(offline
            .iter()
            .all(|d| *d >= Duration::from_millis(1) && *d <= Duration::from_millis(20)));
        assert_eq!(
            recorder.states.lock().unwrap().last(),
            Some(&SyncState::Stopped)
        );
    }
}
