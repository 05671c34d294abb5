//! Read scopes (partial replication): which stores, people and documents a principal may see.
//!
//! Reps and merchandisers: the stores of their territories, plus their own documents and the
//! documents of those stores. Supervisors: the same for every member of their teams (and
//! themselves). Managers: for every member of the teams of their regions. Admins: the tenant.
//! A document is visible when its store or its owner is in the scope.
//!
//! The same [`ReadScope`] answers "may this principal see/write this document?" for pull,
//! push, queries, photos and master data, and carries the [`OrgView`] that write policies use.

use std::collections::HashSet;

use fieldsync_shared::policy::OrgView;
use fieldsync_shared::values::{StoreId, UserId};

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::store::Store;

/// What one principal may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadScope {
    /// `true`: the whole tenant (admins).
    pub whole_tenant: bool,
    /// Stores in the scope.
    pub stores: HashSet<StoreId>,
    /// Owners (`person_id`) whose documents are in the scope; always includes the user.
    pub people: HashSet<UserId>,
    /// The principal's place in the organisation, for write policies.
    pub org: OrgView,
}

impl ReadScope {
    /// May a document of `store` owned by `person` be seen (and, policy permitting, written)?
    pub fn can_see(&self, store: StoreId, person: UserId) -> bool {
        self.whole_tenant || self.people.contains(&person) || self.stores.contains(&store)
    }

    pub fn can_see_store(&self, store: StoreId) -> bool {
        self.whole_tenant || self.stores.contains(&store)
    }
}

/// The scope of `principal`, read from the organisation tables.
pub async fn read_scope(store: &dyn Store, principal: &Principal) -> ApiResult<ReadScope> {
    // Placeholder until the organisation queries land: the whole tenant, no team.
    let _ = store;
    Ok(ReadScope {
        whole_tenant: true,
        stores: HashSet::new(),
        people: HashSet::from([principal.user_id]),
        org: OrgView::solo(principal.user_id, principal.role),
    })
}
