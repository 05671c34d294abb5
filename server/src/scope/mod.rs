//! Read scopes (partial replication): which stores, people and documents a principal may see.
//!
//! Reps and merchandisers: the stores of their territories, plus their own documents and the
//! documents of those stores. Supervisors: the same for every member of their teams (and
//! themselves). Managers: for the supervisors and members of the teams of their regions.
//! Admins: the tenant. A document is visible when its store or its owner is in the scope.
//!
//! The same [`ReadScope`] answers "may this principal see/write this document?" for pull,
//! push, queries, photos and master data, and carries the [`OrgView`] that write policies use.
//! SQL filters (pull feed, listings, photos) receive it as [`ReadScope::visibility`]; the
//! predicate they apply is the one of [`ReadScope::can_see`] (docs/read-scopes.md).
//!
//! Routes that name an object by id receive it through [`named::InScope`], which loads it
//! with this scope; who may see a photo is [`photos`].

pub mod named;
pub mod photos;

use std::collections::{BTreeSet, HashSet};

use fieldsync_shared::master::Role;
use fieldsync_shared::org::OrgView;
use fieldsync_shared::values::{StoreId, UserId};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::auth::Principal;
use crate::http::ApiResult;
use crate::store::documents::Visibility;
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

    /// The filter SQL queries apply; `None` for the whole tenant (no filter).
    pub fn visibility(&self) -> Option<Visibility> {
        self.sets().visibility()
    }

    /// The scope as sorted sets (what devices' recorded scopes are compared with).
    pub fn sets(&self) -> ScopeSets {
        if self.whole_tenant {
            return ScopeSets::whole_tenant();
        }
        ScopeSets {
            whole_tenant: false,
            stores: self.stores.iter().copied().collect(),
            people: self.people.iter().copied().collect(),
        }
    }
}

/// A scope as plain sets: what a device's documents reflect, recorded per device by
/// `sync::pull`. Documents visible under it: store in `stores` or owner in `people` (or all of
/// the tenant's with `whole_tenant`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeSets {
    #[serde(default)]
    pub whole_tenant: bool,
    #[serde(default)]
    pub stores: BTreeSet<StoreId>,
    #[serde(default)]
    pub people: BTreeSet<UserId>,
}

impl ScopeSets {
    pub fn whole_tenant() -> ScopeSets {
        ScopeSets {
            whole_tenant: true,
            ..ScopeSets::default()
        }
    }

    /// Every document visible under `self` or `other` is visible under the union.
    pub fn union(&self, other: &ScopeSets) -> ScopeSets {
        if self.whole_tenant || other.whole_tenant {
            return ScopeSets::whole_tenant();
        }
        ScopeSets {
            whole_tenant: false,
            stores: self.stores.union(&other.stores).copied().collect(),
            people: self.people.union(&other.people).copied().collect(),
        }
    }

    /// A document visible under the intersection is visible under both `self` and `other`
    /// (the converse does not hold: a store of one and an owner of the other).
    pub fn intersection(&self, other: &ScopeSets) -> ScopeSets {
        match (self.whole_tenant, other.whole_tenant) {
            (true, _) => other.clone(),
            (_, true) => self.clone(),
            _ => ScopeSets {
                whole_tenant: false,
                stores: self.stores.intersection(&other.stores).copied().collect(),
                people: self.people.intersection(&other.people).copied().collect(),
            },
        }
    }

    /// A short stable name of the sets: equal sets, equal fingerprints.
    pub fn fingerprint(&self) -> String {
        let mut h = sha2::Sha256::new();
        h.update(if self.whole_tenant { b"w" } else { b"s" });
        for s in &self.stores {
            h.update(b"|s");
            h.update(s.to_string().as_bytes());
        }
        for p in &self.people {
            h.update(b"|p");
            h.update(p.to_string().as_bytes());
        }
        hex::encode(&h.finalize()[..16])
    }

    /// The SQL filter of these sets; `None` for the whole tenant.
    pub fn visibility(&self) -> Option<Visibility> {
        (!self.whole_tenant).then(|| Visibility {
            stores: self.stores.iter().copied().collect(),
            people: self.people.iter().copied().collect(),
        })
    }
}

/// The scope of `principal`, read from the organisation tables (one statement; admins none).
pub async fn read_scope(store: &dyn Store, principal: &Principal) -> ApiResult<ReadScope> {
    let me = principal.user_id;
    if principal.role == Role::Admin {
        return Ok(ReadScope {
            whole_tenant: true,
            stores: HashSet::new(),
            people: HashSet::from([me]),
            org: OrgView::solo(me, principal.role),
        });
    }
    let rows = store
        .scope_rows(principal.tenant_id, me, principal.role)
        .await?;
    let mut org = OrgView::solo(me, principal.role);
    match principal.role {
        Role::Supervisor => org.team_members = rows.people.iter().copied().collect(),
        Role::Manager => org.region_members = rows.people.iter().copied().collect(),
        Role::Rep | Role::Merchandiser => {
            org.territory_stores = rows.own_stores.iter().copied().collect();
        }
        Role::Admin => {}
    }
    let mut people: HashSet<UserId> = rows.people.into_iter().collect();
    people.insert(me);
    Ok(ReadScope {
        whole_tenant: false,
        stores: rows.stores.into_iter().collect(),
        people,
        org,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(stores: &[StoreId], people: &[UserId]) -> ScopeSets {
        ScopeSets {
            whole_tenant: false,
            stores: stores.iter().copied().collect(),
            people: people.iter().copied().collect(),
        }
    }

    #[test]
    fn fingerprints_name_the_sets() {
        let (a, b) = (StoreId::new_random(), StoreId::new_random());
        let p = UserId::new_random();
        assert_eq!(
            sets(&[a, b], &[p]).fingerprint(),
            sets(&[b, a], &[p]).fingerprint()
        );
        assert_ne!(
            sets(&[a], &[p]).fingerprint(),
            sets(&[a, b], &[p]).fingerprint()
        );
        assert_ne!(
            sets(&[], &[]).fingerprint(),
            ScopeSets::whole_tenant().fingerprint()
        );
    }

    #[test]
    fn union_and_intersection_bound_what_a_device_may_hold() {
        let (a, b, c) = (
            StoreId::new_random(),
            StoreId::new_random(),
            StoreId::new_random(),
        );
        let (p, q) = (UserId::new_random(), UserId::new_random());
        let x = sets(&[a, b], &[p]);
        let y = sets(&[b, c], &[p, q]);
        assert_eq!(x.union(&y), sets(&[a, b, c], &[p, q]));
        assert_eq!(x.intersection(&y), sets(&[b], &[p]));
        let all = ScopeSets::whole_tenant();
        assert_eq!(x.union(&all), all);
        assert_eq!(x.intersection(&all), x);
        assert_eq!(all.visibility(), None);
        assert_eq!(x.visibility().unwrap().stores.len(), 2);
    }
}
