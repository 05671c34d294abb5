//! Cross-device flags (docs/verdicts.md): what only the server sees, with every device's
//! data together. Real server, real devices; both engines.

use fieldsync_client::OrderStatus;
use fieldsync_e2e::TestDevice;
use fieldsync_server::demo::{demo_store_id, demo_tenant_id};
use fieldsync_shared::master::CreditSnapshot;
use fieldsync_shared::{Money, Timestamp};

use crate::verdicts::{local_draft_order, start};

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
