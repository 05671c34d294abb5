//! The policy of orders: who moves an order between statuses, who edits which part, when.

use super::check::reachable;
use super::field::{field_members, FieldMembers};
use super::{codes, Field, Refusal};
use crate::order::{Order, OrderStatus};
use crate::org::{Editor, Relation, Role};
use crate::rules::delivery::check_delivered_on;
use crate::rules::sales::SALE_STATUSES;

/// Statuses an order may be created in.
const ORDER_CREATION: [OrderStatus; 3] = [
    OrderStatus::Draft,
    OrderStatus::Submitted,
    OrderStatus::PendingApproval,
];

/// Statuses in which an order's author may still write notes.
const ORDER_NOTES_OPEN: [OrderStatus; 3] = [
    OrderStatus::Draft,
    OrderStatus::Submitted,
    OrderStatus::PendingApproval,
];

const ORDER_AUTHOR_MOVES: &[(OrderStatus, OrderStatus)] = &[
    (OrderStatus::Draft, OrderStatus::Submitted),
    (OrderStatus::Draft, OrderStatus::PendingApproval),
    (OrderStatus::Draft, OrderStatus::Cancelled),
    (OrderStatus::Submitted, OrderStatus::Cancelled),
    (OrderStatus::PendingApproval, OrderStatus::Cancelled),
];
const ORDER_APPROVER_MOVES: &[(OrderStatus, OrderStatus)] = &[
    (OrderStatus::PendingApproval, OrderStatus::Approved),
    (OrderStatus::PendingApproval, OrderStatus::Rejected),
];

fn order_moves(relation: Relation) -> &'static [(OrderStatus, OrderStatus)] {
    match relation {
        Relation::Author => ORDER_AUTHOR_MOVES,
        Relation::TeamSupervisor | Relation::RegionManager => ORDER_APPROVER_MOVES,
        Relation::Colleague | Relation::Other => &[],
    }
}

field_members! {
    Order {
        Identity => [schema, id, number, store_id, person_id, visit_id, order_date, created_at];
        Status => [status];
        Lines => [lines];
        Terms => [payment, requested_delivery];
        Notes => [] text(notes);
        SubmittedAt => [submitted_at];
        Delivery => [delivery];
    }
}

pub(super) const ORDER_FIELDS: [Field; 7] = [
    Field::Identity,
    Field::Status,
    Field::Lines,
    Field::Terms,
    Field::Notes,
    Field::SubmittedAt,
    Field::Delivery,
];

/// Refused effects of changing an order from `before` (`None`: creation) to `after`.
pub fn check_order(editor: &Editor, before: Option<&Order>, after: &Order) -> Vec<Refusal> {
    match before {
        None => check_order_creation(editor, after),
        Some(before) => check_order_change(editor, before, after),
    }
}

fn check_order_creation(editor: &Editor, after: &Order) -> Vec<Refusal> {
    let mut out = Vec::new();
    let may_create =
        editor.relation == Relation::Author && matches!(editor.role, Role::Rep | Role::Supervisor);
    if !may_create {
        out.push(Refusal::new(
            Field::Identity,
            codes::NOT_ALLOWED_TO_CREATE,
            format!(
                "a {} cannot take orders (reps and supervisors take orders, for themselves)",
                editor.role.as_str()
            ),
        ));
    }
    if !ORDER_CREATION.contains(&after.status) {
        out.push(Refusal::new(
            Field::Status,
            codes::STATUS_TRANSITION_NOT_ALLOWED,
            format!("a new order cannot start out {}", after.status),
        ));
    }
    // Taken, submitted and delivered before the phone synced (van sales): judged as recorded
    // on the order without it.
    if after.delivery.is_some() {
        let undelivered = Order {
            delivery: None,
            ..after.clone()
        };
        out.extend(delivery_refusal(editor, &undelivered, after));
    }
    out
}

/// Why `editor` may not record `after`'s delivery on `before` (the delivery changed):
/// recorded once, by the order's author or their supervisor or manager (the rep confirms at
/// the store, the supervisor from the distributor's word), in their own name, on a sale, and
/// dated between the order date and the day it is recorded.
fn delivery_refusal(editor: &Editor, before: &Order, after: &Order) -> Option<Refusal> {
    let refuse = |code, message: String| Some(Refusal::new(Field::Delivery, code, message));
    let may_record = matches!(
        editor.relation,
        Relation::Author | Relation::TeamSupervisor | Relation::RegionManager
    );
    if !may_record {
        return refuse(
            codes::NOT_AUTHOR_OR_SUPERVISOR,
            format!(
                "a {} {} cannot record this order's delivery: only the rep who took it or their \
                 supervisor or manager can",
                editor.role.as_str(),
                editor.relation.phrase()
            ),
        );
    }
    if let Some(recorded) = &before.delivery {
        return refuse(
            codes::DELIVERY_RECORDED,
            format!(
                "this order's delivery on {} is recorded and can no longer change",
                recorded.delivered_on
            ),
        );
    }
    let delivery = after.delivery.as_ref()?;
    if !SALE_STATUSES.contains(&before.status) {
        return refuse(
            codes::ORDER_NOT_SOLD,
            format!(
                "this order is {}: only a submitted or approved order can be delivered",
                before.status
            ),
        );
    }
    if delivery.recorded_by != editor.user_id {
        return refuse(
            codes::DELIVERY_RECORDER_INVALID,
            "a delivery must be recorded in your own name (recorded_by)".to_string(),
        );
    }
    check_delivered_on(
        before.order_date,
        delivery.delivered_on,
        delivery.recorded_at,
    )
    .and_then(|why| refuse(codes::DELIVERY_DATE_INVALID, why))
}

fn check_order_change(editor: &Editor, before: &Order, after: &Order) -> Vec<Refusal> {
    let status_moved = before.status != after.status;
    let move_allowed =
        status_moved && reachable(order_moves(editor.relation), before.status, after.status);
    let author = editor.relation == Relation::Author;
    let submits = author
        && before.status == OrderStatus::Draft
        && matches!(
            after.status,
            OrderStatus::Submitted | OrderStatus::PendingApproval
        );
    // The approver may append their reason to the notes together with their decision.
    let approver_note =
        move_allowed && !author && after.notes.as_str().starts_with(before.notes.as_str());

    let mut out = Vec::new();
    for field in ORDER_FIELDS {
        if !Order::differs(field, before, after) {
            continue;
        }
        let not_author = || {
            Refusal::new(
                field,
                codes::NOT_AUTHOR,
                format!(
                    "only the person who took the order can change its {}",
                    field.as_str().replace('_', " ")
                ),
            )
        };
        let refusal = match field {
            Field::Identity => Some(Refusal::new(
                field,
                codes::IDENTITY_FIXED,
                "an order's number, store, person and dates are fixed once it is created",
            )),
            Field::Status => (!move_allowed).then(|| {
                Refusal::new(
                    field,
                    codes::STATUS_TRANSITION_NOT_ALLOWED,
                    format!(
                        "a {} {} cannot move this order from {} to {}",
                        editor.role.as_str(),
                        editor.relation.phrase(),
                        before.status,
                        after.status
                    ),
                )
            }),
            Field::Lines | Field::Terms => {
                if !author {
                    Some(not_author())
                } else if before.status != OrderStatus::Draft {
                    Some(Refusal::new(
                        field,
                        codes::ORDER_SUBMITTED,
                        format!(
                            "this order is {} and its {} can no longer change",
                            before.status,
                            field.as_str()
                        ),
                    ))
                } else {
                    None
                }
            }
            Field::Notes => {
                if approver_note {
                    None
                } else if !author {
                    Some(not_author())
                } else if !ORDER_NOTES_OPEN.contains(&before.status) {
                    Some(Refusal::new(
                        field,
                        codes::ORDER_CLOSED,
                        format!(
                            "this order is {} and its notes can no longer change",
                            before.status
                        ),
                    ))
                } else {
                    None
                }
            }
            Field::Delivery => delivery_refusal(editor, before, after),
            Field::SubmittedAt => {
                if !author {
                    Some(not_author())
                } else if !submits {
                    Some(Refusal::new(
                        field,
                        codes::SUBMITTED_AT_FIXED,
                        "the submission time is set only when the order is submitted",
                    ))
                } else {
                    None
                }
            }
            _ => None,
        };
        out.extend(refusal);
    }
    out
}
