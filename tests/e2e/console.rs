//! The supervisors' web console in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, driven over WebDriver by `fieldsync_e2e::webdriver`): rep1's device
//! submits a visit with a photo; sup1 signs in, sees it in the queue with its thumbnail and
//! flags, sees a new submission appear without reloading (live stream), is refused a
//! rejection without a comment, approves with a comment; rep1's device, subscribed to its
//! own live stream, has the approval within seconds without a manual sync, with sup1's
//! console named in the history. A rep signed in
//! to the console cannot approve (write policy), another team's supervisor gets 404, and a
//! form posted without its CSRF token is refused. Screenshots of the queue and the visit page
//! are written to `<target dir>/console-screenshots/`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use fieldsync_client::{
    AuditInput, BackgroundSync, Device, LiveEvent, Store, SyncObserver, SyncSchedule, SyncState,
    VisitStatus, VisitStep,
};
use fieldsync_e2e::webdriver::{screenshot_dir, Browser};
use fieldsync_e2e::{http, png_bytes, write_file, TestDevice, TestServer, DEMO_PASSWORD};
use fieldsync_shared::visit::ReviewDecision;
use fieldsync_shared::{DocId, Money, Timestamp};

use crate::write_policies::{at, today};

/// rep1's first NKA store (in the demo data, in rep1's territory).
fn first_store_of(device: &Device) -> Store {
    device
        .stores()
        .expect("stores")
        .into_iter()
        .find(|s| s.code.as_str().starts_with("NKA-"))
        .expect("an NKA store")
}

/// A tablet in landscape.
pub(crate) const WIDTH: u32 = 1180;
pub(crate) const HEIGHT: u32 = 820;

/// Long enough for a loaded machine; waits end as soon as the condition holds.
const DEADLINE: Duration = Duration::from_secs(60);

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !f() {
        assert!(Instant::now() < deadline, "waited in vain for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Tells when the device's live stream is caught up.
#[derive(Default)]
struct LiveReady(AtomicBool);

impl SyncObserver for LiveReady {
    fn on_state(&self, _state: &SyncState) {}

    fn on_live(&self, event: &LiveEvent) {
        if matches!(event, LiveEvent::Ready { .. }) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

/// A visit of `device`'s user at `store` with a shelf photo and a stale-stock audit line,
/// submitted and synced (`dir`: where the photo file is written).
fn submitted_visit_with_photo(device: &Device, dir: &Path, store: &Store, seed: u8) -> DocId {
    let visit = device.start_visit(store.id, today()).expect("start visit");
    device
        .check_in(visit, at(store), Timestamp::now())
        .expect("check in");
    for step in VisitStep::ALL {
        device.record_step(visit, *step, None).expect("step");
    }
    device
        .record_audit_line(
            visit,
            AuditInput {
                sku: "TEA-500".into(),
                location: "ENDCAP-1".into(),
                facings: 4,
                on_shelf: true,
                shelf_price: Some(Money(450)),
                // More than a third of the tea's shelf life ago: a freshness flag.
                oldest_production_date: Some(today().add_days(-200)),
            },
        )
        .expect("audit line");
    let photo = write_file(
        dir,
        &format!("shelf-{seed}.png"),
        &png_bytes(640, 480, seed),
    );
    device
        .attach_photo(visit, &photo, Some(VisitStep::Merchandise))
        .expect("photo");
    device
        .check_out(visit, at(store), Timestamp::now())
        .expect("check out");
    device.submit_visit(visit).expect("submit");
    device.sync().expect("sync");
    visit
}

/// Signs in to the console through its form, as a browser never used before.
pub(crate) fn sign_in(browser: &Browser, server: &TestServer, username: &str) {
    browser.delete_cookies();
    sign_in_again(browser, server, username);
}

/// Signs in through the form, keeping the browser's cookies.
fn sign_in_again(browser: &Browser, server: &TestServer, username: &str) {
    browser.goto(&format!("{}/console/login", server.url));
    let user = browser.wait_for("#username");
    browser.type_into(&user, username);
    browser.type_into(&browser.wait_for("#password"), DEMO_PASSWORD);
    browser.click(&browser.wait_for("form button[type=submit]"));
    browser.wait_for("main h1");
    assert!(
        browser.current_url().ends_with("/console/queue"),
        "{username} should land on the queue, not {}",
        browser.current_url()
    );
}

/// Another team's supervisor, created through the administration API.
fn other_team_supervisor(server: &TestServer) {
    let admin = server.token("admin");
    let post = |path: &str, body: Value| -> Value {
        let mut resp = http()
            .post(&format!("{}{path}", server.url))
            .header("Authorization", &format!("Bearer {admin}"))
            .send_json(&body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        assert_eq!(resp.status().as_u16(), 201, "POST {path}");
        resp.body_mut().read_json().expect("JSON")
    };
    let user = post(
        "/v1/admin/users",
        json!({"username": "sup9", "display_name": "其他主管 Other Supervisor", "role": "supervisor",
               "code": "S009", "password": DEMO_PASSWORD}),
    );
    post(
        "/v1/admin/teams",
        json!({"name": "Team 9", "supervisor_id": user["id"]}),
    );
}

#[test]
fn supervisor_reviews_a_visit_in_the_console() {
    let server = TestServer::start();
    let TestDevice { device, dir } = TestDevice::login(&server, "rep1");
    let rep1 = Arc::new(device);
    let store = first_store_of(&rep1);
    let visit = submitted_visit_with_photo(&rep1, dir.path(), &store, 7);
    let second = submitted_visit_with_photo(&rep1, dir.path(), &store, 9);
    // rep1's phone holds its live stream, as the app's background sync does; no schedule.
    let live = Arc::new(LiveReady::default());
    let background = BackgroundSync::start_live(
        rep1.clone(),
        SyncSchedule {
            interval: None,
            min_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
        },
        live.clone(),
    );
    eventually("rep1's live stream", || live.0.load(Ordering::SeqCst));
    let shots = screenshot_dir("console-screenshots");
    let browser = Browser::start(WIDTH, HEIGHT);

    // sup1 sees the visit in the queue, with its thumbnail (loaded through the scope) and flags.
    sign_in(&browser, &server, "sup1");
    let card = format!("#visit-{visit}");
    browser.wait_for(&card);

    // A new submission appears in the open queue without a reload (the live stream).
    browser.run("window.notReloaded = true; return 1", json!([]));
    let third = submitted_visit_with_photo(&rep1, dir.path(), &store, 11);
    browser.wait_for(&format!("#visit-{third}"));
    assert_eq!(
        browser.run("return window.notReloaded === true", json!([])),
        true,
        "the queue was refreshed in place"
    );
    browser.wait_until(
        "the thumbnail to load",
        &format!(
            "const i = document.querySelector('{card} .thumbs img'); \
             return !!i && i.complete && i.naturalWidth > 0;"
        ),
    );
    let flags = browser.text(&browser.wait_for(&format!("{card} .flags")));
    assert!(flags.contains("Stale stock"), "flags: {flags}");
    assert!(
        browser.text(&browser.wait_for(&card)).contains(&store.name),
        "the card names the store"
    );
    browser.screenshot(&shots.join("queue.png"));

    // A rejection without a comment is refused with the policy's message, and nothing changes.
    browser.click(&browser.wait_for(&format!("{card} button.reject")));
    let refusal = browser.text(&browser.wait_for(&format!("{card} .error")));
    assert!(
        refusal.to_lowercase().contains("comment"),
        "refusal: {refusal}"
    );
    let sup = server.token("sup1");
    let status = |id: DocId| {
        server.get_json(&sup, &format!("/v1/visits/{id}"))["document"]["status"].clone()
    };
    assert_eq!(status(visit), "submitted");

    // On the visit page: the plot, the timeline, the findings; approve with a comment.
    browser.goto(&format!("{}/console/visits/{visit}", server.url));
    browser.wait_for("figure.plot svg circle.geofence");
    browser.wait_for("tr.finding");
    browser.wait_until(
        "the full-size photo to load",
        "const i = document.querySelector('.photos img'); return !!i && i.complete && i.naturalWidth > 0;",
    );
    browser.full_page_screenshot(&shots.join("visit.png"), WIDTH);
    let comment = browser.wait_for("#decision textarea");
    browser.type_into(&comment, "货架整齐 Shelf looks good");
    browser.click(&browser.wait_for("#decision button.approve"));
    browser.wait_for("#decision .ok");
    assert!(browser
        .text(&browser.wait_for("#decision"))
        .contains("Approved"));

    // rep1's device has the approval, with the comment and the supervisor, without a manual
    // sync: its live stream told it to pull.
    eventually(
        "the approval on rep1's device",
        || matches!(rep1.visit(visit), Ok(v) if v.status == VisitStatus::Approved),
    );
    background.stop();
    let approved = rep1.visit(visit).expect("visit");
    assert_eq!(approved.status, VisitStatus::Approved);
    let review = approved.review.expect("a review");
    assert_eq!(review.decision, ReviewDecision::Approved);
    assert_eq!(
        review.comment.map(|c| c.as_str().to_string()).as_deref(),
        Some("货架整齐 Shelf looks good")
    );
    let history = server.get_json(&sup, &format!("/v1/documents/{visit}/history"));
    let decided = history["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["message"] == "console: approve visit")
        .expect("the decision in the history");
    assert_eq!(decided["username"], "sup1");
    assert_eq!(decided["device_name"], "Web console");

    // A form posted without its CSRF token is refused, with the session's cookie.
    let cookie = browser
        .cookie("fieldsync_console")
        .expect("the console cookie");
    assert_eq!(cookie["httpOnly"], true);
    assert_eq!(cookie["sameSite"], "Strict");
    let post = |body: &str| {
        http()
            .post(&format!("{}/console/visits/{second}/decision", server.url))
            .header(
                "Cookie",
                &format!("fieldsync_console={}", cookie["value"].as_str().unwrap()),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body)
            .expect("POST")
            .status()
            .as_u16()
    };
    assert_eq!(post("action=approve&comment=forged"), 403);
    assert_eq!(
        post("action=approve&comment=forged&csrf=not-the-token"),
        403
    );
    assert_eq!(
        status(second),
        "submitted",
        "a refused form changes nothing"
    );

    // A rep signed in to the console cannot approve: the write policy refuses it.
    sign_in(&browser, &server, "rep1");
    browser.goto(&format!("{}/console/visits/{second}", server.url));
    browser.type_into(&browser.wait_for("#decision textarea"), "self-approved");
    browser.click(&browser.wait_for("#decision button.approve"));
    let refused = browser.text(&browser.wait_for("#decision .error"));
    assert!(refused.starts_with("Refused"), "{refused}");
    assert_eq!(status(second), "submitted");

    // Another team's supervisor cannot open the visit, nor its photo.
    other_team_supervisor(&server);
    sign_in(&browser, &server, "sup9");
    browser.goto(&format!("{}/console/visits/{visit}", server.url));
    let title = browser.text(&browser.wait_for("main h1"));
    assert_eq!(title, "Not found");
    let status_of_page = browser.run(
        "const r = new XMLHttpRequest(); r.open('GET', arguments[0], false); r.send(); return r.status;",
        json!([format!("/console/visits/{visit}")]),
    );
    assert_eq!(status_of_page, 404);
    assert_eq!(
        browser.find_all(".card").len(),
        0,
        "the 404 page shows nothing of the visit"
    );
    eprintln!("console screenshots: {}", shots.display());
}

/// With photos in the S3 store (Garage), the console's images are redirects to presigned URLs
/// of the object store: the page's Content-Security-Policy allows that origin, so the
/// thumbnail and the full-size photo show, and still nothing else's. Signing in again in the
/// same browser reuses its console device.
#[test]
fn console_shows_object_store_photos_and_keeps_one_device_per_browser() {
    let server = TestServer::start_with(fieldsync_e2e::use_test_s3);
    let TestDevice { device, dir } = TestDevice::login(&server, "rep1");
    let store = first_store_of(&device);
    let visit = submitted_visit_with_photo(&device, dir.path(), &store, 13);
    let endpoint = fieldsync_e2e::test_s3_endpoint();

    let resp = http()
        .get(&format!("{}/console/login", server.url))
        .call()
        .expect("login page");
    let csp = resp
        .headers()
        .get("content-security-policy")
        .expect("a CSP")
        .to_str()
        .expect("ASCII")
        .to_string();
    let origin = endpoint.trim_end_matches('/');
    assert!(
        csp.contains(&format!("img-src 'self' {origin};")),
        "the object store's origin is an image source: {csp}"
    );
    assert!(csp.contains("script-src 'self';"), "{csp}");

    let browser = Browser::start(WIDTH, HEIGHT);
    sign_in(&browser, &server, "sup1");
    browser.wait_until(
        "the thumbnail from the object store",
        &format!(
            "const i = document.querySelector('#visit-{visit} .thumbs img'); \
             return !!i && i.complete && i.naturalWidth > 0;"
        ),
    );
    browser.goto(&format!("{}/console/visits/{visit}", server.url));
    browser.wait_until(
        "the full-size photo from the object store",
        "const i = document.querySelector('.photos img'); return !!i && i.complete && i.naturalWidth > 0;",
    );

    // Signing out and in again in the same browser reuses its console device: one device
    // (one Automerge actor) per browser and user, not one more per sign-in.
    browser.click(&browser.wait_for("form[action='/console/logout'] button"));
    browser.wait_for("#username");
    sign_in_again(&browser, &server, "sup1");
    let devices = server.get_json(&server.token("admin"), "/v1/admin/devices");
    let consoles: Vec<&Value> = devices["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .filter(|d| d["platform"] == "web")
        .collect();
    assert_eq!(consoles.len(), 1, "one console device: {consoles:?}");
    assert!(consoles[0]["revoked_at"].is_null());
}
