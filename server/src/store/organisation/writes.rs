//! The steps every organisation write shares, inside the writing transaction: announcing the
//! change, checking that referenced rows are the tenant's, writing an aggregate's own row,
//! team membership, territory links.

use fieldsync_shared::{StoreId, Timestamp, UserId};

use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{StoreError, StoreResult};

/// A kind of row an organisation write may refer to; a reference to a row of another tenant
/// is refused as not found.
#[derive(Debug, Clone, Copy)]
pub(super) enum Owned {
    User,
    Team,
    Region,
    Store,
}

impl Owned {
    fn exists_sql(self) -> &'static str {
        match self {
            Owned::User => "SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2",
            Owned::Team => "SELECT 1 FROM teams WHERE tenant_id = $1 AND id = $2",
            Owned::Region => "SELECT 1 FROM regions WHERE tenant_id = $1 AND id = $2",
            Owned::Store => "SELECT 1 FROM stores WHERE tenant_id = $1 AND id = $2",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Owned::User => "user",
            Owned::Team => "team",
            Owned::Region => "region",
            Owned::Store => "store",
        }
    }
}

/// Whether a write adds an aggregate's row or rewrites an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Write {
    Create,
    Update,
}

/// The two statements that write an aggregate's own row. Both take `$1` id, `$2` tenant, then
/// the same columns in the same order; the insert takes `created_at` last.
pub(super) struct RowWrites {
    /// The row's kind, for `NotFound`.
    pub(super) what: &'static str,
    pub(super) insert: &'static str,
    pub(super) update: &'static str,
}

macro_rules! organisation_writes {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Records an organisation change: takes the next master data version as the
            /// tenant's `org_seq`, so devices with older master data receive their scope's
            /// complete store list (`crate::master_data`). First statement of the writing
            /// transaction, so the tenant row is locked before any other (the order master
            /// upserts use too).
            pub(super) async fn org_changed(
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

            /// Inserts or rewrites one row with `values` bound in order ([`RowWrites`]);
            /// `NotFound` if there is no row to rewrite.
            pub(super) async fn org_write_row(
                tx: &mut sqlx::Transaction<'static, $db>,
                statements: &RowWrites,
                write: Write,
                values: &[Option<&str>],
            ) -> StoreResult<()> {
                let mut query = sqlx::query(match write {
                    Write::Create => statements.insert,
                    Write::Update => statements.update,
                });
                for value in values {
                    query = query.bind(*value);
                }
                if write == Write::Create {
                    query = query.bind(Timestamp::now().millis());
                }
                if query.execute(&mut **tx).await?.rows_affected() != 1 {
                    return Err(StoreError::NotFound(statements.what));
                }
                Ok(())
            }

            /// `NotFound` unless every id names a row of `what` in this tenant.
            pub(super) async fn org_check_all(
                tx: &mut sqlx::Transaction<'static, $db>,
                tenant: &str,
                what: Owned,
                ids: &[String],
            ) -> StoreResult<()> {
                for id in ids {
                    let found: Option<i32> = sqlx::query_scalar(what.exists_sql())
                        .bind(tenant)
                        .bind(id)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if found.is_none() {
                        return Err(StoreError::NotFound(what.name()));
                    }
                }
                Ok(())
            }

            /// [`Self::org_check_all`] for an optional reference.
            pub(super) async fn org_check_opt(
                tx: &mut sqlx::Transaction<'static, $db>,
                tenant: &str,
                what: Owned,
                id: Option<&str>,
            ) -> StoreResult<()> {
                match id {
                    Some(id) => Self::org_check_all(tx, tenant, what, &[id.to_string()]).await,
                    None => Ok(()),
                }
            }

            pub(super) async fn org_set_team(
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
                    Self::org_check_all(tx, tenant, Owned::Team, &[team.to_string()]).await?;
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

            pub(super) async fn org_write_territory_links(
                tx: &mut sqlx::Transaction<'static, $db>,
                tenant: &str,
                territory: &str,
                stores: &[StoreId],
                users: &[UserId],
            ) -> StoreResult<()> {
                let stores: Vec<String> = stores.iter().map(|s| s.to_string()).collect();
                let users: Vec<String> = users.iter().map(|u| u.to_string()).collect();
                Self::org_check_all(tx, tenant, Owned::Store, &stores).await?;
                Self::org_check_all(tx, tenant, Owned::User, &users).await?;
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

            pub(super) async fn org_write_members(
                tx: &mut sqlx::Transaction<'static, $db>,
                tenant: &str,
                team: &str,
                members: &[UserId],
            ) -> StoreResult<()> {
                let members: Vec<String> = members.iter().map(|u| u.to_string()).collect();
                Self::org_check_all(tx, tenant, Owned::User, &members).await?;
                sqlx::query("DELETE FROM team_members WHERE team_id = $1")
                    .bind(team)
                    .execute(&mut **tx)
                    .await?;
                for m in &members {
                    Self::org_set_team(tx, tenant, m, Some(team)).await?;
                }
                Ok(())
            }
        }
    };
}

organisation_writes!(SqliteStore, sqlx::Sqlite);
organisation_writes!(PgStore, sqlx::Postgres);
