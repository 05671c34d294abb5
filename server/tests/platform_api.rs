//! Platform endpoints over real HTTP: each test starts its own `Application` on port 0 with a
//! fresh data directory and talks to it with a blocking HTTP client.

use std::time::{SystemTime, UNIX_EPOCH};

use fieldsync_server::config::{Config, Secret};
use fieldsync_server::demo;
use fieldsync_server::startup::Application;
use fieldsync_server::state::AppState;
use fieldsync_server::store::directory::Tenant;
use fieldsync_shared::master::{MasterDataPage, Product, Role, UserProfile};
use fieldsync_shared::{Money, PersonCode, Sha256, Sku, TenantId, UserId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

struct TestApp {
    base: String,
    ops: String,
    state: AppState,
    agent: ureq::Agent,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
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

fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.jwt_secret = Some(Secret::new(SECRET));
    config.demo = true;
    adjust(&mut config);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = rt
        .block_on(Application::build(config))
        .expect("application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let ops = format!("http://127.0.0.1:{}", app.ops_port());
    let state = app.state().clone();
    rt.spawn(app.run_until_stopped());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    TestApp {
        base,
        ops,
        state,
        agent,
        rt,
        _dir: dir,
    }
}

fn spawn() -> TestApp {
    spawn_with(|_| {})
}

impl TestApp {
    fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        answer(req.call())
    }

    fn get_with_auth_header(&self, path: &str, value: &str) -> Answer {
        answer(
            self.agent
                .get(format!("{}{path}", self.base))
                .header("Authorization", value)
                .call(),
        )
    }

    fn login_as(&self, tenant: &str, username: &str, password: &str) -> Answer {
        answer(
            self.agent
                .post(format!("{}/v1/auth/login", self.base))
                .send_json(json!({"tenant": tenant, "username": username, "password": password})),
        )
    }

    fn token(&self, tenant: &str, username: &str, password: &str) -> String {
        let a = self.login_as(tenant, username, password);
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        a.json()["access_token"].as_str().unwrap().to_string()
    }

    fn put_photo(&self, token: &str, sha: &str, content_type: &str, bytes: &[u8]) -> Answer {
        answer(
            self.agent
                .put(format!("{}/v1/photos/{sha}", self.base))
                .header("Authorization", format!("Bearer {token}"))
                .header("Content-Type", content_type)
                .send(bytes),
        )
    }

    fn head_photo(&self, token: &str, sha: &str) -> u16 {
        answer(
            self.agent
                .head(format!("{}/v1/photos/{sha}", self.base))
                .header("Authorization", format!("Bearer {token}"))
                .call(),
        )
        .status
    }

    fn ops_get(&self, path: &str) -> Answer {
        answer(self.agent.get(format!("{}{path}", self.ops)).call())
    }

    /// Creates a second tenant with one rep (password `other-pass-1`).
    fn add_other_tenant(&self) -> TenantId {
        let tenant = Tenant {
            id: TenantId::new_random(),
            slug: "other".into(),
            name: "Other Co".into(),
        };
        let user = UserProfile {
            id: UserId::new_random(),
            tenant_id: tenant.id,
            username: "rep1".into(),
            display_name: "Other Rep".into(),
            role: Role::Rep,
            code: PersonCode::parse("R001").unwrap(),
        };
        let store = self.state.store.clone();
        let id = tenant.id;
        self.rt.block_on(async move {
            store.create_tenant(&tenant).await.unwrap();
            let hash = fieldsync_server::auth::hash_password("other-pass-1".into())
                .await
                .unwrap();
            store.create_user(&user, &hash).await.unwrap();
        });
        id
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims like the server's, for a demo user, with `overrides` applied.
fn claims(overrides: Value) -> Value {
    let t = now();
    let mut c = json!({
        "sub": demo::demo_user_id("rep1").to_string(),
        "tid": demo::demo_tenant_id().to_string(),
        "role": "rep",
        "iat": t, "nbf": t, "exp": t + 600,
        "jti": "test",
        "iss": "fieldsync",
        "aud": "fieldsync-api",
    });
    if let (Some(obj), Some(o)) = (c.as_object_mut(), overrides.as_object()) {
        for (k, v) in o {
            if v.is_null() {
                obj.remove(k);
            } else {
                obj.insert(k.clone(), v.clone());
            }
        }
    }
    c
}

/// Signs `claims` with `secret`, naming the key as the server does.
fn sign(claims: &Value, secret: &str) -> String {
    sign_with_kid(
        claims,
        secret,
        Some(fieldsync_server::auth::key_id(secret.as_bytes())),
    )
}

fn sign_with_kid(claims: &Value, secret: &str, kid: Option<String>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid;
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[test]
fn health_is_public_and_reports_the_version() {
    let app = spawn();
    let a = app.get("/health", None);
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["status"], "ok");
    assert_eq!(a.json()["version"], env!("CARGO_PKG_VERSION"));
    // Every answer carries a request id.
    assert!(a.header("x-request-id").is_some_and(|v| v.len() >= 32));
}

#[test]
fn login_answers_a_token_and_the_profile() {
    let app = spawn();
    let a = app.login_as("demo", "rep1", "demo1234");
    assert_eq!(a.status, 200);
    let body = a.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let user: UserProfile = serde_json::from_value(body["user"].clone()).unwrap();
    assert_eq!(user.username, "rep1");
    assert_eq!(user.role, Role::Rep);
    assert_eq!(user.code.as_str(), "R001");
    assert_eq!(user.id, demo::demo_user_id("rep1"));

    let me = app.get("/v1/me", body["access_token"].as_str());
    assert_eq!(me.status, 200);
    let me: UserProfile = serde_json::from_slice(&me.body).unwrap();
    assert_eq!(me, user);
}

#[test]
fn wrong_password_unknown_user_and_unknown_tenant_get_the_same_answer() {
    let app = spawn();
    let answers = [
        app.login_as("demo", "rep1", "wrong-password"),
        app.login_as("demo", "nobody", "demo1234"),
        app.login_as("no-such-tenant", "rep1", "demo1234"),
    ];
    for a in &answers {
        assert_eq!(a.status, 401);
        assert_eq!(a.reason(), "invalid_credentials");
    }
    assert!(
        answers.iter().all(|a| a.body == answers[0].body),
        "answers differ"
    );
}

#[test]
fn malformed_login_bodies_are_json_errors() {
    let app = spawn_with(|c| c.limits.max_body_bytes = 4096);
    let a = answer(
        app.agent
            .post(format!("{}/v1/auth/login", app.base))
            .header("Content-Type", "application/json")
            .send(&b"{not json"[..]),
    );
    assert_eq!(a.status, 400);
    assert_eq!(a.reason(), "malformed_body");

    // Larger than the body limit: 413 in the JSON error shape.
    let big = json!({"tenant": "demo", "username": "rep1", "password": "x".repeat(10_000)});
    let a = answer(
        app.agent
            .post(format!("{}/v1/auth/login", app.base))
            .send_json(big),
    );
    assert_eq!(a.status, 413);
    assert_eq!(a.reason(), "body_too_large");
}

#[test]
fn protected_endpoints_refuse_missing_and_invalid_tokens() {
    let app = spawn();
    let good = sign(&claims(json!({})), SECRET);
    assert_eq!(
        app.get("/v1/me", Some(&good)).status,
        200,
        "the control token must work"
    );

    let expired = sign(
        &claims(json!({"iat": now() - 7200, "nbf": now() - 7200, "exp": now() - 3600})),
        SECRET,
    );
    let not_yet = sign(&claims(json!({"nbf": now() + 3600})), SECRET);
    let wrong_aud = sign(&claims(json!({"aud": "someone-else"})), SECRET);
    let wrong_iss = sign(&claims(json!({"iss": "evil"})), SECRET);
    let no_aud = sign(&claims(json!({"aud": null})), SECRET);
    let no_exp = sign(&claims(json!({"exp": null})), SECRET);
    let other_key = sign(
        &claims(json!({})),
        "another-secret-another-secret-another-secret",
    );
    // `alg: none`, with the good token's claims and no signature.
    let payload = good.split('.').nth(1).unwrap();
    let alg_none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    let mut hs512_header = Header::new(Algorithm::HS512);
    hs512_header.kid = Some(fieldsync_server::auth::key_id(SECRET.as_bytes()));
    let hs512 = jsonwebtoken::encode(
        &hs512_header,
        &claims(json!({})),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();

    // Right key and claims, but no or another key id.
    let no_kid = sign_with_kid(&claims(json!({})), SECRET, None);
    let unknown_kid = sign_with_kid(&claims(json!({})), SECRET, Some("hs256-1".into()));

    let mut cases: Vec<(&str, Answer)> = vec![
        ("missing", app.get("/v1/me", None)),
        ("garbage", app.get("/v1/me", Some("not.a.jwt"))),
        (
            "basic scheme",
            app.get_with_auth_header("/v1/me", &format!("Basic {good}")),
        ),
    ];
    for (name, token) in [
        ("expired", &expired),
        ("not yet valid", &not_yet),
        ("wrong audience", &wrong_aud),
        ("wrong issuer", &wrong_iss),
        ("no audience", &no_aud),
        ("no expiry", &no_exp),
        ("other key", &other_key),
        ("alg none", &alg_none),
        ("HS512", &hs512),
        ("no kid", &no_kid),
        ("unknown kid", &unknown_kid),
    ] {
        cases.push((name, app.get("/v1/me", Some(token))));
    }
    for (name, a) in cases {
        assert_eq!(a.status, 401, "{name}");
        assert_eq!(a.reason(), "unauthorized", "{name}");
        assert_eq!(a.header("www-authenticate"), Some("Bearer"), "{name}");
    }
    // Other protected endpoints use the same extractor.
    assert_eq!(app.get("/v1/master", None).status, 401);
    assert_eq!(
        app.get(&format!("/v1/photos/{}", "a".repeat(64)), None)
            .status,
        401
    );
}

fn jpeg(seed: u8, len: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    b
}

#[test]
fn photos_upload_once_download_and_stay_in_their_tenant() {
    let app = spawn();
    let token = app.token("demo", "rep1", "demo1234");
    let bytes = jpeg(1, 5000);
    let sha = Sha256::digest(&bytes).to_hex();

    assert_eq!(app.head_photo(&token, &sha), 404);
    let a = app.put_photo(&token, &sha, "image/jpeg", &bytes);
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(
        a.json(),
        json!({"sha256": sha, "size_bytes": bytes.len(), "content_type": "image/jpeg", "already_stored": false})
    );
    assert_eq!(app.head_photo(&token, &sha), 200);

    // Again (even with a body that would not match): a cheap no-op.
    let again = app.put_photo(&token, &sha, "image/jpeg", b"ignored");
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["already_stored"], true);

    let got = app.get(&format!("/v1/photos/{sha}"), Some(&token));
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    assert_eq!(got.body, bytes);

    // Another user of the same tenant sees it only through a document in their scope (none
    // references it yet); another tenant does not see it at all.
    let sup = app.token("demo", "sup1", "demo1234");
    assert_eq!(
        app.get(&format!("/v1/photos/{sha}"), Some(&sup)).status,
        404
    );
    app.add_other_tenant();
    let other = app.token("other", "rep1", "other-pass-1");
    assert_eq!(
        app.get(&format!("/v1/photos/{sha}"), Some(&other)).status,
        404
    );
    assert_eq!(app.head_photo(&other, &sha), 404);
}

#[test]
fn photo_uploads_are_checked() {
    let app = spawn_with(|c| c.max_photo_bytes = 64 * 1024);
    let token = app.token("demo", "rep1", "demo1234");
    let bytes = jpeg(2, 1000);
    let sha = Sha256::digest(&bytes).to_hex();

    let wrong = app.put_photo(
        &token,
        &Sha256::digest(b"something else").to_hex(),
        "image/jpeg",
        &bytes,
    );
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.reason(), "checksum_mismatch");

    let bad_type = app.put_photo(&token, &sha, "text/plain", &bytes);
    assert_eq!(bad_type.status, 415);
    assert_eq!(bad_type.reason(), "unsupported_media_type");

    let bad_sha = app.put_photo(&token, "not-a-hash", "image/jpeg", &bytes);
    assert_eq!(bad_sha.status, 400);
    assert_eq!(bad_sha.reason(), "invalid_sha256");

    let big = jpeg(3, 70 * 1024);
    let big_sha = Sha256::digest(&big).to_hex();
    let too_large = app.put_photo(&token, &big_sha, "image/png", &big);
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.reason(), "photo_too_large");
    // Streamed without a Content-Length: refused while receiving.
    let streamed = answer(
        app.agent
            .put(format!("{}/v1/photos/{big_sha}", app.base))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "image/png")
            .send(ureq::SendBody::from_reader(&mut &big[..])),
    );
    assert_eq!(streamed.status, 413);
    assert_eq!(streamed.reason(), "photo_too_large");

    // None of the refused uploads left anything behind.
    for s in [&sha, &big_sha] {
        assert_eq!(app.head_photo(&token, s), 404);
    }
}

#[test]
fn master_data_is_delivered_incrementally() {
    let app = spawn();
    let token = app.token("demo", "rep1", "demo1234");
    let a = app.get("/v1/master", Some(&token));
    assert_eq!(a.status, 200);
    let page: MasterDataPage = serde_json::from_slice(&a.body).unwrap();
    // rep1 covers the NKA and RKA stores of the demo (read scope); the catalogue is whole.
    assert_eq!(page.stores.len(), 16);
    assert_eq!(page.products.len(), 50);
    assert_eq!(page.credit.len(), 16);
    assert!(page.version > 0);
    let nka3 = demo::demo_store_id("NKA-003");
    assert!(page
        .credit
        .iter()
        .any(|c| c.store_id == nka3 && c.overdue.0 > 0));

    // Nothing new since that version.
    let a = app.get(&format!("/v1/master?since={}", page.version), Some(&token));
    let same: MasterDataPage = serde_json::from_slice(&a.body).unwrap();
    assert!(same.stores.is_empty() && same.products.is_empty() && same.credit.is_empty());
    assert_eq!(same.version, page.version);

    // A changed product shows up alone.
    let tenant = demo::demo_tenant_id();
    let store = app.state.store.clone();
    let product = Product {
        sku: Sku::parse("COLA-330").unwrap(),
        name: "Cola 330ml can (new design)".into(),
        case_pack: 24,
        sold_by_case: true,
        shelf_life_days: 360,
        list_price: Money(320),
        floor_price: Money(272),
    };
    let p2 = product.clone();
    app.rt
        .block_on(async move { store.upsert_products(tenant, &[p2]).await.unwrap() });
    let a = app.get(&format!("/v1/master?since={}", page.version), Some(&token));
    let next: MasterDataPage = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(next.products, vec![product]);
    assert!(next.stores.is_empty() && next.credit.is_empty());
    assert!(next.version > page.version);

    // Another tenant gets its own (empty) master data.
    app.add_other_tenant();
    let other = app.token("other", "rep1", "other-pass-1");
    let a = app.get("/v1/master", Some(&other));
    let theirs: MasterDataPage = serde_json::from_slice(&a.body).unwrap();
    assert!(theirs.stores.is_empty() && theirs.products.is_empty());

    let bad = app.get("/v1/master?since=abc", Some(&token));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.reason(), "invalid_query");
}

#[test]
fn metrics_and_openapi_are_on_the_ops_listener() {
    let app = spawn();
    assert_eq!(app.get("/health", None).status, 200);
    let nowhere = app.get("/nowhere", None);
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.reason(), "not_found");
    let wrong_method = answer(
        app.agent
            .delete(format!("{}/v1/auth/login", app.base))
            .call(),
    );
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.reason(), "method_not_allowed");
    let m = app.ops_get("/metrics");
    assert_eq!(m.status, 200);
    let text = String::from_utf8(m.body).unwrap();
    for name in [
        "http_requests_total",
        "http_request_duration_seconds",
        "sync_documents_merged_total",
        "sync_changes_stored_total",
        "sync_bytes_received_total",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    assert!(text.contains(r#"route="/health""#), "{text}");
    assert!(text.contains(r#"route="unmatched""#), "{text}");

    let spec = app.ops_get("/openapi.json");
    assert_eq!(spec.status, 200);
    let spec = spec.json();
    for path in [
        "/v1/sync",
        "/v1/auth/login",
        "/v1/me",
        "/v1/master",
        "/v1/photos/{sha256}",
        "/health",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI paths"
        );
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Not on the public listener.
    assert_eq!(app.get("/metrics", None).status, 404);
}

/// A photo is served with the type it was uploaded with, and the description says so (it
/// once named only image/jpeg).
#[test]
fn photos_are_served_with_their_uploaded_type_as_described() {
    let app = spawn();
    let token = app.token("demo", "rep1", "demo1234");
    let bytes = jpeg(2, 3000);
    let sha = Sha256::digest(&bytes).to_hex();
    assert_eq!(app.put_photo(&token, &sha, "image/png", &bytes).status, 201);
    let got = app.get(&format!("/v1/photos/{sha}"), Some(&token));
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("image/png"));

    let spec: Value =
        serde_json::from_str(&fieldsync_server::openapi::spec().to_json().unwrap()).unwrap();
    let photo = &spec["paths"]["/v1/photos/{sha256}"];
    for media in ["image/jpeg", "image/png", "image/webp", "image/heic"] {
        assert!(
            photo["get"]["responses"]["200"]["content"]
                .get(media)
                .is_some(),
            "{media}"
        );
        assert!(
            photo["put"]["requestBody"]["content"].get(media).is_some(),
            "{media}"
        );
    }
}

#[test]
fn demo_seed_is_idempotent() {
    let app = spawn();
    let store = app.state.store.clone();
    let (outcome, before, after) = app.rt.block_on(async move {
        let before = store.master_page(demo::demo_tenant_id(), 0).await.unwrap();
        let outcome = demo::seed(store.as_ref()).await.unwrap();
        let after = store.master_page(demo::demo_tenant_id(), 0).await.unwrap();
        (outcome, before, after)
    });
    assert_eq!(outcome, demo::SeedOutcome::AlreadyPresent);
    assert_eq!(before.version, after.version);
    assert_eq!(before.stores, after.stores);
    assert_eq!(app.login_as("demo", "admin", "demo1234").status, 200);
}

#[test]
fn issued_tokens_name_their_key() {
    let app = spawn();
    let a = app.login_as("demo", "rep1", "demo1234");
    assert_eq!(a.status, 200);
    let token = a.json()["access_token"].as_str().unwrap().to_string();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(
        header.kid,
        Some(fieldsync_server::auth::key_id(SECRET.as_bytes()))
    );
    assert_eq!(app.get("/v1/me", Some(&token)).status, 200);
}

#[test]
fn repeated_failed_logins_are_throttled_per_user() {
    let app = spawn();
    for i in 0..10 {
        let a = app.login_as("demo", "rep1", "wrong-password");
        assert_eq!(a.status, 401, "attempt {}", i + 1);
        assert_eq!(a.reason(), "invalid_credentials");
    }
    let limited = app.login_as("demo", "rep1", "wrong-password");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.reason(), "rate_limited");
    let retry: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "{retry}");

    // The right password is refused too while limited, also with other spellings of the name.
    let a = app.login_as("demo", "rep1", "demo1234");
    assert_eq!(a.status, 429);
    assert_eq!(app.login_as("demo", " REP1 ", "demo1234").status, 429);

    // An unknown user is throttled the same way (no hint that the user exists).
    for _ in 0..10 {
        assert_eq!(app.login_as("demo", "nobody", "x").status, 401);
    }
    let unknown = app.login_as("demo", "nobody", "x");
    assert_eq!(unknown.status, 429);
    assert_eq!(unknown.body, limited.body);

    // Other users are unaffected.
    assert_eq!(app.login_as("demo", "rep2", "demo1234").status, 200);
}

#[test]
fn a_successful_login_resets_the_failure_count() {
    let app = spawn_with(|c| c.login_max_failures = 3);
    for _ in 0..2 {
        assert_eq!(app.login_as("demo", "rep1", "wrong").status, 401);
    }
    assert_eq!(app.login_as("demo", "rep1", "demo1234").status, 200);
    for _ in 0..3 {
        assert_eq!(app.login_as("demo", "rep1", "wrong").status, 401);
    }
    assert_eq!(app.login_as("demo", "rep1", "demo1234").status, 429);
}

#[test]
fn failed_logins_are_throttled_per_client_address() {
    let app = spawn_with(|c| c.login_max_failures_per_ip = 4);
    for name in ["a", "b", "c", "d"] {
        assert_eq!(app.login_as("demo", name, "wrong").status, 401);
    }
    // Every username, known or not, from this address is now refused.
    let a = app.login_as("demo", "rep2", "demo1234");
    assert_eq!(a.status, 429);
    assert!(a.header("retry-after").is_some());
}
