//! A crash loop: the real server binary is killed with SIGKILL again and again (50 times by
//! default) while four devices of three people keep recording visits and syncing. A device
//! counts what the server acknowledged (the heads of every document it held when a sync that
//! succeeded started). After the last kill and restart, before any device syncs again, a fresh
//! installation of each person must receive every acknowledged head: a missing one is an
//! acknowledged change lost. Then the devices sync until quiet and every replica agrees.
//!
//! `FIELDSYNC_CRASH_KILLS=200 cargo nextest run -p fieldsync-e2e -E 'test(crash_loop)'` runs a
//! longer loop; the figures are printed (docs/reliability.md, "Crash loops").

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use automerge::ChangeHash;
use fieldsync_client::{AuditInput, Device, GeoFix};
use fieldsync_e2e::process::{sync_until_settled, Backend, Engine, ServerProcess};
use fieldsync_e2e::TestDevice;
use fieldsync_shared::document::load_document;
use fieldsync_shared::{DocId, Timestamp};

/// Who works during the loop: rep1 on two phones, rep2, and merch1.
const PEOPLE: [&str; 4] = ["rep1", "rep1", "rep2", "merch1"];

fn kills() -> usize {
    std::env::var("FIELDSYNC_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

/// What one device saw the server acknowledge: per document, every head it pushed.
#[derive(Default)]
struct Acked {
    heads: BTreeMap<DocId, BTreeSet<ChangeHash>>,
    syncs_ok: usize,
    /// Failed syncs by reason.
    failed: BTreeMap<String, usize>,
}

/// One visit with `lines` audit lines and a note, recorded on `device` (a cheap "moment of
/// work" between two syncs).
fn record_visit(device: &Device, n: usize, lines: usize) {
    let stores = device.stores().expect("stores");
    let products = device.products().expect("products");
    let store = &stores[n % stores.len()];
    let visit = device
        .start_visit(store.id, Timestamp::now().utc_date())
        .expect("start visit");
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
                    sku: products[(n + j) % products.len()].sku.to_string(),
                    location: format!("SHELF-{j}"),
                    facings: j as u32 + 1,
                    on_shelf: true,
                    shelf_price: None,
                    oldest_production_date: None,
                },
            )
            .expect("audit line");
    }
    device
        .append_note(visit, &format!("visit {n}: shelves audited"))
        .expect("note");
}

fn heads_of(device: &Device) -> BTreeMap<DocId, Vec<ChangeHash>> {
    device
        .document_ids(None)
        .expect("document ids")
        .into_iter()
        .map(|id| (id, device.document_heads(id).expect("heads")))
        .collect()
}

/// Works and syncs until `stop`; a sync that fails (the server is down or died in the middle)
/// acknowledges nothing and is simply tried again with the next piece of work.
fn work_and_sync(device: &Device, stop: &AtomicBool, acked: &Mutex<Acked>, acks: &AtomicUsize) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        record_visit(device, n, 3);
        n += 1;
        let pushed = heads_of(device);
        match device.sync() {
            // Acknowledged: the sync succeeded and nothing of this device is left unacknowledged
            // (no edit happens on this device during its sync).
            Ok(_) if device.pending().expect("pending").documents == 0 => {
                let mut acked = acked.lock().unwrap();
                acked.syncs_ok += 1;
                for (id, heads) in pushed {
                    acked.heads.entry(id).or_default().extend(heads);
                }
                acks.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(e) => {
                let reason = e.reason().to_string();
                *acked.lock().unwrap().failed.entry(reason).or_default() += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Acknowledged heads that `fresh` (a new installation of the same person, just synced) lacks.
fn lost(fresh: &Device, acked: &Acked) -> Vec<(DocId, ChangeHash)> {
    let mut lost = Vec::new();
    for (id, heads) in &acked.heads {
        let mut doc = fresh
            .document_save(*id)
            .ok()
            .and_then(|bytes| load_document(&bytes).ok());
        for head in heads {
            let present = doc
                .as_mut()
                .is_some_and(|d| d.get_change_by_hash(head).is_some());
            if !present {
                lost.push((*id, *head));
            }
        }
    }
    lost
}

fn crash_loop(engine: Engine) {
    let kills = kills();
    let backend = Backend::new(engine);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start(&backend.env(&[]), dir.path());
    let devices: Vec<TestDevice> = PEOPLE
        .iter()
        .map(|who| TestDevice::login_via(&server.url, who))
        .collect();
    let acked: Vec<Mutex<Acked>> = PEOPLE.iter().map(|_| Mutex::default()).collect();
    let stop = AtomicBool::new(false);
    let acks = AtomicUsize::new(0);
    let started = Instant::now();

    std::thread::scope(|s| {
        for (device, acked) in devices.iter().zip(&acked) {
            let (stop, acks) = (&stop, &acks);
            s.spawn(move || work_and_sync(device, stop, acked, acks));
        }
        // Every other kill comes 40-600 ms after a restart, wherever the devices are; the others
        // come up to 200 ms after the next acknowledged sync, so that syncs keep getting through
        // and kills land on answered work too (a sync takes longer than 600 ms on some engines).
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for kill in 0..kills {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if kill % 2 == 0 {
                std::thread::sleep(Duration::from_millis(40 + seed % 560));
            } else {
                let seen = acks.load(Ordering::Relaxed);
                let deadline = Instant::now() + Duration::from_secs(10);
                while acks.load(Ordering::Relaxed) == seen && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                std::thread::sleep(Duration::from_millis(seed % 200));
            }
            server.kill9();
            server.restart();
        }
        stop.store(true, Ordering::Relaxed);
    });
    let looped = started.elapsed();

    // Before any device syncs again: the server has every acknowledged head.
    let mut lost_total = 0;
    let mut checked = 0;
    for (who, acked) in PEOPLE.iter().zip(&acked) {
        let fresh = TestDevice::login_via(&server.url, who);
        let acked = acked.lock().unwrap();
        let lost = lost(&fresh, &acked);
        checked += acked.heads.values().map(BTreeSet::len).sum::<usize>();
        lost_total += lost.len();
        assert!(lost.is_empty(), "{who}: acknowledged and lost: {lost:?}");
    }
    let mut ok = 0;
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    for a in &acked {
        let a = a.lock().unwrap();
        ok += a.syncs_ok;
        for (reason, n) in &a.failed {
            *failed.entry(reason.clone()).or_default() += n;
        }
    }
    eprintln!(
        "crash loop {engine:?}: {} SIGKILLs in {looped:.1?} under {} devices; syncs acknowledged \
         {ok}, failed {failed:?}; acknowledged heads checked {checked}, lost {lost_total}",
        kills,
        PEOPLE.len(),
    );
    assert!(
        ok >= kills / 4,
        "the devices got too few syncs through: {ok}"
    );
    assert!(
        !failed.is_empty(),
        "no kill interrupted a device: the load is too light"
    );

    // Everyone syncs until quiet; then every device and a fresh installation agree.
    for device in &devices {
        sync_until_settled(device, Duration::from_secs(60));
    }
    for device in &devices {
        sync_until_settled(device, Duration::from_secs(60));
    }
    for (who, device) in PEOPLE.iter().zip(&devices) {
        let fresh = TestDevice::login_via(&server.url, who);
        let mine = heads_of(device);
        let theirs = heads_of(&fresh);
        for (id, heads) in &mine {
            let mut heads = heads.clone();
            heads.sort();
            let mut served = theirs.get(id).cloned().unwrap_or_default();
            served.sort();
            assert_eq!(
                heads, served,
                "{who}: document {id} differs from the server's"
            );
        }
    }
}

#[test]
fn crash_loop_loses_no_acknowledged_change_sqlite() {
    crash_loop(Engine::Sqlite);
}

#[test]
fn crash_loop_loses_no_acknowledged_change_postgres() {
    crash_loop(Engine::Postgres);
}
