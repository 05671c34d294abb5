//! Write policies on the device: who may change which part of a visit or order, in which
//! status. Refused edits fail with `DeviceError::Forbidden` before anything is committed.
//! Devices exchange documents directly (`receive_document`), no server needed; org views come
//! with master data as the server sends them.

use std::path::{Path, PathBuf};

use fieldsync_client::{
    Date, Device, DeviceError, DocId, DocKind, GeoFix, Money, OrderStatus, OrgView, PaymentMethod,
    Timestamp, VisitStatus, VisitStep,
};
use fieldsync_shared::master::{
    Channel, CreditSnapshot, Grade, MasterDataPage, Product, Role, Store, UserProfile,
};
use fieldsync_shared::visit::ReviewDecision;
use fieldsync_shared::{PersonCode, Position, Sku, StoreCode, StoreId, TenantId, UserId};
use tempfile::TempDir;

const LAT: f64 = 31.2304;
const LON: f64 = 121.4737;

fn store_id() -> StoreId {
    StoreId::parse("6f1c2a52-6a0e-4a57-9d1b-3c1f0f6f0001").unwrap()
}

fn today() -> Date {
    Timestamp::now().utc_date()
}

/// Master data with a stale credit snapshot (credit orders go to approval) and `org`.
fn master(org: Option<OrgView>) -> MasterDataPage {
    MasterDataPage {
        version: 1,
        stores: vec![Store {
            id: store_id(),
            code: StoreCode::parse("NKA-001").unwrap(),
            name: "Hypermarket Pudong".into(),
            channel: Channel::Nka,
            grade: Grade::A,
            address: "1 Century Ave".into(),
            location: Position::new(LAT, LON).unwrap(),
            geofence_radius_m: 150,
            delivery_lead_days: 2,
            monthly_potential: None,
            chain: None,
        }],
        products: vec![Product {
            sku: Sku::parse("COLA-330").unwrap(),
            name: "Cola 330 ml".into(),
            case_pack: 24,
            sold_by_case: true,
            shelf_life_days: 270,
            list_price: Money(350),
            floor_price: Money(300),
        }],
        credit: vec![CreditSnapshot {
            store_id: store_id(),
            credit_limit: Money(1_000_000),
            receivables: Money(0),
            overdue: Money(0),
            as_of: today().add_days(-30),
        }],
        generated_at: Timestamp::now(),
        org,
        stores_complete: false,
        approval_tiers: None,
        expense_budget: None,
        assortment: None,
        promotions: None,
        success_pictures: None,
    }
}

fn person(username: &str, code: &str, role: Role) -> UserProfile {
    UserProfile {
        id: UserId::new_random(),
        tenant_id: TenantId::parse("6f1c2a52-6a0e-4a57-9d1b-3c1f0f6f00aa").unwrap(),
        username: username.into(),
        display_name: username.to_uppercase(),
        role,
        code: PersonCode::parse(code).unwrap(),
    }
}

/// One person's phone, with the org view the server would send them.
struct Phone {
    _dir: TempDir,
    device: Device,
    who: UserProfile,
}

impl Phone {
    fn new(who: &UserProfile, org: Option<OrgView>) -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::open(dir.path()).unwrap();
        device.import_master(&master(org)).unwrap();
        device.import_profile(who).unwrap();
        Phone {
            _dir: dir,
            device,
            who: who.clone(),
        }
    }

    /// Takes the other phone's copy of a document (what a sync round would bring).
    fn receive(&self, from: &Phone, id: DocId, kind: DocKind) {
        self.device
            .receive_document(id, kind, &from.device.document_save(id).unwrap())
            .unwrap();
    }

    fn dir(&self) -> &Path {
        self._dir.path()
    }
}

/// A rep, a merchandiser working the same store, the rep's supervisor and their manager.
struct Team {
    rep: Phone,
    merch: Phone,
    sup: Phone,
    manager: Phone,
}

fn team() -> Team {
    let rep = person("rep1", "R001", Role::Rep);
    let merch = person("merch1", "M001", Role::Merchandiser);
    let sup = person("sup1", "S001", Role::Supervisor);
    let manager = person("mgr1", "G001", Role::Manager);
    let mut rep_org = OrgView::solo(rep.id, rep.role);
    rep_org.territory_stores.insert(store_id());
    let mut merch_org = OrgView::solo(merch.id, merch.role);
    merch_org.territory_stores.insert(store_id());
    let mut sup_org = OrgView::solo(sup.id, sup.role);
    sup_org.team_members.extend([rep.id, merch.id]);
    let mut manager_org = OrgView::solo(manager.id, manager.role);
    manager_org
        .region_members
        .extend([rep.id, merch.id, sup.id]);
    Team {
        rep: Phone::new(&rep, Some(rep_org)),
        merch: Phone::new(&merch, Some(merch_org)),
        sup: Phone::new(&sup, Some(sup_org)),
        manager: Phone::new(&manager, Some(manager_org)),
    }
}

fn at_store() -> GeoFix {
    GeoFix {
        lat: LAT,
        lon: LON,
        accuracy_m: 8.0,
        mocked: false,
    }
}

fn jpeg(dir: &Path, name: &str, seed: u8) -> PathBuf {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..1024u32).map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed)));
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A visit the rep did completely and submitted.
fn submitted_visit(rep: &Phone) -> DocId {
    let d = &rep.device;
    let visit = d.start_visit(store_id(), today()).unwrap();
    d.check_in(visit, at_store(), Timestamp::now()).unwrap();
    for step in VisitStep::ALL {
        d.record_step(visit, *step, None).unwrap();
    }
    d.attach_photo(
        visit,
        &jpeg(rep.dir(), "shelf.jpg", 7),
        Some(VisitStep::Merchandise),
    )
    .unwrap();
    d.check_out(visit, at_store(), Timestamp::now()).unwrap();
    d.submit_visit(visit).unwrap();
    visit
}

/// The edit was refused by the policy with `code`.
#[track_caller]
fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, DeviceError>, code: &str) {
    match result {
        Err(DeviceError::Forbidden {
            code: got, message, ..
        }) => {
            assert_eq!(got, code, "{message}");
            assert!(!message.is_empty());
        }
        other => panic!("expected Forbidden {code}, got {other:?}"),
    }
}

#[test]
fn a_supervisor_approves_a_team_members_submitted_visit() {
    let t = team();
    let visit = submitted_visit(&t.rep);
    t.sup.receive(&t.rep, visit, DocKind::Visit);

    let waiting: Vec<DocId> = t
        .sup
        .device
        .visits_awaiting_review()
        .unwrap()
        .iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(waiting, vec![visit]);

    t.sup
        .device
        .approve_visit(visit, Some("tidy shelf"))
        .unwrap();
    let v = t.sup.device.visit(visit).unwrap();
    assert_eq!(v.status, VisitStatus::Approved);
    let review = v.review.expect("review");
    assert_eq!(review.by, t.sup.who.id);
    assert_eq!(review.decision, ReviewDecision::Approved);
    assert_eq!(
        review.comment.as_ref().map(|c| c.as_str()),
        Some("tidy shelf")
    );
    assert!(t.sup.device.visits_awaiting_review().unwrap().is_empty());

    // Back on the rep's phone the visit is approved and frozen: nothing is committed.
    t.rep.receive(&t.sup, visit, DocKind::Visit);
    let rep = &t.rep.device;
    assert_eq!(rep.visit(visit).unwrap().status, VisitStatus::Approved);
    let heads = rep.document_heads(visit).unwrap();
    assert_forbidden(
        rep.record_step(visit, VisitStep::Greet, Some("again")),
        "visit_frozen",
    );
    assert_forbidden(rep.append_note(visit, "one more thing"), "visit_frozen");
    assert_forbidden(
        rep.attach_photo(visit, &jpeg(t.rep.dir(), "late.jpg", 9), None),
        "visit_frozen",
    );
    assert_forbidden(
        rep.check_in(visit, at_store(), Timestamp::now()),
        "visit_frozen",
    );
    assert_forbidden(rep.submit_visit(visit), "visit_frozen");
    assert_eq!(rep.document_heads(visit).unwrap(), heads);
}

#[test]
fn a_merchandiser_cannot_review_and_a_supervisor_needs_a_comment_to_reject() {
    let t = team();
    let visit = submitted_visit(&t.rep);
    t.merch.receive(&t.rep, visit, DocKind::Visit);
    t.sup.receive(&t.rep, visit, DocKind::Visit);

    let heads = t.merch.device.document_heads(visit).unwrap();
    assert_forbidden(
        t.merch.device.approve_visit(visit, None),
        "status_transition_not_allowed",
    );
    assert_eq!(t.merch.device.document_heads(visit).unwrap(), heads);
    assert!(t.merch.device.visits_awaiting_review().unwrap().is_empty());

    let sup = &t.sup.device;
    let heads = sup.document_heads(visit).unwrap();
    assert_forbidden(sup.reject_visit(visit, ""), "comment_required");
    assert_forbidden(sup.reject_visit(visit, "   "), "comment_required");
    assert_eq!(sup.document_heads(visit).unwrap(), heads);
    assert_eq!(sup.visit(visit).unwrap().status, VisitStatus::Submitted);

    sup.reject_visit(visit, "photo of the wrong shelf").unwrap();
    let v = sup.visit(visit).unwrap();
    assert_eq!(v.status, VisitStatus::Rejected);
    assert_eq!(v.review.unwrap().decision, ReviewDecision::Rejected);

    // The rep reworks the rejected visit and submits it again.
    t.rep.receive(&t.sup, visit, DocKind::Visit);
    let rep = &t.rep.device;
    rep.attach_photo(visit, &jpeg(t.rep.dir(), "right.jpg", 11), None)
        .unwrap();
    rep.submit_visit(visit).unwrap();
    assert_eq!(rep.visit(visit).unwrap().status, VisitStatus::Submitted);
}

#[test]
fn only_the_region_manager_reopens_an_approved_visit() {
    let t = team();
    let visit = submitted_visit(&t.rep);
    t.sup.receive(&t.rep, visit, DocKind::Visit);
    t.sup.device.approve_visit(visit, None).unwrap();
    t.manager.receive(&t.sup, visit, DocKind::Visit);

    // The supervisor cannot take the approval back; the manager must say why.
    assert_forbidden(t.sup.device.reopen_visit(visit, "oops"), "visit_frozen");
    assert_forbidden(t.manager.device.reopen_visit(visit, ""), "comment_required");
    assert_forbidden(t.manager.device.approve_visit(visit, None), "visit_frozen");

    t.manager
        .device
        .reopen_visit(visit, "store manager disputes the audit")
        .unwrap();
    let v = t.manager.device.visit(visit).unwrap();
    assert_eq!(v.status, VisitStatus::Rejected);
    assert_eq!(v.review.unwrap().by, t.manager.who.id);

    // Back with the rep, the visit can be worked on again.
    t.rep.receive(&t.manager, visit, DocKind::Visit);
    t.rep.device.append_note(visit, "audit redone").unwrap();
}

#[test]
fn who_works_a_visit_and_who_does_not() {
    let t = team();
    let visit = t.rep.device.start_visit(store_id(), today()).unwrap();
    t.rep
        .device
        .check_in(visit, at_store(), Timestamp::now())
        .unwrap();
    t.merch.receive(&t.rep, visit, DocKind::Visit);
    t.sup.receive(&t.rep, visit, DocKind::Visit);

    // The merchandiser covering the store works the visit, but does not check in for the rep.
    t.merch
        .device
        .record_step(visit, VisitStep::Merchandise, None)
        .unwrap();
    t.merch.device.append_note(visit, "endcap rebuilt").unwrap();
    assert_forbidden(
        t.merch
            .device
            .check_out(visit, at_store(), Timestamp::now()),
        "not_author",
    );
    assert_forbidden(
        t.merch.device.submit_visit(visit),
        "status_transition_not_allowed",
    );

    // The supervisor reviews but does not do the work.
    assert_forbidden(
        t.sup.device.record_step(visit, VisitStep::Greet, None),
        "not_author_or_colleague",
    );
    assert_forbidden(
        t.sup.device.append_note(visit, "hi"),
        "not_author_or_colleague",
    );

    // Without an org view (server sent none) a merchandiser is alone: not a colleague.
    let stranger = Phone::new(&person("merch2", "M002", Role::Merchandiser), None);
    stranger.receive(&t.rep, visit, DocKind::Visit);
    assert_forbidden(
        stranger.device.record_step(visit, VisitStep::Greet, None),
        "not_author_or_colleague",
    );
}

#[test]
fn managers_do_not_plan_visits_or_take_orders() {
    let t = team();
    assert_forbidden(
        t.manager.device.start_visit(store_id(), today()),
        "not_allowed_to_create",
    );
    assert_forbidden(
        t.merch
            .device
            .create_order(store_id(), today().add_days(3), PaymentMethod::Cash, None),
        "not_allowed_to_create",
    );
    assert!(t.manager.device.visits().unwrap().is_empty());
    assert!(t.merch.device.orders().unwrap().is_empty());
    // A supervisor plans their own visits.
    t.sup.device.start_visit(store_id(), today()).unwrap();
}

#[test]
fn orders_waiting_for_approval_are_decided_by_the_supervisor() {
    let t = team();
    let rep = &t.rep.device;
    let order_on_credit = || {
        let (order, _) = rep
            .create_order(store_id(), today().add_days(3), PaymentMethod::Credit, None)
            .unwrap();
        rep.set_order_line(order, "COLA-330", 24, None).unwrap();
        // The credit snapshot is a month old: the order needs approval.
        rep.submit_order(order).unwrap();
        assert_eq!(
            rep.order(order).unwrap().status,
            OrderStatus::PendingApproval
        );
        order
    };
    let approved = order_on_credit();
    let rejected = order_on_credit();

    // An order line after submit is refused, nothing committed.
    let heads = rep.document_heads(approved).unwrap();
    assert_forbidden(
        rep.set_order_line(approved, "COLA-330", 48, None),
        "order_submitted",
    );
    assert_eq!(rep.document_heads(approved).unwrap(), heads);

    for id in [approved, rejected] {
        t.sup.receive(&t.rep, id, DocKind::Order);
        t.merch.receive(&t.rep, id, DocKind::Order);
    }
    let mut waiting: Vec<DocId> = t
        .sup
        .device
        .orders_awaiting_approval()
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    waiting.sort();
    let mut expected = vec![approved, rejected];
    expected.sort();
    assert_eq!(waiting, expected);

    assert_forbidden(
        t.merch.device.approve_order(approved),
        "status_transition_not_allowed",
    );
    let sup = &t.sup.device;
    sup.approve_order(approved).unwrap();
    assert_eq!(sup.order(approved).unwrap().status, OrderStatus::Approved);
    sup.reject_order(rejected, "price below floor").unwrap();
    let o = sup.order(rejected).unwrap();
    assert_eq!(o.status, OrderStatus::Rejected);
    assert!(
        o.notes
            .as_str()
            .ends_with("Rejected by SUP1: price below floor"),
        "{}",
        o.notes.as_str()
    );
    assert!(sup.orders_awaiting_approval().unwrap().is_empty());
    // Decided: the supervisor cannot decide again.
    assert_forbidden(
        sup.reject_order(approved, "changed my mind"),
        "status_transition_not_allowed",
    );

    // The rep sees the decision and the reason.
    t.rep.receive(&t.sup, rejected, DocKind::Order);
    assert_eq!(rep.order(rejected).unwrap().status, OrderStatus::Rejected);
}

#[test]
fn the_org_view_comes_from_master_data_or_is_the_user_alone() {
    let t = team();
    let org = t.sup.device.org_view().unwrap();
    assert_eq!(org.user_id, t.sup.who.id);
    assert!(org.team_members.contains(&t.rep.who.id));

    // A page without an org view (an older server) leaves the user alone.
    t.sup.device.import_master(&master(None)).unwrap();
    assert_eq!(
        t.sup.device.org_view().unwrap(),
        OrgView::solo(t.sup.who.id, Role::Supervisor)
    );

    // An org view of someone else (left over from another user) is not used.
    let mut other = OrgView::solo(UserId::new_random(), Role::Supervisor);
    other.team_members.insert(t.rep.who.id);
    t.sup.device.import_master(&master(Some(other))).unwrap();
    assert_eq!(
        t.sup.device.org_view().unwrap(),
        OrgView::solo(t.sup.who.id, Role::Supervisor)
    );
    let visit = submitted_visit(&t.rep);
    t.sup.receive(&t.rep, visit, DocKind::Visit);
    assert!(t.sup.device.visits_awaiting_review().unwrap().is_empty());
    assert_forbidden(
        t.sup.device.approve_visit(visit, None),
        "status_transition_not_allowed",
    );
}
