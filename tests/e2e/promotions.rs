//! Promotions and display agreements end to end (docs/promotions.md): a CSV import with refused
//! rows naming row and column, then a good one; the promotions reach the devices of the
//! stores' territories only, running and future ones; offline, a check not in place with its
//! photo and a shelf price above the promotion price are flagged on the phone at submission
//! exactly as the server's verdicts flag them (flagged, never held); two devices checking two
//! promotions of one visit at once keep both; a visit written by the schema 1 app gets the map
//! of checks from the server, and the older app's later edit keeps it. On both engines.

use std::thread::sleep;
use std::time::Duration;

use fieldsync_client::{AuditInput, DocKind, Money, VisitStatus, VisitStep};
use fieldsync_e2e::{photo_file, TestDevice, TestServer};
use fieldsync_shared::document::{new_document, reconcile_visit};
use fieldsync_shared::promotion::CheckStatus;
use fieldsync_shared::protocol::PushResult;
use fieldsync_shared::visit::Visit;
use fieldsync_shared::{Date, DocId, Sha256, Timestamp};
use serde_json::Value;

use crate::merges::{converged, served, sync_both, First};
use crate::verdicts::start;
use crate::write_policies::{at, edit_visit, push_raw, today};

fn import(server: &TestServer, csv: &str) -> (u16, Value) {
    let mut resp = fieldsync_e2e::http()
        .post(&format!("{}/v1/admin/import/promotions", server.url))
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

fn day(offset: i64) -> Date {
    today().add_days(offset)
}

const HEADER: &str =
    "code,title,from,to,store_code,chain,channel,skus,mechanic,promotion_price,fee";

/// NKA-001 (rep1's territory) runs an endcap; LKA-001 (rep2's) a floor stand; every NKA store a
/// price cut of COLA-330 and COLA-500 at 2.50, and later a gift; an ended one is delivered to
/// no one.
fn promotions() -> String {
    format!(
        "{HEADER}
P-STORE1,春节端架 CNY endcap,{},{},NKA-001,,,COLA-330,endcap,,1200.00
P-LKA,Floor stand,{},{},LKA-001,,,COLA-500,floor_stand,,300
P-CUT,Cola price cut,{},{},,,nka,COLA-330;COLA-500,price_cut,2.50,
P-FUTURE,Gift with 6 cans,{},{},,,nka,COLA-330,gift,,
P-OLD,Ended,{},{},,,nka,COLA-330,endcap,,
",
        day(-1),
        day(30),
        day(-1),
        day(30),
        day(0),
        day(14),
        day(10),
        day(20),
        day(-60),
        day(-30),
    )
}

/// The codes of the promotions of the user's master page, sorted.
fn delivered(server: &TestServer, user: &str) -> Vec<String> {
    let page = server.get_json(&server.token(user), "/v1/master");
    let mut codes: Vec<String> = page["promotions"]
        .as_array()
        .unwrap_or_else(|| panic!("no promotions in {page}"))
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    codes
}

fn running(device: &TestDevice, visit: DocId) -> Vec<String> {
    device
        .active_promotions(visit)
        .unwrap()
        .into_iter()
        .map(|p| p.promotion.code.to_string())
        .collect()
}

fn a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory(postgres: bool) {
    let (server, _db) = start(postgres);
    let (from, to) = (day(0), day(7));
    let bad = format!(
        "{HEADER}
P-GOOD,Endcap,{from},{to},NKA-001,,,COLA-330,endcap,,500.00
bad code!,Endcap,{from},{to},NKA-001,,,COLA-330,endcap,,
P-BACK,Endcap,{to},{from},NKA-001,,,COLA-330,endcap,,
P-SKU,Endcap,{from},{to},NKA-001,,,COLA-330;NO-SUCH-SKU,endcap,,
P-MECH,Endcap,{from},{to},NKA-001,,,COLA-330,discount,,
P-NOPRICE,Cut,{from},{to},NKA-001,,,COLA-330,price_cut,,
P-PRICE,Endcap,{from},{to},NKA-001,,,COLA-330,endcap,2.50,
P-STORE,Endcap,{from},{to},NKA-999,,,COLA-330,endcap,,
P-GOOD,Again,{from},{to},NKA-001,,,COLA-330,endcap,,
P-DATE,Endcap,2026-13-01,{to},NKA-001,,,COLA-330,endcap,,
P-FEE,Endcap,{from},{to},NKA-001,,,COLA-330,endcap,,-5
P-SCOPE,Endcap,{from},{to},,,,COLA-330,endcap,,
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
            (4, "to"),
            (5, "skus"),
            (6, "mechanic"),
            (7, "promotion_price"),
            (8, "promotion_price"),
            (9, "store_code"),
            (10, "code"),
            (11, "from"),
            (12, "fee"),
            (13, "store_code"),
        ],
        "{body}"
    );
    // Nothing of it was stored.
    assert_eq!(delivered(&server, "rep1"), Vec::<String>::new());

    let (status, body) = import(&server, &promotions());
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["kind"], &body["rows"], &body["created"]),
        (&Value::from("promotions"), &Value::from(5), &Value::from(5))
    );
    // Running or future ones; one store's only to who sees the store; the ended one to no one.
    assert_eq!(
        delivered(&server, "rep1"),
        ["P-CUT", "P-FUTURE", "P-STORE1"]
    );
    assert_eq!(delivered(&server, "rep2"), ["P-CUT", "P-FUTURE", "P-LKA"]);
    let page = server.get_json(&server.token("rep1"), "/v1/master");
    let store1 = page["promotions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "P-STORE1")
        .unwrap()
        .clone();
    assert_eq!(
        (&store1["mechanic"], &store1["fee"], &store1["skus"]),
        (
            &Value::from("endcap"),
            &Value::from(120_000),
            &serde_json::json!(["COLA-330"])
        )
    );

    // Offline on the device: the running ones of each store on the visit's date.
    let rep = TestDevice::login(&server, "rep1");
    let nka1 = rep.store_by_code("NKA-001").unwrap();
    let visit = rep.start_visit(nka1.id, today()).unwrap();
    assert_eq!(running(&rep, visit), ["P-CUT", "P-STORE1"]);
    let nka2 = rep.store_by_code("NKA-002").unwrap();
    let second = rep.start_visit(nka2.id, today()).unwrap();
    assert_eq!(running(&rep, second), ["P-CUT"]);
    let later = rep.start_visit(nka2.id, day(15)).unwrap();
    assert_eq!(running(&rep, later), ["P-FUTURE"]);
    let rep2 = TestDevice::login(&server, "rep2");
    let lka1 = rep2.store_by_code("LKA-001").unwrap();
    let theirs = rep2.start_visit(lka1.id, today()).unwrap();
    assert_eq!(running(&rep2, theirs), ["P-LKA"]);

    // Importing again updates every row; the header alone empties them, and the device drops
    // them at its next sync.
    let (status, body) = import(&server, &promotions());
    assert_eq!((status, &body["updated"]), (200, &Value::from(5)), "{body}");
    let (status, body) = import(&server, &format!("{HEADER}\n"));
    assert_eq!(status, 200, "{body}");
    rep.sync().expect("sync");
    assert!(running(&rep, visit).is_empty());
}

fn offline_a_promotion_not_in_place_is_flagged_with_its_photo_as_on_the_server(postgres: bool) {
    let (server, _db) = start(postgres);
    let (status, body) = import(&server, &promotions());
    assert_eq!(status, 200, "{body}");
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.store_by_code("NKA-001").unwrap();

    // From here until the sync the device works alone.
    let visit = rep.start_visit(store.id, today()).unwrap();
    rep.check_in(visit, at(&store), Timestamp::now()).unwrap();
    let photo = rep
        .attach_photo(
            visit,
            &photo_file(rep.dir.path(), "endcap.jpg", 21),
            Some(VisitStep::StoreCheck),
        )
        .unwrap();
    // A photo of no visit, a promotion not running today: refused.
    let stranger = Sha256::digest(b"another visit's photo");
    let err = rep
        .check_promotion(
            visit,
            "P-STORE1",
            CheckStatus::NotInPlace,
            &[stranger],
            None,
            None,
        )
        .unwrap_err();
    assert_eq!(err.reason(), "invalid_input", "{err}");
    let err = rep
        .check_promotion(visit, "P-FUTURE", CheckStatus::InPlace, &[], None, None)
        .unwrap_err();
    assert_eq!(err.reason(), "invalid_input", "{err}");

    rep.check_promotion(
        visit,
        "P-STORE1",
        CheckStatus::NotInPlace,
        &[photo],
        None,
        Some("端架被竞品占用 endcap taken by a competitor"),
    )
    .unwrap();
    // The price cut is up, but the shelf says 2.90 (above 2.50); COLA-500 is at 2.40.
    rep.check_promotion(
        visit,
        "P-CUT",
        CheckStatus::InPlace,
        &[],
        Some(Money(290)),
        None,
    )
    .unwrap();
    rep.record_audit_line(
        visit,
        AuditInput {
            sku: "COLA-500".into(),
            location: "MAIN-SHELF".into(),
            facings: 4,
            on_shelf: true,
            shelf_price: Some(Money(240)),
            oldest_production_date: None,
        },
    )
    .unwrap();
    let shown: Vec<(String, Option<CheckStatus>)> = rep
        .active_promotions(visit)
        .unwrap()
        .into_iter()
        .map(|p| (p.promotion.code.to_string(), p.check.map(|c| c.status)))
        .collect();
    assert_eq!(
        shown,
        [
            ("P-CUT".to_string(), Some(CheckStatus::InPlace)),
            ("P-STORE1".to_string(), Some(CheckStatus::NotInPlace))
        ]
    );

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
        .filter(|f| f.rule == "promotion")
        .map(|f| (f.code, f.field.unwrap_or_default(), f.message))
        .collect();
    recorded.sort();
    assert_eq!(
        recorded
            .iter()
            .map(|(c, f, _)| (c.as_str(), f.as_str()))
            .collect::<Vec<_>>(),
        [
            ("promotion_not_in_place", "promotions.P-STORE1"),
            ("promotion_price_mismatch", "promotions.P-CUT.price")
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
        .filter(|f| f["rule"] == "promotion")
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
    let not_in_place = judged
        .iter()
        .find(|f| f["code"] == "promotion_not_in_place")
        .unwrap();
    assert_eq!(
        not_in_place["inputs"]["photos"],
        photo.to_hex(),
        "{not_in_place}"
    );
    // One of two in place: 5 000 bp.
    assert_eq!(not_in_place["inputs"]["compliance_bp"], "5000");
    let mismatch = judged
        .iter()
        .find(|f| f["code"] == "promotion_price_mismatch")
        .unwrap();
    assert_eq!(
        (
            &mismatch["inputs"]["seen_price"],
            &mismatch["inputs"]["promotion_price"]
        ),
        (&Value::from("290"), &Value::from("250")),
        "{mismatch}"
    );
    assert_eq!(rep.visit(visit).unwrap().status, VisitStatus::Submitted);
    let flagged: Vec<String> = server.get_json(
        &server.token("sup1"),
        "/v1/visits?flag=promotion_not_in_place",
    )["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(flagged, [visit.to_string()]);
}

fn two_devices_checking_two_promotions_at_once_keep_both(postgres: bool, first: First) {
    let (server, _db) = start(postgres);
    let (status, body) = import(&server, &promotions());
    assert_eq!(status, 200, "{body}");
    let rep = TestDevice::login(&server, "rep1");
    let merch = TestDevice::login(&server, "merch1");
    let store = rep.store_by_code("NKA-001").unwrap();
    let visit = rep.start_visit(store.id, today()).unwrap();
    rep.sync().unwrap();
    merch.sync().unwrap();

    // Offline, at once.
    rep.check_promotion(
        visit,
        "P-STORE1",
        CheckStatus::Partly,
        &[],
        None,
        Some("half"),
    )
    .unwrap();
    sleep(Duration::from_millis(5));
    merch
        .check_promotion(
            visit,
            "P-CUT",
            CheckStatus::InPlace,
            &[],
            Some(Money(250)),
            None,
        )
        .unwrap();
    sync_both(first, &rep, &merch);

    let v = converged(&server, &rep, &merch, visit);
    let checks = v.promotion_checks.expect("the map");
    let got: Vec<(&str, CheckStatus)> =
        checks.iter().map(|(k, c)| (k.as_str(), c.status)).collect();
    assert_eq!(
        got,
        [
            ("P-CUT", CheckStatus::InPlace),
            ("P-STORE1", CheckStatus::Partly)
        ]
    );
    let rep_id = rep.profile().unwrap().unwrap().id;
    let merch_id = merch.profile().unwrap().unwrap().id;
    assert_eq!(
        (checks["P-STORE1"].by, checks["P-CUT"].by),
        (rep_id, merch_id)
    );

    // Both re-check the price cut at once: one of the two checks, whole, on every replica.
    rep.check_promotion(
        visit,
        "P-CUT",
        CheckStatus::NotInPlace,
        &[],
        Some(Money(310)),
        Some("gone"),
    )
    .unwrap();
    merch
        .check_promotion(visit, "P-CUT", CheckStatus::Partly, &[], None, None)
        .unwrap();
    sync_both(first, &rep, &merch);
    let v = converged(&server, &rep, &merch, visit);
    let cut = &v.promotion_checks.expect("the map")["P-CUT"];
    let whole = |c: &fieldsync_shared::promotion::PromotionCheck| {
        (
            c.status,
            c.seen_price,
            c.note.as_ref().map(|n| n.to_string()),
            c.by,
        )
    };
    assert!(
        [
            (
                CheckStatus::NotInPlace,
                Some(Money(310)),
                Some("gone".to_string()),
                rep_id
            ),
            (CheckStatus::Partly, None, None, merch_id),
        ]
        .contains(&whole(cut)),
        "one person's check, whole: {cut:?}"
    );
}

fn a_schema_1_visit_gets_the_map_from_the_server_and_an_older_apps_edit_keeps_it(postgres: bool) {
    let (server, _db) = start(postgres);
    let (status, body) = import(&server, &promotions());
    assert_eq!(status, 200, "{body}");
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.store_by_code("NKA-001").unwrap();
    let owner = rep.profile().unwrap().unwrap().id;

    // The schema 1 app (another install of rep1's) writes a visit: no map.
    let older = server.device_token("rep1");
    let id = DocId::new_random();
    let mut visit = Visit::new(id, store.id, owner, today());
    visit.schema = 1;
    visit.promotion_checks = None;
    let mut doc = new_document(older.actor.clone());
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let resp = push_raw(&server, &older, id, DocKind::Visit, changes);
    assert!(
        matches!(resp.outcomes[0].result, PushResult::Stored { .. }),
        "{:?}",
        resp.outcomes[0].result
    );
    let upgraded = served(&server, id);
    assert_eq!(
        upgraded.schema,
        fieldsync_shared::visit::VISIT_SCHEMA_VERSION
    );
    assert_eq!(upgraded.promotion_checks, Some(Default::default()));

    // This app receives it and checks a promotion.
    rep.sync().unwrap();
    rep.check_promotion(id, "P-STORE1", CheckStatus::InPlace, &[], None, None)
        .unwrap();
    rep.sync().unwrap();

    // The older app edits the visit from the copy it holds, its own first version (the
    // server's upgrade and the check are concurrent to its edit): it writes no map, so the one
    // there stays.
    let changes = edit_visit(&mut doc, |v| {
        v.promotion_checks = None;
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
    let checks = merged.promotion_checks.expect("kept");
    assert_eq!(checks["P-STORE1"].status, CheckStatus::InPlace);
}

#[test]
fn a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory_sqlite() {
    a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory(false);
}

#[test]
fn a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory_postgres() {
    a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory(true);
}

#[test]
fn offline_a_promotion_not_in_place_is_flagged_with_its_photo_as_on_the_server_sqlite() {
    offline_a_promotion_not_in_place_is_flagged_with_its_photo_as_on_the_server(false);
}

#[test]
fn offline_a_promotion_not_in_place_is_flagged_with_its_photo_as_on_the_server_postgres() {
    offline_a_promotion_not_in_place_is_flagged_with_its_photo_as_on_the_server(true);
}

#[test]
fn two_devices_checking_two_promotions_at_once_keep_both_sqlite() {
    two_devices_checking_two_promotions_at_once_keep_both(false, First::A);
    two_devices_checking_two_promotions_at_once_keep_both(false, First::B);
}

#[test]
fn two_devices_checking_two_promotions_at_once_keep_both_postgres() {
    two_devices_checking_two_promotions_at_once_keep_both(true, First::B);
}

#[test]
fn a_schema_1_visit_gets_the_map_from_the_server_and_an_older_apps_edit_keeps_it_sqlite() {
    a_schema_1_visit_gets_the_map_from_the_server_and_an_older_apps_edit_keeps_it(false);
}

#[test]
fn a_schema_1_visit_gets_the_map_from_the_server_and_an_older_apps_edit_keeps_it_postgres() {
    a_schema_1_visit_gets_the_map_from_the_server_and_an_older_apps_edit_keeps_it(true);
}
