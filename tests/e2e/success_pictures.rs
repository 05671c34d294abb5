//! Pictures of success end to end (docs/picture-of-success.md): a CSV import with refused rows
//! naming row and column, then a good one; the pictures reach the devices of the stores'
//! territories only, the most specific one per store; offline, a point scored not met with its
//! photo is flagged on the phone at submission exactly as the server's verdicts flag it
//! (flagged, never held); two devices scoring two points of one visit at once keep both; a
//! visit written by the schema 2 app gets the map of scores from the server, and the older
//! app's later edit keeps it. On both engines.

use std::thread::sleep;
use std::time::Duration;

use fieldsync_client::{AuditInput, DocKind, VisitStatus, VisitStep};
use fieldsync_e2e::{photo_file, DeviceToken, TestDevice, TestServer};
use fieldsync_shared::document::{new_document, reconcile_visit};
use fieldsync_shared::protocol::PushResult;
use fieldsync_shared::success::ScoreStatus;
use fieldsync_shared::visit::{Visit, VISIT_SCHEMA_VERSION};
use fieldsync_shared::{DocId, Sha256, Timestamp};
use serde_json::Value;

use crate::merges::{converged, served, sync_both, First};
use crate::verdicts::start;
use crate::write_policies::{at, edit_visit, push_raw, today};

fn import(server: &TestServer, csv: &str) -> (u16, Value) {
    let mut resp = fieldsync_e2e::http()
        .post(&format!("{}/v1/admin/import/success-pictures", server.url))
        .header(
            "Authorization",
            &format!("Bearer {}", server.token("admin")),
        )
        .header("Content-Type", "text/csv")
        .send(csv.as_bytes())
        .expect("import");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(Value::Null))
}

const HEADER: &str =
    "code,title,store_code,chain,channel,point,label,kind,weight,sku,reference_photos";

fn reference(n: u8) -> String {
    Sha256::digest(&[n]).to_hex()
}

/// NKA-001 (rep1's territory) has its own picture of three points (weights 50, 30, 20);
/// LKA-001 (rep2's) its own; every other NKA store the channel's.
fn pictures() -> String {
    format!(
        "{HEADER}
S-STORE1,NKA-001 成功图像,NKA-001,,,BLOCK,Cola block,shelf_blocking,50,,{r1}
S-STORE1,NKA-001 成功图像,NKA-001,,,EYE,Cola 330 at eye level,eye_level,30,COLA-330,{r2}
S-STORE1,NKA-001 成功图像,NKA-001,,,TAGS,Price tags,price_tag,20,,
S-NKA,NKA shelf,,,nka,POS,Wobblers,pos_material,1,,{r3}
S-LKA1,LKA-001 shelf,LKA-001,,,BLOCK,Block,shelf_blocking,1,,
",
        r1 = reference(1),
        r2 = reference(2),
        r3 = reference(3),
    )
}

/// The codes of the pictures of the user's master page, sorted.
fn delivered(server: &TestServer, user: &str) -> Vec<String> {
    let page = server.get_json(&server.token(user), "/v1/master");
    let mut codes: Vec<String> = page["success_pictures"]
        .as_array()
        .unwrap_or_else(|| panic!("no success_pictures in {page}"))
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    codes
}

/// The code of the picture the device shows for the visit.
fn shown(device: &TestDevice, visit: DocId) -> Option<String> {
    device
        .success_picture(visit)
        .unwrap()
        .map(|v| v.picture.code.to_string())
}

fn a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory(postgres: bool) {
    let (server, _db) = start(postgres);
    let bad = format!(
        "{HEADER}
S-GOOD,Good,NKA-001,,,A,Label,other,10,,
bad code!,Good,NKA-001,,,A,Label,other,10,,
S-W0,W,NKA-002,,,A,Label,other,0,,
S-W101,W,NKA-002,,,A,Label,other,101,,
S-KIND,K,NKA-002,,,A,Label,sparkle,10,,
S-SKU,K,NKA-002,,,A,Label,shelf_blocking,10,COLA-330,
S-EYE,K,NKA-002,,,A,Label,eye_level,10,NO-SUCH-SKU,
S-STORE,K,NKA-999,,,A,Label,other,10,,
S-GOOD,Good,NKA-001,,,A,Again,other,10,,
S-GOOD,Other title,NKA-001,,,B,Label,other,10,,
S-GOOD,Good,NKA-001,,,C,Label,other,10,,nothex
S-NONE,K,,,,A,Label,other,10,,
S-GOOD,Good,NKA-002,,,D,Label,other,10,,
S-LABEL,K,NKA-002,,,A,,other,10,,
S-TWIN,Twin,NKA-001,,,A,Label,other,10,,
"
    );
    let (status, body) = import(&server, &bad);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["reason"], "invalid_rows");
    let refused: Vec<(u64, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        refused,
        [
            (3, "code"),
            (4, "weight"),
            (5, "weight"),
            (6, "kind"),
            (7, "sku"),
            (8, "sku"),
            (9, "store_code"),
            (10, "point"),
            (11, "title"),
            (12, "reference_photos"),
            (13, "store_code"),
            (14, "store_code"),
            (15, "label"),
            (16, "store_code"),
        ],
        "{body}"
    );
    // Nothing of it was stored.
    assert_eq!(delivered(&server, "rep1"), Vec::<String>::new());

    let (status, body) = import(&server, &pictures());
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["kind"], &body["rows"], &body["created"]),
        (
            &Value::from("success-pictures"),
            &Value::from(5),
            &Value::from(3)
        )
    );
    // One store's picture only to who sees the store; the channel's to everyone.
    assert_eq!(delivered(&server, "rep1"), ["S-NKA", "S-STORE1"]);
    assert_eq!(delivered(&server, "rep2"), ["S-LKA1", "S-NKA"]);
    let page = server.get_json(&server.token("rep1"), "/v1/master");
    let store1 = page["success_pictures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "S-STORE1")
        .unwrap()
        .clone();
    let mut references = vec![reference(1), reference(2)];
    references.sort();
    assert_eq!(store1["reference_photos"], serde_json::json!(references));
    assert_eq!(
        store1["points"][1],
        serde_json::json!({"code": "EYE", "label": "Cola 330 at eye level", "kind": "eye_level", "weight": 30, "sku": "COLA-330"})
    );

    // Offline on the device: the most specific picture of each store.
    let rep = TestDevice::login(&server, "rep1");
    let nka1 = rep.store_by_code("NKA-001").unwrap();
    let visit = rep.start_visit(nka1.id, today()).unwrap();
    assert_eq!(shown(&rep, visit).as_deref(), Some("S-STORE1"));
    let view = rep.success_picture(visit).unwrap().unwrap();
    let points: Vec<(String, u32)> = view
        .points
        .iter()
        .map(|p| (p.point.code.to_string(), p.point.weight))
        .collect();
    assert_eq!(
        points,
        [
            ("BLOCK".to_string(), 50),
            ("EYE".to_string(), 30),
            ("TAGS".to_string(), 20)
        ]
    );
    assert_eq!(view.score_bp, 0);
    let nka2 = rep.store_by_code("NKA-002").unwrap();
    let second = rep.start_visit(nka2.id, today()).unwrap();
    assert_eq!(shown(&rep, second).as_deref(), Some("S-NKA"));
    let rep2 = TestDevice::login(&server, "rep2");
    let lka1 = rep2.store_by_code("LKA-001").unwrap();
    let theirs = rep2.start_visit(lka1.id, today()).unwrap();
    assert_eq!(shown(&rep2, theirs).as_deref(), Some("S-LKA1"));
    let lka2 = rep2.store_by_code("LKA-003").unwrap();
    let none = rep2.start_visit(lka2.id, today()).unwrap();
    assert_eq!(shown(&rep2, none), None);

    // Importing again updates every picture; the header alone empties them, and the device
    // drops them at its next sync.
    let (status, body) = import(&server, &pictures());
    assert_eq!((status, &body["updated"]), (200, &Value::from(3)), "{body}");
    let (status, body) = import(&server, &format!("{HEADER}\n"));
    assert_eq!(status, 200, "{body}");
    rep.sync().expect("sync");
    assert_eq!(shown(&rep, visit), None);
}

fn offline_a_missed_point_is_flagged_with_its_photo_as_on_the_server(postgres: bool) {
    let (server, _db) = start(postgres);
    let (status, body) = import(&server, &pictures());
    assert_eq!(status, 200, "{body}");
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.store_by_code("NKA-001").unwrap();

    // From here until the sync the device works alone.
    let visit = rep.start_visit(store.id, today()).unwrap();
    rep.check_in(visit, at(&store), Timestamp::now()).unwrap();
    let photo = rep
        .attach_photo(
            visit,
            &photo_file(rep.dir.path(), "shelf.jpg", 31),
            Some(VisitStep::StoreCheck),
        )
        .unwrap();
    // A photo of no visit, a point of another picture: refused.
    let stranger = Sha256::digest(b"another visit's photo");
    let err = rep
        .score_success_point(visit, "BLOCK", ScoreStatus::NotMet, &[stranger], None)
        .unwrap_err();
    assert_eq!(err.reason(), "invalid_input", "{err}");
    let err = rep
        .score_success_point(visit, "POS", ScoreStatus::Met, &[], None)
        .unwrap_err();
    assert_eq!(err.reason(), "invalid_input", "{err}");

    rep.score_success_point(
        visit,
        "BLOCK",
        ScoreStatus::NotMet,
        &[photo],
        Some("可乐陈列被打散 cola block broken"),
    )
    .unwrap();
    rep.score_success_point(visit, "EYE", ScoreStatus::Partly, &[], None)
        .unwrap();
    // Block 0 of 50, eye level 15 of 30, tags not scored: 15 %.
    let view = rep.success_picture(visit).unwrap().unwrap();
    assert_eq!(view.score_bp, 1_500);
    assert_eq!(
        view.points[0]
            .score
            .as_ref()
            .map(|s| (s.status, s.photos.clone())),
        Some((ScoreStatus::NotMet, vec![photo]))
    );

    // The shelf audited too: the visit is the week's audit of the store-opportunity report.
    rep.record_audit_line(
        visit,
        AuditInput {
            sku: "COLA-330".into(),
            location: "MAIN-SHELF".into(),
            facings: 6,
            on_shelf: true,
            shelf_price: None,
            oldest_production_date: None,
        },
    )
    .unwrap();
    for step in VisitStep::ALL {
        rep.record_step(visit, *step, None).unwrap();
    }
    rep.check_out(visit, at(&store), Timestamp::now()).unwrap();
    rep.submit_visit(visit).unwrap();
    let mut recorded: Vec<(String, String, String)> = rep
        .visit(visit)
        .unwrap()
        .findings
        .into_iter()
        .filter(|f| f.rule == "success")
        .map(|f| (f.code, f.field.unwrap_or_default(), f.message))
        .collect();
    recorded.sort();
    assert_eq!(
        recorded
            .iter()
            .map(|(c, f, _)| (c.as_str(), f.as_str()))
            .collect::<Vec<_>>(),
        [
            ("success_not_scored", "success.TAGS"),
            ("success_point_missed", "success.BLOCK")
        ]
    );

    let report = rep.sync().expect("sync");
    assert!(
        report.refused_edits.is_empty(),
        "{:?}",
        report.refused_edits
    );
    let item = server.get_json(&server.token("sup1"), &format!("/v1/visits/{visit}"));
    assert_eq!(
        item["document"]["status"], "submitted",
        "flagged, never held"
    );
    let judged: Vec<&Value> = item["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "success")
        .collect();
    let mut found: Vec<(String, String, String)> = judged
        .iter()
        .map(|f| {
            assert_eq!(
                (&f["severity"], &f["outcome"]),
                (&Value::from("flag"), &Value::from("flagged")),
                "{f}"
            );
            (
                f["code"].as_str().unwrap().to_string(),
                f["field"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(found, recorded, "the phone's findings are the server's");
    let missed = judged
        .iter()
        .find(|f| f["code"] == "success_point_missed")
        .unwrap();
    assert_eq!(missed["inputs"]["photos"], photo.to_hex(), "{missed}");
    assert_eq!(missed["inputs"]["score_bp"], "1500");
    assert_eq!(missed["inputs"]["picture"], "S-STORE1");
    assert_eq!(rep.visit(visit).unwrap().status, VisitStatus::Submitted);
    let flagged: Vec<String> = server.get_json(
        &server.token("sup1"),
        "/v1/visits?flag=success_point_missed",
    )["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(flagged, [visit.to_string()]);

    // The store-opportunity report: the week's score, the store's, and the CSV column.
    let week = fieldsync_shared::plan::IsoWeek::of(today());
    let query = format!("from={week}&to={week}&store_id={}", store.id);
    let report = server.get_json(
        &server.token("sup1"),
        &format!("/v1/reports/store-opportunity?{query}"),
    );
    let row = &report["stores"][0];
    assert_eq!(row["weeks"][0]["success_score_bp"], 1_500, "{row}");
    assert_eq!(row["success_score_bp"], 1_500, "{row}");
    let mut resp = fieldsync_e2e::http()
        .get(&format!(
            "{}/v1/reports/store-opportunity?{query}&format=csv",
            server.url
        ))
        .header("Authorization", &format!("Bearer {}", server.token("sup1")))
        .call()
        .expect("CSV");
    let csv = resp.body_mut().read_to_string().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].ends_with(",success_score_bp,week_success_score_bp"),
        "{csv}"
    );
    assert!(lines[1].ends_with(",1500,1500"), "{csv}");
}

fn two_devices_scoring_two_points_at_once_keep_both(postgres: bool, first: First) {
    let (server, _db) = start(postgres);
    let (status, body) = import(&server, &pictures());
    assert_eq!(status, 200, "{body}");
    let rep = TestDevice::login(&server, "rep1");
    let merch = TestDevice::login(&server, "merch1");
    let store = rep.store_by_code("NKA-001").unwrap();
    let visit = rep.start_visit(store.id, today()).unwrap();
    rep.sync().unwrap();
    merch.sync().unwrap();

    // Offline, at once.
    rep.score_success_point(visit, "BLOCK", ScoreStatus::Partly, &[], Some("half"))
        .unwrap();
    sleep(Duration::from_millis(5));
    merch
        .score_success_point(visit, "TAGS", ScoreStatus::Met, &[], None)
        .unwrap();
    sync_both(first, &rep, &merch);

    let v = converged(&server, &rep, &merch, visit);
    let scores = v.success_scores.expect("the map");
    let got: Vec<(&str, ScoreStatus)> =
        scores.iter().map(|(k, s)| (k.as_str(), s.status)).collect();
    assert_eq!(
        got,
        [("BLOCK", ScoreStatus::Partly), ("TAGS", ScoreStatus::Met)]
    );
    let rep_id = rep.profile().unwrap().unwrap().id;
    let merch_id = merch.profile().unwrap().unwrap().id;
    assert_eq!((scores["BLOCK"].by, scores["TAGS"].by), (rep_id, merch_id));
    // Both see the same score: block 25 of 50, tags 20 of 20: 45 %.
    assert_eq!(rep.success_picture(visit).unwrap().unwrap().score_bp, 4_500);
    assert_eq!(
        merch.success_picture(visit).unwrap().unwrap().score_bp,
        4_500
    );
}

/// `visit` as the schema 2 app writes it (no scores' map), pushed by `older` and stored; the
/// app's document.
fn push_schema_2_visit(
    server: &TestServer,
    older: &DeviceToken,
    mut visit: Visit,
) -> automerge::AutoCommit {
    visit.schema = 2;
    visit.success_scores = None;
    let mut doc = new_document(older.actor.clone());
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let resp = push_raw(server, older, visit.id, DocKind::Visit, changes);
    assert!(
        matches!(resp.outcomes[0].result, PushResult::Stored { .. }),
        "{:?}",
        resp.outcomes[0].result
    );
    doc
}

fn a_schema_2_visit_gets_the_map_from_the_server_and_an_older_apps_edit_keeps_it(postgres: bool) {
    let (server, _db) = start(postgres);
    let (status, body) = import(&server, &pictures());
    assert_eq!(status, 200, "{body}");
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.store_by_code("NKA-001").unwrap();
    let owner = rep.profile().unwrap().unwrap().id;

    // The schema 2 app (another install of rep1's) writes a visit: no scores.
    let older = server.device_token("rep1");
    let id = DocId::new_random();
    let mut doc = push_schema_2_visit(&server, &older, Visit::new(id, store.id, owner, today()));
    let upgraded = served(&server, id);
    assert_eq!(upgraded.schema, VISIT_SCHEMA_VERSION);
    assert_eq!(upgraded.success_scores, Some(Default::default()));

    // This app receives it and scores a point.
    rep.sync().unwrap();
    rep.score_success_point(id, "EYE", ScoreStatus::Met, &[], None)
        .unwrap();
    rep.sync().unwrap();

    // The older app edits the visit from the copy it holds, its own first version (the
    // server's upgrade and the score are concurrent to its edit): it writes no map, so the one
    // there stays.
    let changes = edit_visit(&mut doc, |v| {
        v.success_scores = None;
        v.status = VisitStatus::InProgress;
    });
    let resp = push_raw(&server, &older, id, DocKind::Visit, changes);
    assert!(
        matches!(resp.outcomes[0].result, PushResult::Stored { .. }),
        "{:?}",
        resp.outcomes[0].result
    );
    let merged = served(&server, id);
    assert_eq!(merged.status, VisitStatus::InProgress);
    let scores = merged.success_scores.expect("kept");
    assert_eq!(scores["EYE"].status, ScoreStatus::Met);
}

/// An older app submits a visit the server's rules hold: one push gets two changes of the
/// server, the upgrade (the scores' map) and the hold (the status back), the second written on
/// the state the first made.
fn a_schema_2_visit_submitted_and_held_is_upgraded_and_held_in_one_push(postgres: bool) {
    let (server, _db) = start(postgres);
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.store_by_code("NKA-001").unwrap();
    let owner = rep.profile().unwrap().unwrap().id;

    // Submitted without a check-in or a step: the rules hold it.
    let older = server.device_token("rep1");
    let id = DocId::new_random();
    let mut visit = Visit::new(id, store.id, owner, today());
    visit.status = VisitStatus::Submitted;
    push_schema_2_visit(&server, &older, visit);
    let stored = served(&server, id);
    assert_eq!(stored.schema, VISIT_SCHEMA_VERSION);
    assert_eq!(stored.success_scores, Some(Default::default()));
    assert_eq!(stored.status, VisitStatus::Planned, "held back to planned");
}

#[test]
fn a_schema_2_visit_submitted_and_held_is_upgraded_and_held_in_one_push_sqlite() {
    a_schema_2_visit_submitted_and_held_is_upgraded_and_held_in_one_push(false);
}

#[test]
fn a_schema_2_visit_submitted_and_held_is_upgraded_and_held_in_one_push_postgres() {
    a_schema_2_visit_submitted_and_held_is_upgraded_and_held_in_one_push(true);
}

#[test]
fn a_bad_success_pictures_file_is_refused_and_a_good_one_reaches_the_stores_territory_sqlite() {
    a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory(false);
}

#[test]
fn a_bad_success_pictures_file_is_refused_and_a_good_one_reaches_the_stores_territory_postgres() {
    a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory(true);
}

#[test]
fn offline_a_missed_success_point_is_flagged_with_its_photo_as_on_the_server_sqlite() {
    offline_a_missed_point_is_flagged_with_its_photo_as_on_the_server(false);
}

#[test]
fn offline_a_missed_success_point_is_flagged_with_its_photo_as_on_the_server_postgres() {
    offline_a_missed_point_is_flagged_with_its_photo_as_on_the_server(true);
}

#[test]
fn two_devices_scoring_two_success_points_at_once_keep_both_sqlite() {
    two_devices_scoring_two_points_at_once_keep_both(false, First::A);
    two_devices_scoring_two_points_at_once_keep_both(false, First::B);
}

#[test]
fn two_devices_scoring_two_success_points_at_once_keep_both_postgres() {
    two_devices_scoring_two_points_at_once_keep_both(true, First::B);
}

#[test]
fn a_schema_2_visit_gets_the_success_scores_from_the_server_and_an_older_apps_edit_keeps_them_sqlite(
) {
    a_schema_2_visit_gets_the_map_from_the_server_and_an_older_apps_edit_keeps_it(false);
}

#[test]
fn a_schema_2_visit_gets_the_success_scores_from_the_server_and_an_older_apps_edit_keeps_them_postgres(
) {
    a_schema_2_visit_gets_the_map_from_the_server_and_an_older_apps_edit_keeps_it(true);
}

fn put_reference(
    server: &TestServer,
    user: &str,
    content_type: &str,
    sha: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let mut resp = fieldsync_e2e::http()
        .put(&format!("{}/v1/admin/reference-photos/{sha}", server.url))
        .header("Authorization", &format!("Bearer {}", server.token(user)))
        .header("Content-Type", content_type)
        .send(bytes)
        .expect("upload");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(Value::Null))
}

fn get_reference(server: &TestServer, token: &str, sha: &str) -> (u16, Vec<u8>) {
    let mut resp = fieldsync_e2e::http()
        .get(&format!("{}/v1/reference-photos/{sha}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("download");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_vec().unwrap_or_default())
}

fn reference_photos_are_uploaded_read_by_the_tenant_and_held_offline(postgres: bool) {
    let (server, _db) = start(postgres);
    let jpeg = fieldsync_e2e::jpeg_bytes(64, 48, 11);
    let sha = Sha256::digest(&jpeg).to_hex();

    // Refused: not an administrator, not image/jpeg, bytes of another hash, not a JPEG, too
    // large.
    let refused = |user: &str, content_type: &str, sha: &str, bytes: &[u8]| {
        let (status, body) = put_reference(&server, user, content_type, sha, bytes);
        (status, body["reason"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(
        refused("rep1", "image/jpeg", &sha, &jpeg),
        (403, "forbidden".into())
    );
    assert_eq!(
        refused("admin", "image/png", &sha, &jpeg),
        (415, "unsupported_media_type".into())
    );
    let other = Sha256::digest(b"other").to_hex();
    assert_eq!(
        refused("admin", "image/jpeg", &other, &jpeg),
        (422, "sha256_mismatch".into())
    );
    let fake = fieldsync_e2e::photo_bytes(4096, 3);
    assert_eq!(
        refused(
            "admin",
            "image/jpeg",
            &Sha256::digest(&fake).to_hex(),
            &fake
        ),
        (422, "invalid_jpeg".into())
    );
    let huge = fieldsync_e2e::photo_bytes(5 * 1024 * 1024 + 1, 4);
    assert_eq!(
        refused(
            "admin",
            "image/jpeg",
            &Sha256::digest(&huge).to_hex(),
            &huge
        ),
        (413, "reference_photo_too_large".into())
    );
    assert_eq!(get_reference(&server, &server.token("rep1"), &sha).0, 404);

    // Stored once; the same bytes again change nothing.
    let (status, body) = put_reference(&server, "admin", "image/jpeg", &sha, &jpeg);
    assert_eq!(
        (status, &body["already_stored"]),
        (201, &Value::from(false)),
        "{body}"
    );
    let (status, body) = put_reference(&server, "admin", "image/jpeg", &sha, &jpeg);
    assert_eq!(
        (status, &body["already_stored"]),
        (200, &Value::from(true)),
        "{body}"
    );
    // Any signed-in user of the tenant reads it; another tenant's administrator does not.
    for user in ["rep1", "rep2", "sup1"] {
        assert_eq!(
            get_reference(&server, &server.token(user), &sha),
            (200, jpeg.clone())
        );
    }
    let stranger = crate::security_ids::other_tenant_admin(&server);
    assert_eq!(get_reference(&server, &stranger, &sha).0, 404);

    // A picture names it and a photo never uploaded: the device downloads the one there is
    // (the other is a warning) and shows it offline.
    let missing = reference(9);
    let csv =
        format!("{HEADER}\nS-NKA,NKA shelf,,,nka,POS,Wobblers,pos_material,1,,{sha};{missing}\n");
    let (status, body) = import(&server, &csv);
    assert_eq!(status, 200, "{body}");
    let rep = TestDevice::login(&server, "rep1");
    let report = rep.sync().expect("sync");
    assert!(
        report.warnings.iter().any(|w| w.contains(&missing)),
        "{:?}",
        report.warnings
    );
    let sha256 = Sha256::parse(&sha).unwrap();
    assert_eq!(rep.reference_photo(&sha256).unwrap(), Some(jpeg.clone()));
    assert_eq!(
        rep.reference_photo(&Sha256::parse(&missing).unwrap())
            .unwrap(),
        None
    );
    let store = rep.store_by_code("NKA-002").unwrap();
    let visit = rep.start_visit(store.id, today()).unwrap();
    let view = rep.success_picture(visit).unwrap().unwrap();
    assert!(view.picture.reference_photos.contains(&sha256));
    // Synced again: nothing more to fetch of it (held), the missing one still a warning.
    let report = rep.sync().expect("sync");
    assert!(
        !report.warnings.iter().any(|w| w.contains(&sha)),
        "{:?}",
        report.warnings
    );

    // The picture no longer names it: the device deletes its copy.
    let (status, body) = import(&server, &format!("{HEADER}\n"));
    assert_eq!(status, 200, "{body}");
    rep.sync().expect("sync");
    assert_eq!(rep.reference_photo(&sha256).unwrap(), None);
}

#[test]
fn reference_photos_are_uploaded_read_by_the_tenant_and_held_offline_sqlite() {
    reference_photos_are_uploaded_read_by_the_tenant_and_held_offline(false);
}

#[test]
fn reference_photos_are_uploaded_read_by_the_tenant_and_held_offline_postgres() {
    reference_photos_are_uploaded_read_by_the_tenant_and_held_offline(true);
}
