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
use crate::order::Order;
use crate::values::{StoreId, UserId};
use crate::visit::Visit;

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

/// Refused effects of changing a visit from `before` (`None`: the batch creates it) to `after`.
/// Empty: allowed.
pub fn check_visit(editor: &Editor, before: Option<&Visit>, after: &Visit) -> Vec<Refusal> {
    let _ = (editor, before, after);
    Vec::new()
}

/// Refused effects of changing an order from `before` (`None`: creation) to `after`.
pub fn check_order(editor: &Editor, before: Option<&Order>, after: &Order) -> Vec<Refusal> {
    let _ = (editor, before, after);
    Vec::new()
}

/// Either kind. `before` and `after` must be of the same kind.
pub fn check(editor: &Editor, before: Option<&AnyDocument>, after: &AnyDocument) -> Vec<Refusal> {
    match (before, after) {
        (None, AnyDocument::Visit(a)) => check_visit(editor, None, a),
        (Some(AnyDocument::Visit(b)), AnyDocument::Visit(a)) => check_visit(editor, Some(b), a),
        (None, AnyDocument::Order(a)) => check_order(editor, None, a),
        (Some(AnyDocument::Order(b)), AnyDocument::Order(a)) => check_order(editor, Some(b), a),
        _ => vec![Refusal {
            field: Field::Identity,
            code: "kind_changed".into(),
            message: "a document cannot change kind".into(),
        }],
    }
}

/// `after` with every refused field put back as it was in `before`: what the server reconciles
/// into the merged document as its compensating change.
pub fn compensate(before: &AnyDocument, after: &AnyDocument, refused: &[Refusal]) -> AnyDocument {
    let _ = (before, refused);
    after.clone()
}
