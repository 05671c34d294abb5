//! The policy of visits: who moves a visit between statuses, who edits which part, when.

use super::check::{self, reachable, Decision};
use super::field::{field_members, FieldMembers};
use super::{codes, Field, Refusal};
use crate::org::{Editor, Relation, Role};
use crate::visit::competitors::foreign_sighting_changes;
use crate::visit::{ReviewDecision, Visit, VisitStatus};

/// Statuses in which the people working a visit may still edit it.
const VISIT_EDITABLE: [VisitStatus; 4] = [
    VisitStatus::Planned,
    VisitStatus::InProgress,
    VisitStatus::CheckedOut,
    VisitStatus::Rejected,
];

const VISIT_AUTHOR_MOVES: &[(VisitStatus, VisitStatus)] = &[
    (VisitStatus::Planned, VisitStatus::InProgress),
    (VisitStatus::InProgress, VisitStatus::CheckedOut),
    (VisitStatus::CheckedOut, VisitStatus::Submitted),
    (VisitStatus::Rejected, VisitStatus::InProgress),
    (VisitStatus::Rejected, VisitStatus::Submitted),
];
const VISIT_SUPERVISOR_MOVES: &[(VisitStatus, VisitStatus)] = &[
    (VisitStatus::Submitted, VisitStatus::Approved),
    (VisitStatus::Submitted, VisitStatus::Rejected),
];
/// The manager's "reopen": an approved visit goes back to its author for rework.
const VISIT_MANAGER_MOVES: &[(VisitStatus, VisitStatus)] =
    &[(VisitStatus::Approved, VisitStatus::Rejected)];

fn visit_moves(relation: Relation) -> &'static [(VisitStatus, VisitStatus)] {
    match relation {
        Relation::Author => VISIT_AUTHOR_MOVES,
        Relation::TeamSupervisor => VISIT_SUPERVISOR_MOVES,
        Relation::RegionManager => VISIT_MANAGER_MOVES,
        Relation::Colleague | Relation::Other => &[],
    }
}

field_members! {
    Visit {
        Identity => [schema, id, store_id, person_id, planned_date, plan_id];
        Status => [status];
        CheckIn => [check_in];
        CheckOut => [check_out];
        Steps => [steps];
        Audit => [audit, promotion_checks, stock_counts, success_scores];
        Photos => [photos];
        Notes => [note_entries] text(notes);
        CompetitorSightings => [competitor_sightings];
        Review => [review];
    }
}

/// In the order refusals are reported: the status last, so that the first refusal of an
/// edit says what is wrong with the edit itself ("submitted", "not the author") before the
/// status move that comes with it.
pub(super) const VISIT_FIELDS: [Field; 10] = [
    Field::Identity,
    Field::CheckIn,
    Field::CheckOut,
    Field::Steps,
    Field::Audit,
    Field::Photos,
    Field::Notes,
    Field::CompetitorSightings,
    Field::Status,
    Field::Review,
];

/// What is wrong with the review a reviewer's status move carries, if anything.
fn review_problem(editor: &Editor, before: &Visit, after: &Visit) -> Option<Refusal> {
    let (expected, comment_required) = match after.status {
        VisitStatus::Approved => (ReviewDecision::Approved, None),
        _ => (
            ReviewDecision::Rejected,
            Some("say what has to be reworked: a comment is required to send a visit back"),
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
        "visit",
        after.status,
        expected,
        review,
        comment_required,
    )
}

/// What is wrong with a change of the competitor sightings by someone working the visit: a
/// sighting is its author's own observation (no one else adds, edits or removes it under
/// their name), and the map on an older visit is the server's to add (two devices adding it
/// at once would make two maps under one key, and one would be lost).
fn sightings_problem(editor: &Editor, before: &Visit, after: &Visit) -> Option<Refusal> {
    let field = Field::CompetitorSightings;
    if before.competitor_sightings.is_none() {
        return Some(Refusal::new(
            field,
            codes::NOT_ALLOWED_TO_CREATE,
            "the server adds the list of competitor sightings to a visit written by an older \
             app: sync before recording one",
        ));
    }
    let foreign = foreign_sighting_changes(
        editor.user_id,
        before.competitor_sightings.as_ref(),
        after.competitor_sightings.as_ref(),
    );
    (!foreign.is_empty()).then(|| {
        Refusal::new(
            field,
            codes::NOT_ENTRY_AUTHOR,
            "only the person who recorded a competitor sighting adds, changes or removes it",
        )
    })
}

/// Refused effects of changing a visit from `before` (`None`: the batch creates it) to `after`.
/// Empty: allowed.
pub fn check_visit(editor: &Editor, before: Option<&Visit>, after: &Visit) -> Vec<Refusal> {
    match before {
        None => check_visit_creation(editor, after),
        Some(before) => check_visit_change(editor, before, after),
    }
}

fn check_visit_creation(editor: &Editor, after: &Visit) -> Vec<Refusal> {
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
                "a {} can only plan visits for themself (reps, merchandisers and supervisors)",
                editor.role.as_str()
            ),
        ));
    }
    if !reachable(VISIT_AUTHOR_MOVES, VisitStatus::Planned, after.status) {
        out.push(Refusal::new(
            Field::Status,
            codes::STATUS_TRANSITION_NOT_ALLOWED,
            format!("a new visit cannot start out {}", after.status),
        ));
    }
    if after.review.is_some() {
        out.push(Refusal::new(
            Field::Review,
            codes::NOT_REVIEWER,
            "a new visit cannot carry a review",
        ));
    }
    out
}

fn check_visit_change(editor: &Editor, before: &Visit, after: &Visit) -> Vec<Refusal> {
    let status_moved = before.status != after.status;
    let move_allowed =
        status_moved && reachable(visit_moves(editor.relation), before.status, after.status);
    let reviewer_move = move_allowed
        && matches!(
            editor.relation,
            Relation::TeamSupervisor | Relation::RegionManager
        );
    // A reviewer's move stands or falls with its review: both are refused together, so that
    // compensating one never leaves the other behind.
    let review_problem = reviewer_move
        .then(|| review_problem(editor, before, after))
        .flatten();
    let frozen = before.status == VisitStatus::Approved;
    let submitted = before.status == VisitStatus::Submitted;
    let editable = VISIT_EDITABLE.contains(&before.status);
    let works_visit = matches!(editor.relation, Relation::Author | Relation::Colleague);

    let frozen_refusal = |field| {
        Refusal::new(
            field,
            codes::VISIT_FROZEN,
            "this visit was approved by its supervisor and can no longer be changed",
        )
    };
    let submitted_refusal = |field| {
        Refusal::new(
            field,
            codes::VISIT_SUBMITTED,
            "this visit was submitted for review and can no longer be changed",
        )
    };

    let mut out = Vec::new();
    for field in VISIT_FIELDS {
        if !Visit::differs(field, before, after) {
            continue;
        }
        let refusal = match field {
            Field::Identity => Some(Refusal::new(
                field,
                codes::IDENTITY_FIXED,
                "a visit's store, person and date are fixed once it is planned",
            )),
            Field::Status => {
                if frozen && !reviewer_move {
                    Some(frozen_refusal(field))
                } else if !move_allowed {
                    Some(Refusal::new(
                        field,
                        codes::STATUS_TRANSITION_NOT_ALLOWED,
                        format!(
                            "a {} {} cannot move this visit from {} to {}",
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
            Field::CheckIn | Field::CheckOut => {
                if frozen {
                    Some(frozen_refusal(field))
                } else if editor.relation != Relation::Author {
                    Some(Refusal::new(
                        field,
                        codes::NOT_AUTHOR,
                        "only the person the visit is planned for can check in and out",
                    ))
                } else if !editable {
                    Some(submitted_refusal(field))
                } else {
                    None
                }
            }
            Field::Steps
            | Field::Audit
            | Field::Photos
            | Field::Notes
            | Field::CompetitorSightings => {
                // Notes stay open while the visit is under review: a word for the reviewer.
                let open = editable || (field == Field::Notes && submitted);
                if frozen {
                    Some(frozen_refusal(field))
                } else if !works_visit {
                    Some(Refusal::new(
                        field,
                        codes::NOT_AUTHOR_OR_COLLEAGUE,
                        format!(
                            "only the visit's owner or a colleague covering this store can change its {}",
                            field.as_str().replace('_', " ")
                        ),
                    ))
                } else if !open {
                    Some(submitted_refusal(field))
                } else if field == Field::CompetitorSightings {
                    sightings_problem(editor, before, after)
                } else if field == Field::Audit
                    && before.stock_counts.is_none()
                    && after.stock_counts.is_some()
                {
                    Some(Refusal::new(
                        field,
                        codes::NOT_ALLOWED_TO_CREATE,
                        "the server adds the stock counts to a visit written by an older app: \
                         sync before counting stock",
                    ))
                } else {
                    None
                }
            }
            Field::Review => {
                if !reviewer_move {
                    Some(if frozen {
                        frozen_refusal(field)
                    } else {
                        Refusal::new(
                            field,
                            codes::NOT_REVIEWER,
                            "only the owner's supervisor reviews a visit, when approving or \
                             rejecting it (or their manager, when reopening it)",
                        )
                    })
                } else {
                    review_problem.clone().map(|r| Refusal { field, ..r })
                }
            }
            Field::Lines
            | Field::Terms
            | Field::SubmittedAt
            | Field::Entries
            | Field::Details
            | Field::Delivery => None,
        };
        out.extend(refusal);
    }
    out
}
