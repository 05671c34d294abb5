//! Web console sign-ins (docs/console.md): the browser's cookie token (stored as its SHA-256)
//! mapped to the device session it opened, with the CSRF token bound to it. Who the session
//! belongs to, and whether it still holds, is the session's own row ([`super::SessionStore`]).

use fieldsync_shared::{DeviceId, TenantId, Timestamp, UserId};
use uuid::Uuid;

use crate::store::decode::{corrupt, device_id_of, user_id_of};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::StoreResult;

/// A console sign-in to store. The caller hashes the cookie's token.
#[derive(Clone, PartialEq)]
pub struct NewConsoleSession {
    pub token_hash: String,
    pub session_id: Uuid,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for NewConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash finds the session and the CSRF token guards it: neither goes to logs.
        f.debug_struct("NewConsoleSession")
            .field("session_id", &self.session_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A stored console sign-in with its session's owner.
#[derive(Clone, PartialEq)]
pub struct ConsoleSessionRecord {
    pub session_id: Uuid,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for ConsoleSessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSessionRecord")
            .field("session_id", &self.session_id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
pub trait ConsoleSessionStore: Send + Sync {
    /// Stores a console sign-in and deletes the expired ones.
    async fn create_console_session(&self, session: &NewConsoleSession) -> StoreResult<()>;
    /// The sign-in whose cookie token hashes to `token_hash`, expired or not.
    async fn console_session(&self, token_hash: &str) -> StoreResult<Option<ConsoleSessionRecord>>;
    /// Forgets a sign-in (sign-out).
    async fn delete_console_session(&self, token_hash: &str) -> StoreResult<()>;
}

type ConsoleRow = (String, String, String, String, String, i64);

fn console_record(row: ConsoleRow) -> StoreResult<ConsoleSessionRecord> {
    let (session, tenant, user, device, csrf_token, expires_at) = row;
    Ok(ConsoleSessionRecord {
        session_id: Uuid::parse_str(&session).map_err(corrupt)?,
        tenant_id: TenantId::parse(&tenant).map_err(corrupt)?,
        user_id: user_id_of(&user)?,
        device_id: device_id_of(&device)?,
        csrf_token,
        expires_at: Timestamp(expires_at),
    })
}

macro_rules! console_session_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl ConsoleSessionStore for $store {
            #[tracing::instrument(skip_all, fields(session = %session.session_id))]
            async fn create_console_session(
                &self,
                session: &NewConsoleSession,
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await?;
                sqlx::query("DELETE FROM console_sessions WHERE expires_at < $1")
                    .bind(session.created_at.millis())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO console_sessions \
                     (token_hash, session_id, csrf_token, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&session.token_hash)
                .bind(session.session_id.to_string())
                .bind(&session.csrf_token)
                .bind(session.created_at.millis())
                .bind(session.expires_at.millis())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn console_session(
                &self,
                token_hash: &str,
            ) -> StoreResult<Option<ConsoleSessionRecord>> {
                let row: Option<ConsoleRow> = sqlx::query_as(
                    "SELECT c.session_id, s.tenant_id, s.user_id, s.device_id, c.csrf_token, \
                     c.expires_at FROM console_sessions c JOIN sessions s ON s.id = c.session_id \
                     WHERE c.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(self.pool())
                .await?;
                row.map(console_record).transpose()
            }

            async fn delete_console_session(&self, token_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(self.pool())
                    .await?;
                Ok(())
            }
        }
    };
}

console_session_store!(SqliteStore);
console_session_store!(PgStore);
