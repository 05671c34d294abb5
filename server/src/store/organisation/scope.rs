//! A user's read scope as organisation rows (people and stores), the organisation's version,
//! and the scope each device's documents were last pulled for.

use fieldsync_shared::master::Role;
use fieldsync_shared::{DeviceId, StoreId, TenantId, Timestamp, UserId};

use crate::store::decode::{json_ids, parse_json_ids, store_id_of, user_id_of};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{StoreError, StoreResult};

/// The organisation rows a user's read scope is made of (`crate::scope::read_scope`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeRows {
    /// Whose documents the user sees besides their own: a supervisor's team members; a
    /// manager's region people (the supervisors and members of the region's teams). Sorted,
    /// without the user.
    pub people: Vec<UserId>,
    /// The stores of the territories assigned to the user or to `people`, sorted.
    pub stores: Vec<StoreId>,
    /// The stores of the territories assigned to the user themself, sorted.
    pub own_stores: Vec<StoreId>,
}

/// The read scope a device's documents reflect, as `sync::pull` last recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceScopeRow {
    pub device_id: DeviceId,
    pub tenant_id: TenantId,
    pub fingerprint: String,
    pub whole_tenant: bool,
    pub stores: Vec<StoreId>,
    pub people: Vec<UserId>,
    /// Opaque here (JSON owned by `sync::pull`): an unfinished change of scope and the pages
    /// of it handed out.
    pub progress: Option<String>,
}

/// `device_scopes` columns: fingerprint, whole_tenant, stores, people, progress.
type DeviceScopeColumns = (String, bool, String, String, Option<String>);

/// What `sync::pull` reads and records about a user's read scope.
#[async_trait::async_trait]
pub trait ScopeStore: Send + Sync {
    /// The rows of `user`'s read scope for `role`, in one statement.
    async fn scope_rows(
        &self,
        tenant: TenantId,
        user: UserId,
        role: Role,
    ) -> StoreResult<ScopeRows>;
    /// The master data version of the tenant's latest organisation change (0: none).
    async fn org_version(&self, tenant: TenantId) -> StoreResult<i64>;
    /// The recorded scope of `device` in `tenant`.
    async fn device_scope(
        &self,
        tenant: TenantId,
        device: DeviceId,
    ) -> StoreResult<Option<DeviceScopeRow>>;
    /// Inserts or replaces the device's row.
    async fn put_device_scope(&self, row: &DeviceScopeRow) -> StoreResult<()>;
}

macro_rules! scope_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl ScopeStore for $store {
            #[tracing::instrument(skip(self))]
            async fn scope_rows(
                &self,
                tenant: TenantId,
                user: UserId,
                role: Role,
            ) -> StoreResult<ScopeRows> {
                // People first (a supervisor's team members; a manager's region teams with
                // their supervisors), then the stores of the territories of the user and of
                // those people. Every join follows an index (teams_supervisor, teams_region,
                // team_members_team, territory_assignments_user, territory_stores' key).
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "WITH people (id) AS ( \
                       SELECT m.user_id FROM teams t JOIN team_members m ON m.team_id = t.id \
                        WHERE t.tenant_id = $1 AND $3 = 'supervisor' AND t.supervisor_id = $2 \
                       UNION \
                       SELECT m.user_id FROM regions r JOIN teams t ON t.region_id = r.id \
                         JOIN team_members m ON m.team_id = t.id \
                        WHERE r.tenant_id = $1 AND $3 = 'manager' AND r.manager_id = $2 \
                       UNION \
                       SELECT t.supervisor_id FROM regions r JOIN teams t ON t.region_id = r.id \
                        WHERE r.tenant_id = $1 AND $3 = 'manager' AND r.manager_id = $2 \
                          AND t.supervisor_id IS NOT NULL \
                     ) \
                     SELECT 'person', id FROM people WHERE id <> $2 \
                     UNION ALL \
                     SELECT CASE WHEN a.user_id = $2 THEN 'own_store' ELSE 'store' END, s.store_id \
                       FROM territory_assignments a \
                       JOIN territory_stores s ON s.territory_id = a.territory_id \
                      WHERE a.tenant_id = $1 \
                        AND (a.user_id = $2 OR a.user_id IN (SELECT id FROM people))",
                )
                .bind(tenant.to_string())
                .bind(user.to_string())
                .bind(role.as_str())
                .fetch_all(self.pool())
                .await?;
                let mut people = std::collections::BTreeSet::new();
                let mut stores = std::collections::BTreeSet::new();
                let mut own_stores = std::collections::BTreeSet::new();
                for (what, id) in rows {
                    match what.as_str() {
                        "person" => {
                            people.insert(user_id_of(&id)?);
                        }
                        "own_store" => {
                            let id = store_id_of(&id)?;
                            own_stores.insert(id);
                            stores.insert(id);
                        }
                        _ => {
                            stores.insert(store_id_of(&id)?);
                        }
                    }
                }
                Ok(ScopeRows {
                    people: people.into_iter().collect(),
                    stores: stores.into_iter().collect(),
                    own_stores: own_stores.into_iter().collect(),
                })
            }

            async fn org_version(&self, tenant: TenantId) -> StoreResult<i64> {
                let seq: Option<i64> =
                    sqlx::query_scalar("SELECT org_seq FROM tenants WHERE id = $1")
                        .bind(tenant.to_string())
                        .fetch_optional(self.pool())
                        .await?;
                seq.ok_or(StoreError::NotFound("tenant"))
            }

            async fn device_scope(
                &self,
                tenant: TenantId,
                device: DeviceId,
            ) -> StoreResult<Option<DeviceScopeRow>> {
                let row: Option<DeviceScopeColumns> = sqlx::query_as(
                    "SELECT fingerprint, whole_tenant, stores, people, progress FROM device_scopes \
                     WHERE device_id = $1 AND tenant_id = $2",
                )
                .bind(device.to_string())
                .bind(tenant.to_string())
                .fetch_optional(self.pool())
                .await?;
                row.map(|(fingerprint, whole_tenant, stores, people, progress)| {
                    Ok(DeviceScopeRow {
                        device_id: device,
                        tenant_id: tenant,
                        fingerprint,
                        whole_tenant,
                        stores: parse_json_ids(&stores, store_id_of)?,
                        people: parse_json_ids(&people, user_id_of)?,
                        progress,
                    })
                })
                .transpose()
            }

            #[tracing::instrument(skip(self, row), fields(device = %row.device_id))]
            async fn put_device_scope(&self, row: &DeviceScopeRow) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO device_scopes (device_id, tenant_id, fingerprint, whole_tenant, \
                       stores, people, progress, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (device_id) DO UPDATE SET tenant_id = excluded.tenant_id, \
                       fingerprint = excluded.fingerprint, whole_tenant = excluded.whole_tenant, \
                       stores = excluded.stores, people = excluded.people, \
                       progress = excluded.progress, updated_at = excluded.updated_at",
                )
                .bind(row.device_id.to_string())
                .bind(row.tenant_id.to_string())
                .bind(&row.fingerprint)
                .bind(row.whole_tenant)
                .bind(json_ids(&row.stores))
                .bind(json_ids(&row.people))
                .bind(row.progress.as_deref())
                .bind(Timestamp::now().millis())
                .execute(self.pool())
                .await?;
                Ok(())
            }
        }
    };
}

scope_store!(SqliteStore, sqlx::Sqlite);
scope_store!(PgStore, sqlx::Postgres);
