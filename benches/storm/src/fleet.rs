//! The simulated devices: each its own user (a rep of the demo tenant created for the run),
//! installation (device id, Automerge actor), SQLite store and cursor, in a folder of its own;
//! prepared before the clock (users, logins, the day's documents written into each store), then
//! let loose: every device opens its store at its moment in the window, syncs once through the
//! device SDK's sync engine and closes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use automerge::ChangeHash;
use fieldsync_bench_peers::workload::{self, Rep};
use fieldsync_client::{Device, DocKind, SyncSchedule};
use fieldsync_server::demo::{DEMO_PASSWORD, DEMO_TENANT};
use fieldsync_shared::document::load_document;
use fieldsync_shared::{DocId, Timestamp};

const PASSWORD: &str = "storm-password-1";
/// Threads preparing devices (logins hash on the server: more would only queue there).
const PREPARE_THREADS: usize = 4;

/// A prepared device: its folder, ready to sync its day.
pub struct Prepared {
    dir: PathBuf,
    documents: usize,
}

/// What one device's sync did.
pub struct Outcome {
    /// From the start of the first `sync()` to the return of the last, retries included.
    pub latency: Duration,
    /// `None`: synced, nothing left pending.
    pub error: Option<String>,
    /// Syncs that failed and were tried again, by reason.
    pub failed: BTreeMap<String, usize>,
    /// The heads of every document the device held when the sync the server acknowledged
    /// started (it edits nothing meanwhile); empty when it never was.
    pub acknowledged: Vec<(DocId, Vec<ChangeHash>)>,
}

fn username(i: usize) -> String {
    format!("storm{i:05}")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(900)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Creates `devices` reps in the demo tenant (one CSV import as the demo admin): no territory,
/// so each sees only its own documents and a pull brings back what its own day needs.
fn create_users(url: &str, devices: usize) -> Result<(), String> {
    let agent = agent();
    let login = serde_json::json!({
        "tenant": DEMO_TENANT, "username": "admin", "password": DEMO_PASSWORD,
    });
    let mut resp = agent
        .post(&format!("{url}/v1/auth/login"))
        .send_json(&login)
        .map_err(|e| format!("admin login: {e}"))?;
    let answer: serde_json::Value = resp
        .body_mut()
        .read_json()
        .map_err(|e| format!("admin login: {e}"))?;
    let token = answer["access_token"]
        .as_str()
        .ok_or_else(|| format!("admin login: {answer}"))?;
    let mut csv = String::from("username,display_name,role,code,password\n");
    for i in 0..devices {
        let name = username(i);
        csv.push_str(&format!("{name},Storm {i},rep,S{i:05},{PASSWORD}\n"));
    }
    let mut resp = agent
        .post(&format!("{url}/v1/admin/import/users"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "text/csv")
        .send(csv.as_bytes())
        .map_err(|e| format!("user import: {e}"))?;
    if !resp.status().is_success() {
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        return Err(format!("user import {}: {body}", resp.status()));
    }
    Ok(())
}

/// One device: signed in as its user, its day written into its store (pending, not yet sent).
fn prepare_one(url: &str, dir: &Path, i: usize) -> Result<Prepared, String> {
    let device = Device::open(dir).map_err(|e| format!("open: {e}"))?;
    let profile = device
        .login(url, DEMO_TENANT, &username(i), PASSWORD)
        .map_err(|e| format!("login: {e}"))?;
    let rep = Rep {
        person: profile.id,
        code: profile.code,
    };
    let today = Timestamp::now().utc_date();
    let day = workload::day(&rep, today, device.device_id(), device.actor_id());
    for doc in &day.docs {
        device
            .receive_document(doc.id, doc.kind, &doc.changes.concat())
            .map_err(|e| format!("writing the day: {e}"))?;
    }
    Ok(Prepared {
        dir: dir.to_path_buf(),
        documents: day.docs.len(),
    })
}

/// Users, logins and days of `devices` devices in folders under `root`.
pub fn prepare(url: &str, root: &Path, devices: usize) -> Result<Vec<Prepared>, String> {
    create_users(url, devices)?;
    let next = AtomicUsize::new(0);
    let mut prepared: Vec<(usize, Prepared)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PREPARE_THREADS)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= devices {
                            return Ok(mine);
                        }
                        let dir = root.join(format!("device-{i:05}"));
                        mine.push((i, prepare_one(url, &dir, i)?));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("prepare thread"))
            .collect::<Result<Vec<Vec<_>>, String>>()
    })?
    .into_iter()
    .flatten()
    .collect();
    prepared.sort_by_key(|(i, _)| *i);
    Ok(prepared.into_iter().map(|(_, p)| p).collect())
}

/// Device `i` of `n` starts at `i/n` of the window, so starts are spread evenly (the order of
/// the devices is the order of the users, which says nothing about their load).
fn start_offset(i: usize, n: usize, window: Duration) -> Duration {
    window.mul_f64(i as f64 / n.max(1) as f64)
}

/// Every device syncs, starting spread over `window`, until its day is acknowledged or
/// `give_up` passes; their outcomes in device order.
pub fn storm(prepared: &[Prepared], window: Duration, give_up: Instant) -> Vec<Outcome> {
    let start = Instant::now();
    let n = prepared.len();
    std::thread::scope(|scope| {
        let handles: Vec<_> = prepared
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let at = start + start_offset(i, n, window);
                std::thread::Builder::new()
                    .stack_size(1 << 20)
                    .spawn_scoped(scope, move || {
                        std::thread::sleep(at.saturating_duration_since(Instant::now()));
                        sync_one(p, give_up, i as u64)
                    })
                    .expect("device thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("device thread"))
            .collect()
    })
}

/// A sync that failed (the server refused it as overloaded six times, or was down) is tried
/// again as the app's background sync does with its default schedule: after a uniformly random
/// wait in [2 s, min(5 min, 2 s x 2^n)] for the n-th failure in a row.
fn sync_one(p: &Prepared, give_up: Instant, seed: u64) -> Outcome {
    let failure = |error: String| Outcome {
        latency: Duration::ZERO,
        error: Some(error),
        failed: BTreeMap::new(),
        acknowledged: Vec::new(),
    };
    let device = match Device::open(&p.dir) {
        Ok(d) => d,
        Err(e) => return failure(format!("open: {e}")),
    };
    let held = match heads_of(&device) {
        Ok(held) => held,
        Err(e) => return failure(format!("heads: {e}")),
    };
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    let schedule = SyncSchedule::default();
    let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let began = Instant::now();
    let mut failures = 0u32;
    let result = loop {
        match device.sync() {
            Err(e) if Instant::now() < give_up => {
                *failed.entry(e.reason().to_string()).or_default() += 1;
                failures += 1;
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let ceiling = schedule
                    .min_backoff
                    .saturating_mul(1 << failures.min(16))
                    .min(schedule.max_backoff);
                let span = ceiling.saturating_sub(schedule.min_backoff);
                let wait = schedule.min_backoff + span.mul_f64((rng % 1_000_000) as f64 / 1e6);
                std::thread::sleep(wait.min(give_up.saturating_duration_since(Instant::now())));
            }
            result => break result,
        }
    };
    let latency = began.elapsed();
    let error = match result {
        Err(e) => Some(e.to_string()),
        Ok(report) if !report.refused.is_empty() => {
            Some(format!("{} documents refused", report.refused.len()))
        }
        Ok(_) => match device.pending() {
            Ok(left) if left.documents == 0 => check_documents(&device, p.documents),
            Ok(left) => Some(format!("{} documents still pending", left.documents)),
            Err(e) => Some(format!("pending: {e}")),
        },
    };
    Outcome {
        latency,
        acknowledged: if error.is_none() { held } else { Vec::new() },
        error,
        failed,
    }
}

fn heads_of(device: &Device) -> Result<Vec<(DocId, Vec<ChangeHash>)>, String> {
    device
        .document_ids(None)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|id| Ok((id, device.document_heads(id).map_err(|e| e.to_string())?)))
        .collect()
}

/// The honest completion signal: a new installation of the demo admin (who reads the whole
/// tenant) pulls everything from the server, which must hold every head a device had
/// acknowledged. Returns the heads checked and those missing (document and head).
pub fn verify(
    url: &str,
    root: &Path,
    outcomes: &[Outcome],
) -> Result<(usize, Vec<String>), String> {
    let reader = Device::open(&root.join("reader")).map_err(|e| format!("reader: {e}"))?;
    reader
        .login(url, DEMO_TENANT, "admin", DEMO_PASSWORD)
        .map_err(|e| format!("reader login: {e}"))?;
    // A sync runs a bounded number of rounds: sync until one brings nothing new.
    while reader
        .sync()
        .map_err(|e| format!("reader sync: {e}"))?
        .docs_received
        > 0
    {}
    let mut checked = 0;
    let mut missing = Vec::new();
    for (id, heads) in outcomes.iter().flat_map(|o| &o.acknowledged) {
        let mut doc = reader
            .document_save(*id)
            .ok()
            .and_then(|bytes| load_document(&bytes).ok());
        for head in heads {
            checked += 1;
            let held = doc
                .as_mut()
                .is_some_and(|d| d.get_change_by_hash(head).is_some());
            if !held {
                missing.push(format!("{id} {head}"));
            }
        }
    }
    Ok((checked, missing))
}

/// The device still holds its whole day (a sync never loses local documents).
fn check_documents(device: &Device, expected: usize) -> Option<String> {
    let visits = device.document_ids(Some(DocKind::Visit)).ok()?.len();
    let orders = device.document_ids(Some(DocKind::Order)).ok()?.len();
    (visits + orders < expected).then(|| format!("{} of {expected} documents", visits + orders))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_are_spread_over_the_window() {
        let window = Duration::from_secs(60);
        assert_eq!(start_offset(0, 4, window), Duration::ZERO);
        assert_eq!(start_offset(2, 4, window), Duration::from_secs(30));
        assert!(start_offset(3, 4, window) < window);
    }
}
