//! Competitor sightings end to end (docs/competitors.md), on both engines: a rep and a
//! merchandiser each record sightings of one visit offline, sync, and every replica (both
//! phones and the server) holds both, in one order, and the supervisor's console page shows
//! them; only the author edits or removes a sighting. A visit written by an app before
//! sightings (schema 1, no map) gets the map from the server, and sightings from then on.

use std::thread::sleep;
use std::time::Duration;

use fieldsync_client::{CompetitorSighting, DeviceError, DocKind, Money, SightingInput, Store};
use fieldsync_e2e::{photo_file, DeviceToken, TestDevice, TestServer, DEMO_PASSWORD, DEMO_TENANT};
use fieldsync_shared::document::{new_document, reconcile_visit};
use fieldsync_shared::protocol::PushResult;
use fieldsync_shared::visit::Visit;
use fieldsync_shared::DocId;

use crate::merges::{converged, served, sync_both, First};
use crate::verdicts::start;
use crate::write_policies::{first_store, push_raw, today};

fn sighting(competitor: &str, photos: Vec<String>) -> SightingInput {
    SightingInput {
        competitor: competitor.into(),
        seen: Some("Pepsi 330ml can".into()),
        shelf_price: Some(Money(250)),
        promotion: Some("第二件半价 second at half price".into()),
        display: Some("floor_stand".into()),
        photos,
        note: "by the entrance".into(),
    }
}

fn names(sightings: &[CompetitorSighting]) -> Vec<&str> {
    sightings.iter().map(|s| s.competitor.as_str()).collect()
}

/// The console's page at `path` as `username` sees it: signs in through the form (its CSRF
/// cookie and field), then reads the page with the session cookie.
pub(crate) fn console_html(server: &TestServer, username: &str, path: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let cookie_of = |resp: &ureq::http::Response<ureq::Body>, name: &str| -> String {
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")) && !v.starts_with(&format!("{name}=;")))
            .and_then(|v| v.split(';').next())
            .unwrap_or_else(|| panic!("no {name} cookie"))
            .to_string()
    };
    let mut login = agent
        .get(&format!("{}/console/login", server.url))
        .call()
        .expect("login page");
    let login_cookie = cookie_of(&login, "fieldsync_console_login");
    let page = login.body_mut().read_to_string().unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-in form's CSRF field")
        .to_string();
    let signed_in = agent
        .post(&format!("{}/console/login", server.url))
        .header("Cookie", &login_cookie)
        .send_form([
            ("tenant", DEMO_TENANT),
            ("username", username),
            ("password", DEMO_PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .expect("sign in");
    assert_eq!(signed_in.status().as_u16(), 303, "signed in");
    let session = cookie_of(&signed_in, "fieldsync_console");
    let mut resp = agent
        .get(&format!("{}{path}", server.url))
        .header("Cookie", &session)
        .call()
        .expect("console page");
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    resp.body_mut().read_to_string().unwrap()
}

fn two_people_record_sightings_offline(postgres: bool) {
    let (server, _db) = start(postgres);
    let rep = TestDevice::login(&server, "rep1");
    let merch = TestDevice::login(&server, "merch1");
    let store = first_store(&rep);
    let visit = rep.start_visit(store.id, today()).expect("start visit");
    rep.sync().unwrap();
    merch.sync().unwrap();

    // Offline: the rep photographs a competitor's floor stand and records it; the
    // merchandiser records another competitor.
    let photo = rep
        .attach_photo(visit, &photo_file(rep.dir.path(), "stand.jpg", 31), None)
        .expect("photo");
    let by_rep = rep
        .add_competitor_sighting(visit, &sighting("PepsiCo 百事", vec![photo.to_hex()]))
        .expect("rep's sighting");
    sleep(Duration::from_millis(5));
    let mut other = sighting("农夫山泉 Nongfu Spring", Vec::new());
    other.display = None;
    other.promotion = None;
    let by_merch = merch
        .add_competitor_sighting(visit, &other)
        .expect("merchandiser's sighting");
    // A photo the visit does not have is refused before anything is written.
    let err = merch
        .add_competitor_sighting(visit, &sighting("X", vec![photo.to_hex()]))
        .unwrap_err();
    assert_eq!(err.reason(), "invalid_input", "{err}");
    sync_both(First::B, &rep, &merch);

    let v = converged(&server, &rep, &merch, visit);
    let all = v.competitor_sightings_in_order();
    assert_eq!(names(&all), ["PepsiCo 百事", "农夫山泉 Nongfu Spring"]);
    assert_eq!(all[0].id, by_rep);
    assert_eq!(all[0].photos, [photo]);
    assert_eq!(all[1].id, by_merch);
    assert_eq!(rep.competitor_sightings(visit).unwrap(), all);
    assert_eq!(merch.competitor_sightings(visit).unwrap(), all);

    // Only the author edits or removes a sighting.
    match merch.remove_competitor_sighting(visit, by_rep) {
        Err(DeviceError::Forbidden { code, .. }) => assert_eq!(code, "not_entry_author"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let mut cheaper = sighting("PepsiCo 百事", vec![photo.to_hex()]);
    cheaper.shelf_price = Some(Money(199));
    rep.edit_competitor_sighting(visit, by_rep, &cheaper)
        .unwrap();
    merch.remove_competitor_sighting(visit, by_merch).unwrap();
    sync_both(First::A, &rep, &merch);
    let v = converged(&server, &rep, &merch, visit);
    let all = v.competitor_sightings_in_order();
    assert_eq!(names(&all), ["PepsiCo 百事"]);
    assert_eq!(all[0].shelf_price, Some(Money(199)));

    // And one more from the merchandiser, then the supervisor's console page shows both.
    merch.add_competitor_sighting(visit, &other).unwrap();
    sync_both(First::B, &rep, &merch);
    converged(&server, &rep, &merch, visit);
    let html = console_html(&server, "sup1", &format!("/console/visits/{visit}"));
    for expected in [
        "Competitor activity 竞品动态 (2)",
        "PepsiCo 百事",
        "农夫山泉 Nongfu Spring",
        "1.99",
        "Floor stand 地堆",
        "第二件半价 second at half price",
        &format!("/console/photos/{}", photo.to_hex()),
    ] {
        assert!(html.contains(expected), "{expected:?} on the visit page");
    }
}

/// A visit of `store` for `owner` as an app before competitor sightings wrote it (schema 1,
/// no map), pushed by `raw`; returns its id and its bytes as first pushed.
fn schema_1_visit(
    server: &TestServer,
    raw: &DeviceToken,
    owner: &TestDevice,
    store: &Store,
) -> (DocId, Vec<u8>) {
    let owner_id = owner.profile().unwrap().expect("signed in").id;
    let id = DocId::new_random();
    let mut visit = Visit::new(id, store.id, owner_id, today());
    visit.schema = 1;
    visit.competitor_sightings = None;
    let mut doc = new_document(raw.actor.clone());
    reconcile_visit(&mut doc, &visit).expect("reconcile");
    doc.commit();
    let bytes = doc.save();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let resp = push_raw(server, raw, id, DocKind::Visit, changes);
    assert!(
        matches!(resp.outcomes[0].result, PushResult::Stored { .. }),
        "{:?}",
        resp.outcomes[0].result
    );
    (id, bytes)
}

fn a_schema_1_visit_gets_sightings_after_the_server_upgrade(postgres: bool) {
    let (server, _db) = start(postgres);
    let rep = TestDevice::login(&server, "rep1");
    let merch = TestDevice::login(&server, "merch1");
    let store = first_store(&rep);
    let raw = server.device_token("rep1");
    let (visit, bytes) = schema_1_visit(&server, &raw, &rep, &store);
    assert!(
        served(&server, visit).competitor_sightings.is_some(),
        "the server added the map when it stored the visit"
    );

    // A phone holding the copy from before the upgrade cannot record a sighting yet...
    merch
        .receive_document(visit, DocKind::Visit, &bytes)
        .unwrap();
    let err = merch
        .add_competitor_sighting(visit, &sighting("PepsiCo", Vec::new()))
        .unwrap_err();
    assert_eq!(err.reason(), "wrong_state", "{err}");
    // ...and can once it has synced; both phones' sightings are kept.
    rep.sync().unwrap();
    merch.sync().unwrap();
    rep.add_competitor_sighting(visit, &sighting("PepsiCo", Vec::new()))
        .unwrap();
    merch
        .add_competitor_sighting(visit, &sighting("Nongfu Spring", Vec::new()))
        .unwrap();
    sync_both(First::A, &rep, &merch);
    let v = converged(&server, &rep, &merch, visit);
    let mut shown = names(&v.competitor_sightings_in_order())
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    shown.sort();
    assert_eq!(shown, ["Nongfu Spring", "PepsiCo"]);
}

#[test]
fn two_people_record_sightings_offline_sqlite() {
    two_people_record_sightings_offline(false);
}

#[test]
fn two_people_record_sightings_offline_postgres() {
    two_people_record_sightings_offline(true);
}

#[test]
fn a_schema_1_visit_gets_sightings_after_the_server_upgrade_sqlite() {
    a_schema_1_visit_gets_sightings_after_the_server_upgrade(false);
}

#[test]
fn a_schema_1_visit_gets_sightings_after_the_server_upgrade_postgres() {
    a_schema_1_visit_gets_sightings_after_the_server_upgrade(true);
}
