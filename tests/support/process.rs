//! The real `fieldsync-server` binary as a child process, for tests that kill it (SIGKILL),
//! restart it on the same data, or run several instances side by side; plus the databases such
//! tests need (a fresh PostgreSQL database, a private PostgreSQL cluster) and a switchable TCP
//! proxy that sends a device to one instance or the other.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldsync_server::store::postgres::testing::ScratchDatabase;
use tempfile::TempDir;

use crate::{http, workspace_binary};

/// How long a starting server may take to answer `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A `fieldsync-server --demo` child process on loopback ports of its own. Killed on drop.
pub struct ServerProcess {
    pub url: String,
    pub ops_url: String,
    port: u16,
    ops_port: u16,
    data_dir: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    log: PathBuf,
}

/// Why a start attempt failed.
enum StartFailure {
    /// A port was taken between picking it and the server binding it.
    PortTaken,
    Other(String),
}

impl ServerProcess {
    /// Starts the binary with `env` (e.g. `DATABASE_URL`) on `data_dir` and waits until
    /// `/health` answers 200. The inherited environment loses every `FIELDSYNC_*` and
    /// `DATABASE_URL` variable first, so the test alone decides the configuration.
    pub fn start(env: &[(&str, &str)], data_dir: &Path) -> ServerProcess {
        std::fs::create_dir_all(data_dir).expect("create the server data directory");
        let mut server = ServerProcess {
            url: String::new(),
            ops_url: String::new(),
            port: 0,
            ops_port: 0,
            data_dir: data_dir.to_path_buf(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
            log: data_dir.join("server.log"),
        };
        for attempt in 1..=5 {
            server.port = free_port();
            server.ops_port = free_port();
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(StartFailure::PortTaken) if attempt < 5 => continue,
                Err(StartFailure::PortTaken) => panic!("no free port after 5 attempts"),
                Err(StartFailure::Other(why)) => panic!("fieldsync-server did not start: {why}"),
            }
        }
        unreachable!()
    }

    /// Kills the process with SIGKILL (no shutdown, no flushing) and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `Child::kill` is SIGKILL on Unix.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same ports, data directory and environment (killing it
    /// first if it still runs). Devices keep their server URL.
    pub fn restart(&mut self) {
        self.kill9();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.spawn_and_wait() {
                Ok(()) => return,
                // Rare: another process took the port meanwhile; it may let go of it.
                Err(StartFailure::PortTaken) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200))
                }
                Err(StartFailure::PortTaken) => panic!("port {} stays taken", self.port),
                Err(StartFailure::Other(why)) => {
                    panic!("fieldsync-server did not restart: {why}")
                }
            }
        }
    }

    /// Whether the process is still alive.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server's stdout and stderr so far (all starts).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The value of a metric series on the operations listener (`/metrics`).
    pub fn metric(&self, name: &str) -> f64 {
        crate::metric(&self.ops_url, name)
    }

    /// Logs a demo user in through the HTTP API as a new device and returns the bearer token.
    pub fn token(&self, username: &str) -> String {
        self.device_token(username).token
    }

    /// Logs a demo user in as a new device: the token, device id and actor.
    pub fn device_token(&self, username: &str) -> crate::DeviceToken {
        crate::device_login(&self.url, username)
    }

    /// GET a JSON resource with a bearer token; panics unless 200.
    pub fn get_json(&self, token: &str, path_and_query: &str) -> serde_json::Value {
        let mut resp = http()
            .get(&format!("{}{}", self.url, path_and_query))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap_or_else(|e| panic!("GET {path_and_query}: {e}"));
        assert_eq!(resp.status(), 200, "GET {path_and_query}");
        resp.body_mut().read_json().expect("JSON body")
    }

    fn spawn_and_wait(&mut self) -> Result<(), StartFailure> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| StartFailure::Other(format!("open {}: {e}", self.log.display())))?;
        let log_len = log.metadata().map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new(workspace_binary("fieldsync-server"));
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("FIELDSYNC_") || name == "DATABASE_URL" {
                cmd.env_remove(&key);
            }
        }
        cmd.arg("--demo")
            .env("FIELDSYNC_DATA_DIR", &self.data_dir)
            .env("FIELDSYNC_LISTEN", format!("127.0.0.1:{}", self.port))
            .env(
                "FIELDSYNC_OPS_LISTEN",
                format!("127.0.0.1:{}", self.ops_port),
            )
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("clone log handle")))
            .stderr(Stdio::from(log));
        let child = cmd
            .spawn()
            .map_err(|e| StartFailure::Other(format!("spawn: {e}")))?;
        self.child = Some(child);
        self.url = format!("http://127.0.0.1:{}", self.port);
        self.ops_url = format!("http://127.0.0.1:{}", self.ops_port);

        let deadline = Instant::now() + START_TIMEOUT;
        let probe: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .into();
        loop {
            if let Ok(resp) = probe.get(&format!("{}/health", self.url)).call() {
                if resp.status() == 200 {
                    return Ok(());
                }
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                let output = self.log().get(log_len as usize..).unwrap_or("").to_string();
                return Err(if output.contains("cannot listen") {
                    StartFailure::PortTaken
                } else {
                    StartFailure::Other(format!("exited with {status}; output:\n{output}"))
                });
            }
            if Instant::now() > deadline {
                self.kill9();
                return Err(StartFailure::Other(format!(
                    "no healthy /health within {START_TIMEOUT:?}; output:\n{}",
                    self.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A loopback port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

/// A fresh PostgreSQL database for one test on the server named by
/// `FIELDSYNC_TEST_DATABASE_URL` (`scripts/with-postgres.sh` sets it); dropped on drop.
/// Panics with instructions when the variable is missing: PostgreSQL tests fail, never skip.
pub struct PgDatabase {
    db: Option<ScratchDatabase>,
}

impl PgDatabase {
    pub fn create() -> PgDatabase {
        let db = block_on(ScratchDatabase::create()).unwrap_or_else(|e| panic!("{e}"));
        PgDatabase { db: Some(db) }
    }

    /// On the server at `admin_url` (e.g. a [`PgCluster`]).
    pub fn create_on(admin_url: &str) -> PgDatabase {
        let db = block_on(ScratchDatabase::create_on(admin_url)).unwrap_or_else(|e| panic!("{e}"));
        PgDatabase { db: Some(db) }
    }

    pub fn url(&self) -> &str {
        self.db.as_ref().expect("database").url()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            // Best effort: the test server is thrown away after the run anyway.
            let _ = block_on(db.drop_database());
        }
    }
}

/// A PostgreSQL cluster of this test's own (`scripts/with-postgres.sh --start`), which the test
/// may stop and start under a running server without disturbing the tests beside it.
/// Stopped on drop; its folder is deleted.
pub struct PgCluster {
    dir: TempDir,
    /// Superuser URL of the `postgres` database.
    pub admin_url: String,
}

impl PgCluster {
    pub fn start() -> PgCluster {
        let dir = tempfile::tempdir().expect("temp dir");
        // The unprivileged user PostgreSQL runs as must be able to reach the cluster folder.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod the cluster's parent folder");
        }
        let mut cluster = PgCluster {
            dir,
            admin_url: String::new(),
        };
        cluster.script("--start");
        let env = std::fs::read_to_string(cluster.folder().join("env")).expect("cluster env file");
        cluster.admin_url = env
            .lines()
            .find_map(|l| l.strip_prefix("FIELDSYNC_TEST_DATABASE_URL="))
            .expect("FIELDSYNC_TEST_DATABASE_URL in the cluster env file")
            .to_string();
        cluster
    }

    /// `pg_ctl stop -m fast`: every connection is terminated, new ones are refused.
    pub fn stop(&self) {
        self.script("--stop");
    }

    /// Starts it again on the same data and port.
    pub fn restart(&self) {
        self.script("--restart");
    }

    fn folder(&self) -> PathBuf {
        self.dir.path().join("pg")
    }

    fn script(&self, mode: &str) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/with-postgres.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(mode)
            .arg(self.folder())
            .stdin(Stdio::null())
            .output()
            .expect("run scripts/with-postgres.sh");
        assert!(
            out.status.success(),
            "scripts/with-postgres.sh {mode} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.folder().join("data").exists() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.stop()));
        }
    }
}

/// A loopback TCP proxy in front of several servers: each new connection goes to the upstream
/// currently selected. A device's `sync()` opens its own connections, so switching between
/// syncs moves the device to another instance without it knowing.
pub struct SwitchProxy {
    pub url: String,
    selected: Arc<AtomicUsize>,
    upstreams: usize,
}

impl SwitchProxy {
    /// Proxies to `upstreams` (`http://host:port` URLs); the first is selected.
    pub fn start(upstreams: &[&str]) -> SwitchProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let targets: Vec<String> = upstreams
            .iter()
            .map(|u| u.trim_start_matches("http://").to_string())
            .collect();
        let selected = Arc::new(AtomicUsize::new(0));
        let current = selected.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let target = &targets[current.load(Ordering::SeqCst) % targets.len()];
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                relay(client, server);
            }
        });
        SwitchProxy {
            url,
            selected,
            upstreams: upstreams.len(),
        }
    }

    /// New connections go to upstream `index`.
    pub fn select(&self, index: usize) {
        assert!(index < self.upstreams, "no upstream {index}");
        self.selected.store(index, Ordering::SeqCst);
    }
}

/// Copies both ways until either side closes.
fn relay(client: TcpStream, server: TcpStream) {
    let pump = |mut from: TcpStream, mut to: TcpStream| {
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Write);
            let _ = from.shutdown(Shutdown::Read);
        });
    };
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    pump(client, server);
    pump(server2, client2);
}

/// The relational store a server process runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The embedded default: `fieldsync.db` in the data directory.
    Sqlite,
    /// A fresh database on the server named by `FIELDSYNC_TEST_DATABASE_URL`.
    Postgres,
}

/// The database of a test's server processes and the environment that names it.
pub struct Backend {
    env: Vec<(String, String)>,
    _db: Option<PgDatabase>,
}

impl Backend {
    pub fn new(engine: Engine) -> Backend {
        match engine {
            Engine::Sqlite => Backend {
                env: Vec::new(),
                _db: None,
            },
            Engine::Postgres => {
                let db = PgDatabase::create();
                Backend {
                    env: vec![("DATABASE_URL".into(), db.url().to_string())],
                    _db: Some(db),
                }
            }
        }
    }

    /// The environment for [`ServerProcess::start`], plus `extra`.
    pub fn env<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra.iter().copied())
            .collect()
    }
}

/// Syncs until a sync succeeds with nothing left to push, retrying while the server is
/// unreachable or answers 503 (it is starting, or its database is). Panics on any other error
/// or after `within`.
pub fn sync_until_settled(
    device: &fieldsync_client::Device,
    within: Duration,
) -> fieldsync_client::SyncReport {
    use fieldsync_client::DeviceError;
    let deadline = Instant::now() + within;
    loop {
        match device.sync() {
            Ok(report) if device.pending().expect("pending").documents == 0 => return report,
            Ok(_) => {}
            Err(DeviceError::Offline(_)) => {}
            Err(DeviceError::Server { status: 503, .. }) => {}
            Err(e) => panic!("sync failed: {e:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "the device did not sync within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
