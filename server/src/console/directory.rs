//! Names for what documents hold as ids: stores, people, products of the tenant's master data
//! and directory, as they are written (Chinese and English alike).

use std::collections::HashMap;

use fieldsync_shared::master::{Product, Store, UserProfile};
use fieldsync_shared::values::{Sku, StoreId, TenantId, UserId};

use super::error::ConsoleResult;
use crate::state::AppState;

/// The tenant's stores, products and people, by id.
pub struct Directory {
    stores: HashMap<StoreId, Store>,
    products: HashMap<Sku, Product>,
    people: HashMap<UserId, UserProfile>,
}

impl Directory {
    pub async fn load(state: &AppState, tenant: TenantId) -> ConsoleResult<Directory> {
        let master = state.store.master_page(tenant, 0).await?;
        let people = state.store.list_org_users(tenant).await?;
        Ok(Directory {
            stores: master.stores.into_iter().map(|s| (s.id, s)).collect(),
            products: master
                .products
                .into_iter()
                .map(|p| (p.sku.clone(), p))
                .collect(),
            people: people
                .into_iter()
                .map(|u| (u.profile.id, u.profile))
                .collect(),
        })
    }

    pub fn store(&self, id: StoreId) -> Option<&Store> {
        self.stores.get(&id)
    }

    pub fn product(&self, sku: &Sku) -> Option<&Product> {
        self.products.get(sku)
    }

    /// `name (code)`, or the id of a store the master data no longer has.
    pub fn store_name(&self, id: StoreId) -> String {
        match self.stores.get(&id) {
            Some(s) => format!("{} ({})", s.name, s.code),
            None => id.to_string(),
        }
    }

    /// The person's display name, or the id of someone no longer in the directory.
    pub fn person_name(&self, id: UserId) -> String {
        match self.people.get(&id) {
            Some(p) => p.display_name.clone(),
            None => id.to_string(),
        }
    }

    /// The product's name, or nothing for a SKU the master data does not have.
    pub fn product_name(&self, sku: &Sku) -> &str {
        self.products.get(sku).map_or("", |p| p.name.as_str())
    }

    /// Stores sorted by name, for a filter.
    pub fn stores_sorted(&self) -> Vec<&Store> {
        let mut stores: Vec<&Store> = self.stores.values().collect();
        stores.sort_by(|a, b| a.name.cmp(&b.name));
        stores
    }

    /// `ids`' people sorted by name, for a filter.
    pub fn people_sorted<'a>(
        &'a self,
        ids: impl IntoIterator<Item = &'a UserId>,
    ) -> Vec<&'a UserProfile> {
        let mut people: Vec<&UserProfile> = ids
            .into_iter()
            .filter_map(|id| self.people.get(id))
            .collect();
        people.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        people.dedup_by_key(|p| p.id);
        people
    }
}
