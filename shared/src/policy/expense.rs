//! The policy of expenses: the person who spent the money records and submits it; the
//! approver the expense names (`Expense::approver`, set by the expense rule at submission and
//! checked by the server's verdict) approves or rejects it: the owner's supervisor, or the
//! region's manager, who may also stand in for the supervisor. Nobody approves their own.

use super::check::{self, reachable, Decision};
use super::field::{field_members, FieldMembers};
use super::{codes, Field, Refusal};
use crate::expense::{Expense, ExpenseDecision, ExpenseStatus};
use crate::org::{Editor, Relation, Role};

/// Statuses an expense may be created in (recorded and submitted before the first sync).
const EXPENSE_CREATION: [ExpenseStatus; 3] = [
    ExpenseStatus::Draft,
    ExpenseStatus::Submitted,
    ExpenseStatus::PendingApproval,
];

const EXPENSE_AUTHOR_MOVES: &[(ExpenseStatus, ExpenseStatus)] = &[
    (ExpenseStatus::Draft, ExpenseStatus::Submitted),
    (ExpenseStatus::Draft, ExpenseStatus::PendingApproval),
];
const EXPENSE_APPROVER_MOVES: &[(ExpenseStatus, ExpenseStatus)] = &[
    (ExpenseStatus::PendingApproval, ExpenseStatus::Approved),
    (ExpenseStatus::PendingApproval, ExpenseStatus::Rejected),
];

fn expense_moves(relation: Relation) -> &'static [(ExpenseStatus, ExpenseStatus)] {
    match relation {
        Relation::Author => EXPENSE_AUTHOR_MOVES,
        Relation::TeamSupervisor | Relation::RegionManager => EXPENSE_APPROVER_MOVES,
        Relation::Colleague | Relation::Other => &[],
    }
}

field_members! {
    Expense {
        Identity => [schema, id, person_id, created_at];
        Details => [expense_type, amount, date, store_id, visit_id, description];
        Photos => [receipt];
        Status => [status];
        SubmittedAt => [submitted_at, approver, evaluated_against, findings];
        Review => [review];
    }
}

/// In the order refusals are reported.
pub(super) const EXPENSE_FIELDS: [Field; 6] = [
    Field::Identity,
    Field::Details,
    Field::Photos,
    Field::SubmittedAt,
    Field::Status,
    Field::Review,
];

/// Refused effects of changing an expense from `before` (`None`: creation) to `after`.
pub fn check_expense(editor: &Editor, before: Option<&Expense>, after: &Expense) -> Vec<Refusal> {
    match before {
        None => check_expense_creation(editor, after),
        Some(before) => check_expense_change(editor, before, after),
    }
}

fn check_expense_creation(editor: &Editor, after: &Expense) -> Vec<Refusal> {
    let mut out = Vec::new();
    let may_create = editor.relation == Relation::Author
        && matches!(
            editor.role,
            Role::Rep | Role::Merchandiser | Role::Supervisor | Role::Manager
        );
    if !may_create {
        out.push(Refusal::new(
            Field::Identity,
            codes::NOT_ALLOWED_TO_CREATE,
            format!(
                "a {} cannot record this expense (people record their own expenses)",
                editor.role.as_str()
            ),
        ));
    }
    if !EXPENSE_CREATION.contains(&after.status) {
        out.push(Refusal::new(
            Field::Status,
            codes::STATUS_TRANSITION_NOT_ALLOWED,
            format!("a new expense cannot start out {}", after.status),
        ));
    }
    if after.review.is_some() {
        out.push(Refusal::new(
            Field::Review,
            codes::NOT_REVIEWER,
            "a new expense cannot carry a decision",
        ));
    }
    out
}

/// What is wrong with the approver's decision, if anything: the role the expense names, then
/// the review every reviewer's move needs (`check::review_problem`: theirs, saying what the
/// status says, a comment to reject).
fn decision_problem(editor: &Editor, before: &Expense, after: &Expense) -> Option<Refusal> {
    let named = before
        .approver
        .unwrap_or(crate::expense::Approver::Supervisor);
    if !named.is_covered_by(editor.role) {
        return Some(Refusal::new(
            Field::Status,
            codes::APPROVER_REQUIRED,
            format!(
                "this expense needs {named} approval; a {} cannot decide it",
                editor.role.as_str()
            ),
        ));
    }
    let (expected, comment_required) = match after.status {
        ExpenseStatus::Approved => (ExpenseDecision::Approved, None),
        _ => (
            ExpenseDecision::Rejected,
            Some("say why: a comment is required to reject an expense"),
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
        "expense",
        after.status,
        expected,
        review,
        comment_required,
    )
}

fn check_expense_change(editor: &Editor, before: &Expense, after: &Expense) -> Vec<Refusal> {
    let status_moved = before.status != after.status;
    let move_allowed =
        status_moved && reachable(expense_moves(editor.relation), before.status, after.status);
    let author = editor.relation == Relation::Author;
    let approver_move = move_allowed && !author;
    // An approver's move stands or falls with its decision.
    let decision_problem = approver_move
        .then(|| decision_problem(editor, before, after))
        .flatten();
    let submits = author && move_allowed;

    let mut out = Vec::new();
    for field in EXPENSE_FIELDS {
        if !Expense::differs(field, before, after) {
            continue;
        }
        let refusal = match field {
            Field::Identity => Some(Refusal::new(
                field,
                codes::IDENTITY_FIXED,
                "an expense's person and creation time are fixed once it is recorded",
            )),
            Field::Details | Field::Photos => {
                if !author {
                    Some(Refusal::new(
                        field,
                        codes::NOT_AUTHOR,
                        "only the person who spent the money changes the expense",
                    ))
                } else if before.status != ExpenseStatus::Draft {
                    Some(Refusal::new(
                        field,
                        codes::EXPENSE_SUBMITTED,
                        format!(
                            "this expense is {} and can no longer change",
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
                    "the submission (time, approver, findings) is recorded only when the expense is submitted",
                )
            }),
            Field::Status => {
                if !move_allowed {
                    Some(Refusal::new(
                        field,
                        codes::STATUS_TRANSITION_NOT_ALLOWED,
                        format!(
                            "a {} {} cannot move this expense from {} to {}",
                            editor.role.as_str(),
                            editor.relation.phrase(),
                            before.status,
                            after.status
                        ),
                    ))
                } else {
                    decision_problem.clone().map(|r| Refusal { field, ..r })
                }
            }
            Field::Review => {
                if !approver_move {
                    Some(Refusal::new(
                        field,
                        codes::NOT_REVIEWER,
                        "only the approver the expense names decides it, when approving or rejecting it",
                    ))
                } else {
                    decision_problem.clone().map(|r| Refusal { field, ..r })
                }
            }
            _ => None,
        };
        out.extend(refusal);
    }
    out
}
