//! Live push, measured (docs/performance.md, "Live push"). Prints figures; asserts nothing.
//!
//! 1. From a supervisor's approval (the decision made and synced by the supervisor's device)
//!    to the rep's device having it, where the rep's device runs the background sync with live
//!    push and no schedule: p50/p99 over loopback, with one instance (SQLite) and with two
//!    instances on one PostgreSQL (the supervisor on A, the rep's stream on B; needs
//!    `scripts/with-postgres.sh`, skipped without it).
//! 2. N idle subscribed connections (`LIVE_BENCH_CONNECTIONS`, default 10,000) on one
//!    instance (a `fieldsync-server` process): its memory per connection (resident set before
//!    and after) and the latency of a normal request (`GET /v1/me`) meanwhile.
//!
//! Run: `cargo bench -p fieldsync-e2e --bench live_push` (add `--profile dev` for a debug
//! build; the figures say which).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldsync_client::{
    BackgroundSync, Device, LiveEvent, SyncObserver, SyncSchedule, VisitStatus, VisitStep,
};
use fieldsync_e2e::process::{free_port, PgDatabase, ServerProcess};
use fieldsync_e2e::{http, photo_file, workspace_binary, TestDevice, TestServer};
use fieldsync_shared::{DocId, Timestamp};

/// Approvals measured per setup.
const APPROVALS: usize = 30;
/// Normal requests timed while the idle connections are open.
const PROBES: usize = 200;

fn main() {
    println!(
        "live push benchmark ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    let server = TestServer::start();
    report(
        "approval -> rep's device, 1 instance (SQLite)",
        &approvals(&server.url, &server.url),
    );
    drop(server);
    if std::env::var("FIELDSYNC_TEST_DATABASE_URL").is_ok() {
        let db = PgDatabase::create();
        let root = tempfile::tempdir().expect("temp dir");
        let secret = "k".repeat(48);
        let env = [
            ("DATABASE_URL", db.url()),
            ("FIELDSYNC_JWT_SECRET", secret.as_str()),
        ];
        let a = ServerProcess::start(&env, &root.path().join("a"));
        let b = ServerProcess::start(&env, &root.path().join("b"));
        report(
            "approval -> rep's device, 2 instances (PostgreSQL; supervisor on A, rep on B)",
            &approvals(&a.url, &b.url),
        );
    } else {
        println!("2 instances: skipped (no FIELDSYNC_TEST_DATABASE_URL; run through scripts/with-postgres.sh)");
    }
    let connections = std::env::var("LIVE_BENCH_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    idle_connections(connections);
}

/// A submitted visit of the rep's (not synced).
fn submitted_visit(rep: &TestDevice, n: usize) -> DocId {
    let stores = rep.stores().expect("stores");
    let store = &stores[n % stores.len()];
    let at = fieldsync_client::GeoFix {
        lat: store.location.lat(),
        lon: store.location.lon(),
        accuracy_m: 6.0,
        mocked: false,
    };
    let today = Timestamp::now().utc_date();
    let visit = rep.start_visit(store.id, today).expect("start");
    // Visits of one day must not overlap: space them by ten minutes of device time.
    let start = Timestamp(Timestamp::now().millis() - (APPROVALS + 1 - n) as i64 * 600_000);
    rep.check_in(visit, at, start).expect("check in");
    for step in VisitStep::ALL {
        rep.record_step(visit, *step, None).expect("step");
    }
    let photo = photo_file(rep.dir.path(), &format!("p{n}.jpg"), n as u8);
    rep.attach_photo(visit, &photo, Some(VisitStep::Merchandise))
        .expect("photo");
    rep.check_out(visit, at, Timestamp(start.millis() + 300_000))
        .expect("check out");
    rep.submit_visit(visit).expect("submit");
    visit
}

/// Counts nothing; the bench polls the device.
struct Quiet;

impl SyncObserver for Quiet {
    fn on_state(&self, _: &fieldsync_client::SyncState) {}
    fn on_live(&self, _: &LiveEvent) {}
}

/// Milliseconds from each approval (made and synced by the supervisor's device at `sup_url`)
/// until the rep's device (streaming from `rep_url`) holds it.
fn approvals(sup_url: &str, rep_url: &str) -> Vec<f64> {
    let rep = TestDevice::login_via(rep_url, "rep1");
    let sup = TestDevice::login_via(sup_url, "sup1");
    let visits: Vec<DocId> = (0..APPROVALS).map(|n| submitted_visit(&rep, n)).collect();
    rep.sync().expect("the rep syncs the visits");
    sup.sync().expect("the supervisor pulls them");
    let TestDevice { device, dir: _dir } = rep;
    let rep: Arc<Device> = Arc::new(device);
    let schedule = SyncSchedule {
        interval: None,
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(1),
    };
    let background = BackgroundSync::start_live(rep.clone(), schedule, Arc::new(Quiet));
    std::thread::sleep(Duration::from_secs(1));
    let mut out = Vec::new();
    for visit in visits {
        let start = Instant::now();
        sup.approve_visit(visit, Some("ok")).expect("approve");
        sup.sync().expect("the supervisor syncs");
        let deadline = start + Duration::from_secs(60);
        while !matches!(rep.visit(visit), Ok(v) if v.status == VisitStatus::Approved) {
            assert!(Instant::now() < deadline, "the approval never arrived");
            std::thread::sleep(Duration::from_millis(1));
        }
        out.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    background.stop();
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, samples: &[f64]) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{what}: n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        sorted.len(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0.0)
    );
}

/// The resident set of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// This process's open-file limit (soft), from /proc.
fn fd_limit() -> String {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .map(|l| {
                    l.split_whitespace()
                        .skip(3)
                        .take(2)
                        .collect::<Vec<_>>()
                        .join(" (hard ")
                        + ")"
                })
        })
        .unwrap_or_else(|| "unknown".into())
}

/// A token without a device (one login for every connection; device tokens would each be a
/// login and the per-device limit would replace them).
fn deviceless_token(url: &str) -> String {
    let mut resp = http()
        .post(&format!("{url}/v1/auth/login"))
        .send_json(
            serde_json::json!({"tenant": "demo", "username": "sup1", "password": "demo1234"}),
        )
        .expect("login");
    let body: serde_json::Value = resp.body_mut().read_json().expect("login JSON");
    body["access_token"].as_str().expect("token").to_string()
}

/// Opens one stream on a raw socket and reads until it is caught up (`event: ready`); the
/// socket is then held without reading (heartbeats wait in its buffer).
fn subscribe(port: u16, token: &str) -> std::io::Result<TcpStream> {
    let mut socket = TcpStream::connect(("127.0.0.1", port))?;
    socket.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        socket,
        "GET /v1/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    )?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 2048];
    while !seen.windows(12).any(|w| w == b"event: ready") {
        let n = socket.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other(format!(
                "closed: {}",
                String::from_utf8_lossy(&seen)
            )));
        }
        seen.extend_from_slice(&buf[..n]);
    }
    Ok(socket)
}

/// Times `GET /v1/me` `PROBES` times.
fn probe(url: &str, token: &str) -> Vec<f64> {
    let agent = http();
    (0..PROBES)
        .map(|_| {
            let start = Instant::now();
            let resp = agent
                .get(&format!("{url}/v1/me"))
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .expect("GET /v1/me");
            assert_eq!(resp.status(), 200);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

fn idle_connections(n: usize) {
    println!(
        "open-file limit of the bench (inherited by the server): {}",
        fd_limit()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let (port, ops_port) = (free_port(), free_port());
    let mut child = std::process::Command::new(workspace_binary("fieldsync-server"))
        .arg("--demo")
        .env("FIELDSYNC_DATA_DIR", dir.path())
        .env("FIELDSYNC_LISTEN", format!("127.0.0.1:{port}"))
        .env("FIELDSYNC_OPS_LISTEN", format!("127.0.0.1:{ops_port}"))
        .env("FIELDSYNC_LIVE_MAX_STREAMS", (n + 100).to_string())
        .env("FIELDSYNC_LIVE_MAX_STREAMS_PER_USER", (n + 100).to_string())
        .env("FIELDSYNC_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start fieldsync-server");
    let url = format!("http://127.0.0.1:{port}");
    wait_healthy(&url);
    let token = deviceless_token(&url);
    let baseline = probe(&url, &token);
    report("GET /v1/me, no stream open", &baseline);
    let before = rss_kib(child.id());

    let start = Instant::now();
    let mut open = Vec::with_capacity(n);
    let mut failure = None;
    for i in 0..n {
        match subscribe(port, &token) {
            Ok(socket) => open.push(socket),
            Err(e) => {
                failure = Some(format!("connection {i} failed: {e}"));
                break;
            }
        }
    }
    let opened = open.len();
    println!(
        "{opened} idle streams subscribed in {:.1} s{}",
        start.elapsed().as_secs_f64(),
        failure
            .map(|f| format!(" (stopped: {f})"))
            .unwrap_or_default()
    );
    std::thread::sleep(Duration::from_secs(2));
    let after = rss_kib(child.id());
    if opened > 0 {
        println!(
            "server resident memory: {} KiB before, {} KiB with {opened} streams: {:.1} KiB per stream",
            before,
            after,
            (after.saturating_sub(before)) as f64 / opened as f64
        );
    }
    report(
        &format!("GET /v1/me with {opened} streams open"),
        &probe(&url, &token),
    );
    drop(open);
    let _ = child.kill();
    let _ = child.wait();
    drop(dir);
}

fn wait_healthy(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(resp) = http().get(&format!("{url}/health")).call() {
            if resp.status() == 200 {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not become healthy");
}
