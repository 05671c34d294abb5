//! Test support for the end-to-end suite: a real `fieldsync-server` on a loopback port with its
//! own fresh data directory, real devices built from `fieldsync-client`, and a small HTTP client
//! for the cases where a test speaks the wire protocol itself.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

pub mod process;
pub mod proxy;

use fieldsync_client::Device;
use fieldsync_server::config::Config;
use fieldsync_server::startup::Application;
use tempfile::TempDir;

/// Demo password of every demo user (see `fieldsync_server::demo`).
pub const DEMO_PASSWORD: &str = "demo1234";
pub const DEMO_TENANT: &str = "demo";

/// A server running on its own thread and tokio runtime. The data directory lives as long as
/// the value; the server thread ends with the test process.
pub struct TestServer {
    pub url: String,
    pub ops_url: String,
    pub data_dir: TempDir,
}

impl TestServer {
    /// Starts a server on ports chosen by the OS, with the demo tenant seeded.
    pub fn start() -> TestServer {
        Self::start_in(tempfile::tempdir().expect("temp dir"))
    }

    /// Starts a server on an existing data directory (e.g. a restored backup).
    pub fn start_in(data_dir: TempDir) -> TestServer {
        let mut config = Config::for_tests(data_dir.path());
        config.demo = true;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("fieldsync-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                rt.block_on(async move {
                    let app = match Application::build(config).await {
                        Ok(app) => app,
                        Err(e) => {
                            let _ = tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    let _ = tx.send(Ok((app.port(), app.ops_port())));
                    app.run_until_stopped()
                        .await
                        .expect("server stopped with an error");
                });
            })
            .expect("spawn server thread");
        let (port, ops_port) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server did not start within 60 s")
            .unwrap_or_else(|e| panic!("server failed to start: {e}"));
        TestServer {
            url: format!("http://127.0.0.1:{port}"),
            ops_url: format!("http://127.0.0.1:{ops_port}"),
            data_dir,
        }
    }

    /// A consistent copy of the data directory taken while the server runs, as an operator's
    /// backup would be: the database through SQLite's `VACUUM INTO`, plus key and photo files.
    pub fn backup(&self) -> TempDir {
        let backup = tempfile::tempdir().expect("temp dir");
        let src = self.data_dir.path();
        let db = rusqlite::Connection::open(src.join("fieldsync.db")).expect("open database");
        db.execute(
            "VACUUM INTO ?1",
            [backup
                .path()
                .join("fieldsync.db")
                .to_str()
                .expect("utf-8 path")],
        )
        .expect("VACUUM INTO");
        copy_tree(
            src,
            backup.path(),
            &["fieldsync.db", "fieldsync.db-wal", "fieldsync.db-shm"],
        );
        backup
    }

    /// Logs a demo user in through the HTTP API and returns the bearer token.
    pub fn token(&self, username: &str) -> String {
        let body = serde_json::json!({
            "tenant": DEMO_TENANT, "username": username, "password": DEMO_PASSWORD
        });
        let resp: serde_json::Value = http()
            .post(&format!("{}/v1/auth/login", self.url))
            .send_json(&body)
            .expect("login request")
            .body_mut()
            .read_json()
            .expect("login response JSON");
        resp["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
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
}

/// An HTTP agent that returns 4xx/5xx as responses instead of errors, so tests can assert them.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A device in its own fresh data directory, logged in as a demo user.
pub struct TestDevice {
    pub device: Device,
    pub dir: TempDir,
}

impl TestDevice {
    pub fn login(server: &TestServer, username: &str) -> TestDevice {
        Self::login_via(&server.url, username)
    }

    /// Logs in against `url` (the server, or a proxy in front of it).
    pub fn login_via(url: &str, username: &str) -> TestDevice {
        let dir = tempfile::tempdir().expect("temp dir");
        let device = Device::open(dir.path()).expect("open device");
        device
            .login(url, DEMO_TENANT, username, DEMO_PASSWORD)
            .expect("device login");
        device.sync().expect("first sync (master data)");
        TestDevice { device, dir }
    }
}

impl std::ops::Deref for TestDevice {
    type Target = Device;
    fn deref(&self) -> &Device {
        &self.device
    }
}

/// Writes a small distinct "photo" file and returns its path.
pub fn photo_file(dir: &Path, name: &str, seed: u8) -> PathBuf {
    // A JPEG start-of-image marker followed by distinct bytes: content-addressing only needs
    // distinct content, and the server does not decode images on the embedded default.
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..4096u32).map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed)));
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write photo file");
    path
}

/// Path of a binary built by this workspace (`cargo build --workspace` puts them next to the
/// test executable's parent directory).
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build the workspace binaries first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// Copies files and folders of `from` into `to`, skipping top-level names in `skip`.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target, &[]);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
