//! Session hygiene over real HTTP and the real stores (docs/auth.md, "Sessions"): a new
//! password set by an administrator ends every session of the user (and only theirs), a role
//! change applies from the next request, sessions end at their maximum age
//! (`session_expired`), and the purge deletes ended sessions and keeps recent ones. On SQLite
//! and PostgreSQL.

use fieldsync_server::demo;
use fieldsync_server::sessions::{self, refresh_token_hash};
use fieldsync_server::store::devices::{
    DeviceRegistration, NewRefreshToken, PurgeCounts, RefreshRefusal, RevokeReason, Rotation,
};
use fieldsync_shared::{DeviceId, Timestamp};
use serde_json::{json, Value};
use uuid::Uuid;

mod admin_support;
use admin_support::{spawn, spawn_with, Answer, TestApp};

const DAY_MS: i64 = 24 * 3600 * 1000;

// ---------------------------------------------------------------------------------------------
// helpers

fn post(app: &TestApp, path: &str, body: Value) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .post(format!("{}{path}", app.base))
        .send_json(body)
        .expect("HTTP request failed");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_vec().unwrap_or_default();
    Answer { status, body }
}

fn new_device() -> Value {
    json!({
        "device_id": DeviceId::new_random().to_string(),
        "actor_id": automerge::ActorId::random().to_hex_string(),
        "name": "Li's phone",
        "platform": "android",
    })
}

fn login_with(app: &TestApp, username: &str, password: &str, device: &Value) -> Answer {
    post(
        app,
        "/v1/auth/login",
        json!({"tenant": "demo", "username": username, "password": password, "device": device}),
    )
}

struct Session {
    access: String,
    refresh: String,
    session_id: Uuid,
}

fn session_of(a: &Answer) -> Session {
    assert_eq!(a.status, 200, "{}", a.text());
    let j = a.json();
    Session {
        access: j["access_token"].as_str().unwrap().to_string(),
        refresh: j["refresh_token"].as_str().unwrap().to_string(),
        session_id: j["session_id"].as_str().unwrap().parse().unwrap(),
    }
}

fn refresh(app: &TestApp, token: &str) -> Answer {
    post(app, "/v1/auth/refresh", json!({"refresh_token": token}))
}

fn assert_refused(a: &Answer, reason: &str, message_part: &str, what: &str) {
    assert_eq!(a.status, 401, "{what}: {}", a.text());
    assert_eq!(a.reason(), reason, "{what}: {}", a.text());
    assert!(
        a.json()["message"].as_str().unwrap().contains(message_part),
        "{what}: {}",
        a.text()
    );
}

fn patch_user(app: &TestApp, admin: &str, username: &str, body: Value) -> Answer {
    app.send_json(
        "PATCH",
        &format!("/v1/admin/users/{}", demo::demo_user_id(username)),
        admin,
        body,
    )
}

/// The revocation of a session as stored (`None`: live; panics if the session is gone).
fn revocation(app: &TestApp, session: Uuid) -> Option<RevokeReason> {
    app.rt
        .block_on(
            app.state
                .store
                .session_auth(demo::demo_tenant_id(), session),
        )
        .unwrap()
        .expect("the session exists")
        .session_revoked
}

fn session_exists(app: &TestApp, session: Uuid) -> bool {
    app.rt
        .block_on(
            app.state
                .store
                .session_auth(demo::demo_tenant_id(), session),
        )
        .unwrap()
        .is_some()
}

// ---------------------------------------------------------------------------------------------
// a new password ends the user's sessions

fn a_new_password_ends_every_session_of_the_user(app: &TestApp) {
    let admin = app.token("admin");
    let phone = new_device();
    let tablet = new_device();
    let on_phone = session_of(&login_with(app, "rep1", "demo1234", &phone));
    let on_tablet = session_of(&login_with(app, "rep1", "demo1234", &tablet));
    let other_user = session_of(&login_with(app, "rep2", "demo1234", &new_device()));

    // Changes without a password end nothing.
    let a = patch_user(app, &admin, "rep1", json!({"display_name": "Rep One"}));
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(app.get("/v1/me", &on_phone.access).status, 200);

    let a = patch_user(app, &admin, "rep1", json!({"password": "a-new-password-1"}));
    assert_eq!(a.status, 200, "{}", a.text());
    for (what, s) in [("phone", &on_phone), ("tablet", &on_tablet)] {
        assert_refused(
            &app.get("/v1/me", &s.access),
            "unauthorized",
            "password was changed",
            what,
        );
        assert_refused(
            &refresh(app, &s.refresh),
            "unauthorized",
            "password was changed",
            what,
        );
        assert_eq!(
            revocation(app, s.session_id),
            Some(RevokeReason::PasswordChanged)
        );
    }
    // Other users keep working.
    assert_eq!(app.get("/v1/me", &other_user.access).status, 200);
    assert_eq!(refresh(app, &other_user.refresh).status, 200);
    assert_eq!(revocation(app, other_user.session_id), None);

    // The old password is gone; the new one signs in again on the same device (same id and
    // actor: the device stays registered).
    let a = login_with(app, "rep1", "demo1234", &phone);
    assert_eq!(
        (a.status, a.reason().as_str()),
        (401, "invalid_credentials")
    );
    let again = session_of(&login_with(app, "rep1", "a-new-password-1", &phone));
    assert_ne!(again.session_id, on_phone.session_id);
    assert_eq!(app.get("/v1/me", &again.access).status, 200);
    assert_eq!(refresh(app, &again.refresh).status, 200);
}

fn a_csv_import_that_sets_a_password_ends_that_users_sessions(app: &TestApp) {
    let admin = app.token("admin");
    let rep1 = session_of(&login_with(app, "rep1", "demo1234", &new_device()));
    let rep2 = session_of(&login_with(app, "rep2", "demo1234", &new_device()));
    // rep1 gets a password, rep2 is re-imported without one.
    let users = format!(
        "username,display_name,role,code,team,password\n\
         rep1,Rep One,rep,R001,{team},a-new-password-1\n\
         rep2,Rep Two,rep,R002,{team},\n",
        team = fieldsync_server::demo::DEMO_TEAM
    );
    let a = app.post_csv("users", &admin, &users);
    assert_eq!(a.status, 200, "{}", a.text());

    assert_refused(
        &refresh(app, &rep1.refresh),
        "unauthorized",
        "password was changed",
        "rep1",
    );
    assert_eq!(
        revocation(app, rep1.session_id),
        Some(RevokeReason::PasswordChanged)
    );
    assert_eq!(app.get("/v1/me", &rep2.access).status, 200);
    assert_eq!(revocation(app, rep2.session_id), None);
}

fn a_role_change_applies_from_the_next_request(app: &TestApp) {
    let admin = app.token("admin");
    let rep = session_of(&login_with(app, "rep1", "demo1234", &new_device()));
    assert_eq!(app.get("/v1/admin/users", &rep.access).status, 403);

    let a = patch_user(
        app,
        &admin,
        "rep1",
        json!({"role": "admin", "team_id": null}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    // The same access token, no refresh: the role is read per request, the session lives on.
    assert_eq!(app.get("/v1/admin/users", &rep.access).status, 200);
    assert_eq!(revocation(app, rep.session_id), None);

    let a = patch_user(app, &admin, "rep1", json!({"role": "rep"}));
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(app.get("/v1/admin/users", &rep.access).status, 403);
    assert_eq!(app.get("/v1/me", &rep.access).status, 200);
}

// ---------------------------------------------------------------------------------------------
// maximum session age

/// The demo device registration of rep1 used by the store-level tests.
fn rep1_device() -> DeviceRegistration {
    DeviceRegistration {
        id: DeviceId::new_random(),
        tenant_id: demo::demo_tenant_id(),
        user_id: demo::demo_user_id("rep1"),
        actor: automerge::ActorId::random(),
        name: "store-level test device".into(),
        platform: "test".into(),
    }
}

/// A refresh token (plain text) and what the store keeps of it.
fn token(issued_at: i64, expires_at: i64) -> (String, NewRefreshToken) {
    let plain = format!("test-token-{}", Uuid::new_v4());
    let stored = NewRefreshToken {
        hash: refresh_token_hash(&plain),
        issued_at: Timestamp(issued_at),
        expires_at: Timestamp(expires_at),
    };
    (plain, stored)
}

/// Opens a session on `device` as if it were `created_at` (its first token expiring at
/// `expires_at`); returns the session id and the token's plain text.
fn open_at(
    app: &TestApp,
    device: &DeviceRegistration,
    created_at: i64,
    expires_at: i64,
) -> (Uuid, String) {
    let session = Uuid::new_v4();
    let (plain, stored) = token(created_at, expires_at);
    app.rt
        .block_on(app.state.store.open_session(device, session, &stored))
        .unwrap()
        .expect("device accepted");
    (session, plain)
}

fn rotate_at(app: &TestApp, presented: &str, now: i64, max_age_ms: i64) -> (Rotation, String) {
    let (plain, next) = token(now, now + 30 * DAY_MS);
    let rotation = app
        .rt
        .block_on(app.state.store.rotate_refresh_token(
            &refresh_token_hash(presented),
            &next,
            0,
            max_age_ms,
        ))
        .unwrap();
    (rotation, plain)
}

fn sessions_end_at_their_maximum_age_in_the_store(app: &TestApp) {
    let device = rep1_device();
    let t0 = Timestamp::now().millis();
    let max_age = 2 * DAY_MS;
    let (session, first) = open_at(app, &device, t0, t0 + 30 * DAY_MS);
    // A phone offline for a day (less than the maximum age) still refreshes...
    let (rotation, second) = rotate_at(app, &first, t0 + DAY_MS, max_age);
    assert!(
        matches!(&rotation, Rotation::Rotated(info) if info.session_id == session),
        "{rotation:?}"
    );
    // ...up to the last millisecond of its session,
    let (rotation, third) = rotate_at(app, &second, t0 + max_age - 1, max_age);
    assert!(matches!(rotation, Rotation::Rotated(_)), "{rotation:?}");
    // and not after, whatever its refresh token's own lifetime. Nothing is consumed.
    for _ in 0..2 {
        let (rotation, _) = rotate_at(app, &third, t0 + max_age, max_age);
        assert_eq!(rotation, Rotation::Refused(RefreshRefusal::SessionExpired));
    }
    assert_eq!(revocation(app, session), None, "aged out, not revoked");
    // A revoked session says so even when it is also past its age.
    let (revoked, token) = open_at(app, &device, t0, t0 + 30 * DAY_MS);
    app.rt
        .block_on(app.state.store.revoke_session(
            demo::demo_tenant_id(),
            revoked,
            RevokeReason::Logout,
        ))
        .unwrap();
    let (rotation, _) = rotate_at(app, &token, t0 + max_age, max_age);
    assert_eq!(
        rotation,
        Rotation::Refused(RefreshRefusal::SessionRevoked(RevokeReason::Logout))
    );
}

fn a_session_past_its_maximum_age_must_sign_in_again(app: &TestApp) {
    let device = new_device();
    let login = login_with(app, "rep1", "demo1234", &device);
    // No refresh token outlives its session.
    assert_eq!(login.json()["refresh_expires_in"], 2, "{}", login.text());
    let s = session_of(&login);
    std::thread::sleep(std::time::Duration::from_millis(2300));
    assert_refused(
        &refresh(app, &s.refresh),
        "session_expired",
        "maximum age",
        "refresh",
    );
    assert_refused(
        &app.get("/v1/me", &s.access),
        "unauthorized",
        "maximum age",
        "access token of the session",
    );
    // Signing in again on the same device opens a new session (that it works until its own
    // maximum age is shown by the store-level test, without depending on timing).
    let again = session_of(&login_with(app, "rep1", "demo1234", &device));
    assert_ne!(again.session_id, s.session_id);
}

// ---------------------------------------------------------------------------------------------
// purge

fn purge_at(app: &TestApp, now: i64) -> PurgeCounts {
    app.rt
        .block_on(sessions::purge_sessions_at(&app.state, Timestamp(now)))
        .unwrap()
}

fn purge_deletes_ended_sessions_and_keeps_recent_ones(app: &TestApp) {
    // Defaults: maximum age 30 days, rows kept 7 days after a session ends.
    let device = rep1_device();
    let now = Timestamp::now().millis();
    let (live, live_first) = open_at(app, &device, now, now + 30 * DAY_MS);
    let (revoked, _) = open_at(app, &device, now - DAY_MS, now + 29 * DAY_MS);
    app.rt
        .block_on(app.state.store.revoke_session(
            demo::demo_tenant_id(),
            revoked,
            RevokeReason::Logout,
        ))
        .unwrap();
    // Opened 40 days ago: aged out 10 days ago (its token would still be valid).
    let (aged, _) = open_at(app, &device, now - 40 * DAY_MS, now + 10 * DAY_MS);
    // Idle: its last token expired 8 days ago, or just a day ago.
    let (idle_long, _) = open_at(app, &device, now - 20 * DAY_MS, now - 8 * DAY_MS);
    let (idle_recent, _) = open_at(app, &device, now - 10 * DAY_MS, now - DAY_MS);
    // The live session's first token is used: kept, so presenting it again is still reuse.
    let rotated = refresh(app, &live_first);
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let live_second = session_of(&rotated).refresh;

    let first = purge_at(app, now);
    assert_eq!(first.sessions, 2, "{first:?}");
    assert!(first.refresh_tokens >= 2, "{first:?}");
    for (what, session, kept) in [
        ("live", live, true),
        ("revoked today", revoked, true),
        ("aged out", aged, false),
        ("idle for 8 days", idle_long, false),
        ("idle for a day", idle_recent, true),
    ] {
        assert_eq!(session_exists(app, session), kept, "{what}");
    }
    // The revoked session goes 7 days after its revocation, the idle one 7 days after its
    // token expired; the live one stays.
    let later = purge_at(app, now + 7 * DAY_MS + 60_000);
    assert_eq!(later.sessions, 2, "{later:?}");
    assert!(!session_exists(app, revoked));
    assert!(!session_exists(app, idle_recent));
    assert!(session_exists(app, live));
    assert_eq!(purge_at(app, now), PurgeCounts::default(), "idempotent");
    let metrics = app.state.metrics.render();
    assert!(metrics.contains("sessions_purged_total 4"), "{metrics}");
    // What stayed still works: the live session refreshes, and its used token is still
    // recognised as reuse.
    let r = refresh(app, &live_second);
    assert_eq!(r.status, 200, "{}", r.text());
    let reuse = refresh(app, &live_first);
    assert_eq!(reuse.reason(), "refresh_token_reused", "{}", reuse.text());
}

macro_rules! session_hygiene_suite {
    ($engine:ident) => {
        mod $engine {
            use super::*;

            #[test]
            fn a_new_password_ends_every_session_of_the_user() {
                super::a_new_password_ends_every_session_of_the_user(&spawn(stringify!($engine)));
            }

            #[test]
            fn a_csv_import_that_sets_a_password_ends_that_users_sessions() {
                super::a_csv_import_that_sets_a_password_ends_that_users_sessions(&spawn(
                    stringify!($engine),
                ));
            }

            #[test]
            fn a_role_change_applies_from_the_next_request() {
                super::a_role_change_applies_from_the_next_request(&spawn(stringify!($engine)));
            }

            #[test]
            fn sessions_end_at_their_maximum_age_in_the_store() {
                super::sessions_end_at_their_maximum_age_in_the_store(&spawn(stringify!($engine)));
            }

            #[test]
            fn a_session_past_its_maximum_age_must_sign_in_again() {
                let app = spawn_with(stringify!($engine), |c| c.session_max_age_secs = 2);
                super::a_session_past_its_maximum_age_must_sign_in_again(&app);
            }

            #[test]
            fn purge_deletes_ended_sessions_and_keeps_recent_ones() {
                super::purge_deletes_ended_sessions_and_keeps_recent_ones(&spawn(stringify!(
                    $engine
                )));
            }
        }
    };
}

session_hygiene_suite!(sqlite);
session_hygiene_suite!(postgres);
