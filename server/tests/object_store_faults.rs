//! The object store goes away for a while: the server answers 503 with `Retry-After` (not 500,
//! not a hang), recovers by itself when the store is back, and loses nothing.
//!
//! Each test starts its own private Garage (from `FIELDSYNC_TEST_GARAGE_BIN`, which
//! `scripts/with-garage.sh` sets) in a temporary folder, so stopping it disturbs no other test,
//! and a server (`Application`, SQLite, demo data) whose photos live in that Garage.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fieldsync_server::blobs::BlobSettings;
use fieldsync_server::config::{Config, Secret};
use fieldsync_server::startup::Application;
use serde_json::{json, Value};
use sha2::Digest;

const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
const BUCKET: &str = "fieldsync-faults";
/// The server's object store timeout in these tests.
const S3_TIMEOUT: Duration = Duration::from_millis(2_000);

// -------------------------------------------------------------------------------------------
// A private single-node Garage.

struct PrivateGarage {
    bin: PathBuf,
    dir: tempfile::TempDir,
    child: Option<Child>,
    s3_port: u16,
    key_id: String,
    secret: String,
}

fn random_hex(len: usize) -> String {
    let mut b = vec![0u8; len];
    getrandom::fill(&mut b).unwrap();
    hex::encode(b)
}

fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

impl PrivateGarage {
    /// Starts Garage on free loopback ports with a bucket and a key allowed to use it.
    fn start() -> PrivateGarage {
        let bin = match std::env::var("FIELDSYNC_TEST_GARAGE_BIN") {
            Ok(b) if !b.is_empty() => PathBuf::from(b),
            _ => panic!(
                "FIELDSYNC_TEST_GARAGE_BIN is not set: the object store fault tests start their \
                 own Garage. Run them through scripts/test.sh, or scripts/with-garage.sh cargo \
                 test -p fieldsync-server (it installs Garage and sets the variable)"
            ),
        };
        assert!(
            bin.is_file(),
            "FIELDSYNC_TEST_GARAGE_BIN={bin:?} does not exist"
        );
        let dir = tempfile::tempdir().unwrap();
        let (s3_port, rpc_port) = free_ports();
        let d = dir.path().display();
        let config = format!(
            r#"metadata_dir = "{d}/meta"
data_dir = "{d}/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:{s3_port}"
root_domain = ".s3.garage.localhost"
"#,
            secret = random_hex(32),
        );
        std::fs::write(dir.path().join("garage.toml"), config).unwrap();
        let mut garage = PrivateGarage {
            bin,
            dir,
            child: None,
            s3_port,
            key_id: format!("GK{}", random_hex(12)),
            secret: random_hex(32),
        };
        garage.spawn();
        let node = garage.cli(&["node", "id", "-q"]);
        let node = node.trim().split('@').next().unwrap().to_string();
        garage.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node]);
        garage.cli(&["layout", "apply", "--version", "1"]);
        garage.retry_cli(&["bucket", "create", BUCKET]);
        let (key_id, secret) = (garage.key_id.clone(), garage.secret.clone());
        garage.cli(&["key", "import", "--yes", "-n", "faults", &key_id, &secret]);
        garage.cli(&[
            "bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", &key_id,
        ]);
        garage
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("garage.toml")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("garage.log")
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// Starts `garage server` on the configuration (and data) of this instance and waits until
    /// it answers.
    fn spawn(&mut self) {
        assert!(self.child.is_none());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(self.config_path())
            .arg("server")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", self.bin));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "garage exited with {status} during startup; its log:\n{}",
                    self.log_tail()
                );
            }
            if self.command(&["status"]).output().unwrap().status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "garage did not answer `garage status` within 30 s; its log:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-c").arg(self.config_path()).args(args);
        cmd.stdin(Stdio::null());
        cmd
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "garage {args:?} failed: {}{}\ngarage log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `cli`, retried for a few seconds (the layout takes effect asynchronously).
    fn retry_cli(&self, args: &[&str]) -> String {
        for _ in 0..40 {
            let out = self.command(args).output().unwrap();
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        self.cli(args)
    }

    /// Kills the process (as a crash would); the data folder stays.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the process: connections are still accepted by the kernel but never answered
    /// (a store that hangs).
    fn freeze(&self) {
        let pid = self.child.as_ref().expect("garage is running").id();
        let status = Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -STOP {pid}");
    }

    fn settings(&self) -> BlobSettings {
        BlobSettings {
            s3_bucket: Some(BUCKET.to_string()),
            s3_endpoint: Some(self.endpoint()),
            s3_region: "garage".to_string(),
            s3_access_key_id: Some(self.key_id.clone()),
            s3_secret_access_key: Some(Secret::new(self.secret.clone())),
            s3_path_style: true,
            s3_timeout_ms: S3_TIMEOUT.as_millis() as u64,
            ..BlobSettings::default()
        }
    }
}

impl Drop for PrivateGarage {
    fn drop(&mut self) {
        self.kill();
    }
}

// -------------------------------------------------------------------------------------------
// HTTP helpers.

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Well above the server's object store timeout: a hang would show as a failure here,
        // not as a stuck test.
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// An agent that does not follow redirects (to see the server's own answer).
fn agent_no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Vec<u8>,
    elapsed: Duration,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

fn answer(started: Instant, resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut resp = resp.expect("the server answers");
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.body_mut().read_to_vec().unwrap_or_default();
    Answer {
        status,
        retry_after,
        body,
        elapsed: started.elapsed(),
    }
}

struct Photo {
    bytes: Vec<u8>,
    sha: String,
}

fn photo(seed: u8) -> Photo {
    // A JPEG header and distinct bytes: the server checks the hash, not the image.
    let mut bytes = vec![0xff, 0xd8, 0xff, 0xe0];
    bytes.extend((0..50_000u32).map(|i| (i as u8).wrapping_mul(seed) ^ seed));
    bytes.extend(random_hex(16).into_bytes());
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    Photo { bytes, sha }
}

fn put_photo(base: &str, token: &str, p: &Photo) -> Answer {
    let started = Instant::now();
    answer(
        started,
        agent()
            .put(format!("{base}/v1/photos/{}", p.sha))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "image/jpeg")
            .send(&p.bytes[..]),
    )
}

/// Downloads a photo as a device would (following a redirect to the object store).
fn get_photo(base: &str, token: &str, sha: &str) -> Answer {
    let started = Instant::now();
    answer(
        started,
        agent()
            .get(format!("{base}/v1/photos/{sha}"))
            .header("authorization", format!("Bearer {token}"))
            .call(),
    )
}

fn login(base: &str) -> String {
    let started = Instant::now();
    let a = answer(
        started,
        agent()
            .post(format!("{base}/v1/auth/login"))
            .send_json(json!({"tenant": "demo", "username": "rep1", "password": "demo1234"})),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    a.json()["access_token"].as_str().unwrap().to_string()
}

/// The answer while the object store is unavailable: 503 `unavailable` with Retry-After, well
/// within the object store timeout plus its retries (not a hang, not a 500).
fn assert_unavailable(what: &str, a: &Answer) {
    assert_eq!(
        a.status,
        503,
        "{what}: {}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.json()["reason"], "unavailable", "{what}");
    let retry: u64 = a
        .retry_after
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: 503 without Retry-After"))
        .parse()
        .expect("Retry-After is in seconds");
    assert!(retry >= 1, "{what}: Retry-After {retry}");
    assert!(
        a.elapsed < S3_TIMEOUT + Duration::from_secs(3),
        "{what}: answered after {:?}",
        a.elapsed
    );
}

fn start_server(rt: &tokio::runtime::Runtime, data_dir: &Path, garage: &PrivateGarage) -> String {
    let mut config = Config::for_tests(data_dir);
    config.jwt_secret = Some(Secret::new(SECRET));
    config.demo = true;
    config.blobs = garage.settings();
    let app = rt
        .block_on(Application::build(config))
        .expect("the server starts with the S3 blob store");
    let base = format!("http://127.0.0.1:{}", app.port());
    rt.spawn(app.run_until_stopped());
    base
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

// -------------------------------------------------------------------------------------------

#[test]
fn object_store_outage_answers_503_and_the_server_recovers_without_losing_photos() {
    let rt = runtime();
    let mut garage = PrivateGarage::start();
    let dir = tempfile::tempdir().unwrap();
    let base = start_server(&rt, dir.path(), &garage);
    let token = login(&base);

    let first = photo(3);
    let a = put_photo(&base, &token, &first);
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let a = get_photo(&base, &token, &first.sha);
    assert_eq!(a.status, 200);
    assert!(a.body == first.bytes);

    // 1. The object store crashes: connections are refused.
    garage.kill();
    let second = photo(7);
    assert_unavailable("upload, store down", &put_photo(&base, &token, &second));
    // The server itself is fine (health is about the database).
    let started = Instant::now();
    let health = answer(started, agent().get(format!("{base}/health")).call());
    assert_eq!(health.status, 200);
    // A download cannot be served now: 503 (or a redirect the device follows later), never a
    // 500 or a hang.
    let started = Instant::now();
    let a = answer(
        started,
        agent_no_redirects()
            .get(format!("{base}/v1/photos/{}", first.sha))
            .header("authorization", format!("Bearer {token}"))
            .call(),
    );
    if a.status != 307 {
        assert_unavailable("download, store down", &a);
    }

    // 2. The object store comes back on the same data; the server recovers by itself, the
    //    device's retry succeeds.
    garage.spawn();
    let deadline = Instant::now() + Duration::from_secs(30);
    let stored = loop {
        let a = put_photo(&base, &token, &second);
        if a.status == 201 || Instant::now() > deadline {
            break a;
        }
        assert_unavailable("upload while the store restarts", &a);
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(
        stored.status,
        201,
        "{}",
        String::from_utf8_lossy(&stored.body)
    );

    // Nothing was lost: both photos download with their bytes.
    for p in [&first, &second] {
        let a = get_photo(&base, &token, &p.sha);
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        assert!(a.body == p.bytes, "photo {} has other bytes", p.sha);
    }
}

#[test]
fn a_hanging_object_store_answers_503_within_the_timeout() {
    let rt = runtime();
    let mut garage = PrivateGarage::start();
    let dir = tempfile::tempdir().unwrap();
    let base = start_server(&rt, dir.path(), &garage);
    let token = login(&base);

    // The store stops answering (accepted connections, no responses).
    garage.freeze();
    let p = photo(11);
    let a = put_photo(&base, &token, &p);
    assert_unavailable("upload, store hanging", &a);
    assert!(
        a.elapsed >= S3_TIMEOUT - Duration::from_millis(200),
        "gave up after {:?}, before the timeout?",
        a.elapsed
    );

    // Killed and restarted: the upload goes through.
    garage.kill();
    garage.spawn();
    let deadline = Instant::now() + Duration::from_secs(30);
    let stored = loop {
        let a = put_photo(&base, &token, &p);
        if a.status == 201 || Instant::now() > deadline {
            break a;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(
        stored.status,
        201,
        "{}",
        String::from_utf8_lossy(&stored.body)
    );
    let a = get_photo(&base, &token, &p.sha);
    assert_eq!(a.status, 200);
    assert!(a.body == p.bytes);
}

#[test]
fn the_server_does_not_start_without_its_bucket() {
    let rt = runtime();
    let garage = PrivateGarage::start();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.blobs = garage.settings();
    config.blobs.s3_bucket = Some("no-such-bucket".into());
    let err = match rt.block_on(Application::build(config.clone())) {
        Ok(_) => panic!("the server started without its bucket"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("no-such-bucket") && err.contains("does not exist"),
        "{err}"
    );

    // Credentials are required once a bucket is set.
    config.blobs = garage.settings();
    config.blobs.s3_secret_access_key = None;
    let err = match rt.block_on(Application::build(config)) {
        Ok(_) => panic!("the server started without S3 credentials"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("FIELDSYNC_S3_SECRET_ACCESS_KEY"), "{err}");
}
