//! The organisation's users as the administration sees them: profile, team, and the
//! all-or-nothing import by username.

use fieldsync_shared::master::{Role, UserProfile};
use fieldsync_shared::{PersonCode, TenantId, Timestamp, UserId};
use uuid::Uuid;

use super::ImportCounts;
use crate::store::decode::{corrupt, opt_uuid, user_id_of};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{StoreError, StoreResult};

/// A user as the administration sees it: the profile and the team they belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgUser {
    pub profile: UserProfile,
    pub team_id: Option<Uuid>,
}

/// One user row of an import, upserted by username.
#[derive(Clone)]
pub struct UserImport {
    /// The id the user gets if they are new.
    pub new_id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub code: PersonCode,
    /// New argon2id hash; `None` keeps an existing user's password.
    pub password_hash: Option<String>,
    /// Hash given to a *new* user without a password (for a customer's file, of a random
    /// password nobody knows, so nobody signs in as them until an administrator sets one).
    pub new_user_hash: String,
    /// `None`: the team column is absent, membership untouched; `Some(None)`: no team.
    pub team: Option<Option<Uuid>>,
}

impl std::fmt::Debug for UserImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserImport")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("code", &self.code)
            .field("team", &self.team)
            .finish_non_exhaustive()
    }
}

type UserRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

fn org_user(row: UserRow) -> StoreResult<OrgUser> {
    let (id, tenant_id, username, display_name, role, code, team) = row;
    Ok(OrgUser {
        profile: UserProfile {
            id: user_id_of(&id)?,
            tenant_id: TenantId::parse(&tenant_id).map_err(corrupt)?,
            username,
            display_name,
            role: Role::parse(&role).map_err(corrupt)?,
            code: PersonCode::parse(&code).map_err(corrupt)?,
        },
        team_id: opt_uuid(team)?,
    })
}

/// A user with their team, completed by a condition on `u` (`$1` is the tenant).
macro_rules! user_select {
    ($rest:literal) => {
        concat!(
            "SELECT u.id, u.tenant_id, u.username, u.display_name, u.role, u.code, m.team_id \
             FROM users u LEFT JOIN team_members m ON m.user_id = u.id WHERE u.tenant_id = $1",
            $rest
        )
    };
}

/// The administration's users: each with their team.
#[async_trait::async_trait]
pub trait OrgUserStore: Send + Sync {
    /// Every user of the tenant, by username.
    async fn list_org_users(&self, tenant: TenantId) -> StoreResult<Vec<OrgUser>>;
    async fn get_org_user(&self, tenant: TenantId, id: UserId) -> StoreResult<Option<OrgUser>>;
    /// Creates a user (and their team membership) in one transaction; `Conflict` if the
    /// username or code is taken, `NotFound` if the team is not this tenant's.
    async fn create_org_user(
        &self,
        user: &UserProfile,
        password_hash: &str,
        team: Option<Uuid>,
    ) -> StoreResult<()>;
    /// Rewrites a user's display name, role, code and team (and password when given);
    /// `NotFound` if the user or the team is not this tenant's.
    async fn update_org_user(&self, user: &OrgUser, password_hash: Option<&str>)
        -> StoreResult<()>;
    /// Upserts users by username in ONE transaction: all or nothing.
    async fn import_users(
        &self,
        tenant: TenantId,
        rows: &[UserImport],
    ) -> StoreResult<ImportCounts>;
}

macro_rules! org_user_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl OrgUserStore for $store {
            #[tracing::instrument(skip(self))]
            async fn list_org_users(&self, tenant: TenantId) -> StoreResult<Vec<OrgUser>> {
                let rows: Vec<UserRow> =
                    sqlx::query_as(user_select!(" ORDER BY u.username"))
                        .bind(tenant.to_string())
                        .fetch_all(self.pool())
                        .await?;
                rows.into_iter().map(org_user).collect()
            }

            #[tracing::instrument(skip(self))]
            async fn get_org_user(
                &self,
                tenant: TenantId,
                id: UserId,
            ) -> StoreResult<Option<OrgUser>> {
                let row: Option<UserRow> =
                    sqlx::query_as(user_select!(" AND u.id = $2"))
                        .bind(tenant.to_string())
                        .bind(id.to_string())
                        .fetch_optional(self.pool())
                        .await?;
                row.map(org_user).transpose()
            }

            #[tracing::instrument(skip(self, user, password_hash), fields(username = %user.username))]
            async fn create_org_user(
                &self,
                user: &UserProfile,
                password_hash: &str,
                team: Option<Uuid>,
            ) -> StoreResult<()> {
                let tid = user.tenant_id.to_string();
                let uid = user.id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                sqlx::query(
                    "INSERT INTO users (id, tenant_id, username, password_hash, role, code, \
                       display_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&uid)
                .bind(&tid)
                .bind(&user.username)
                .bind(password_hash)
                .bind(user.role.as_str())
                .bind(user.code.as_str())
                .bind(&user.display_name)
                .bind(Timestamp::now().millis())
                .execute(&mut *tx)
                .await?;
                let team = team.map(|t| t.to_string());
                Self::org_set_team(&mut tx, &tid, &uid, team.as_deref()).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip(self, user, password_hash), fields(user = %user.profile.id))]
            async fn update_org_user(
                &self,
                user: &OrgUser,
                password_hash: Option<&str>,
            ) -> StoreResult<()> {
                let p = &user.profile;
                let tid = p.tenant_id.to_string();
                let uid = p.id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                let done = sqlx::query(
                    "UPDATE users SET display_name = $1, role = $2, code = $3, \
                       password_hash = COALESCE($4, password_hash) WHERE tenant_id = $5 AND id = $6",
                )
                .bind(&p.display_name)
                .bind(p.role.as_str())
                .bind(p.code.as_str())
                .bind(password_hash)
                .bind(&tid)
                .bind(&uid)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::NotFound("user"));
                }
                let team = user.team_id.map(|t| t.to_string());
                Self::org_set_team(&mut tx, &tid, &uid, team.as_deref()).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip(self, rows), fields(count = rows.len()))]
            async fn import_users(
                &self,
                tenant: TenantId,
                rows: &[UserImport],
            ) -> StoreResult<ImportCounts> {
                let tid = tenant.to_string();
                let mut counts = ImportCounts::default();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                let now = Timestamp::now().millis();
                for row in rows {
                    let existing: Option<String> = sqlx::query_scalar(
                        "SELECT id FROM users WHERE tenant_id = $1 AND username = $2",
                    )
                    .bind(&tid)
                    .bind(&row.username)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let uid = match existing {
                        Some(id) => {
                            sqlx::query(
                                "UPDATE users SET display_name = $1, role = $2, code = $3, \
                                   password_hash = COALESCE($4, password_hash) \
                                 WHERE tenant_id = $5 AND id = $6",
                            )
                            .bind(&row.display_name)
                            .bind(row.role.as_str())
                            .bind(row.code.as_str())
                            .bind(row.password_hash.as_deref())
                            .bind(&tid)
                            .bind(&id)
                            .execute(&mut *tx)
                            .await?;
                            counts.updated += 1;
                            id
                        }
                        None => {
                            let id = row.new_id.to_string();
                            sqlx::query(
                                "INSERT INTO users (id, tenant_id, username, password_hash, role, \
                                   code, display_name, created_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                            )
                            .bind(&id)
                            .bind(&tid)
                            .bind(&row.username)
                            .bind(row.password_hash.as_deref().unwrap_or(&row.new_user_hash))
                            .bind(row.role.as_str())
                            .bind(row.code.as_str())
                            .bind(&row.display_name)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                            counts.created += 1;
                            id
                        }
                    };
                    if let Some(team) = &row.team {
                        let team = team.map(|t| t.to_string());
                        Self::org_set_team(&mut tx, &tid, &uid, team.as_deref()).await?;
                    }
                }
                tx.commit().await?;
                Ok(counts)
            }
        }
    };
}

org_user_store!(SqliteStore, sqlx::Sqlite);
org_user_store!(PgStore, sqlx::Postgres);
