//! Device identity over the real server (docs/auth.md): a phone that stays offline longer than
//! its access token lives keeps working and syncs after refreshing; logging out, being signed
//! out elsewhere, a revoked device, a stolen refresh token, a password reset by an administrator
//! and a session past its maximum age all end in `Unauthorized` (or `NotLoggedIn`) on the
//! device, with its local work kept.

use std::path::Path;
use std::time::{Duration, Instant};

use fieldsync_client::{Device, DeviceError, GeoFix};
use fieldsync_e2e::proxy::FaultProxy;
use fieldsync_e2e::{http, TestDevice, TestServer, DEMO_PASSWORD, DEMO_TENANT};
use fieldsync_shared::{DocId, Timestamp};
use serde_json::json;

/// A value the device keeps in its database's `meta` table (read beside the open device:
/// SQLite in WAL mode has room for a reader).
fn meta(dir: &Path, key: &str) -> Option<String> {
    let conn = rusqlite::Connection::open(dir.join("device.db")).expect("open device.db");
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .ok()
}

fn status_of_me(server: &TestServer, token: &str) -> u16 {
    http()
        .get(&format!("{}/v1/me", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("GET /v1/me")
        .status()
        .as_u16()
}

fn refresh_status(server: &TestServer, refresh_token: &str) -> (u16, String) {
    let mut resp = http()
        .post(&format!("{}/v1/auth/refresh", server.url))
        .send_json(json!({ "refresh_token": refresh_token }))
        .expect("POST /v1/auth/refresh");
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.body_mut().read_json().unwrap_or_default();
    (
        status,
        body["reason"].as_str().unwrap_or_default().to_string(),
    )
}

/// Waits (bounded) until the server refuses `token` because it expired.
fn wait_until_expired(server: &TestServer, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while status_of_me(server, token) == 200 {
        assert!(Instant::now() < deadline, "the access token never expired");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A visit started and checked in at the device's first store.
fn visit_at_first_store(dev: &Device) -> DocId {
    let store = dev.stores().expect("stores").remove(0);
    let visit = dev
        .start_visit(store.id, Timestamp::now().utc_date())
        .expect("start visit");
    let at_store = GeoFix {
        lat: store.location.lat(),
        lon: store.location.lon(),
        accuracy_m: 8.0,
        mocked: false,
    };
    dev.check_in(visit, at_store, Timestamp::now())
        .expect("check in");
    visit
}

fn server_has_visit(server: &TestServer, visit: DocId) -> bool {
    let token = server.token("sup1");
    let status = http()
        .get(&format!("{}/v1/visits/{visit}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("GET visit")
        .status()
        .as_u16();
    status == 200
}

#[test]
fn a_phone_offline_longer_than_its_access_token_syncs_after_refreshing() {
    let server = TestServer::start_with(|c| c.token_ttl_secs = 2);
    let proxy = FaultProxy::start(&server.url);
    let rep = TestDevice::login_via(&proxy.url, "rep1");
    let first_refresh = meta(rep.dir.path(), "refresh_token").expect("a refresh token");
    let first_access = meta(rep.dir.path(), "access_token").expect("an access token");

    // No signal in the hypermarket: sync fails, work goes on.
    proxy.cut_from(1, |_| true);
    let visit = visit_at_first_store(&rep);
    assert!(matches!(rep.sync(), Err(DeviceError::Offline(_))));
    wait_until_expired(&server, &first_access);
    rep.append_note(visit, "shelf restocked after the access token expired")
        .expect("edit while offline");
    assert_eq!(rep.pending().unwrap().documents, 1);

    // Back in coverage: the expired token is refused once, refreshed, and the sync goes through.
    proxy.clear_faults();
    let mark = proxy.mark();
    let report = rep.sync().expect("sync after refresh");
    assert_eq!(report.docs_pushed, 1);
    assert_eq!(rep.pending().unwrap().documents, 0);
    let refreshes = proxy
        .requests_since(mark)
        .iter()
        .filter(|r| r.is("POST", "/v1/auth/refresh"))
        .count();
    assert_eq!(refreshes, 1, "one refresh for the whole sync");
    let second_refresh = meta(rep.dir.path(), "refresh_token").unwrap();
    assert_ne!(second_refresh, first_refresh, "the rotated token is kept");
    assert!(server_has_visit(&server, visit));
}

#[test]
fn logging_out_ends_the_session_and_keeps_local_work() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let visit = visit_at_first_store(&rep);
    let access = meta(rep.dir.path(), "access_token").unwrap();
    let refresh = meta(rep.dir.path(), "refresh_token").unwrap();

    rep.logout().expect("logout");
    assert!(matches!(rep.sync(), Err(DeviceError::NotLoggedIn)));
    assert_eq!(
        meta(rep.dir.path(), "refresh_token"),
        None,
        "tokens forgotten"
    );
    // The server ended the session: the tokens a thief might have copied are dead too.
    assert_eq!(status_of_me(&server, &access), 401);
    assert_eq!(refresh_status(&server, &refresh).0, 401);
    // The work is still on the phone and goes up after the next login.
    assert!(rep.visit(visit).is_ok());
    assert_eq!(rep.pending().unwrap().documents, 1);
    rep.login(&server.url, DEMO_TENANT, "rep1", DEMO_PASSWORD)
        .expect("login again");
    rep.sync().expect("sync");
    assert_eq!(rep.pending().unwrap().documents, 0);
    assert!(server_has_visit(&server, visit));
}

#[test]
fn a_session_signed_out_elsewhere_is_unauthorized_and_keeps_local_work() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let access = meta(rep.dir.path(), "access_token").unwrap();
    let resp = http()
        .post(&format!("{}/v1/auth/logout", server.url))
        .header("Authorization", &format!("Bearer {access}"))
        .send_empty()
        .expect("logout");
    assert_eq!(resp.status().as_u16(), 204);

    let visit = visit_at_first_store(&rep);
    assert!(matches!(rep.sync(), Err(DeviceError::Unauthorized)));
    assert!(rep.visit(visit).is_ok());
    assert_eq!(rep.pending().unwrap().documents, 1);
}

#[test]
fn an_admin_revoked_device_is_unauthorized_and_keeps_local_work() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let visit = visit_at_first_store(&rep);
    let admin = server.token("admin");
    let resp = http()
        .post(&format!(
            "{}/v1/admin/devices/{}/revoke",
            server.url,
            rep.device_id()
        ))
        .header("Authorization", &format!("Bearer {admin}"))
        .send_empty()
        .expect("revoke");
    assert_eq!(resp.status().as_u16(), 200);

    assert!(matches!(rep.sync(), Err(DeviceError::Unauthorized)));
    assert!(rep.visit(visit).is_ok());
    assert_eq!(rep.pending().unwrap().documents, 1);
    // The installation cannot sign in again; a reinstall (a new device) can.
    match rep.login(&server.url, DEMO_TENANT, "rep1", DEMO_PASSWORD) {
        Err(DeviceError::Server { status, reason, .. }) => {
            assert_eq!((status, reason.as_str()), (403, "device_revoked"))
        }
        other => panic!("expected device_revoked, got {other:?}"),
    }
    let reinstalled = TestDevice::login(&server, "rep1");
    assert_ne!(reinstalled.device_id(), rep.device_id());
}

#[test]
fn a_stolen_refresh_token_signs_the_phone_out_once_both_used_it() {
    let server = TestServer::start_with(|c| c.token_ttl_secs = 2);
    let rep = TestDevice::login(&server, "rep1");
    let stolen = meta(rep.dir.path(), "refresh_token").unwrap();

    // The phone refreshes normally, twice...
    wait_until_expired(&server, &meta(rep.dir.path(), "access_token").unwrap());
    rep.sync().expect("sync with a refresh");
    assert_ne!(meta(rep.dir.path(), "refresh_token").unwrap(), stolen);
    wait_until_expired(&server, &meta(rep.dir.path(), "access_token").unwrap());
    rep.sync().expect("second refresh");
    // ...then the thief presents the copied token: it and its successor were used, so this
    // is not a retry after a lost answer.
    assert_eq!(
        refresh_status(&server, &stolen),
        (401, "refresh_token_reused".to_string())
    );
    // The whole family is revoked: the phone must sign in again; its work stays.
    let visit = visit_at_first_store(&rep);
    assert!(matches!(rep.sync(), Err(DeviceError::Unauthorized)));
    assert!(rep.visit(visit).is_ok());
    rep.login(&server.url, DEMO_TENANT, "rep1", DEMO_PASSWORD)
        .expect("login again");
    rep.sync().expect("sync after login");
    assert!(server_has_visit(&server, visit));
}

/// `PATCH /v1/admin/users/{id}` as the demo admin.
fn admin_patch_user(server: &TestServer, username: &str, body: serde_json::Value) -> u16 {
    let admin = server.token("admin");
    http()
        .patch(&format!(
            "{}/v1/admin/users/{}",
            server.url,
            fieldsync_server::demo::demo_user_id(username)
        ))
        .header("Authorization", &format!("Bearer {admin}"))
        .send_json(body)
        .expect("PATCH user")
        .status()
        .as_u16()
}

#[test]
fn a_password_reset_signs_every_device_out_and_queued_work_syncs_after_login() {
    let server = TestServer::start();
    let phone = TestDevice::login(&server, "rep1");
    let tablet = TestDevice::login(&server, "rep1");
    let colleague = TestDevice::login(&server, "rep2");
    // Queued on the phone before the reset, not yet synced.
    let visit = visit_at_first_store(&phone);
    let phone_access = meta(phone.dir.path(), "access_token").unwrap();

    // Lost phone: the administrator sets a new password.
    assert_eq!(
        admin_patch_user(&server, "rep1", json!({"password": "new-password-rep1"})),
        200
    );
    assert_eq!(status_of_me(&server, &phone_access), 401);
    for dev in [&phone, &tablet] {
        assert!(matches!(dev.sync(), Err(DeviceError::Unauthorized)));
    }
    colleague.sync().expect("other users are not signed out");
    // The work stays queued on the phone; the old password no longer signs in.
    assert!(phone.visit(visit).is_ok());
    assert_eq!(phone.pending().unwrap().documents, 1);
    match phone.login(&server.url, DEMO_TENANT, "rep1", DEMO_PASSWORD) {
        Err(DeviceError::Server { status, reason, .. }) => {
            assert_eq!((status, reason.as_str()), (401, "invalid_credentials"))
        }
        other => panic!("expected invalid_credentials, got {other:?}"),
    }
    // Signing in again on the same device (same device id and actor) sends it.
    let device_id = phone.device_id();
    phone
        .login(&server.url, DEMO_TENANT, "rep1", "new-password-rep1")
        .expect("login with the new password");
    assert_eq!(phone.device_id(), device_id);
    let report = phone.sync().expect("sync after login");
    assert_eq!(report.docs_pushed, 1);
    assert_eq!(phone.pending().unwrap().documents, 0);
    assert!(server_has_visit(&server, visit));
}

#[test]
fn a_session_past_its_maximum_age_signs_in_again_and_keeps_local_work() {
    // The smallest age a test can wait out; the login and first sync must fit in it.
    let max_age = Duration::from_secs(3);
    let server = TestServer::start_with(|c| c.session_max_age_secs = max_age.as_secs());
    let rep = TestDevice::login(&server, "rep1");
    // Counted from when the session exists (a login under load can take longer than the
    // margin below, which left the session young enough to sync).
    let started = Instant::now();
    let refresh_token = meta(rep.dir.path(), "refresh_token").unwrap();
    let visit = visit_at_first_store(&rep);
    std::thread::sleep((max_age + Duration::from_millis(300)).saturating_sub(started.elapsed()));

    assert!(matches!(rep.sync(), Err(DeviceError::Unauthorized)));
    assert_eq!(
        refresh_status(&server, &refresh_token),
        (401, "session_expired".to_string())
    );
    assert!(rep.visit(visit).is_ok());
    assert_eq!(rep.pending().unwrap().documents, 1);
    // Signing in again on the same device opens a new session; the work is still queued for
    // it (that it then syncs is shown by the password reset test, without a clock race).
    rep.login(&server.url, DEMO_TENANT, "rep1", DEMO_PASSWORD)
        .expect("login again");
    assert_eq!(rep.pending().unwrap().documents, 1);
}
