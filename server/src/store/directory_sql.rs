//! [`DirectoryStore`](super::DirectoryStore) for both engines: tenants, users, master data.
//!
//! Both engines run the same SQL (`$N` placeholders work on SQLite too, numbered in order of
//! first use), so the two implementations are one macro body, `directory_store!`,
//! instantiated in `sqlite/directory.rs` and `postgres/directory.rs`. The only engine-specific
//! part is how `master_page` opens its read snapshot: each engine's store provides
//! `dir_begin_snapshot`.

use fieldsync_shared::master::{AssortmentRow, AssortmentScope, Channel, Grade};
use fieldsync_shared::tiers::ApprovalTiers;
use fieldsync_shared::{Sku, StoreId};

use super::{StoreError, StoreResult};

/// Stored approval tiers (`approval_tiers.tiers`, their JSON).
pub(crate) fn tiers_from_json(json: &str) -> StoreResult<ApprovalTiers> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("approval tiers: {e}")))
}

pub(crate) fn channel_str(c: Channel) -> &'static str {
    match c {
        Channel::Nka => "nka",
        Channel::Rka => "rka",
        Channel::Lka => "lka",
        Channel::Other => "other",
    }
}

pub(crate) fn parse_channel(s: &str) -> StoreResult<Channel> {
    match s {
        "nka" => Ok(Channel::Nka),
        "rka" => Ok(Channel::Rka),
        "lka" => Ok(Channel::Lka),
        "other" => Ok(Channel::Other),
        other => Err(StoreError::Corrupt(format!("unknown channel {other:?}"))),
    }
}

/// The `store_id`, `chain` and `channel` columns of an assortment row ('' where unused).
pub(crate) fn assortment_scope_cols(scope: &AssortmentScope) -> (String, &str, &'static str) {
    match scope {
        AssortmentScope::Store(id) => (id.to_string(), "", ""),
        AssortmentScope::Chain { chain, channel } => (String::new(), chain, channel_str(*channel)),
        AssortmentScope::Channel(c) => (String::new(), "", channel_str(*c)),
    }
}

/// A store's `chain` column ('' : none).
pub(crate) fn chain_of(chain: String) -> Option<String> {
    (!chain.is_empty()).then_some(chain)
}

/// A scope from its `store_id`, `chain` and `channel` columns (the must-carry range's and the
/// promotions').
pub(crate) fn scope_from_cols(
    store_id: &str,
    chain: &str,
    channel: &str,
) -> StoreResult<AssortmentScope> {
    Ok(if !store_id.is_empty() {
        AssortmentScope::Store(
            StoreId::parse(store_id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )
    } else if !chain.is_empty() {
        AssortmentScope::Chain {
            chain: chain.to_string(),
            channel: parse_channel(channel)?,
        }
    } else {
        AssortmentScope::Channel(parse_channel(channel)?)
    })
}

/// An assortment row from its columns.
pub(crate) fn assortment_row(
    store_id: &str,
    chain: &str,
    channel: &str,
    sku: &str,
    safety_stock: Option<i64>,
) -> StoreResult<AssortmentRow> {
    let scope = scope_from_cols(store_id, chain, channel)?;
    let safety_stock = safety_stock
        .map(|n| u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("safety stock {n}"))))
        .transpose()?;
    Ok(AssortmentRow {
        scope,
        sku: Sku::parse(sku).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        safety_stock,
    })
}

pub(crate) fn grade_str(g: Grade) -> &'static str {
    match g {
        Grade::A => "A",
        Grade::B => "B",
        Grade::C => "C",
    }
}

pub(crate) fn parse_grade(s: &str) -> StoreResult<Grade> {
    match s {
        "A" => Ok(Grade::A),
        "B" => Ok(Grade::B),
        "C" => Ok(Grade::C),
        other => Err(StoreError::Corrupt(format!("unknown grade {other:?}"))),
    }
}

/// Implements [`DirectoryStore`](super::DirectoryStore) for `$store` (an engine's store with a
/// `pool()` and a `dir_begin_snapshot()` opening a read-only snapshot transaction), where `$db`
/// is the engine's [`sqlx::Database`], `$row` its row type and `$engine` (`sqlite` or
/// `postgres`) its module of `verdicts_sql` (a credit import queues its re-checks there). It also brings the imports the
/// body needs (`StoreResult`, ...) into the invoking module.
macro_rules! directory_store {
    ($store:ty, $db:ty, $row:ty, $engine:ident) => {
        use fieldsync_shared::master::{
            CreditSnapshot, MasterDataPage, Product, Role, Store, UserProfile,
        };
        use fieldsync_shared::{
            Date, Money, PersonCode, Position, Sku, StoreCode, StoreId, TenantId,
            Timestamp, UserId,
        };
        use sqlx::Row;

        use $crate::store::directory::{Tenant, UserRecord};
        use $crate::store::decode::{corrupt, u32_of};
        use $crate::store::directory_sql::{
            assortment_row, assortment_scope_cols, chain_of, channel_str, grade_str,
            parse_channel, parse_grade, tiers_from_json,
        };
        use $crate::store::{StoreError, StoreResult};

        fn u32_col(row: &$row, col: &str) -> StoreResult<u32> {
            u32_of(col, row.try_get(col)?)
        }

        fn user_from_row(row: &$row) -> StoreResult<UserProfile> {
            Ok(UserProfile {
                id: UserId::parse(row.try_get("id")?).map_err(corrupt)?,
                tenant_id: TenantId::parse(row.try_get("tenant_id")?).map_err(corrupt)?,
                username: row.try_get("username")?,
                display_name: row.try_get("display_name")?,
                role: Role::parse(row.try_get("role")?).map_err(corrupt)?,
                code: PersonCode::parse(row.try_get("code")?).map_err(corrupt)?,
            })
        }

        fn store_from_row(row: &$row) -> StoreResult<Store> {
            Ok(Store {
                id: StoreId::parse(row.try_get("id")?).map_err(corrupt)?,
                code: StoreCode::parse(row.try_get("code")?).map_err(corrupt)?,
                name: row.try_get("name")?,
                channel: parse_channel(row.try_get("channel")?)?,
                grade: parse_grade(row.try_get("grade")?)?,
                address: row.try_get("address")?,
                location: Position::new(row.try_get("lat")?, row.try_get("lon")?).map_err(corrupt)?,
                geofence_radius_m: u32_col(row, "geofence_radius_m")?,
                delivery_lead_days: u32_col(row, "delivery_lead_days")?,
                chain: chain_of(row.try_get("chain")?),
                monthly_potential: row.try_get::<Option<i64>, _>("monthly_potential")?.map(Money),
            })
        }

        fn product_from_row(row: &$row) -> StoreResult<Product> {
            Ok(Product {
                sku: Sku::parse(row.try_get("sku")?).map_err(corrupt)?,
                name: row.try_get("name")?,
                case_pack: u32_col(row, "case_pack")?,
                sold_by_case: row.try_get("sold_by_case")?,
                shelf_life_days: u32_col(row, "shelf_life_days")?,
                list_price: Money(row.try_get("list_price")?),
                floor_price: Money(row.try_get("floor_price")?),
            })
        }

        fn credit_from_row(row: &$row) -> StoreResult<CreditSnapshot> {
            Ok(CreditSnapshot {
                store_id: StoreId::parse(row.try_get("store_id")?).map_err(corrupt)?,
                credit_limit: Money(row.try_get("credit_limit")?),
                receivables: Money(row.try_get("receivables")?),
                overdue: Money(row.try_get("overdue")?),
                as_of: Date::parse(row.try_get("as_of")?).map_err(corrupt)?,
            })
        }

        /// Takes the tenant's next master version inside `tx`. This write locks the tenant
        /// (its row on PostgreSQL, the database on SQLite) until `tx` ends, so the tenant's
        /// master versions become visible in commit order.
        pub(crate) async fn next_master_version(
            tx: &mut sqlx::Transaction<'static, $db>,
            tenant: TenantId,
        ) -> StoreResult<i64> {
            let version: Option<i64> = sqlx::query_scalar(
                "UPDATE tenants SET master_seq = master_seq + 1 WHERE id = $1 RETURNING master_seq",
            )
            .bind(tenant.to_string())
            .fetch_optional(&mut **tx)
            .await?;
            version.ok_or(StoreError::NotFound("tenant"))
        }

        #[async_trait::async_trait]
        impl $crate::store::DirectoryStore for $store {
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(self.pool()).await?;
                Ok(())
            }

            #[tracing::instrument(skip(self), fields(tenant = %tenant.slug))]
            async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
                sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(tenant.id.to_string())
                    .bind(&tenant.slug)
                    .bind(&tenant.name)
                    .bind(Timestamp::now().millis())
                    .execute(self.pool())
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip(self))]
            async fn find_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
                let row = sqlx::query("SELECT id, slug, name FROM tenants WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(self.pool())
                    .await?;
                row.map(|row| {
                    Ok(Tenant {
                        id: TenantId::parse(row.try_get("id")?).map_err(corrupt)?,
                        slug: row.try_get("slug")?,
                        name: row.try_get("name")?,
                    })
                })
                .transpose()
            }

            #[tracing::instrument(skip(self, user, password_hash), fields(tenant = %user.tenant_id, username = %user.username))]
            async fn create_user(&self, user: &UserProfile, password_hash: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO users (id, tenant_id, username, password_hash, role, code, display_name, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(user.id.to_string())
                .bind(user.tenant_id.to_string())
                .bind(&user.username)
                .bind(password_hash)
                .bind(user.role.as_str())
                .bind(user.code.as_str())
                .bind(&user.display_name)
                .bind(Timestamp::now().millis())
                .execute(self.pool())
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip(self))]
            async fn find_user_by_username(
                &self,
                tenant: TenantId,
                username: &str,
            ) -> StoreResult<Option<UserRecord>> {
                let row = sqlx::query(
                    "SELECT id, tenant_id, username, password_hash, role, code, display_name \
                     FROM users WHERE tenant_id = $1 AND username = $2",
                )
                .bind(tenant.to_string())
                .bind(username)
                .fetch_optional(self.pool())
                .await?;
                row.map(|row| {
                    Ok(UserRecord {
                        profile: user_from_row(&row)?,
                        password_hash: row.try_get("password_hash")?,
                    })
                })
                .transpose()
            }

            #[tracing::instrument(skip(self))]
            async fn find_user(&self, tenant: TenantId, user: UserId) -> StoreResult<Option<UserProfile>> {
                let row = sqlx::query(
                    "SELECT id, tenant_id, username, role, code, display_name \
                     FROM users WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_string())
                .bind(user.to_string())
                .fetch_optional(self.pool())
                .await?;
                row.map(|row| user_from_row(&row)).transpose()
            }

            #[tracing::instrument(skip(self, stores), fields(count = stores.len()))]
            async fn upsert_stores(&self, tenant: TenantId, stores: &[Store]) -> StoreResult<i64> {
                let mut tx = self.pool().begin().await?;
                let version = next_master_version(&mut tx, tenant).await?;
                let now = Timestamp::now().millis();
                for s in stores {
                    // The id is global: an id that belongs to another tenant updates nothing and is
                    // refused below rather than moved across tenants.
                    let done = sqlx::query(
                        "INSERT INTO stores (id, tenant_id, code, name, channel, grade, address, lat, lon, \
                           geofence_radius_m, delivery_lead_days, version, updated_at, chain, monthly_potential) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                         ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, \
                           channel = excluded.channel, grade = excluded.grade, address = excluded.address, \
                           lat = excluded.lat, lon = excluded.lon, \
                           geofence_radius_m = excluded.geofence_radius_m, \
                           delivery_lead_days = excluded.delivery_lead_days, \
                           version = excluded.version, updated_at = excluded.updated_at, \
                           chain = excluded.chain, monthly_potential = excluded.monthly_potential \
                         WHERE stores.tenant_id = excluded.tenant_id",
                    )
                    .bind(s.id.to_string())
                    .bind(tenant.to_string())
                    .bind(s.code.as_str())
                    .bind(&s.name)
                    .bind(channel_str(s.channel))
                    .bind(grade_str(s.grade))
                    .bind(&s.address)
                    .bind(s.location.lat())
                    .bind(s.location.lon())
                    .bind(i64::from(s.geofence_radius_m))
                    .bind(i64::from(s.delivery_lead_days))
                    .bind(version)
                    .bind(now)
                    .bind(s.chain.as_deref().unwrap_or(""))
                    .bind(s.monthly_potential.map(|m| m.0))
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::Conflict(format!(
                            "store id {} belongs to another tenant",
                            s.id
                        )));
                    }
                }
                tx.commit().await?;
                Ok(version)
            }

            #[tracing::instrument(skip(self, products), fields(count = products.len()))]
            async fn upsert_products(&self, tenant: TenantId, products: &[Product]) -> StoreResult<i64> {
                let mut tx = self.pool().begin().await?;
                let version = next_master_version(&mut tx, tenant).await?;
                let now = Timestamp::now().millis();
                for p in products {
                    sqlx::query(
                        "INSERT INTO products (tenant_id, sku, name, case_pack, sold_by_case, shelf_life_days, \
                           list_price, floor_price, version, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                         ON CONFLICT (tenant_id, sku) DO UPDATE SET name = excluded.name, \
                           case_pack = excluded.case_pack, sold_by_case = excluded.sold_by_case, \
                           shelf_life_days = excluded.shelf_life_days, list_price = excluded.list_price, \
                           floor_price = excluded.floor_price, version = excluded.version, \
                           updated_at = excluded.updated_at",
                    )
                    .bind(tenant.to_string())
                    .bind(p.sku.as_str())
                    .bind(&p.name)
                    .bind(i64::from(p.case_pack))
                    .bind(p.sold_by_case)
                    .bind(i64::from(p.shelf_life_days))
                    .bind(p.list_price.minor())
                    .bind(p.floor_price.minor())
                    .bind(version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(version)
            }

            #[tracing::instrument(skip(self, stores), fields(count = stores.len()))]
            async fn known_stores(
                &self,
                tenant: TenantId,
                stores: &[StoreId],
            ) -> StoreResult<std::collections::HashSet<StoreId>> {
                // One lookup per id: a push creates a handful of documents at most.
                let mut known = std::collections::HashSet::new();
                for store in stores {
                    let found: Option<i32> =
                        sqlx::query_scalar("SELECT 1 FROM stores WHERE tenant_id = $1 AND id = $2")
                            .bind(tenant.to_string())
                            .bind(store.to_string())
                            .fetch_optional(self.pool())
                            .await?;
                    if found.is_some() {
                        known.insert(*store);
                    }
                }
                Ok(known)
            }

            #[tracing::instrument(skip(self, credit, changed), fields(count = credit.len()))]
            async fn import_credit(
                &self,
                tenant: TenantId,
                credit: &[CreditSnapshot],
                changed: $crate::store::directory::CreditChanged,
                at: Timestamp,
            ) -> StoreResult<i64> {
                let mut tx = self.pool().begin().await?;
                // The tenant's row is locked from here to the commit: the snapshots read below
                // are the ones these replace, whatever another import does.
                let version = next_master_version(&mut tx, tenant).await?;
                let now = Timestamp::now().millis();
                for c in credit {
                    $crate::store::sql_fragments::ensure_tenant_store!(&mut *tx, tenant, c.store_id.to_string());
                    let previous = sqlx::query(
                        "SELECT store_id, credit_limit, receivables, overdue, as_of \
                         FROM credit_snapshots WHERE tenant_id = $1 AND store_id = $2",
                    )
                    .bind(tenant.to_string())
                    .bind(c.store_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(credit_from_row)
                    .transpose()?;
                    if changed(previous.as_ref(), c) {
                        $crate::store::verdicts_sql::$engine::enqueue_credit_recheck_in(
                            &mut tx, tenant, c.store_id, at,
                        )
                        .await?;
                    }
                    sqlx::query(
                        "INSERT INTO credit_snapshots (tenant_id, store_id, credit_limit, receivables, overdue, \
                           as_of, version, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (tenant_id, store_id) DO UPDATE SET credit_limit = excluded.credit_limit, \
                           receivables = excluded.receivables, overdue = excluded.overdue, \
                           as_of = excluded.as_of, version = excluded.version, updated_at = excluded.updated_at",
                    )
                    .bind(tenant.to_string())
                    .bind(c.store_id.to_string())
                    .bind(c.credit_limit.minor())
                    .bind(c.receivables.minor())
                    .bind(c.overdue.minor())
                    .bind(c.as_of.to_string())
                    .bind(version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(version)
            }

            #[tracing::instrument(skip(self))]
            async fn approval_tiers(
                &self,
                tenant: TenantId,
            ) -> StoreResult<Option<fieldsync_shared::tiers::ApprovalTiers>> {
                let json: Option<String> =
                    sqlx::query_scalar("SELECT tiers FROM approval_tiers WHERE tenant_id = $1")
                        .bind(tenant.to_string())
                        .fetch_optional(self.pool())
                        .await?;
                json.as_deref().map(tiers_from_json).transpose()
            }

            #[tracing::instrument(skip(self, tiers))]
            async fn set_approval_tiers(
                &self,
                tenant: TenantId,
                tiers: &fieldsync_shared::tiers::ApprovalTiers,
            ) -> StoreResult<i64> {
                let json = serde_json::to_string(tiers).map_err(corrupt)?;
                let mut tx = self.pool().begin().await?;
                let version = next_master_version(&mut tx, tenant).await?;
                sqlx::query(
                    "INSERT INTO approval_tiers (tenant_id, tiers, version, updated_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant_id) DO UPDATE SET tiers = excluded.tiers, \
                       version = excluded.version, updated_at = excluded.updated_at",
                )
                .bind(tenant.to_string())
                .bind(json)
                .bind(version)
                .bind(Timestamp::now().millis())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(version)
            }

            #[tracing::instrument(skip(self, rows), fields(count = rows.len()))]
            async fn replace_assortment(
                &self,
                tenant: TenantId,
                rows: &[fieldsync_shared::master::AssortmentRow],
            ) -> StoreResult<i64> {
                let mut tx = self.pool().begin().await?;
                let version = next_master_version(&mut tx, tenant).await?;
                let now = Timestamp::now().millis();
                sqlx::query("DELETE FROM assortment WHERE tenant_id = $1")
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await?;
                for r in rows {
                    let (store_id, chain, channel) = assortment_scope_cols(&r.scope);
                    if !store_id.is_empty() {
                        $crate::store::sql_fragments::ensure_tenant_store!(&mut *tx, tenant, &store_id);
                    }
                    sqlx::query(
                        "INSERT INTO assortment (tenant_id, store_id, chain, channel, sku, \
                           safety_stock, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(tenant.to_string())
                    .bind(&store_id)
                    .bind(chain)
                    .bind(channel)
                    .bind(r.sku.as_str())
                    .bind(r.safety_stock.map(i64::from))
                    .bind(version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("UPDATE tenants SET assortment_version = $1 WHERE id = $2")
                    .bind(version)
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(version)
            }

            #[tracing::instrument(skip(self))]
            async fn assortment(
                &self,
                tenant: TenantId,
            ) -> StoreResult<(Vec<fieldsync_shared::master::AssortmentRow>, i64)> {
                // One snapshot: the rows and the version they were replaced at.
                let mut tx = self.dir_begin_snapshot().await?;
                let version: Option<i64> =
                    sqlx::query_scalar("SELECT assortment_version FROM tenants WHERE id = $1")
                        .bind(tenant.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                let rows = sqlx::query(
                    "SELECT store_id, chain, channel, sku, safety_stock FROM assortment \
                     WHERE tenant_id = $1 ORDER BY store_id, chain, channel, sku",
                )
                .bind(tenant.to_string())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| {
                    assortment_row(
                        row.try_get("store_id")?,
                        row.try_get("chain")?,
                        row.try_get("channel")?,
                        row.try_get("sku")?,
                        row.try_get("safety_stock")?,
                    )
                })
                .collect::<StoreResult<Vec<_>>>()?;
                tx.commit().await?;
                Ok((rows, version.ok_or(StoreError::NotFound("tenant"))?))
            }

            #[tracing::instrument(skip(self))]
            async fn master_page(&self, tenant: TenantId, since: i64) -> StoreResult<MasterDataPage> {
                // One snapshot of the counter and the rows: master upserts of this tenant commit one at
                // a time (see `next_master_version`), so the rows seen are exactly those with a
                // version <= the counter seen.
                let mut tx = self.dir_begin_snapshot().await?;
                let tid = tenant.to_string();
                let counters: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT master_seq, assortment_version FROM tenants WHERE id = $1",
                )
                .bind(&tid)
                .fetch_optional(&mut *tx)
                .await?;
                let (current, assortment_version) =
                    counters.ok_or(StoreError::NotFound("tenant"))?;
                let since = if since > current || since < 0 {
                    0
                } else {
                    since
                };

                let stores = sqlx::query(
                    "SELECT id, code, name, channel, grade, address, lat, lon, geofence_radius_m, \
                       delivery_lead_days, chain, monthly_potential FROM stores WHERE tenant_id = $1 AND version > $2 ORDER BY code",
                )
                .bind(&tid)
                .bind(since)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(store_from_row)
                .collect::<StoreResult<Vec<_>>>()?;
                let products = sqlx::query(
                    "SELECT sku, name, case_pack, sold_by_case, shelf_life_days, list_price, floor_price \
                     FROM products WHERE tenant_id = $1 AND version > $2 ORDER BY sku",
                )
                .bind(&tid)
                .bind(since)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(product_from_row)
                .collect::<StoreResult<Vec<_>>>()?;
                let credit = sqlx::query(
                    "SELECT store_id, credit_limit, receivables, overdue, as_of \
                     FROM credit_snapshots WHERE tenant_id = $1 AND version > $2 ORDER BY store_id",
                )
                .bind(&tid)
                .bind(since)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(credit_from_row)
                .collect::<StoreResult<Vec<_>>>()?;
                // Sent on every page, whatever its version (like the org view).
                let tiers: Option<String> =
                    sqlx::query_scalar("SELECT tiers FROM approval_tiers WHERE tenant_id = $1")
                        .bind(&tid)
                        .fetch_optional(&mut *tx)
                        .await?;
                let approval_tiers = tiers.as_deref().map(tiers_from_json).transpose()?;
                // The range as a whole when it was replaced after `since` (its removed rows
                // cannot say so themselves).
                let assortment = if assortment_version > since {
                    let rows = sqlx::query(
                        "SELECT store_id, chain, channel, sku, safety_stock FROM assortment \
                         WHERE tenant_id = $1 ORDER BY store_id, chain, channel, sku",
                    )
                    .bind(&tid)
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| {
                        assortment_row(
                            row.try_get("store_id")?,
                            row.try_get("chain")?,
                            row.try_get("channel")?,
                            row.try_get("sku")?,
                            row.try_get("safety_stock")?,
                        )
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                    Some(rows)
                } else {
                    None
                };
                tx.commit().await?;

                Ok(MasterDataPage {
                    version: current,
                    stores,
                    products,
                    credit,
                    generated_at: Timestamp::now(),
                    org: None,
                    stores_complete: false,
                    approval_tiers,
                    expense_budget: None,
                    assortment,
                    // The handler fills them (`master_data::promotions_page`).
                    promotions: None,
                    success_pictures: None,
                })
            }
        }
    };
}
pub(crate) use directory_store;
