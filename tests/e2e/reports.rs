//! The visit-frequency report over the API: planned, done, required and overdue per rep, store
//! and week from the projections, within each caller's read scope, as JSON and CSV (on either
//! engine: run under scripts/with-postgres.sh too). The computation itself is checked against
//! a month worked out by hand in `server/src/reports/visit_frequency.rs`.

use fieldsync_e2e::{TestDevice, TestServer};
use fieldsync_shared::plan::IsoWeek;
use serde_json::{json, Value};

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
    let server = TestServer::start();
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
