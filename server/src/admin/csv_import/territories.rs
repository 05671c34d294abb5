//! `territories` files: one row a (territory, store) or (territory, user) pair; a territory's
//! rows together replace its stores and users.

use std::collections::HashMap;

use fieldsync_shared::master::Role;
use fieldsync_shared::{StoreCode, TenantId, UserId};

use super::pipeline::{Columns, Errors, ImportError, NewRows, Row, RowImport};
use crate::store::organisation::{ImportCounts, TerritoryImport};
use crate::store::Store as DataStore;
use fieldsync_shared::values::Name;

pub const COLUMNS: Columns = Columns {
    required: &["territory"],
    optional: &["store_code", "username"],
};

pub(super) struct TerritoryRows(Vec<TerritoryImport>);

#[async_trait::async_trait]
impl RowImport for TerritoryRows {
    async fn check(
        store: &dyn DataStore,
        tenant: TenantId,
        rows: &[Row],
        new: &dyn NewRows,
        errors: &mut Errors,
    ) -> Result<Self, ImportError> {
        let stores = super::stores::ids_by_code(store, tenant).await?;
        let users: HashMap<String, (UserId, Role)> = store
            .list_org_users(tenant)
            .await?
            .into_iter()
            .map(|u| (u.profile.username, (u.profile.id, u.profile.role)))
            .collect();
        // Territory name -> (stores, users), in first-seen order.
        let mut order: Vec<String> = Vec::new();
        let mut by_name: HashMap<String, TerritoryImport> = HashMap::new();
        for r in rows {
            let Some(name) = r.parse(errors, "territory", Name::parse) else {
                continue;
            };
            let name = name.as_str().to_string();
            let entry = by_name.entry(name.clone()).or_insert_with(|| {
                order.push(name.clone());
                TerritoryImport {
                    new_id: new.territory_id(&name),
                    name,
                    store_ids: Vec::new(),
                    user_ids: Vec::new(),
                }
            });
            if let Some(s) = r.opt("store_code").filter(|s| !s.is_empty()) {
                if let Some(id) = r.parse(errors, "store_code", |_| {
                    let code = StoreCode::parse(s).map_err(|e| e.to_string())?;
                    stores
                        .get(&code)
                        .copied()
                        .ok_or_else(|| format!("no store with code {code}"))
                }) {
                    entry.store_ids.push(id);
                }
            }
            if let Some(u) = r.opt("username").filter(|u| !u.is_empty()) {
                if let Some(id) = r.parse(errors, "username", |_| {
                    let name = crate::auth::normalize_username(u);
                    match users.get(&name) {
                        None => Err(format!("no user named `{name}`")),
                        Some((id, Role::Rep | Role::Merchandiser)) => Ok(*id),
                        Some((_, role)) => Err(format!(
                            "`{name}` is a {}: only reps and merchandisers cover territories",
                            role.as_str()
                        )),
                    }
                }) {
                    entry.user_ids.push(id);
                }
            }
        }
        let territories = order
            .into_iter()
            .filter_map(|n| by_name.remove(&n))
            .map(|mut t| {
                t.store_ids.sort();
                t.store_ids.dedup();
                t.user_ids.sort();
                t.user_ids.dedup();
                t
            })
            .collect();
        Ok(TerritoryRows(territories))
    }

    async fn write(
        self,
        store: &dyn DataStore,
        tenant: TenantId,
    ) -> Result<ImportCounts, ImportError> {
        Ok(store.import_territories(tenant, &self.0).await?)
    }
}
