//! The [`PromotionStore`](super::promotions::PromotionStore) of both engines: one SQL body.

/// Implements [`PromotionStore`](super::promotions::PromotionStore) for `$store`; `$engine`
/// names the engine's module (its `directory` holds the master version counter).
macro_rules! promotion_store {
    ($store:ty, $engine:ident) => {
        use fieldsync_shared::master::{Mechanic, Promotion};
        use fieldsync_shared::values::{Date, Money, PromotionCode, Sku, StoreId, TenantId, Timestamp};

        use $crate::store::decode::corrupt;
        use $crate::store::directory_sql::{assortment_scope_cols, scope_from_cols};
        use $crate::store::promotions::PromotionStore;
        use $crate::store::{StoreError, StoreResult};

        /// code, title, valid_from, valid_to, store_id, chain, channel, skus, mechanic,
        /// promotion_price, fee.
        type PromotionRow = (
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<i64>,
            Option<i64>,
        );

        fn promotion_of(r: PromotionRow) -> StoreResult<Promotion> {
            let (code, title, from, to, store_id, chain, channel, skus, mechanic, price, fee) = r;
            Ok(Promotion {
                code: PromotionCode::parse(&code).map_err(corrupt)?,
                title,
                from: Date::parse(&from).map_err(corrupt)?,
                to: Date::parse(&to).map_err(corrupt)?,
                scope: scope_from_cols(&store_id, &chain, &channel)?,
                skus: skus
                    .split(' ')
                    .map(Sku::parse)
                    .collect::<Result<_, _>>()
                    .map_err(corrupt)?,
                mechanic: Mechanic::parse(&mechanic).map_err(corrupt)?,
                promotion_price: price.map(Money),
                fee: fee.map(Money),
            })
        }

        #[async_trait::async_trait]
        impl PromotionStore for $store {
            #[tracing::instrument(skip(self, promotions), fields(%tenant, n = promotions.len()))]
            async fn replace_promotions(
                &self,
                tenant: TenantId,
                promotions: &[Promotion],
            ) -> StoreResult<i64> {
                let mut tx = self.pool().begin().await?;
                let version =
                    $crate::store::$engine::directory::next_master_version(&mut tx, tenant).await?;
                let now = Timestamp::now().millis();
                sqlx::query("DELETE FROM promotions WHERE tenant_id = $1")
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await?;
                for p in promotions {
                    let (store_id, chain, channel) = assortment_scope_cols(&p.scope);
                    if !store_id.is_empty() {
                        $crate::store::sql_fragments::ensure_tenant_store!(&mut *tx, tenant, &store_id);
                    }
                    let skus: Vec<&str> = p.skus.iter().map(|s| s.as_str()).collect();
                    sqlx::query(
                        "INSERT INTO promotions (tenant_id, code, title, valid_from, valid_to, \
                           store_id, chain, channel, skus, mechanic, promotion_price, fee, \
                           version, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                    )
                    .bind(tenant.to_string())
                    .bind(p.code.as_str())
                    .bind(&p.title)
                    .bind(p.from.to_string())
                    .bind(p.to.to_string())
                    .bind(&store_id)
                    .bind(chain)
                    .bind(channel)
                    .bind(skus.join(" "))
                    .bind(p.mechanic.as_str())
                    .bind(p.promotion_price.map(|m| m.minor()))
                    .bind(p.fee.map(|m| m.minor()))
                    .bind(version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("UPDATE tenants SET promotions_version = $1 WHERE id = $2")
                    .bind(version)
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(version)
            }

            #[tracing::instrument(skip(self))]
            async fn promotions(&self, tenant: TenantId) -> StoreResult<(Vec<Promotion>, i64)> {
                // One statement, one snapshot: the rows and the version they were replaced at
                // (a tenant without promotions gives one row of NULLs).
                type Joined = (
                    i64,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<i64>,
                    Option<i64>,
                );
                let rows: Vec<Joined> = sqlx::query_as(
                    "SELECT t.promotions_version, p.code, p.title, p.valid_from, p.valid_to, \
                       p.store_id, p.chain, p.channel, p.skus, p.mechanic, p.promotion_price, p.fee \
                     FROM tenants t LEFT JOIN promotions p ON p.tenant_id = t.id \
                     WHERE t.id = $1 ORDER BY p.code",
                )
                .bind(tenant.to_string())
                .fetch_all(self.pool())
                .await?;
                let version = rows
                    .first()
                    .map(|r| r.0)
                    .ok_or(StoreError::NotFound("tenant"))?;
                let promotions = rows
                    .into_iter()
                    .filter_map(|r| {
                        let (_, code, title, from, to, store_id, chain, channel, skus, mech, price, fee) = r;
                        Some((
                            code?, title?, from?, to?, store_id?, chain?, channel?, skus?, mech?,
                            price, fee,
                        ))
                    })
                    .map(promotion_of)
                    .collect::<StoreResult<_>>()?;
                Ok((promotions, version))
            }

            #[tracing::instrument(skip(self))]
            async fn promotions_of_store(
                &self,
                tenant: TenantId,
                store: StoreId,
            ) -> StoreResult<Vec<Promotion>> {
                let rows: Vec<PromotionRow> = sqlx::query_as(
                    "SELECT code, title, valid_from, valid_to, store_id, chain, channel, skus, \
                       mechanic, promotion_price, fee FROM promotions \
                     WHERE tenant_id = $1 AND (store_id = $2 OR (store_id = '' \
                       AND channel = (SELECT channel FROM stores WHERE tenant_id = $1 AND id = $2) \
                       AND chain IN ('', (SELECT chain FROM stores WHERE tenant_id = $1 AND id = $2)))) \
                     ORDER BY code",
                )
                .bind(tenant.to_string())
                .bind(store.to_string())
                .fetch_all(self.pool())
                .await?;
                rows.into_iter().map(promotion_of).collect()
            }
        }
    };
}

mod sqlite {
    promotion_store!(crate::store::sqlite::SqliteStore, sqlite);
}

mod postgres {
    promotion_store!(crate::store::postgres::PgStore, postgres);
}
