//! Two devices on a bad mobile network: a merchandiser recording visits with shelf photos and a
//! rep taking orders, each through a [`FaultProxy`] that delays requests, cuts connections
//! half-way through the request or the answer, and swallows answers after the server processed
//! the request: every kind on cue at least once, then at random from a logged seed
//! (`FIELDSYNC_FLAKY_SEED=<n>` replays one). Each device syncs again until it went through.
//!
//! Afterwards the server holds each visit and order exactly once (no order number twice), each
//! photo once (one row, one stored upload, one object), and every device, like a fresh
//! installation of the same user, holds identical documents.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use fieldsync_client::{AuditInput, Device, DocKind, PaymentMethod, PhotoState};
use fieldsync_e2e::proxy::{Chaos, Fault, FaultProxy, SeenRequest};
use fieldsync_e2e::{photo_bytes, write_file, TestDevice, TestServer};
use fieldsync_server::config::Config;
use fieldsync_shared::{DocId, Sha256, Timestamp};

use crate::device_kill::server_order_numbers;

/// Syncs attempted per device before the test gives up on the network.
const MAX_SYNCS: usize = 150;
const ROUNDS: usize = 3;

/// Photos above 8 KiB go in parts of 4 KiB, through the server; no background clean-up.
fn small_parts(config: &mut Config) {
    config.photos.multipart_threshold_bytes = 8 * 1024;
    config.photos.part_bytes = 4 * 1024;
    config.photos.gc_interval_secs = 0;
}

fn seed() -> u64 {
    std::env::var("FIELDSYNC_FLAKY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

fn is_sync(r: &SeenRequest) -> bool {
    r.is("POST", "/v1/sync")
}

fn is_declare(r: &SeenRequest) -> bool {
    r.method == "POST" && r.path() == "/v1/photos/uploads"
}

fn is_part(r: &SeenRequest) -> bool {
    r.is("PUT", "/v1/photos/uploads/") && r.path().contains("/parts/")
}

fn is_complete(r: &SeenRequest) -> bool {
    r.is("POST", "/v1/photos/uploads/") && r.path().ends_with("/complete")
}

/// Syncs until a sync went through with nothing left to send (bounded). Returns the attempts.
fn sync_until_done(device: &Device, who: &str) -> usize {
    for attempt in 1..=MAX_SYNCS {
        if let Ok(report) = device.sync() {
            if device.pending().unwrap().is_empty() {
                assert!(report.refused.is_empty(), "{who}: {:?}", report.refused);
                return attempt;
            }
        }
    }
    panic!(
        "{who}: still pending after {MAX_SYNCS} syncs: {:?}",
        device.pending().unwrap()
    );
}

/// The merchandiser's day: visits with audit lines and photos (one photo in parts, one whole,
/// and from the second visit on the first visit's photo again), a sync attempt after each.
/// Returns the visits and the photos.
fn merchandise(dev: &TestDevice) -> (Vec<DocId>, BTreeSet<Sha256>) {
    let stores = dev.stores().unwrap();
    let sku = dev.products().unwrap()[0].sku.to_string();
    let mut visits = Vec::new();
    let mut photos = BTreeSet::new();
    let mut first_photo = None;
    for round in 0..ROUNDS {
        let store = &stores[round % stores.len()];
        let visit = dev
            .start_visit(store.id, Timestamp::now().utc_date())
            .unwrap();
        for shelf in 0..3 {
            dev.record_audit_line(
                visit,
                AuditInput {
                    sku: sku.clone(),
                    location: format!("V{round}-SHELF-{shelf}"),
                    facings: shelf + 1,
                    on_shelf: true,
                    shelf_price: None,
                    oldest_production_date: None,
                },
            )
            .unwrap();
        }
        for (i, bytes) in [
            photo_bytes(10 * 1024 + round, 100 + round as u64),
            photo_bytes(2 * 1024 + round, 200 + round as u64),
        ]
        .iter()
        .enumerate()
        {
            let file = write_file(dev.dir.path(), &format!("shelf-{round}-{i}.jpg"), bytes);
            let sha = dev.attach_photo(visit, &file, None).unwrap();
            photos.insert(sha);
            first_photo.get_or_insert(file);
        }
        if round > 0 {
            // The same picture on another visit: one photo, uploaded once.
            let file = first_photo.as_ref().unwrap();
            photos.insert(dev.attach_photo(visit, file, None).unwrap());
        }
        dev.append_note(visit, &format!("visit {round} done"))
            .unwrap();
        visits.push(visit);
        let _ = dev.sync();
    }
    (visits, photos)
}

/// The rep's day: orders with lines, every other one submitted, a sync attempt after each
/// round. Returns the orders.
fn take_orders(dev: &TestDevice) -> Vec<DocId> {
    let stores = dev.stores().unwrap();
    let products = dev.products().unwrap();
    let mut orders = Vec::new();
    for round in 0..ROUNDS {
        for n in 0..2 {
            let store = &stores[(round + n) % stores.len()];
            let delivery = Timestamp::now()
                .utc_date()
                .add_days(i64::from(store.delivery_lead_days) + 1);
            let (order, _) = dev
                .create_order(store.id, delivery, PaymentMethod::Cash, None)
                .unwrap();
            for p in products.iter().take(2) {
                dev.set_order_line(order, p.sku.as_str(), p.case_pack * (1 + n as u32), None)
                    .unwrap();
            }
            if n == 0 {
                dev.submit_order(order).unwrap();
            }
            orders.push(order);
        }
        let _ = dev.sync();
    }
    orders
}

fn heads(device: &Device) -> BTreeMap<DocId, Vec<automerge::ChangeHash>> {
    device
        .document_ids(None)
        .unwrap()
        .into_iter()
        .map(|id| (id, device.document_heads(id).unwrap()))
        .collect()
}

/// Photo objects in the server's local blob store, by file name (the hash).
fn stored_objects(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != ".multipart" {
                stored_objects(&path, out);
            }
        } else if path.components().any(|c| c.as_os_str() == "photos") {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
}

/// Every listed item's id (paging through `next`), as the supervisor sees them.
fn server_ids(server: &TestServer, path: &str) -> Vec<String> {
    let token = server.token("sup1");
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(a) => format!("{path}?limit=500&after={a}"),
            None => format!("{path}?limit=500"),
        };
        let page = server.get_json(&token, &query);
        for item in page["items"].as_array().expect("items") {
            ids.push(item["id"].as_str().expect("id").to_string());
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => return ids,
        }
    }
}

#[test]
fn devices_converge_through_a_flaky_network_without_duplicates() {
    let server = TestServer::start_with(small_parts);
    let seed = seed();
    eprintln!("network faults drawn from FIELDSYNC_FLAKY_SEED={seed}");
    let merch_net = FaultProxy::start(&server.url);
    let rep_net = FaultProxy::start(&server.url);
    let merch = TestDevice::login_via(&merch_net.url, "merch1");
    let rep = TestDevice::login_via(&rep_net.url, "rep1");

    // Every kind of fault at least once, where it hurts most...
    merch_net.fault_nth(Fault::DropResponse, 1, Some(1), is_sync);
    merch_net.fault_nth(Fault::CutResponseBody, 2, Some(1), is_sync);
    merch_net.fault_nth(Fault::DropResponse, 2, Some(1), is_declare);
    merch_net.fault_nth(Fault::CutRequestBody, 2, Some(1), is_part);
    merch_net.fault_nth(Fault::CutResponseBody, 4, Some(1), is_part);
    merch_net.fault_nth(Fault::DropResponse, 1, Some(1), is_complete);
    rep_net.fault_nth(Fault::DropResponse, 1, Some(1), is_sync);
    rep_net.fault_nth(Fault::CutRequestBody, 2, Some(1), is_sync);
    rep_net.fault_nth(Fault::CutResponseBody, 3, Some(1), is_sync);
    // ...then at random, on every request.
    merch_net.chaos(seed, Chaos::flaky(), |_| true);
    rep_net.chaos(seed.rotate_left(17) ^ 0x5EED, Chaos::flaky(), |_| true);

    let ((visits, photos), orders) = std::thread::scope(|s| {
        let merch_day = s.spawn(|| merchandise(&merch));
        let rep_day = s.spawn(|| take_orders(&rep));
        (merch_day.join().unwrap(), rep_day.join().unwrap())
    });
    let merch_syncs = sync_until_done(&merch, "merch1");
    let rep_syncs = sync_until_done(&rep, "rep1");
    // Both once more, so each has what the other sent last.
    sync_until_done(&merch, "merch1");
    sync_until_done(&rep, "rep1");
    let faults = |net: &FaultProxy| {
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        for r in net.requests() {
            if let Some(f) = r.fault {
                let kind = format!("{f:?}");
                let kind = kind.split('(').next().unwrap().to_string();
                *by_kind.entry(kind).or_default() += 1;
            }
        }
        by_kind
    };
    let (merch_faults, rep_faults) = (faults(&merch_net), faults(&rep_net));
    eprintln!("merch1: {merch_syncs} syncs at the end, faults {merch_faults:?}");
    eprintln!("rep1: {rep_syncs} syncs at the end, faults {rep_faults:?}");
    for kind in ["DropResponse", "CutResponseBody", "CutRequestBody"] {
        assert!(merch_faults.contains_key(kind), "{merch_faults:?}");
        assert!(rep_faults.contains_key(kind), "{rep_faults:?}");
    }

    // Each document once on the server.
    let mut created: Vec<String> = visits
        .iter()
        .chain(&orders)
        .map(|id| id.to_string())
        .collect();
    created.sort();
    let mut listed = server_ids(&server, "/v1/visits");
    listed.extend(server_ids(&server, "/v1/orders"));
    listed.sort();
    assert_eq!(listed, created);
    let mut numbers = server_order_numbers(&server);
    numbers.sort();
    let mut rep_numbers: Vec<String> = orders
        .iter()
        .map(|o| rep.order(*o).unwrap().number.to_string())
        .collect();
    rep_numbers.sort();
    assert_eq!(numbers, rep_numbers, "each order number once");

    // Each photo once: one row, one stored upload, one object; the bytes are the photo's.
    let db = rusqlite::Connection::open(server.data_dir.path().join("fieldsync.db")).unwrap();
    let rows: Vec<(String, i64)> = db
        .prepare(
            "SELECT p.sha256, (SELECT COUNT(*) FROM photo_uploads u
                               WHERE u.sha256 = p.sha256 AND u.status = 'stored')
             FROM photos p ORDER BY p.sha256",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<String> = photos.iter().map(|s| s.to_hex()).collect();
    assert_eq!(
        rows.iter().map(|(sha, _)| sha.clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(rows.iter().all(|(_, stored)| *stored == 1), "{rows:?}");
    let mut objects = Vec::new();
    stored_objects(&server.config().blob_dir(), &mut objects);
    objects.sort();
    assert_eq!(objects, expected, "one object per photo");
    for sha in &photos {
        let path = merch.photo_path(sha).unwrap().expect("photo known");
        let bytes = std::fs::read(&path).expect("the photo file stays on the device");
        assert_eq!(Sha256::digest(&bytes), *sha);
    }
    assert!(merch
        .photo_uploads()
        .unwrap()
        .iter()
        .all(|p| p.state == PhotoState::Uploaded));
    // Photos are kept once per hash on the device too.
    assert_eq!(merch.photo_uploads().unwrap().len(), photos.len());

    // Every device, and a fresh installation of each user, hold identical documents.
    let fresh_merch = TestDevice::login(&server, "merch1");
    let fresh_rep = TestDevice::login(&server, "rep1");
    assert_eq!(heads(&fresh_merch), heads(&merch));
    assert_eq!(heads(&fresh_rep), heads(&rep));
    for id in merch.document_ids(Some(DocKind::Visit)).unwrap() {
        assert_eq!(fresh_merch.visit(id).unwrap(), merch.visit(id).unwrap());
    }
    for id in &orders {
        assert_eq!(fresh_rep.order(*id).unwrap(), rep.order(*id).unwrap());
    }
    let (merch_heads, rep_heads) = (heads(&merch), heads(&rep));
    for (id, h) in &merch_heads {
        if let Some(other) = rep_heads.get(id) {
            assert_eq!(h, other, "{id} differs between the two devices");
        }
    }
    // Nothing counted twice inside the documents either.
    for (round, v) in visits.iter().enumerate() {
        let visit = merch.visit(*v).unwrap();
        assert_eq!(visit.audit.len(), 3);
        assert_eq!(visit.photos.len(), if round == 0 { 2 } else { 3 });
    }
}
