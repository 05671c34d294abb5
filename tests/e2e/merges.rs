//! What two people editing one document at once get, field by field, with a real server and
//! real devices (docs/document-encoding.md, "What happens when two people edit at once").
//! Each test edits offline on two devices and syncs in either order: both devices and the
//! server end with the same document, and the result is the one the page promises.

use std::thread::sleep;
use std::time::Duration;

use automerge::AutoCommit;
use fieldsync_client::{
    AuditInput, DocKind, Money, Order, OrderStatus, PaymentMethod, Store, Timestamp, VisitStatus,
    VisitStep,
};
use fieldsync_e2e::{DeviceToken, TestDevice, TestServer};
use fieldsync_shared::document::{
    hydrate_order, load_document, new_document, reconcile_order, reconcile_visit,
};
use fieldsync_shared::protocol::PushResult;
use fieldsync_shared::visit::{NoteEntry, ReviewDecision, Visit, EARLIER_NOTES_AUTHOR};
use fieldsync_shared::DocId;

use crate::write_policies::{at, first_store, push_raw, server_visit, submitted_visit, today};

/// Who syncs first after the offline edits.
#[derive(Debug, Clone, Copy)]
pub(crate) enum First {
    A,
    B,
}

/// Syncs `a` and `b` in the order `first` says, then the other once more, so both hold
/// everything the server holds.
pub(crate) fn sync_both(first: First, a: &TestDevice, b: &TestDevice) {
    let (one, two) = match first {
        First::A => (a, b),
        First::B => (b, a),
    };
    one.sync().expect("first sync");
    two.sync().expect("second sync");
    one.sync().expect("first device again");
}

/// The visit as the server holds it, read as a typed visit.
pub(crate) fn served(server: &TestServer, id: DocId) -> Visit {
    let json = server_visit(server, &server.token("sup1"), id);
    serde_json::from_value(json).expect("visit JSON")
}

/// Both devices and the server hold the same visit (and the devices the same history).
pub(crate) fn converged(server: &TestServer, a: &TestDevice, b: &TestDevice, id: DocId) -> Visit {
    let on_a = a.visit(id).expect("visit on a");
    assert_eq!(on_a, b.visit(id).expect("visit on b"), "both devices agree");
    assert_eq!(
        a.document_heads(id).unwrap(),
        b.document_heads(id).unwrap(),
        "both devices hold the same history"
    );
    assert_eq!(served(server, id), on_a, "the server agrees");
    on_a
}

/// A visit of `store` for `owner`, written as an app did before notes were entries (no list
/// of notes), pushed by the raw device `raw`. Returns its id and its bytes as first pushed:
/// the copy a phone that received it before the server added the list holds.
pub(crate) fn visit_from_an_older_app(
    server: &TestServer,
    raw: &DeviceToken,
    owner: &TestDevice,
    store: &Store,
) -> (DocId, Vec<u8>) {
    let owner_id = owner.profile().unwrap().expect("signed in").id;
    let id = DocId::new_random();
    let mut visit = Visit::new(id, store.id, owner_id, today());
    visit.note_entries = None;
    let mut doc = new_document(raw.actor.clone());
    reconcile_visit(&mut doc, &visit).expect("reconcile");
    doc.commit();
    let bytes = doc.save();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let resp = push_raw(server, raw, id, DocKind::Visit, changes);
    assert!(
        matches!(resp.outcomes[0].result, PushResult::Stored { .. }),
        "{:?}",
        resp.outcomes[0].result
    );
    (id, bytes)
}

/// The texts of the visit's notes in the order every replica shows them.
fn texts(v: &Visit) -> Vec<String> {
    v.notes_in_order().into_iter().map(|n| n.text).collect()
}

/// How the visit both devices add a note to came about.
#[derive(Debug, Clone, Copy)]
enum Written {
    /// Planned on the rep's phone by this version.
    Now,
    /// By an app before notes were entries; the phones synced since the server stored it.
    Earlier,
    /// By an app before notes were entries; the phones hold the copy from before the server
    /// added the list (they have not synced since).
    EarlierNotUpgraded,
}

fn notes_added_at_once(written: Written, first: First) {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let merch = TestDevice::login(&server, "merch1");
    let store = first_store(&rep);
    let visit = match written {
        Written::Now => {
            let visit = rep.start_visit(store.id, today()).expect("start visit");
            rep.sync().unwrap();
            merch.sync().unwrap();
            visit
        }
        Written::Earlier | Written::EarlierNotUpgraded => {
            let raw = server.device_token("rep1");
            let (visit, bytes) = visit_from_an_older_app(&server, &raw, &rep, &store);
            assert!(
                served(&server, visit).note_entries.is_some(),
                "the server added the list when it stored the visit"
            );
            for device in [&rep, &merch] {
                if matches!(written, Written::Earlier) {
                    device.sync().unwrap();
                } else {
                    device
                        .receive_document(visit, DocKind::Visit, &bytes)
                        .unwrap();
                }
            }
            visit
        }
    };

    // Offline, one after the other (the device clocks order them).
    rep.append_note(visit, "Store manager asks for more facings.")
        .expect("rep note");
    sleep(Duration::from_millis(5));
    merch
        .append_note(visit, "Endcap rebuilt to picture of success.")
        .expect("merch note");
    sync_both(first, &rep, &merch);

    let v = converged(&server, &rep, &merch, visit);
    match written {
        Written::Now | Written::Earlier => {
            assert_eq!(
                texts(&v),
                [
                    "Store manager asks for more facings.",
                    "Endcap rebuilt to picture of success."
                ],
                "two entries, by time"
            );
            let rep_id = rep.profile().unwrap().unwrap().id;
            let merch_id = merch.profile().unwrap().unwrap().id;
            let notes: Vec<NoteEntry> = v.notes_in_order();
            assert_eq!((notes[0].by, notes[1].by), (rep_id, merch_id));
            assert!(notes[0].at < notes[1].at);
            assert!(!notes[0].by_name.is_empty() && !notes[1].by_name.is_empty());
        }
        Written::EarlierNotUpgraded => {
            // Without the list the notes went to the earlier notes text: both kept, each its
            // own line; the list the server added came with the sync.
            let notes = v.notes_in_order();
            assert_eq!(notes.len(), 1, "{notes:?}");
            assert_eq!(notes[0].by_name, EARLIER_NOTES_AUTHOR);
            let mut lines: Vec<&str> = notes[0].text.lines().collect();
            lines.sort_unstable();
            assert_eq!(
                lines,
                [
                    "Endcap rebuilt to picture of success.",
                    "Store manager asks for more facings."
                ]
            );
            assert!(v.note_entries.is_some());
            // From now on, notes are entries, after the earlier notes.
            merch.append_note(visit, "Backroom locked.").unwrap();
            sync_both(first, &rep, &merch);
            let v = converged(&server, &rep, &merch, visit);
            let notes = v.notes_in_order();
            assert_eq!(notes.len(), 2);
            assert_eq!(notes[1].text, "Backroom locked.");
        }
    }
}

#[test]
fn notes_added_at_once_are_both_kept_rep_first() {
    notes_added_at_once(Written::Now, First::A);
}

#[test]
fn notes_added_at_once_are_both_kept_merchandiser_first() {
    notes_added_at_once(Written::Now, First::B);
}

#[test]
fn notes_added_at_once_to_an_earlier_visit_are_both_kept_rep_first() {
    notes_added_at_once(Written::Earlier, First::A);
}

#[test]
fn notes_added_at_once_to_an_earlier_visit_are_both_kept_merchandiser_first() {
    notes_added_at_once(Written::Earlier, First::B);
}

#[test]
fn notes_added_at_once_to_an_earlier_visit_not_yet_upgraded_are_both_kept() {
    notes_added_at_once(Written::EarlierNotUpgraded, First::A);
    notes_added_at_once(Written::EarlierNotUpgraded, First::B);
}

#[test]
fn a_note_added_after_the_supervisors_decision_is_refused_and_its_author_told() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let merch = TestDevice::login(&server, "merch1");
    let sup = TestDevice::login(&server, "sup1");
    let store = first_store(&rep);
    let visit = submitted_visit(&rep, &store);
    rep.append_note(visit, "Submitted; promo display next week.")
        .unwrap();
    rep.sync().unwrap();
    merch.sync().unwrap();
    sup.sync().unwrap();

    // The merchandiser, offline, adds a note while the visit is still submitted on their
    // phone (allowed then); the supervisor approves meanwhile.
    merch
        .append_note(visit, "Shelf restocked after the visit.")
        .expect("allowed while submitted");
    sup.approve_visit(visit, Some("Good shelf work")).unwrap();
    sup.sync().unwrap();
    let report = merch.sync().expect("merch syncs the late note");

    let refused: Vec<(DocId, &str, &str)> = report
        .refused_edits
        .iter()
        .map(|r| (r.doc_id, r.field.as_str(), r.code.as_str()))
        .collect();
    assert_eq!(refused, [(visit, "notes", "visit_frozen")], "{report:?}");
    let kept = merch.refused_edits().unwrap();
    assert_eq!(
        (kept[0].doc_id, kept[0].code.as_str()),
        (visit, "visit_frozen")
    );

    rep.sync().unwrap();
    merch.sync().unwrap();
    let v = converged(&server, &rep, &merch, visit);
    assert_eq!(v.status, VisitStatus::Approved);
    assert_eq!(texts(&v), ["Submitted; promo display next week."]);
    assert!(
        rep.refused_edits().unwrap().is_empty(),
        "told its author only"
    );
}

/// An audit line as the merchandiser or the rep enters it.
fn audit(sku: &str, facings: u32, price: i64) -> AuditInput {
    AuditInput {
        sku: sku.to_string(),
        location: "MAIN-SHELF".to_string(),
        facings,
        on_shelf: true,
        shelf_price: Some(Money(price)),
        oldest_production_date: None,
    }
}

fn audit_line_recorded_by_two_people(first: First) {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let merch = TestDevice::login(&server, "merch1");
    let store = first_store(&rep);
    let visit = rep.start_visit(store.id, today()).unwrap();
    rep.check_in(visit, at(&store), Timestamp::now()).unwrap();
    // A line both already hold, and then record again at once; and a line new to both.
    rep.record_audit_line(visit, audit("TEA-500", 2, 400))
        .unwrap();
    rep.sync().unwrap();
    merch.sync().unwrap();

    for sku in ["TEA-500", "COLA-330"] {
        rep.record_audit_line(visit, audit(sku, 6, 350)).unwrap();
        merch.record_audit_line(visit, audit(sku, 4, 399)).unwrap();
    }
    sync_both(first, &rep, &merch);

    let v = converged(&server, &rep, &merch, visit);
    let rep_id = rep.profile().unwrap().unwrap().id;
    let merch_id = merch.profile().unwrap().unwrap().id;
    assert_eq!(v.audit.len(), 2, "one line per SKU and place");
    for line in v.audit.values() {
        // One whole observation: its facings, price and author belong together.
        let whole = (line.facings, line.shelf_price, line.recorded_by);
        assert!(
            whole == (6, Some(Money(350)), rep_id) || whole == (4, Some(Money(399)), merch_id),
            "a mix of two recordings: {line:?}"
        );
    }
}

#[test]
fn an_audit_line_recorded_by_two_people_at_once_is_one_whole_observation_rep_first() {
    audit_line_recorded_by_two_people(First::A);
}

#[test]
fn an_audit_line_recorded_by_two_people_at_once_is_one_whole_observation_merch_first() {
    audit_line_recorded_by_two_people(First::B);
}

#[test]
fn a_step_recorded_by_two_people_at_once_is_one_whole_record() {
    for first in [First::A, First::B] {
        let server = TestServer::start();
        let rep = TestDevice::login(&server, "rep1");
        let merch = TestDevice::login(&server, "merch1");
        let store = first_store(&rep);
        let visit = rep.start_visit(store.id, today()).unwrap();
        rep.record_step(visit, VisitStep::Merchandise, None)
            .unwrap();
        rep.sync().unwrap();
        merch.sync().unwrap();

        // Offline: the rep records the step again as done, the merchandiser as skipped.
        rep.record_step(visit, VisitStep::Merchandise, None)
            .unwrap();
        merch
            .record_step(visit, VisitStep::Merchandise, Some("shelf being refitted"))
            .unwrap();
        sync_both(first, &rep, &merch);

        let v = converged(&server, &rep, &merch, visit);
        let step = &v.steps[VisitStep::Merchandise.as_str()];
        let rep_id = rep.profile().unwrap().unwrap().id;
        let merch_id = merch.profile().unwrap().unwrap().id;
        let whole = (step.by, step.skipped_reason.as_ref().map(|r| r.to_string()));
        assert!(
            whole == (rep_id, None)
                || whole == (merch_id, Some("shelf being refitted".to_string())),
            "a mix of two records: {step:?}"
        );
    }
}

/// The order as the server holds it.
fn served_order(server: &TestServer, id: DocId) -> Order {
    let json = server.get_json(&server.token("sup1"), &format!("/v1/orders/{id}"));
    serde_json::from_value(json["document"].clone()).expect("order JSON")
}

/// Both devices and the server hold the same order.
fn order_converged(server: &TestServer, a: &TestDevice, b: &TestDevice, id: DocId) -> Order {
    let on_a = a.order(id).unwrap();
    assert_eq!(on_a, b.order(id).unwrap(), "both devices agree");
    assert_eq!(served_order(server, id), on_a, "the server agrees");
    on_a
}

#[test]
fn order_lines_edited_on_two_devices() {
    for first in [First::A, First::B] {
        // The rep's phone and tablet: only the author edits a draft's lines.
        let server = TestServer::start();
        let phone = TestDevice::login(&server, "rep1");
        let tablet = TestDevice::login(&server, "rep1");
        let store = first_store(&phone);
        let delivery = today().add_days(5);
        let (order, _) = phone
            .create_order(store.id, delivery, PaymentMethod::Cash, None)
            .unwrap();
        phone.set_order_line(order, "COLA-500", 10, None).unwrap();
        phone.set_order_line(order, "TEA-500", 10, None).unwrap();
        phone.sync().unwrap();
        tablet.sync().unwrap();

        // Offline: both change the quantity of COLA-500; the tablet removes TEA-500 while
        // the phone changes its quantity; each adds a line of its own.
        phone.set_order_line(order, "COLA-500", 12, None).unwrap();
        tablet.set_order_line(order, "COLA-500", 18, None).unwrap();
        phone.set_order_line(order, "TEA-500", 30, None).unwrap();
        tablet.remove_order_line(order, "TEA-500").unwrap();
        phone.set_order_line(order, "COLA-1250", 12, None).unwrap();
        tablet.set_order_line(order, "COLA-2000", 6, None).unwrap();
        sync_both(first, &phone, &tablet);

        let o = order_converged(&server, &phone, &tablet, order);
        let quantity = o.lines["COLA-500"].quantity;
        assert!(
            quantity == 12 || quantity == 18,
            "one of the two: {quantity}"
        );
        assert!(!o.lines.contains_key("TEA-500"), "the removal wins: {o:?}");
        assert!(o.lines.contains_key("COLA-1250") && o.lines.contains_key("COLA-2000"));
    }
}

#[test]
fn a_delivery_date_changed_on_two_devices_is_one_of_the_two() {
    let server = TestServer::start();
    let phone = TestDevice::login(&server, "rep1");
    let store = first_store(&phone);
    let (order, _) = phone
        .create_order(store.id, today().add_days(5), PaymentMethod::Cash, None)
        .unwrap();
    phone.set_order_line(order, "COLA-500", 10, None).unwrap();
    phone.sync().unwrap();

    // Two other clients of the rep change the date from the same copy at once.
    let dates = [today().add_days(6), today().add_days(9)];
    for date in dates {
        let raw = server.device_token("rep1");
        let mut doc = copy_for_order(&phone, order, &raw);
        let changes = order_edit(&mut doc, |o| o.requested_delivery = date);
        let resp = push_raw(&server, &raw, order, DocKind::Order, changes);
        assert!(
            matches!(&resp.outcomes[0].result, PushResult::Stored { refused_edits, .. } if refused_edits.is_empty()),
            "{:?}",
            resp.outcomes[0].result
        );
    }
    phone.sync().unwrap();
    let o = phone.order(order).unwrap();
    assert_eq!(served_order(&server, order), o);
    assert!(
        dates.contains(&o.requested_delivery),
        "{}",
        o.requested_delivery
    );
}

/// A copy of the device's order for the raw client `raw` to edit.
fn copy_for_order(device: &TestDevice, id: DocId, raw: &DeviceToken) -> AutoCommit {
    load_document(&device.document_save(id).unwrap())
        .unwrap()
        .with_actor(raw.actor.clone())
}

/// `edit` applied to the raw copy of an order; the new changes.
fn order_edit(doc: &mut AutoCommit, edit: impl FnOnce(&mut Order)) -> Vec<Vec<u8>> {
    let heads = doc.get_heads();
    let mut order = hydrate_order(doc).unwrap();
    edit(&mut order);
    reconcile_order(doc, &order).unwrap();
    doc.commit();
    doc.get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

#[test]
fn two_decisions_on_one_visit_the_first_stored_stands() {
    for first in [First::A, First::B] {
        let server = TestServer::start();
        let rep = TestDevice::login(&server, "rep1");
        let store = first_store(&rep);
        let visit = submitted_visit(&rep, &store);
        rep.sync().unwrap();
        // The supervisor's phone and laptop, both offline: approve on one, reject on the other.
        let phone = TestDevice::login(&server, "sup1");
        let laptop = TestDevice::login(&server, "sup1");
        phone.approve_visit(visit, Some("Good shelf work")).unwrap();
        laptop.reject_visit(visit, "Redo the endcap photo").unwrap();
        let (winner, loser, status) = match first {
            First::A => (&phone, &laptop, VisitStatus::Approved),
            First::B => (&laptop, &phone, VisitStatus::Rejected),
        };
        let won = winner.sync().unwrap();
        assert!(won.refused_edits.is_empty(), "{won:?}");
        let lost = loser.sync().unwrap();
        let fields: Vec<&str> = lost
            .refused_edits
            .iter()
            .map(|r| r.field.as_str())
            .collect();
        assert!(
            fields.contains(&"status") && fields.contains(&"review"),
            "the later decision is refused and its author told: {lost:?}"
        );
        winner.sync().unwrap();
        let v = converged(&server, winner, loser, visit);
        assert_eq!(v.status, status);
        let decision = v.review.as_ref().unwrap().decision;
        assert_eq!(
            decision,
            match status {
                VisitStatus::Approved => ReviewDecision::Approved,
                _ => ReviewDecision::Rejected,
            },
            "the review goes with the status"
        );
    }
}

#[test]
fn two_decisions_on_one_order_the_first_stored_stands() {
    for first in [First::A, First::B] {
        let server = TestServer::start();
        let rep = TestDevice::login(&server, "rep2");
        // A credit order on a stale credit snapshot: it waits for approval.
        let order = crate::verdicts::local_draft_order(&rep, "LKA-006");
        rep.submit_order(order).unwrap();
        rep.sync().unwrap();
        assert_eq!(
            served_order(&server, order).status,
            OrderStatus::PendingApproval
        );
        // The supervisor's phone and laptop, both offline: approve on one, reject on the other.
        let phone = TestDevice::login(&server, "sup1");
        let laptop = TestDevice::login(&server, "sup1");
        phone.approve_order(order).unwrap();
        laptop
            .reject_order(order, "Collect the overdue first")
            .unwrap();
        let (winner, loser, status) = match first {
            First::A => (&phone, &laptop, OrderStatus::Approved),
            First::B => (&laptop, &phone, OrderStatus::Rejected),
        };
        let won = winner.sync().unwrap();
        assert!(won.refused_edits.is_empty(), "{won:?}");
        let lost = loser.sync().unwrap();
        assert!(
            lost.refused_edits
                .iter()
                .any(|r| r.field == "status" && r.code == "decided_concurrently"),
            "the later decision is refused and its author told: {lost:?}"
        );
        winner.sync().unwrap();
        assert_eq!(
            order_converged(&server, winner, loser, order).status,
            status
        );
    }
}
