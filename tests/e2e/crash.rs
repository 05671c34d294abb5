//! Crash safety: the real `fieldsync-server` binary is killed with SIGKILL (no shutdown, no
//! flushing) right after it answered a sync, and in the middle of syncs. After a restart every
//! acknowledged change is there and a device converges by simply syncing again. Compaction,
//! running in the background while several devices push to one document, loses nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fieldsync_client::{AuditInput, Device, DocKind, GeoFix};
use fieldsync_e2e::process::{sync_until_settled, Backend, Engine, ServerProcess};
use fieldsync_e2e::TestDevice;
use fieldsync_shared::{Date, DocId, Timestamp};

fn today() -> Date {
    Timestamp::now().utc_date()
}

/// A day of work on `device`: `visits` visits, each checked in with `lines` audit lines and a
/// note. Returns the visit ids.
fn work(device: &Device, visits: usize, lines: usize, tag: &str) -> Vec<DocId> {
    let stores = device.stores().expect("stores");
    let products = device.products().expect("products");
    (0..visits)
        .map(|i| {
            let store = &stores[i % stores.len()];
            let visit = device.start_visit(store.id, today()).expect("start visit");
            let fix = GeoFix {
                lat: store.location.lat(),
                lon: store.location.lon(),
                accuracy_m: 5.0,
                mocked: false,
            };
            device
                .check_in(visit, fix, Timestamp::now())
                .expect("check in");
            for j in 0..lines {
                device
                    .record_audit_line(
                        visit,
                        AuditInput {
                            sku: products[j % products.len()].sku.to_string(),
                            location: format!("SHELF-{j}"),
                            facings: j as u32,
                            on_shelf: true,
                            shelf_price: None,
                            oldest_production_date: None,
                        },
                    )
                    .expect("audit line");
            }
            device
                .append_note(visit, &format!("{tag} visit {i}: shelves audited."))
                .expect("note");
            visit
        })
        .collect()
}

/// Heads of every document on `device`.
fn heads(device: &Device) -> BTreeMap<DocId, Vec<automerge::ChangeHash>> {
    device
        .document_ids(None)
        .expect("document ids")
        .into_iter()
        .map(|id| {
            let mut h = device.document_heads(id).expect("heads");
            h.sort();
            (id, h)
        })
        .collect()
}

/// Every replica agrees: a device that logs in from scratch receives exactly the documents of
/// `device`, with the same heads, and the server lists each visit once.
fn assert_server_has_everything(server: &ServerProcess, device: &Device) {
    let fresh = TestDevice::login_via(&server.url, "rep1");
    let expected = heads(device);
    assert_eq!(
        heads(&fresh),
        expected,
        "a fresh device holds exactly the original device's documents and histories"
    );
    let token = server.token("rep1");
    let visits = device.document_ids(Some(DocKind::Visit)).expect("visits");
    let listed = server.get_json(&token, "/v1/visits?limit=500");
    let items = listed["items"]
        .as_array()
        .unwrap_or_else(|| panic!("visit list shape: {listed}"));
    assert_eq!(
        items.len(),
        visits.len(),
        "the server lists each visit exactly once"
    );
    for id in visits {
        let served = server.get_json(&token, &format!("/v1/visits/{id}"));
        let served: fieldsync_client::Visit =
            serde_json::from_value(served["document"].clone()).expect("visit JSON");
        assert_eq!(served, device.visit(id).expect("visit"), "visit {id}");
    }
}

fn killed_right_after_the_response(engine: Engine) {
    let backend = Backend::new(engine);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start(&backend.env(&[]), dir.path());
    let rep = TestDevice::login_via(&server.url, "rep1");

    work(&rep, 3, 4, "acked");
    let report = rep.sync().expect("sync");
    assert_eq!(report.docs_pushed, 3, "{report:?}");
    // The response is in: every change of the three visits is acknowledged. Now the crash.
    server.kill9();
    server.restart();

    assert_server_has_everything(&server, &rep);
    let again = rep.sync().expect("sync after the restart");
    assert_eq!(
        (again.docs_pushed, again.changes_pushed),
        (0, 0),
        "the server acknowledged everything already: nothing to push again ({again:?})"
    );
}

#[test]
fn acknowledged_changes_survive_sigkill_right_after_the_response_sqlite() {
    killed_right_after_the_response(Engine::Sqlite);
}

#[test]
fn acknowledged_changes_survive_sigkill_right_after_the_response_postgres() {
    killed_right_after_the_response(Engine::Postgres);
}

/// When to kill, as fractions of the time an undisturbed sync of the same backlog takes: from
/// "before the push arrives" through "while it is merged and committed" to "after the commit,
/// before the device has the response".
const KILL_AT: [f64; 5] = [0.15, 0.35, 0.55, 0.75, 0.95];
/// Visits (with 8 audit lines and a note each) of one backlog.
const BACKLOG_VISITS: usize = 12;

fn killed_in_the_middle_of_syncs(engine: Engine) {
    let backend = Backend::new(engine);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start(&backend.env(&[]), dir.path());
    let rep = TestDevice::login_via(&server.url, "rep1");

    // How long an undisturbed sync of such a backlog takes here.
    work(&rep, BACKLOG_VISITS, 8, "calibration");
    let started = Instant::now();
    rep.sync().expect("undisturbed sync");
    let sync_time = started.elapsed();

    let mut interrupted = 0;
    for (round, fraction) in KILL_AT.into_iter().enumerate() {
        // A fresh backlog each round, so that every kill lands in a push with work to do.
        let backlog = work(&rep, BACKLOG_VISITS, 8, &format!("round {round}"));
        let delay = sync_time.mul_f64(fraction);
        let outcome = std::thread::scope(|s| {
            let syncing = s.spawn(|| rep.sync());
            std::thread::sleep(delay);
            server.kill9();
            syncing.join().expect("sync thread")
        });
        server.restart();

        // Before the device syncs again: the backlog went in one transaction, so the server
        // has all of it (committed, maybe unanswered) or none of it.
        let fresh = TestDevice::login_via(&server.url, "rep1");
        let stored = backlog
            .iter()
            .filter(|id| fresh.document_heads(**id).is_ok())
            .count();
        eprintln!(
            "{engine:?}: killed {delay:?} into a sync (undisturbed: {sync_time:?}): device {}, \
             server had {stored}/{BACKLOG_VISITS} of its visits",
            match &outcome {
                Ok(_) => "had its response".to_string(),
                Err(e) => format!("failed ({})", e.reason()),
            }
        );
        assert!(
            stored == 0 || stored == BACKLOG_VISITS,
            "a push is all or nothing, even when killed: {stored}/{BACKLOG_VISITS}"
        );
        if outcome.is_ok() {
            assert_eq!(stored, BACKLOG_VISITS, "acknowledged, so stored");
        } else {
            interrupted += 1;
        }

        // The device just syncs again; whatever the server committed before dying is not
        // stored twice, whatever it did not is pushed again.
        sync_until_settled(&rep, Duration::from_secs(30));
        assert_server_has_everything(&server, &rep);
    }
    assert!(
        interrupted > 0,
        "no kill interrupted a sync: the backlog is too small to test anything"
    );
    let again = rep.sync().expect("final sync");
    assert_eq!((again.docs_pushed, again.changes_pushed), (0, 0));
}

#[test]
fn sigkill_in_the_middle_of_syncs_loses_nothing_sqlite() {
    killed_in_the_middle_of_syncs(Engine::Sqlite);
}

#[test]
fn sigkill_in_the_middle_of_syncs_loses_nothing_postgres() {
    killed_in_the_middle_of_syncs(Engine::Postgres);
}

/// Several devices push to one visit at the same time until it crosses the compaction
/// threshold many times over; compaction runs in the background between (and during) their
/// pushes. Every device and a fresh one end with every change.
fn compaction_under_concurrent_syncs(engine: Engine) {
    use fieldsync_server::sync::compaction::AUTO_COMPACT_AFTER_CHANGES;

    let backend = Backend::new(engine);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(&backend.env(&[]), dir.path());
    let rep = TestDevice::login_via(&server.url, "rep1");
    let visit = work(&rep, 1, 0, "compaction")[0];
    rep.sync().expect("rep sync");
    let devices = [
        rep,
        TestDevice::login_via(&server.url, "rep1"), // the rep's second phone
        TestDevice::login_via(&server.url, "merch1"),
    ];
    for d in &devices[1..] {
        assert!(d.visit(visit).is_ok(), "every device has the visit");
    }

    const ROUNDS: usize = 4;
    const EDITS_PER_ROUND: usize = 50;
    let total_edits = devices.len() * ROUNDS * EDITS_PER_ROUND;
    assert!(
        total_edits as u64 > AUTO_COMPACT_AFTER_CHANGES,
        "enough changes to cross the compaction threshold"
    );
    let products = devices[0].products().expect("products");
    std::thread::scope(|s| {
        for (n, device) in devices.iter().enumerate() {
            let products = &products;
            s.spawn(move || {
                for round in 0..ROUNDS {
                    for e in 0..EDITS_PER_ROUND {
                        if e % 2 == 0 {
                            device
                                .append_note(visit, &format!("d{n} r{round} e{e}. "))
                                .expect("note");
                        } else {
                            device
                                .record_audit_line(
                                    visit,
                                    AuditInput {
                                        sku: products[e % products.len()].sku.to_string(),
                                        location: format!("D{n}-R{round}-E{e}"),
                                        facings: 1,
                                        on_shelf: true,
                                        shelf_price: None,
                                        oldest_production_date: None,
                                    },
                                )
                                .expect("audit line");
                        }
                    }
                    sync_until_settled(device, Duration::from_secs(30));
                }
            });
        }
    });

    // Two passes: the first lets every device push, the second brings them everyone's edits.
    for _ in 0..2 {
        for d in &devices {
            sync_until_settled(d, Duration::from_secs(30));
        }
    }
    let expected = devices[0].document_heads(visit).expect("heads");
    for d in &devices[1..] {
        assert_eq!(d.document_heads(visit).expect("heads"), expected);
    }
    let merged = devices[0].visit(visit).expect("visit");
    assert_eq!(
        merged.audit.len(),
        devices.len() * ROUNDS * EDITS_PER_ROUND / 2,
        "every audit line of every device"
    );
    for n in 0..devices.len() {
        for round in 0..ROUNDS {
            for e in (0..EDITS_PER_ROUND).step_by(2) {
                let note = format!("d{n} r{round} e{e}. ");
                assert!(merged.notes_text().contains(&note), "note {note:?} lost");
            }
        }
    }
    let fresh = TestDevice::login_via(&server.url, "sup1");
    assert_eq!(fresh.document_heads(visit).expect("heads"), expected);
    assert!(
        wait_for_log(&server, "Compacted", Duration::from_secs(10)),
        "compaction ran (server log):\n{}",
        server.log()
    );
}

fn wait_for_log(server: &ServerProcess, needle: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if server.log().contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn compaction_under_concurrent_syncs_loses_nothing_sqlite() {
    compaction_under_concurrent_syncs(Engine::Sqlite);
}

#[test]
fn compaction_under_concurrent_syncs_loses_nothing_postgres() {
    compaction_under_concurrent_syncs(Engine::Postgres);
}
