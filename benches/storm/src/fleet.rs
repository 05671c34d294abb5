//! The simulated devices: each its own user (a rep of the demo tenant created for the run),
//! installation (device id, Automerge actor), SQLite store and cursor, in a folder of its own;
//! prepared before the clock (users, logins, the day's documents written into each store), then
//! let loose: every device opens its store at its moment in the window, syncs once through the
//! device SDK's sync engine and closes it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fieldsync_bench_peers::workload::{self, Rep};
use fieldsync_client::{Device, DocKind};
use fieldsync_server::demo::{DEMO_PASSWORD, DEMO_TENANT};
use fieldsync_shared::Timestamp;

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
    /// From the start of `sync()` to its return, retries after 503 included.
    pub latency: Duration,
    /// `None`: synced, nothing left pending.
    pub error: Option<String>,
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

/// Every device syncs once, starting spread over `window`; their outcomes in device order.
pub fn storm(prepared: &[Prepared], window: Duration) -> Vec<Outcome> {
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
                        sync_one(p)
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

fn sync_one(p: &Prepared) -> Outcome {
    let device = match Device::open(&p.dir) {
        Ok(d) => d,
        Err(e) => {
            return Outcome {
                latency: Duration::ZERO,
                error: Some(format!("open: {e}")),
            }
        }
    };
    let began = Instant::now();
    let result = device.sync();
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
    Outcome { latency, error }
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
