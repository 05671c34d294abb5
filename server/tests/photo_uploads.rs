//! The photo upload protocol (docs/photo-uploads.md) over real HTTP: each test starts its own
//! `Application` on port 0 and talks to it like a device, with a blocking HTTP client.
//!
//! Every scenario is a function of a running [`TestApp`]; a *variant* (database engine, blob
//! store) is a setup function and one `variant!` line at the end of this file:
//!
//! * `sqlite`: SQLite + the local blob store;
//! * `postgres`: PostgreSQL (a scratch database on the server named by
//!   `FIELDSYNC_TEST_DATABASE_URL`, which `scripts/with-postgres.sh` sets) + the local blob
//!   store. Skipped, with a message, when the variable is unset.
//! * `s3`: SQLite + the S3 store on the Garage that `scripts/with-garage.sh` starts
//!   (`FIELDSYNC_TEST_S3_*`; each test under its own key prefix), so devices send bytes to
//!   presigned URLs. Parts are S3's minimum of 5 MiB. Skipped, with a message, when unset.
//!
//! Scenarios follow the `put` requests the server hands out (presigned to an object store, or
//! `null`: through the server) and size photos from the configured part size, so an object
//! store variant needs no other change.

use std::path::Path;
use std::sync::Arc;

use automerge::{ActorId, AutoCommit};
use fieldsync_server::config::{Config, Secret};
use fieldsync_server::photos::gc::{self, GcReport};
use fieldsync_server::startup::Application;
use fieldsync_server::state::AppState;
use fieldsync_server::store::devices::DeviceRegistration;
use fieldsync_server::store::directory::Tenant;
use fieldsync_server::store::postgres::testing::{ScratchDatabase, TEST_DATABASE_URL_ENV};
use fieldsync_shared::document::{new_document, reconcile_visit};
use fieldsync_shared::master::{Channel, Grade, Role, Store, UserProfile};
use fieldsync_shared::protocol::{
    decode, encode, gunzip, gzip, DocPush, PushResult, SyncRequest, SyncResponse, PROTOCOL_VERSION,
    SYNC_CONTENT_TYPE,
};
use fieldsync_shared::values::{Date, DeviceId, DocId, PersonCode, Position, StoreCode, StoreId};
use fieldsync_shared::visit::{PhotoRef, Visit};
use fieldsync_shared::{Sha256, TenantId, Timestamp, UserId};
use serde_json::{json, Value};

const SECRET: &str = "photo-upload-test-secret-0123456789-abcdef";

// -------------------------------------------------------------------------------------------
// Variants.

/// A configuration and whatever must live as long as the server.
struct Setup {
    config: Config,
    db: Option<ScratchDatabase>,
}

/// Builds the setup of a variant in a fresh data directory.
type Variant = fn(&tokio::runtime::Runtime, &Path) -> Setup;

/// What every variant shares: small limits so multipart uploads stay small.
fn base_config(dir: &Path) -> Config {
    let mut config = Config::for_tests(dir);
    config.jwt_secret = Some(Secret::new(SECRET));
    config.max_photo_bytes = 256 * 1024;
    config.photos.multipart_threshold_bytes = 8 * 1024;
    config.photos.part_bytes = 4 * 1024;
    // Tests run the clean-up themselves (gc::run_at).
    config.photos.gc_interval_secs = 0;
    config
}

fn sqlite_local(_: &tokio::runtime::Runtime, dir: &Path) -> Setup {
    Setup {
        config: base_config(dir),
        db: None,
    }
}

fn postgres_local(rt: &tokio::runtime::Runtime, dir: &Path) -> Setup {
    // Never skip: a missing server is a failure of the test setup, said plainly.
    assert!(
        std::env::var(TEST_DATABASE_URL_ENV).is_ok(),
        "{TEST_DATABASE_URL_ENV} is not set: run the tests through scripts/test.sh \
         (or scripts/with-postgres.sh)"
    );
    let db = rt
        .block_on(ScratchDatabase::create())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut config = base_config(dir);
    config.database_url = Some(Secret::new(db.url()));
    config.db_max_connections = 4;
    Setup {
        config,
        db: Some(db),
    }
}

fn sqlite_s3(_: &tokio::runtime::Runtime, dir: &Path) -> Setup {
    let bucket = std::env::var("FIELDSYNC_TEST_S3_BUCKET").unwrap_or_else(|_| {
        panic!(
            "FIELDSYNC_TEST_S3_BUCKET is not set: run the tests through scripts/test.sh \
             (or scripts/with-garage.sh)"
        )
    });
    let env = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let mut prefix = [0u8; 8];
    getrandom::fill(&mut prefix).unwrap();
    let mut config = base_config(dir);
    config.blobs.s3_bucket = Some(bucket);
    config.blobs.s3_endpoint = Some(env("FIELDSYNC_TEST_S3_ENDPOINT"));
    config.blobs.s3_region = env("FIELDSYNC_TEST_S3_REGION");
    config.blobs.s3_access_key_id = Some(env("FIELDSYNC_TEST_S3_ACCESS_KEY_ID"));
    config.blobs.s3_secret_access_key =
        Some(Secret::new(env("FIELDSYNC_TEST_S3_SECRET_ACCESS_KEY")));
    config.blobs.s3_prefix = format!("photo-uploads-{}/", hex::encode(prefix));
    // S3's minimum part size (the server refuses smaller parts with a store that presigns).
    config.max_photo_bytes = 24 * 1024 * 1024;
    config.photos.multipart_threshold_bytes = 5 * 1024 * 1024;
    config.photos.part_bytes = 5 * 1024 * 1024;
    Setup { config, db: None }
}

// -------------------------------------------------------------------------------------------
// The running server and an HTTP client acting as devices of two tenants.

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    fn reason(&self) -> String {
        self.json()["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    #[track_caller]
    fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "unexpected answer: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }
}

struct Device {
    tenant: TenantId,
    /// A store of the tenant, for the visits this device creates.
    store: StoreId,
    user: UserId,
    token: String,
    /// The registered device the token was issued to, and the actor bound to it.
    device_id: DeviceId,
    actor: ActorId,
}

struct TestApp {
    base: String,
    state: AppState,
    agent: ureq::Agent,
    a: Device,
    b: Device,
    db: Option<ScratchDatabase>,
    // Dropped last: the server runs on it.
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            if let Err(e) = self.rt.block_on(db.drop_database()) {
                eprintln!("dropping the test database failed: {e}");
            }
        }
    }
}

fn run(variant: Variant, scenario: fn(&TestApp)) {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let setup = variant(&rt, dir.path());
    let app = rt
        .block_on(Application::build(setup.config))
        .expect("application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    rt.spawn(app.run_until_stopped());
    let a = rt.block_on(new_tenant(&state, "a"));
    let b = rt.block_on(new_tenant(&state, "b"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Redirects (to presigned GETs) are followed by hand, without the Bearer token.
        .max_redirects(0)
        .build()
        .into();
    let app = TestApp {
        base,
        state,
        agent,
        a,
        b,
        db: setup.db,
        rt,
        _dir: dir,
    };
    scenario(&app);
}

/// A store of `tenant`'s master data: documents can only be created for one.
async fn new_store(state: &AppState, tenant: TenantId) -> StoreId {
    let store = Store {
        id: StoreId::new_random(),
        code: StoreCode::parse(&format!("S{}", &StoreId::new_random().to_string()[..8])).unwrap(),
        name: "Test store".into(),
        channel: Channel::Nka,
        grade: Grade::A,
        address: "1 Test Street".into(),
        location: Position::new(30.58, 114.27).unwrap(),
        geofence_radius_m: 150,
        delivery_lead_days: 2,
        monthly_potential: None,
        chain: None,
    };
    state
        .store
        .upsert_stores(tenant, std::slice::from_ref(&store))
        .await
        .unwrap();
    store.id
}

async fn new_tenant(state: &AppState, slug: &str) -> Device {
    let tenant = Tenant {
        id: TenantId::new_random(),
        slug: slug.to_string(),
        name: format!("Tenant {slug}"),
    };
    state.store.create_tenant(&tenant).await.unwrap();
    let profile = UserProfile {
        id: UserId::new_random(),
        tenant_id: tenant.id,
        username: format!("rep-{slug}"),
        display_name: "Rep".into(),
        role: Role::Rep,
        code: PersonCode::parse("R001").unwrap(),
    };
    state.store.create_user(&profile, "unused").await.unwrap();
    let registration = DeviceRegistration {
        id: DeviceId::new_random(),
        tenant_id: tenant.id,
        user_id: profile.id,
        actor: ActorId::random(),
        name: format!("phone of rep-{slug}"),
        platform: "test".into(),
    };
    let session = fieldsync_server::sessions::open_device_session(state, &profile, &registration)
        .await
        .expect("device session");
    Device {
        tenant: tenant.id,
        store: new_store(state, tenant.id).await,
        user: profile.id,
        token: session.access.token,
        device_id: registration.id,
        actor: registration.actor,
    }
}

fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut resp = result.expect("HTTP request failed");
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

fn sha_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).to_hex()
}

impl TestApp {
    fn config(&self) -> &Config {
        &self.state.config
    }

    /// Whether devices send bytes to the object store directly.
    fn presigns(&self) -> bool {
        self.config().blobs.s3_bucket.is_some()
    }

    /// A request to the server (or, for absolute URLs, elsewhere) with the device's token.
    fn call(
        &self,
        method: &str,
        path: &str,
        device: &Device,
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("Authorization", format!("Bearer {}", device.token));
        match body {
            Some((content_type, bytes)) => {
                builder = builder.header("Content-Type", content_type);
                answer(self.agent.run(builder.body(bytes).unwrap()))
            }
            None => answer(self.agent.run(builder.body(()).unwrap())),
        }
    }

    /// Sends a presigned request as given (never with the Bearer token).
    fn send_presigned(&self, req: &Value, body: Option<Vec<u8>>) -> Answer {
        let mut builder = ureq::http::Request::builder()
            .method(req["method"].as_str().unwrap())
            .uri(req["url"].as_str().unwrap());
        for pair in req["headers"].as_array().unwrap() {
            let (name, value) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            if !name.eq_ignore_ascii_case("content-length") {
                builder = builder.header(name, value);
            }
        }
        match body {
            Some(bytes) => answer(self.agent.run(builder.body(bytes).unwrap())),
            None => answer(self.agent.run(builder.body(()).unwrap())),
        }
    }

    fn declare(&self, device: &Device, bytes: &[u8], content_type: &str) -> Answer {
        self.declare_raw(
            device,
            json!({"sha256": sha_hex(bytes), "size_bytes": bytes.len(), "content_type": content_type}),
        )
    }

    fn declare_raw(&self, device: &Device, body: Value) -> Answer {
        self.call(
            "POST",
            "/v1/photos/uploads",
            device,
            Some(("application/json", body.to_string().into_bytes())),
        )
    }

    /// Sends the whole photo of a single upload the way the ticket says.
    fn send_single(&self, device: &Device, ticket: &Value, bytes: &[u8]) -> Answer {
        assert_eq!(ticket["mode"], "single", "{ticket}");
        match &ticket["put"] {
            Value::Null => self.call(
                "PUT",
                &format!(
                    "/v1/photos/uploads/{}/content",
                    ticket["upload_id"].as_str().unwrap()
                ),
                device,
                Some(("application/octet-stream", bytes.to_vec())),
            ),
            put => self.send_presigned(put, Some(bytes.to_vec())),
        }
    }

    /// Sends part `n` the way the server says (presigned or through the server).
    fn send_part(&self, device: &Device, upload_id: &str, n: u32, bytes: &[u8]) -> Answer {
        let asked = self.call(
            "GET",
            &format!(
                "/v1/photos/uploads/{upload_id}/parts/{n}?sha256={}&size={}",
                sha_hex(bytes),
                bytes.len()
            ),
            device,
            None,
        );
        asked.expect(200);
        match &asked.json()["put"] {
            Value::Null => self.put_part(device, upload_id, n, bytes.to_vec()),
            put => self.send_presigned(put, Some(bytes.to_vec())),
        }
    }

    fn put_part(&self, device: &Device, upload_id: &str, n: u32, bytes: Vec<u8>) -> Answer {
        self.call(
            "PUT",
            &format!("/v1/photos/uploads/{upload_id}/parts/{n}"),
            device,
            Some(("application/octet-stream", bytes)),
        )
    }

    fn upload_state(&self, device: &Device, upload_id: &str) -> Answer {
        self.call(
            "GET",
            &format!("/v1/photos/uploads/{upload_id}"),
            device,
            None,
        )
    }

    fn complete(&self, device: &Device, upload_id: &str) -> Answer {
        self.call(
            "POST",
            &format!("/v1/photos/uploads/{upload_id}/complete"),
            device,
            None,
        )
    }

    fn head_photo(&self, device: &Device, sha: &str) -> u16 {
        self.call("HEAD", &format!("/v1/photos/{sha}"), device, None)
            .status
    }

    /// `GET path` (a server path, or an absolute presigned URL fetched without the token),
    /// following a 307 to a presigned URL without the token.
    fn download(&self, device: &Device, path: &str) -> Answer {
        if path.starts_with("http") {
            return answer(self.agent.get(path).call());
        }
        let first = self.call("GET", path, device, None);
        if first.status == 307 {
            let location = first.header("location").expect("a Location").to_string();
            return answer(self.agent.get(location).call());
        }
        first
    }

    /// Declares, sends and completes `bytes`; returns the completion answer's JSON.
    fn store_photo(&self, device: &Device, bytes: &[u8], content_type: &str) -> Value {
        let declared = self.declare(device, bytes, content_type);
        declared.expect(201);
        let ticket = declared.json();
        let id = ticket["upload_id"].as_str().unwrap().to_string();
        if ticket["mode"] == "single" {
            let sent = self.send_single(device, &ticket, bytes);
            assert!((200..300).contains(&sent.status), "{}", sent.status);
        } else {
            let part_size = ticket["part_size"].as_u64().unwrap() as usize;
            for (i, part) in bytes.chunks(part_size).enumerate() {
                let sent = self.send_part(device, &id, i as u32 + 1, part);
                assert!((200..300).contains(&sent.status), "{}", sent.status);
            }
        }
        let done = self.complete(device, &id);
        done.expect(200);
        done.json()
    }

    /// A state whose configuration `adjust` changed (for clean-up runs).
    fn state_with(&self, adjust: impl FnOnce(&mut Config)) -> AppState {
        let mut state = self.state.clone();
        let mut config = (*state.config).clone();
        adjust(&mut config);
        state.config = Arc::new(config);
        state
    }

    fn gc_at(&self, state: &AppState, now_ms: i64) -> GcReport {
        self.rt.block_on(gc::run_at(state, Timestamp(now_ms)))
    }

    /// Pushes a visit referencing `photos` (new, or a new version of `existing`).
    fn sync_visit(
        &self,
        device: &Device,
        existing: Option<(DocId, AutoCommit)>,
        photos: &[&[u8]],
    ) -> (DocId, AutoCommit) {
        let (id, mut doc, mut visit) = match existing {
            Some((id, doc)) => {
                let visit: Visit = fieldsync_shared::document::hydrate_visit(&doc).unwrap();
                (id, doc, visit)
            }
            None => {
                let id = DocId::new_random();
                let visit = Visit::new(
                    id,
                    device.store,
                    device.user,
                    Date::parse("2026-03-02").unwrap(),
                );
                (id, new_document(device.actor.clone()), visit)
            }
        };
        visit.photos.clear();
        for bytes in photos {
            let sha = Sha256::digest(bytes);
            visit.photos.insert(
                sha.to_hex(),
                PhotoRef {
                    sha256: sha,
                    size_bytes: bytes.len() as u64,
                    content_type: "image/png".into(),
                    step: None,
                    taken_at: Timestamp::now(),
                    taken_by: device.user,
                    position: None,
                    capture: None,
                },
            );
        }
        let heads = doc.get_heads();
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
        let push = DocPush {
            doc_id: id,
            kind: "visit".into(),
            changes: doc
                .get_changes(&heads)
                .iter()
                .map(|c| c.raw_bytes().to_vec().into())
                .collect(),
            receipt: None,
        };
        let request = SyncRequest {
            protocol: PROTOCOL_VERSION,
            device_id: device.device_id,
            push: vec![push],
            pull: None,
        };
        let resp = answer(
            self.agent
                .post(format!("{}/v1/sync", self.base))
                .header("Authorization", format!("Bearer {}", device.token))
                .header("Content-Type", SYNC_CONTENT_TYPE)
                .header("Content-Encoding", "gzip")
                .send(&gzip(&encode(&request))[..]),
        );
        resp.expect(200);
        let decoded: SyncResponse = decode(&resp.body)
            .or_else(|_| decode(&gunzip(&resp.body, 64 << 20).unwrap()))
            .unwrap();
        assert!(
            matches!(decoded.outcomes[0].result, PushResult::Stored { .. }),
            "{:?}",
            decoded.outcomes
        );
        (id, doc)
    }
}

// -------------------------------------------------------------------------------------------
// Test data.

/// A real PNG of `width` x `height` (compresses well: large blocks of colour).
fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            ((x / 50) as u8).wrapping_mul(40).wrapping_add(seed),
            ((y / 50) as u8).wrapping_mul(60),
            seed,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    getrandom::fill(&mut b).unwrap();
    b
}

/// Bytes for a multipart upload: 3.5 parts.
fn multipart_photo(app: &TestApp) -> Vec<u8> {
    let part = app.config().photos.part_bytes as usize;
    let bytes = random_bytes(part * 3 + part / 2);
    assert!(bytes.len() as u64 > app.config().photos.multipart_threshold_bytes);
    bytes
}

fn part_sizes(ticket: &Value) -> Vec<usize> {
    let size = ticket["size_bytes"].as_u64().unwrap() as usize;
    let part = ticket["part_size"].as_u64().unwrap() as usize;
    (0..size)
        .step_by(part)
        .map(|s| part.min(size - s))
        .collect()
}

// -------------------------------------------------------------------------------------------
// Scenarios.

fn single_upload_then_read(app: &TestApp) {
    let dev = &app.a;
    let photo = png(600, 400, 7);
    assert!((photo.len() as u64) < app.config().photos.multipart_threshold_bytes);
    let sha = sha_hex(&photo);

    let declared = app.declare(dev, &photo, "image/png");
    declared.expect(201);
    let ticket = declared.json();
    assert_eq!(ticket["status"], "upload");
    assert_eq!(ticket["mode"], "single");
    assert_eq!(ticket["sha256"], sha.as_str());
    assert_eq!(ticket["size_bytes"], photo.len());
    assert_eq!(ticket["content_type"], "image/png");
    assert_eq!(ticket["parts"], 1);
    let id = ticket["upload_id"].as_str().unwrap().to_string();

    let state = app.upload_state(dev, &id);
    state.expect(200);
    assert_eq!(state.json()["status"], "uploading");
    assert_eq!(state.json()["stored_parts"], json!([]));
    // Nothing sent yet: not complete.
    let early = app.complete(dev, &id);
    early.expect(409);
    assert_eq!(early.reason(), "upload_incomplete");

    let sent = app.send_single(dev, &ticket, &photo);
    assert!((200..300).contains(&sent.status), "{}", sent.status);
    assert_eq!(
        app.upload_state(dev, &id).json()["stored_parts"],
        json!([1])
    );
    // Not a photo before it is completed.
    assert_eq!(app.head_photo(dev, &sha), 404);

    let done = app.complete(dev, &id);
    done.expect(200);
    assert_eq!(
        done.json(),
        json!({"status": "stored", "sha256": sha, "thumbnail": true})
    );
    assert_eq!(app.head_photo(dev, &sha), 200);
    let got = app.download(dev, &format!("/v1/photos/{sha}"));
    got.expect(200);
    assert_eq!(got.body, photo);

    let thumb = app.download(dev, &format!("/v1/photos/{sha}/thumbnail"));
    thumb.expect(200);
    assert_eq!(
        image::guess_format(&thumb.body).unwrap(),
        image::ImageFormat::Jpeg
    );
    let decoded = image::load_from_memory(&thumb.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 171));

    let url = app.call("GET", &format!("/v1/photos/{sha}/url"), dev, None);
    url.expect(200);
    let url = url.json();
    assert!(url["expires_at"].as_i64().unwrap() > Timestamp::now().millis());
    let via_url = app.download(dev, url["url"].as_str().unwrap());
    via_url.expect(200);
    assert_eq!(via_url.body, photo);

    // Completing again answers the same; declaring again: stored, nothing to send.
    let again = app.complete(dev, &id);
    again.expect(200);
    assert_eq!(again.json()["thumbnail"], true);
    let redeclared = app.declare(dev, &photo, "image/png");
    redeclared.expect(200);
    assert_eq!(
        redeclared.json(),
        json!({"status": "stored", "sha256": sha})
    );
    assert_eq!(app.upload_state(dev, &id).json()["status"], "stored");

    // Bytes that are no image this server decodes: stored, without a thumbnail.
    let junk = random_bytes(3000);
    let done = app.store_photo(dev, &junk, "image/heic");
    assert_eq!(done["thumbnail"], false);
    let junk_sha = sha_hex(&junk);
    assert_eq!(app.head_photo(dev, &junk_sha), 200);
    let no_thumb = app.call(
        "GET",
        &format!("/v1/photos/{junk_sha}/thumbnail"),
        dev,
        None,
    );
    no_thumb.expect(404);
    let got = app.download(dev, &format!("/v1/photos/{junk_sha}"));
    assert_eq!(got.body, junk);
    if !app.presigns() {
        assert_eq!(got.header("content-type"), Some("image/heic"));
    }

    let metrics = app.state.metrics.render();
    assert!(
        metrics.contains("photo_uploads_total{outcome=\"stored\"} 2"),
        "{metrics}"
    );
}

fn multipart_upload_resumes(app: &TestApp) {
    let dev = &app.a;
    let photo = multipart_photo(app);
    let sha = sha_hex(&photo);

    let declared = app.declare(dev, &photo, "image/jpeg");
    declared.expect(201);
    let ticket = declared.json();
    assert_eq!(ticket["mode"], "multipart");
    assert_eq!(ticket["put"], Value::Null);
    assert_eq!(ticket["parts"], 4);
    let part_size = ticket["part_size"].as_u64().unwrap() as usize;
    assert_eq!(part_size as u64, app.config().photos.part_bytes);
    let id = ticket["upload_id"].as_str().unwrap().to_string();
    let parts: Vec<&[u8]> = photo.chunks(part_size).collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        part_sizes(&ticket)
    );

    for n in [1, 2] {
        let sent = app.send_part(dev, &id, n, parts[n as usize - 1]);
        assert!((200..300).contains(&sent.status), "{}", sent.status);
    }
    let state = app.upload_state(dev, &id);
    state.expect(200);
    let state = state.json();
    assert_eq!(state["status"], "uploading");
    assert_eq!(state["mode"], "multipart");
    assert_eq!(state["parts"], 4);
    assert_eq!(state["stored_parts"], json!([1, 2]));

    // The app restarts: declaring again resumes the same upload.
    let resumed = app.declare(dev, &photo, "image/jpeg");
    resumed.expect(201);
    assert_eq!(resumed.json()["upload_id"], id.as_str());
    assert_eq!(resumed.json()["parts"], 4);

    // Asking for a part with the wrong size or number is refused.
    let wrong_size = app.call(
        "GET",
        &format!(
            "/v1/photos/uploads/{id}/parts/4?sha256={}&size={part_size}",
            sha_hex(parts[3])
        ),
        dev,
        None,
    );
    wrong_size.expect(400);
    assert_eq!(wrong_size.reason(), "invalid_part_size");
    let wrong_number = app.call(
        "GET",
        &format!(
            "/v1/photos/uploads/{id}/parts/5?sha256={}&size=1",
            sha_hex(parts[3])
        ),
        dev,
        None,
    );
    wrong_number.expect(400);
    assert_eq!(wrong_number.reason(), "invalid_part_number");

    for n in [3, 4] {
        let sent = app.send_part(dev, &id, n, parts[n as usize - 1]);
        assert!((200..300).contains(&sent.status), "{}", sent.status);
    }
    assert_eq!(
        app.upload_state(dev, &id).json()["stored_parts"],
        json!([1, 2, 3, 4])
    );
    let done = app.complete(dev, &id);
    done.expect(200);
    assert_eq!(
        done.json(),
        json!({"status": "stored", "sha256": sha, "thumbnail": false})
    );
    assert_eq!(app.head_photo(dev, &sha), 200);
    assert_eq!(app.download(dev, &format!("/v1/photos/{sha}")).body, photo);
    let state = app.upload_state(dev, &id).json();
    assert_eq!(state["status"], "stored");
    assert_eq!(state["stored_parts"], json!([1, 2, 3, 4]));
    app.complete(dev, &id).expect(200);
    app.declare(dev, &photo, "image/jpeg").expect(200);
}

fn corrupted_part_fails_verification(app: &TestApp) {
    let dev = &app.a;
    let photo = multipart_photo(app);
    let sha = sha_hex(&photo);
    let ticket = app.declare(dev, &photo, "image/jpeg").json();
    let id = ticket["upload_id"].as_str().unwrap().to_string();
    let part_size = ticket["part_size"].as_u64().unwrap() as usize;
    for (i, part) in photo.chunks(part_size).enumerate() {
        let mut bytes = part.to_vec();
        if i == 1 {
            bytes[10] ^= 0xff;
        }
        // Sent with the hash of the corrupted bytes: the store accepts the part as sent.
        let sent = app.send_part(dev, &id, i as u32 + 1, &bytes);
        assert!((200..300).contains(&sent.status), "{}", sent.status);
    }
    let done = app.complete(dev, &id);
    done.expect(422);
    assert_eq!(done.reason(), "checksum_mismatch");
    assert_eq!(app.head_photo(dev, &sha), 404);
    app.call("GET", &format!("/v1/photos/{sha}"), dev, None)
        .expect(404);
    let state = app.upload_state(dev, &id).json();
    assert_eq!(state["status"], "failed");
    assert_eq!(state["stored_parts"], json!([]));
    // A failed upload cannot be completed or continued: declare again.
    let closed = app.complete(dev, &id);
    closed.expect(409);
    assert_eq!(closed.reason(), "upload_closed");
    let closed = app.put_part(dev, &id, 1, photo[..part_size].to_vec());
    closed.expect(409);
    assert_eq!(closed.reason(), "upload_closed");
    let again = app.declare(dev, &photo, "image/jpeg");
    again.expect(201);
    assert_ne!(again.json()["upload_id"], id.as_str());
    // The bytes of the failed attempt are gone: the new upload stores the right ones.
    let new_id = again.json()["upload_id"].as_str().unwrap().to_string();
    for (i, part) in photo.chunks(part_size).enumerate() {
        app.send_part(dev, &new_id, i as u32 + 1, part);
    }
    app.complete(dev, &new_id).expect(200);
    assert_eq!(app.download(dev, &format!("/v1/photos/{sha}")).body, photo);

    // A part sent through the server with its hash is checked on arrival.
    let other = multipart_photo(app);
    let ticket = app.declare(dev, &other, "image/jpeg").json();
    let id = ticket["upload_id"].as_str().unwrap();
    if ticket["put"].is_null() {
        let part = other[..part_size].to_vec();
        let wrong = app.call(
            "PUT",
            &format!(
                "/v1/photos/uploads/{id}/parts/1?sha256={}",
                sha_hex(b"something else")
            ),
            dev,
            Some(("application/octet-stream", part)),
        );
        wrong.expect(422);
        assert_eq!(wrong.reason(), "checksum_mismatch");
        assert_eq!(app.upload_state(dev, id).json()["stored_parts"], json!([]));
    }

    // A single upload whose bytes are wrong is refused before anything is stored.
    let photo = random_bytes(2000);
    let ticket = app.declare(dev, &photo, "image/jpeg").json();
    let mut wrong = photo.clone();
    wrong[0] ^= 1;
    let sent = app.send_single(dev, &ticket, &wrong);
    if ticket["put"].is_null() {
        sent.expect(422);
        assert_eq!(sent.reason(), "checksum_mismatch");
    } else {
        // The object store checks the signed checksum.
        assert!(
            sent.status >= 400,
            "the store accepted wrong bytes: {}",
            sent.status
        );
    }
    let id = ticket["upload_id"].as_str().unwrap();
    assert_eq!(app.upload_state(dev, id).json()["stored_parts"], json!([]));
    app.complete(dev, id).expect(409);
}

fn missing_part_is_incomplete(app: &TestApp) {
    let dev = &app.a;
    let photo = multipart_photo(app);
    let ticket = app.declare(dev, &photo, "image/webp").json();
    let id = ticket["upload_id"].as_str().unwrap().to_string();
    let part_size = ticket["part_size"].as_u64().unwrap() as usize;
    let parts: Vec<&[u8]> = photo.chunks(part_size).collect();
    for n in [1u32, 2, 4] {
        app.send_part(dev, &id, n, parts[n as usize - 1]);
    }
    let done = app.complete(dev, &id);
    done.expect(409);
    assert_eq!(done.reason(), "upload_incomplete");
    assert!(done.json()["message"].as_str().unwrap().contains("[3]"));
    let state = app.upload_state(dev, &id).json();
    assert_eq!(state["status"], "uploading");
    assert_eq!(state["stored_parts"], json!([1, 2, 4]));
    app.send_part(dev, &id, 3, parts[2]);
    app.complete(dev, &id).expect(200);
}

fn sizes_and_declarations_are_checked(app: &TestApp) {
    let dev = &app.a;
    let max = app.config().max_photo_bytes;
    let sha = sha_hex(b"whatever");

    let too_big = app.declare_raw(
        dev,
        json!({"sha256": sha, "size_bytes": max + 1, "content_type": "image/jpeg"}),
    );
    too_big.expect(413);
    assert_eq!(too_big.reason(), "photo_too_large");
    let bad_type = app.declare_raw(
        dev,
        json!({"sha256": sha, "size_bytes": 10, "content_type": "text/plain"}),
    );
    bad_type.expect(415);
    assert_eq!(bad_type.reason(), "unsupported_media_type");
    let bad_sha = app.declare_raw(
        dev,
        json!({"sha256": "abc", "size_bytes": 10, "content_type": "image/jpeg"}),
    );
    bad_sha.expect(400);
    assert_eq!(bad_sha.reason(), "invalid_sha256");
    let empty = app.declare_raw(
        dev,
        json!({"sha256": sha, "size_bytes": 0, "content_type": "image/jpeg"}),
    );
    empty.expect(400);
    assert_eq!(empty.reason(), "invalid_size");
    let malformed = app.call(
        "POST",
        "/v1/photos/uploads",
        dev,
        Some(("application/json", b"{not json".to_vec())),
    );
    malformed.expect(400);
    assert_eq!(malformed.reason(), "malformed_body");
    let huge_json = app.call(
        "POST",
        "/v1/photos/uploads",
        dev,
        Some(("application/json", vec![b' '; 64 * 1024])),
    );
    huge_json.expect(413);

    // Through the server: a part longer than the part, a body longer than declared.
    let photo = multipart_photo(app);
    let ticket = app.declare(dev, &photo, "image/jpeg").json();
    let id = ticket["upload_id"].as_str().unwrap();
    let part_size = ticket["part_size"].as_u64().unwrap() as usize;
    let long_part = app.put_part(dev, id, 1, random_bytes(part_size + 1));
    long_part.expect(413);
    assert_eq!(long_part.reason(), "part_too_large");
    let last = part_sizes(&ticket)[3];
    let long_last = app.put_part(dev, id, 4, random_bytes(last + 1));
    long_last.expect(413);
    assert_eq!(long_last.reason(), "part_too_large");
    let short = app.put_part(dev, id, 1, random_bytes(part_size - 1));
    short.expect(400);
    assert_eq!(short.reason(), "invalid_part_size");
    assert_eq!(app.upload_state(dev, id).json()["stored_parts"], json!([]));
    let not_single = app.call(
        "PUT",
        &format!("/v1/photos/uploads/{id}/content"),
        dev,
        Some(("application/octet-stream", photo.clone())),
    );
    not_single.expect(400);

    let small = random_bytes(1000);
    let ticket = app.declare(dev, &small, "image/jpeg").json();
    let id = ticket["upload_id"].as_str().unwrap();
    let mut longer = small.clone();
    longer.push(0);
    let too_long = app.call(
        "PUT",
        &format!("/v1/photos/uploads/{id}/content"),
        dev,
        Some(("application/octet-stream", longer)),
    );
    too_long.expect(413);
    assert_eq!(too_long.reason(), "photo_too_large");
    let not_multipart = app.put_part(dev, id, 1, small.clone());
    not_multipart.expect(400);
    assert_eq!(not_multipart.reason(), "not_multipart");

    // Unknown or malformed upload ids.
    app.upload_state(dev, "not-a-uuid").expect(404);
    app.upload_state(dev, &uuid::Uuid::new_v4().to_string())
        .expect(404);
    app.complete(dev, &uuid::Uuid::new_v4().to_string())
        .expect(404);
}

fn other_tenants_see_nothing(app: &TestApp) {
    let (a, b) = (&app.a, &app.b);
    let photo = png(300, 300, 99);
    let sha = sha_hex(&photo);
    app.store_photo(a, &photo, "image/png");

    let pending = multipart_photo(app);
    let ticket = app.declare(a, &pending, "image/jpeg").json();
    let id = ticket["upload_id"].as_str().unwrap().to_string();
    let part_size = ticket["part_size"].as_u64().unwrap() as usize;
    app.send_part(a, &id, 1, &pending[..part_size]);

    // A colleague in the same tenant: an upload is its declarer's alone.
    let colleague = app.colleague(a);
    app.upload_state(&colleague, &id).expect(404);
    app.complete(&colleague, &id).expect(404);
    // Tenant b: neither the upload nor the photo exists.
    app.upload_state(b, &id).expect(404);
    app.complete(b, &id).expect(404);
    app.put_part(b, &id, 2, pending[part_size..2 * part_size].to_vec())
        .expect(404);
    app.call(
        "GET",
        &format!(
            "/v1/photos/uploads/{id}/parts/2?sha256={}&size={part_size}",
            sha_hex(&pending[part_size..2 * part_size])
        ),
        b,
        None,
    )
    .expect(404);
    assert_eq!(app.head_photo(b, &sha), 404);
    for path in [
        format!("/v1/photos/{sha}"),
        format!("/v1/photos/{sha}/url"),
        format!("/v1/photos/{sha}/thumbnail"),
    ] {
        app.call("GET", &path, b, None).expect(404);
    }
    // Declaring the same photos in tenant b starts b's own uploads.
    let theirs = app.declare(b, &photo, "image/png");
    theirs.expect(201);
    let resumed = app.declare(b, &pending, "image/jpeg");
    resumed.expect(201);
    assert_ne!(resumed.json()["upload_id"], id.as_str());
    // Tenant a's upload is untouched.
    assert_eq!(app.upload_state(a, &id).json()["stored_parts"], json!([1]));
}

fn gc_aborts_stale_uploads(app: &TestApp) {
    let dev = &app.a;
    let max_age_ms = app.config().photos.upload_max_age_secs as i64 * 1000;
    let photo = multipart_photo(app);
    let ticket = app.declare(dev, &photo, "image/jpeg").json();
    let id = ticket["upload_id"].as_str().unwrap().to_string();
    let part_size = ticket["part_size"].as_u64().unwrap() as usize;
    app.send_part(dev, &id, 1, &photo[..part_size]);
    let single = random_bytes(500);
    let single_id = app.declare(dev, &single, "image/jpeg").json()["upload_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Younger than the maximum age: left alone.
    let now = Timestamp::now().millis();
    let report = app.gc_at(&app.state, now + max_age_ms / 2);
    assert_eq!(report.expired_uploads, 0, "{report:?}");
    assert_eq!(report.aborted_multipart, 0, "{report:?}");
    assert_eq!(report.errors, 0, "{report:?}");
    assert_eq!(
        app.upload_state(dev, &id).json()["stored_parts"],
        json!([1])
    );

    let report = app.gc_at(&app.state, now + max_age_ms + 60_000);
    assert_eq!(report.expired_uploads, 2, "{report:?}");
    assert_eq!(report.aborted_multipart, 1, "{report:?}");
    assert_eq!(report.errors, 0, "{report:?}");
    let state = app.upload_state(dev, &id).json();
    assert_eq!(state["status"], "expired");
    assert_eq!(state["stored_parts"], json!([]));
    assert_eq!(
        app.upload_state(dev, &single_id).json()["status"],
        "expired"
    );
    // The store holds no multipart upload any more.
    let pending = app
        .rt
        .block_on(app.state.blobs.list_multipart(now + 2 * max_age_ms))
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
    let closed = app.put_part(dev, &id, 2, photo[part_size..2 * part_size].to_vec());
    closed.expect(409);
    assert_eq!(closed.reason(), "upload_closed");
    // Nothing left to do on the next run.
    let report = app.gc_at(&app.state, now + max_age_ms + 60_000);
    assert_eq!(report, GcReport::default());

    // Declaring again starts over.
    let again = app.declare(dev, &photo, "image/jpeg");
    again.expect(201);
    assert_ne!(again.json()["upload_id"], id.as_str());
    let metrics = app.state.metrics.render();
    assert!(
        metrics.contains("photo_uploads_total{outcome=\"expired\"} 2"),
        "{metrics}"
    );
}

fn gc_reports_and_deletes_orphans(app: &TestApp) {
    let dev = &app.a;
    let orphan = png(400, 300, 1);
    let kept = png(400, 300, 2);
    let dropped_later = png(400, 300, 3);
    let other_tenant = png(400, 300, 4);
    for photo in [&orphan, &kept, &dropped_later] {
        app.store_photo(dev, photo, "image/png");
    }
    app.store_photo(&app.b, &other_tenant, "image/png");
    // A visit references two of a's photos; b's visit references the same bytes as a's orphan
    // (references are per tenant), and b's own photo.
    let visit = app.sync_visit(dev, None, &[&kept, &dropped_later]);
    app.sync_visit(&app.b, None, &[&orphan, &other_tenant]);

    let orphan_age_ms = app.config().photos.orphan_photo_age_secs as i64 * 1000;
    let now = Timestamp::now().millis();
    // Too young to be orphans.
    let report = app.gc_at(&app.state, now);
    assert_eq!(report.orphans, 0, "{report:?}");

    let later = now + orphan_age_ms + 60_000;
    let report = app.gc_at(&app.state, later);
    assert_eq!(report.orphans, 1, "{report:?}");
    assert_eq!(report.deleted_orphans, 0, "{report:?}");
    assert!(app.state.metrics.render().contains("photos_orphaned 1"));
    assert_eq!(app.head_photo(dev, &sha_hex(&orphan)), 200);

    // The visit drops a photo: it becomes an orphan too.
    app.sync_visit(dev, Some(visit), &[&kept]);
    assert_eq!(app.gc_at(&app.state, later).orphans, 2);

    let deleting = app.state_with(|c| c.photos.delete_orphan_photos = true);
    let report = app.gc_at(&deleting, later);
    assert_eq!(report.orphans, 2, "{report:?}");
    assert_eq!(report.deleted_orphans, 2, "{report:?}");
    assert_eq!(report.errors, 0, "{report:?}");
    assert!(app.state.metrics.render().contains("photos_orphaned 0"));
    for gone in [&orphan, &dropped_later] {
        let sha = sha_hex(gone);
        assert_eq!(app.head_photo(dev, &sha), 404);
        app.call("GET", &format!("/v1/photos/{sha}/thumbnail"), dev, None)
            .expect(404);
        let key = fieldsync_server::blobs::BlobKey::photo(dev.tenant, &Sha256::digest(gone));
        assert!(!app.rt.block_on(app.state.blobs.exists(&key)).unwrap());
    }
    // Referenced photos stay, in both tenants.
    assert_eq!(app.head_photo(dev, &sha_hex(&kept)), 200);
    assert_eq!(
        app.download(dev, &format!("/v1/photos/{}", sha_hex(&kept)))
            .body,
        kept
    );
    assert_eq!(app.head_photo(&app.b, &sha_hex(&other_tenant)), 200);
    // A deleted photo can be uploaded again.
    let again = app.declare(dev, &orphan, "image/png");
    again.expect(201);
    let report = app.gc_at(&deleting, later);
    assert_eq!(
        (report.orphans, report.deleted_orphans),
        (0, 0),
        "{report:?}"
    );
}

// -------------------------------------------------------------------------------------------
// Variants x scenarios.

macro_rules! variant {
    ($name:ident, $setup:path) => {
        mod $name {
            use super::*;

            #[test]
            fn single_upload_then_read() {
                run($setup, super::single_upload_then_read);
            }
            #[test]
            fn multipart_upload_resumes() {
                run($setup, super::multipart_upload_resumes);
            }
            #[test]
            fn corrupted_part_fails_verification() {
                run($setup, super::corrupted_part_fails_verification);
            }
            #[test]
            fn missing_part_is_incomplete() {
                run($setup, super::missing_part_is_incomplete);
            }
            #[test]
            fn sizes_and_declarations_are_checked() {
                run($setup, super::sizes_and_declarations_are_checked);
            }
            #[test]
            fn other_tenants_see_nothing() {
                run($setup, super::other_tenants_see_nothing);
            }
            #[test]
            fn gc_aborts_stale_uploads() {
                run($setup, super::gc_aborts_stale_uploads);
            }
            #[test]
            fn gc_reports_and_deletes_orphans() {
                run($setup, super::gc_reports_and_deletes_orphans);
            }
        }
    };
}

variant!(sqlite, sqlite_local);
variant!(postgres, postgres_local);
variant!(s3, sqlite_s3);

#[test]
fn upload_endpoints_are_in_the_openapi_description() {
    let spec: Value =
        serde_json::from_str(&fieldsync_server::openapi::spec().to_json().unwrap()).unwrap();
    for (path, methods) in [
        ("/v1/photos/uploads", &["post"][..]),
        ("/v1/photos/uploads/{upload_id}", &["get"]),
        ("/v1/photos/uploads/{upload_id}/content", &["put"]),
        ("/v1/photos/uploads/{upload_id}/parts/{n}", &["get", "put"]),
        ("/v1/photos/uploads/{upload_id}/complete", &["post"]),
        ("/v1/photos/{sha256}", &["get", "head", "put"]),
        ("/v1/photos/{sha256}/url", &["get"]),
        ("/v1/photos/{sha256}/thumbnail", &["get"]),
    ] {
        for method in methods {
            assert!(
                spec["paths"][path].get(method).is_some(),
                "{method} {path} missing from the OpenAPI description"
            );
        }
    }
    for schema in [
        "DeclareUpload",
        "DeclareAnswer",
        "UploadState",
        "PartUrl",
        "CompleteAnswer",
        "PhotoUrl",
        "PresignedRequest",
    ] {
        assert!(
            spec["components"]["schemas"].get(schema).is_some(),
            "schema {schema} missing"
        );
    }
}

// -------------------------------------------------------------------------------------------
// Thumbnails first (docs/photo-uploads.md): `PUT /v1/photos/{sha256}/thumbnail`.

use fieldsync_server::photos::thumbnails;
use fieldsync_server::store::photos::ThumbnailOrigin;

/// A real JPEG of `width` x `height` of one colour (distinct from any thumbnail the server
/// renders of the `png` photos).
fn flat_jpeg(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb(colour));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// Bytes the server cannot decode, sent as HEIC (no server thumbnail).
fn heic_like(seed: u8) -> Vec<u8> {
    let mut bytes = b"\0\0\0\x18ftypheic".to_vec();
    bytes.extend(random_bytes(2048));
    bytes.push(seed);
    bytes
}

impl TestApp {
    fn put_thumbnail(&self, device: &Device, sha: &str, body: Vec<u8>) -> Answer {
        self.call(
            "PUT",
            &format!("/v1/photos/{sha}/thumbnail"),
            device,
            Some(("image/jpeg", body)),
        )
    }

    /// The thumbnail's bytes (`200`, following a `307`), else the status.
    fn thumbnail(&self, device: &Device, sha: &str) -> Result<Vec<u8>, u16> {
        let got = self.download(device, &format!("/v1/photos/{sha}/thumbnail"));
        match got.status {
            200 => Ok(got.body),
            other => Err(other),
        }
    }

    fn origin(&self, device: &Device, sha: &str) -> Option<ThumbnailOrigin> {
        self.rt
            .block_on(
                self.state
                    .store
                    .photo_thumbnail_origin(device.tenant, &Sha256::parse(sha).unwrap()),
            )
            .unwrap()
    }

    fn device_blob_exists(&self, device: &Device, sha: &str) -> bool {
        let key = thumbnails::device_key(device.tenant, &Sha256::parse(sha).unwrap()).unwrap();
        self.rt.block_on(self.state.blobs.exists(&key)).unwrap()
    }

    /// Another rep of `of`'s tenant, with no territory: sees only their own documents.
    fn colleague(&self, of: &Device) -> Device {
        self.rt.block_on(async {
            let profile = UserProfile {
                id: UserId::new_random(),
                tenant_id: of.tenant,
                username: format!("colleague-{}", UserId::new_random()),
                display_name: "Colleague".into(),
                role: Role::Rep,
                code: PersonCode::parse("R777").unwrap(),
            };
            self.state
                .store
                .create_user(&profile, "unused")
                .await
                .unwrap();
            let registration = DeviceRegistration {
                id: DeviceId::new_random(),
                tenant_id: of.tenant,
                user_id: profile.id,
                actor: ActorId::random(),
                name: "colleague's phone".into(),
                platform: "test".into(),
            };
            let session = fieldsync_server::sessions::open_device_session(
                &self.state,
                &profile,
                &registration,
            )
            .await
            .expect("device session");
            Device {
                tenant: of.tenant,
                store: of.store,
                user: profile.id,
                token: session.access.token,
                device_id: registration.id,
                actor: registration.actor,
            }
        })
    }
}

fn device_thumbnails_are_checked(app: &TestApp) {
    let a = &app.a;
    let photo = png(600, 400, 21);
    let sha = sha_hex(&photo);
    app.sync_visit(a, None, &[&photo]);
    let thumb = fieldsync_shared::thumbnail::render(&photo).unwrap();

    let bad = app.put_thumbnail(a, "not-a-sha", thumb.clone());
    assert_eq!((bad.status, bad.reason()), (400, "invalid_sha256".into()));
    let mut big = flat_jpeg(64, 64, [1, 2, 3]);
    big.resize(64 * 1024 + 1, 0);
    let big = app.put_thumbnail(a, &sha, big);
    assert_eq!(
        (big.status, big.reason()),
        (413, "thumbnail_too_large".into())
    );
    for (what, body) in [
        ("a PNG", png(100, 100, 1)),
        ("a JPEG with a 300 px side", flat_jpeg(300, 100, [9, 9, 9])),
        ("half a JPEG", thumb[..thumb.len() / 2].to_vec()),
        ("no image", b"hello".to_vec()),
    ] {
        let refused = app.put_thumbnail(a, &sha, body);
        assert_eq!(
            (refused.status, refused.reason()),
            (422, "invalid_thumbnail".into()),
            "{what}"
        );
        assert!(!refused.json()["message"].as_str().unwrap().is_empty());
    }
    // Nothing was stored by the refusals.
    assert_eq!(app.thumbnail(a, &sha), Err(404));
    assert_eq!(app.origin(a, &sha), None);

    let stored = app.put_thumbnail(a, &sha, thumb.clone());
    stored.expect(201);
    assert_eq!(stored.json()["status"], "stored");
    // A lost answer: sending it again is harmless.
    let again = app.put_thumbnail(a, &sha, thumb.clone());
    again.expect(200);
    assert_eq!(again.json()["status"], "stored");
    assert_eq!(app.thumbnail(a, &sha), Ok(thumb));
    assert_eq!(app.origin(a, &sha), Some(ThumbnailOrigin::Device));
    // The photo itself is still not stored.
    assert_eq!(app.head_photo(a, &sha), 404);
    if !app.presigns() {
        let got = app.call("GET", &format!("/v1/photos/{sha}/thumbnail"), a, None);
        assert_eq!(got.header("cache-control"), Some("no-cache"));
    }
}

fn device_thumbnails_need_a_photo_the_caller_may_see(app: &TestApp) {
    let (a, b) = (&app.a, &app.b);
    let colleague = app.colleague(a);
    let photo = png(500, 300, 22);
    let sha = sha_hex(&photo);
    let thumb = flat_jpeg(200, 120, [200, 10, 10]);

    // Nobody references it yet.
    app.put_thumbnail(a, &sha, thumb.clone()).expect(404);
    app.sync_visit(a, None, &[&photo]);
    // Another tenant, and a colleague who may not see a's visit: as if it did not exist.
    for other in [b, &colleague] {
        let refused = app.put_thumbnail(other, &sha, thumb.clone());
        assert_eq!(
            refused.status,
            404,
            "{}",
            String::from_utf8_lossy(&refused.body)
        );
    }
    app.put_thumbnail(a, &sha, thumb.clone()).expect(201);
    for other in [b, &colleague] {
        assert_eq!(app.thumbnail(other, &sha), Err(404));
    }
    assert_eq!(app.thumbnail(a, &sha), Ok(thumb.clone()));

    // An upload the caller declared makes the photo theirs too (no visit needed).
    let declared = png(320, 200, 23);
    let declared_sha = sha_hex(&declared);
    app.put_thumbnail(&colleague, &declared_sha, thumb.clone())
        .expect(404);
    app.declare(&colleague, &declared, "image/png").expect(201);
    app.put_thumbnail(&colleague, &declared_sha, thumb.clone())
        .expect(201);
    assert_eq!(app.thumbnail(&colleague, &declared_sha), Ok(thumb));
    assert_eq!(app.thumbnail(a, &declared_sha), Err(404));
}

fn server_thumbnails_replace_device_ones(app: &TestApp) {
    let a = &app.a;
    let photo = png(640, 480, 24);
    let sha = sha_hex(&photo);
    let undecodable = heic_like(24);
    let heic_sha = sha_hex(&undecodable);
    app.sync_visit(a, None, &[&photo, &undecodable]);
    let device_thumb = flat_jpeg(256, 192, [10, 200, 10]);
    app.put_thumbnail(a, &sha, device_thumb.clone()).expect(201);
    app.put_thumbnail(a, &heic_sha, device_thumb.clone())
        .expect(201);
    assert_eq!(app.thumbnail(a, &sha), Ok(device_thumb.clone()));

    app.store_photo(a, &photo, "image/png");
    let server_thumb = fieldsync_shared::thumbnail::render(&photo).unwrap();
    assert_ne!(server_thumb, device_thumb);
    assert_eq!(app.thumbnail(a, &sha), Ok(server_thumb.clone()));
    assert_eq!(app.origin(a, &sha), Some(ThumbnailOrigin::Server));
    assert!(
        !app.device_blob_exists(a, &sha),
        "the replaced one is deleted"
    );
    // A device thumbnail arriving late changes nothing.
    let late = app.put_thumbnail(a, &sha, device_thumb.clone());
    late.expect(200);
    assert_eq!(late.json()["status"], "kept_server_thumbnail");
    assert_eq!(app.thumbnail(a, &sha), Ok(server_thumb));

    // The server cannot render HEIC: the device's thumbnail stays.
    app.store_photo(a, &undecodable, "image/heic");
    assert_eq!(app.head_photo(a, &heic_sha), 200);
    assert_eq!(app.thumbnail(a, &heic_sha), Ok(device_thumb));
    assert_eq!(app.origin(a, &heic_sha), Some(ThumbnailOrigin::Device));
}

fn gc_deletes_device_thumbnails_of_photos_never_stored(app: &TestApp) {
    let a = &app.a;
    let (never, arrived, heic) = (png(300, 200, 25), png(300, 200, 26), heic_like(27));
    let (never_sha, arrived_sha, heic_sha) = (sha_hex(&never), sha_hex(&arrived), sha_hex(&heic));
    app.sync_visit(a, None, &[&never, &arrived, &heic]);
    let thumb = flat_jpeg(120, 80, [5, 5, 250]);
    for sha in [&never_sha, &arrived_sha, &heic_sha] {
        app.put_thumbnail(a, sha, thumb.clone()).expect(201);
    }
    app.store_photo(a, &arrived, "image/png");
    app.store_photo(a, &heic, "image/heic");

    // Young: kept.
    let now = Timestamp::now().millis();
    let report = app.gc_at(&app.state, now);
    assert_eq!(report.deleted_device_thumbnails, 0, "{report:?}");
    assert_eq!(app.thumbnail(a, &never_sha), Ok(thumb.clone()));

    // Past the orphan age (deleting orphaned photos off): the thumbnail of the photo that
    // never came is deleted; the stored photos keep theirs.
    let age_ms = app.config().photos.orphan_photo_age_secs as i64 * 1000;
    let report = app.gc_at(&app.state, now + age_ms + 60_000);
    assert_eq!(report.deleted_device_thumbnails, 1, "{report:?}");
    assert_eq!(report.errors, 0, "{report:?}");
    assert_eq!(app.thumbnail(a, &never_sha), Err(404));
    assert_eq!(app.origin(a, &never_sha), None);
    assert!(!app.device_blob_exists(a, &never_sha));
    assert_eq!(
        app.thumbnail(a, &arrived_sha),
        Ok(fieldsync_shared::thumbnail::render(&arrived).unwrap())
    );
    assert_eq!(app.thumbnail(a, &heic_sha), Ok(thumb));
    // Idempotent.
    let report = app.gc_at(&app.state, now + age_ms + 60_000);
    assert_eq!(report.deleted_device_thumbnails, 0, "{report:?}");
}

/// Bytes that are not a thumbnail are refused on every `PUT`, also once a thumbnail is stored
/// (the device's, or the server's rendered from the photo) and nothing would be written.
fn every_device_thumbnail_put_is_checked(app: &TestApp) {
    let a = &app.a;
    let photo = png(600, 400, 28);
    let sha = sha_hex(&photo);
    app.sync_visit(a, None, &[&photo]);
    let thumb = flat_jpeg(200, 120, [30, 60, 90]);
    let mut big = flat_jpeg(64, 64, [1, 2, 3]);
    big.resize(64 * 1024 + 1, 0);
    let refusals = [
        ("over the size limit", big, 413, "thumbnail_too_large"),
        ("a PNG", png(100, 100, 2), 422, "invalid_thumbnail"),
        ("no image", b"hello".to_vec(), 422, "invalid_thumbnail"),
    ];
    let assert_refused = |stage: &str| {
        for (what, body, status, reason) in &refusals {
            let refused = app.put_thumbnail(a, &sha, body.clone());
            assert_eq!(
                (refused.status, refused.reason()),
                (*status, reason.to_string()),
                "{what}, {stage}"
            );
        }
    };

    assert_refused("before any thumbnail");
    app.put_thumbnail(a, &sha, thumb.clone()).expect(201);
    assert_refused("after the device's thumbnail");
    assert_eq!(app.thumbnail(a, &sha), Ok(thumb.clone()));
    let again = app.put_thumbnail(a, &sha, thumb.clone());
    again.expect(200);
    assert_eq!(again.json()["status"], "stored");

    app.store_photo(a, &photo, "image/png");
    assert_eq!(app.origin(a, &sha), Some(ThumbnailOrigin::Server));
    assert_refused("after the server's thumbnail");
    let late = app.put_thumbnail(a, &sha, thumb);
    late.expect(200);
    assert_eq!(late.json()["status"], "kept_server_thumbnail");
}

macro_rules! thumbnail_variant {
    ($name:ident, $setup:path) => {
        mod $name {
            use super::*;

            #[test]
            fn device_thumbnails_are_checked() {
                run($setup, super::device_thumbnails_are_checked);
            }
            #[test]
            fn every_device_thumbnail_put_is_checked() {
                run($setup, super::every_device_thumbnail_put_is_checked);
            }
            #[test]
            fn device_thumbnails_need_a_photo_the_caller_may_see() {
                run(
                    $setup,
                    super::device_thumbnails_need_a_photo_the_caller_may_see,
                );
            }
            #[test]
            fn server_thumbnails_replace_device_ones() {
                run($setup, super::server_thumbnails_replace_device_ones);
            }
            #[test]
            fn gc_deletes_device_thumbnails_of_photos_never_stored() {
                run(
                    $setup,
                    super::gc_deletes_device_thumbnails_of_photos_never_stored,
                );
            }
        }
    };
}

thumbnail_variant!(thumbnails_sqlite, sqlite_local);
thumbnail_variant!(thumbnails_postgres, postgres_local);
thumbnail_variant!(thumbnails_s3, sqlite_s3);

#[test]
fn the_thumbnail_put_is_in_the_openapi_description() {
    let spec: Value =
        serde_json::from_str(&fieldsync_server::openapi::spec().to_json().unwrap()).unwrap();
    assert!(spec["paths"]["/v1/photos/{sha256}/thumbnail"]
        .get("put")
        .is_some());
    assert!(spec["components"]["schemas"]
        .get("ThumbnailStored")
        .is_some());
}
