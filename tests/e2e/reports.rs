//! The reports over the API, each on SQLite and on PostgreSQL (the `_postgres` variants, run
//! under scripts/with-postgres.sh): the visit-frequency report (planned, done, required and
//! overdue per rep, store and week from the projections, within each caller's read scope, as
//! JSON and CSV), and the rep's weekly report of a generated week with known answers, against
//! the API's JSON, CSV and XLSX and the phone's offline report. The computations themselves are
//! checked against a month and a week worked out by hand in `server/src/reports/visit_frequency.rs`
//! and `shared/src/report/rep_weekly.rs`.

use fieldsync_e2e::{TestDevice, TestServer};
use fieldsync_shared::plan::IsoWeek;
use serde_json::{json, Value};

use crate::verdicts::start;
use crate::write_policies::{submitted_visit, today};

fn get(server: &TestServer, token: &str, path: &str, accept: &str) -> (u16, String, String) {
    let mut resp = fieldsync_e2e::http()
        .get(&format!("{}{path}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Accept", accept)
        .call()
        .expect("request");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (
        status,
        content_type,
        resp.body_mut().read_to_string().unwrap(),
    )
}

fn report(server: &TestServer, token: &str, query: &str) -> Value {
    let (status, _, body) = get(
        server,
        token,
        &format!("/v1/reports/visit-frequency?{query}"),
        "application/json",
    );
    assert_eq!(status, 200, "{query}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn count(rows: &Value, pred: impl Fn(&Value) -> bool) -> usize {
    rows.as_array().unwrap().iter().filter(|r| pred(r)).count()
}

#[test]
fn planned_done_required_and_overdue_per_rep_store_and_week_within_read_scopes() {
    visit_frequency_within_read_scopes(false);
}

#[test]
fn planned_done_required_and_overdue_within_read_scopes_on_postgres() {
    visit_frequency_within_read_scopes(true);
}

fn visit_frequency_within_read_scopes(postgres: bool) {
    let (server, _db) = start(postgres);
    let week = IsoWeek::of(today());
    let rep1 = TestDevice::login(&server, "rep1");
    let rep2 = TestDevice::login(&server, "rep2");
    let rep1_token = server.token("rep1");
    let mut resp = fieldsync_e2e::http()
        .post(&format!("{}/v1/plans/generate", server.url))
        .header("Authorization", &format!("Bearer {rep1_token}"))
        .send_json(json!({"week": week.to_string(), "daily_capacity": 4}))
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.body_mut().read_to_string().unwrap()
    );

    // rep1 visits a planned store; rep2, who has no plan, visits one of theirs.
    let nka1 = rep1.store_by_code("NKA-001").unwrap();
    submitted_visit(&rep1, &nka1);
    rep1.sync().unwrap();
    let lka1 = rep2.store_by_code("LKA-001").unwrap();
    submitted_visit(&rep2, &lka1);
    rep2.sync().unwrap();

    let query = format!("from={week}&to={week}");
    let sup = report(&server, &server.token("sup1"), &query);
    let rows = &sup["rows"];
    // rep1 covers 16 stores (NKA, RKA), rep2 14 (LKA, OTH), merch1 8 (NKA): nobody visited
    // any store before, so every store is required this week.
    assert_eq!(rows.as_array().unwrap().len(), 38);
    assert_eq!(count(rows, |r| r["required"] == 1), 38);
    assert_eq!(count(rows, |r| r["planned"] == 1), 16);
    assert_eq!(count(rows, |r| r["done"] == 1), 2);
    assert_eq!(
        count(rows, |r| r["unplanned"] == 1),
        1,
        "rep2's visit was not planned"
    );
    // Visited stores are not overdue, whoever covers them (NKA-001: rep1 and merch1).
    assert_eq!(count(rows, |r| r["overdue"] == true), 35);
    let totals = &sup["weeks"][0];
    assert_eq!(
        (
            totals["required"].clone(),
            totals["planned"].clone(),
            totals["done"].clone(),
            totals["overdue"].clone()
        ),
        (json!(38), json!(16), json!(2), json!(35))
    );

    // Read scopes: each rep sees their own rows only.
    let own = report(&server, &rep1_token, &query)["rows"].clone();
    assert_eq!(own.as_array().unwrap().len(), 16);
    let rep2_id = rep2.profile().unwrap().unwrap().id;
    let other = report(
        &server,
        &rep1_token,
        &format!("{query}&person_id={rep2_id}"),
    );
    assert!(other["rows"].as_array().unwrap().is_empty());
    assert_eq!(
        report(&server, &server.token("rep2"), &query)["rows"]
            .as_array()
            .unwrap()
            .len(),
        14
    );
    // The manager sees the region; a grade filter keeps that grade.
    let graded = report(&server, &server.token("mgr1"), &format!("{query}&grade=A"));
    assert!(count(&graded["rows"], |r| r["grade"] != "A") == 0);
    assert!(!graded["rows"].as_array().unwrap().is_empty());

    // CSV: by Accept or by format.
    let path = format!("/v1/reports/visit-frequency?{query}");
    let (status, content_type, csv) = get(&server, &rep1_token, &path, "text/csv");
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert_eq!(csv.lines().count(), 17);
    assert!(csv.starts_with("week,person_id,store_id,store_code,store_name,grade,required,planned,done,unplanned,overdue,last_visit"));
    let (_, _, same) = get(&server, &rep1_token, &format!("{path}&format=csv"), "*/*");
    assert_eq!(same, csv);
}

#[test]
fn report_filters_are_checked_with_clear_errors() {
    let server = TestServer::start();
    let token = server.token("sup1");
    for (query, needle) in [
        ("to=2026-W50", "from"),
        ("from=2026-W50", "to"),
        ("from=2026-W50&to=2026-W40", "before"),
        ("from=2025-W01&to=2026-W50", "at most 26 weeks"),
        ("from=2026-W50&to=2026-W50&grade=D", "grade"),
        ("from=2026-W50&to=2026-W50&person_id=me", "person_id"),
        ("from=2026-W50&to=2026-W50&format=xml", "format"),
    ] {
        let (status, _, body) = get(
            &server,
            &token,
            &format!("/v1/reports/visit-frequency?{query}"),
            "application/json",
        );
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains(needle), "{query}: {body}");
    }
}

/// The rep's weekly report of a week with known answers, over the API (JSON, CSV, XLSX) and
/// on rep1's phone offline: the same figures, computed by the same shared function.
#[test]
fn rep_weekly_report_has_the_known_answers_on_the_server_and_the_phone() {
    rep_weekly_known_answers(false);
}

#[test]
fn rep_weekly_report_has_the_known_answers_on_postgres() {
    rep_weekly_known_answers(true);
}

fn rep_weekly_known_answers(postgres: bool) {
    use fieldsync_client::{AuditInput, PaymentMethod};
    use fieldsync_shared::plan::Plan;
    use fieldsync_shared::{Money, Timestamp};

    use crate::write_policies::at;

    let (server, _db) = start(postgres);
    let week = IsoWeek::of(today());
    let rep1 = TestDevice::login(&server, "rep1");
    let rep1_id = rep1.profile().unwrap().unwrap().id;
    let mut resp = fieldsync_e2e::http()
        .post(&format!("{}/v1/plans/generate", server.url))
        .header("Authorization", &format!("Bearer {}", server.token("rep1")))
        .send_json(json!({"week": week.to_string(), "daily_capacity": 4}))
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.body_mut().read_to_string().unwrap()
    );
    rep1.sync().unwrap();
    // rep1 takes RKA-001 out of the week, then visits it anyway: an unplanned visit.
    let plan = Plan::doc_id(rep1_id, week);
    let removed = rep1.store_by_code("RKA-001").unwrap();
    rep1.remove_plan_entry(plan, removed.id).unwrap();
    submitted_visit(&rep1, &removed);

    // A planned visit whose audit finds stale tea, cola under its floor price, no water.
    let nka1 = rep1.store_by_code("NKA-001").unwrap();
    let visit = rep1.start_visit(nka1.id, today()).unwrap();
    rep1.check_in(visit, at(&nka1), Timestamp::now()).unwrap();
    let line = |sku: &str, location: &str, facings, price, produced| AuditInput {
        sku: sku.into(),
        location: location.into(),
        facings,
        on_shelf: facings > 0,
        shelf_price: price,
        oldest_production_date: produced,
    };
    for input in [
        line(
            "TEA-500",
            "MAIN-SHELF",
            4,
            None,
            Some(today().add_days(-200)),
        ),
        line("COLA-330", "ENDCAP-1", 6, Some(Money(200)), None),
        line("WATER-550", "MAIN-SHELF", 0, None, None),
    ] {
        rep1.record_audit_line(visit, input).unwrap();
    }
    for step in fieldsync_client::VisitStep::ALL {
        rep1.record_step(visit, *step, None).unwrap();
    }
    rep1.attach_photo(
        visit,
        &fieldsync_e2e::photo_file(rep1.dir.path(), "nka1.jpg", 9),
        Some(fieldsync_client::VisitStep::Merchandise),
    )
    .unwrap();
    rep1.check_out(visit, at(&nka1), Timestamp::now()).unwrap();
    rep1.submit_visit(visit).unwrap();
    // A visit still in progress: an open issue.
    let nka3 = rep1.store_by_code("NKA-003").unwrap();
    let open_visit = rep1.start_visit(nka3.id, today()).unwrap();
    rep1.check_in(open_visit, at(&nka3), Timestamp::now())
        .unwrap();

    // Orders: 24 colas at the list price (72.00), 24 at 12 % off (63.36, waiting for
    // approval: an open issue), and a draft (not counted).
    let order = |qty, price| {
        let delivery = today().add_days(i64::from(nka1.delivery_lead_days) + 1);
        let (id, _) = rep1
            .create_order(nka1.id, delivery, PaymentMethod::Cash, None)
            .unwrap();
        rep1.set_order_line(id, "COLA-330", qty, Some(Money(price)))
            .unwrap();
        id
    };
    let listed = order(24, 300);
    rep1.submit_order(listed).unwrap();
    let discounted = order(24, 264);
    rep1.submit_order(discounted).unwrap();
    order(24, 300);
    rep1.sync().unwrap();

    let expected = json!({
        "week": week.to_string(),
        "person_id": rep1_id.to_string(),
        "planned": 15, "done": 2, "planned_done": 1, "unplanned": 1,
        "orders": 2, "amount": 13536,
        "findings": {"out_of_stock": 1, "shelf_price_below_floor": 1, "stale_stock": 1},
        "open_issues": [
            {"date": today().to_string(), "kind": "order_pending_approval",
             "doc_id": discounted.to_string(), "store_id": nka1.id.to_string()},
            {"date": today().to_string(), "kind": "visit_not_submitted",
             "doc_id": open_visit.to_string(), "store_id": nka3.id.to_string()},
        ],
    });
    // The phone, offline.
    let on_phone = serde_json::to_value(rep1.rep_weekly_report(week).unwrap()).unwrap();
    assert_eq!(on_phone, expected);

    // The server, for the supervisor: rep1's row is the phone's, with rep1's name.
    let path = |q: &str| format!("/v1/reports/rep-weekly?week={week}{q}");
    let (status, _, body) = get(
        &server,
        &server.token("sup1"),
        &path(""),
        "application/json",
    );
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    let reps = report["reps"].as_array().unwrap();
    assert_eq!(reps.len(), 3, "rep1, rep2 and merch1: {reps:?}");
    let mut row = reps
        .iter()
        .find(|r| r["person_id"] == rep1_id.to_string())
        .unwrap()
        .clone();
    assert!(!row["person_name"].as_str().unwrap().is_empty());
    row.as_object_mut().unwrap().remove("person_name");
    assert_eq!(row, expected);

    // Read scopes: rep2 does not see rep1's week; rep1 sees only their own.
    let (_, _, body) = get(
        &server,
        &server.token("rep2"),
        &path(&format!("&person_id={rep1_id}")),
        "application/json",
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["reps"],
        json!([])
    );
    let (_, _, body) = get(
        &server,
        &server.token("rep1"),
        &path(""),
        "application/json",
    );
    let own: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(own["reps"].as_array().unwrap().len(), 1);

    // CSV and XLSX.
    let (status, content_type, csv) = get(
        &server,
        &server.token("sup1"),
        &path(&format!("&person_id={rep1_id}&format=csv")),
        "*/*",
    );
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].ends_with(",15,2,1,1,2,135.36,1,1,1,2"), "{csv}");
    let resp = fieldsync_e2e::http()
        .get(&format!("{}{}", server.url, path("&format=xlsx")))
        .header("Authorization", &format!("Bearer {}", server.token("sup1")))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap(),
        fieldsync_server::reports::format::XLSX_TYPE
    );
    let (status, _, body) = get(
        &server,
        &server.token("sup1"),
        "/v1/reports/rep-weekly",
        "*/*",
    );
    assert_eq!(status, 400);
    assert!(body.contains("week"), "{body}");
}
