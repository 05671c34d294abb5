//! PostgreSQL restarted under traffic. The server runs on a PostgreSQL cluster of this test's
//! own (`scripts/with-postgres.sh --start`; stopping the shared one would break the tests
//! running beside it). While PostgreSQL is down the server answers 503 with `Retry-After`
//! within a few seconds (not 500, not a hang); devices keep their work; once PostgreSQL is
//! back the same server process serves again by itself and everything converges.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fieldsync_client::{AuditInput, Device, DeviceError, GeoFix};
use fieldsync_e2e::process::{sync_until_settled, PgCluster, PgDatabase, ServerProcess};
use fieldsync_e2e::{http, TestDevice};
use fieldsync_shared::protocol::{self, SYNC_CONTENT_TYPE};
use fieldsync_shared::{DocId, StoreId, Timestamp, UserId};

use crate::replay::visit_push_request;

/// Longest a request may take to be refused while the database is down.
const REFUSED_WITHIN: Duration = Duration::from_secs(15);
/// Longest the server may take to serve again after the database is back.
const RECOVERED_WITHIN: Duration = Duration::from_secs(30);

fn start_visit(device: &Device, n: usize) -> DocId {
    // NKA stores: covered by both the rep and the merchandiser (read scopes), so the
    // merchandiser receives every visit.
    let stores: Vec<_> = (device.stores().expect("stores").into_iter())
        .filter(|s| s.code.as_str().starts_with("NKA-"))
        .collect();
    let store = &stores[n % stores.len()];
    let visit = device
        .start_visit(store.id, Timestamp::now().utc_date())
        .expect("start visit");
    device
        .check_in(
            visit,
            GeoFix {
                lat: store.location.lat(),
                lon: store.location.lon(),
                accuracy_m: 5.0,
                mocked: false,
            },
            Timestamp::now(),
        )
        .expect("check in");
    visit
}

fn audit(device: &Device, visit: DocId, location: &str) {
    let products = device.products().expect("products");
    device
        .record_audit_line(
            visit,
            AuditInput {
                sku: products[0].sku.to_string(),
                location: location.to_string(),
                facings: 2,
                on_shelf: true,
                shelf_price: None,
                oldest_production_date: None,
            },
        )
        .expect("audit line");
}

/// Sync errors a device may see while the database is down; anything else is a failure.
fn is_retryable(e: &DeviceError) -> bool {
    matches!(
        e,
        DeviceError::Offline(_) | DeviceError::Server { status: 503, .. }
    )
}

#[test]
fn postgres_restart_under_traffic_is_answered_with_503_and_recovered_from() {
    let cluster = PgCluster::start();
    let db = PgDatabase::create_on(&cluster.admin_url);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(
        &[
            ("DATABASE_URL", db.url()),
            ("FIELDSYNC_DB_ACQUIRE_TIMEOUT_MS", "2000"),
            ("FIELDSYNC_DB_STATEMENT_TIMEOUT_MS", "5000"),
        ],
        dir.path(),
    );
    let rep = TestDevice::login_via(&server.url, "rep1");
    let merch = TestDevice::login_via(&server.url, "merch1");
    let device = server.device_token("rep1");
    let token = device.token.clone();
    let me = UserId::parse(
        server.get_json(&token, "/v1/me")["id"]
            .as_str()
            .expect("id"),
    )
    .expect("user id");
    let store = StoreId::parse(
        server.get_json(&token, "/v1/master?since=0")["stores"][0]["id"]
            .as_str()
            .expect("store id"),
    )
    .expect("store id");

    // Traffic: the rep edits and syncs continuously, through the outage.
    let stop = AtomicBool::new(false);
    let unexpected: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let visits: Mutex<Vec<DocId>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let visit = start_visit(&rep, n);
                audit(&rep, visit, &format!("SHELF-{n}"));
                visits.lock().unwrap().push(visit);
                if let Err(e) = rep.sync() {
                    if !is_retryable(&e) {
                        unexpected.lock().unwrap().push(format!("{e:?}"));
                    }
                }
                n += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
        });

        // Some traffic with the database up; the merchandiser receives the rep's visits.
        let deadline = Instant::now() + Duration::from_secs(10);
        while merch.document_ids(None).expect("docs").is_empty() {
            assert!(
                Instant::now() < deadline,
                "the rep's visits never reached merch"
            );
            std::thread::sleep(Duration::from_millis(100));
            sync_until_settled(&merch, Duration::from_secs(10));
        }

        cluster.stop();

        // A push now: 503 with Retry-After, quickly.
        let (_, req) = visit_push_request(&device, store, me);
        let started = Instant::now();
        let mut resp = http()
            .post(&format!("{}/v1/sync", server.url))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", SYNC_CONTENT_TYPE)
            .send(&protocol::encode(&req)[..])
            .expect("the server answers while its database is down");
        let elapsed = started.elapsed();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(
            resp.status(),
            503,
            "status while the database is down: {body}"
        );
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        assert!(
            retry_after.is_some_and(|s| s > 0),
            "503 carries Retry-After seconds: {:?}",
            resp.headers()
        );
        assert!(
            elapsed < REFUSED_WITHIN,
            "refused after {elapsed:?}: too slow"
        );
        assert!(body.contains("\"reason\""), "JSON error body: {body}");
        eprintln!("database down: sync answered 503 in {elapsed:?}, Retry-After {retry_after:?}");

        // A device syncing now is told to come back later and keeps its work.
        let visit = merch.document_ids(None).expect("docs")[0];
        audit(&merch, visit, "MERCH-OUTAGE");
        let started = Instant::now();
        let err = merch.sync().expect_err("sync while the database is down");
        assert!(is_retryable(&err), "device error: {err:?}");
        assert!(started.elapsed() < REFUSED_WITHIN);
        assert!(
            merch
                .visit(visit)
                .expect("visit")
                .audit
                .keys()
                .any(|k| k.contains("MERCH-OUTAGE")),
            "the edit is kept on the device"
        );
        assert_eq!(merch.pending().expect("pending").documents, 1);
        std::thread::sleep(Duration::from_millis(500));

        // PostgreSQL comes back; the same server process serves again by itself.
        let events_before = server.metric("feed_events_received_total");
        cluster.restart();
        let started = Instant::now();
        sync_until_settled(&merch, RECOVERED_WITHIN);
        assert!(
            started.elapsed() < RECOVERED_WITHIN,
            "recovered after {:?}",
            started.elapsed()
        );
        eprintln!(
            "database back: a device synced after {:?}",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::SeqCst);

        // The feed listener reconnected too: commits are heard again.
        let deadline = Instant::now() + RECOVERED_WITHIN;
        while server.metric("feed_events_received_total") <= events_before {
            assert!(
                Instant::now() < deadline,
                "the feed listener did not reconnect"
            );
            audit(&merch, visit, "MERCH-AFTER");
            sync_until_settled(&merch, RECOVERED_WITHIN);
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(server.metric("feed_listener_retries_total") > 0.0);
    });
    assert!(
        unexpected.lock().unwrap().is_empty(),
        "errors other than offline/503 during the outage: {:?}",
        unexpected.lock().unwrap()
    );

    // Everything converges: both devices settle, and a fresh device gets every visit with the
    // same history as its author's.
    for _ in 0..2 {
        sync_until_settled(&rep, Duration::from_secs(30));
        sync_until_settled(&merch, Duration::from_secs(30));
    }
    let fresh = TestDevice::login_via(&server.url, "sup1");
    let visits = visits.into_inner().unwrap();
    assert!(visits.len() > 3, "traffic ran: {} visits", visits.len());
    for visit in visits {
        assert_eq!(
            fresh
                .document_heads(visit)
                .expect("fresh device has the visit"),
            rep.document_heads(visit).expect("heads"),
            "visit {visit}"
        );
        assert_eq!(
            merch.document_heads(visit).expect("merch has the visit"),
            rep.document_heads(visit).expect("heads"),
        );
    }
    drop(server);
}
