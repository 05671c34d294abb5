//! Territories: the stores a set of reps and merchandisers cover, and the all-or-nothing
//! import by name.

use fieldsync_shared::{StoreId, TenantId, UserId};
use uuid::Uuid;

use super::writes::{RowWrites, Write};
use super::ImportCounts;
use crate::store::decode::{group, store_id_of, user_id_of, uuid_of};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::StoreResult;

/// The stores a set of reps and merchandisers cover (both lists sorted by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Territory {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    pub store_ids: Vec<StoreId>,
    pub user_ids: Vec<UserId>,
}

/// One territory of an import, upserted by name; its stores and users are replaced.
#[derive(Debug, Clone)]
pub struct TerritoryImport {
    /// The id the territory gets if it is new.
    pub new_id: Uuid,
    pub name: String,
    pub store_ids: Vec<StoreId>,
    pub user_ids: Vec<UserId>,
}

/// Territories: the stores their reps and merchandisers cover.
#[async_trait::async_trait]
pub trait TerritoryStore: Send + Sync {
    async fn create_territory(&self, territory: &Territory) -> StoreResult<()>;
    async fn list_territories(&self, tenant: TenantId) -> StoreResult<Vec<Territory>>;
    async fn get_territory(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Territory>>;
    /// Rewrites name, stores and users; `NotFound` if any of them is not this tenant's.
    async fn update_territory(&self, territory: &Territory) -> StoreResult<()>;
    /// Upserts territories by name (replacing their stores and users) in ONE transaction.
    async fn import_territories(
        &self,
        tenant: TenantId,
        rows: &[TerritoryImport],
    ) -> StoreResult<ImportCounts>;
}

/// A territory's own row.
const TERRITORY_ROW: RowWrites = RowWrites {
    what: "territory",
    insert: "INSERT INTO territories (id, tenant_id, name, created_at) VALUES ($1, $2, $3, $4)",
    update: "UPDATE territories SET name = $3 WHERE id = $1 AND tenant_id = $2",
};

macro_rules! territory_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn org_territories(
                &self,
                tenant: TenantId,
                only: Option<Uuid>,
            ) -> StoreResult<Vec<Territory>> {
                let tid = tenant.to_string();
                let only = only.map(|id| id.to_string());
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT id, name FROM territories \
                     WHERE tenant_id = $1 AND ($2 IS NULL OR id = $2) ORDER BY name",
                )
                .bind(&tid)
                .bind(only.as_deref())
                .fetch_all(self.pool())
                .await?;
                let stores: Vec<(String, String)> = sqlx::query_as(
                    "SELECT territory_id, store_id FROM territory_stores WHERE tenant_id = $1 \
                     ORDER BY territory_id, store_id",
                )
                .bind(&tid)
                .fetch_all(self.pool())
                .await?;
                let users: Vec<(String, String)> = sqlx::query_as(
                    "SELECT territory_id, user_id FROM territory_assignments WHERE tenant_id = $1 \
                     ORDER BY territory_id, user_id",
                )
                .bind(&tid)
                .fetch_all(self.pool())
                .await?;
                let mut stores = group(stores, store_id_of)?;
                let mut users = group(users, user_id_of)?;
                rows.into_iter()
                    .map(|(id, name)| {
                        Ok(Territory {
                            id: uuid_of(&id)?,
                            tenant_id: tenant,
                            name,
                            store_ids: stores.remove(&id).unwrap_or_default(),
                            user_ids: users.remove(&id).unwrap_or_default(),
                        })
                    })
                    .collect()
            }

            /// Writes territory `id`'s row and replaces its stores and users.
            async fn org_write_territory(
                tx: &mut sqlx::Transaction<'static, $db>,
                tid: &str,
                id: &str,
                write: Write,
                name: &str,
                stores: &[StoreId],
                users: &[UserId],
            ) -> StoreResult<()> {
                let values = [Some(id), Some(tid), Some(name)];
                Self::org_write_row(tx, &TERRITORY_ROW, write, &values).await?;
                Self::org_write_territory_links(tx, tid, id, stores, users).await
            }

            /// [`Self::org_write_territory`] in a transaction of its own.
            async fn org_write_one_territory(
                &self,
                territory: &Territory,
                write: Write,
            ) -> StoreResult<()> {
                let tid = territory.tenant_id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                Self::org_write_territory(
                    &mut tx,
                    &tid,
                    &territory.id.to_string(),
                    write,
                    &territory.name,
                    &territory.store_ids,
                    &territory.user_ids,
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl TerritoryStore for $store {
            #[tracing::instrument(skip(self, territory), fields(name = %territory.name))]
            async fn create_territory(&self, territory: &Territory) -> StoreResult<()> {
                self.org_write_one_territory(territory, Write::Create).await
            }

            async fn list_territories(&self, tenant: TenantId) -> StoreResult<Vec<Territory>> {
                self.org_territories(tenant, None).await
            }

            async fn get_territory(
                &self,
                tenant: TenantId,
                id: Uuid,
            ) -> StoreResult<Option<Territory>> {
                Ok(self.org_territories(tenant, Some(id)).await?.pop())
            }

            #[tracing::instrument(skip(self, territory), fields(territory = %territory.id))]
            async fn update_territory(&self, territory: &Territory) -> StoreResult<()> {
                self.org_write_one_territory(territory, Write::Update).await
            }

            #[tracing::instrument(skip(self, rows), fields(count = rows.len()))]
            async fn import_territories(
                &self,
                tenant: TenantId,
                rows: &[TerritoryImport],
            ) -> StoreResult<ImportCounts> {
                let tid = tenant.to_string();
                let mut counts = ImportCounts::default();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                for row in rows {
                    let existing: Option<String> = sqlx::query_scalar(
                        "SELECT id FROM territories WHERE tenant_id = $1 AND name = $2",
                    )
                    .bind(&tid)
                    .bind(&row.name)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let (id, write) = match existing {
                        Some(id) => {
                            counts.updated += 1;
                            (id, Write::Update)
                        }
                        None => {
                            counts.created += 1;
                            (row.new_id.to_string(), Write::Create)
                        }
                    };
                    Self::org_write_territory(
                        &mut tx,
                        &tid,
                        &id,
                        write,
                        &row.name,
                        &row.store_ids,
                        &row.user_ids,
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok(counts)
            }
        }
    };
}

territory_store!(SqliteStore, sqlx::Sqlite);
territory_store!(PgStore, sqlx::Postgres);
