//! The organisation as policies see it: roles, how an editor relates to a document's owner,
//! and the view of the organisation from one user ([`OrgView`]). Below both master data (a
//! [`UserProfile`](crate::master::UserProfile) carries a [`Role`]; a master-data page carries
//! the user's [`OrgView`]) and the write policies, which judge an [`Editor`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::values::{ParseError, StoreId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Merchandiser,
    Rep,
    Supervisor,
    Manager,
    Admin,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Merchandiser => "merchandiser",
            Role::Rep => "rep",
            Role::Supervisor => "supervisor",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "merchandiser" => Ok(Role::Merchandiser),
            "rep" => Ok(Role::Rep),
            "supervisor" => Ok(Role::Supervisor),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            other => Err(ParseError::new("role", format!("unknown role {other:?}"))),
        }
    }
}

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

impl Relation {
    /// How the relation reads in a message: "a rep {phrase}".
    pub(crate) fn phrase(&self) -> &'static str {
        match self {
            Relation::Author => "who owns it",
            Relation::Colleague => "working the same store",
            Relation::TeamSupervisor => "supervising its owner",
            Relation::RegionManager => "managing its owner's region",
            Relation::Other => "not involved with it",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Relation::*;
    use Role::*;

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
