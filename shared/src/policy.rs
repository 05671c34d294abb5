//! Write policies: who may change which part of a document, in which status.
//!
//! A policy sees (editor, document before, document after) and lists the effects it refuses.
//! The device runs it before committing a local edit (and refuses the edit with a typed error);
//! the server runs it on the effect of each pushed batch (stored document before the merge vs
//! after) and neutralises refused effects with a compensating change built by [`compensate`].
//! Both sides call the same functions, so a device and the server never disagree.
//!
//! Effects are judged per [`Field`]: a batch whose steps are allowed but whose review is not
//! keeps its steps and loses its review.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::document::AnyDocument;
use crate::master::Role;
use crate::order::{Order, OrderStatus};
use crate::values::{StoreId, UserId};
use crate::visit::{ReviewDecision, Visit, VisitStatus};

/// How the editor relates to the person who owns the document (`person_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The editor is the document's owner.
    Author,
    /// A rep or merchandiser whose territory covers the document's store (they work a visit
    /// together with its owner: audit, photos, steps, notes).
    Colleague,
    /// The editor supervises the team the owner belongs to.
    TeamSupervisor,
    /// The editor manages the region of the owner's team.
    RegionManager,
    /// None of the above.
    Other,
}

/// Who is editing, as both the device and the server can establish it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Editor {
    pub user_id: UserId,
    pub role: Role,
    pub relation: Relation,
}

/// What a user's organisation looks like from where they stand: enough to compute the
/// [`Relation`] to any document owner. The server computes it from its tables; devices receive
/// it with master data (`MasterDataPage::org`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgView {
    pub user_id: UserId,
    pub role: Role,
    /// Members of the teams this user supervises (empty unless a supervisor).
    #[serde(default)]
    pub team_members: BTreeSet<UserId>,
    /// People in the teams of the regions this user manages (empty unless a manager).
    #[serde(default)]
    pub region_members: BTreeSet<UserId>,
    /// Stores of the user's own territories (reps and merchandisers).
    #[serde(default)]
    pub territory_stores: BTreeSet<StoreId>,
}

impl OrgView {
    /// A view that knows only the user themself (no team, no region).
    pub fn solo(user_id: UserId, role: Role) -> Self {
        OrgView {
            user_id,
            role,
            team_members: BTreeSet::new(),
            region_members: BTreeSet::new(),
            territory_stores: BTreeSet::new(),
        }
    }

    /// The editor this user is for a document of `store` owned by `owner`.
    pub fn editor_for(&self, owner: UserId, store: StoreId) -> Editor {
        let field_role = matches!(self.role, Role::Rep | Role::Merchandiser);
        let relation = if owner == self.user_id {
            Relation::Author
        } else if self.role == Role::Supervisor && self.team_members.contains(&owner) {
            Relation::TeamSupervisor
        } else if self.role == Role::Manager && self.region_members.contains(&owner) {
            Relation::RegionManager
        } else if field_role && self.territory_stores.contains(&store) {
            Relation::Colleague
        } else {
            Relation::Other
        };
        Editor {
            user_id: self.user_id,
            role: self.role,
            relation,
        }
    }
}

/// The parts of a document policies speak about. Wire name: [`Field::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Fields fixed at creation: id, schema, owner, store, dates of record, order number.
    Identity,
    Status,
    CheckIn,
    CheckOut,
    Steps,
    Audit,
    Photos,
    Notes,
    Review,
    /// Order lines.
    Lines,
    /// Order payment method and requested delivery date.
    Terms,
    /// Order `submitted_at`.
    SubmittedAt,
}

impl Field {
    pub fn as_str(&self) -> &'static str {
        match self {
            Field::Identity => "identity",
            Field::Status => "status",
            Field::CheckIn => "check_in",
            Field::CheckOut => "check_out",
            Field::Steps => "steps",
            Field::Audit => "audit",
            Field::Photos => "photos",
            Field::Notes => "notes",
            Field::Review => "review",
            Field::Lines => "lines",
            Field::Terms => "terms",
            Field::SubmittedAt => "submitted_at",
        }
    }
}

/// One refused effect: which field, a stable code, a message for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub field: Field,
    /// Stable snake_case code, e.g. `visit_frozen`, `not_author`, `comment_required`.
    pub code: String,
    pub message: String,
}

impl Refusal {
    fn new(field: Field, code: &str, message: impl Into<String>) -> Self {
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
}

impl Relation {
    /// How the relation reads in a message: "a rep {phrase}".
    fn phrase(&self) -> &'static str {
        match self {
            Relation::Author => "who owns it",
            Relation::Colleague => "working the same store",
            Relation::TeamSupervisor => "supervising its owner",
            Relation::RegionManager => "managing its owner's region",
            Relation::Other => "not involved with it",
        }
    }
}

/// True when `to` can be reached from `from` through `edges` (zero or more moves).
fn reachable<S: Copy + Eq>(edges: &[(S, S)], from: S, to: S) -> bool {
    let mut seen = vec![from];
    let mut next = 0;
    while next < seen.len() {
        if seen[next] == to {
            return true;
        }
        let at = seen[next];
        for &(a, b) in edges {
            if a == at && !seen.contains(&b) {
                seen.push(b);
            }
        }
        next += 1;
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Visits
// ---------------------------------------------------------------------------------------------

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

/// The visit fields `field` stands for differ between `a` and `b`.
fn visit_field_differs(field: Field, a: &Visit, b: &Visit) -> bool {
    match field {
        Field::Identity => {
            a.schema != b.schema
                || a.id != b.id
                || a.store_id != b.store_id
                || a.person_id != b.person_id
                || a.planned_date != b.planned_date
        }
        Field::Status => a.status != b.status,
        Field::CheckIn => a.check_in != b.check_in,
        Field::CheckOut => a.check_out != b.check_out,
        Field::Steps => a.steps != b.steps,
        Field::Audit => a.audit != b.audit,
        Field::Photos => a.photos != b.photos,
        Field::Notes => a.notes != b.notes,
        Field::Review => a.review != b.review,
        Field::Lines | Field::Terms | Field::SubmittedAt => false,
    }
}

/// In the order refusals are reported: the status last, so that the first refusal of an
/// edit says what is wrong with the edit itself ("submitted", "not the author") before the
/// status move that comes with it.
const VISIT_FIELDS: [Field; 9] = [
    Field::Identity,
    Field::CheckIn,
    Field::CheckOut,
    Field::Steps,
    Field::Audit,
    Field::Photos,
    Field::Notes,
    Field::Status,
    Field::Review,
];

/// What is wrong with the review a reviewer's status move carries, if anything.
fn review_problem(editor: &Editor, before: &Visit, after: &Visit) -> Option<Refusal> {
    let decision = match after.status {
        VisitStatus::Approved => ReviewDecision::Approved,
        _ => ReviewDecision::Rejected,
    };
    let Some(review) = after
        .review
        .as_ref()
        .filter(|_| after.review != before.review)
    else {
        return Some(Refusal::new(
            Field::Status,
            codes::REVIEW_REQUIRED,
            format!("to mark this visit {} add your review", after.status),
        ));
    };
    if review.by != editor.user_id || review.decision != decision {
        return Some(Refusal::new(
            Field::Review,
            codes::REVIEW_INVALID,
            format!(
                "the review must be yours and say {decision}, as the visit becomes {}",
                after.status
            ),
        ));
    }
    let has_comment = review
        .comment
        .as_ref()
        .is_some_and(|c| !c.as_str().trim().is_empty());
    if decision == ReviewDecision::Rejected && !has_comment {
        return Some(Refusal::new(
            Field::Review,
            codes::COMMENT_REQUIRED,
            "say what has to be reworked: a comment is required to send a visit back",
        ));
    }
    None
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
        if !visit_field_differs(field, before, after) {
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
            Field::Steps | Field::Audit | Field::Photos | Field::Notes => {
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
            Field::Lines | Field::Terms | Field::SubmittedAt => None,
        };
        out.extend(refusal);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------

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

/// The order fields `field` stands for differ between `a` and `b`.
fn order_field_differs(field: Field, a: &Order, b: &Order) -> bool {
    match field {
        Field::Identity => {
            a.schema != b.schema
                || a.id != b.id
                || a.number != b.number
                || a.store_id != b.store_id
                || a.person_id != b.person_id
                || a.visit_id != b.visit_id
                || a.order_date != b.order_date
                || a.created_at != b.created_at
        }
        Field::Status => a.status != b.status,
        Field::Lines => a.lines != b.lines,
        Field::Terms => a.payment != b.payment || a.requested_delivery != b.requested_delivery,
        Field::Notes => a.notes != b.notes,
        Field::SubmittedAt => a.submitted_at != b.submitted_at,
        Field::CheckIn
        | Field::CheckOut
        | Field::Steps
        | Field::Audit
        | Field::Photos
        | Field::Review => false,
    }
}

const ORDER_FIELDS: [Field; 6] = [
    Field::Identity,
    Field::Status,
    Field::Lines,
    Field::Terms,
    Field::Notes,
    Field::SubmittedAt,
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
    out
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
        if !order_field_differs(field, before, after) {
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

// ---------------------------------------------------------------------------------------------
// Either kind
// ---------------------------------------------------------------------------------------------

/// Either kind. `before` and `after` must be of the same kind.
pub fn check(editor: &Editor, before: Option<&AnyDocument>, after: &AnyDocument) -> Vec<Refusal> {
    match (before, after) {
        (None, AnyDocument::Visit(a)) => check_visit(editor, None, a),
        (Some(AnyDocument::Visit(b)), AnyDocument::Visit(a)) => check_visit(editor, Some(b), a),
        (None, AnyDocument::Order(a)) => check_order(editor, None, a),
        (Some(AnyDocument::Order(b)), AnyDocument::Order(a)) => check_order(editor, Some(b), a),
        _ => vec![Refusal::new(
            Field::Identity,
            codes::KIND_CHANGED,
            "a document cannot change kind",
        )],
    }
}

/// `after` with every refused field put back as it was in `before`: what the server reconciles
/// into the merged document as its compensating change. Exactly the refused fields are put
/// back; fields whose fate is linked (a reviewer's status move and its review, an approver's
/// note and their move) are refused together by [`check`], so compensating never leaves half
/// of such a change. Notes are put back with [`Text::update`], i.e. as splices on a hydrated
/// text, so the compensation reconciles as edits of the merged text.
///
/// [`Text::update`]: autosurgeon::Text::update
pub fn compensate(before: &AnyDocument, after: &AnyDocument, refused: &[Refusal]) -> AnyDocument {
    let refused: BTreeSet<Field> = refused.iter().map(|r| r.field).collect();
    match (before, after) {
        (AnyDocument::Visit(b), AnyDocument::Visit(a)) => {
            AnyDocument::Visit(compensate_visit(b, a, &refused))
        }
        (AnyDocument::Order(b), AnyDocument::Order(a)) => {
            AnyDocument::Order(compensate_order(b, a, &refused))
        }
        // A change of kind is refused as a whole.
        _ => before.clone(),
    }
}

fn compensate_visit(before: &Visit, after: &Visit, refused: &BTreeSet<Field>) -> Visit {
    let mut out = after.clone();
    for field in refused {
        match field {
            Field::Identity => {
                out.schema = before.schema;
                out.id = before.id;
                out.store_id = before.store_id;
                out.person_id = before.person_id;
                out.planned_date = before.planned_date;
            }
            Field::Status => out.status = before.status,
            Field::CheckIn => out.check_in = before.check_in.clone(),
            Field::CheckOut => out.check_out = before.check_out.clone(),
            Field::Steps => out.steps = before.steps.clone(),
            Field::Audit => out.audit = before.audit.clone(),
            Field::Photos => out.photos = before.photos.clone(),
            Field::Notes => out.notes.update(before.notes.as_str()),
            Field::Review => out.review = before.review.clone(),
            Field::Lines | Field::Terms | Field::SubmittedAt => {}
        }
    }
    out
}

fn compensate_order(before: &Order, after: &Order, refused: &BTreeSet<Field>) -> Order {
    let mut out = after.clone();
    for field in refused {
        match field {
            Field::Identity => {
                out.schema = before.schema;
                out.id = before.id;
                out.number = before.number.clone();
                out.store_id = before.store_id;
                out.person_id = before.person_id;
                out.visit_id = before.visit_id;
                out.order_date = before.order_date;
                out.created_at = before.created_at;
            }
            Field::Status => out.status = before.status,
            Field::Lines => out.lines = before.lines.clone(),
            Field::Terms => {
                out.payment = before.payment;
                out.requested_delivery = before.requested_delivery;
            }
            Field::Notes => out.notes.update(before.notes.as_str()),
            Field::SubmittedAt => out.submitted_at = before.submitted_at,
            Field::CheckIn
            | Field::CheckOut
            | Field::Steps
            | Field::Audit
            | Field::Photos
            | Field::Review => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use autosurgeon::Text;

    use super::*;
    use crate::order::PaymentMethod;
    use crate::testkit;
    use crate::values::{ShortText, StoreId, Timestamp};
    use crate::visit::{Review, VisitStep};
    use OrderStatus as O;
    use Relation::*;
    use Role::*;
    use VisitStatus as V;

    const ROLES: [Role; 5] = [Merchandiser, Rep, Supervisor, Manager, Admin];
    const RELATIONS: [Relation; 5] = [Author, Colleague, TeamSupervisor, RegionManager, Other];

    fn editor(role: Role, relation: Relation, owner: UserId) -> Editor {
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

    fn codes_of(refusals: &[Refusal]) -> Vec<&str> {
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
            VEdit::Audit => {
                testkit::add_line(v, testkit::audit_line("COLA-330", "A1", 3, ed.user_id))
            }
            VEdit::Photos => testkit::add_photo(v, testkit::photo(b"new shelf", 7_000, ed.user_id)),
            VEdit::Notes => v.notes = Text::with_value(format!("{}\nmore", v.notes.as_str())),
            VEdit::ReviewOnly => {
                v.review = Some(review(ed.user_id, ReviewDecision::Approved, "ok"))
            }
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

    const NOT_ALLOWED: &str = codes::STATUS_TRANSITION_NOT_ALLOWED;

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
        }
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
    fn assert_compensation(
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
            (AnyDocument::Visit(a), AnyDocument::Visit(b)) => visit_field_differs(f, a, b),
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
                        let (before, after) =
                            (AnyDocument::Visit(before), AnyDocument::Visit(after));
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
            (AnyDocument::Order(a), AnyDocument::Order(b)) => order_field_differs(f, a, b),
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
                        let (before, after) =
                            (AnyDocument::Order(before), AnyDocument::Order(after));
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

    #[test]
    fn editor_for_finds_the_relation() {
        let me = UserId::new_random();
        let member = UserId::new_random();
        let store = StoreId::new_random();
        let mut sup = OrgView::solo(me, Supervisor);
        sup.team_members.insert(member);
        assert_eq!(sup.editor_for(member, store).relation, TeamSupervisor);
        assert_eq!(sup.editor_for(me, store).relation, Author);
        assert_eq!(sup.editor_for(UserId::new_random(), store).relation, Other);
        let mut rep = OrgView::solo(me, Rep);
        rep.territory_stores.insert(store);
        assert_eq!(rep.editor_for(member, store).relation, Colleague);
        assert_eq!(
            rep.editor_for(member, StoreId::new_random()).relation,
            Other
        );
    }
}
