//! Registered devices: one app installation under its user, with the Automerge actor bound to
//! it (unique across the whole database), and who writes under which actor.

use std::collections::HashMap;

use automerge::ActorId;
use fieldsync_shared::{DeviceId, TenantId, Timestamp, UserId};

use super::sessions::RevokeReason;
use crate::store::decode::{actor_of, corrupt, device_id_of, user_id_of};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{StoreError, StoreResult};

/// A registered device as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRecord {
    pub id: DeviceId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub actor: ActorId,
    pub name: String,
    pub platform: String,
    pub registered_at: Timestamp,
    /// Last sign-in or token refresh.
    pub last_seen_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Who writes under an actor, for the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorOwner {
    pub device_id: DeviceId,
    pub user_id: UserId,
    pub username: String,
    pub device_name: String,
}

#[async_trait::async_trait]
pub trait DeviceRegistryStore: Send + Sync {
    /// Devices of the tenant (of one user if given), most recently registered first, at most
    /// `limit`.
    async fn list_devices(
        &self,
        tenant: TenantId,
        user: Option<UserId>,
        limit: u32,
    ) -> StoreResult<Vec<DeviceRecord>>;

    async fn get_device(&self, tenant: TenantId, id: DeviceId)
        -> StoreResult<Option<DeviceRecord>>;

    /// Revokes the device and every session on it (idempotent); `NotFound` if it is not this
    /// tenant's. Returns the device as now stored.
    async fn revoke_device(&self, tenant: TenantId, id: DeviceId) -> StoreResult<DeviceRecord>;

    /// Who each actor belongs to (actors not bound to a device of this tenant are absent).
    async fn actor_owners(
        &self,
        tenant: TenantId,
        actors: &[ActorId],
    ) -> StoreResult<HashMap<ActorId, ActorOwner>>;
}

type DeviceRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
);

/// The device columns `device_record` reads, completed by a condition.
macro_rules! device_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, tenant_id, user_id, actor_id, name, platform, registered_at, \
             last_seen_at, revoked_at FROM devices ",
            $rest
        )
    };
}

fn device_record(row: DeviceRow) -> StoreResult<DeviceRecord> {
    let (id, tenant, user, actor, name, platform, registered, seen, revoked) = row;
    Ok(DeviceRecord {
        id: device_id_of(&id)?,
        tenant_id: TenantId::parse(&tenant).map_err(corrupt)?,
        user_id: user_id_of(&user)?,
        actor: actor_of(&actor)?,
        name,
        platform,
        registered_at: Timestamp(registered),
        last_seen_at: Timestamp(seen),
        revoked_at: revoked.map(Timestamp),
    })
}

macro_rules! device_registry_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl DeviceRegistryStore for $store {
            async fn list_devices(
                &self,
                tenant: TenantId,
                user: Option<UserId>,
                limit: u32,
            ) -> StoreResult<Vec<DeviceRecord>> {
                let rows: Vec<DeviceRow> = sqlx::query_as(device_select!(
                    "WHERE tenant_id = $1 AND ($2 IS NULL OR user_id = $2) \
                     ORDER BY registered_at DESC, id LIMIT $3"
                ))
                .bind(tenant.to_string())
                .bind(user.map(|u| u.to_string()))
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.into_iter().map(device_record).collect()
            }

            async fn get_device(
                &self,
                tenant: TenantId,
                id: DeviceId,
            ) -> StoreResult<Option<DeviceRecord>> {
                let row: Option<DeviceRow> =
                    sqlx::query_as(device_select!("WHERE tenant_id = $1 AND id = $2"))
                        .bind(tenant.to_string())
                        .bind(id.to_string())
                        .fetch_optional(self.pool())
                        .await?;
                row.map(device_record).transpose()
            }

            #[tracing::instrument(skip(self))]
            async fn revoke_device(
                &self,
                tenant: TenantId,
                id: DeviceId,
            ) -> StoreResult<DeviceRecord> {
                let did = id.to_string();
                let tid = tenant.to_string();
                let now = Timestamp::now().millis();
                let mut tx = self.pool().begin().await?;
                let done = sqlx::query(
                    "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) \
                     WHERE tenant_id = $2 AND id = $3",
                )
                .bind(now)
                .bind(&tid)
                .bind(&did)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::NotFound("device"));
                }
                sqlx::query(
                    "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
                     WHERE device_id = $3 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(RevokeReason::DeviceRevoked.as_str())
                .bind(&did)
                .execute(&mut *tx)
                .await?;
                let row: DeviceRow =
                    sqlx::query_as(device_select!("WHERE tenant_id = $1 AND id = $2"))
                        .bind(&tid)
                        .bind(&did)
                        .fetch_one(&mut *tx)
                        .await?;
                tx.commit().await?;
                device_record(row)
            }

            async fn actor_owners(
                &self,
                tenant: TenantId,
                actors: &[ActorId],
            ) -> StoreResult<HashMap<ActorId, ActorOwner>> {
                let tid = tenant.to_string();
                let mut out = HashMap::new();
                if actors.is_empty() {
                    return Ok(out);
                }
                let mut conn = self.pool().acquire().await?;
                for actor in actors {
                    if out.contains_key(actor) {
                        continue;
                    }
                    let row: Option<(String, String, String, String)> = sqlx::query_as(
                        "SELECT d.id, d.user_id, u.username, d.name FROM devices d \
                         JOIN users u ON u.id = d.user_id \
                         WHERE d.actor_id = $1 AND d.tenant_id = $2",
                    )
                    .bind(actor.to_hex_string())
                    .bind(&tid)
                    .fetch_optional(&mut *conn)
                    .await?;
                    if let Some((device, user, username, device_name)) = row {
                        out.insert(
                            actor.clone(),
                            ActorOwner {
                                device_id: device_id_of(&device)?,
                                user_id: user_id_of(&user)?,
                                username,
                                device_name,
                            },
                        );
                    }
                }
                Ok(out)
            }
        }
    };
}

device_registry_store!(SqliteStore);
device_registry_store!(PgStore);
