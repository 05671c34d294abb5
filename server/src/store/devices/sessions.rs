//! Sessions and refresh tokens (docs/auth.md). A session is one refresh token family: a
//! login on a device and every token rotated from it. Refresh tokens are stored only as
//! SHA-256 hashes (hex); the caller hashes.
//!
//! Rotation is race-safe: a token is consumed by a conditional `UPDATE ... WHERE used_at IS
//! NULL` as the first statement of the transaction (which also takes SQLite's write lock before
//! anything is read), so of two concurrent exchanges of one token exactly one wins.
//!
//! A session has an absolute age (`max_age_ms`): no refresh token outlives it and none is
//! exchanged after it. Rows of ended sessions are kept for a while (so a presented token is
//! still recognised and refused for what it is) and then deleted by
//! [`SessionStore::purge_ended_sessions`].

use automerge::ActorId;
use fieldsync_shared::master::Role;
use fieldsync_shared::{DeviceId, TenantId, Timestamp, UserId};
use uuid::Uuid;

use crate::store::decode::{actor_of, corrupt, device_id_of, user_id_of};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::StoreResult;

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

/// A session for the per-request check, with what the access token must agree with.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionAuth {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub actor: ActorId,
    /// The user's role as stored now (not as when the access token was issued).
    pub role: Role,
    pub created_at: Timestamp,
    /// Why the session ended, if it did.
    pub session_revoked: Option<RevokeReason>,
    pub device_revoked: bool,
}

/// The session a refresh token was exchanged in.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub session_id: Uuid,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub created_at: Timestamp,
}

/// When a refresh token issued at `wanted` expiry in a session opened at `created_at` expires:
/// never after the session's maximum age. The one place for that rule.
pub fn capped_expiry(wanted: Timestamp, created_at: Timestamp, max_age_ms: i64) -> Timestamp {
    Timestamp(
        wanted
            .millis()
            .min(created_at.millis().saturating_add(max_age_ms)),
    )
}

/// Whether a session opened at `created_at` is past its maximum age at `now`.
pub fn session_aged_out(created_at: Timestamp, max_age_ms: i64, now: Timestamp) -> bool {
    now.millis() >= created_at.millis().saturating_add(max_age_ms)
}

/// Rows deleted per statement by [`SessionStore::purge_ended_sessions`].
pub const PURGE_BATCH: u32 = 500;

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    pub sessions: u64,
    pub refresh_tokens: u64,
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
    /// The session was revoked, for this reason.
    SessionRevoked(RevokeReason),
    /// The session is past its maximum age.
    SessionExpired,
    DeviceRevoked,
}

/// Why a session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    Logout,
    RefreshTokenReused,
    DeviceRevoked,
    /// An administrator set a new password for the user.
    PasswordChanged,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::RefreshTokenReused => "refresh_token_reused",
            RevokeReason::DeviceRevoked => "device_revoked",
            RevokeReason::PasswordChanged => "password_changed",
        }
    }

    /// The stored reason; `None` for a value this version does not know (still revoked).
    pub fn parse(s: &str) -> Option<RevokeReason> {
        [
            RevokeReason::Logout,
            RevokeReason::RefreshTokenReused,
            RevokeReason::DeviceRevoked,
            RevokeReason::PasswordChanged,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// What the user is told when their session ended this way.
    pub fn message(self) -> &'static str {
        match self {
            RevokeReason::Logout => "this session was revoked (signed out): log in again",
            RevokeReason::RefreshTokenReused => {
                "this session was revoked because its refresh token was used twice: log in \
                 again (local work is kept)"
            }
            RevokeReason::DeviceRevoked => {
                "this device was revoked by an administrator; local work stays on the device"
            }
            RevokeReason::PasswordChanged => {
                "this session was revoked: your password was changed by an administrator. Log \
                 in again with the new password (local work is kept)"
            }
        }
    }
}

/// A revocation as stored: `revoked_at` set, `revoked_reason` possibly unknown to this version.
fn stored_revocation(revoked_at: Option<i64>, reason: Option<&str>) -> Option<RevokeReason> {
    revoked_at.map(|_| {
        reason
            .and_then(RevokeReason::parse)
            .unwrap_or(RevokeReason::Logout)
    })
}

#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
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
    ///
    /// A session older than `max_age_ms` is refused (`SessionExpired`, nothing written), and
    /// `next` never expires after the session's maximum age ([`capped_expiry`]).
    async fn rotate_refresh_token(
        &self,
        presented: &str,
        next: &NewRefreshToken,
        grace_ms: i64,
        max_age_ms: i64,
    ) -> StoreResult<Rotation>;

    /// Revokes one session of this tenant (no-op if already revoked); `false` if it is not
    /// this tenant's.
    async fn revoke_session(
        &self,
        tenant: TenantId,
        session_id: Uuid,
        reason: RevokeReason,
    ) -> StoreResult<bool>;

    /// Revokes every live session of one user of this tenant, on all their devices; returns
    /// how many. The devices stay registered: the user signs in again on them.
    async fn revoke_user_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
        reason: RevokeReason,
    ) -> StoreResult<u64>;

    /// Deletes the sessions (and their refresh tokens) that ended before `cutoff`: revoked
    /// then, or opened more than `max_age_ms` before it, or whose last refresh token expired
    /// then; and every refresh token that expired before `cutoff`. Works in batches of
    /// [`PURGE_BATCH`] rows, one statement each.
    async fn purge_ended_sessions(
        &self,
        cutoff: Timestamp,
        max_age_ms: i64,
    ) -> StoreResult<PurgeCounts>;
}

macro_rules! session_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Runs `delete` (`params`, then the batch size as its last parameter) until it
            /// deletes fewer than a batch; the rows deleted.
            async fn purge_in_batches(
                &self,
                delete: &'static str,
                params: &[i64],
            ) -> StoreResult<u64> {
                let mut deleted = 0;
                loop {
                    let mut query = sqlx::query(delete);
                    for p in params {
                        query = query.bind(*p);
                    }
                    let n = query
                        .bind(i64::from(PURGE_BATCH))
                        .execute(self.pool())
                        .await?
                        .rows_affected();
                    deleted += n;
                    if n < u64::from(PURGE_BATCH) {
                        return Ok(deleted);
                    }
                }
            }

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

            /// The session and device of a token, for a rotation in progress: the session,
            /// why it was revoked (if it was), and whether the device is revoked.
            async fn dev_token_session(
                tx: &mut sqlx::Transaction<'static, $db>,
                hash: &str,
            ) -> StoreResult<Option<(SessionInfo, Option<RevokeReason>, bool)>> {
                #[allow(clippy::type_complexity)]
                let row: Option<(
                    String,
                    String,
                    String,
                    String,
                    i64,
                    Option<i64>,
                    Option<String>,
                    Option<i64>,
                )> = sqlx::query_as(
                    "SELECT s.id, s.tenant_id, s.user_id, s.device_id, s.created_at, \
                       s.revoked_at, s.revoked_reason, d.revoked_at FROM refresh_tokens t \
                     JOIN sessions s ON s.id = t.session_id \
                     JOIN devices d ON d.id = s.device_id WHERE t.token_hash = $1",
                )
                .bind(hash)
                .fetch_optional(&mut **tx)
                .await?;
                let Some((sid, tenant, user, device, created, s_revoked, reason, d_revoked)) =
                    row
                else {
                    return Ok(None);
                };
                Ok(Some((
                    SessionInfo {
                        session_id: Uuid::parse_str(&sid).map_err(corrupt)?,
                        tenant_id: TenantId::parse(&tenant).map_err(corrupt)?,
                        user_id: user_id_of(&user)?,
                        device_id: device_id_of(&device)?,
                        created_at: Timestamp(created),
                    },
                    stored_revocation(s_revoked, reason.as_deref()),
                    d_revoked.is_some(),
                )))
            }

            /// Stores `next` (never expiring after the session's maximum age) after `parent`
            /// in the session, notes the device as seen, forgets the session's expired tokens
            /// (they cannot be exchanged any more), and commits.
            async fn dev_finish_rotation(
                mut tx: sqlx::Transaction<'static, $db>,
                info: SessionInfo,
                parent: &str,
                next: &NewRefreshToken,
                max_age_ms: i64,
            ) -> StoreResult<Rotation> {
                let sid = info.session_id.to_string();
                let now = next.issued_at.millis();
                let next = NewRefreshToken {
                    expires_at: capped_expiry(next.expires_at, info.created_at, max_age_ms),
                    ..next.clone()
                };
                Self::dev_insert_token(&mut tx, &sid, Some(parent), &next).await?;
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
        impl SessionStore for $store {
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
                #[allow(clippy::type_complexity)]
                let row: Option<(
                    String,
                    String,
                    i64,
                    Option<i64>,
                    Option<String>,
                    String,
                    Option<i64>,
                    String,
                )> = sqlx::query_as(
                    "SELECT s.user_id, s.device_id, s.created_at, s.revoked_at, s.revoked_reason, \
                       d.actor_id, d.revoked_at, u.role \
                     FROM sessions s JOIN devices d ON d.id = s.device_id \
                     JOIN users u ON u.id = s.user_id \
                     WHERE s.id = $1 AND s.tenant_id = $2",
                )
                .bind(session_id.to_string())
                .bind(tenant.to_string())
                .fetch_optional(self.pool())
                .await?;
                row.map(
                    |(user, device, created, s_revoked, reason, actor, d_revoked, role)| {
                        Ok(SessionAuth {
                            user_id: user_id_of(&user)?,
                            device_id: device_id_of(&device)?,
                            actor: actor_of(&actor)?,
                            role: Role::parse(&role).map_err(corrupt)?,
                            created_at: Timestamp(created),
                            session_revoked: stored_revocation(s_revoked, reason.as_deref()),
                            device_revoked: d_revoked.is_some(),
                        })
                    },
                )
                .transpose()
            }

            #[tracing::instrument(skip_all)]
            async fn rotate_refresh_token(
                &self,
                presented: &str,
                next: &NewRefreshToken,
                grace_ms: i64,
                max_age_ms: i64,
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
                // Before any reuse handling: an aged-out session ends the same way for the
                // phone and for whoever else holds one of its tokens.
                if s_revoked.is_none()
                    && session_aged_out(info.created_at, max_age_ms, next.issued_at)
                {
                    return Ok(Rotation::Refused(RefreshRefusal::SessionExpired));
                }
                if consumed.rows_affected() == 1 {
                    if let Some(reason) = s_revoked {
                        return Ok(Rotation::Refused(RefreshRefusal::SessionRevoked(reason)));
                    }
                    return Self::dev_finish_rotation(tx, info, presented, next, max_age_ms)
                        .await;
                }
                let (used_at,): (Option<i64>,) =
                    sqlx::query_as("SELECT used_at FROM refresh_tokens WHERE token_hash = $1")
                        .bind(presented)
                        .fetch_one(&mut *tx)
                        .await?;
                let Some(used_at) = used_at else {
                    return Ok(Rotation::Refused(match s_revoked {
                        Some(reason) => RefreshRefusal::SessionRevoked(reason),
                        None => RefreshRefusal::Expired,
                    }));
                };
                if s_revoked.is_none() && grace_ms > 0 && now - used_at <= grace_ms {
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
                        return Self::dev_finish_rotation(tx, info, presented, next, max_age_ms)
                            .await;
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
                if s_revoked.is_none() {
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

            #[tracing::instrument(skip(self))]
            async fn revoke_user_sessions(
                &self,
                tenant: TenantId,
                user: UserId,
                reason: RevokeReason,
            ) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
                     WHERE tenant_id = $3 AND user_id = $4 AND revoked_at IS NULL",
                )
                .bind(Timestamp::now().millis())
                .bind(reason.as_str())
                .bind(tenant.to_string())
                .bind(user.to_string())
                .execute(self.pool())
                .await?;
                Ok(done.rows_affected())
            }

            #[tracing::instrument(skip(self))]
            async fn purge_ended_sessions(
                &self,
                cutoff: Timestamp,
                max_age_ms: i64,
            ) -> StoreResult<PurgeCounts> {
                let cutoff_ms = cutoff.millis();
                let opened_before = cutoff_ms.saturating_sub(max_age_ms);
                let mut counts = PurgeCounts::default();
                // Single statements in small batches, no read-then-write transaction: SQLite
                // has one writer, and syncs must not wait behind the purge.
                // 1. Tokens that expired before the cutoff: nobody can exchange them, and a
                //    live session holds a newer one.
                counts.refresh_tokens += self
                    .purge_in_batches(
                        "DELETE FROM refresh_tokens WHERE token_hash IN \
                           (SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)",
                        &[cutoff_ms],
                    )
                    .await?;
                // 2. Every token of sessions revoked, or past their maximum age, before it.
                counts.refresh_tokens += self
                    .purge_in_batches(
                        "DELETE FROM refresh_tokens WHERE token_hash IN \
                           (SELECT t.token_hash FROM refresh_tokens t \
                            JOIN sessions s ON s.id = t.session_id \
                            WHERE s.revoked_at < $1 OR s.created_at < $2 LIMIT $3)",
                        &[cutoff_ms, opened_before],
                    )
                    .await?;
                // 3. Sessions left without tokens: those of step 2, and those whose last token
                //    expired before the cutoff (step 1). A live session always holds an
                //    unexpired token (a login writes the session and its token together).
                counts.sessions += self
                    .purge_in_batches(
                        "DELETE FROM sessions WHERE id IN \
                           (SELECT s.id FROM sessions s WHERE NOT EXISTS \
                              (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id) \
                            LIMIT $1)",
                        &[],
                    )
                    .await?;
                Ok(counts)
            }
        }
    };
}

session_store!(SqliteStore, sqlx::Sqlite);
session_store!(PgStore, sqlx::Postgres);
