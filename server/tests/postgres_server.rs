//! The server on PostgreSQL: `Application::build` with a `postgres://` DATABASE_URL (each test
//! on its own fresh database, see `support`), the pool options, and what a database that
//! cannot be reached looks like. Needs `FIELDSYNC_TEST_DATABASE_URL` (`scripts/with-postgres.sh`).

use std::time::{Duration, Instant};

use fieldsync_server::config::{Config, Secret};
use fieldsync_server::startup::{Application, StartupError};
use fieldsync_server::store::postgres::{PgPoolSettings, PgStore};
use fieldsync_server::store::StoreError;
use serde_json::{json, Value};

mod support;

const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn json_of(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut resp = resp.expect("HTTP request");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_vec().unwrap_or_default();
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, value)
}

fn login(base: &str, password: &str) -> (u16, Value) {
    json_of(
        agent()
            .post(format!("{base}/v1/auth/login"))
            .send_json(json!({"tenant": "demo", "username": "rep1", "password": password})),
    )
}

#[test]
fn the_server_runs_on_postgres_with_demo_data_and_a_second_instance_shares_it() {
    let rt = runtime();
    let db = rt.block_on(support::pg_database());
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.database_url = Some(Secret::new(db.url()));
    config.db_max_connections = 4;
    config.jwt_secret = Some(Secret::new(SECRET));
    config.demo = true;

    let app = rt
        .block_on(Application::build(config.clone()))
        .expect("the server starts on PostgreSQL");
    let base = format!("http://127.0.0.1:{}", app.port());
    rt.spawn(app.run_until_stopped());
    assert!(
        !dir.path().join("fieldsync.db").exists(),
        "no SQLite file when PostgreSQL is configured"
    );

    let (status, body) = json_of(agent().get(format!("{base}/health")).call());
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = login(&base, "demo1234");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["username"], "rep1");
    let token = body["access_token"].as_str().unwrap().to_string();
    let (status, _) = login(&base, "wrong-password");
    assert_eq!(status, 401);

    let (status, master) = json_of(
        agent()
            .get(format!("{base}/v1/master?since=0"))
            .header("Authorization", format!("Bearer {token}"))
            .call(),
    );
    assert_eq!(status, 200, "{master}");
    assert!(master["version"].as_i64().unwrap() > 0);
    assert!(!master["stores"].as_array().unwrap().is_empty());
    assert!(!master["products"].as_array().unwrap().is_empty());

    // A second instance on the same database: migrations and demo seeding are idempotent, and
    // it answers with the same data (stateless instances share everything through the database).
    let dir2 = tempfile::tempdir().unwrap();
    let mut config2 = config.clone();
    config2.data_dir = dir2.path().to_path_buf();
    let app2 = rt
        .block_on(Application::build(config2))
        .expect("a second instance starts on the same database");
    let base2 = format!("http://127.0.0.1:{}", app2.port());
    rt.spawn(app2.run_until_stopped());
    let (status, master2) = json_of(
        agent()
            .get(format!("{base2}/v1/master?since=0"))
            .header("Authorization", format!("Bearer {token}"))
            .call(),
    );
    assert_eq!(status, 200);
    assert_eq!(master2["version"], master["version"]);
    assert_eq!(master2["stores"], master["stores"]);

    drop(rt); // stops both servers and their pools
    runtime().block_on(async {
        db.drop_database().await.expect("drop the test database");
    });
}

#[tokio::test]
async fn pool_settings_apply_and_a_statement_timeout_is_a_503_not_a_500() {
    let db = support::pg_database().await;
    let settings = PgPoolSettings {
        max_connections: 2,
        statement_timeout: Some(Duration::from_millis(250)),
        acquire_timeout: Duration::from_millis(500),
    };
    let store = PgStore::open(db.url(), &settings).await.expect("open");
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(timeout, "250ms");
    let app_name: String = sqlx::query_scalar("SHOW application_name")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(app_name, "fieldsync-server");

    let slow = sqlx::query("SELECT pg_sleep(2)")
        .execute(store.pool())
        .await
        .unwrap_err();
    let mapped = StoreError::from(slow);
    assert!(
        matches!(mapped, StoreError::Unavailable(_)),
        "a cancelled statement means retry later: {mapped:?}"
    );

    // Every connection checked out: the next request waits acquire_timeout, then 503.
    let held = (
        store.pool().acquire().await.unwrap(),
        store.pool().acquire().await.unwrap(),
    );
    let started = Instant::now();
    let waited = store.pool().acquire().await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(matches!(
        StoreError::from(waited),
        StoreError::Unavailable(_)
    ));
    drop(held);

    // No statement timeout: 0 in the configuration.
    let unlimited = PgStore::open(
        db.url(),
        &PgPoolSettings {
            statement_timeout: None,
            ..settings
        },
    )
    .await
    .unwrap();
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(unlimited.pool())
        .await
        .unwrap();
    assert_eq!(timeout, "0");

    store.close().await;
    unlimited.close().await;
    db.drop_database().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_database_fails_startup_clearly_without_the_password() {
    // A loopback port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.database_url = Some(Secret::new(format!(
        "postgres://fieldsync:hunter2-secret@127.0.0.1:{port}/fieldsync"
    )));
    config.db_acquire_timeout_ms = 1_000;
    let started = Instant::now();
    let err = match Application::build(config).await {
        Err(e) => e,
        Ok(_) => panic!("nothing listens there"),
    };
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        matches!(err, StartupError::Store(StoreError::Unavailable(_))),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("cannot open the database"), "{msg}");
    assert!(
        msg.contains(&format!("127.0.0.1:{port}")),
        "says where: {msg}"
    );
    assert!(msg.to_lowercase().contains("refused"), "says why: {msg}");
    assert!(!msg.contains("hunter2"), "the password leaked: {msg}");
    assert!(!format!("{err:?}").contains("hunter2"));
}
