//! Teams: a supervisor's reps and merchandisers; a user is in at most one team.

use fieldsync_shared::{TenantId, UserId};
use uuid::Uuid;

use super::writes::{Owned, RowWrites, Write};
use crate::store::decode::{group, opt_user, opt_uuid, user_id_of, uuid_of};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::StoreResult;

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

/// Supervisors' teams with their members.
#[async_trait::async_trait]
pub trait TeamStore: Send + Sync {
    /// Creates a team with its members; `Conflict` if the name is taken.
    async fn create_team(&self, team: &Team) -> StoreResult<()>;
    async fn list_teams(&self, tenant: TenantId) -> StoreResult<Vec<Team>>;
    async fn get_team(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Team>>;
    /// Rewrites name, supervisor, region and the member set (members move from any other
    /// team); `NotFound` if the team or a member is not this tenant's.
    async fn update_team(&self, team: &Team) -> StoreResult<()>;
}

/// A team's own row.
const TEAM_ROW: RowWrites = RowWrites {
    what: "team",
    insert: "INSERT INTO teams (id, tenant_id, name, supervisor_id, region_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
    update: "UPDATE teams SET name = $3, supervisor_id = $4, region_id = $5 \
             WHERE id = $1 AND tenant_id = $2",
};

macro_rules! team_store {
    ($store:ty, $db:ty) => {
        impl $store {
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
                let mut members = group(members, user_id_of)?;
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

            async fn org_write_team(&self, team: &Team, write: Write) -> StoreResult<()> {
                let tid = team.tenant_id.to_string();
                let id = team.id.to_string();
                let mut tx = self.pool().begin().await?;
                Self::org_changed(&mut tx, &tid).await?;
                let supervisor = team.supervisor_id.map(|m| m.to_string());
                let region = team.region_id.map(|m| m.to_string());
                Self::org_check_opt(&mut tx, &tid, Owned::User, supervisor.as_deref()).await?;
                Self::org_check_opt(&mut tx, &tid, Owned::Region, region.as_deref()).await?;
                let values = [
                    Some(id.as_str()),
                    Some(tid.as_str()),
                    Some(team.name.as_str()),
                    supervisor.as_deref(),
                    region.as_deref(),
                ];
                Self::org_write_row(&mut tx, &TEAM_ROW, write, &values).await?;
                Self::org_write_members(&mut tx, &tid, &id, &team.members).await?;
                tx.commit().await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl TeamStore for $store {
            #[tracing::instrument(skip(self, team), fields(name = %team.name))]
            async fn create_team(&self, team: &Team) -> StoreResult<()> {
                self.org_write_team(team, Write::Create).await
            }

            async fn list_teams(&self, tenant: TenantId) -> StoreResult<Vec<Team>> {
                self.org_teams(tenant, None).await
            }

            async fn get_team(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Team>> {
                Ok(self.org_teams(tenant, Some(id)).await?.pop())
            }

            #[tracing::instrument(skip(self, team), fields(team = %team.id))]
            async fn update_team(&self, team: &Team) -> StoreResult<()> {
                self.org_write_team(team, Write::Update).await
            }
        }
    };
}

team_store!(SqliteStore, sqlx::Sqlite);
team_store!(PgStore, sqlx::Postgres);
