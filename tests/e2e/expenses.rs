//! Expenses end to end (docs/expenses.md): a rep records and submits expenses offline; the
//! expense rule on the phone sends one above the rep's tier to the supervisor, one above the
//! supervisor's to the manager, and one over the month's budget (which grows with the rep's
//! achieved sales) to the supervisor; a raw client that skips the rule is held by the server
//! where the rule puts it; a rep cannot approve, nor a supervisor what needs the manager; and
//! `GET /v1/expenses` answers within the read scopes (rep own, supervisor team, manager
//! region). On both engines. The demo tenant's expense tiers: a rep alone up to 200.00, a
//! supervisor up to 1,000.00, a manager any.

use automerge::AutoCommit;
use fieldsync_client::NewExpense;
use fieldsync_e2e::{DeviceToken, TestDevice, TestServer};
use fieldsync_shared::document::{new_document, reconcile_expense, DocKind};
use fieldsync_shared::expense::{Approver, Expense, ExpenseStatus, ExpenseType};
use fieldsync_shared::order::OrderStatus;
use fieldsync_shared::protocol::{PushFinding, PushResult};
use fieldsync_shared::{DocId, Money, Timestamp};
use serde_json::{json, Value};

use crate::verdicts::{local_draft_order, start};
use crate::write_policies::push_raw;

fn money(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// Sets the demo tenant's budget as its administrator.
fn set_budget(server: &TestServer, base: Money, ratio_bp: u32) {
    let mut resp = fieldsync_e2e::http()
        .put(&format!("{}/v1/admin/expense-budget", server.url))
        .header(
            "Authorization",
            &format!("Bearer {}", server.token("admin")),
        )
        .send_json(json!({"base": base.0, "ratio_bp": ratio_bp}))
        .expect("request");
    let status = resp.status().as_u16();
    let body: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
    assert_eq!(status, 200, "{body}");
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

fn record(device: &TestDevice, amount: &str) -> DocId {
    device
        .record_expense(NewExpense {
            expense_type: ExpenseType::Travel,
            amount: money(amount),
            date: Timestamp::now().utc_date(),
            store_id: Some(device.store_by_code("NKA-001").unwrap().id),
            visit_id: None,
            description: Some("taxi to the store".into()),
        })
        .expect("record expense")
}

/// (status, approver) of an expense as the server holds it.
fn on_server(server: &TestServer, token: &str, id: DocId) -> (String, Value) {
    let doc = server.get_json(token, &format!("/v1/expenses/{id}"))["document"].clone();
    (
        doc["status"].as_str().unwrap().to_string(),
        doc["approver"].clone(),
    )
}

fn listed(server: &TestServer, user: &str) -> Vec<String> {
    let mut ids: Vec<String> = server.get_json(&server.token(user), "/v1/expenses")["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// A raw protocol client (rep1's second installation) creates an expense already submitted,
/// skipping the rule; returns its id and the push's findings.
fn raw_submitted_expense(
    server: &TestServer,
    raw: &DeviceToken,
    person: fieldsync_shared::UserId,
    amount: &str,
) -> (DocId, Vec<PushFinding>) {
    let mut expense = Expense::new(
        person,
        ExpenseType::Entertainment,
        money(amount),
        Timestamp::now().utc_date(),
        Timestamp::now(),
    );
    expense.status = ExpenseStatus::Submitted;
    expense.submitted_at = Some(Timestamp::now());
    let mut doc: AutoCommit = new_document(raw.actor.clone());
    reconcile_expense(&mut doc, &expense).expect("reconcile");
    doc.commit();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let resp = push_raw(server, raw, expense.id, DocKind::Expense, changes);
    let PushResult::Stored { findings, .. } = resp.outcomes[0].result.clone() else {
        panic!("stored expected: {:?}", resp.outcomes);
    };
    (expense.id, findings)
}

fn over_budget_goes_to_the_supervisor_offline_and_on_the_server(postgres: bool) {
    let (server, _db) = start(postgres);
    // 200.00 a month and 10 % of achieved sales; rep1 has sold nothing yet.
    set_budget(&server, money("200.00"), 1000);
    let rep = TestDevice::login(&server, "rep1");
    let me = rep.org_view().unwrap().user_id;

    // Offline: the first 150.00 fits, the second takes the month to 300.00.
    let first = record(&rep, "150.00");
    let verdict = rep.submit_expense(first).unwrap();
    assert!(verdict.findings.is_empty(), "{verdict:?}");
    assert_eq!(rep.expense(first).unwrap().status, ExpenseStatus::Submitted);
    let second = record(&rep, "150.00");
    let verdict = rep.submit_expense(second).unwrap();
    assert_eq!(verdict.findings.len(), 1, "{verdict:?}");
    assert_eq!(verdict.findings[0].code, "expense_over_budget");
    assert_eq!(verdict.findings[0].inputs["budget"], "200.00");
    let e = rep.expense(second).unwrap();
    assert_eq!(
        (e.status, e.approver),
        (ExpenseStatus::PendingApproval, Some(Approver::Supervisor))
    );
    // A rep cannot approve, not even offline on their own phone.
    assert!(rep.approve_expense(second, None).is_err());
    rep.sync().unwrap();
    let token = server.token("rep1");
    assert_eq!(
        on_server(&server, &token, second),
        ("pending_approval".into(), json!("supervisor"))
    );
    assert_eq!(
        on_server(&server, &token, first),
        ("submitted".into(), Value::Null)
    );

    // A client that skips the rule: held by the server where the rule puts it.
    let raw = server.device_token("rep1");
    let (sneaky, findings) = raw_submitted_expense(&server, &raw, me, "50.00");
    assert_eq!(
        findings
            .iter()
            .map(|f| (f.code.as_str(), f.outcome.as_str()))
            .collect::<Vec<_>>(),
        [("expense_over_budget", "held")]
    );
    assert_eq!(
        on_server(&server, &token, sneaky),
        ("pending_approval".into(), json!("supervisor"))
    );

    // The supervisor approves from their phone; the rep's phone learns it.
    let sup = TestDevice::login(&server, "sup1");
    assert!(
        sup.reject_expense(second, " ").is_err(),
        "rejecting needs a comment"
    );
    sup.approve_expense(second, None).unwrap();
    sup.reject_expense(sneaky, "no receipt").unwrap();
    sup.sync().unwrap();
    assert_eq!(on_server(&server, &token, second).0, "approved");
    assert_eq!(on_server(&server, &token, sneaky).0, "rejected");
    rep.sync().unwrap();
    assert_eq!(rep.expense(second).unwrap().status, ExpenseStatus::Approved);

    // Read scopes: own, team, region; rep2 (same team) sees none of rep1's.
    let mut all = vec![first.to_string(), second.to_string(), sneaky.to_string()];
    all.sort();
    assert_eq!(listed(&server, "rep1"), all);
    assert_eq!(listed(&server, "sup1"), all);
    assert_eq!(listed(&server, "mgr1"), all);
    assert!(listed(&server, "rep2").is_empty());
    let rep2 = server.token("rep2");
    assert_eq!(
        status_of(&server, &rep2, &format!("/v1/expenses/{second}")),
        404
    );
    let rep2_device = TestDevice::login(&server, "rep2");
    assert!(rep2_device.expenses().unwrap().is_empty());
    assert_eq!(sup.expenses().unwrap().len(), 3);
}

fn the_budget_grows_with_achieved_sales(postgres: bool) {
    let (server, _db) = start(postgres);
    // 100.00 a month and 10 % of achieved sales.
    set_budget(&server, money("100.00"), 1000);
    let rep = TestDevice::login(&server, "rep1");
    let order = local_draft_order(&rep, "NKA-001");
    rep.submit_order(order).unwrap();
    let order = rep.order(order).unwrap();
    assert_eq!(order.status, OrderStatus::Submitted);
    let total = order.total().unwrap();
    let allowance = Money(money("100.00").0 + total.0 / 10);

    // Exactly the budget fits; a cent more waits for the supervisor.
    let fits = rep
        .record_expense(NewExpense {
            expense_type: ExpenseType::DisplayFee,
            amount: allowance,
            date: Timestamp::now().utc_date(),
            store_id: None,
            visit_id: None,
            description: None,
        })
        .unwrap();
    assert!(rep.submit_expense(fits).unwrap().findings.is_empty());
    let cent = record(&rep, "0.01");
    let verdict = rep.submit_expense(cent).unwrap();
    assert_eq!(verdict.findings[0].code, "expense_over_budget");
    assert_eq!(verdict.findings[0].inputs["achieved"], total.to_string());
    rep.sync().unwrap();
    // The server counts the same sales: it holds nothing.
    let token = server.token("rep1");
    assert_eq!(on_server(&server, &token, fits).0, "submitted");
    assert_eq!(
        on_server(&server, &token, cent),
        ("pending_approval".into(), json!("supervisor"))
    );
    let findings = server.get_json(&token, &format!("/v1/expenses/{fits}"))["findings"].clone();
    assert_eq!(findings, json!([]), "nothing held or flagged");
}

fn tiers_send_expenses_to_the_supervisor_then_the_manager(postgres: bool) {
    let (server, _db) = start(postgres);
    // A budget no expense here reaches: only the tiers decide.
    set_budget(&server, money("100000.00"), 0);
    let rep = TestDevice::login(&server, "rep1");
    let me = rep.org_view().unwrap().user_id;
    let token = server.token("rep1");

    // Offline on the phone.
    let small = record(&rep, "200.00");
    let medium = record(&rep, "200.01");
    let large = record(&rep, "1000.01");
    for id in [small, medium, large] {
        rep.submit_expense(id).unwrap();
    }
    let placed = |id| {
        let e = rep.expense(id).unwrap();
        (e.status, e.approver)
    };
    assert_eq!(placed(small), (ExpenseStatus::Submitted, None));
    assert_eq!(
        placed(medium),
        (ExpenseStatus::PendingApproval, Some(Approver::Supervisor))
    );
    assert_eq!(
        placed(large),
        (ExpenseStatus::PendingApproval, Some(Approver::Manager))
    );
    let finding = &rep.expense(large).unwrap().findings[0];
    assert_eq!(finding.code, "expense_amount_needs_approval");
    rep.sync().unwrap();
    assert_eq!(on_server(&server, &token, small).0, "submitted");
    assert_eq!(
        on_server(&server, &token, medium),
        ("pending_approval".into(), json!("supervisor"))
    );
    assert_eq!(
        on_server(&server, &token, large),
        ("pending_approval".into(), json!("manager"))
    );

    // On the server: a raw client's 1,000.01 sent as submitted waits for the manager.
    let raw = server.device_token("rep1");
    let (sneaky, findings) = raw_submitted_expense(&server, &raw, me, "1000.01");
    assert_eq!(
        findings
            .iter()
            .map(|f| (f.code.as_str(), f.outcome.as_str()))
            .collect::<Vec<_>>(),
        [("expense_amount_needs_approval", "held")]
    );
    assert_eq!(
        on_server(&server, &token, sneaky),
        ("pending_approval".into(), json!("manager"))
    );

    // The supervisor decides what names a supervisor, not what needs the manager.
    let sup = TestDevice::login(&server, "sup1");
    sup.approve_expense(medium, None).unwrap();
    let refused = sup.approve_expense(large, None).unwrap_err();
    assert!(refused.to_string().contains("manager"), "{refused}");
    sup.sync().unwrap();
    let mgr = TestDevice::login(&server, "mgr1");
    mgr.approve_expense(large, Some("trade fair")).unwrap();
    mgr.reject_expense(sneaky, "not ours").unwrap();
    mgr.sync().unwrap();
    assert_eq!(on_server(&server, &token, medium).0, "approved");
    assert_eq!(on_server(&server, &token, large).0, "approved");
    assert_eq!(on_server(&server, &token, sneaky).0, "rejected");
}

#[test]
fn tiers_send_expenses_to_the_supervisor_then_the_manager_sqlite() {
    tiers_send_expenses_to_the_supervisor_then_the_manager(false);
}

#[test]
fn tiers_send_expenses_to_the_supervisor_then_the_manager_postgres() {
    tiers_send_expenses_to_the_supervisor_then_the_manager(true);
}

#[test]
fn over_budget_goes_to_the_supervisor_offline_and_on_the_server_sqlite() {
    over_budget_goes_to_the_supervisor_offline_and_on_the_server(false);
}

#[test]
fn over_budget_goes_to_the_supervisor_offline_and_on_the_server_postgres() {
    over_budget_goes_to_the_supervisor_offline_and_on_the_server(true);
}

#[test]
fn the_budget_grows_with_achieved_sales_sqlite() {
    the_budget_grows_with_achieved_sales(false);
}

#[test]
fn the_budget_grows_with_achieved_sales_postgres() {
    the_budget_grows_with_achieved_sales(true);
}
