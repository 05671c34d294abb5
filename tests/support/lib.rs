//! Test support for the end-to-end suite: a real `fieldsync-server` on a loopback port with its
//! own fresh data directory, real devices built from `fieldsync-client`, and a small HTTP client
//! for the cases where a test speaks the wire protocol itself.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

pub mod process;
pub mod proxy;
pub mod webdriver;

use fieldsync_client::Device;
use fieldsync_server::config::{Config, Secret};
use fieldsync_server::photos::gc::GcReport;
use fieldsync_server::startup::Application;
use fieldsync_server::state::AppState;
use fieldsync_shared::Timestamp;
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
    /// The running application's state (store, blob store, configuration, metrics).
    state: AppState,
    /// The server's runtime, to run server code (e.g. the photo clean-up) on it.
    runtime: tokio::runtime::Handle,
}

impl TestServer {
    /// Starts a server on ports chosen by the OS, with the demo tenant seeded.
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    /// [`TestServer::start`] with the configuration changed by `configure` first (e.g. small
    /// multipart thresholds, or the S3 store: [`use_test_s3`]).
    pub fn start_with(configure: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_in_with(tempfile::tempdir().expect("temp dir"), configure)
    }

    /// Starts a server on an existing data directory (e.g. a restored backup).
    pub fn start_in(data_dir: TempDir) -> TestServer {
        Self::start_in_with(data_dir, |_| {})
    }

    /// [`TestServer::start_in`] with the configuration changed by `configure` first.
    pub fn start_in_with(data_dir: TempDir, configure: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::for_tests(data_dir.path());
        config.demo = true;
        configure(&mut config);
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("fieldsync-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                let handle = rt.handle().clone();
                rt.block_on(async move {
                    let app = match Application::build(config).await {
                        Ok(app) => app,
                        Err(e) => {
                            let _ = tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    let _ = tx.send(Ok((
                        app.port(),
                        app.ops_port(),
                        app.state().clone(),
                        handle,
                    )));
                    app.run_until_stopped()
                        .await
                        .expect("server stopped with an error");
                });
            })
            .expect("spawn server thread");
        let (port, ops_port, state, runtime) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server did not start within 60 s")
            .unwrap_or_else(|e| panic!("server failed to start: {e}"));
        TestServer {
            url: format!("http://127.0.0.1:{port}"),
            ops_url: format!("http://127.0.0.1:{ops_port}"),
            data_dir,
            state,
            runtime,
        }
    }

    /// The running application's state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// Runs `future` on the server's runtime (server code that needs its I/O drivers and
    /// connection pools) and waits for it.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// One run of the photo clean-up as if the time were `now` (ages are measured from it):
    /// what the background task does every `FIELDSYNC_PHOTO_GC_INTERVAL_SECS`.
    pub fn run_photo_gc_at(&self, now: Timestamp) -> GcReport {
        self.block_on(fieldsync_server::photos::gc::run_at(&self.state, now))
    }

    /// The value of a metric series on the operations listener (`/metrics`), e.g.
    /// `photo_upload_bytes_received_total` or `photo_uploads_total{outcome="stored"}`.
    pub fn metric(&self, series: &str) -> f64 {
        metric(&self.ops_url, series)
    }

    /// A consistent copy of the data directory taken while the server runs, as an operator's
    /// backup would be: the database through SQLite's `VACUUM INTO`, plus key and photo files.
    pub fn backup(&self) -> TempDir {
        backup_data_dir(self.data_dir.path())
    }

    /// Logs a demo user in through the HTTP API with a fresh device registration and returns
    /// the bearer token (it can sync; raw changes it pushes must be authored by
    /// [`TestServer::device_token`]'s actor, so use that helper for those).
    pub fn token(&self, username: &str) -> String {
        self.device_token(username).token
    }

    /// Logs a demo user in as a new device (random device id and actor): the token and what
    /// the server bound to it.
    pub fn device_token(&self, username: &str) -> DeviceToken {
        device_login(&self.url, username)
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

/// A consistent copy of a running SQLite server's data directory `src`, as an operator's
/// backup would be: the database through SQLite's `VACUUM INTO`, plus key and photo files.
pub fn backup_data_dir(src: &Path) -> TempDir {
    let backup = tempfile::tempdir().expect("temp dir");
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

/// A demo user signed in as a newly registered device.
#[derive(Debug, Clone)]
pub struct DeviceToken {
    /// The access token (`Authorization: Bearer ...`).
    pub token: String,
    pub refresh_token: String,
    pub session_id: String,
    /// Send it as the sync request's `device_id`.
    pub device_id: fieldsync_shared::DeviceId,
    /// The only actor whose new changes the server accepts from this token.
    pub actor: automerge::ActorId,
}

/// Logs `username` of the demo tenant in at `url` as a new device (random device id and actor).
pub fn device_login(url: &str, username: &str) -> DeviceToken {
    let device_id = fieldsync_shared::DeviceId::new_random();
    let actor = automerge::ActorId::random();
    let body = serde_json::json!({
        "tenant": DEMO_TENANT, "username": username, "password": DEMO_PASSWORD,
        "device": {
            "device_id": device_id.to_string(),
            "actor_id": actor.to_hex_string(),
            "name": format!("test device of {username}"),
            "platform": "test",
        },
    });
    let mut resp = http()
        .post(&format!("{url}/v1/auth/login"))
        .send_json(&body)
        .expect("login request");
    let status = resp.status().as_u16();
    let resp: serde_json::Value = resp.body_mut().read_json().expect("login response JSON");
    assert_eq!(status, 200, "login of {username}: {resp}");
    let field = |name: &str| {
        resp[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {resp}"))
            .to_string()
    };
    DeviceToken {
        token: field("access_token"),
        refresh_token: field("refresh_token"),
        session_id: field("session_id"),
        device_id,
        actor,
    }
}

/// The value of a metric series (`name` or `name{labels}`, as rendered) on the operations
/// listener at `ops_url`. Panics if the series is absent.
pub fn metric(ops_url: &str, series: &str) -> f64 {
    let mut resp = http()
        .get(&format!("{ops_url}/metrics"))
        .call()
        .expect("GET /metrics");
    let text = resp.body_mut().read_to_string().expect("metrics text");
    text.lines()
        .find_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            (key == series).then(|| value.trim().parse::<f64>().ok())?
        })
        .unwrap_or_else(|| panic!("metric {series} missing from:\n{text}"))
}

/// The S3 settings of the Garage that `scripts/with-garage.sh` starts (`FIELDSYNC_TEST_S3_*`)
/// for `config`, under a key prefix of this server's own; parts of at least S3's minimum of
/// 5 MiB (the server refuses smaller ones with a store that presigns). Panics with
/// instructions when the variables are missing: S3 tests fail, never skip.
pub fn use_test_s3(config: &mut Config) {
    config.blobs.s3_bucket = Some(test_s3_env("FIELDSYNC_TEST_S3_BUCKET"));
    config.blobs.s3_endpoint = Some(test_s3_endpoint());
    config.blobs.s3_region = test_s3_env("FIELDSYNC_TEST_S3_REGION");
    config.blobs.s3_access_key_id = Some(test_s3_env("FIELDSYNC_TEST_S3_ACCESS_KEY_ID"));
    config.blobs.s3_secret_access_key = Some(Secret::new(test_s3_env(
        "FIELDSYNC_TEST_S3_SECRET_ACCESS_KEY",
    )));
    config.blobs.s3_prefix = format!("e2e-{}/", fieldsync_shared::DocId::new_random());
    config.photos.part_bytes = config
        .photos
        .part_bytes
        .max(fieldsync_server::config::MIN_PRESIGNED_PART_BYTES);
}

/// `FIELDSYNC_TEST_S3_ENDPOINT`: the Garage S3 API (`http://127.0.0.1:<port>`).
pub fn test_s3_endpoint() -> String {
    test_s3_env("FIELDSYNC_TEST_S3_ENDPOINT")
}

fn test_s3_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the tests through scripts/test.sh \
             (or scripts/with-garage.sh), which starts a private Garage"
        )
    })
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

/// `len` bytes that look like a JPEG (start-of-image marker) and do not compress: distinct per
/// `seed`. The server stores them like any photo (it makes no thumbnail of what it cannot
/// decode).
pub fn photo_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    // xorshift64*: cheap, deterministic, incompressible enough.
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while bytes.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        bytes.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    bytes.truncate(len.max(4));
    bytes
}

/// A real PNG of `width` x `height` (decodable: the server makes a thumbnail of it).
pub fn png_bytes(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            ((x / 40) as u8).wrapping_mul(40).wrapping_add(seed),
            ((y / 40) as u8).wrapping_mul(60),
            seed,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode PNG");
    out.into_inner()
}

/// A real JPEG of `width` x `height` px, distinct per `seed` (a reference photo the server
/// checks by its header).
pub fn jpeg_bytes(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x as u8).wrapping_add(seed),
            (y as u8).wrapping_mul(3),
            seed,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode JPEG");
    out.into_inner()
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write file");
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
