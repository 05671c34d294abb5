//! Regions: a manager's teams are the teams of their region.

use fieldsync_shared::{TenantId, UserId};
use uuid::Uuid;

use super::writes::{Owned, RowWrites, Write};
use crate::store::decode::{opt_user, uuid_of};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::StoreResult;

/// A manager's region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    pub manager_id: Option<UserId>,
}

/// Managers' regions.
#[async_trait::async_trait]
pub trait RegionStore: Send + Sync {
    /// `Conflict` if the name is taken.
    async fn create_region(&self, region: &Region) -> StoreResult<()>;
    async fn list_regions(&self, tenant: TenantId) -> StoreResult<Vec<Region>>;
    async fn get_region(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Region>>;
    /// Rewrites name and manager; `NotFound` if absent.
    async fn update_region(&self, region: &Region) -> StoreResult<()>;
}

/// A region's own row.
const REGION_ROW: RowWrites = RowWrites {
    what: "region",
    insert: "INSERT INTO regions (id, tenant_id, name, manager_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
    update: "UPDATE regions SET name = $3, manager_id = $4 WHERE id = $1 AND tenant_id = $2",
};

macro_rules! region_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn org_write_region(&self, region: &Region, write: Write) -> StoreResult<()> {
                let tid = region.tenant_id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                let manager = region.manager_id.map(|m| m.to_string());
                Self::org_check_opt(&mut tx, &tid, Owned::User, manager.as_deref()).await?;
                let id = region.id.to_string();
                let values = [
                    Some(id.as_str()),
                    Some(tid.as_str()),
                    Some(region.name.as_str()),
                    manager.as_deref(),
                ];
                Self::org_write_row(&mut tx, &REGION_ROW, write, &values).await?;
                tx.commit().await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl RegionStore for $store {
            #[tracing::instrument(skip(self, region), fields(name = %region.name))]
            async fn create_region(&self, region: &Region) -> StoreResult<()> {
                self.org_write_region(region, Write::Create).await
            }

            #[tracing::instrument(skip(self))]
            async fn list_regions(&self, tenant: TenantId) -> StoreResult<Vec<Region>> {
                let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
                    "SELECT id, name, manager_id FROM regions WHERE tenant_id = $1 ORDER BY name",
                )
                .bind(tenant.to_string())
                .fetch_all(self.pool())
                .await?;
                rows.into_iter()
                    .map(|(id, name, manager)| {
                        Ok(Region {
                            id: uuid_of(&id)?,
                            tenant_id: tenant,
                            name,
                            manager_id: opt_user(manager)?,
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip(self))]
            async fn get_region(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Region>> {
                Ok(self
                    .list_regions(tenant)
                    .await?
                    .into_iter()
                    .find(|r| r.id == id))
            }

            #[tracing::instrument(skip(self, region), fields(region = %region.id))]
            async fn update_region(&self, region: &Region) -> StoreResult<()> {
                self.org_write_region(region, Write::Update).await
            }
        }
    };
}

region_store!(SqliteStore, sqlx::Sqlite);
region_store!(PgStore, sqlx::Postgres);
