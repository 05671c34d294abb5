//! Background sync: one thread per [`BackgroundSync`] that runs [`Device::sync`] when asked
//! ([`BackgroundSync::sync_now`]) and on a schedule, and retries failures with capped
//! exponential backoff and full jitter. Every state change goes to a [`SyncObserver`].
//!
//! The thread only calls `Device::sync`, which holds the device's connection for short
//! sections and never across network I/O, so the app keeps reading and writing while a sync
//! is in flight. What a failed attempt leaves behind is always safe to retry (see `sync.rs`).
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

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::device::Device;
use crate::error::DeviceError;
use crate::sync::SyncReport;

/// Receives every state change of the background sync, on the sync thread. Must not block long.
pub trait SyncObserver: Send + Sync + 'static {
    fn on_state(&self, state: &SyncState);
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
}

/// What the app asks of the sync thread.
#[derive(Default)]
struct Requests {
    /// A sync is wanted as soon as possible (several calls coalesce into one).
    sync_now: bool,
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
}

impl BackgroundSync {
    /// Starts the sync thread. With a scheduled `interval` the first sync runs at once; with
    /// none, the thread waits for [`BackgroundSync::sync_now`].
    pub fn start(
        device: Arc<Device>,
        schedule: SyncSchedule,
        observer: Arc<dyn SyncObserver>,
    ) -> BackgroundSync {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Requests {
                sync_now: schedule.interval.is_some(),
                stop: false,
            }),
            wake: Condvar::new(),
        });
        let worker = Worker {
            device,
            schedule,
            observer,
            shared: shared.clone(),
            backoff: Backoff::new(schedule, seed()),
        };
        let thread = std::thread::Builder::new()
            .name("fieldsync-sync".into())
            .spawn(move || worker.run())
            .expect("spawning the background sync thread");
        BackgroundSync {
            shared,
            thread: Some(thread),
        }
    }

    /// Ask for a sync as soon as possible (coalesced with one already queued; resets backoff).
    pub fn sync_now(&self) {
        self.shared.requests().sync_now = true;
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
}

/// How a failed sync is retried.
#[derive(Debug, PartialEq)]
enum Retry {
    /// The server could not be reached: retry with backoff.
    Offline(String),
    /// It may pass (server overloaded or down, local storage hiccup): retry with backoff.
    Backoff,
    /// Retrying cannot help until the user acts: wait for sync_now.
    UserMustAct,
}

fn retry_kind(e: &DeviceError) -> Retry {
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

// ---------------------------------------------------------------------------------------------
// backoff

/// Capped exponential backoff with full jitter: the n-th consecutive failure waits a uniformly
/// random time in `[min, min(max, min * 2^n)]`, so phones that lost the network together do
/// not come back together. Reset by a success or by sync_now.
#[derive(Debug, Clone)]
struct Backoff {
    min: Duration,
    max: Duration,
    /// Consecutive failures so far.
    failures: u32,
    rng: XorShift64,
}

impl Backoff {
    fn new(schedule: SyncSchedule, seed: u64) -> Backoff {
        Backoff {
            min: schedule.min_backoff,
            max: schedule.max_backoff.max(schedule.min_backoff),
            failures: 0,
            rng: XorShift64::new(seed),
        }
    }

    /// The delay before retrying after one more failure.
    fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let ceiling = backoff_ceiling(self.min, self.max, self.failures);
        full_jitter(self.min, ceiling, self.rng.next_u64())
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

/// `min * 2^failures`, capped at `max`.
fn backoff_ceiling(min: Duration, max: Duration, failures: u32) -> Duration {
    let doublings = failures.min(64);
    let factor = 1u128 << doublings;
    let nanos = min.as_nanos().saturating_mul(factor);
    if nanos >= max.as_nanos() {
        max
    } else {
        // Below max, which is a Duration: it fits.
        Duration::from_nanos(nanos as u64)
    }
}

/// A uniformly distributed delay in `[min, ceiling]` drawn from `random`.
fn full_jitter(min: Duration, ceiling: Duration, random: u64) -> Duration {
    let span = ceiling.saturating_sub(min).as_nanos();
    if span == 0 {
        return min;
    }
    let offset = u128::from(random) % (span + 1);
    // offset <= span, and min + span = ceiling fits in a Duration.
    min + Duration::from_nanos(offset as u64)
}

/// xorshift64*: enough randomness for spreading retries, no dependency.
#[derive(Debug, Clone)]
struct XorShift64(u64);

impl XorShift64 {
    fn new(seed: u64) -> XorShift64 {
        // Zero is the one state xorshift never leaves.
        XorShift64(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A seed that differs per phone and per start.
fn seed() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        // No OS randomness: the clock still tells phones apart well enough for jitter.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(2);
    const MAX: Duration = Duration::from_secs(300);

    fn backoff(seed: u64) -> Backoff {
        Backoff::new(
            SyncSchedule {
                interval: None,
                min_backoff: MIN,
                max_backoff: MAX,
            },
            seed,
        )
    }

    #[test]
    fn the_ceiling_doubles_from_min_and_stops_at_max() {
        let ceilings: Vec<u64> = (1..=9)
            .map(|n| backoff_ceiling(MIN, MAX, n).as_secs())
            .collect();
        assert_eq!(ceilings, vec![4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff_ceiling(MIN, MAX, u32::MAX), MAX);
        assert_eq!(backoff_ceiling(MIN, MAX, 0), MIN);
    }

    #[test]
    fn jitter_stays_within_min_and_the_ceiling() {
        let ceiling = Duration::from_secs(64);
        assert_eq!(full_jitter(MIN, ceiling, 0), MIN);
        let span = (ceiling - MIN).as_nanos() as u64;
        assert_eq!(full_jitter(MIN, ceiling, span), ceiling);
        assert_eq!(full_jitter(MIN, ceiling, span + 1), MIN);
        assert_eq!(full_jitter(MIN, MIN, 12345), MIN);
        let mut rng = XorShift64::new(7);
        for _ in 0..10_000 {
            let d = full_jitter(MIN, ceiling, rng.next_u64());
            assert!(d >= MIN && d <= ceiling, "{d:?}");
        }
    }

    #[test]
    fn delays_grow_are_capped_and_reset_after_success() {
        let mut b = backoff(42);
        let mut delays = Vec::new();
        for n in 1..=12u32 {
            let d = b.next_delay();
            assert!(d >= MIN && d <= backoff_ceiling(MIN, MAX, n), "{n}: {d:?}");
            assert!(d <= MAX);
            delays.push(d);
        }
        assert!(
            delays.iter().any(|d| *d > Duration::from_secs(64)),
            "{delays:?}"
        );
        // Growth: over many phones, the 8th retry waits far longer than the first.
        let mean = |nth: usize| {
            (1..=200u64)
                .map(|seed| {
                    let mut b = backoff(seed);
                    (0..nth).map(|_| b.next_delay()).last().unwrap()
                })
                .sum::<Duration>()
                / 200
        };
        let (first, eighth) = (mean(1), mean(8));
        assert!(first <= Duration::from_secs(4), "{first:?}");
        assert!(eighth > 10 * first, "{first:?} {eighth:?}");
        b.reset();
        let d = b.next_delay();
        assert!(
            d <= 2 * MIN,
            "after a success the first retry is quick again: {d:?}"
        );
    }

    #[test]
    fn jitter_spreads_devices_apart() {
        // Ten phones that failed five times each do not all retry at the same moment.
        let delays: std::collections::BTreeSet<Duration> = (1..=10u64)
            .map(|seed| {
                let mut b = backoff(seed);
                (0..4).for_each(|_| {
                    b.next_delay();
                });
                b.next_delay()
            })
            .collect();
        assert!(delays.len() >= 8, "{delays:?}");
        // Deterministic for a seed.
        let (mut a, mut b) = (backoff(9), backoff(9));
        assert_eq!(
            (0..5).map(|_| a.next_delay()).collect::<Vec<_>>(),
            (0..5).map(|_| b.next_delay()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_max_below_min_is_min() {
        let mut b = Backoff::new(
            SyncSchedule {
                interval: None,
                min_backoff: Duration::from_secs(10),
                max_backoff: Duration::from_secs(1),
            },
            3,
        );
        for _ in 0..5 {
            assert_eq!(b.next_delay(), Duration::from_secs(10));
        }
    }

    /// Records every state; lets a test wait for one.
    #[derive(Default)]
    struct Recorder {
        states: Mutex<Vec<SyncState>>,
        changed: Condvar,
    }

    impl SyncObserver for Recorder {
        fn on_state(&self, state: &SyncState) {
            self.states.lock().unwrap().push(state.clone());
            self.changed.notify_all();
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
