//! The write-policy matrix across both sides: one table of cells (who edits, which kind of
//! document, which field, in which status) and, for every cell, the same verdict from the
//! server (a raw change pushed with the editor's device actor is kept, or refused and undone
//! by the server's compensation) and from the device (the SDK operation succeeds, or fails
//! with `DeviceError::Forbidden` and the same field and code). One server, one document per
//! cell, owned by rep1 at an NKA store (merch1's territory too; rep1, rep2 and merch1 are in
//! sup1's team, in mgr1's region; rep2 covers other stores).

use std::collections::HashMap;

use automerge::AutoCommit;
use fieldsync_client::{AuditInput, DeviceError, DocId, PaymentMethod, Timestamp};
use fieldsync_e2e::{DeviceToken, TestDevice, TestServer};
use fieldsync_shared::document::{hydrate_order, reconcile_order, DocKind};
use fieldsync_shared::order::{Delivery, OrderLine, OrderStatus};
use fieldsync_shared::protocol::PushResult;
use fieldsync_shared::values::{Money, ShelfLocation, ShortText, Sku, UserId};
use fieldsync_shared::visit::{
    AuditLine, Review, ReviewDecision, StepRecord, VisitStatus, VisitStep,
};

use crate::write_policies::{
    at, copy_for, edit_visit, first_store, push_raw, submitted_visit, today,
};

/// The state rep1's document is in when the editor acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Start {
    /// A visit checked in to.
    InProgress,
    Submitted,
    Approved,
    /// An order with one line.
    Draft,
    OrderSubmitted,
    /// Submitted at a discount beyond the rep's authority.
    PendingApproval,
}

impl Start {
    fn kind(self) -> DocKind {
        match self {
            Start::InProgress | Start::Submitted | Start::Approved => DocKind::Visit,
            Start::Draft | Start::OrderSubmitted | Start::PendingApproval => DocKind::Order,
        }
    }
}

/// What the editor does (the same effect on both sides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    /// Visit notes: a line appended.
    Note,
    /// Visit steps: `greet` recorded.
    Step,
    /// Visit audit: a line for COLA-330 on the main shelf.
    Audit,
    /// Visit status and review: approved by the editor.
    Approve,
    /// Visit status and review: rejected by the editor, with a comment.
    Reject,
    /// Visit status and review: reopened by the editor (rejected, with a comment).
    Reopen,
    /// Order lines: COLA-330 set to 48 at list price.
    OrderLine,
    /// Order status: approved.
    ApproveOrder,
    /// Order delivery: delivered today, recorded by the editor.
    Deliver,
}

/// The verdict both sides must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Kept,
    Refused {
        field: &'static str,
        code: &'static str,
    },
    /// Outside the editor's read scope: the server answers `document_unavailable`, the device
    /// does not hold the document.
    Unseen,
}

use Edit::*;
use Expect::*;
use Start::*;

struct Cell {
    editor: &'static str,
    start: Start,
    edit: Edit,
    expect: Expect,
}

const fn cell(editor: &'static str, start: Start, edit: Edit, expect: Expect) -> Cell {
    Cell {
        editor,
        start,
        edit,
        expect,
    }
}

const fn refused(field: &'static str, code: &'static str) -> Expect {
    Refused { field, code }
}

/// rep1 owns every document: rep1 is its author, merch1 a colleague (same store), sup1 the
/// team supervisor, mgr1 the region manager, rep2 nobody (and cannot see it).
const CELLS: &[Cell] = &[
    // The author.
    cell("rep1", InProgress, Note, Kept),
    cell("rep1", InProgress, Step, Kept),
    cell("rep1", InProgress, Audit, Kept),
    cell(
        "rep1",
        InProgress,
        Approve,
        refused("status", "status_transition_not_allowed"),
    ),
    cell("rep1", Submitted, Note, Kept),
    cell(
        "rep1",
        Submitted,
        Audit,
        refused("audit", "visit_submitted"),
    ),
    cell("rep1", Approved, Note, refused("notes", "visit_frozen")),
    cell("rep1", Draft, OrderLine, Kept),
    cell(
        "rep1",
        OrderSubmitted,
        OrderLine,
        refused("lines", "order_submitted"),
    ),
    cell(
        "rep1",
        PendingApproval,
        ApproveOrder,
        refused("status", "status_transition_not_allowed"),
    ),
    cell("rep1", OrderSubmitted, Deliver, Kept),
    cell(
        "rep1",
        Draft,
        Deliver,
        refused("delivery", "order_not_sold"),
    ),
    // A colleague working the same store.
    cell("merch1", InProgress, Audit, Kept),
    cell("merch1", InProgress, Step, Kept),
    cell("merch1", Submitted, Note, Kept),
    cell(
        "merch1",
        Submitted,
        Approve,
        refused("status", "status_transition_not_allowed"),
    ),
    cell("merch1", Approved, Audit, refused("audit", "visit_frozen")),
    cell("merch1", Draft, OrderLine, refused("lines", "not_author")),
    cell(
        "merch1",
        OrderSubmitted,
        Deliver,
        refused("delivery", "not_author_or_supervisor"),
    ),
    // The owner's supervisor.
    cell("sup1", Submitted, Approve, Kept),
    cell("sup1", Submitted, Reject, Kept),
    cell(
        "sup1",
        InProgress,
        Approve,
        refused("status", "status_transition_not_allowed"),
    ),
    cell(
        "sup1",
        InProgress,
        Note,
        refused("notes", "not_author_or_colleague"),
    ),
    cell("sup1", Approved, Reject, refused("status", "visit_frozen")),
    cell("sup1", Draft, OrderLine, refused("lines", "not_author")),
    cell("sup1", PendingApproval, ApproveOrder, Kept),
    cell("sup1", OrderSubmitted, Deliver, Kept),
    cell(
        "sup1",
        OrderSubmitted,
        ApproveOrder,
        refused("status", "status_transition_not_allowed"),
    ),
    // The owner's region manager.
    cell("mgr1", Approved, Reopen, Kept),
    cell(
        "mgr1",
        Submitted,
        Approve,
        refused("status", "status_transition_not_allowed"),
    ),
    cell("mgr1", PendingApproval, ApproveOrder, Kept),
    cell("mgr1", OrderSubmitted, Deliver, Kept),
    // Nobody to this document.
    cell("rep2", InProgress, Note, Unseen),
    cell("rep2", OrderSubmitted, Deliver, Unseen),
];

/// Creates rep1's document for `start` (approvals are done by `sup` after the first sync).
fn create(owner: &TestDevice, start: Start) -> DocId {
    let store = first_store(owner);
    let sku = "COLA-330";
    let delivery = today().add_days(7);
    match start {
        InProgress => {
            let visit = owner.start_visit(store.id, today()).expect("start visit");
            owner
                .check_in(visit, at(&store), Timestamp::now())
                .expect("check in");
            visit
        }
        Submitted | Approved => submitted_visit(owner, &store),
        Draft | OrderSubmitted | PendingApproval => {
            let (order, _) = owner
                .create_order(store.id, delivery, PaymentMethod::Cash, None)
                .expect("create order");
            let price = (start == PendingApproval).then(|| {
                let product = owner
                    .products()
                    .unwrap()
                    .into_iter()
                    .find(|p| p.sku.as_str() == sku)
                    .expect("COLA-330 in the demo catalogue");
                product.floor_price
            });
            owner
                .set_order_line(order, sku, 24, price)
                .expect("order line");
            if start != Draft {
                owner.submit_order(order).expect("submit order");
            }
            let status = owner.order(order).unwrap().status;
            let wanted = match start {
                Draft => OrderStatus::Draft,
                OrderSubmitted => OrderStatus::Submitted,
                _ => OrderStatus::PendingApproval,
            };
            assert_eq!(status, wanted, "order set-up for {start:?}");
            order
        }
    }
}

/// The user id of `username`, as the server knows it.
fn user_id(server: &TestServer, token: &str) -> UserId {
    UserId::parse(server.get_json(token, "/v1/me")["id"].as_str().unwrap()).unwrap()
}

/// The raw change of `edit` by `editor` on the owner's copy of the document.
fn raw_change(
    owner: &TestDevice,
    id: DocId,
    edit: Edit,
    raw: &DeviceToken,
    editor: UserId,
) -> Vec<Vec<u8>> {
    let mut doc = copy_for(owner, id, &raw.actor);
    let now = Timestamp::now();
    let review = |decision, comment: Option<&str>| Review {
        decision,
        comment: comment.map(|c| ShortText::parse(c).unwrap()),
        by: editor,
        at: now,
    };
    match edit {
        Note => edit_visit(&mut doc, |v| {
            let text = format!("{}\nmatrix note", v.notes.as_str());
            v.notes.update(text);
        }),
        Step => edit_visit(&mut doc, |v| {
            v.steps.insert(
                VisitStep::Greet.as_str().to_string(),
                StepRecord {
                    step: VisitStep::Greet,
                    at: now,
                    by: editor,
                    skipped_reason: None,
                },
            );
        }),
        Audit => edit_visit(&mut doc, |v| {
            let line = AuditLine {
                sku: Sku::parse("COLA-330").unwrap(),
                location: ShelfLocation::parse("MAIN-SHELF").unwrap(),
                facings: 5,
                on_shelf: true,
                shelf_price: Some(Money(360)),
                oldest_production_date: None,
                recorded_by: editor,
                recorded_at: now,
            };
            v.audit.insert(line.key(), line);
        }),
        Approve => edit_visit(&mut doc, |v| {
            v.status = VisitStatus::Approved;
            v.review = Some(review(ReviewDecision::Approved, None));
        }),
        Reject | Reopen => edit_visit(&mut doc, |v| {
            v.status = VisitStatus::Rejected;
            v.review = Some(review(
                ReviewDecision::Rejected,
                Some("please redo the shelf"),
            ));
        }),
        OrderLine => edit_order(&mut doc, |o| {
            o.lines.insert(
                "COLA-330".into(),
                OrderLine {
                    sku: Sku::parse("COLA-330").unwrap(),
                    quantity: 48,
                    unit_price: Money(360),
                },
            );
        }),
        ApproveOrder => edit_order(&mut doc, |o| o.status = OrderStatus::Approved),
        Deliver => edit_order(&mut doc, |o| {
            o.delivery = Some(Delivery {
                delivered_on: today(),
                recorded_by: editor,
                recorded_at: now,
            })
        }),
    }
}

fn edit_order(
    doc: &mut AutoCommit,
    f: impl FnOnce(&mut fieldsync_shared::order::Order),
) -> Vec<Vec<u8>> {
    let heads = doc.get_heads();
    let mut order = hydrate_order(doc).expect("hydrate order");
    f(&mut order);
    reconcile_order(doc, &order).expect("reconcile order");
    doc.commit();
    doc.get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// The same edit through the device SDK.
fn device_edit(device: &TestDevice, id: DocId, edit: Edit) -> Result<(), DeviceError> {
    match edit {
        Note => device.append_note(id, "matrix note"),
        Step => device.record_step(id, VisitStep::Greet, None),
        Audit => device
            .record_audit_line(
                id,
                AuditInput {
                    sku: "COLA-330".into(),
                    location: "MAIN-SHELF".into(),
                    facings: 5,
                    on_shelf: true,
                    shelf_price: Some(Money(360)),
                    oldest_production_date: None,
                },
            )
            .map(|_| ()),
        Approve => device.approve_visit(id, None),
        Reject => device.reject_visit(id, "please redo the shelf"),
        Reopen => device.reopen_visit(id, "please redo the shelf"),
        OrderLine => device.set_order_line(id, "COLA-330", 48, None).map(|_| ()),
        ApproveOrder => device.approve_order(id),
        Deliver => device.record_delivery(id, today()),
    }
}

/// The JSON keys an edit writes, to compare the server's document before and after.
fn keys(edit: Edit) -> &'static [&'static str] {
    match edit {
        Note => &["notes"],
        Step => &["steps"],
        Audit => &["audit"],
        Approve | Reject | Reopen => &["status", "review"],
        OrderLine => &["lines"],
        ApproveOrder => &["status"],
        Deliver => &["delivery"],
    }
}

fn server_doc(server: &TestServer, token: &str, kind: DocKind, id: DocId) -> serde_json::Value {
    let path = match kind {
        DocKind::Visit => format!("/v1/visits/{id}"),
        DocKind::Order => format!("/v1/orders/{id}"),
        DocKind::Plan => format!("/v1/plans/{id}"),
        DocKind::Expense => format!("/v1/expenses/{id}"),
    };
    server.get_json(token, &path)["document"].clone()
}

#[test]
fn the_server_and_the_device_give_the_same_verdict_for_every_cell() {
    let server = TestServer::start();
    let owner = TestDevice::login(&server, "rep1");
    let sup = TestDevice::login(&server, "sup1");

    // One document per cell, in its start state, on the server.
    let docs: Vec<DocId> = CELLS.iter().map(|c| create(&owner, c.start)).collect();
    owner.sync().expect("owner syncs");
    sup.sync().expect("sup pulls");
    for (c, id) in CELLS.iter().zip(&docs) {
        if c.start == Approved {
            sup.approve_visit(*id, Some("fine"))
                .expect("set-up approval");
        }
    }
    sup.sync().expect("sup syncs the approvals");
    owner.sync().expect("owner pulls the approvals");

    // Every editor: a raw-change device and an SDK device, both holding the start states.
    let admin_view = server.token("sup1");
    let mut raw: HashMap<&str, (DeviceToken, UserId)> = HashMap::new();
    let mut devices: HashMap<&str, TestDevice> = HashMap::new();
    for c in CELLS {
        raw.entry(c.editor).or_insert_with(|| {
            let t = server.device_token(c.editor);
            let id = user_id(&server, &t.token);
            (t, id)
        });
        if c.editor != "rep1" && c.editor != "sup1" && !devices.contains_key(c.editor) {
            devices.insert(c.editor, TestDevice::login(&server, c.editor));
        }
    }
    sup.sync().expect("sup is up to date");
    let device_of = |editor: &str| -> &TestDevice {
        match editor {
            "rep1" => &owner,
            "sup1" => &sup,
            other => &devices[other],
        }
    };

    let mut failures = Vec::new();
    for (c, id) in CELLS.iter().zip(&docs) {
        let label = format!("{} {:?} {:?}", c.editor, c.start, c.edit);
        let kind = c.start.kind();

        // The server side.
        let before = server_doc(&server, &admin_view, kind, *id);
        let (token, editor_id) = &raw[c.editor];
        let changes = raw_change(&owner, *id, c.edit, token, *editor_id);
        let resp = push_raw(&server, token, *id, kind, changes);
        let after = server_doc(&server, &admin_view, kind, *id);
        let changed = keys(c.edit).iter().any(|k| before[k] != after[k]);
        let server_ok = match (&resp.outcomes[0].result, c.expect) {
            (PushResult::Stored { refused_edits, .. }, Kept) => refused_edits.is_empty() && changed,
            (PushResult::Stored { refused_edits, .. }, Refused { field, code }) => {
                refused_edits
                    .iter()
                    .any(|r| r.field == field && r.code == code)
                    && keys(c.edit).iter().all(|k| before[k] == after[k])
            }
            (PushResult::Refused { reason, .. }, Unseen) => {
                reason == "document_unavailable" && before == after
            }
            _ => false,
        };
        if !server_ok {
            failures.push(format!(
                "server, {label}: expected {:?}, got {:?} (changed: {changed})",
                c.expect, resp.outcomes[0].result
            ));
        }

        // The device side.
        let device = device_of(c.editor);
        let result = device_edit(device, *id, c.edit);
        let device_ok = match (&result, c.expect) {
            (Ok(()), Kept) => true,
            (
                Err(DeviceError::Forbidden {
                    field, code: got, ..
                }),
                Refused { field: f, code },
            ) => field == f && got == code,
            (Err(_), Unseen) => device.document_ids(None).unwrap().iter().all(|d| d != id),
            _ => false,
        };
        if !device_ok {
            failures.push(format!(
                "device, {label}: expected {:?}, got {result:?}",
                c.expect
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cells disagree:\n{}",
        failures.len(),
        CELLS.len(),
        failures.join("\n")
    );
}
