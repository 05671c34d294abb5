//! Sales targets end to end (docs/targets.md): a CSV import with refused rows naming row and
//! column, then a good one (year, quarter, month, each rep's month, a category); listings within
//! the read scopes; achievement per rep and month with known answers from a submitted order; a
//! change request with its reason, decided by the manager only, kept as the target's history.
//! On both engines.

use fieldsync_e2e::{TestDevice, TestServer};
use fieldsync_shared::order::OrderStatus;
use fieldsync_shared::Timestamp;
use serde_json::{json, Value};

use crate::verdicts::{local_draft_order, start};

fn import(server: &TestServer, csv: &str) -> (u16, Value) {
    let mut resp = fieldsync_e2e::http()
        .post(&format!("{}/v1/admin/import/targets", server.url))
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

fn post(server: &TestServer, user: &str, path: &str, body: Value) -> (u16, Value) {
    let mut resp = fieldsync_e2e::http()
        .post(&format!("{}{path}", server.url))
        .header("Authorization", &format!("Bearer {}", server.token(user)))
        .send_json(body)
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(Value::Null))
}

fn get(server: &TestServer, user: &str, path: &str) -> (u16, Value) {
    let mut resp = fieldsync_e2e::http()
        .get(&format!("{}{path}", server.url))
        .header("Authorization", &format!("Bearer {}", server.token(user)))
        .call()
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(Value::Null))
}

fn targets(server: &TestServer, user: &str) -> Vec<Value> {
    let (status, body) = get(server, user, "/v1/targets");
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

/// (person id, target, actual, achievement bp) rows of a month.
fn achievement(server: &TestServer, user: &str, month: &str) -> Vec<(String, i64, i64, i64)> {
    let (status, body) = get(
        server,
        user,
        &format!("/v1/targets/achievement?month={month}"),
    );
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["person_id"].as_str().unwrap().to_string(),
                r["target_amount"].as_i64().unwrap(),
                r["actual_amount"].as_i64().unwrap(),
                r["achievement_bp"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn targets_are_imported_scoped_achieved_and_changed_by_a_manager(postgres: bool) {
    let (server, _db) = start(postgres);
    let today = Timestamp::now().utc_date().to_string();
    let (year, month) = (&today[..4], &today[..7]);
    let quarter = format!(
        "{year}-Q{}",
        (today[5..7].parse::<u32>().unwrap() - 1) / 3 + 1
    );

    // A refused file names each failing row and column, and imports nothing.
    let bad = format!(
        "period,rep,category,amount,volume\n{month},rep1,,100.00,1\n{year}-13,rep1,,100.00,1\n{month},mgr1,,100.00,1\n{month},rep2,,-5.00,1\n"
    );
    let (status, body) = import(&server, &bad);
    assert_eq!(status, 422, "{body}");
    let errors: Vec<(u64, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "period".to_string()),
            (4, "rep".to_string()),
            (5, "amount".to_string())
        ]
    );
    assert!(targets(&server, "admin").is_empty());

    let good = format!(
        "period,rep,category,amount,volume\n\
         {year},,,1200000.00,120000\n\
         {quarter},,,300000.00,30000\n\
         {month},,,100000.00,10000\n\
         {month},rep1,,2000.00,200\n\
         {month},rep2,,1000.00,100\n\
         {month},rep1,beverages,500.00,50\n"
    );
    let (status, body) = import(&server, &good);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["rows"].as_u64(), body["created"].as_u64()),
        (Some(6), Some(6))
    );

    // Read scopes: own; team; region and the company's.
    assert_eq!(targets(&server, "rep1").len(), 2);
    assert_eq!(targets(&server, "rep2").len(), 1);
    assert_eq!(targets(&server, "sup1").len(), 3);
    assert_eq!(targets(&server, "mgr1").len(), 6);
    let rep1_id = TestDevice::login(&server, "rep1");
    let rep1 = rep1_id.org_view().unwrap().user_id.to_string();
    let rep2 = TestDevice::login(&server, "rep2")
        .org_view()
        .unwrap()
        .user_id
        .to_string();

    // rep1 sells: one submitted order.
    let order = local_draft_order(&rep1_id, "NKA-001");
    rep1_id.submit_order(order).unwrap();
    let order = rep1_id.order(order).unwrap();
    assert_eq!(order.status, OrderStatus::Submitted);
    rep1_id.sync().unwrap();
    let sold = order.total().unwrap().0;
    let expected = |target: i64| sold * 10_000 / target;
    assert_eq!(achievement(&server, "sup1", month), {
        let mut rows = vec![
            (rep1.clone(), 200_000, sold, expected(200_000)),
            (rep2.clone(), 100_000, 0, 0),
        ];
        rows.sort();
        rows
    });
    assert_eq!(
        achievement(&server, "rep1", month),
        [(rep1.clone(), 200_000, sold, expected(200_000))]
    );

    // A change request: reason and new value, decided by the manager only.
    let rep1_month = targets(&server, "rep1")
        .into_iter()
        .find(|t| t["category"].is_null())
        .unwrap();
    let target_id = rep1_month["id"].as_str().unwrap().to_string();
    let changes = format!("/v1/targets/{target_id}/changes");
    let request =
        json!({"reason": "the store is closed for renovation", "amount": 150_000, "volume": 150});
    assert_eq!(post(&server, "rep1", &changes, request.clone()).0, 403);
    assert_eq!(
        post(
            &server,
            "sup1",
            &changes,
            json!({"reason": " ", "amount": 1, "volume": 1})
        )
        .0,
        422
    );
    let (status, change) = post(&server, "sup1", &changes, request);
    assert_eq!(status, 201, "{change}");
    assert_eq!(change["status"], "pending");
    let decision = format!(
        "/v1/target-changes/{}/decision",
        change["id"].as_str().unwrap()
    );
    assert_eq!(
        post(&server, "sup1", &decision, json!({"approve": true})).0,
        403
    );
    assert_eq!(
        post(&server, "mgr1", &decision, json!({"approve": false})).0,
        422
    );
    let (status, decided) = post(&server, "mgr1", &decision, json!({"approve": true}));
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "approved");
    assert_eq!(
        post(&server, "mgr1", &decision, json!({"approve": true})).0,
        409
    );

    // The history, and the new value in the achievement.
    let (status, history) = get(&server, "rep1", &changes);
    assert_eq!(status, 200);
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (
            history[0]["old_amount"].as_i64(),
            history[0]["new_amount"].as_i64(),
            history[0]["reason"].as_str()
        ),
        (
            Some(200_000),
            Some(150_000),
            Some("the store is closed for renovation")
        )
    );
    assert_eq!(get(&server, "rep2", &changes).0, 404);
    assert_eq!(
        achievement(&server, "rep1", month),
        [(rep1, 150_000, sold, expected(150_000))]
    );
}

#[test]
fn targets_are_imported_scoped_achieved_and_changed_by_a_manager_sqlite() {
    targets_are_imported_scoped_achieved_and_changed_by_a_manager(false);
}

#[test]
fn targets_are_imported_scoped_achieved_and_changed_by_a_manager_postgres() {
    targets_are_imported_scoped_achieved_and_changed_by_a_manager(true);
}
