//! A real server with the demo tenant, on SQLite or on a fresh PostgreSQL database, for the
//! administration tests (`admin_api.rs`, `csv_import.rs`).

#![allow(dead_code)] // each test binary uses part of this module

use fieldsync_server::config::{Config, Secret};
use fieldsync_server::startup::Application;
use fieldsync_server::state::AppState;
use fieldsync_server::store::postgres::testing::ScratchDatabase;
use serde_json::{json, Value};

/// The HS256 secret the test servers sign with.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn reason(&self) -> String {
        self.json()["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub rt: tokio::runtime::Runtime,
    pub dir: tempfile::TempDir,
    /// `Some` on PostgreSQL: the database URL the binary can be pointed at.
    pub database_url: Option<String>,
    agent: ureq::Agent,
    _db: Option<ScratchDatabase>,
}

fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut resp = result.expect("HTTP request failed");
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    Answer { status, body }
}

/// `engine`: "sqlite" or "postgres" (which needs `FIELDSYNC_TEST_DATABASE_URL`: it fails
/// without it, never skips).
pub fn spawn(engine: &str) -> TestApp {
    spawn_with(engine, |_| {})
}

/// [`spawn`] with the configuration changed by `configure` last.
pub fn spawn_with(engine: &str, configure: impl FnOnce(&mut Config)) -> TestApp {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.jwt_secret = Some(Secret::new(SECRET));
    config.demo = true;
    let db = match engine {
        "sqlite" => None,
        "postgres" => {
            let db = rt
                .block_on(ScratchDatabase::create())
                .unwrap_or_else(|e| panic!("{e}"));
            config.database_url = Some(Secret::new(db.url()));
            config.db_max_connections = 4;
            Some(db)
        }
        other => panic!("unknown engine {other}"),
    };
    configure(&mut config);
    let app = rt
        .block_on(Application::build(config))
        .expect("application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    rt.spawn(app.run_until_stopped());
    TestApp {
        base,
        state,
        rt,
        dir,
        database_url: db.as_ref().map(|d| d.url().to_string()),
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into(),
        _db: db,
    }
}

impl TestApp {
    pub fn login_in(&self, tenant: &str, username: &str, password: &str) -> Answer {
        answer(
            self.agent
                .post(format!("{}/v1/auth/login", self.base))
                .send_json(json!({"tenant": tenant, "username": username, "password": password})),
        )
    }

    /// A token of a demo user.
    pub fn token(&self, username: &str) -> String {
        self.token_in("demo", username, "demo1234")
    }

    /// A token of a user signed in as a new device (random device id and actor).
    pub fn token_in(&self, tenant: &str, username: &str, password: &str) -> String {
        let a = self.login_device(tenant, username, password);
        assert_eq!(a.status, 200, "login {username}: {}", a.text());
        a.json()["access_token"].as_str().unwrap().to_string()
    }

    /// `POST /v1/auth/login` with a new device registration (random device id and actor).
    pub fn login_device(&self, tenant: &str, username: &str, password: &str) -> Answer {
        let device = json!({
            "device_id": fieldsync_shared::DeviceId::new_random().to_string(),
            "actor_id": automerge::ActorId::random().to_hex_string(),
            "name": format!("test device of {username}"),
            "platform": "test",
        });
        answer(
            self.agent
                .post(format!("{}/v1/auth/login", self.base))
                .send_json(
                    json!({"tenant": tenant, "username": username, "password": password,
                    "device": device}),
                ),
        )
    }

    pub fn get(&self, path: &str, token: &str) -> Answer {
        answer(
            self.agent
                .get(format!("{}{path}", self.base))
                .header("Authorization", format!("Bearer {token}"))
                .call(),
        )
    }

    pub fn send_json(&self, method: &str, path: &str, token: &str, body: Value) -> Answer {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {token}");
        let req = match method {
            "POST" => self.agent.post(url),
            "PATCH" => self.agent.patch(url),
            "PUT" => self.agent.put(url),
            other => panic!("method {other}"),
        };
        answer(req.header("Authorization", auth).send_json(body))
    }

    pub fn post_csv(&self, kind: &str, token: &str, csv: &str) -> Answer {
        answer(
            self.agent
                .post(format!("{}/v1/admin/import/{kind}", self.base))
                .header("Authorization", format!("Bearer {token}"))
                .header("Content-Type", "text/csv; charset=utf-8")
                .send(csv.as_bytes()),
        )
    }
}
