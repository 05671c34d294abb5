//! The server runs the shared rules on every submission (docs/verdicts.md): a raw protocol
//! client that skips the device's rules is held by the server with the finding on its push
//! report; an honest phone whose credit snapshot went stale is flagged, never refused; a
//! second push loops nowhere; findings show in `/v1/orders` (`flagged=true`, `flag=<code>`),
//! in the history and in the metrics; the findings the phone showed the rep stay in the
//! document. On both engines.

use automerge::{AutoCommit, ChangeHash};
use fieldsync_client::{GeoFix, OrderStatus, VisitStep};
use fieldsync_e2e::process::PgDatabase;
use fieldsync_e2e::{photo_file, DeviceToken, TestDevice, TestServer};
use fieldsync_server::config::Secret;
use fieldsync_server::demo::{demo_store_id, demo_tenant_id};
use fieldsync_shared::document::{hydrate_order, load_document, reconcile_order, DocKind};
use fieldsync_shared::master::CreditSnapshot;
use fieldsync_shared::order::{Order, PaymentMethod};
use fieldsync_shared::protocol::{PushFinding, PushResult};
use fieldsync_shared::{DocId, Money, Timestamp};

use crate::write_policies::{at, push_raw};

/// A server on SQLite, or on a fresh PostgreSQL database when `postgres`.
pub(crate) fn start(postgres: bool) -> (TestServer, Option<PgDatabase>) {
    let db = postgres.then(PgDatabase::create);
    let server = TestServer::start_with(|c| {
        if let Some(db) = &db {
            c.database_url = Some(Secret::new(db.url()));
        }
    });
    (server, db)
}

/// A draft credit order of 24 x COLA-330 at list price (a clean order) for `store`, on the
/// device only.
pub(crate) fn local_draft_order(device: &TestDevice, store: &str) -> DocId {
    let store = device.store_by_code(store).expect("store");
    let delivery = Timestamp::now().utc_date().add_days(5);
    let (order, _) = device
        .create_order(store.id, delivery, PaymentMethod::Credit, None)
        .expect("create order");
    device
        .set_order_line(order, "COLA-330", 24, None)
        .expect("line");
    order
}

/// [`local_draft_order`], synced.
fn draft_order(rep: &TestDevice, store: &str) -> DocId {
    let order = local_draft_order(rep, store);
    rep.sync().expect("sync the draft");
    order
}

/// The raw client's changes: `edit` applied to its copy of the device's order.
fn raw_edit(doc: &mut AutoCommit, edit: impl FnOnce(&mut Order)) -> Vec<Vec<u8>> {
    let heads: Vec<ChangeHash> = doc.get_heads();
    let mut order = hydrate_order(doc).expect("hydrate");
    edit(&mut order);
    reconcile_order(doc, &order).expect("reconcile");
    doc.commit();
    doc.get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// Submits the order through the raw client with `edit` done first, skipping every rule.
pub(crate) fn raw_submit(
    server: &TestServer,
    rep: &TestDevice,
    raw: &DeviceToken,
    order: DocId,
    edit: impl FnOnce(&mut Order),
) -> (AutoCommit, Vec<Vec<u8>>, Vec<PushFinding>) {
    let mut doc = load_document(&rep.document_save(order).expect("bytes"))
        .expect("load")
        .with_actor(raw.actor.clone());
    let changes = raw_edit(&mut doc, |o| {
        edit(o);
        o.status = OrderStatus::Submitted;
        o.submitted_at = Some(Timestamp::now());
    });
    let resp = push_raw(server, raw, order, DocKind::Order, changes.clone());
    let PushResult::Stored { findings, .. } = resp.outcomes[0].result.clone() else {
        panic!("stored expected: {:?}", resp.outcomes);
    };
    (doc, changes, findings)
}

fn held(findings: &[PushFinding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|f| (f.code.as_str(), f.outcome.as_str()))
        .collect()
}

fn server_order(server: &TestServer, token: &str, id: DocId) -> serde_json::Value {
    server.get_json(token, &format!("/v1/orders/{id}"))
}

fn listed(server: &TestServer, token: &str, query: &str) -> Vec<String> {
    server.get_json(token, &format!("/v1/orders?{query}"))["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_string())
        .collect()
}

fn rule_breaking_submissions_are_held_by_the_server(postgres: bool) {
    let (server, _db) = start(postgres);
    let rep = TestDevice::login(&server, "rep1");
    let raw = server.device_token("rep1");
    let token = server.token("sup1");

    // (1) A customer on credit hold (overdue receivables).
    let on_hold = draft_order(&rep, "NKA-003");
    let (_, _, findings) = raw_submit(&server, &rep, &raw, on_hold, |_| {});
    assert_eq!(held(&findings), [("overdue_receivables", "held")]);
    let doc = server_order(&server, &token, on_hold);
    assert_eq!(doc["document"]["status"], "pending_approval");
    let f = &doc["findings"][0];
    assert_eq!(f["code"], "overdue_receivables");
    assert_eq!(f["source"], "server_data");
    assert_eq!(f["outcome"], "held");
    assert_eq!(f["rule"], "credit");
    assert_eq!(f["inputs"]["device_basis"], "not recorded");
    assert!(f["inputs"]["overdue"].is_string(), "inputs recorded: {f}");

    // (2) A line below the price floor (2.55): held for approval.
    let below_floor = draft_order(&rep, "NKA-001");
    let (_, _, findings) = raw_submit(&server, &rep, &raw, below_floor, |o| {
        o.lines.get_mut("COLA-330").unwrap().unit_price = Money(100);
    });
    assert!(
        held(&findings).contains(&("price_below_floor", "held")),
        "{findings:?}"
    );
    let floor = findings
        .iter()
        .find(|f| f.code == "price_below_floor")
        .unwrap();
    assert_eq!(floor.field.as_deref(), Some("lines.COLA-330.unit_price"));
    assert_eq!(
        server_order(&server, &token, below_floor)["document"]["status"],
        "pending_approval"
    );

    // (3) A broken case pack (COLA-330 comes in 24s): back to draft for the rep to fix.
    let broken = draft_order(&rep, "NKA-001");
    let (mut raw_doc, changes, findings) = raw_submit(&server, &rep, &raw, broken, |o| {
        o.lines.get_mut("COLA-330").unwrap().quantity = 5;
    });
    assert_eq!(held(&findings), [("quantity_not_case_multiple", "held")]);
    assert_eq!(
        server_order(&server, &token, broken)["document"]["status"],
        "draft"
    );

    // No loop: the same push again is a replay, and a later unrelated edit is not judged.
    let again = push_raw(&server, &raw, broken, DocKind::Order, changes);
    assert_eq!(again.outcomes[0].result, PushResult::stored(0));
    let note = raw_edit(&mut raw_doc, |o| o.notes.update("call before delivery"));
    let resp = push_raw(&server, &raw, broken, DocKind::Order, note);
    let PushResult::Stored { findings, .. } = &resp.outcomes[0].result else {
        panic!("{:?}", resp.outcomes);
    };
    assert!(findings.is_empty(), "{findings:?}");
    let doc = server_order(&server, &token, broken);
    assert_eq!(doc["document"]["status"], "draft");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{doc}");

    // The rep's phone receives the holds with its next sync.
    rep.sync().expect("sync");
    assert_eq!(rep.order(broken).unwrap().status, OrderStatus::Draft);
    assert_eq!(
        rep.order(on_hold).unwrap().status,
        OrderStatus::PendingApproval
    );

    // Supervisors find them.
    let flagged = listed(&server, &token, "flagged=true");
    for id in [on_hold, below_floor, broken] {
        assert!(flagged.contains(&id.to_string()), "{id} in {flagged:?}");
    }
    assert_eq!(
        listed(&server, &token, "flag=quantity_not_case_multiple"),
        [broken.to_string()]
    );
    assert!(listed(&server, &token, "flag=no_such_code").is_empty());

    // The history shows the hold, by the server, with its findings.
    let history = server.get_json(&token, &format!("/v1/documents/{broken}/history"));
    let hold = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["by"] == "server")
        .expect("the server's hold");
    assert!(
        hold["message"]
            .as_str()
            .unwrap()
            .contains("quantity_not_case_multiple"),
        "{hold}"
    );
    assert_eq!(hold["findings"][0]["code"], "quantity_not_case_multiple");
    assert!(
        server.metric(
            r#"fieldsync_findings_total{code="quantity_not_case_multiple",severity="block",source="server_data"}"#
        ) >= 1.0
    );
}

fn an_honest_phone_with_a_stale_credit_snapshot_is_flagged_not_refused(postgres: bool) {
    let (server, _db) = start(postgres);
    let rep = TestDevice::login(&server, "rep1");
    let token = server.token("sup1");
    let order = draft_order(&rep, "NKA-001");
    // Offline, on its snapshot (nothing overdue), the phone submits.
    rep.submit_order(order).expect("submit on the phone");
    let on_phone = rep.order(order).unwrap();
    assert_eq!(on_phone.status, OrderStatus::Submitted);
    let basis = on_phone
        .evaluated_against
        .expect("the phone records its basis");
    assert!(basis.credit.is_some());

    // Meanwhile finance imports an overdue amount for the store.
    let store = demo_store_id("NKA-001");
    server
        .block_on(server.state().store.upsert_credit(
            demo_tenant_id(),
            &[CreditSnapshot {
                store_id: store,
                credit_limit: Money(50_000_000),
                receivables: Money(5_000_000),
                overdue: Money(10_000),
                as_of: Timestamp::now().utc_date(),
            }],
        ))
        .expect("credit import");

    let report = rep.sync().expect("sync");
    let codes: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.outcome.as_str()))
        .collect();
    assert_eq!(codes, [("overdue_receivables", "flagged")]);
    assert!(
        report.refused_edits.is_empty(),
        "{:?}",
        report.refused_edits
    );
    assert_eq!(rep.order(order).unwrap().status, OrderStatus::Submitted);
    let doc = server_order(&server, &token, order);
    assert_eq!(doc["document"]["status"], "submitted");
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["source"] == "server_data")
        .expect("the server's finding");
    assert_eq!(f["outcome"], "flagged");
    assert!(
        f["inputs"]["device_basis"]
            .as_str()
            .unwrap()
            .ends_with("reconstructed"),
        "{f}"
    );
    assert_eq!(
        listed(&server, &token, "flag=overdue_receivables"),
        [order.to_string()]
    );

    // Nothing more on the next sync.
    let again = rep.sync().expect("sync again");
    assert!(again.findings.is_empty(), "{:?}", again.findings);
}

#[test]
fn rule_breaking_submissions_are_held_by_the_server_sqlite() {
    rule_breaking_submissions_are_held_by_the_server(false);
}

#[test]
fn rule_breaking_submissions_are_held_by_the_server_postgres() {
    rule_breaking_submissions_are_held_by_the_server(true);
}

#[test]
fn an_honest_phone_with_a_stale_credit_snapshot_is_flagged_not_refused_sqlite() {
    an_honest_phone_with_a_stale_credit_snapshot_is_flagged_not_refused(false);
}

#[test]
fn an_honest_phone_with_a_stale_credit_snapshot_is_flagged_not_refused_postgres() {
    an_honest_phone_with_a_stale_credit_snapshot_is_flagged_not_refused(true);
}

/// A visit checked in far from its store: the phone shows the rep a flag and keeps it in the
/// document; the server judges the submission with the same rules and flags it for review.
fn an_off_site_visit_keeps_what_the_rep_was_told_and_is_flagged(postgres: bool) {
    let (server, _db) = start(postgres);
    let rep = TestDevice::login(&server, "rep1");
    let token = server.token("sup1");
    let store = rep.store_by_code("NKA-002").expect("store");
    let visit = rep
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    let far = GeoFix {
        lat: store.location.lat() + 0.05,
        ..at(&store)
    };
    let shown = rep
        .check_in(visit, far, Timestamp::now())
        .expect("check in");
    assert_eq!(shown.findings[0].code, "outside_geofence");
    for step in VisitStep::ALL {
        rep.record_step(visit, *step, None).unwrap();
    }
    rep.attach_photo(
        visit,
        &photo_file(rep.dir.path(), "shelf.jpg", 9),
        Some(VisitStep::Merchandise),
    )
    .unwrap();
    rep.check_out(visit, at(&store), Timestamp::now()).unwrap();
    rep.submit_visit(visit).unwrap();
    let report = rep.sync().expect("sync");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code == "outside_geofence" && f.outcome == "flagged"),
        "{:?}",
        report.findings
    );

    let item = server.get_json(&token, &format!("/v1/visits/{visit}"));
    assert_eq!(item["document"]["status"], "submitted");
    assert_eq!(item["document"]["findings"][0]["code"], "outside_geofence");
    assert_eq!(item["document"]["findings"][0]["severity"], "flag");
    assert!(item["document"]["evaluated_against"]["master_version"].is_i64());
    let flagged: Vec<String> = server.get_json(&token, "/v1/visits?flag=outside_geofence")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(flagged, [visit.to_string()]);
}

#[test]
fn an_off_site_visit_keeps_what_the_rep_was_told_and_is_flagged_sqlite() {
    an_off_site_visit_keeps_what_the_rep_was_told_and_is_flagged(false);
}

#[test]
fn an_off_site_visit_keeps_what_the_rep_was_told_and_is_flagged_postgres() {
    an_off_site_visit_keeps_what_the_rep_was_told_and_is_flagged(true);
}
