//! Two server instances (real `fieldsync-server` processes) on one PostgreSQL database and one
//! blob location. A rep and a merchandiser move between the instances during the day (a proxy
//! in front of each phone picks the instance, as a load balancer would), editing the same visit
//! at the same time, and every replica converges: both devices, both instances' query API, and
//! a supervisor's fresh device. Instance B hears of A's commits through PostgreSQL
//! (LISTEN/NOTIFY, `server::feed_events`).
//!
//! Blobs: the S3 bucket of `FIELDSYNC_TEST_S3_*` (under a fresh key prefix) when that is set
//! (`scripts/with-garage.sh`), otherwise one local folder shared by both instances.

use std::time::{Duration, Instant};

use fieldsync_client::{AuditInput, GeoFix, VisitStep};
use fieldsync_e2e::process::{sync_until_settled, PgDatabase, ServerProcess, SwitchProxy};
use fieldsync_e2e::{http, photo_file, TestDevice};
use fieldsync_shared::visit::Visit;
use fieldsync_shared::{DocId, Timestamp};

const A: usize = 0;
const B: usize = 1;

/// `FIELDSYNC_S3_*` settings for the servers from `FIELDSYNC_TEST_S3_*`, if the test bucket
/// is configured.
fn s3_env() -> Option<Vec<(String, String)>> {
    let get = |k: &str| std::env::var(format!("FIELDSYNC_TEST_S3_{k}")).ok();
    let bucket = get("BUCKET").filter(|b| !b.is_empty())?;
    let mut env = vec![
        ("FIELDSYNC_S3_BUCKET".to_string(), bucket),
        (
            "FIELDSYNC_S3_PREFIX".to_string(),
            format!("instances-{}/", DocId::new_random()),
        ),
        ("FIELDSYNC_S3_PATH_STYLE".to_string(), "true".to_string()),
    ];
    for k in ["ENDPOINT", "REGION", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY"] {
        if let Some(v) = get(k) {
            env.push((format!("FIELDSYNC_S3_{k}"), v));
        }
    }
    Some(env)
}

fn line(sku: &str, location: &str, facings: u32) -> AuditInput {
    AuditInput {
        sku: sku.to_string(),
        location: location.to_string(),
        facings,
        on_shelf: true,
        shelf_price: None,
        oldest_production_date: None,
    }
}

/// Waits until `f` holds (feed events travel asynchronously).
fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Regular files called `name` under `dir` (symbolic links are not followed).
fn files_named(dir: &std::path::Path, name: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => files_named(&e.path(), name),
            Ok(t) if t.is_file() && e.file_name() == name => 1,
            _ => 0,
        })
        .sum()
}

fn served_visit(server: &ServerProcess, token: &str, visit: DocId) -> Visit {
    let served = server.get_json(token, &format!("/v1/visits/{visit}"));
    serde_json::from_value(served["document"].clone()).expect("visit JSON")
}

#[test]
fn devices_alternating_between_two_instances_converge() {
    let db = PgDatabase::create();
    let root = tempfile::tempdir().expect("temp dir");
    let (dir_a, dir_b) = (root.path().join("a"), root.path().join("b"));
    let s3 = s3_env();
    let mut env: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), db.url().to_string()),
        // One signing key: a token from one instance is good on the other.
        ("FIELDSYNC_JWT_SECRET".into(), "k".repeat(48)),
    ];
    match &s3 {
        Some(s3) => env.extend(s3.iter().cloned()),
        None => {
            // One blob location: each data directory's `blobs` is the same folder.
            let shared = root.path().join("shared-blobs");
            for dir in [&dir_a, &dir_b] {
                std::fs::create_dir_all(dir).expect("data dir");
                std::fs::create_dir_all(&shared).expect("blob dir");
                std::os::unix::fs::symlink(&shared, dir.join("blobs")).expect("symlink blobs");
            }
        }
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let a = ServerProcess::start(&env, &dir_a);
    let b = ServerProcess::start(&env, &dir_b);
    let instances = [&a, &b];

    // Each phone reaches "the service" through its own balancer.
    let rep_lb = SwitchProxy::start(&[&a.url, &b.url]);
    let merch_lb = SwitchProxy::start(&[&a.url, &b.url]);
    let rep = TestDevice::login_via(&rep_lb.url, "rep1");
    let merch = TestDevice::login_via(&merch_lb.url, "merch1");
    let store = rep
        .stores()
        .expect("stores")
        .into_iter()
        .next()
        .expect("store");
    let products = rep.products().expect("products");
    let sku = |i: usize| products[i % products.len()].sku.to_string();

    // Morning, on A: the rep starts the visit. B hears of the commit through PostgreSQL.
    let events_on_b = b.metric("feed_events_received_total");
    let visit = rep
        .start_visit(store.id, Timestamp::now().utc_date())
        .expect("start visit");
    rep.check_in(
        visit,
        GeoFix {
            lat: store.location.lat(),
            lon: store.location.lon(),
            accuracy_m: 6.0,
            mocked: false,
        },
        Timestamp::now(),
    )
    .expect("check in");
    rep_lb.select(A);
    rep.sync().expect("rep syncs with A");
    assert!(
        eventually(Duration::from_secs(10), || b
            .metric("feed_events_received_total")
            > events_on_b),
        "instance B received no feed event for A's commit"
    );

    // The merchandiser's phone talks to B and gets the visit A stored.
    merch_lb.select(B);
    merch.sync().expect("merch syncs with B");
    assert_eq!(merch.visit(visit).expect("merch has the visit").id, visit);
    let photo = merch
        .attach_photo(
            visit,
            &photo_file(merch.dir.path(), "shelf.jpg", 11),
            Some(VisitStep::StoreCheck),
        )
        .expect("photo");

    // During the day both edit the visit offline and sync at the same moment, each through a
    // different instance, and swap instances every round.
    const ROUNDS: usize = 4;
    for round in 0..ROUNDS {
        rep.record_audit_line(visit, line(&sku(round), &format!("REP-{round}"), 3))
            .expect("rep audit");
        rep.append_note(visit, &format!("rep round {round}. "))
            .expect("rep note");
        merch
            .record_audit_line(visit, line(&sku(round + 1), &format!("MERCH-{round}"), 5))
            .expect("merch audit");
        merch
            .append_note(visit, &format!("merch round {round}. "))
            .expect("merch note");
        rep_lb.select(round % 2);
        merch_lb.select((round + 1) % 2);
        std::thread::scope(|s| {
            s.spawn(|| sync_until_settled(&rep, Duration::from_secs(30)));
            s.spawn(|| sync_until_settled(&merch, Duration::from_secs(30)));
        });
    }

    // Evening: one more sync each, through the instance the other used last.
    rep_lb.select(B);
    merch_lb.select(A);
    for device in [&rep, &merch, &rep] {
        sync_until_settled(device, Duration::from_secs(30));
    }

    let on_rep = rep.visit(visit).expect("rep visit");
    assert_eq!(
        rep.document_heads(visit).unwrap(),
        merch.document_heads(visit).unwrap(),
        "both devices hold the same history"
    );
    assert_eq!(on_rep, merch.visit(visit).expect("merch visit"));
    assert_eq!(on_rep.audit.len(), 2 * ROUNDS, "{:?}", on_rep.audit.keys());
    for round in 0..ROUNDS {
        for who in ["rep", "merch"] {
            let note = format!("{who} round {round}. ");
            assert!(on_rep.notes_text().contains(&note), "{note:?} lost");
        }
    }
    assert!(on_rep.photos.contains_key(&photo.to_hex()));

    // Both instances serve the same visit, equal to the devices'; the photo uploaded through
    // B is downloadable through A (one blob location).
    for (name, server) in ["A", "B"].into_iter().zip(instances) {
        let token = server.token("sup1");
        assert_eq!(
            served_visit(server, &token, visit),
            on_rep,
            "instance {name} serves the converged visit"
        );
        let resp = http()
            .get(&format!("{}/v1/photos/{}", server.url, photo.to_hex()))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("photo GET");
        assert_eq!(resp.status(), 200, "photo through instance {name}");
    }

    // The bytes are where the configuration says: in the bucket, or once in the shared folder.
    let local_copies = files_named(root.path(), &photo.to_hex());
    match &s3 {
        Some(_) => assert_eq!(local_copies, 0, "S3 mode: no photo bytes on local disk"),
        None => assert_eq!(local_copies, 1, "one copy in the shared blob folder"),
    }
    eprintln!(
        "blob store: {}",
        if s3.is_some() {
            "S3 bucket"
        } else {
            "shared local folder"
        }
    );

    // A supervisor's new phone, on A, receives the identical history.
    let sup = TestDevice::login_via(&a.url, "sup1");
    assert_eq!(
        sup.document_heads(visit).unwrap(),
        rep.document_heads(visit).unwrap()
    );

    // Each instance heard every commit, its own and the other's (at least one per round per
    // device that pushed something, plus the morning's).
    for (name, server) in ["A", "B"].into_iter().zip(instances) {
        let events = server.metric("feed_events_received_total");
        assert!(
            events >= (1 + ROUNDS) as f64,
            "instance {name} received only {events} feed events"
        );
    }
    assert!(
        eventually(Duration::from_secs(10), || a
            .metric("feed_events_received_total")
            == b.metric("feed_events_received_total")),
        "both instances receive the same feed events"
    );
}

/// On SQLite (one instance, no LISTEN/NOTIFY) the sync handler publishes its own commits on
/// the feed event channel, where live push will subscribe.
#[test]
fn a_single_sqlite_instance_publishes_its_own_commits() {
    use fieldsync_server::config::Config;
    use fieldsync_server::feed_events::FeedSource;
    use fieldsync_server::startup::Application;

    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests(dir.path());
    config.demo = true;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (url, mut events) = rt.block_on(async {
        let app = Application::build(config).await.expect("build");
        assert_eq!(app.state().feed_events.source(), FeedSource::Local);
        let events = app.state().feed_events.subscribe();
        let url = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        (url, events)
    });
    let rep = TestDevice::login_via(&url, "rep1");
    let store = rep.stores().expect("stores")[0].id;
    rep.start_visit(store, Timestamp::now().utc_date())
        .expect("visit");
    rep.sync().expect("sync");
    let event = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(5), events.recv()).await })
        .expect("a feed event within 5 s")
        .expect("channel open");
    let tenant = rep
        .profile()
        .expect("profile")
        .expect("signed in")
        .tenant_id;
    assert_eq!(event.tenant, tenant);
    assert!(event.seq > 0);
}
