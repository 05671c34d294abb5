//! The policy of plans: the rep prepares and submits their week; the supervisor (or the
//! region's manager) approves it or returns it with a comment.

use super::check::{self, reachable, Decision};
use super::field::{field_members, FieldMembers};
use super::{codes, Field, Refusal};
use crate::org::{Editor, Relation, Role};
use crate::plan::{Plan, PlanDecision, PlanStatus};

/// Statuses in which the rep may change the entries.
const PLAN_EDITABLE: [PlanStatus; 2] = [PlanStatus::Draft, PlanStatus::Returned];

const PLAN_AUTHOR_MOVES: &[(PlanStatus, PlanStatus)] = &[
    (PlanStatus::Draft, PlanStatus::Submitted),
    (PlanStatus::Returned, PlanStatus::Draft),
    (PlanStatus::Returned, PlanStatus::Submitted),
];
const PLAN_REVIEWER_MOVES: &[(PlanStatus, PlanStatus)] = &[
    (PlanStatus::Submitted, PlanStatus::Approved),
    (PlanStatus::Submitted, PlanStatus::Returned),
];
/// The manager may also reopen an approved plan.
const PLAN_MANAGER_MOVES: &[(PlanStatus, PlanStatus)] = &[
    (PlanStatus::Submitted, PlanStatus::Approved),
    (PlanStatus::Submitted, PlanStatus::Returned),
    (PlanStatus::Approved, PlanStatus::Returned),
];

fn plan_moves(relation: Relation) -> &'static [(PlanStatus, PlanStatus)] {
    match relation {
        Relation::Author => PLAN_AUTHOR_MOVES,
        Relation::TeamSupervisor => PLAN_REVIEWER_MOVES,
        Relation::RegionManager => PLAN_MANAGER_MOVES,
        Relation::Colleague | Relation::Other => &[],
    }
}

field_members! {
    Plan {
        Identity => [schema, id, person_id, week];
        Status => [status];
        Entries => [entries, removed, days, generated_at];
        SubmittedAt => [submitted_at];
        Review => [review];
    }
}

/// In the order refusals are reported: the status after the edits it comes with.
pub(super) const PLAN_FIELDS: [Field; 5] = [
    Field::Identity,
    Field::Entries,
    Field::SubmittedAt,
    Field::Status,
    Field::Review,
];

/// Refused effects of changing a plan from `before` (`None`: creation) to `after`.
pub fn check_plan(editor: &Editor, before: Option<&Plan>, after: &Plan) -> Vec<Refusal> {
    match before {
        None => check_plan_creation(editor, after),
        Some(before) => check_plan_change(editor, before, after),
    }
}

fn check_plan_creation(editor: &Editor, after: &Plan) -> Vec<Refusal> {
    let mut out = Vec::new();
    let may_create = editor.relation == Relation::Author
        && matches!(
            editor.role,
            Role::Rep | Role::Merchandiser | Role::Supervisor
        );
    if !may_create {
        out.push(Refusal::new(
            Field::Identity,
            codes::NOT_ALLOWED_TO_CREATE,
            format!(
                "a {} cannot make a visit plan (reps, merchandisers and supervisors plan their own weeks)",
                editor.role.as_str()
            ),
        ));
    }
    if after.id != Plan::doc_id(after.person_id, after.week) {
        out.push(Refusal::new(
            Field::Identity,
            codes::IDENTITY_FIXED,
            "a plan's id is derived from its person and week",
        ));
    }
    if after.status != PlanStatus::Draft {
        out.push(Refusal::new(
            Field::Status,
            codes::STATUS_TRANSITION_NOT_ALLOWED,
            format!("a new plan starts out draft, not {}", after.status),
        ));
    }
    if after.review.is_some() || after.submitted_at.is_some() {
        out.push(Refusal::new(
            Field::Review,
            codes::NOT_REVIEWER,
            "a new plan cannot carry a review or a submission",
        ));
    }
    out
}

/// What is wrong with the review a reviewer's status move carries, if anything.
fn review_problem(editor: &Editor, before: &Plan, after: &Plan) -> Option<Refusal> {
    let (expected, comment_required) = match after.status {
        PlanStatus::Approved => (PlanDecision::Approved, None),
        _ => (
            PlanDecision::Returned,
            Some("say what to change: a comment is required to return a plan"),
        ),
    };
    let review = after
        .review
        .as_ref()
        .filter(|_| after.review != before.review)
        .map(|r| Decision {
            by: r.by,
            decision: r.decision,
            comment: r.comment.as_ref().map(|c| c.as_str()),
        });
    check::review_problem(
        editor,
        "plan",
        after.status,
        expected,
        review,
        comment_required,
    )
}

fn check_plan_change(editor: &Editor, before: &Plan, after: &Plan) -> Vec<Refusal> {
    let status_moved = before.status != after.status;
    let move_allowed =
        status_moved && reachable(plan_moves(editor.relation), before.status, after.status);
    let author = editor.relation == Relation::Author;
    let reviewer_move = move_allowed && !author;
    // A reviewer's move stands or falls with its review.
    let review_problem = reviewer_move
        .then(|| review_problem(editor, before, after))
        .flatten();
    let submits = author && move_allowed && after.status == PlanStatus::Submitted;

    let mut out = Vec::new();
    for field in PLAN_FIELDS {
        if !Plan::differs(field, before, after) {
            continue;
        }
        let refusal = match field {
            Field::Identity => Some(Refusal::new(
                field,
                codes::IDENTITY_FIXED,
                "a plan's person and week are fixed once it is made",
            )),
            Field::Entries => {
                if !author {
                    Some(Refusal::new(
                        field,
                        codes::NOT_AUTHOR,
                        "only the rep the plan is for changes its entries (return it with a comment instead)",
                    ))
                } else if !PLAN_EDITABLE.contains(&before.status) {
                    Some(Refusal::new(
                        field,
                        codes::PLAN_SUBMITTED,
                        format!(
                            "this plan is {} and its entries can no longer change",
                            before.status
                        ),
                    ))
                } else {
                    None
                }
            }
            Field::SubmittedAt => (!submits).then(|| {
                Refusal::new(
                    field,
                    codes::SUBMITTED_AT_FIXED,
                    "the submission time is set only when the rep submits the plan",
                )
            }),
            Field::Status => {
                if !move_allowed {
                    Some(Refusal::new(
                        field,
                        codes::STATUS_TRANSITION_NOT_ALLOWED,
                        format!(
                            "a {} {} cannot move this plan from {} to {}",
                            editor.role.as_str(),
                            editor.relation.phrase(),
                            before.status,
                            after.status
                        ),
                    ))
                } else {
                    review_problem.clone().map(|r| Refusal { field, ..r })
                }
            }
            Field::Review => {
                if !reviewer_move {
                    Some(Refusal::new(
                        field,
                        codes::NOT_REVIEWER,
                        "only the rep's supervisor (or their manager) reviews a plan, when approving or returning it",
                    ))
                } else {
                    review_problem.clone().map(|r| Refusal { field, ..r })
                }
            }
            _ => None,
        };
        out.extend(refusal);
    }
    out
}
