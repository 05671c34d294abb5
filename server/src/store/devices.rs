//! Devices, sessions and refresh tokens (docs/auth.md).
//!
//! A device is one app installation registered under its user; its Automerge actor is bound to
//! it (unique across the whole database). A session is one refresh token family: a login on a
//! device and every token rotated from it. Refresh tokens are stored only as SHA-256 hashes
//! (hex); the caller hashes.
//!
//! Both engines run the same SQL (`$N` placeholders work on SQLite too), so the two
//! implementations are one macro body instantiated for [`SqliteStore`] and [`PgStore`].
//!
//! Rotation is race-safe: a token is consumed by a conditional `UPDATE ... WHERE used_at IS
//! NULL` as the first statement of the transaction (which also takes SQLite's write lock before
//! anything is read), so of two concurrent exchanges of one token exactly one wins.

use std::collections::HashMap;

use automerge::ActorId;
use fieldsync_shared::{DeviceId, TenantId, Timestamp, UserId};
use uuid::Uuid;

use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::{StoreError, StoreResult};

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

/// What a login with a device asks for: register `id` with `actor` under `user` (or reuse it).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRegistration {
    pub id: DeviceId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub actor: ActorId,
    pub name: String,
    pub platform: String,
}

/// A refresh token to store: its SHA-256 (hex) and lifetime.
#[derive(Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub hash: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for NewRefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash is not the token, but it is the key that finds the session: keep it out of logs.
        f.debug_struct("NewRefreshToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why a device cannot be signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRefusal {
    /// The device id is registered to another user (of this or another tenant).
    BelongsToAnotherUser,
    /// The actor is bound to another device, or this device is registered with another actor.
    ActorInUse,
    /// The device was revoked by an administrator.
    Revoked,
}

/// A session that passed the per-request check, with what the access token must agree with.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionAuth {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub actor: ActorId,
    pub session_revoked: bool,
    pub device_revoked: bool,
}

/// The session a refresh token was exchanged in.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub session_id: Uuid,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub device_id: DeviceId,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq)]
pub enum Rotation {
    /// Exchanged: the new token is stored, the presented one is used up.
    Rotated(SessionInfo),
    /// The token had already been used: its whole session is now revoked.
    Reused,
    /// Unknown token, expired token, or its session or device is revoked.
    Refused(RefreshRefusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    Unknown,
    Expired,
    SessionRevoked,
    DeviceRevoked,
}

/// Who writes under an actor, for the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorOwner {
    pub device_id: DeviceId,
    pub user_id: UserId,
    pub username: String,
    pub device_name: String,
}

/// Why a session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    Logout,
    RefreshTokenReused,
    DeviceRevoked,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::RefreshTokenReused => "refresh_token_reused",
            RevokeReason::DeviceRevoked => "device_revoked",
        }
    }
}

#[async_trait::async_trait]
pub trait DeviceStore: Send + Sync {
    /// Registers the device (or reuses it: same id, same user, same actor, not revoked), then
    /// opens a session with its first refresh token, in one transaction. `Ok(Err(_))` says why
    /// the device was refused (nothing written).
    async fn open_session(
        &self,
        device: &DeviceRegistration,
        session_id: Uuid,
        token: &NewRefreshToken,
    ) -> StoreResult<Result<(), DeviceRefusal>>;

    /// The per-request check: the session (of this tenant) with its device. One indexed query.
    async fn session_auth(
        &self,
        tenant: TenantId,
        session_id: Uuid,
    ) -> StoreResult<Option<SessionAuth>>;

    /// Exchanges the refresh token hashed `presented` for `next`. A token used within
    /// `grace_ms` whose successor was never used is taken as a retry after a lost answer: the
    /// successor is superseded and `next` issued instead. Any other reuse revokes the session.
    async fn rotate_refresh_token(
        &self,
        presented: &str,
        next: &NewRefreshToken,
        grace_ms: i64,
    ) -> StoreResult<Rotation>;

    /// Revokes one session of this tenant (no-op if already revoked); `false` if it is not
    /// this tenant's.
    async fn revoke_session(
        &self,
        tenant: TenantId,
        session_id: Uuid,
        reason: RevokeReason,
    ) -> StoreResult<bool>;

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

fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn parse_actor(hex: &str) -> StoreResult<ActorId> {
    ActorId::try_from(hex).map_err(|e| corrupt(format!("actor id {hex:?}: {e}")))
}

fn parse_device_id(s: &str) -> StoreResult<DeviceId> {
    DeviceId::parse(s).map_err(corrupt)
}

fn parse_user_id(s: &str) -> StoreResult<UserId> {
    UserId::parse(s).map_err(corrupt)
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

const DEVICE_SELECT: &str = "SELECT id, tenant_id, user_id, actor_id, name, platform, \
       registered_at, last_seen_at, revoked_at FROM devices";

fn device_record(row: DeviceRow) -> StoreResult<DeviceRecord> {
    let (id, tenant, user, actor, name, platform, registered, seen, revoked) = row;
    Ok(DeviceRecord {
        id: parse_device_id(&id)?,
        tenant_id: TenantId::parse(&tenant).map_err(corrupt)?,
        user_id: parse_user_id(&user)?,
        actor: parse_actor(&actor)?,
        name,
        platform,
        registered_at: Timestamp(registered),
        last_seen_at: Timestamp(seen),
        revoked_at: revoked.map(Timestamp),
    })
}

macro_rules! device_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn dev_insert_token(
                tx: &mut sqlx::Transaction<'static, $db>,
                session: &str,
                parent: Option<&str>,
                token: &NewRefreshToken,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, session_id, parent_hash, issued_at, \
                       expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&token.hash)
                .bind(session)
                .bind(parent)
                .bind(token.issued_at.millis())
                .bind(token.expires_at.millis())
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// The session and device of a token, for a rotation in progress.
            async fn dev_token_session(
                tx: &mut sqlx::Transaction<'static, $db>,
                hash: &str,
            ) -> StoreResult<Option<(SessionInfo, bool, bool)>> {
                let row: Option<(String, String, String, String, Option<i64>, Option<i64>)> =
                    sqlx::query_as(
                        "SELECT s.id, s.tenant_id, s.user_id, s.device_id, s.revoked_at, \
                           d.revoked_at FROM refresh_tokens t \
                         JOIN sessions s ON s.id = t.session_id \
                         JOIN devices d ON d.id = s.device_id WHERE t.token_hash = $1",
                    )
                    .bind(hash)
                    .fetch_optional(&mut **tx)
                    .await?;
                let Some((sid, tenant, user, device, s_revoked, d_revoked)) = row else {
                    return Ok(None);
                };
                Ok(Some((
                    SessionInfo {
                        session_id: Uuid::parse_str(&sid).map_err(corrupt)?,
                        tenant_id: TenantId::parse(&tenant).map_err(corrupt)?,
                        user_id: parse_user_id(&user)?,
                        device_id: parse_device_id(&device)?,
                    },
                    s_revoked.is_some(),
                    d_revoked.is_some(),
                )))
            }

            /// Stores `next` after `parent` in the session, notes the device as seen, forgets
            /// the session's expired tokens (they cannot be exchanged any more), and commits.
            async fn dev_finish_rotation(
                mut tx: sqlx::Transaction<'static, $db>,
                info: SessionInfo,
                parent: &str,
                next: &NewRefreshToken,
            ) -> StoreResult<Rotation> {
                let sid = info.session_id.to_string();
                let now = next.issued_at.millis();
                Self::dev_insert_token(&mut tx, &sid, Some(parent), next).await?;
                sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(info.device_id.to_string())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM refresh_tokens WHERE session_id = $1 AND expires_at < $2")
                    .bind(&sid)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Rotation::Rotated(info))
            }
        }

        #[async_trait::async_trait]
        impl DeviceStore for $store {
            #[tracing::instrument(skip(self, device, token), fields(device = %device.id, user = %device.user_id))]
            async fn open_session(
                &self,
                device: &DeviceRegistration,
                session_id: Uuid,
                token: &NewRefreshToken,
            ) -> StoreResult<Result<(), DeviceRefusal>> {
                let did = device.id.to_string();
                let uid = device.user_id.to_string();
                let tid = device.tenant_id.to_string();
                let actor = device.actor.to_hex_string();
                let now = token.issued_at.millis();
                let mut tx = self.pool().begin().await?;
                // Written first: takes SQLite's write lock before the checks below read.
                let inserted = sqlx::query(
                    "INSERT INTO devices (id, tenant_id, user_id, actor_id, name, platform, \
                       registered_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(&did)
                .bind(&tid)
                .bind(&uid)
                .bind(&actor)
                .bind(&device.name)
                .bind(&device.platform)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    // The id or the actor is taken: is it this very device again?
                    let row: Option<(String, String, String, Option<i64>)> = sqlx::query_as(
                        "SELECT tenant_id, user_id, actor_id, revoked_at FROM devices WHERE id = $1",
                    )
                    .bind(&did)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let refusal = match row {
                        None => Some(DeviceRefusal::ActorInUse),
                        Some((t, u, _, _)) if t != tid || u != uid => {
                            Some(DeviceRefusal::BelongsToAnotherUser)
                        }
                        Some((_, _, a, _)) if a != actor => Some(DeviceRefusal::ActorInUse),
                        Some((_, _, _, Some(_))) => Some(DeviceRefusal::Revoked),
                        Some(_) => None,
                    };
                    if let Some(refusal) = refusal {
                        tx.rollback().await?;
                        return Ok(Err(refusal));
                    }
                    sqlx::query(
                        "UPDATE devices SET name = $1, platform = $2, last_seen_at = $3 WHERE id = $4",
                    )
                    .bind(&device.name)
                    .bind(&device.platform)
                    .bind(now)
                    .bind(&did)
                    .execute(&mut *tx)
                    .await?;
                }
                let sid = session_id.to_string();
                sqlx::query(
                    "INSERT INTO sessions (id, tenant_id, user_id, device_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&sid)
                .bind(&tid)
                .bind(&uid)
                .bind(&did)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                Self::dev_insert_token(&mut tx, &sid, None, token).await?;
                tx.commit().await?;
                Ok(Ok(()))
            }

            async fn session_auth(
                &self,
                tenant: TenantId,
                session_id: Uuid,
            ) -> StoreResult<Option<SessionAuth>> {
                let row: Option<(String, String, Option<i64>, String, Option<i64>)> =
                    sqlx::query_as(
                        "SELECT s.user_id, s.device_id, s.revoked_at, d.actor_id, d.revoked_at \
                         FROM sessions s JOIN devices d ON d.id = s.device_id \
                         WHERE s.id = $1 AND s.tenant_id = $2",
                    )
                    .bind(session_id.to_string())
                    .bind(tenant.to_string())
                    .fetch_optional(self.pool())
                    .await?;
                row.map(|(user, device, s_revoked, actor, d_revoked)| {
                    Ok(SessionAuth {
                        user_id: parse_user_id(&user)?,
                        device_id: parse_device_id(&device)?,
                        actor: parse_actor(&actor)?,
                        session_revoked: s_revoked.is_some(),
                        device_revoked: d_revoked.is_some(),
                    })
                })
                .transpose()
            }

            #[tracing::instrument(skip_all)]
            async fn rotate_refresh_token(
                &self,
                presented: &str,
                next: &NewRefreshToken,
                grace_ms: i64,
            ) -> StoreResult<Rotation> {
                let now = next.issued_at.millis();
                let mut tx = self.pool().begin().await?;
                let consumed = sqlx::query(
                    "UPDATE refresh_tokens SET used_at = $1 \
                     WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
                )
                .bind(now)
                .bind(presented)
                .execute(&mut *tx)
                .await?;
                let Some((info, s_revoked, d_revoked)) =
                    Self::dev_token_session(&mut tx, presented).await?
                else {
                    return Ok(Rotation::Refused(RefreshRefusal::Unknown));
                };
                // Early returns roll back (the transaction is dropped uncommitted).
                if d_revoked {
                    return Ok(Rotation::Refused(RefreshRefusal::DeviceRevoked));
                }
                if consumed.rows_affected() == 1 {
                    if s_revoked {
                        return Ok(Rotation::Refused(RefreshRefusal::SessionRevoked));
                    }
                    return Self::dev_finish_rotation(tx, info, presented, next).await;
                }
                let (used_at,): (Option<i64>,) =
                    sqlx::query_as("SELECT used_at FROM refresh_tokens WHERE token_hash = $1")
                        .bind(presented)
                        .fetch_one(&mut *tx)
                        .await?;
                let Some(used_at) = used_at else {
                    return Ok(Rotation::Refused(if s_revoked {
                        RefreshRefusal::SessionRevoked
                    } else {
                        RefreshRefusal::Expired
                    }));
                };
                if !s_revoked && grace_ms > 0 && now - used_at <= grace_ms {
                    // A retry of an exchange whose answer was lost: the successor was never
                    // used, so nobody else holds a working token. Supersede it.
                    let superseded = sqlx::query(
                        "UPDATE refresh_tokens SET used_at = $1 \
                         WHERE parent_hash = $2 AND used_at IS NULL",
                    )
                    .bind(now)
                    .bind(presented)
                    .execute(&mut *tx)
                    .await?;
                    if superseded.rows_affected() > 0 {
                        return Self::dev_finish_rotation(tx, info, presented, next).await;
                    }
                }
                sqlx::query(
                    "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
                     WHERE id = $3 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(RevokeReason::RefreshTokenReused.as_str())
                .bind(info.session_id.to_string())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                if !s_revoked {
                    tracing::warn!(session = %info.session_id, user = %info.user_id,
                        device = %info.device_id,
                        "a used refresh token was presented again: session revoked");
                }
                Ok(Rotation::Reused)
            }

            #[tracing::instrument(skip(self))]
            async fn revoke_session(
                &self,
                tenant: TenantId,
                session_id: Uuid,
                reason: RevokeReason,
            ) -> StoreResult<bool> {
                let sid = session_id.to_string();
                let tid = tenant.to_string();
                let mut tx = self.pool().begin().await?;
                sqlx::query(
                    "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
                     WHERE id = $3 AND tenant_id = $4 AND revoked_at IS NULL",
                )
                .bind(Timestamp::now().millis())
                .bind(reason.as_str())
                .bind(&sid)
                .bind(&tid)
                .execute(&mut *tx)
                .await?;
                let found: Option<i32> =
                    sqlx::query_scalar("SELECT 1 FROM sessions WHERE id = $1 AND tenant_id = $2")
                        .bind(&sid)
                        .bind(&tid)
                        .fetch_optional(&mut *tx)
                        .await?;
                tx.commit().await?;
                Ok(found.is_some())
            }

            async fn list_devices(
                &self,
                tenant: TenantId,
                user: Option<UserId>,
                limit: u32,
            ) -> StoreResult<Vec<DeviceRecord>> {
                let rows: Vec<DeviceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{DEVICE_SELECT} WHERE tenant_id = $1 AND ($2 IS NULL OR user_id = $2) \
                     ORDER BY registered_at DESC, id LIMIT $3"
                )))
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
                let row: Option<DeviceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{DEVICE_SELECT} WHERE tenant_id = $1 AND id = $2"
                )))
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
                let row: DeviceRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{DEVICE_SELECT} WHERE tenant_id = $1 AND id = $2"
                )))
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
                                device_id: parse_device_id(&device)?,
                                user_id: parse_user_id(&user)?,
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

device_store!(SqliteStore, sqlx::Sqlite);
device_store!(PgStore, sqlx::Postgres);
