//! The server the HTTP targets talk to: the real router ([`api_router`]) driven in process
//! with `tower::ServiceExt::oneshot`, no socket, on its own runtime. Built once per process.

use std::sync::OnceLock;

use axum::body::{Body, Bytes};
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

use fieldsync_server::config::Config;
use fieldsync_server::routes::api_router;
use fieldsync_server::startup::Application;
use fieldsync_server::state::AppState;

/// The demo tenant's password of every demo user.
const DEMO_PASSWORD: &str = "demo1234";
/// The fuzzing rep's device, fixed so that checked-in seeds of pushed changes carry the
/// actor the server binds to it.
pub const DEVICE_ID: &str = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f";
/// The Automerge actor of [`DEVICE_ID`] (hex).
pub const DEVICE_ACTOR: &str = "f022f022f022f022f022f022f022f022";

pub struct Harness {
    runtime: tokio::runtime::Runtime,
    router: Router,
    state: AppState,
    /// rep1 of the demo tenant, signed in on [`DEVICE_ID`].
    pub rep_token: String,
    /// A refresh token of rep1's session (valid until a target exchanges it).
    pub rep_refresh: String,
    /// The demo tenant's administrator (no device).
    pub admin_token: String,
    /// A store of rep1's territory.
    pub rep_store: String,
    /// rep1's user id.
    pub rep_user: String,
    _data_dir: tempfile::TempDir,
}

/// An answer: status and body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

static HARNESS: OnceLock<Harness> = OnceLock::new();

/// The process's server, started on first use.
pub fn harness() -> &'static Harness {
    HARNESS.get_or_init(Harness::start)
}

impl Harness {
    fn start() -> Harness {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_tests(data_dir.path());
        config.demo = true;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let state = runtime.block_on(async {
            Application::build(config)
                .await
                .expect("the server starts")
                .state()
                .clone()
        });
        let router = api_router(state.clone());
        let mut harness = Harness {
            runtime,
            router,
            state,
            rep_token: String::new(),
            rep_refresh: String::new(),
            admin_token: String::new(),
            rep_store: String::new(),
            rep_user: String::new(),
            _data_dir: data_dir,
        };
        let rep = harness.login(
            "rep1",
            Some(json!({"device_id": DEVICE_ID, "actor_id": DEVICE_ACTOR,
                        "name": "fuzzer", "platform": "linux"})),
        );
        harness.rep_token = rep["access_token"].as_str().expect("token").to_string();
        harness.rep_refresh = rep["refresh_token"].as_str().expect("refresh").to_string();
        let admin = harness.login("admin", None);
        harness.admin_token = admin["access_token"].as_str().expect("token").to_string();
        let me = harness.json(Method::GET, "/v1/me", &harness.rep_token.clone());
        harness.rep_user = me["id"].as_str().expect("user id").to_string();
        let master = harness.json(Method::GET, "/v1/master", &harness.rep_token.clone());
        harness.rep_store = master["stores"][0]["id"]
            .as_str()
            .expect("rep1 has a store")
            .to_string();
        harness
    }

    fn login(&self, username: &str, device: Option<Value>) -> Value {
        let body = json!({"tenant": "demo", "username": username, "password": DEMO_PASSWORD,
                          "device": device});
        let answer = self.call(
            Request::post("/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("request"),
        );
        assert_eq!(answer.status, StatusCode::OK, "{username} signs in");
        serde_json::from_slice(&answer.body).expect("JSON")
    }

    fn json(&self, method: Method, uri: &str, token: &str) -> Value {
        let answer = self.call(
            Request::builder()
                .method(method)
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request"),
        );
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        serde_json::from_slice(&answer.body).expect("JSON")
    }

    /// The running application's state (its token keys, its limits).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Sends `request` through the router and reads the whole answer.
    pub fn call(&self, request: Request<Body>) -> Answer {
        self.runtime.block_on(async {
            let resp = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router is infallible");
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .expect("the body reads");
            Answer { status, body }
        })
    }

    /// [`Self::call`] and [`check_answer`].
    pub fn call_checked(&self, request: Request<Body>) -> Answer {
        let what = format!("{} {}", request.method(), request.uri());
        let answer = self.call(request);
        check_answer(&what, &answer);
        answer
    }
}

/// The promises every answer keeps, whatever the input: never a server error, and every error
/// says what went wrong for machines (`reason`) and people (`message`).
pub fn check_answer(what: &str, answer: &Answer) {
    let body = String::from_utf8_lossy(&answer.body);
    assert!(
        !answer.status.is_server_error(),
        "{what} answered {}: {body}",
        answer.status
    );
    if answer.status.is_client_error() {
        let error: Value = serde_json::from_slice(&answer.body).unwrap_or_else(|e| {
            panic!(
                "{what} answered {} without a JSON error ({e}): {body}",
                answer.status
            )
        });
        for field in ["reason", "message"] {
            assert!(
                error[field].as_str().is_some_and(|s| !s.is_empty()),
                "{what} answered {} without `{field}`: {body}",
                answer.status
            );
        }
    }
}
