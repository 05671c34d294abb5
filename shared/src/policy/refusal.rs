//! What a policy says when it refuses an effect: the field, a stable code, a message.

use serde::{Deserialize, Serialize};

use super::Field;

/// One refused effect: which field, a stable code, a message for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub field: Field,
    /// Stable snake_case code, e.g. `visit_frozen`, `not_author`, `comment_required`.
    pub code: String,
    pub message: String,
}

impl Refusal {
    pub(super) fn new(field: Field, code: &str, message: impl Into<String>) -> Self {
        Refusal {
            field,
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Stable refusal codes (the `code` of a [`Refusal`]). docs/write-policies.md lists them.
pub mod codes {
    pub const IDENTITY_FIXED: &str = "identity_fixed";
    pub const NOT_ALLOWED_TO_CREATE: &str = "not_allowed_to_create";
    pub const STATUS_TRANSITION_NOT_ALLOWED: &str = "status_transition_not_allowed";
    pub const NOT_AUTHOR: &str = "not_author";
    pub const NOT_AUTHOR_OR_COLLEAGUE: &str = "not_author_or_colleague";
    /// An entry of a collection (a competitor sighting) changed by someone other than its author.
    pub const NOT_ENTRY_AUTHOR: &str = "not_entry_author";
    pub const VISIT_SUBMITTED: &str = "visit_submitted";
    pub const VISIT_FROZEN: &str = "visit_frozen";
    pub const NOT_REVIEWER: &str = "not_reviewer";
    pub const REVIEW_REQUIRED: &str = "review_required";
    pub const REVIEW_INVALID: &str = "review_invalid";
    pub const COMMENT_REQUIRED: &str = "comment_required";
    pub const ORDER_SUBMITTED: &str = "order_submitted";
    pub const ORDER_CLOSED: &str = "order_closed";
    pub const SUBMITTED_AT_FIXED: &str = "submitted_at_fixed";
    pub const KIND_CHANGED: &str = "kind_changed";
    pub const PLAN_SUBMITTED: &str = "plan_submitted";
    pub const EXPENSE_SUBMITTED: &str = "expense_submitted";
    pub const APPROVER_REQUIRED: &str = "approver_required";
    /// An order's delivery recorded by someone other than its author and their supervisor
    /// or manager.
    pub const NOT_AUTHOR_OR_SUPERVISOR: &str = "not_author_or_supervisor";
    /// A delivery recorded on an order that is not a sale (`rules::sales::SALE_STATUSES`).
    pub const ORDER_NOT_SOLD: &str = "order_not_sold";
    /// A delivery changed or removed once recorded.
    pub const DELIVERY_RECORDED: &str = "delivery_recorded";
    /// A delivery dated before the order or after the day it was recorded
    /// (`rules::delivery::check_delivered_on`).
    pub const DELIVERY_DATE_INVALID: &str = "delivery_date_invalid";
    /// A delivery whose `recorded_by` is not the person recording it.
    pub const DELIVERY_RECORDER_INVALID: &str = "delivery_recorder_invalid";
    /// A decision made concurrently with one the server stored first (`policy::overtaken`).
    pub const DECIDED_CONCURRENTLY: &str = "decided_concurrently";

    /// What a code means, for a person, when only the code is known (a refusal recovered
    /// from the document's history rather than from the check that made it).
    pub fn describe(code: &str) -> &'static str {
        match code {
            IDENTITY_FIXED => "what identifies the document cannot change",
            NOT_ALLOWED_TO_CREATE => "you may not create this document",
            STATUS_TRANSITION_NOT_ALLOWED => "you may not move the document to this status",
            NOT_AUTHOR => "only its author may change this",
            NOT_AUTHOR_OR_COLLEAGUE => "only its author or a colleague may change this",
            NOT_ENTRY_AUTHOR => "only the person who recorded this entry may change it",
            VISIT_SUBMITTED => "the visit is submitted; this can no longer change",
            VISIT_FROZEN => "the visit is decided; this can no longer change",
            NOT_REVIEWER => "only the reviewer may change the review",
            REVIEW_REQUIRED => "a decision needs your review",
            REVIEW_INVALID => "the review must be yours and match the decision",
            COMMENT_REQUIRED => "sending work back needs a comment",
            ORDER_SUBMITTED => "the order is submitted; this can no longer change",
            ORDER_CLOSED => "the order is closed; this can no longer change",
            SUBMITTED_AT_FIXED => "the submission time cannot change",
            KIND_CHANGED => "a document cannot change kind",
            PLAN_SUBMITTED => "the plan is submitted; its entries can no longer change",
            NOT_AUTHOR_OR_SUPERVISOR => {
                "only the order's author or their supervisor or manager may record its delivery"
            }
            ORDER_NOT_SOLD => "only a submitted or approved order can be delivered",
            DELIVERY_RECORDED => "the delivery is recorded; it can no longer change",
            DELIVERY_DATE_INVALID => "a delivery cannot be dated before the order or in the future",
            DELIVERY_RECORDER_INVALID => "a delivery must be recorded in your own name",
            DECIDED_CONCURRENTLY => {
                "another decision on this document reached the server first and stands"
            }
            _ => "the server undid this edit",
        }
    }
}
