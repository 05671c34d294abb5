//! The app is killed (SIGKILL) at any moment: while it opens its database, records edits, or
//! syncs. `tests/bin/device_writer.rs` is the app: it prints `acked ...` for each edit only after
//! the edit call returned. After every kill the database passes SQLite's integrity check and
//! holds every acknowledged edit; in the end the device syncs with the real server and a fresh
//! installation of the same user receives exactly the same documents, each order once.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fieldsync_client::{Device, DocKind};
use fieldsync_e2e::{TestDevice, TestServer, DEMO_PASSWORD, DEMO_TENANT};
use fieldsync_shared::DocId;

/// Kills the writer if the test fails half-way.
struct Writer(Child);

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the writer on `dir`, kills it with SIGKILL once it acknowledged `kill_after` edits (0:
/// right after it started), and returns every line it printed before it died.
fn run_and_kill(dir: &Path, tag: &str, sync_every: Option<u32>, kill_after: usize) -> Vec<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_device_writer"));
    cmd.arg(dir).arg(tag);
    if let Some(n) = sync_every {
        cmd.arg("--sync-every").arg(n.to_string());
    }
    let mut writer = Writer(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start device_writer"),
    );
    let stdout = writer.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while lines
        .iter()
        .filter(|l: &&String| l.starts_with("acked "))
        .count()
        < kill_after
    {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => lines.push(line),
            Err(_) => {
                let _ = writer.0.kill();
                let _ = writer.0.wait();
                let mut stderr = String::new();
                if let Some(mut s) = writer.0.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut s, &mut stderr);
                }
                panic!("device_writer stopped acknowledging after {lines:?}: {stderr}");
            }
        }
    }
    writer.0.kill().expect("SIGKILL");
    let status = writer.0.wait().expect("reap");
    assert_eq!(
        status.signal(),
        Some(9),
        "the writer was killed, it did not stop by itself: {status:?}"
    );
    reader.join().expect("reader");
    // What it printed between the last line read and its death was acknowledged too.
    lines.extend(rx.try_iter());
    lines
}

/// SQLite's own check of the database file as the killed process left it.
fn assert_intact(dir: &Path) {
    let conn = rusqlite::Connection::open(dir.join("device.db")).expect("open device.db");
    let check: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(check, vec!["ok".to_string()]);
}

/// Every acknowledged edit is on the device.
fn assert_acked_present(device: &Device, acked: &[String]) {
    for line in acked {
        let words: Vec<&str> = line.split(' ').collect();
        let doc = |s: &str| DocId::parse(s).expect("doc id");
        match words.as_slice() {
            ["acked", "visit", v] => {
                device.visit(doc(v)).expect(line);
            }
            ["acked", "audit", v, sku, location] => {
                let visit = device.visit(doc(v)).expect(line);
                assert!(
                    visit
                        .audit
                        .values()
                        .any(|a| a.sku.as_str() == *sku && a.location.as_str() == *location),
                    "lost: {line}"
                );
            }
            ["acked", "note", v, text] => {
                let visit = device.visit(doc(v)).expect(line);
                assert!(visit.notes_text().contains(text), "lost: {line}");
            }
            ["acked", "order", o, number] => {
                let order = device.order(doc(o)).expect(line);
                assert_eq!(order.number.to_string(), *number, "{line}");
            }
            ["acked", "line", o, sku, quantity] => {
                let order = device.order(doc(o)).expect(line);
                let got = order.lines.get(*sku).map(|l| l.quantity.to_string());
                assert_eq!(got.as_deref(), Some(*quantity), "lost: {line}");
            }
            _ => panic!("unexpected line from the writer: {line}"),
        }
    }
}

fn heads(device: &Device) -> BTreeMap<DocId, Vec<automerge::ChangeHash>> {
    device
        .document_ids(None)
        .unwrap()
        .into_iter()
        .map(|id| (id, device.document_heads(id).unwrap()))
        .collect()
}

/// Every order the server lists (as the supervisor sees them), by number.
pub(crate) fn server_order_numbers(server: &TestServer) -> Vec<String> {
    let token = server.token("sup1");
    let mut numbers = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(a) => format!("/v1/orders?limit=500&after={a}"),
            None => "/v1/orders?limit=500".to_string(),
        };
        let page = server.get_json(&token, &query);
        for item in page["items"].as_array().expect("items") {
            numbers.push(
                item["document"]["number"]
                    .as_str()
                    .expect("number")
                    .to_string(),
            );
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => return numbers,
        }
    }
}

#[test]
fn edits_acknowledged_before_a_kill_survive_it_and_sync() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    {
        let device = Device::open(dir.path()).unwrap();
        device
            .login(&server.url, DEMO_TENANT, "rep1", DEMO_PASSWORD)
            .unwrap();
        device.sync().unwrap();
    }
    let seed = std::env::var("FIELDSYNC_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("kill points drawn from FIELDSYNC_KILL_SEED={seed}");
    let mut rng = seed | 1;
    let mut draw = |below: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % below
    };

    let mut acked: Vec<String> = Vec::new();
    let mut syncs = 0;
    // Round 0 kills the writer as it starts (opening the database); the others after a random
    // number of edits, every other round with syncs in between. `FIELDSYNC_DEVICE_KILLS` rounds
    // (default 50).
    let rounds: usize = std::env::var("FIELDSYNC_DEVICE_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let started = std::time::Instant::now();
    for round in 0..rounds {
        let kill_after = if round == 0 { 0 } else { 1 + draw(40) as usize };
        let sync_every = (round % 2 == 1).then_some(3);
        let lines = run_and_kill(dir.path(), &format!("R{round}"), sync_every, kill_after);
        syncs += lines.iter().filter(|l| *l == "synced").count();
        acked.extend(lines.into_iter().filter(|l| l.starts_with("acked ")));

        assert_intact(dir.path());
        let device = Device::open(dir.path()).expect("reopen after the kill");
        assert_acked_present(&device, &acked);
    }
    assert!(syncs > 0, "some syncs ran between the kills");
    assert!(acked.len() >= 8, "{acked:?}");
    // Every round checked that each acknowledged edit survived: none was lost.
    eprintln!(
        "device kills: {rounds} SIGKILLs in {:.1?}; {} edits acknowledged, {syncs} syncs between \
         them, lost 0",
        started.elapsed(),
        acked.len()
    );

    // The device syncs what it has and a fresh installation receives exactly the same.
    let device = Device::open(dir.path()).unwrap();
    for _ in 0..3 {
        device.sync().expect("sync after the kills");
        if device.pending().unwrap().is_empty() {
            break;
        }
    }
    assert!(device.pending().unwrap().is_empty());
    assert_acked_present(&device, &acked);
    let fresh = TestDevice::login(&server, "rep1");
    assert_eq!(heads(&fresh), heads(&device));
    assert_acked_present(&fresh, &acked);

    // Each order the device created is on the server exactly once.
    let created: BTreeSet<String> = device
        .document_ids(Some(DocKind::Order))
        .unwrap()
        .into_iter()
        .map(|id| device.order(id).unwrap().number.to_string())
        .collect();
    let acked_orders = acked
        .iter()
        .filter(|l| l.starts_with("acked order "))
        .count();
    assert!(created.len() >= acked_orders);
    let mut on_server = server_order_numbers(&server);
    on_server.sort();
    assert_eq!(on_server, created.into_iter().collect::<Vec<_>>());
}
