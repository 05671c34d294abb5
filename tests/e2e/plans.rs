//! Weekly visit plans end to end: the server generates a rep's week, the rep edits it offline
//! on the phone, regeneration keeps the rep's changes, the supervisor approves it, and read
//! scopes decide who sees it (on either engine: run under scripts/with-postgres.sh too).

use std::collections::BTreeSet;

use fieldsync_e2e::{TestDevice, TestServer};
use fieldsync_shared::plan::{IsoWeek, PlanStatus};
use fieldsync_shared::{Date, DocId, StoreId};
use serde_json::{json, Value};

fn post(server: &TestServer, token: &str, path: &str, body: Value) -> (u16, Value) {
    let mut resp = fieldsync_e2e::http()
        .post(&format!("{}{path}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(body)
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(Value::Null))
}

fn status_of(server: &TestServer, token: &str, path: &str) -> u16 {
    fieldsync_e2e::http()
        .get(&format!("{}{path}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("request")
        .status()
        .as_u16()
}

/// (store id, day, seq, pinned) of each entry of a plan as JSON.
fn entries(plan: &Value) -> Vec<(String, String, u64, bool)> {
    let mut out: Vec<_> = plan["entries"]
        .as_object()
        .unwrap()
        .values()
        .map(|e| {
            (
                e["store_id"].as_str().unwrap().to_string(),
                e["day"].as_str().unwrap().to_string(),
                e["seq"].as_u64().unwrap(),
                e["pinned"].as_bool().unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| (&a.1, a.2).cmp(&(&b.1, b.2)));
    out
}

#[test]
fn a_reps_week_is_generated_edited_offline_kept_on_regeneration_and_approved() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let token = server.token("rep1");
    let territory = rep.org_view().unwrap().territory_stores;
    assert_eq!(territory.len(), 16, "rep1 covers NKA-* and RKA-*");

    // No visit yet: every store of the territory is overdue; 4 a day over Monday-Friday.
    let request = json!({"week": "2026-W50", "daily_capacity": 4});
    let (status, body) = post(&server, &token, "/v1/plans/generate", request.clone());
    assert_eq!(status, 200, "{body}");
    let plan = &body["plan"];
    let planned = entries(plan);
    assert_eq!(planned.len(), 16);
    let stores: BTreeSet<StoreId> = planned
        .iter()
        .map(|e| StoreId::parse(&e.0).unwrap())
        .collect();
    assert_eq!(stores, territory);
    assert!(plan["entries"]
        .as_object()
        .unwrap()
        .values()
        .all(|e| e["reason"] == "overdue"));
    for day in ["2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"] {
        let seqs: Vec<u64> = planned.iter().filter(|e| e.1 == day).map(|e| e.2).collect();
        assert_eq!(seqs, [1, 2, 3, 4], "{day}");
    }
    assert!(body["unscheduled"].as_array().unwrap().is_empty());
    assert!(body["total_km"].as_f64().unwrap() > 1.0, "{body}");
    let plan_id = DocId::parse(body["plan_id"].as_str().unwrap()).unwrap();

    // Read scopes: the rep and their supervisor see it; the other rep does not.
    let sup_token = server.token("sup1");
    let listed = server.get_json(&sup_token, "/v1/plans")["items"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], plan_id.to_string());
    let rep2 = server.token("rep2");
    assert!(server.get_json(&rep2, "/v1/plans")["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        status_of(&server, &rep2, &format!("/v1/plans/{plan_id}")),
        404
    );
    assert_eq!(
        status_of(&server, &token, &format!("/v1/plans/{plan_id}")),
        200
    );

    // The phone receives the plan, and the rep rearranges it offline.
    rep.sync().unwrap();
    let week = IsoWeek::parse("2026-W50").unwrap();
    let on_phone = rep.own_plan(week).unwrap().expect("the plan synced");
    assert_eq!(on_phone.id, plan_id);
    let nka1 = rep.store_by_code("NKA-001").unwrap().id;
    let rka2 = rep.store_by_code("RKA-002").unwrap().id;
    let friday = Date::parse("2026-12-11").unwrap();
    rep.move_plan_entry(plan_id, nka1, friday, 1).unwrap();
    rep.remove_plan_entry(plan_id, rka2).unwrap();
    rep.sync().unwrap();

    // Regenerating on the server keeps what the rep did.
    let (status, body) = post(&server, &token, "/v1/plans/generate", request.clone());
    assert_eq!(status, 200, "{body}");
    let planned = entries(&body["plan"]);
    assert_eq!(planned.len(), 15);
    assert!(!planned.iter().any(|e| e.0 == rka2.to_string()));
    let moved = planned.iter().find(|e| e.0 == nka1.to_string()).unwrap();
    assert_eq!(
        (moved.1.as_str(), moved.2, moved.3),
        ("2026-12-11", 1, true)
    );

    // The rep submits; a submitted plan is not regenerated.
    rep.sync().unwrap();
    assert_eq!(
        rep.plan(plan_id).unwrap().entries.len(),
        15,
        "the phone has the regenerated plan"
    );
    rep.submit_plan(plan_id).unwrap();
    rep.sync().unwrap();
    let (status, body) = post(&server, &token, "/v1/plans/generate", request);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("submitted"),
        "{body}"
    );

    // The supervisor approves it from their phone.
    let sup = TestDevice::login(&server, "sup1");
    assert!(
        sup.return_plan(plan_id, " ").is_err(),
        "returning needs a comment"
    );
    sup.approve_plan(plan_id, None).unwrap();
    sup.sync().unwrap();
    let stored = server.get_json(&token, &format!("/v1/plans/{plan_id}"));
    assert_eq!(stored["document"]["status"], "approved");
    rep.sync().unwrap();
    assert_eq!(rep.plan(plan_id).unwrap().status, PlanStatus::Approved);
}

#[test]
fn generation_refuses_bad_requests_clearly() {
    let server = TestServer::start();
    let token = server.token("rep1");
    for (body, needle) in [
        (json!({"week": "2026-50"}), "YYYY-Www"),
        (json!({"week": "2027-W53"}), "no week 53"),
        (
            json!({"week": "2026-W50", "daily_capacity": 0}),
            "daily_capacity",
        ),
        (
            json!({"week": "2026-W50", "working_days": ["funday"]}),
            "funday",
        ),
        (json!({"week": "2026-W50", "colour": "red"}), "colour"),
    ] {
        let (status, answer) = post(&server, &token, "/v1/plans/generate", body.clone());
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap_or_default()
                .contains(needle),
            "{body}: {answer}"
        );
    }
    // A manager plans no week of their own.
    let (status, _) = post(
        &server,
        &server.token("mgr1"),
        "/v1/plans/generate",
        json!({"week": "2026-W50"}),
    );
    assert_eq!(status, 403);
}
