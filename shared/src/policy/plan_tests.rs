//! The plan policy against the table of docs/write-policies.md, and `compensate` over every
//! role, relation, status and edit.

use super::field::FieldMembers;
use super::plan::PLAN_FIELDS;
use super::tests::{assert_compensation, codes_of, editor, NOT_ALLOWED, RELATIONS, ROLES};
use super::*;
use crate::document::AnyDocument;
use crate::org::{Editor, Relation, Role};
use crate::plan::{EntryReason, IsoWeek, Plan, PlanDecision, PlanEntry, PlanReview, PlanStatus};
use crate::values::{Date, ShortText, StoreId, Timestamp, UserId};
use PlanStatus as P;
use Relation::*;
use Role::*;

#[derive(Debug, Clone, Copy)]
enum PEdit {
    Identity,
    Entries,
    SubmittedAt,
    Move(PlanStatus),
    /// Status plus `submitted_at`.
    Submit,
    /// Status plus a review by the editor whose decision matches; "" = no comment.
    Decide(PlanStatus, &'static str),
    /// Status plus a review signed by someone else.
    DecideForged(PlanStatus),
    /// A review by the editor, status unchanged.
    ReviewOnly,
}

fn plan_in(status: PlanStatus) -> Plan {
    let week = IsoWeek::parse("2026-W50").unwrap();
    let mut p = Plan::new(UserId::new_random(), week);
    p.status = status;
    let store = StoreId::new_random();
    p.entries.insert(
        store.to_string(),
        PlanEntry {
            store_id: store,
            day: week.monday(),
            seq: 1,
            reason: EntryReason::Due,
            pinned: false,
        },
    );
    if status != P::Draft {
        p.submitted_at = Some(Timestamp(2_000));
    }
    p
}

fn decision_for(status: PlanStatus) -> PlanDecision {
    if status == P::Approved {
        PlanDecision::Approved
    } else {
        PlanDecision::Returned
    }
}

fn review(by: UserId, decision: PlanDecision, comment: &str) -> PlanReview {
    PlanReview {
        decision,
        comment: (!comment.is_empty()).then(|| ShortText::parse(comment).unwrap()),
        by,
        at: Timestamp(9_000),
    }
}

fn apply_plan(edit: PEdit, ed: &Editor, p: &mut Plan) {
    match edit {
        PEdit::Identity => p.week = IsoWeek::parse("2026-W51").unwrap(),
        PEdit::Entries => {
            let store = p.entries.values().next().unwrap().store_id;
            p.move_entry(store, Date::parse("2026-12-09").unwrap(), 1)
                .unwrap();
        }
        PEdit::SubmittedAt => p.submitted_at = Some(Timestamp(8_000)),
        PEdit::Move(to) => p.status = to,
        PEdit::Submit => {
            p.status = P::Submitted;
            p.submitted_at = Some(Timestamp(8_000));
        }
        PEdit::Decide(to, comment) => {
            p.status = to;
            p.review = Some(review(ed.user_id, decision_for(to), comment));
        }
        PEdit::DecideForged(to) => {
            p.status = to;
            p.review = Some(review(UserId::new_random(), decision_for(to), "ok"));
        }
        PEdit::ReviewOnly => p.review = Some(review(ed.user_id, PlanDecision::Approved, "")),
    }
}

#[rustfmt::skip]
const PLAN_MATRIX: &[(Role, Relation, PlanStatus, PEdit, &[&str])] = &[
    (Rep, Author, P::Draft, PEdit::Identity, &["identity_fixed"]),
    // Entries: the rep, while draft or returned.
    (Rep, Author, P::Draft, PEdit::Entries, &[]),
    (Rep, Author, P::Returned, PEdit::Entries, &[]),
    (Merchandiser, Author, P::Draft, PEdit::Entries, &[]),
    (Rep, Author, P::Submitted, PEdit::Entries, &["plan_submitted"]),
    (Rep, Author, P::Approved, PEdit::Entries, &["plan_submitted"]),
    (Supervisor, TeamSupervisor, P::Draft, PEdit::Entries, &["not_author"]),
    (Supervisor, TeamSupervisor, P::Submitted, PEdit::Entries, &["not_author"]),
    (Manager, RegionManager, P::Submitted, PEdit::Entries, &["not_author"]),
    (Rep, Colleague, P::Draft, PEdit::Entries, &["not_author"]),
    (Admin, Other, P::Draft, PEdit::Entries, &["not_author"]),
    // Submission: the rep, with its time.
    (Rep, Author, P::Draft, PEdit::Submit, &[]),
    (Rep, Author, P::Returned, PEdit::Submit, &[]),
    (Rep, Author, P::Draft, PEdit::Move(P::Submitted), &[]),
    (Rep, Author, P::Draft, PEdit::SubmittedAt, &["submitted_at_fixed"]),
    (Rep, Author, P::Submitted, PEdit::Submit, &["submitted_at_fixed"]),
    (Rep, Author, P::Returned, PEdit::Move(P::Draft), &[]),
    (Rep, Author, P::Draft, PEdit::Move(P::Approved), &[NOT_ALLOWED]),
    (Rep, Author, P::Submitted, PEdit::Move(P::Draft), &[NOT_ALLOWED]),
    (Rep, Author, P::Approved, PEdit::Move(P::Returned), &[NOT_ALLOWED]),
    (Supervisor, TeamSupervisor, P::Draft, PEdit::Submit, &["submitted_at_fixed", NOT_ALLOWED]),
    // Decisions: the supervisor or the manager, with their review; returning needs a comment.
    (Supervisor, TeamSupervisor, P::Submitted, PEdit::Decide(P::Approved, ""), &[]),
    (Supervisor, TeamSupervisor, P::Submitted, PEdit::Decide(P::Returned, "add store 12 on Tuesday"), &[]),
    (Supervisor, TeamSupervisor, P::Submitted, PEdit::Decide(P::Returned, ""), &["comment_required", "comment_required"]),
    (Supervisor, TeamSupervisor, P::Submitted, PEdit::Move(P::Approved), &["review_required"]),
    (Supervisor, TeamSupervisor, P::Submitted, PEdit::DecideForged(P::Approved), &["review_invalid", "review_invalid"]),
    (Manager, RegionManager, P::Submitted, PEdit::Decide(P::Approved, ""), &[]),
    (Manager, RegionManager, P::Approved, PEdit::Decide(P::Returned, "two C stores missing"), &[]),
    (Supervisor, TeamSupervisor, P::Approved, PEdit::Decide(P::Returned, "redo"), &[NOT_ALLOWED, "not_reviewer"]),
    (Supervisor, TeamSupervisor, P::Draft, PEdit::Decide(P::Approved, ""), &[NOT_ALLOWED, "not_reviewer"]),
    (Supervisor, Other, P::Submitted, PEdit::Decide(P::Approved, ""), &[NOT_ALLOWED, "not_reviewer"]),
    (Rep, Colleague, P::Submitted, PEdit::Decide(P::Approved, ""), &[NOT_ALLOWED, "not_reviewer"]),
    (Rep, Author, P::Submitted, PEdit::Decide(P::Approved, ""), &[NOT_ALLOWED, "not_reviewer"]),
    (Supervisor, TeamSupervisor, P::Submitted, PEdit::ReviewOnly, &["not_reviewer"]),
];

#[test]
fn plan_matrix() {
    for &(role, relation, from, edit, expected) in PLAN_MATRIX {
        let before = plan_in(from);
        let ed = editor(role, relation, before.person_id);
        let mut after = before.clone();
        apply_plan(edit, &ed, &mut after);
        let refusals = check_plan(&ed, Some(&before), &after);
        assert_eq!(
            codes_of(&refusals),
            expected.to_vec(),
            "{role:?} {relation:?} on a {from} plan: {edit:?}: {refusals:#?}"
        );
    }
}

#[test]
fn plan_creation_matrix() {
    #[rustfmt::skip]
    let cases: &[(Role, Relation, PlanStatus, &[&str])] = &[
        (Rep, Author, P::Draft, &[]),
        (Merchandiser, Author, P::Draft, &[]),
        (Supervisor, Author, P::Draft, &[]),
        (Manager, Author, P::Draft, &["not_allowed_to_create"]),
        (Admin, Author, P::Draft, &["not_allowed_to_create"]),
        (Supervisor, TeamSupervisor, P::Draft, &["not_allowed_to_create"]),
        (Rep, Colleague, P::Draft, &["not_allowed_to_create"]),
        // Made and submitted offline: one batch, the author's own moves.
        (Rep, Author, P::Submitted, &[]),
        (Supervisor, Author, P::Submitted, &[]),
        (Rep, Author, P::Approved, &[NOT_ALLOWED]),
        (Rep, Author, P::Returned, &[NOT_ALLOWED]),
    ];
    for &(role, relation, status, expected) in cases {
        let plan = plan_in(status);
        let ed = editor(role, relation, plan.person_id);
        assert_eq!(
            codes_of(&check_plan(&ed, None, &plan)),
            expected.to_vec(),
            "{role:?} {relation:?} creates a {status} plan"
        );
    }
    // The id is the person's and week's.
    let mut plan = plan_in(P::Draft);
    plan.id = crate::values::DocId::new_random();
    let ed = editor(Rep, Author, plan.person_id);
    assert_eq!(codes_of(&check_plan(&ed, None, &plan)), ["identity_fixed"]);
    // A submission time goes with the submission; a review is never the author's.
    let mut plan = plan_in(P::Draft);
    plan.submitted_at = Some(Timestamp(2_000));
    let ed = editor(Rep, Author, plan.person_id);
    assert_eq!(
        codes_of(&check_plan(&ed, None, &plan)),
        ["submitted_at_fixed"]
    );
    let mut plan = plan_in(P::Submitted);
    plan.review = Some(crate::plan::PlanReview {
        decision: PlanDecision::Approved,
        comment: None,
        by: plan.person_id,
        at: Timestamp(3_000),
    });
    let ed = editor(Rep, Author, plan.person_id);
    assert_eq!(codes_of(&check_plan(&ed, None, &plan)), ["not_reviewer"]);
}

#[test]
fn compensated_plans_pass_and_keep_what_was_allowed() {
    let differs = |f, a: &AnyDocument, b: &AnyDocument| match (a, b) {
        (AnyDocument::Plan(a), AnyDocument::Plan(b)) => Plan::differs(f, a, b),
        _ => unreachable!(),
    };
    let mut moves = vec![PEdit::Submit, PEdit::ReviewOnly];
    for &to in P::ALL {
        moves.extend([
            PEdit::Move(to),
            PEdit::Decide(to, ""),
            PEdit::Decide(to, "fix it"),
            PEdit::DecideForged(to),
        ]);
    }
    let fields = [PEdit::Identity, PEdit::Entries, PEdit::SubmittedAt];
    let mut edits: Vec<Vec<PEdit>> = vec![Vec::new()];
    edits.extend(fields.iter().chain(&moves).map(|e| vec![*e]));
    edits.extend(moves.iter().map(|m| vec![PEdit::Entries, *m]));
    let (mut checked, mut refused) = (0, 0);
    for role in ROLES {
        for relation in RELATIONS {
            for &from in P::ALL {
                for edit in &edits {
                    let before = plan_in(from);
                    let ed = editor(role, relation, before.person_id);
                    let mut after = before.clone();
                    for e in edit {
                        apply_plan(*e, &ed, &mut after);
                    }
                    let what = format!("{role:?} {relation:?} {from} {edit:?}");
                    let (before, after) = (AnyDocument::Plan(before), AnyDocument::Plan(after));
                    assert_compensation(&ed, &before, &after, differs, &PLAN_FIELDS, &what);
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
