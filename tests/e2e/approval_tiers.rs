//! Approval tiers per tenant (docs/verdicts.md, "Approval tiers"): the demo tenant's tiers
//! (discounts: a rep 10 %, a supervisor 15 %, a manager 25 %; orders: a rep alone up to
//! 5,000.00, a supervisor up to 20,000.00) travel with the master data; the phone and the
//! server judge an order with them and the submitter's role, alike; a raw protocol client that
//! skips the phone's rules is held by the server; `/v1/admin/approval-tiers` changes them (what
//! a phone decides changes with its next sync) and refuses a bad body by field. Both engines.

use fieldsync_client::OrderStatus;
use fieldsync_e2e::{http, TestDevice, TestServer};
use fieldsync_shared::order::PaymentMethod;
use fieldsync_shared::rules::Verdict;
use fieldsync_shared::{DocId, Money, Timestamp};
use serde_json::{json, Value};

use crate::verdicts::{raw_submit, start};

const TIERS: &str = "/v1/admin/approval-tiers";

/// A cash draft order (no credit rule) of `quantity` x COLA-330 (list 3.00, floor 2.55, sold by
/// the case of 24) at `unit_price` (default: list) for `store`, on the device only.
fn draft(device: &TestDevice, store: &str, quantity: u32, unit_price: Option<i64>) -> DocId {
    let store = device.store_by_code(store).expect("store");
    let delivery = Timestamp::now().utc_date().add_days(5);
    let (order, _) = device
        .create_order(store.id, delivery, PaymentMethod::Cash, None)
        .expect("create order");
    device
        .set_order_line(order, "COLA-330", quantity, unit_price.map(Money))
        .expect("line");
    order
}

fn codes(verdict: &Verdict) -> Vec<&str> {
    verdict.findings.iter().map(|f| f.code.as_str()).collect()
}

/// The order as the server holds it: its status and its findings' (code, outcome).
fn on_server(server: &TestServer, token: &str, id: DocId) -> (String, Vec<(String, String)>) {
    let doc = server.get_json(token, &format!("/v1/orders/{id}"));
    let findings = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("code"), s("outcome"))
        })
        .collect();
    (doc["document"]["status"].as_str().unwrap().into(), findings)
}

fn put_tiers(server: &TestServer, token: &str, body: &Value) -> (u16, Value) {
    let mut resp = http()
        .put(&format!("{}{TIERS}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(body)
        .expect("PUT approval tiers");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().expect("JSON answer"))
}

/// Tiers with the demo's amounts and these discounts (basis points).
fn tiers(rep: u32, supervisor: u32, manager: u32) -> Value {
    json!({
        "discount_bp": {"rep": rep, "supervisor": supervisor, "manager": manager},
        "order_amount": {"rep": 500_000, "supervisor": 2_000_000, "manager": null},
        "expense_amount": {"rep": 20_000, "supervisor": 100_000, "manager": null},
    })
}

fn approval_tiers_decide_alike_on_phone_and_server(postgres: bool) {
    let (server, _db) = start(postgres);
    let rep = TestDevice::login(&server, "rep1");
    let sup_token = server.token("sup1");

    // The phones receive the tenant's tiers with the master data; everyone may read them.
    let page = server.get_json(&server.token("rep1"), "/v1/master");
    assert_eq!(page["approval_tiers"], tiers(1000, 1500, 2500), "{page}");
    assert_eq!(
        server.get_json(&server.token("merch1"), TIERS),
        tiers(1000, 1500, 2500)
    );

    // A rep's 8 % discount is within their 10 %: submitted, and the server agrees.
    let eight = draft(&rep, "NKA-001", 24, Some(276));
    assert_eq!(codes(&rep.submit_order(eight).unwrap()), Vec::<&str>::new());
    assert_eq!(rep.order(eight).unwrap().status, OrderStatus::Submitted);
    // 15 % is beyond it: pending approval on the device.
    let fifteen = draft(&rep, "NKA-002", 24, Some(255));
    assert_eq!(
        codes(&rep.submit_order(fifteen).unwrap()),
        ["discount_beyond_authority"]
    );
    assert_eq!(
        rep.order(fifteen).unwrap().status,
        OrderStatus::PendingApproval
    );
    // An order above the rep's 5,000.00 needs a supervisor (1,680 x 3.00 = 5,040.00), above
    // the supervisor's 20,000.00 a manager (6,720 x 3.00 = 20,160.00).
    for (quantity, store, approver) in [
        (1_680, "RKA-001", "supervisor"),
        (6_720, "RKA-002", "manager"),
    ] {
        let order = draft(&rep, store, quantity, None);
        let verdict = rep.submit_order(order).unwrap();
        assert_eq!(codes(&verdict), ["order_amount_needs_approval"]);
        assert_eq!(verdict.findings[0].inputs["approver"], approver);
        assert_eq!(
            rep.order(order).unwrap().status,
            OrderStatus::PendingApproval
        );
    }
    rep.sync().expect("sync");
    assert_eq!(
        on_server(&server, &sup_token, eight),
        ("submitted".into(), vec![])
    );
    let (status, findings) = on_server(&server, &sup_token, fifteen);
    assert_eq!(status, "pending_approval");
    assert!(
        findings
            .iter()
            .all(|(c, o)| c == "discount_beyond_authority" && o == "noted"),
        "the server finds what the phone found: {findings:?}"
    );

    // A supervisor may give 15 % alone: the server judges with the submitter's role too.
    let sup = TestDevice::login(&server, "sup1");
    let sups = draft(&sup, "NKA-004", 24, Some(255));
    assert_eq!(codes(&sup.submit_order(sups).unwrap()), Vec::<&str>::new());
    sup.sync().expect("sync");
    assert_eq!(
        on_server(&server, &sup_token, sups),
        ("submitted".into(), vec![])
    );

    // A raw protocol client that skips the phone's rules: the server holds it for approval.
    let raw = server.device_token("rep1");
    for (store, quantity, price, code) in [
        ("NKA-005", 24, 255, "discount_beyond_authority"),
        ("RKA-003", 1_680, 300, "order_amount_needs_approval"),
    ] {
        let order = draft(&rep, store, quantity, None);
        rep.sync().expect("sync the draft");
        let (_, _, pushed) = raw_submit(&server, &rep, &raw, order, |o| {
            o.lines.get_mut("COLA-330").unwrap().unit_price = Money(price);
        });
        let pushed: Vec<(&str, &str)> = pushed
            .iter()
            .map(|f| (f.code.as_str(), f.outcome.as_str()))
            .collect();
        assert_eq!(pushed, [(code, "held")]);
        let (status, _) = on_server(&server, &sup_token, order);
        assert_eq!(status, "pending_approval", "{code}");
    }

    // Neither reps nor supervisors set tiers; managers and administrators do.
    for who in ["rep1", "sup1"] {
        let (status, body) = put_tiers(&server, &server.token(who), &tiers(2000, 2500, 3000));
        assert_eq!((status, body["reason"].as_str()), (403, Some("forbidden")));
    }
    // Before its next sync the phone still judges 15 % by the old tiers.
    let later = draft(&rep, "NKA-006", 24, Some(255));
    let line = rep.set_order_line(later, "COLA-330", 24, Some(Money(255)));
    assert_eq!(codes(&line.unwrap()), ["discount_beyond_authority"]);
    let (status, body) = put_tiers(&server, &server.token("mgr1"), &tiers(2000, 2500, 3000));
    assert_eq!((status, &body), (200, &tiers(2000, 2500, 3000)));
    assert_eq!(
        server.get_json(&server.token("rep1"), TIERS),
        tiers(2000, 2500, 3000)
    );
    // After it, 15 % is within a rep's 20 %: submitted on the phone, and the server agrees.
    rep.sync().expect("sync: the new tiers");
    assert_eq!(codes(&rep.submit_order(later).unwrap()), Vec::<&str>::new());
    rep.sync().expect("sync");
    assert_eq!(
        on_server(&server, &sup_token, later),
        ("submitted".into(), vec![])
    );

    // Tiers lowered while the phone is offline: its 15 % was within the tiers it had, so the
    // order is kept and flagged for the supervisor, never held.
    let offline = draft(&rep, "NKA-007", 24, Some(255));
    assert_eq!(
        codes(&rep.submit_order(offline).unwrap()),
        Vec::<&str>::new()
    );
    let (status, _) = put_tiers(&server, &server.token("admin"), &tiers(1000, 1500, 2500));
    assert_eq!(status, 200);
    rep.sync().expect("sync");
    let (status, findings) = on_server(&server, &sup_token, offline);
    assert_eq!(status, "submitted");
    assert_eq!(
        findings,
        [("discount_beyond_authority".into(), "flagged".into())]
    );

    // A bad body is refused with the field named, and nothing is stored.
    let admin = server.token("admin");
    let below = tiers(1000, 500, 2500);
    let mut missing = tiers(1000, 1500, 2500);
    missing["order_amount"]
        .as_object_mut()
        .unwrap()
        .remove("manager");
    let mut wrong_type = tiers(1000, 1500, 2500);
    wrong_type["expense_amount"]["rep"] = json!("lots");
    let mut unknown = tiers(1000, 1500, 2500);
    unknown["discount"] = json!(5);
    let mut negative = tiers(1000, 1500, 2500);
    negative["order_amount"]["rep"] = json!(-1);
    for (body, reason, field) in [
        (below, "invalid_tiers", "discount_bp.supervisor"),
        (
            tiers(10_001, 10_001, 10_001),
            "invalid_tiers",
            "discount_bp.rep",
        ),
        (missing, "invalid_tiers", "order_amount.manager"),
        (negative, "invalid_tiers", "order_amount.rep"),
        (wrong_type, "invalid_body", "expense_amount.rep"),
        (unknown, "invalid_body", "discount"),
    ] {
        let (status, answer) = put_tiers(&server, &admin, &body);
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(answer["reason"], reason, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(field), "{field} named in {message}");
    }
    assert_eq!(server.get_json(&admin, TIERS), tiers(1000, 1500, 2500));
}

#[test]
fn approval_tiers_decide_alike_on_phone_and_server_sqlite() {
    approval_tiers_decide_alike_on_phone_and_server(false);
}

#[test]
fn approval_tiers_decide_alike_on_phone_and_server_postgres() {
    approval_tiers_decide_alike_on_phone_and_server(true);
}
