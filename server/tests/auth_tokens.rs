//! Access tokens, device sessions and refresh tokens over real HTTP (docs/auth.md): forged and
//! misaddressed tokens, device registration conflicts, refresh rotation and reuse detection,
//! logout, admin revocation, EdDSA keys and key rotation. The session flows run on SQLite and
//! PostgreSQL.

use std::path::{Path, PathBuf};

use base64::Engine;
use fieldsync_server::auth::{self, Claims};
use fieldsync_server::config::Secret;
use fieldsync_server::demo;
use fieldsync_server::store::directory::Tenant;
use fieldsync_shared::master::{Role, UserProfile};
use fieldsync_shared::{DeviceId, PersonCode, TenantId, UserId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

mod admin_support;
use admin_support::{spawn, spawn_with, Answer, TestApp, SECRET};

// ---------------------------------------------------------------------------------------------
// helpers

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut resp = result.expect("HTTP request failed");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_vec().unwrap_or_default();
    Answer { status, body }
}

fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> Answer {
    let mut req = agent().post(format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    answer(req.send_json(body))
}

fn me(app: &TestApp, token: &str) -> Answer {
    app.get("/v1/me", token)
}

/// A device registration body with a fresh device id and actor.
fn new_device() -> Value {
    json!({
        "device_id": DeviceId::new_random().to_string(),
        "actor_id": automerge::ActorId::random().to_hex_string(),
        "name": "Li's phone",
        "platform": "android",
    })
}

fn login_with(app: &TestApp, username: &str, device: &Value) -> Answer {
    post(
        app,
        "/v1/auth/login",
        None,
        json!({"tenant": "demo", "username": username, "password": "demo1234", "device": device}),
    )
}

/// Access token, refresh token and session id of a device login of `username`.
struct Session {
    access: String,
    refresh: String,
    session_id: String,
}

fn session_of(a: &Answer) -> Session {
    assert_eq!(a.status, 200, "{}", a.text());
    let j = a.json();
    Session {
        access: j["access_token"].as_str().unwrap().to_string(),
        refresh: j["refresh_token"].as_str().unwrap().to_string(),
        session_id: j["session_id"].as_str().unwrap().to_string(),
    }
}

fn device_login(app: &TestApp, username: &str) -> (Session, Value) {
    let device = new_device();
    (session_of(&login_with(app, username, &device)), device)
}

fn refresh(app: &TestApp, token: &str) -> Answer {
    post(
        app,
        "/v1/auth/refresh",
        None,
        json!({"refresh_token": token}),
    )
}

fn assert_refused(a: &Answer, reason: &str, what: &str) {
    assert_eq!(a.status, 401, "{what}: {}", a.text());
    assert_eq!(a.reason(), reason, "{what}: {}", a.text());
}

/// The claims of a token, read without verifying it.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn sign(claims: &Value, alg: Algorithm, key: &EncodingKey, kid: Option<String>) -> String {
    let mut header = Header::new(alg);
    header.kid = kid;
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn hs256(claims: &Value) -> String {
    sign(
        claims,
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Some(auth::key_id(SECRET.as_bytes())),
    )
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn with(claims: &Value, overrides: Value) -> Value {
    let mut c = claims.clone();
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

/// A second tenant `acme` with an administrator `root` (password `acme-admin-pw`).
fn second_tenant(app: &TestApp) {
    app.rt.block_on(async {
        let store = &app.state.store;
        let other = TenantId::new_random();
        store
            .create_tenant(&Tenant {
                id: other,
                slug: "acme".into(),
                name: "Acme".into(),
            })
            .await
            .unwrap();
        let hash = auth::hash_password("acme-admin-pw".into()).await.unwrap();
        store
            .create_user(
                &UserProfile {
                    id: UserId::new_random(),
                    tenant_id: other,
                    username: "root".into(),
                    display_name: "Acme admin".into(),
                    role: Role::Admin,
                    code: PersonCode::parse("A001").unwrap(),
                },
                &hash,
            )
            .await
            .unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// token verification (SQLite)

#[test]
fn forged_expired_and_misaddressed_tokens_are_refused() {
    let app = spawn("sqlite");
    let (s, _) = device_login(&app, "rep1");
    assert_eq!(me(&app, &s.access).status, 200, "the control token works");
    let c = claims_of(&s.access);
    assert!(c["did"].is_string() && c["sid"].is_string(), "{c}");
    // Re-signed with the server's key: still good (the cases below differ in one thing each).
    assert_eq!(me(&app, &hs256(&c)).status, 200, "re-signed control");

    let mut forged = s.access.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let payload = s.access.split('.').nth(1).unwrap();
    let cases = [
        ("forged signature", forged),
        (
            "expired",
            hs256(&with(
                &c,
                json!({"iat": now() - 7200, "nbf": now() - 7200, "exp": now() - 3600}),
            )),
        ),
        (
            "alg none",
            format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}."),
        ),
        (
            "wrong audience",
            hs256(&with(&c, json!({"aud": "someone-else"}))),
        ),
        ("wrong issuer", hs256(&with(&c, json!({"iss": "evil"})))),
        ("no exp", hs256(&with(&c, json!({"exp": null})))),
        (
            "wrong key",
            sign(
                &c,
                Algorithm::HS256,
                &EncodingKey::from_secret(b"another-secret-another-secret-another"),
                Some(auth::key_id(SECRET.as_bytes())),
            ),
        ),
        (
            "missing kid",
            sign(
                &c,
                Algorithm::HS256,
                &EncodingKey::from_secret(SECRET.as_bytes()),
                None,
            ),
        ),
        (
            "HS512",
            sign(
                &c,
                Algorithm::HS512,
                &EncodingKey::from_secret(SECRET.as_bytes()),
                Some(auth::key_id(SECRET.as_bytes())),
            ),
        ),
        // A session that exists, claimed for another device or user.
        (
            "other device",
            hs256(&with(
                &c,
                json!({"did": DeviceId::new_random().to_string()}),
            )),
        ),
        (
            "other user",
            hs256(&with(
                &c,
                json!({"sub": demo::demo_user_id("rep2").to_string()}),
            )),
        ),
        (
            "device without session",
            hs256(&with(&c, json!({"sid": null}))),
        ),
        (
            "unknown session",
            hs256(&with(&c, json!({"sid": uuid::Uuid::new_v4().to_string()}))),
        ),
    ];
    for (what, token) in cases {
        let a = me(&app, &token);
        assert_refused(&a, "unauthorized", what);
    }
}

#[test]
fn device_tokens_carry_the_device_and_its_actor() {
    let app = spawn("sqlite");
    let device = new_device();
    let s = session_of(&login_with(&app, "rep1", &device));
    let claims: Claims = app.state.tokens.verify(&s.access).unwrap();
    let principal = app
        .rt
        .block_on(auth::principal_of(&app.state, claims))
        .unwrap();
    let d = principal.device.expect("a device session");
    assert_eq!(
        d.device_id.to_string(),
        device["device_id"].as_str().unwrap()
    );
    assert_eq!(
        d.actor.to_hex_string(),
        device["actor_id"].as_str().unwrap()
    );
    assert_eq!(d.session_id.to_string(), s.session_id);
    assert_eq!(principal.user_id, demo::demo_user_id("rep1"));

    // Without a device: a token that works for reading, with no device and no refresh token.
    let bare = app.login_in("demo", "rep1", "demo1234");
    assert_eq!(bare.status, 200);
    assert!(bare.json()["refresh_token"].is_null());
    assert!(bare.json()["session_id"].is_null());
    let token = bare.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(me(&app, &token).status, 200);
    let claims = app.state.tokens.verify(&token).unwrap();
    assert!(claims.did.is_none() && claims.sid.is_none());
    let principal = app
        .rt
        .block_on(auth::principal_of(&app.state, claims))
        .unwrap();
    assert!(principal.device.is_none());
}

// ---------------------------------------------------------------------------------------------
// sessions (both engines)

fn device_registration_conflicts(app: &TestApp) {
    let device = new_device();
    let first = session_of(&login_with(app, "rep1", &device));
    // The same installation signing in again: a new session on the same device.
    let again = session_of(&login_with(app, "rep1", &device));
    assert_ne!(first.session_id, again.session_id);
    assert_eq!(
        me(app, &first.access).status,
        200,
        "the first session lives on"
    );

    let a = login_with(app, "rep2", &device);
    assert_eq!(
        (a.status, a.reason().as_str()),
        (409, "device_belongs_to_another_user"),
        "{}",
        a.text()
    );
    let mut other_id_same_actor = new_device();
    other_id_same_actor["actor_id"] = device["actor_id"].clone();
    let a = login_with(app, "rep1", &other_id_same_actor);
    assert_eq!((a.status, a.reason().as_str()), (409, "actor_in_use"));
    let a = login_with(app, "rep2", &other_id_same_actor);
    assert_eq!((a.status, a.reason().as_str()), (409, "actor_in_use"));
    let mut same_id_other_actor = device.clone();
    same_id_other_actor["actor_id"] = json!(automerge::ActorId::random().to_hex_string());
    let a = login_with(app, "rep1", &same_id_other_actor);
    assert_eq!((a.status, a.reason().as_str()), (409, "actor_in_use"));

    // Invalid registrations are refused before anything is stored.
    for (what, bad) in [
        ("actor not hex", json!({"actor_id": "not-hex"})),
        ("actor empty", json!({"actor_id": ""})),
        (
            "server actor",
            json!({"actor_id": hex::encode(b"fieldsync-server")}),
        ),
        ("name empty", json!({"name": " "})),
        ("platform", json!({"platform": "Windows 11 Pro"})),
        ("device id", json!({"device_id": "nope"})),
        ("unknown field", json!({"admin": true})),
    ] {
        let mut body = new_device();
        for (k, v) in bad.as_object().unwrap() {
            body[k] = v.clone();
        }
        let a = login_with(app, "rep1", &body);
        assert_eq!(
            (a.status, a.reason().as_str()),
            (422, "invalid_body"),
            "{what}: {}",
            a.text()
        );
    }
    // A wrong password says nothing about devices.
    let a = post(
        app,
        "/v1/auth/login",
        None,
        json!({"tenant": "demo", "username": "rep2", "password": "wrong-password", "device": device}),
    );
    assert_eq!(
        (a.status, a.reason().as_str()),
        (401, "invalid_credentials")
    );
}

fn refresh_rotates_and_reuse_revokes_the_family(app: &TestApp) {
    let (s0, _) = device_login(app, "rep1");
    let r1 = refresh(app, &s0.refresh);
    assert_eq!(r1.status, 200, "{}", r1.text());
    let s1 = session_of(&r1);
    assert_eq!(r1.json()["token_type"], "Bearer");
    assert_eq!(r1.json()["refresh_expires_in"], 30 * 24 * 3600);
    assert_eq!(s1.session_id, s0.session_id, "same family");
    assert_ne!(s1.refresh, s0.refresh);
    assert_ne!(s1.access, s0.access);
    assert_eq!(me(app, &s1.access).status, 200);
    let s2 = session_of(&refresh(app, &s1.refresh));
    assert_eq!(me(app, &s2.access).status, 200);

    // The first token again, after its successor was used: theft. The whole family goes.
    assert_refused(&refresh(app, &s0.refresh), "refresh_token_reused", "reused");
    assert_refused(&refresh(app, &s2.refresh), "unauthorized", "newest token");
    let a = me(app, &s2.access);
    assert_refused(&a, "unauthorized", "access token of the family");
    assert!(a.json()["message"].as_str().unwrap().contains("revoked"));

    // Another session of the same user is untouched.
    let (other, _) = device_login(app, "rep1");
    assert_eq!(me(app, &other.access).status, 200);
    assert_eq!(refresh(app, &other.refresh).status, 200);

    // Unknown and malformed tokens.
    assert_refused(&refresh(app, "no-such-token"), "unauthorized", "unknown");
    let a = post(
        app,
        "/v1/auth/refresh",
        None,
        json!({"refresh_token": "x", "more": 1}),
    );
    assert_eq!((a.status, a.reason().as_str()), (422, "invalid_body"));
}

fn a_retry_after_a_lost_answer_is_not_theft(app: &TestApp) {
    let (s0, _) = device_login(app, "rep1");
    // The answer to this exchange never reached the phone...
    let lost = session_of(&refresh(app, &s0.refresh));
    // ...so it tries again with the token it still has, within the grace period.
    let retried = refresh(app, &s0.refresh);
    assert_eq!(retried.status, 200, "{}", retried.text());
    let s1 = session_of(&retried);
    assert_eq!(s1.session_id, s0.session_id);
    assert_eq!(me(app, &s1.access).status, 200);
    let s2 = session_of(&refresh(app, &s1.refresh));
    assert_eq!(me(app, &s2.access).status, 200);
    // The lost token was superseded: whoever presents it now is not the phone.
    assert_refused(
        &refresh(app, &lost.refresh),
        "refresh_token_reused",
        "superseded token",
    );
    assert_refused(&me(app, &s2.access), "unauthorized", "family revoked");
}

fn concurrent_exchanges_of_one_token_yield_one_session(app: &TestApp) {
    let (s0, _) = device_login(app, "rep1");
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| refresh(app, &s0.refresh)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(
        ok.len(),
        1,
        "{:?}",
        answers.iter().map(Answer::text).collect::<Vec<_>>()
    );
    for a in answers.iter().filter(|a| a.status != 200) {
        assert_refused(a, "refresh_token_reused", "concurrent exchange");
    }
    // Reuse revoked the family, the winner's tokens included.
    let winner = session_of(ok[0]);
    assert_refused(&me(app, &winner.access), "unauthorized", "winner's access");
}

fn logout_ends_the_session(app: &TestApp) {
    let (s, _) = device_login(app, "rep1");
    let (other, _) = device_login(app, "rep1");
    let a = post(app, "/v1/auth/logout", Some(&s.access), json!({}));
    assert_eq!(a.status, 204, "{}", a.text());
    let a = me(app, &s.access);
    assert_refused(&a, "unauthorized", "access after logout");
    assert!(a.json()["message"].as_str().unwrap().contains("revoked"));
    assert_refused(
        &refresh(app, &s.refresh),
        "unauthorized",
        "refresh after logout",
    );
    assert_eq!(me(app, &other.access).status, 200, "other sessions stay");
    // Without a device there is no session to end; the token just expires.
    let bare = app.login_in("demo", "admin", "demo1234").json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        post(app, "/v1/auth/logout", Some(&bare), json!({})).status,
        204
    );
}

fn admins_revoke_devices(app: &TestApp) {
    let admin = app.token("admin");
    let device = new_device();
    let s = session_of(&login_with(app, "rep1", &device));
    let s2 = session_of(&login_with(app, "rep1", &device));
    let id = device["device_id"].as_str().unwrap();

    let list = app.get(
        &format!("/v1/admin/devices?user={}", demo::demo_user_id("rep1")),
        &admin,
    );
    assert_eq!(list.status, 200, "{}", list.text());
    let found = list.json()["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .cloned()
        .expect("the device is listed");
    assert_eq!(found["name"], "Li's phone");
    assert_eq!(found["platform"], "android");
    assert_eq!(found["actor_id"], device["actor_id"]);
    assert_eq!(found["user_id"], demo::demo_user_id("rep1").to_string());
    assert!(found["revoked_at"].is_null());
    assert!(found["last_seen_at"].as_i64().unwrap() >= found["registered_at"].as_i64().unwrap());
    assert_eq!(list.json()["truncated"], false);
    let rep2 = app.get(
        &format!("/v1/admin/devices?user={}", demo::demo_user_id("rep2")),
        &admin,
    );
    assert!(rep2.json()["devices"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["user_id"] == demo::demo_user_id("rep2").to_string()));
    let one = app.get("/v1/admin/devices?limit=1", &admin);
    assert_eq!(one.json()["devices"].as_array().unwrap().len(), 1);
    assert_eq!(one.json()["truncated"], true);
    for bad in ["limit=0", "limit=1001", "user=nope", "sort=name"] {
        let a = app.get(&format!("/v1/admin/devices?{bad}"), &admin);
        assert_eq!(
            (a.status, a.reason().as_str()),
            (400, "invalid_query"),
            "{bad}"
        );
    }

    // Other roles may not; other tenants cannot see or touch it.
    for role in ["rep1", "sup1"] {
        let token = app.token(role);
        assert_eq!(app.get("/v1/admin/devices", &token).status, 403, "{role}");
        let a = post(
            app,
            &format!("/v1/admin/devices/{id}/revoke"),
            Some(&token),
            json!({}),
        );
        assert_eq!(
            (a.status, a.reason().as_str()),
            (403, "forbidden"),
            "{role}"
        );
    }
    second_tenant(app);
    let acme = app.token_in("acme", "root", "acme-admin-pw");
    let a = post(
        app,
        &format!("/v1/admin/devices/{id}/revoke"),
        Some(&acme),
        json!({}),
    );
    assert_eq!((a.status, a.reason().as_str()), (404, "not_found"));
    let theirs = app.get("/v1/admin/devices", &acme).json();
    assert!(theirs["devices"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["id"] != id));
    assert_eq!(me(app, &s.access).status, 200, "untouched by the refusals");
    let unknown = post(
        app,
        &format!("/v1/admin/devices/{}/revoke", DeviceId::new_random()),
        Some(&admin),
        json!({}),
    );
    assert_eq!(unknown.status, 404);

    let a = post(
        app,
        &format!("/v1/admin/devices/{id}/revoke"),
        Some(&admin),
        json!({}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let revoked_at = a.json()["revoked_at"].as_i64().expect("revoked_at");
    // Every session of the device ends at once.
    for (what, session) in [("first", &s), ("second", &s2)] {
        let a = me(app, &session.access);
        assert_refused(&a, "unauthorized", what);
        assert!(
            a.json()["message"].as_str().unwrap().contains("revoked"),
            "{what}"
        );
        assert_refused(&refresh(app, &session.refresh), "unauthorized", what);
    }
    // Idempotent; and the device cannot come back.
    let again = post(
        app,
        &format!("/v1/admin/devices/{id}/revoke"),
        Some(&admin),
        json!({}),
    );
    assert_eq!(again.json()["revoked_at"].as_i64(), Some(revoked_at));
    let a = login_with(app, "rep1", &device);
    assert_eq!((a.status, a.reason().as_str()), (403, "device_revoked"));
    // A reinstall is a new device: fine.
    device_login(app, "rep1");
}

fn actor_owners_name_the_device_and_user(app: &TestApp) {
    let device = new_device();
    session_of(&login_with(app, "rep1", &device));
    let actor = automerge::ActorId::try_from(device["actor_id"].as_str().unwrap()).unwrap();
    let stranger = automerge::ActorId::random();
    let owners = app
        .rt
        .block_on(
            app.state
                .store
                .actor_owners(demo::demo_tenant_id(), &[actor.clone(), stranger.clone()]),
        )
        .unwrap();
    let owner = owners.get(&actor).expect("bound actor");
    assert_eq!(owner.username, "rep1");
    assert_eq!(owner.user_id, demo::demo_user_id("rep1"));
    assert_eq!(owner.device_name, "Li's phone");
    assert_eq!(
        owner.device_id.to_string(),
        device["device_id"].as_str().unwrap()
    );
    assert!(!owners.contains_key(&stranger));
    // Another tenant does not learn whose actor it is.
    let other = app
        .rt
        .block_on(
            app.state
                .store
                .actor_owners(TenantId::new_random(), &[actor]),
        )
        .unwrap();
    assert!(other.is_empty());
}

macro_rules! session_suite {
    ($engine:ident) => {
        mod $engine {
            use super::*;

            fn app() -> TestApp {
                spawn(stringify!($engine))
            }

            fn strict_app() -> TestApp {
                spawn_with(stringify!($engine), |c| c.refresh_reuse_grace_secs = 0)
            }

            #[test]
            fn device_registration_conflicts() {
                super::device_registration_conflicts(&app());
            }

            #[test]
            fn refresh_rotates_and_reuse_revokes_the_family() {
                super::refresh_rotates_and_reuse_revokes_the_family(&app());
            }

            #[test]
            fn a_retry_after_a_lost_answer_is_not_theft() {
                super::a_retry_after_a_lost_answer_is_not_theft(&app());
            }

            #[test]
            fn without_grace_any_reuse_revokes() {
                let app = strict_app();
                let (s0, _) = device_login(&app, "rep1");
                let s1 = session_of(&refresh(&app, &s0.refresh));
                assert_refused(&refresh(&app, &s0.refresh), "refresh_token_reused", "reuse");
                assert_refused(&me(&app, &s1.access), "unauthorized", "family");
            }

            #[test]
            fn concurrent_exchanges_of_one_token_yield_one_session() {
                super::concurrent_exchanges_of_one_token_yield_one_session(&strict_app());
            }

            #[test]
            fn logout_ends_the_session() {
                super::logout_ends_the_session(&app());
            }

            #[test]
            fn admins_revoke_devices() {
                super::admins_revoke_devices(&app());
            }

            #[test]
            fn actor_owners_name_the_device_and_user() {
                super::actor_owners_name_the_device_and_user(&app());
            }
        }
    };
}

session_suite!(sqlite);
session_suite!(postgres);

// ---------------------------------------------------------------------------------------------
// EdDSA keys and rotation (SQLite)

/// Writes a new Ed25519 key pair into `dir`: (private key path, public key path, kid).
fn ed_key(dir: &Path, name: &str) -> (PathBuf, PathBuf, String) {
    let private = dir.join(format!("{name}.pem"));
    let generated = auth::tokens::generate_ed25519_key(&private).unwrap();
    let public = dir.join(format!("{name}.pub.pem"));
    std::fs::write(&public, &generated.public_pem).unwrap();
    (private, public, generated.kid)
}

#[test]
fn an_eddsa_server_accepts_its_tokens_and_refuses_hs256_ones() {
    let keys = tempfile::tempdir().unwrap();
    let (private, _, kid) = ed_key(keys.path(), "signing");
    let app = spawn_with("sqlite", |c| {
        c.jwt_secret = None;
        c.jwt_ed25519_key_file = Some(private.clone());
    });
    assert_eq!(app.state.tokens.kid(), kid);
    let (s, _) = device_login(&app, "rep1");
    let header = jsonwebtoken::decode_header(&s.access).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
    assert_eq!(me(&app, &s.access).status, 200);
    let s1 = session_of(&refresh(&app, &s.refresh));
    assert_eq!(me(&app, &s1.access).status, 200);

    // The same claims as HS256: with the old secret's kid, with the EdDSA kid, and keyed with
    // the public key's bytes (the classic algorithm confusion).
    let c = claims_of(&s1.access);
    let public = auth::tokens::load_ed25519_private_key(&private)
        .unwrap()
        .verifying_key();
    for (what, token) in [
        ("hs256 own kid", hs256(&c)),
        (
            "hs256 eddsa kid",
            sign(
                &c,
                Algorithm::HS256,
                &EncodingKey::from_secret(SECRET.as_bytes()),
                Some(kid.clone()),
            ),
        ),
        (
            "hs256 keyed with the public key",
            sign(
                &c,
                Algorithm::HS256,
                &EncodingKey::from_secret(public.as_bytes()),
                Some(kid.clone()),
            ),
        ),
    ] {
        assert_refused(&me(&app, &token), "unauthorized", what);
    }
}

#[test]
fn key_rotation_with_a_verify_only_key() {
    let keys = tempfile::tempdir().unwrap();
    let (old_private, old_public, old_kid) = ed_key(keys.path(), "old");
    let (new_private, _, new_kid) = ed_key(keys.path(), "new");
    let old = spawn_with("sqlite", |c| {
        c.jwt_secret = None;
        c.jwt_ed25519_key_file = Some(old_private.clone());
    });
    let (s, _) = device_login(&old, "rep1");
    let bare = old.login_in("demo", "rep1", "demo1234").json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    // An instance on the new key that still accepts the old one, sharing the database.
    let data_dir = old.dir.path().to_path_buf();
    let rotated = spawn_with("sqlite", |c| {
        c.data_dir = data_dir.clone();
        c.jwt_secret = None;
        c.jwt_ed25519_key_file = Some(new_private.clone());
        c.jwt_verify_key_files = vec![old_public.clone()];
    });
    assert_eq!(rotated.state.tokens.kid(), new_kid);
    let mut accepted = vec![old_kid.clone(), new_kid.clone()];
    accepted.sort();
    assert_eq!(rotated.state.tokens.accepted_kids(), accepted);
    assert_eq!(me(&rotated, &s.access).status, 200, "old device token");
    assert_eq!(me(&rotated, &bare).status, 200, "old bare token");
    // Refreshing there moves the device to the new key.
    let s1 = session_of(&refresh(&rotated, &s.refresh));
    assert_eq!(
        jsonwebtoken::decode_header(&s1.access).unwrap().kid,
        Some(new_kid.clone())
    );
    assert_eq!(me(&rotated, &s1.access).status, 200);
    // The old instance does not know the new key.
    assert_refused(
        &me(&old, &s1.access),
        "unauthorized",
        "new key on old instance",
    );

    // Once the old key is retired, its tokens stop working.
    let data_dir = old.dir.path().to_path_buf();
    let retired = spawn_with("sqlite", |c| {
        c.data_dir = data_dir.clone();
        c.jwt_secret = None;
        c.jwt_ed25519_key_file = Some(new_private.clone());
    });
    assert_refused(&me(&retired, &bare), "unauthorized", "retired key");
    assert_eq!(me(&retired, &s1.access).status, 200);
}

#[test]
fn inconsistent_key_settings_stop_the_server_with_a_clear_message() {
    let keys = tempfile::tempdir().unwrap();
    let (private, public, _) = ed_key(keys.path(), "k");
    let build = |configure: &dyn Fn(&mut fieldsync_server::config::Config)| {
        let dir = tempfile::tempdir().unwrap();
        let mut config = fieldsync_server::config::Config::for_tests(dir.path());
        configure(&mut config);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        match rt.block_on(fieldsync_server::startup::Application::build(config)) {
            Ok(_) => panic!("the server started"),
            Err(e) => e.to_string(),
        }
    };
    let e = build(&|c| {
        c.jwt_secret = Some(Secret::new(SECRET));
        c.jwt_ed25519_key_file = Some(private.clone());
    });
    assert!(e.contains("exclude each other"), "{e}");
    let e = build(&|c| c.jwt_verify_key_files = vec![public.clone()]);
    assert!(e.contains("--jwt-ed25519-key-file"), "{e}");
    let e = build(&|c| c.jwt_ed25519_key_file = Some(public.clone()));
    assert!(e.contains("k.pub.pem") && e.contains("PRIVATE KEY"), "{e}");
    let e = build(&|c| {
        c.jwt_ed25519_key_file = Some(private.clone());
        c.jwt_verify_key_files = vec![keys.path().join("missing.pem")];
    });
    assert!(e.contains("missing.pem"), "{e}");
}
