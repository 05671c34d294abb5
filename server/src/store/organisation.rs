//! The organisation: users with their team, regions (a manager's), teams (a supervisor's reps
//! and merchandisers), territories (the stores a rep or merchandiser covers), and the
//! all-or-nothing imports of users and territories.
//!
//! Both engines run the same SQL (`$N` placeholders work on SQLite too), so the two
//! implementations are one macro body instantiated for [`SqliteStore`] and [`PgStore`].
//! Every statement is bound to a tenant; references to rows of another tenant are refused
//! with `NotFound` inside the writing transaction.

use std::collections::BTreeMap;

use fieldsync_shared::master::{Role, UserProfile};
use fieldsync_shared::{DeviceId, PersonCode, StoreId, TenantId, Timestamp, UserId};
use uuid::Uuid;

use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::{StoreError, StoreResult};

/// A user as the administration sees it: the profile and the team they belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgUser {
    pub profile: UserProfile,
    pub team_id: Option<Uuid>,
}

/// A manager's region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    pub manager_id: Option<UserId>,
}

/// A supervisor's team. `members` are the reps and merchandisers (sorted by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    pub supervisor_id: Option<UserId>,
    pub region_id: Option<Uuid>,
    pub members: Vec<UserId>,
}

/// The stores a set of reps and merchandisers cover (both lists sorted by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Territory {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: String,
    pub store_ids: Vec<StoreId>,
    pub user_ids: Vec<UserId>,
}

/// One user row of an import, upserted by username.
#[derive(Clone)]
pub struct UserImport {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub code: PersonCode,
    /// New argon2id hash; `None` keeps an existing user's password.
    pub password_hash: Option<String>,
    /// Hash given to a *new* user without a password: of a random password nobody knows, so
    /// nobody can sign in as them until an administrator sets one.
    pub unusable_hash: String,
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

/// One territory of an import, upserted by name; its stores and users are replaced.
#[derive(Debug, Clone)]
pub struct TerritoryImport {
    pub name: String,
    pub store_ids: Vec<StoreId>,
    pub user_ids: Vec<UserId>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
}

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

#[async_trait::async_trait]
pub trait OrganisationStore: Send + Sync {
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

    /// `Conflict` if the name is taken.
    async fn create_region(&self, region: &Region) -> StoreResult<()>;
    async fn list_regions(&self, tenant: TenantId) -> StoreResult<Vec<Region>>;
    async fn get_region(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Region>>;
    /// Rewrites name and manager; `NotFound` if absent.
    async fn update_region(&self, region: &Region) -> StoreResult<()>;

    /// Creates a team with its members; `Conflict` if the name is taken.
    async fn create_team(&self, team: &Team) -> StoreResult<()>;
    async fn list_teams(&self, tenant: TenantId) -> StoreResult<Vec<Team>>;
    async fn get_team(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Team>>;
    /// Rewrites name, supervisor, region and the member set (members move from any other
    /// team); `NotFound` if the team or a member is not this tenant's.
    async fn update_team(&self, team: &Team) -> StoreResult<()>;

    async fn create_territory(&self, territory: &Territory) -> StoreResult<()>;
    async fn list_territories(&self, tenant: TenantId) -> StoreResult<Vec<Territory>>;
    async fn get_territory(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Territory>>;
    /// Rewrites name, stores and users; `NotFound` if any of them is not this tenant's.
    async fn update_territory(&self, territory: &Territory) -> StoreResult<()>;

    /// Upserts users by username in ONE transaction: all or nothing.
    async fn import_users(
        &self,
        tenant: TenantId,
        rows: &[UserImport],
    ) -> StoreResult<ImportCounts>;
    /// Upserts territories by name (replacing their stores and users) in ONE transaction.
    async fn import_territories(
        &self,
        tenant: TenantId,
        rows: &[TerritoryImport],
    ) -> StoreResult<ImportCounts>;
}

fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn uuid_of(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(corrupt)
}

fn opt_user(s: Option<String>) -> StoreResult<Option<UserId>> {
    s.map(|s| UserId::parse(&s).map_err(corrupt)).transpose()
}

fn opt_uuid(s: Option<String>) -> StoreResult<Option<Uuid>> {
    s.map(|s| uuid_of(&s)).transpose()
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
            id: UserId::parse(&id).map_err(corrupt)?,
            tenant_id: TenantId::parse(&tenant_id).map_err(corrupt)?,
            username,
            display_name,
            role: Role::parse(&role).map_err(corrupt)?,
            code: PersonCode::parse(&code).map_err(corrupt)?,
        },
        team_id: opt_uuid(team)?,
    })
}

const USER_SELECT: &str = "SELECT u.id, u.tenant_id, u.username, u.display_name, u.role, u.code, \
       m.team_id FROM users u LEFT JOIN team_members m ON m.user_id = u.id WHERE u.tenant_id = $1";

/// Groups `(parent id, child id)` pairs by parent.
fn group<T>(
    pairs: Vec<(String, String)>,
    parse: impl Fn(&str) -> StoreResult<T>,
) -> StoreResult<BTreeMap<String, Vec<T>>> {
    let mut out: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for (parent, child) in pairs {
        out.entry(parent).or_default().push(parse(&child)?);
    }
    Ok(out)
}

fn parse_user_id(s: &str) -> StoreResult<UserId> {
    UserId::parse(s).map_err(corrupt)
}

fn parse_store_id(s: &str) -> StoreResult<StoreId> {
    StoreId::parse(s).map_err(corrupt)
}

fn json_ids<T: ToString>(ids: &[T]) -> String {
    serde_json::Value::from(ids.iter().map(ToString::to_string).collect::<Vec<_>>()).to_string()
}

fn parse_json_ids<T>(json: &str, parse: impl Fn(&str) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    let raw: Vec<String> = serde_json::from_str(json).map_err(corrupt)?;
    raw.iter().map(|s| parse(s)).collect()
}

/// `device_scopes` columns: fingerprint, whole_tenant, stores, people, progress.
type DeviceScopeColumns = (String, bool, String, String, Option<String>);

macro_rules! organisation_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Records an organisation change: takes the next master data version as the
            /// tenant's `org_seq`, so devices with older master data receive their scope's
            /// complete store list (`crate::master_data`). First statement of the writing
            /// transaction, so the tenant row is locked before any other (the order master
            /// upserts use too).
            async fn org_changed(
                tx: &mut sqlx::Transaction<'static, $db>,
                tenant: &str,
            ) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE tenants SET master_seq = master_seq + 1, org_seq = master_seq + 1 \
                     WHERE id = $1",
                )
                .bind(tenant)
                .execute(&mut **tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::NotFound("tenant"));
                }
                Ok(())
            }

            /// `NotFound(what)` unless every id names a row of `table` in this tenant.
            async fn org_check_all(
                tx: &mut sqlx::Transaction<'static, $db>,
                tenant: &str,
                table: &'static str,
                what: &'static str,
                ids: &[String],
            ) -> StoreResult<()> {
                let sql = format!("SELECT 1 FROM {table} WHERE tenant_id = $1 AND id = $2");
                for id in ids {
                    let found: Option<i32> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                        .bind(tenant)
                        .bind(id)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if found.is_none() {
                        return Err(StoreError::NotFound(what));
                    }
                }
                Ok(())
            }

            async fn org_set_team(
                tx: &mut sqlx::Transaction<'static, $db>,
                tenant: &str,
                user: &str,
                team: Option<&str>,
            ) -> StoreResult<()> {
                sqlx::query("DELETE FROM team_members WHERE user_id = $1 AND tenant_id = $2")
                    .bind(user)
                    .bind(tenant)
                    .execute(&mut **tx)
                    .await?;
                if let Some(team) = team {
                    Self::org_check_all(tx, tenant, "teams", "team", &[team.to_string()]).await?;
                    sqlx::query(
                        "INSERT INTO team_members (user_id, team_id, tenant_id) VALUES ($1, $2, $3)",
                    )
                    .bind(user)
                    .bind(team)
                    .bind(tenant)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            async fn org_write_territory_links(
                tx: &mut sqlx::Transaction<'static, $db>,
                tenant: &str,
                territory: &str,
                stores: &[StoreId],
                users: &[UserId],
            ) -> StoreResult<()> {
                let stores: Vec<String> = stores.iter().map(|s| s.to_string()).collect();
                let users: Vec<String> = users.iter().map(|u| u.to_string()).collect();
                Self::org_check_all(tx, tenant, "stores", "store", &stores).await?;
                Self::org_check_all(tx, tenant, "users", "user", &users).await?;
                sqlx::query("DELETE FROM territory_stores WHERE territory_id = $1")
                    .bind(territory)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("DELETE FROM territory_assignments WHERE territory_id = $1")
                    .bind(territory)
                    .execute(&mut **tx)
                    .await?;
                for s in &stores {
                    sqlx::query(
                        "INSERT INTO territory_stores (territory_id, store_id, tenant_id) \
                         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(territory)
                    .bind(s)
                    .bind(tenant)
                    .execute(&mut **tx)
                    .await?;
                }
                for u in &users {
                    sqlx::query(
                        "INSERT INTO territory_assignments (territory_id, user_id, tenant_id) \
                         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(territory)
                    .bind(u)
                    .bind(tenant)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            async fn org_write_members(
                tx: &mut sqlx::Transaction<'static, $db>,
                tenant: &str,
                team: &str,
                members: &[UserId],
            ) -> StoreResult<()> {
                let members: Vec<String> = members.iter().map(|u| u.to_string()).collect();
                Self::org_check_all(tx, tenant, "users", "user", &members).await?;
                sqlx::query("DELETE FROM team_members WHERE team_id = $1")
                    .bind(team)
                    .execute(&mut **tx)
                    .await?;
                for m in &members {
                    Self::org_set_team(tx, tenant, m, Some(team)).await?;
                }
                Ok(())
            }

            async fn org_teams(
                &self,
                tenant: TenantId,
                only: Option<Uuid>,
            ) -> StoreResult<Vec<Team>> {
                let tid = tenant.to_string();
                let only = only.map(|id| id.to_string());
                let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
                    "SELECT id, name, supervisor_id, region_id FROM teams \
                     WHERE tenant_id = $1 AND ($2 IS NULL OR id = $2) ORDER BY name",
                )
                .bind(&tid)
                .bind(only.as_deref())
                .fetch_all(self.pool())
                .await?;
                let members: Vec<(String, String)> = sqlx::query_as(
                    "SELECT team_id, user_id FROM team_members WHERE tenant_id = $1 \
                     ORDER BY team_id, user_id",
                )
                .bind(&tid)
                .fetch_all(self.pool())
                .await?;
                let mut members = group(members, parse_user_id)?;
                rows.into_iter()
                    .map(|(id, name, supervisor, region)| {
                        Ok(Team {
                            id: uuid_of(&id)?,
                            tenant_id: tenant,
                            name,
                            supervisor_id: opt_user(supervisor)?,
                            region_id: opt_uuid(region)?,
                            members: members.remove(&id).unwrap_or_default(),
                        })
                    })
                    .collect()
            }

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
                let mut stores = group(stores, parse_store_id)?;
                let mut users = group(users, parse_user_id)?;
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
        }

        #[async_trait::async_trait]
        impl OrganisationStore for $store {
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
                            people.insert(parse_user_id(&id)?);
                        }
                        "own_store" => {
                            let id = parse_store_id(&id)?;
                            own_stores.insert(id);
                            stores.insert(id);
                        }
                        _ => {
                            stores.insert(parse_store_id(&id)?);
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
                        stores: parse_json_ids(&stores, parse_store_id)?,
                        people: parse_json_ids(&people, parse_user_id)?,
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

            #[tracing::instrument(skip(self))]
            async fn list_org_users(&self, tenant: TenantId) -> StoreResult<Vec<OrgUser>> {
                let rows: Vec<UserRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{USER_SELECT} ORDER BY u.username")))
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
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{USER_SELECT} AND u.id = $2")))
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

            #[tracing::instrument(skip(self, region), fields(name = %region.name))]
            async fn create_region(&self, region: &Region) -> StoreResult<()> {
                let tid = region.tenant_id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                let manager = region.manager_id.map(|m| m.to_string());
                if let Some(m) = &manager {
                    Self::org_check_all(&mut tx, &tid, "users", "user", std::slice::from_ref(m)).await?;
                }
                sqlx::query(
                    "INSERT INTO regions (id, tenant_id, name, manager_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(region.id.to_string())
                .bind(&tid)
                .bind(&region.name)
                .bind(manager)
                .bind(Timestamp::now().millis())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
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
                let tid = region.tenant_id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                let manager = region.manager_id.map(|m| m.to_string());
                if let Some(m) = &manager {
                    Self::org_check_all(&mut tx, &tid, "users", "user", std::slice::from_ref(m)).await?;
                }
                let done = sqlx::query(
                    "UPDATE regions SET name = $1, manager_id = $2 WHERE tenant_id = $3 AND id = $4",
                )
                .bind(&region.name)
                .bind(manager)
                .bind(&tid)
                .bind(region.id.to_string())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::NotFound("region"));
                }
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip(self, team), fields(name = %team.name))]
            async fn create_team(&self, team: &Team) -> StoreResult<()> {
                let tid = team.tenant_id.to_string();
                let id = team.id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                let supervisor = team.supervisor_id.map(|m| m.to_string());
                let region = team.region_id.map(|m| m.to_string());
                if let Some(s) = &supervisor {
                    Self::org_check_all(&mut tx, &tid, "users", "user", std::slice::from_ref(s)).await?;
                }
                if let Some(r) = &region {
                    Self::org_check_all(&mut tx, &tid, "regions", "region", std::slice::from_ref(r)).await?;
                }
                sqlx::query(
                    "INSERT INTO teams (id, tenant_id, name, supervisor_id, region_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&id)
                .bind(&tid)
                .bind(&team.name)
                .bind(supervisor)
                .bind(region)
                .bind(Timestamp::now().millis())
                .execute(&mut *tx)
                .await?;
                Self::org_write_members(&mut tx, &tid, &id, &team.members).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_teams(&self, tenant: TenantId) -> StoreResult<Vec<Team>> {
                self.org_teams(tenant, None).await
            }

            async fn get_team(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Team>> {
                Ok(self.org_teams(tenant, Some(id)).await?.pop())
            }

            #[tracing::instrument(skip(self, team), fields(team = %team.id))]
            async fn update_team(&self, team: &Team) -> StoreResult<()> {
                let tid = team.tenant_id.to_string();
                let id = team.id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                let supervisor = team.supervisor_id.map(|m| m.to_string());
                let region = team.region_id.map(|m| m.to_string());
                if let Some(s) = &supervisor {
                    Self::org_check_all(&mut tx, &tid, "users", "user", std::slice::from_ref(s)).await?;
                }
                if let Some(r) = &region {
                    Self::org_check_all(&mut tx, &tid, "regions", "region", std::slice::from_ref(r)).await?;
                }
                let done = sqlx::query(
                    "UPDATE teams SET name = $1, supervisor_id = $2, region_id = $3 \
                     WHERE tenant_id = $4 AND id = $5",
                )
                .bind(&team.name)
                .bind(supervisor)
                .bind(region)
                .bind(&tid)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::NotFound("team"));
                }
                Self::org_write_members(&mut tx, &tid, &id, &team.members).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip(self, territory), fields(name = %territory.name))]
            async fn create_territory(&self, territory: &Territory) -> StoreResult<()> {
                let tid = territory.tenant_id.to_string();
                let id = territory.id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                sqlx::query(
                    "INSERT INTO territories (id, tenant_id, name, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&id)
                .bind(&tid)
                .bind(&territory.name)
                .bind(Timestamp::now().millis())
                .execute(&mut *tx)
                .await?;
                Self::org_write_territory_links(
                    &mut tx,
                    &tid,
                    &id,
                    &territory.store_ids,
                    &territory.user_ids,
                )
                .await?;
                tx.commit().await?;
                Ok(())
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
                let tid = territory.tenant_id.to_string();
                let id = territory.id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                let done = sqlx::query(
                    "UPDATE territories SET name = $1 WHERE tenant_id = $2 AND id = $3",
                )
                .bind(&territory.name)
                .bind(&tid)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::NotFound("territory"));
                }
                Self::org_write_territory_links(
                    &mut tx,
                    &tid,
                    &id,
                    &territory.store_ids,
                    &territory.user_ids,
                )
                .await?;
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
                            let id = UserId::new_random().to_string();
                            sqlx::query(
                                "INSERT INTO users (id, tenant_id, username, password_hash, role, \
                                   code, display_name, created_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                            )
                            .bind(&id)
                            .bind(&tid)
                            .bind(&row.username)
                            .bind(row.password_hash.as_deref().unwrap_or(&row.unusable_hash))
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
                let now = Timestamp::now().millis();
                for row in rows {
                    let existing: Option<String> = sqlx::query_scalar(
                        "SELECT id FROM territories WHERE tenant_id = $1 AND name = $2",
                    )
                    .bind(&tid)
                    .bind(&row.name)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let id = match existing {
                        Some(id) => {
                            counts.updated += 1;
                            id
                        }
                        None => {
                            let id = Uuid::new_v4().to_string();
                            sqlx::query(
                                "INSERT INTO territories (id, tenant_id, name, created_at) \
                                 VALUES ($1, $2, $3, $4)",
                            )
                            .bind(&id)
                            .bind(&tid)
                            .bind(&row.name)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                            counts.created += 1;
                            id
                        }
                    };
                    Self::org_write_territory_links(
                        &mut tx,
                        &tid,
                        &id,
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

organisation_store!(SqliteStore, sqlx::Sqlite);
organisation_store!(PgStore, sqlx::Postgres);
