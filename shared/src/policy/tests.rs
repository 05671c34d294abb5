//! The write policies against the table of docs/write-policies.md, and the properties
//! `compensate` promises over every role, relation, status and edit.

use autosurgeon::Text;

use super::field::FieldMembers;
use super::order::ORDER_FIELDS;
use super::visit::VISIT_FIELDS;
use super::*;
use crate::document::AnyDocument;
use crate::order::PaymentMethod;
use crate::order::{Order, OrderStatus};
use crate::org::{Editor, Relation, Role};
use crate::testkit;
use crate::values::UserId;
use crate::values::{ShortText, StoreId, Timestamp};
use crate::visit::{Review, VisitStep};
use crate::visit::{ReviewDecision, Visit, VisitStatus};
use OrderStatus as O;
use Relation::*;
use Role::*;
use VisitStatus as V;

pub(super) const ROLES: [Role; 5] = [Merchandiser, Rep, Supervisor, Manager, Admin];
pub(super) const RELATIONS: [Relation; 5] =
    [Author, Colleague, TeamSupervisor, RegionManager, Other];

pub(super) fn editor(role: Role, relation: Relation, owner: UserId) -> Editor {
    Editor {
        user_id: if relation == Author {
            owner
        } else {
            UserId::new_random()
        },
        role,
        relation,
    }
}

pub(super) fn codes_of(refusals: &[Refusal]) -> Vec<&str> {
    refusals.iter().map(|r| r.code.as_str()).collect()
}

// -----------------------------------------------------------------------------------------
// Visits
// -----------------------------------------------------------------------------------------

/// One edit a batch may make to a visit.
#[derive(Debug, Clone, Copy)]
enum VEdit {
    Identity,
    CheckIn,
    CheckOut,
    Steps,
    Audit,
    Photos,
    Notes,
    /// A review by the editor, status unchanged.
    ReviewOnly,
    /// Status only.
    Move(VisitStatus),
    /// Status plus a review by the editor whose decision matches; "" = no comment.
    Decide(VisitStatus, &'static str),
    /// Status plus a review signed by someone else.
    DecideForged(VisitStatus),
    /// Status approved plus a review saying rejected.
    DecideMismatch,
}

fn review(by: UserId, decision: ReviewDecision, comment: &str) -> Review {
    Review {
        decision,
        comment: (!comment.is_empty()).then(|| ShortText::parse(comment).unwrap()),
        by,
        at: Timestamp(9_000),
    }
}

fn decision_for(status: VisitStatus) -> ReviewDecision {
    if status == V::Approved {
        ReviewDecision::Approved
    } else {
        ReviewDecision::Rejected
    }
}

fn visit_in(status: VisitStatus) -> Visit {
    let mut v = testkit::visit();
    v.status = status;
    v.notes = Text::with_value("first line");
    if matches!(status, V::Approved | V::Rejected) {
        v.review = Some(review(
            UserId::new_random(),
            decision_for(status),
            "earlier",
        ));
    }
    v
}

fn apply_visit(edit: VEdit, ed: &Editor, v: &mut Visit) {
    let at = testkit::pos(testkit::STORE_LAT, testkit::STORE_LON);
    match edit {
        VEdit::Identity => v.store_id = StoreId::new_random(),
        VEdit::CheckIn => v.check_in = Some(testkit::stamp(5_000, at)),
        VEdit::CheckOut => v.check_out = Some(testkit::stamp(6_000, at)),
        VEdit::Steps => {
            v.steps.insert(
                VisitStep::Greet.as_str().into(),
                testkit::step(VisitStep::Greet, ed.user_id, None),
            );
        }
        VEdit::Audit => testkit::add_line(v, testkit::audit_line("COLA-330", "A1", 3, ed.user_id)),
        VEdit::Photos => testkit::add_photo(v, testkit::photo(b"new shelf", 7_000, ed.user_id)),
        VEdit::Notes => v.notes = Text::with_value(format!("{}\nmore", v.notes.as_str())),
        VEdit::ReviewOnly => v.review = Some(review(ed.user_id, ReviewDecision::Approved, "ok")),
        VEdit::Move(to) => v.status = to,
        VEdit::Decide(to, comment) => {
            v.status = to;
            v.review = Some(review(ed.user_id, decision_for(to), comment));
        }
        VEdit::DecideForged(to) => {
            v.status = to;
            v.review = Some(review(UserId::new_random(), decision_for(to), "forged"));
        }
        VEdit::DecideMismatch => {
            v.status = V::Approved;
            v.review = Some(review(
                ed.user_id,
                ReviewDecision::Rejected,
                "contradiction",
            ));
        }
    }
}

pub(super) const NOT_ALLOWED: &str = codes::STATUS_TRANSITION_NOT_ALLOWED;

/// (role, relation, status before, edit, refusal codes in field order; empty = allowed).
/// One or more rows for every row of the table in docs/write-policies.md.
#[rustfmt::skip]
const VISIT_MATRIX: &[(Role, Relation, VisitStatus, VEdit, &[&str])] = &[
    // Identity is fixed, whoever asks and whatever the status.
    (Rep, Author, V::Planned, VEdit::Identity, &["identity_fixed"]),
    (Supervisor, TeamSupervisor, V::Submitted, VEdit::Identity, &["identity_fixed"]),
    (Rep, Author, V::Approved, VEdit::Identity, &["identity_fixed"]),
    // Author moves, with their transitive closure.
    (Rep, Author, V::Planned, VEdit::Move(V::InProgress), &[]),
    (Rep, Author, V::Planned, VEdit::Move(V::CheckedOut), &[]),
    (Rep, Author, V::Planned, VEdit::Move(V::Submitted), &[]),
    (Merchandiser, Author, V::InProgress, VEdit::Move(V::CheckedOut), &[]),
    (Merchandiser, Author, V::CheckedOut, VEdit::Move(V::Submitted), &[]),
    (Supervisor, Author, V::InProgress, VEdit::Move(V::Submitted), &[]),
    (Rep, Author, V::Rejected, VEdit::Move(V::InProgress), &[]),
    (Rep, Author, V::Rejected, VEdit::Move(V::Submitted), &[]),
    (Rep, Author, V::Rejected, VEdit::Move(V::CheckedOut), &[]),
    (Rep, Author, V::Planned, VEdit::Move(V::Approved), &[NOT_ALLOWED]),
    (Rep, Author, V::Planned, VEdit::Move(V::Rejected), &[NOT_ALLOWED]),
    (Rep, Author, V::InProgress, VEdit::Move(V::Planned), &[NOT_ALLOWED]),
    (Rep, Author, V::CheckedOut, VEdit::Move(V::InProgress), &[NOT_ALLOWED]),
    (Rep, Author, V::Submitted, VEdit::Move(V::InProgress), &[NOT_ALLOWED]),
    (Rep, Author, V::Submitted, VEdit::Move(V::Approved), &[NOT_ALLOWED]),
    (Supervisor, Author, V::Submitted, VEdit::Decide(V::Approved, ""), &[NOT_ALLOWED, "not_reviewer"]),
    (Rep, Author, V::Approved, VEdit::Move(V::InProgress), &["visit_frozen"]),
    // Colleagues and others move nothing.
    (Rep, Colleague, V::Planned, VEdit::Move(V::InProgress), &[NOT_ALLOWED]),
    (Merchandiser, Colleague, V::CheckedOut, VEdit::Move(V::Submitted), &[NOT_ALLOWED]),
    (Rep, Other, V::InProgress, VEdit::Move(V::CheckedOut), &[NOT_ALLOWED]),
    (Manager, Other, V::Submitted, VEdit::Decide(V::Approved, ""), &[NOT_ALLOWED, "not_reviewer"]),
    (Supervisor, Other, V::Submitted, VEdit::Decide(V::Approved, "ok"), &[NOT_ALLOWED, "not_reviewer"]),
    // The team supervisor reviews submitted visits; the review goes with the move.
    (Supervisor, TeamSupervisor, V::Submitted, VEdit::Decide(V::Approved, ""), &[]),
    (Supervisor, TeamSupervisor, V::Submitted, VEdit::Decide(V::Approved, "well done"), &[]),
    (Supervisor, TeamSupervisor, V::Submitted, VEdit::Decide(V::Rejected, "redo the audit"), &[]),
    (Supervisor, TeamSupervisor, V::Submitted, VEdit::Decide(V::Rejected, ""), &["comment_required", "comment_required"]),
    (Supervisor, TeamSupervisor, V::Submitted, VEdit::Move(V::Approved), &["review_required"]),
    (Supervisor, TeamSupervisor, V::Submitted, VEdit::DecideForged(V::Approved), &["review_invalid", "review_invalid"]),
    (Supervisor, TeamSupervisor, V::Submitted, VEdit::DecideMismatch, &["review_invalid", "review_invalid"]),
    (Supervisor, TeamSupervisor, V::CheckedOut, VEdit::Move(V::Submitted), &[NOT_ALLOWED]),
    (Supervisor, TeamSupervisor, V::CheckedOut, VEdit::Decide(V::Approved, ""), &[NOT_ALLOWED, "not_reviewer"]),
    (Supervisor, TeamSupervisor, V::Rejected, VEdit::Decide(V::Approved, ""), &[NOT_ALLOWED, "not_reviewer"]),
    (Supervisor, TeamSupervisor, V::Approved, VEdit::Decide(V::Rejected, "reopen"), &["visit_frozen", "visit_frozen"]),
    // The region manager only reopens approved visits.
    (Manager, RegionManager, V::Approved, VEdit::Decide(V::Rejected, "wrong store"), &[]),
    (Manager, RegionManager, V::Approved, VEdit::Decide(V::Rejected, ""), &["comment_required", "comment_required"]),
    (Manager, RegionManager, V::Approved, VEdit::Move(V::Rejected), &["review_required"]),
    (Manager, RegionManager, V::Approved, VEdit::DecideForged(V::Rejected), &["review_invalid", "review_invalid"]),
    (Manager, RegionManager, V::Approved, VEdit::Move(V::InProgress), &["visit_frozen"]),
    (Manager, RegionManager, V::Submitted, VEdit::Decide(V::Approved, ""), &[NOT_ALLOWED, "not_reviewer"]),
    (Manager, RegionManager, V::Submitted, VEdit::Decide(V::Rejected, "no"), &[NOT_ALLOWED, "not_reviewer"]),
    // Check-in and check-out: the author, while editable.
    (Rep, Author, V::Planned, VEdit::CheckIn, &[]),
    (Rep, Author, V::Rejected, VEdit::CheckIn, &[]),
    (Merchandiser, Author, V::InProgress, VEdit::CheckOut, &[]),
    (Rep, Author, V::CheckedOut, VEdit::CheckOut, &[]),
    (Rep, Colleague, V::Planned, VEdit::CheckIn, &["not_author"]),
    (Merchandiser, Colleague, V::InProgress, VEdit::CheckOut, &["not_author"]),
    (Supervisor, TeamSupervisor, V::InProgress, VEdit::CheckIn, &["not_author"]),
    (Manager, Other, V::InProgress, VEdit::CheckOut, &["not_author"]),
    (Rep, Author, V::Submitted, VEdit::CheckIn, &["visit_submitted"]),
    (Rep, Author, V::Submitted, VEdit::CheckOut, &["visit_submitted"]),
    (Rep, Author, V::Approved, VEdit::CheckOut, &["visit_frozen"]),
    (Rep, Colleague, V::Approved, VEdit::CheckIn, &["visit_frozen"]),
    // Steps, audit, photos: author or colleague, while editable.
    (Rep, Author, V::InProgress, VEdit::Steps, &[]),
    (Supervisor, Author, V::InProgress, VEdit::Steps, &[]),
    (Merchandiser, Author, V::Planned, VEdit::Photos, &[]),
    (Merchandiser, Colleague, V::InProgress, VEdit::Audit, &[]),
    (Rep, Colleague, V::Rejected, VEdit::Photos, &[]),
    (Rep, Colleague, V::CheckedOut, VEdit::Steps, &[]),
    (Supervisor, TeamSupervisor, V::InProgress, VEdit::Steps, &["not_author_or_colleague"]),
    (Manager, RegionManager, V::InProgress, VEdit::Audit, &["not_author_or_colleague"]),
    (Rep, Other, V::InProgress, VEdit::Photos, &["not_author_or_colleague"]),
    (Admin, Other, V::Planned, VEdit::Audit, &["not_author_or_colleague"]),
    (Rep, Author, V::Submitted, VEdit::Steps, &["visit_submitted"]),
    (Merchandiser, Colleague, V::Submitted, VEdit::Audit, &["visit_submitted"]),
    (Rep, Author, V::Submitted, VEdit::Photos, &["visit_submitted"]),
    (Rep, Author, V::Approved, VEdit::Photos, &["visit_frozen"]),
    (Merchandiser, Colleague, V::Approved, VEdit::Steps, &["visit_frozen"]),
    (Rep, Author, V::Approved, VEdit::Audit, &["visit_frozen"]),
    // Notes: also while submitted (a word for the reviewer), frozen once approved.
    (Rep, Author, V::Planned, VEdit::Notes, &[]),
    (Rep, Author, V::Rejected, VEdit::Notes, &[]),
    (Rep, Author, V::Submitted, VEdit::Notes, &[]),
    (Merchandiser, Colleague, V::Submitted, VEdit::Notes, &[]),
    (Rep, Author, V::Approved, VEdit::Notes, &["visit_frozen"]),
    (Merchandiser, Colleague, V::Approved, VEdit::Notes, &["visit_frozen"]),
    (Supervisor, TeamSupervisor, V::Submitted, VEdit::Notes, &["not_author_or_colleague"]),
    (Rep, Other, V::InProgress, VEdit::Notes, &["not_author_or_colleague"]),
    // Review: only with a reviewer's move.
    (Supervisor, TeamSupervisor, V::Submitted, VEdit::ReviewOnly, &["not_reviewer"]),
    (Rep, Author, V::CheckedOut, VEdit::ReviewOnly, &["not_reviewer"]),
    (Merchandiser, Colleague, V::InProgress, VEdit::ReviewOnly, &["not_reviewer"]),
    (Supervisor, TeamSupervisor, V::Approved, VEdit::ReviewOnly, &["visit_frozen"]),
    (Manager, RegionManager, V::Approved, VEdit::ReviewOnly, &["visit_frozen"]),
];

#[test]
fn visit_matrix() {
    for &(role, relation, from, edit, expected) in VISIT_MATRIX {
        let before = visit_in(from);
        let ed = editor(role, relation, before.person_id);
        let mut after = before.clone();
        apply_visit(edit, &ed, &mut after);
        let refusals = check_visit(&ed, Some(&before), &after);
        assert_eq!(
            codes_of(&refusals),
            expected.to_vec(),
            "{role:?} {relation:?} on a {from} visit: {edit:?}: {refusals:#?}"
        );
    }
}

#[test]
fn visit_creation_matrix() {
    #[rustfmt::skip]
    let cases: &[(Role, Relation, VisitStatus, bool, &[&str])] = &[
        (Rep, Author, V::Planned, false, &[]),
        (Merchandiser, Author, V::Planned, false, &[]),
        (Supervisor, Author, V::InProgress, false, &[]),
        (Rep, Author, V::Submitted, false, &[]),
        (Manager, Author, V::Planned, false, &["not_allowed_to_create"]),
        (Admin, Author, V::Planned, false, &["not_allowed_to_create"]),
        (Rep, Colleague, V::Planned, false, &["not_allowed_to_create"]),
        (Supervisor, TeamSupervisor, V::Planned, false, &["not_allowed_to_create"]),
        (Manager, RegionManager, V::Planned, false, &["not_allowed_to_create"]),
        (Rep, Other, V::Planned, false, &["not_allowed_to_create"]),
        (Rep, Author, V::Approved, false, &[NOT_ALLOWED]),
        (Rep, Author, V::Rejected, false, &[NOT_ALLOWED]),
        (Rep, Author, V::Planned, true, &["not_reviewer"]),
    ];
    for &(role, relation, status, with_review, expected) in cases {
        let mut visit = visit_in(V::Planned);
        visit.status = status;
        visit.review = None;
        let ed = editor(role, relation, visit.person_id);
        if with_review {
            visit.review = Some(review(ed.user_id, ReviewDecision::Approved, ""));
        }
        let refusals = check_visit(&ed, None, &visit);
        assert_eq!(
            codes_of(&refusals),
            expected.to_vec(),
            "{role:?} {relation:?} creates a {status} visit"
        );
        assert!(refusals
            .iter()
            .filter(|r| r.code == "not_allowed_to_create")
            .all(|r| r.field == Field::Identity));
    }
}

#[test]
fn status_refusal_names_the_move_and_the_role() {
    let before = visit_in(V::Submitted);
    let ed = editor(Merchandiser, Colleague, before.person_id);
    let mut after = before.clone();
    after.status = V::Approved;
    let refusals = check_visit(&ed, Some(&before), &after);
    let message = &refusals[0].message;
    for word in ["merchandiser", "submitted", "approved"] {
        assert!(message.contains(word), "{message}");
    }
}

// -----------------------------------------------------------------------------------------
// Orders
// -----------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum OEdit {
    Identity,
    Lines,
    Terms,
    /// Appends to the notes.
    Notes,
    SubmittedAt,
    Move(OrderStatus),
    /// Status plus `submitted_at`.
    Submit(OrderStatus),
    /// Status plus a line appended to the notes.
    MoveWithNote(OrderStatus),
    /// Status plus notes rewritten (not an append).
    MoveRewritingNotes(OrderStatus),
    /// The owner's delivery record, on the day the order asked for.
    Deliver,
}

fn order_in(status: OrderStatus) -> Order {
    let mut o = testkit::order();
    o.status = status;
    o.notes = Text::with_value("call before delivery");
    o.lines.insert(
        "COLA-330".into(),
        testkit::order_line("COLA-330", 24, "3.50"),
    );
    if status != O::Draft {
        o.submitted_at = Some(Timestamp(2_000));
    }
    o
}

fn apply_order(edit: OEdit, o: &mut Order) {
    let append = |o: &mut Order| {
        o.notes = Text::with_value(format!("{}\nrejected: price too low", o.notes.as_str()))
    };
    match edit {
        OEdit::Identity => o.store_id = StoreId::new_random(),
        OEdit::Lines => {
            o.lines.insert(
                "FANTA-330".into(),
                testkit::order_line("FANTA-330", 48, "3.20"),
            );
        }
        OEdit::Terms => o.payment = PaymentMethod::Cash,
        OEdit::Notes => append(o),
        OEdit::SubmittedAt => o.submitted_at = Some(Timestamp(8_000)),
        OEdit::Move(to) => o.status = to,
        OEdit::Submit(to) => {
            o.status = to;
            o.submitted_at = Some(Timestamp(8_000));
        }
        OEdit::MoveWithNote(to) => {
            o.status = to;
            append(o);
        }
        OEdit::MoveRewritingNotes(to) => {
            o.status = to;
            o.notes = Text::with_value("something else entirely");
        }
        OEdit::Deliver => o.delivery = Some(delivery(o.person_id, "2026-11-25")),
    }
}

/// A delivery on `day` recorded by `by` on 2026-11-26 (UTC).
fn delivery(by: UserId, day: &str) -> crate::order::Delivery {
    crate::order::Delivery {
        delivered_on: testkit::date(day),
        recorded_by: by,
        recorded_at: Timestamp::parse("2026-11-26T10:00:00Z").unwrap(),
    }
}

/// Who records an order's delivery, on which orders, which days: the order (dated
/// 2026-11-22) recorded on 2026-11-26.
#[test]
fn order_delivery_matrix() {
    use codes::*;
    #[rustfmt::skip]
    let cases: &[(Role, Relation, OrderStatus, &str, &str)] = &[
        // The author (a rep or a supervisor taking their own orders), their supervisor and
        // manager, on a sale, from the order date to the day it is recorded.
        (Rep, Author, O::Submitted, "2026-11-25", ""),
        (Rep, Author, O::Approved, "2026-11-22", ""),
        (Rep, Author, O::Submitted, "2026-11-26", ""),
        (Supervisor, Author, O::Submitted, "2026-11-24", ""),
        (Supervisor, TeamSupervisor, O::Submitted, "2026-11-24", ""),
        (Manager, RegionManager, O::Approved, "2026-11-24", ""),
        // Nobody else.
        (Rep, Colleague, O::Submitted, "2026-11-24", NOT_AUTHOR_OR_SUPERVISOR),
        (Merchandiser, Colleague, O::Submitted, "2026-11-24", NOT_AUTHOR_OR_SUPERVISOR),
        (Supervisor, Other, O::Submitted, "2026-11-24", NOT_AUTHOR_OR_SUPERVISOR),
        (Admin, Other, O::Approved, "2026-11-24", NOT_AUTHOR_OR_SUPERVISOR),
        // Only a sale is delivered.
        (Rep, Author, O::Draft, "2026-11-24", ORDER_NOT_SOLD),
        (Rep, Author, O::PendingApproval, "2026-11-24", ORDER_NOT_SOLD),
        (Rep, Author, O::Rejected, "2026-11-24", ORDER_NOT_SOLD),
        (Supervisor, TeamSupervisor, O::Cancelled, "2026-11-24", ORDER_NOT_SOLD),
        // Not before the order, not after the day it is recorded.
        (Rep, Author, O::Submitted, "2026-11-21", DELIVERY_DATE_INVALID),
        (Rep, Author, O::Submitted, "2026-11-27", DELIVERY_DATE_INVALID),
        (Manager, RegionManager, O::Approved, "2026-12-01", DELIVERY_DATE_INVALID),
    ];
    for &(role, relation, status, day, expected) in cases {
        let before = order_in(status);
        let ed = editor(role, relation, before.person_id);
        let mut after = before.clone();
        after.delivery = Some(delivery(ed.user_id, day));
        let refusals = check_order(&ed, Some(&before), &after);
        let expected: Vec<&str> = [expected].into_iter().filter(|c| !c.is_empty()).collect();
        assert_eq!(
            codes_of(&refusals),
            expected,
            "{role:?} {relation:?} records a delivery on {day} of a {status} order: {refusals:#?}"
        );
        for r in &refusals {
            assert_eq!(r.field, Field::Delivery);
            assert!(!r.message.is_empty());
        }
    }
}

#[test]
fn order_delivery_is_recorded_once_in_the_recorders_name() {
    let before = order_in(O::Submitted);
    let rep = editor(Rep, Author, before.person_id);
    let sup = editor(Supervisor, TeamSupervisor, before.person_id);
    // In someone else's name: refused, whoever records it.
    let mut after = before.clone();
    after.delivery = Some(delivery(sup.user_id, "2026-11-25"));
    assert_eq!(
        codes_of(&check_order(&rep, Some(&before), &after)),
        vec![codes::DELIVERY_RECORDER_INVALID]
    );
    // Once recorded, neither changed nor removed, not even by the supervisor.
    let mut delivered = before.clone();
    delivered.delivery = Some(delivery(rep.user_id, "2026-11-25"));
    let mut changed = delivered.clone();
    changed.delivery = Some(delivery(sup.user_id, "2026-11-24"));
    let mut removed = delivered.clone();
    removed.delivery = None;
    for (ed, after) in [(&rep, &changed), (&sup, &changed), (&rep, &removed)] {
        let refusals = check_order(ed, Some(&delivered), after);
        assert_eq!(codes_of(&refusals), vec![codes::DELIVERY_RECORDED]);
        assert!(refusals[0].message.contains("2026-11-25"), "{refusals:?}");
    }
    // And compensated back to the recorded delivery.
    let refusals = check_order(&sup, Some(&delivered), &changed);
    let back = compensate(
        &AnyDocument::Order(delivered.clone()),
        &AnyDocument::Order(changed),
        &refusals,
    );
    assert_eq!(back, AnyDocument::Order(delivered.clone()));
    // A new order may come with its delivery (taken, submitted and delivered before the phone
    // synced), judged the same way.
    assert_eq!(
        codes_of(&check_order(&rep, None, &delivered)),
        Vec::<&str>::new()
    );
    let mut draft = delivered.clone();
    draft.status = O::Draft;
    assert_eq!(
        codes_of(&check_order(&rep, None, &draft)),
        vec![codes::ORDER_NOT_SOLD]
    );
    let mut future = delivered.clone();
    future.delivery = Some(delivery(rep.user_id, "2026-11-27"));
    assert_eq!(
        codes_of(&check_order(&rep, None, &future)),
        vec![codes::DELIVERY_DATE_INVALID]
    );
}

#[rustfmt::skip]
const ORDER_MATRIX: &[(Role, Relation, OrderStatus, OEdit, &[&str])] = &[
    (Rep, Author, O::Draft, OEdit::Identity, &["identity_fixed"]),
    (Supervisor, TeamSupervisor, O::PendingApproval, OEdit::Identity, &["identity_fixed"]),
    // Lines and terms: the author, while draft.
    (Rep, Author, O::Draft, OEdit::Lines, &[]),
    (Supervisor, Author, O::Draft, OEdit::Lines, &[]),
    (Rep, Author, O::Draft, OEdit::Terms, &[]),
    (Rep, Author, O::Submitted, OEdit::Lines, &["order_submitted"]),
    (Rep, Author, O::PendingApproval, OEdit::Lines, &["order_submitted"]),
    (Rep, Author, O::Approved, OEdit::Terms, &["order_submitted"]),
    (Rep, Author, O::Cancelled, OEdit::Lines, &["order_submitted"]),
    (Rep, Author, O::Submitted, OEdit::Terms, &["order_submitted"]),
    (Supervisor, TeamSupervisor, O::Draft, OEdit::Lines, &["not_author"]),
    (Rep, Colleague, O::Draft, OEdit::Lines, &["not_author"]),
    (Manager, RegionManager, O::PendingApproval, OEdit::Terms, &["not_author"]),
    // Notes: the author, until decided or cancelled.
    (Rep, Author, O::Draft, OEdit::Notes, &[]),
    (Rep, Author, O::Submitted, OEdit::Notes, &[]),
    (Rep, Author, O::PendingApproval, OEdit::Notes, &[]),
    (Rep, Author, O::Approved, OEdit::Notes, &["order_closed"]),
    (Rep, Author, O::Rejected, OEdit::Notes, &["order_closed"]),
    (Rep, Author, O::Cancelled, OEdit::Notes, &["order_closed"]),
    (Supervisor, TeamSupervisor, O::Submitted, OEdit::Notes, &["not_author"]),
    (Supervisor, TeamSupervisor, O::PendingApproval, OEdit::Notes, &["not_author"]),
    (Rep, Other, O::Draft, OEdit::Notes, &["not_author"]),
    // submitted_at: only with the author's move out of draft into review.
    (Rep, Author, O::Draft, OEdit::Submit(O::Submitted), &[]),
    (Rep, Author, O::Draft, OEdit::Submit(O::PendingApproval), &[]),
    (Rep, Author, O::Draft, OEdit::SubmittedAt, &["submitted_at_fixed"]),
    (Rep, Author, O::Submitted, OEdit::SubmittedAt, &["submitted_at_fixed"]),
    (Rep, Author, O::Draft, OEdit::Submit(O::Cancelled), &["submitted_at_fixed"]),
    (Supervisor, TeamSupervisor, O::PendingApproval, OEdit::SubmittedAt, &["not_author"]),
    // Author moves.
    (Rep, Author, O::Draft, OEdit::Move(O::Submitted), &[]),
    (Rep, Author, O::Draft, OEdit::Move(O::PendingApproval), &[]),
    (Rep, Author, O::Draft, OEdit::Move(O::Cancelled), &[]),
    (Rep, Author, O::Submitted, OEdit::Move(O::Cancelled), &[]),
    (Supervisor, Author, O::PendingApproval, OEdit::Move(O::Cancelled), &[]),
    (Rep, Author, O::Draft, OEdit::Move(O::Approved), &[NOT_ALLOWED]),
    (Rep, Author, O::Submitted, OEdit::Move(O::Draft), &[NOT_ALLOWED]),
    (Rep, Author, O::PendingApproval, OEdit::Move(O::Approved), &[NOT_ALLOWED]),
    (Rep, Author, O::Cancelled, OEdit::Move(O::Draft), &[NOT_ALLOWED]),
    (Rep, Author, O::Rejected, OEdit::Move(O::Submitted), &[NOT_ALLOWED]),
    // Approvers decide pending orders, and may append their reason to the notes.
    (Supervisor, TeamSupervisor, O::PendingApproval, OEdit::Move(O::Approved), &[]),
    (Supervisor, TeamSupervisor, O::PendingApproval, OEdit::Move(O::Rejected), &[]),
    (Manager, RegionManager, O::PendingApproval, OEdit::Move(O::Approved), &[]),
    (Manager, RegionManager, O::PendingApproval, OEdit::Move(O::Rejected), &[]),
    (Supervisor, TeamSupervisor, O::PendingApproval, OEdit::MoveWithNote(O::Rejected), &[]),
    (Supervisor, TeamSupervisor, O::PendingApproval, OEdit::MoveRewritingNotes(O::Rejected), &["not_author"]),
    (Supervisor, TeamSupervisor, O::Submitted, OEdit::MoveWithNote(O::Approved), &[NOT_ALLOWED, "not_author"]),
    (Supervisor, TeamSupervisor, O::Submitted, OEdit::Move(O::Approved), &[NOT_ALLOWED]),
    (Supervisor, TeamSupervisor, O::PendingApproval, OEdit::Move(O::Cancelled), &[NOT_ALLOWED]),
    (Manager, RegionManager, O::Approved, OEdit::Move(O::Rejected), &[NOT_ALLOWED]),
    (Rep, Colleague, O::PendingApproval, OEdit::Move(O::Approved), &[NOT_ALLOWED]),
    (Supervisor, Other, O::PendingApproval, OEdit::Move(O::Approved), &[NOT_ALLOWED]),
];

#[test]
fn order_matrix() {
    for &(role, relation, from, edit, expected) in ORDER_MATRIX {
        let before = order_in(from);
        let ed = editor(role, relation, before.person_id);
        let mut after = before.clone();
        apply_order(edit, &mut after);
        let refusals = check_order(&ed, Some(&before), &after);
        assert_eq!(
            codes_of(&refusals),
            expected.to_vec(),
            "{role:?} {relation:?} on a {from} order: {edit:?}: {refusals:#?}"
        );
    }
}

#[test]
fn order_creation_matrix() {
    #[rustfmt::skip]
    let cases: &[(Role, Relation, OrderStatus, &[&str])] = &[
        (Rep, Author, O::Draft, &[]),
        (Rep, Author, O::Submitted, &[]),
        (Supervisor, Author, O::PendingApproval, &[]),
        (Merchandiser, Author, O::Draft, &["not_allowed_to_create"]),
        (Manager, Author, O::Draft, &["not_allowed_to_create"]),
        (Admin, Author, O::Draft, &["not_allowed_to_create"]),
        (Rep, Colleague, O::Draft, &["not_allowed_to_create"]),
        (Supervisor, TeamSupervisor, O::Draft, &["not_allowed_to_create"]),
        (Rep, Author, O::Approved, &[NOT_ALLOWED]),
        (Rep, Author, O::Rejected, &[NOT_ALLOWED]),
        (Rep, Author, O::Cancelled, &[NOT_ALLOWED]),
    ];
    for &(role, relation, status, expected) in cases {
        let order = order_in(status);
        let ed = editor(role, relation, order.person_id);
        assert_eq!(
            codes_of(&check_order(&ed, None, &order)),
            expected.to_vec(),
            "{role:?} {relation:?} creates a {status} order"
        );
    }
}

// -----------------------------------------------------------------------------------------
// Properties over every role x relation x status x edit
// -----------------------------------------------------------------------------------------

fn visit_edits() -> Vec<Vec<VEdit>> {
    let fields = [
        VEdit::Identity,
        VEdit::CheckIn,
        VEdit::CheckOut,
        VEdit::Steps,
        VEdit::Audit,
        VEdit::Photos,
        VEdit::Notes,
        VEdit::ReviewOnly,
    ];
    let mut moves = Vec::new();
    for &to in V::ALL {
        moves.extend([
            VEdit::Move(to),
            VEdit::Decide(to, ""),
            VEdit::Decide(to, "because"),
            VEdit::DecideForged(to),
        ]);
    }
    moves.push(VEdit::DecideMismatch);
    let mut out: Vec<Vec<VEdit>> = Vec::new();
    out.push(Vec::new());
    out.extend(fields.iter().chain(&moves).map(|e| vec![*e]));
    // A batch doing a move together with every field edit, and one with only field edits.
    for m in &moves {
        out.push(fields[1..].iter().copied().chain([*m]).collect());
    }
    out.push(fields.to_vec());
    out
}

fn order_edits() -> Vec<Vec<OEdit>> {
    let fields = [
        OEdit::Identity,
        OEdit::Lines,
        OEdit::Terms,
        OEdit::Notes,
        OEdit::SubmittedAt,
        OEdit::Deliver,
    ];
    let mut moves = Vec::new();
    for &to in O::ALL {
        moves.extend([
            OEdit::Move(to),
            OEdit::Submit(to),
            OEdit::MoveWithNote(to),
            OEdit::MoveRewritingNotes(to),
        ]);
    }
    let mut out: Vec<Vec<OEdit>> = Vec::new();
    out.push(Vec::new());
    out.extend(fields.iter().chain(&moves).map(|e| vec![*e]));
    for m in &moves {
        out.push(fields[1..3].iter().copied().chain([*m]).collect());
    }
    out.push(fields.to_vec());
    out
}

/// The properties `compensate` promises, for one checked change.
pub(super) fn assert_compensation(
    ed: &Editor,
    before: &AnyDocument,
    after: &AnyDocument,
    differs: impl Fn(Field, &AnyDocument, &AnyDocument) -> bool,
    fields: &[Field],
    what: &str,
) {
    let refusals = check(ed, Some(before), after);
    for r in &refusals {
        assert!(
            differs(r.field, before, after),
            "{what}: unchanged {:?} refused",
            r.field
        );
        assert!(
            !r.code.is_empty() && r.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{what}: code {:?}",
            r.code
        );
        assert!(!r.message.is_empty(), "{what}");
    }
    let compensated = compensate(before, after, &refusals);
    let again = check(ed, Some(before), &compensated);
    assert!(
        again.is_empty(),
        "{what}: {refusals:#?} compensated still refused: {again:#?}"
    );
    for &field in fields {
        let refused = refusals.iter().any(|r| r.field == field);
        let kept_from = if refused { before } else { after };
        assert!(
            !differs(field, kept_from, &compensated),
            "{what}: {field:?} (refused: {refused}) not as expected after compensation"
        );
    }
}

#[test]
fn compensated_visits_pass_and_keep_what_was_allowed() {
    let differs = |f, a: &AnyDocument, b: &AnyDocument| match (a, b) {
        (AnyDocument::Visit(a), AnyDocument::Visit(b)) => Visit::differs(f, a, b),
        _ => unreachable!(),
    };
    let mut checked = 0;
    let mut refused = 0;
    for role in ROLES {
        for relation in RELATIONS {
            for &from in V::ALL {
                for edits in visit_edits() {
                    let before = visit_in(from);
                    let ed = editor(role, relation, before.person_id);
                    let mut after = before.clone();
                    for e in &edits {
                        apply_visit(*e, &ed, &mut after);
                    }
                    let what = format!("{role:?} {relation:?} {from} {edits:?}");
                    let (before, after) = (AnyDocument::Visit(before), AnyDocument::Visit(after));
                    assert_compensation(&ed, &before, &after, differs, &VISIT_FIELDS, &what);
                    checked += 1;
                    refused += usize::from(!check(&ed, Some(&before), &after).is_empty());
                    if edits.is_empty() {
                        assert!(check(&ed, Some(&before), &after).is_empty(), "{what}");
                    }
                }
            }
        }
    }
    // The sweep exercises both outcomes in bulk.
    assert!(
        refused > checked / 2 && refused < checked,
        "{refused} of {checked}"
    );
}

#[test]
fn compensated_orders_pass_and_keep_what_was_allowed() {
    let differs = |f, a: &AnyDocument, b: &AnyDocument| match (a, b) {
        (AnyDocument::Order(a), AnyDocument::Order(b)) => Order::differs(f, a, b),
        _ => unreachable!(),
    };
    let mut checked = 0;
    let mut refused = 0;
    for role in ROLES {
        for relation in RELATIONS {
            for &from in O::ALL {
                for edits in order_edits() {
                    let before = order_in(from);
                    let ed = editor(role, relation, before.person_id);
                    let mut after = before.clone();
                    for e in &edits {
                        apply_order(*e, &mut after);
                    }
                    let what = format!("{role:?} {relation:?} {from} {edits:?}");
                    let (before, after) = (AnyDocument::Order(before), AnyDocument::Order(after));
                    assert_compensation(&ed, &before, &after, differs, &ORDER_FIELDS, &what);
                    checked += 1;
                    refused += usize::from(!check(&ed, Some(&before), &after).is_empty());
                }
            }
        }
    }
    assert!(
        refused > checked / 2 && refused < checked,
        "{refused} of {checked}"
    );
}

#[test]
fn a_changed_kind_is_refused_and_put_back_whole() {
    let visit = AnyDocument::Visit(visit_in(V::Planned));
    let order = AnyDocument::Order(order_in(O::Draft));
    let ed = editor(Rep, Author, UserId::new_random());
    let refusals = check(&ed, Some(&visit), &order);
    assert_eq!(codes_of(&refusals), vec!["kind_changed"]);
    assert_eq!(compensate(&visit, &order, &refusals), visit);
}

/// The server compensates on documents hydrated from Automerge: put-back notes must
/// reconcile as edits of the merged text.
#[test]
fn compensation_reconciles_into_the_merged_document() {
    use crate::document::{hydrate_visit, new_document, reconcile_visit};
    use automerge::ActorId;

    let before = visit_in(V::Approved);
    let mut doc = new_document(ActorId::random());
    reconcile_visit(&mut doc, &before).unwrap();
    doc.commit();
    let before = hydrate_visit(&doc).unwrap();

    let ed = editor(Rep, Author, before.person_id);
    let mut edited = hydrate_visit(&doc).unwrap();
    let end = edited.notes.as_str().len();
    edited.notes.splice(end, 0, "\nlate remark");
    testkit::add_photo(&mut edited, testkit::photo(b"late", 9_000, ed.user_id));
    reconcile_visit(&mut doc, &edited).unwrap();
    doc.commit();

    let merged = hydrate_visit(&doc).unwrap();
    let (b, a) = (
        AnyDocument::Visit(before.clone()),
        AnyDocument::Visit(merged),
    );
    let refusals = check(&ed, Some(&b), &a);
    assert_eq!(codes_of(&refusals), vec!["visit_frozen", "visit_frozen"]);
    let AnyDocument::Visit(fixed) = compensate(&b, &a, &refusals) else {
        unreachable!()
    };
    reconcile_visit(&mut doc, &fixed).unwrap();
    doc.commit();
    assert_eq!(hydrate_visit(&doc).unwrap(), before);
}
