//! Cross-device flags (docs/verdicts.md): what only the server sees, with every device's
//! data together: combined credit, the same photo on two stores' visits, impossible travel,
//! short and overlapping visits, duplicate orders. Real server, real devices; both engines.

use fieldsync_client::{GeoFix, OrderStatus, Store, VisitStep};
use fieldsync_e2e::{photo_file, TestDevice, TestServer};
use fieldsync_server::demo::{demo_store_id, demo_tenant_id};
use fieldsync_shared::master::CreditSnapshot;
use fieldsync_shared::{DocId, Money, Timestamp};
use serde_json::Value;

use crate::verdicts::{local_draft_order, start};
use crate::write_policies::{at, today};

fn two_phones_offline_each_order_sixty_percent_of_the_allowance(postgres: bool) {
    let (server, _db) = start(postgres);
    let token = server.token("sup1");
    // The rep's two phones, both with master data, then offline.
    let first = TestDevice::login(&server, "rep1");
    let second = TestDevice::login(&server, "rep1");
    let a = local_draft_order(&first, "NKA-001");
    let total = first.order(a).unwrap().total().expect("total");

    // The customer's remaining allowance is such that each order is 60% of it.
    let store = demo_store_id("NKA-001");
    let receivables = Money(1_000_000);
    let allowance = Money(total.0 * 10 / 6);
    server
        .block_on(server.state().store.upsert_credit(
            demo_tenant_id(),
            &[CreditSnapshot {
                store_id: store,
                credit_limit: Money(receivables.0 + allowance.0),
                receivables,
                overdue: Money::ZERO,
                as_of: Timestamp::now().utc_date(),
            }],
        ))
        .expect("credit import");
    first.sync().expect("first phone pulls the snapshot");
    second.sync().expect("second phone pulls the snapshot");

    // Offline, each phone submits its order: each fits the allowance on its own.
    let b = local_draft_order(&second, "NKA-001");
    first.submit_order(a).expect("submit on the first phone");
    second.submit_order(b).expect("submit on the second phone");
    assert_eq!(first.order(a).unwrap().status, OrderStatus::Submitted);
    assert_eq!(second.order(b).unwrap().status, OrderStatus::Submitted);

    let report = first.sync().expect("first phone syncs");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let report = second.sync().expect("second phone syncs");
    let codes: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.outcome.as_str()))
        .collect();
    assert!(codes.contains(&("credit_combined", "held")), "{codes:?}");
    assert_eq!(
        second.order(b).unwrap().status,
        OrderStatus::PendingApproval
    );
    assert_eq!(first.order(a).unwrap().status, OrderStatus::Submitted);

    let doc = server.get_json(&token, &format!("/v1/orders/{b}"));
    assert_eq!(doc["document"]["status"], "pending_approval");
    let flag = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "credit_combined")
        .expect("the flag is stored");
    assert_eq!(flag["kind"], "cross_device");
    assert_eq!(flag["source"], "server");
    assert_eq!(flag["outcome"], "held");
    assert_eq!(flag["inputs"]["other_orders"], a.to_string());
    let listed = server.get_json(&token, "/v1/orders?flag=credit_combined")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(listed, [b.to_string()]);
    assert!(
        server.metric(r#"fieldsync_findings_total{code="credit_combined",severity="needs_approval",source="server"}"#)
            >= 1.0
    );

    // No loop: nothing more on the next syncs.
    assert!(second.sync().unwrap().findings.is_empty());
    assert!(first.sync().unwrap().findings.is_empty());
}

#[test]
fn two_phones_offline_each_order_sixty_percent_of_the_allowance_sqlite() {
    two_phones_offline_each_order_sixty_percent_of_the_allowance(false);
}

#[test]
fn two_phones_offline_each_order_sixty_percent_of_the_allowance_postgres() {
    two_phones_offline_each_order_sixty_percent_of_the_allowance(true);
}

/// The findings of the last sync as (code, outcome).
fn reported(report: &fieldsync_client::SyncReport) -> Vec<(&str, &str)> {
    report
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.outcome.as_str()))
        .collect()
}

/// The server's stored finding `code` of a visit or order (`kind`: `visits`, `orders`).
fn stored(server: &TestServer, token: &str, kind: &str, id: DocId, code: &str) -> Value {
    let doc = server.get_json(token, &format!("/v1/{kind}/{id}"));
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} on {id}: {}", doc["findings"]))
        .clone()
}

/// The ids `GET /v1/{kind}?flag=<code>` lists.
fn flagged(server: &TestServer, token: &str, kind: &str, code: &str) -> Vec<String> {
    server.get_json(token, &format!("/v1/{kind}?flagged=true&flag={code}"))["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_string())
        .collect()
}

/// A complete visit of `store` by `device`, checked in at `fix` at `check_in`, checked out at
/// the store `minutes` later and submitted (not synced); its photo is the same file on every
/// phone.
fn visit_between(
    device: &TestDevice,
    store: &Store,
    fix: GeoFix,
    check_in: Timestamp,
    minutes: i64,
) -> DocId {
    let visit = device.start_visit(store.id, today()).expect("start visit");
    device.check_in(visit, fix, check_in).expect("check in");
    for step in VisitStep::ALL {
        device.record_step(visit, *step, None).expect("step");
    }
    device
        .attach_photo(
            visit,
            &photo_file(device.dir.path(), "shelf.jpg", 5),
            Some(VisitStep::Merchandise),
        )
        .expect("photo");
    let check_out = Timestamp(check_in.millis() + minutes * 60_000);
    device
        .check_out(visit, at(store), check_out)
        .expect("check out");
    device.submit_visit(visit).expect("submit");
    visit
}

fn the_same_photo_on_two_stores_visits_is_flagged(postgres: bool) {
    let (server, _db) = start(postgres);
    let token = server.token("sup1");
    // A rep's two phones: the second never saw the first one's visit.
    let first = TestDevice::login(&server, "rep1");
    let second = TestDevice::login(&server, "rep1");
    let (one, two) = (
        first.store_by_code("NKA-001").expect("store"),
        second.store_by_code("NKA-002").expect("store"),
    );
    let start = Timestamp(Timestamp::now().millis() - 3 * 3_600_000);
    let earlier = visit_between(&first, &one, at(&one), start, 30);
    first.sync().expect("first phone syncs");
    let later = visit_between(
        &second,
        &two,
        at(&two),
        Timestamp(start.millis() + 2 * 3_600_000),
        30,
    );
    let report = second.sync().expect("second phone syncs");
    assert!(
        reported(&report).contains(&("photo_reused", "flagged")),
        "{:?}",
        report.findings
    );
    assert_eq!(
        server.get_json(&token, &format!("/v1/visits/{later}"))["document"]["status"],
        "submitted",
        "flagged, not held"
    );

    let flag = stored(&server, &token, "visits", later, "photo_reused");
    assert_eq!(flag["kind"], "cross_device");
    assert_eq!(flag["source"], "server");
    assert_eq!(flag["rule"], "photo_reused");
    assert_eq!(flag["inputs"]["other_visit"], earlier.to_string());
    assert_eq!(flag["inputs"]["other_store"], one.id.to_string());
    assert_eq!(flag["inputs"]["other_date"], today().to_string());
    assert_eq!(
        flag["inputs"]["other_person"],
        flag_person(&server, &token, earlier)
    );
    assert_eq!(
        flagged(&server, &token, "visits", "photo_reused"),
        [later.to_string()]
    );
    assert!(
        server.metric(
            r#"fieldsync_findings_total{code="photo_reused",severity="flag",source="server"}"#
        ) >= 1.0
    );
}

/// The person of a visit, as the server holds it.
fn flag_person(server: &TestServer, token: &str, visit: DocId) -> Value {
    server.get_json(token, &format!("/v1/visits/{visit}"))["document"]["person_id"].clone()
}

#[test]
fn the_same_photo_on_two_stores_visits_is_flagged_sqlite() {
    the_same_photo_on_two_stores_visits_is_flagged(false);
}

#[test]
fn the_same_photo_on_two_stores_visits_is_flagged_postgres() {
    the_same_photo_on_two_stores_visits_is_flagged(true);
}

/// One rep, two phones: the second phone's visit is checked in 111 km away from the first
/// one's check-in 20 minutes earlier, while that visit was still open, and lasts 2 minutes.
fn impossible_travel_short_and_overlapping_visits_are_flagged(postgres: bool) {
    let (server, _db) = start(postgres);
    let token = server.token("sup1");
    let first = TestDevice::login(&server, "rep1");
    let second = TestDevice::login(&server, "rep1");
    let (one, two) = (
        first.store_by_code("NKA-001").expect("store"),
        second.store_by_code("NKA-002").expect("store"),
    );
    let start = Timestamp(Timestamp::now().millis() - 3_600_000);
    let earlier = visit_between(&first, &one, at(&one), start, 30);
    first.sync().expect("first phone syncs");
    let far = GeoFix {
        lat: one.location.lat() + 1.0,
        ..at(&one)
    };
    let later = visit_between(
        &second,
        &two,
        far,
        Timestamp(start.millis() + 20 * 60_000),
        2,
    );
    let report = second.sync().expect("second phone syncs");
    let codes = reported(&report);
    for code in [
        "impossible_travel",
        "visit_too_short",
        "overlapping_visit",
        "outside_geofence",
    ] {
        assert!(codes.contains(&(code, "flagged")), "{code} in {codes:?}");
    }
    assert_eq!(
        server.get_json(&token, &format!("/v1/visits/{later}"))["document"]["status"],
        "submitted",
        "flagged, not held"
    );

    let travel = stored(&server, &token, "visits", later, "impossible_travel");
    assert_eq!(travel["kind"], "cross_device");
    assert_eq!(travel["inputs"]["other_visit"], earlier.to_string());
    assert_eq!(travel["inputs"]["minutes"], "20.0");
    assert_eq!(travel["inputs"]["max_speed_kmh"], "120");
    let km: f64 = travel["inputs"]["distance_km"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((110.0..112.0).contains(&km), "{km}");
    let speed: f64 = travel["inputs"]["speed_kmh"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(speed > 300.0, "{speed}");
    let short = stored(&server, &token, "visits", later, "visit_too_short");
    assert_eq!(short["inputs"]["minutes"], "2.0");
    assert_eq!(short["inputs"]["min_minutes"], "5");
    let overlap = stored(&server, &token, "visits", later, "overlapping_visit");
    assert_eq!(overlap["outcome"], "flagged");
    assert_eq!(overlap["inputs"]["other_visit"], earlier.to_string());
    for code in ["impossible_travel", "visit_too_short", "overlapping_visit"] {
        assert_eq!(
            flagged(&server, &token, "visits", code),
            [later.to_string()],
            "{code}"
        );
    }
    assert!(
        server.metric(
            r#"fieldsync_findings_total{code="impossible_travel",severity="flag",source="server"}"#
        ) >= 1.0
    );
    // No loop: nothing more on the next syncs.
    assert!(second.sync().unwrap().findings.is_empty());
    assert!(first.sync().unwrap().findings.is_empty());
}

#[test]
fn impossible_travel_short_and_overlapping_visits_are_flagged_sqlite() {
    impossible_travel_short_and_overlapping_visits_are_flagged(false);
}

#[test]
fn impossible_travel_short_and_overlapping_visits_are_flagged_postgres() {
    impossible_travel_short_and_overlapping_visits_are_flagged(true);
}

/// A rep's two phones each submit the same order offline (same store, lines and delivery
/// date): the later one is flagged `order_duplicate`, and stays submitted.
fn the_same_order_from_two_phones_is_flagged_as_a_duplicate(postgres: bool) {
    let (server, _db) = start(postgres);
    let token = server.token("sup1");
    let first = TestDevice::login(&server, "rep1");
    let second = TestDevice::login(&server, "rep1");
    let a = local_draft_order(&first, "NKA-002");
    let b = local_draft_order(&second, "NKA-002");
    first.submit_order(a).expect("submit on the first phone");
    second.submit_order(b).expect("submit on the second phone");
    first.sync().expect("first phone syncs");
    let report = second.sync().expect("second phone syncs");
    assert!(
        reported(&report).contains(&("order_duplicate", "flagged")),
        "{:?}",
        report.findings
    );
    assert_eq!(second.order(b).unwrap().status, OrderStatus::Submitted);

    let flag = stored(&server, &token, "orders", b, "order_duplicate");
    assert_eq!(flag["kind"], "cross_device");
    assert_eq!(flag["rule"], "order_duplicate");
    assert_eq!(flag["inputs"]["other_order"], a.to_string());
    assert_eq!(
        flagged(&server, &token, "orders", "order_duplicate"),
        [b.to_string()]
    );
    assert!(
        server.metric(
            r#"fieldsync_findings_total{code="order_duplicate",severity="flag",source="server"}"#
        ) >= 1.0
    );
}

#[test]
fn the_same_order_from_two_phones_is_flagged_as_a_duplicate_sqlite() {
    the_same_order_from_two_phones_is_flagged_as_a_duplicate(false);
}

#[test]
fn the_same_order_from_two_phones_is_flagged_as_a_duplicate_postgres() {
    the_same_order_from_two_phones_is_flagged_as_a_duplicate(true);
}

/// A credit import that puts a customer on hold: the import answers at once, and within
/// seconds a background job flags the customer's open order (never holds it).
fn a_credit_import_flags_the_customers_open_orders(postgres: bool) {
    let (server, _db) = start(postgres);
    let token = server.token("sup1");
    let rep = TestDevice::login(&server, "rep1");
    let order = local_draft_order(&rep, "NKA-001");
    rep.submit_order(order).expect("submit");
    let report = rep.sync().expect("sync");
    assert!(report.findings.is_empty(), "{:?}", report.findings);

    let csv = format!(
        "store_code,credit_limit,receivables,overdue,as_of\nNKA-001,500000.00,50000.00,100.00,{}\n",
        today()
    );
    let started = std::time::Instant::now();
    let resp = fieldsync_e2e::http()
        .post(&format!("{}/v1/admin/import/credit", server.url))
        .header(
            "Authorization",
            &format!("Bearer {}", server.token("admin")),
        )
        .header("Content-Type", "text/csv")
        .send(csv.as_bytes())
        .expect("import");
    assert_eq!(resp.status(), 200);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the import does not wait for the re-check: {:?}",
        started.elapsed()
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let flag = loop {
        let doc = server.get_json(&token, &format!("/v1/orders/{order}"));
        let found = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["code"] == "overdue_receivables")
            .cloned();
        if let Some(flag) = found {
            break flag;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not flagged in time: {doc}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(flag["outcome"], "flagged");
    assert_eq!(flag["source"], "server_data");
    assert_eq!(flag["inputs"]["rechecked"], "credit snapshot import");
    assert_eq!(
        server.get_json(&token, &format!("/v1/orders/{order}"))["document"]["status"],
        "submitted",
        "flagged, not held"
    );
    assert_eq!(
        flagged(&server, &token, "orders", "overdue_receivables"),
        [order.to_string()]
    );
    // Once: the queue is empty, and a second round finds nothing new.
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let doc = server.get_json(&token, &format!("/v1/orders/{order}"));
    let count = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "overdue_receivables")
        .count();
    assert_eq!(count, 1, "{doc}");
}

#[test]
fn a_credit_import_flags_the_customers_open_orders_sqlite() {
    a_credit_import_flags_the_customers_open_orders(false);
}

#[test]
fn a_credit_import_flags_the_customers_open_orders_postgres() {
    a_credit_import_flags_the_customers_open_orders(true);
}
