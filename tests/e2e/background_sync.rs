//! The background sync (`fieldsync_client::BackgroundSync`) against the real server, with a
//! [`FaultProxy`] in between: the app reads and writes while a sync is in flight (the proxy
//! holds the server's answer until the test lets it go), failures are retried with backoff
//! until the server is back, and a rejected session waits for the user.

use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use fieldsync_client::{
    AuditInput, BackgroundSync, Device, PhotoState, SyncObserver, SyncSchedule, SyncState,
};
use fieldsync_e2e::proxy::FaultProxy;
use fieldsync_e2e::{photo_bytes, write_file, TestDevice, TestServer};
use fieldsync_shared::{DocId, Timestamp};

/// Records every state of a background sync; lets the test wait for one.
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
    fn states(&self) -> Vec<SyncState> {
        self.states.lock().unwrap().clone()
    }

    fn count(&self, pred: impl Fn(&SyncState) -> bool) -> usize {
        self.states().iter().filter(|s| pred(s)).count()
    }

    /// Waits until `n` states match `pred`. Panics after two minutes (a hang guard, not a
    /// timing check).
    fn wait_for(&self, n: usize, pred: impl Fn(&SyncState) -> bool) -> Vec<SyncState> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut states = self.states.lock().unwrap();
        while states.iter().filter(|s| pred(s)).count() < n {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                panic!("waited in vain; states so far: {states:?}");
            };
            states = self.changed.wait_timeout(states, left).unwrap().0;
        }
        states.clone()
    }
}

/// Lets every held answer go.
struct ReleaseOnDrop<'a>(&'a FaultProxy);

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.clear_faults();
    }
}

fn synced(s: &SyncState) -> bool {
    matches!(s, SyncState::Synced { .. })
}

/// Retries after 20..200 ms; runs only when asked.
fn quick_retries() -> SyncSchedule {
    SyncSchedule {
        interval: None,
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
    }
}

fn line(location: &str, sku: &str) -> AuditInput {
    AuditInput {
        sku: sku.to_string(),
        location: location.to_string(),
        facings: 2,
        on_shelf: true,
        shelf_price: None,
        oldest_production_date: None,
    }
}

/// merch1's device (logged in through `proxy`, master data synced) with a visit started.
fn device_with_visit(proxy: &FaultProxy) -> (Arc<Device>, tempfile::TempDir, DocId, String) {
    let TestDevice { device, dir } = TestDevice::login_via(&proxy.url, "merch1");
    let store = device.stores().unwrap().remove(0);
    let sku = device.products().unwrap()[0].sku.to_string();
    let visit = device
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    (Arc::new(device), dir, visit, sku)
}

/// The app's own calls on its own thread, while a sync is in flight: records `n` audit lines
/// and attaches a photo, then reads. Panics if they do not return (they would wait for the sync).
fn app_work_meanwhile(
    device: &Arc<Device>,
    dir: &std::path::Path,
    visit: DocId,
    sku: &str,
    phase: &str,
) -> (usize, usize, u32) {
    let (tx, rx) = mpsc::channel();
    let (app, sku, phase, dir) = (
        device.clone(),
        sku.to_string(),
        phase.to_string(),
        dir.to_path_buf(),
    );
    std::thread::spawn(move || {
        for i in 0..3 {
            app.record_audit_line(visit, line(&format!("{phase}-{i}"), &sku))
                .expect("record while syncing");
        }
        let seed = phase.len() as u64;
        let file = write_file(&dir, &format!("{phase}.jpg"), &photo_bytes(2000, seed));
        app.attach_photo(visit, &file, None)
            .expect("attach while syncing");
        let audit = app.visit(visit).expect("read while syncing").audit.len();
        let visits = app.visits().expect("list while syncing").len();
        let photos = app.pending().expect("pending while syncing").photos;
        let _ = tx.send((audit, visits, photos));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the app's reads and writes returned while the sync was in flight")
}

#[test]
fn the_app_reads_and_writes_while_a_sync_is_in_flight() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(&server.url);
    let (device, dir, visit, sku) = device_with_visit(&proxy);
    device
        .record_audit_line(visit, line("BEFORE-SYNC", &sku))
        .unwrap();
    let file = write_file(dir.path(), "before.jpg", &photo_bytes(3000, 1));
    device.attach_photo(visit, &file, None).unwrap();

    // The server's answers to the photo upload and to the document sync wait in the proxy,
    // until the test lets them go: the sync is in flight, on cue.
    proxy.hold_responses(|r| r.is("PUT", "/v1/photos/uploads/") || r.is("POST", "/v1/sync"));
    let recorder = Arc::new(Recorder::default());
    let sync = BackgroundSync::start(device.clone(), quick_retries(), recorder.clone());
    // Dropped before `sync` if the test fails: stopping waits for the sync in flight.
    let _release = ReleaseOnDrop(&proxy);
    sync.sync_now();

    // 1. While the photo is being uploaded.
    proxy.wait_until_held(1);
    assert_eq!(recorder.states().last(), Some(&SyncState::Syncing));
    let (audit, visits, photos) =
        app_work_meanwhile(&device, dir.path(), visit, &sku, "DURING-UPLOAD");
    assert_eq!((audit, visits, photos), (4, 1, 2));
    assert_eq!(proxy.held(), 1, "the answer was still held all along");
    proxy.release_held();

    // 2. While the documents are being synced.
    proxy.wait_until_held(2);
    let (audit, visits, photos) =
        app_work_meanwhile(&device, dir.path(), visit, &sku, "DURING-DOCUMENT-SYNC");
    assert_eq!((audit, visits), (7, 1));
    assert!(photos >= 1, "the photos attached meanwhile wait: {photos}");
    assert_eq!(proxy.held(), 1, "the answer was still held all along");
    assert_eq!(recorder.count(synced), 0);

    // The answers go through: the sync finishes; what was done meanwhile follows.
    proxy.clear_faults();
    recorder.wait_for(1, synced);
    sync.sync_now();
    let states = recorder.wait_for(2, synced);
    sync.stop();
    assert!(device.pending().unwrap().is_empty(), "{states:?}");
    assert_eq!(recorder.states().last(), Some(&SyncState::Stopped));

    let fresh = TestDevice::login(&server, "merch1");
    let served = fresh.visit(visit).unwrap();
    assert_eq!(served, device.visit(visit).unwrap());
    assert_eq!(
        fresh.document_heads(visit).unwrap(),
        device.document_heads(visit).unwrap()
    );
    assert_eq!((served.audit.len(), served.photos.len()), (7, 3));
    assert!(device
        .photo_uploads()
        .unwrap()
        .iter()
        .all(|p| p.state == PhotoState::Uploaded));
}

#[test]
fn an_unreachable_server_is_retried_until_it_is_back() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(&server.url);
    let (device, _dir, visit, sku) = device_with_visit(&proxy);
    device
        .record_audit_line(visit, line("OFFLINE", &sku))
        .unwrap();

    // Every connection is lost.
    proxy.cut_from(1, |_| true);
    let recorder = Arc::new(Recorder::default());
    let schedule = quick_retries();
    let sync = BackgroundSync::start(device.clone(), schedule, recorder.clone());
    sync.sync_now();
    // Retried by itself, with growing delays between min and max backoff.
    recorder.wait_for(3, |s| matches!(s, SyncState::Offline { .. }));
    proxy.clear_faults();
    let states = recorder.wait_for(1, synced);
    sync.stop();

    let offline: Vec<Duration> = states
        .iter()
        .filter_map(|s| match s {
            SyncState::Offline { retry_in, .. } => Some(*retry_in),
            _ => None,
        })
        .collect();
    assert!(offline.len() >= 3, "{states:?}");
    for d in &offline {
        assert!(
            *d >= schedule.min_backoff && *d <= schedule.max_backoff,
            "{d:?}"
        );
    }
    // Idle, then attempts (Syncing + Offline) until one goes through.
    assert_eq!(states[0], SyncState::Idle);
    let attempts = &states[1..];
    assert!(attempts
        .chunks(2)
        .take(offline.len())
        .all(|pair| pair[0] == SyncState::Syncing && matches!(pair[1], SyncState::Offline { .. })));
    let Some(SyncState::Synced { report }) = states.iter().find(|s| synced(s)) else {
        unreachable!()
    };
    assert_eq!(report.docs_pushed, 1, "{report:?}");
    assert!(device.pending().unwrap().is_empty());
    let token = server.token("merch1");
    let served = server.get_json(&token, &format!("/v1/visits/{visit}"));
    assert!(served.to_string().contains("OFFLINE"), "{served}");
}

#[test]
fn a_server_error_is_retried_and_a_rejected_session_waits_for_the_user() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(&server.url);
    let (device, _dir, visit, sku) = device_with_visit(&proxy);
    device
        .record_audit_line(visit, line("UNAVAILABLE", &sku))
        .unwrap();

    // A gateway in maintenance: 503 on everything, retried with backoff.
    proxy.respond_with(503, |_| true);
    let recorder = Arc::new(Recorder::default());
    let sync = BackgroundSync::start(device.clone(), quick_retries(), recorder.clone());
    sync.sync_now();
    let states = recorder.wait_for(2, |s| matches!(s, SyncState::Failed { .. }));
    for s in states
        .iter()
        .filter(|s| matches!(s, SyncState::Failed { .. }))
    {
        let SyncState::Failed {
            reason, retry_in, ..
        } = s
        else {
            unreachable!()
        };
        assert_eq!(reason, "unavailable");
        assert!(retry_in.is_some(), "{s:?}");
    }
    proxy.clear_faults();
    recorder.wait_for(1, synced);

    // The session is rejected (401 on everything, whatever the token): the sync fails once and
    // is not retried until the app asks again (after the user logged in again).
    proxy.respond_with(401, |_| true);
    device
        .record_audit_line(visit, line("AFTER-LOGIN", &sku))
        .unwrap();
    let before = recorder.states().len();
    sync.sync_now();
    let states = recorder.wait_for(1, |s| matches!(s, SyncState::Failed { retry_in: None, .. }));
    assert!(
        matches!(
            &states[before..],
            [SyncState::Syncing, SyncState::Failed { reason, retry_in: None, .. }]
                if reason == "unauthorized"
        ),
        "{:?}",
        &states[before..]
    );
    // Nothing runs by itself meanwhile (with 20 ms retries, a retry would show up here).
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        recorder.states().len(),
        before + 2,
        "{:?}",
        recorder.states()
    );

    proxy.clear_faults();
    sync.sync_now();
    recorder.wait_for(2, synced);
    sync.stop();
    assert!(device.pending().unwrap().is_empty());
    let token = server.token("merch1");
    let served = server.get_json(&token, &format!("/v1/visits/{visit}"));
    assert!(served.to_string().contains("AFTER-LOGIN"), "{served}");
}

#[test]
fn with_an_interval_it_syncs_at_start_and_then_by_itself() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(&server.url);
    let (device, _dir, visit, sku) = device_with_visit(&proxy);
    let recorder = Arc::new(Recorder::default());
    let schedule = SyncSchedule {
        interval: Some(Duration::from_millis(50)),
        ..quick_retries()
    };
    // No sync_now: the first sync runs at start, the next ones on the schedule.
    let sync = BackgroundSync::start(device.clone(), schedule, recorder.clone());
    recorder.wait_for(1, synced);
    device
        .record_audit_line(visit, line("SCHEDULED", &sku))
        .unwrap();
    // A later scheduled sync pushes it (the first one pushed the new visit).
    let states = recorder.wait_for(
        2,
        |s| matches!(s, SyncState::Synced { report } if report.docs_pushed == 1),
    );
    sync.stop();
    assert_eq!(
        &states[..4],
        &[
            SyncState::Idle,
            SyncState::Syncing,
            states[2].clone(),
            SyncState::Idle
        ]
    );
    assert!(synced(&states[2]));
    assert!(device.pending().unwrap().is_empty());
    let token = server.token("merch1");
    let served = server.get_json(&token, &format!("/v1/visits/{visit}"));
    assert!(served.to_string().contains("SCHEDULED"), "{served}");
}
