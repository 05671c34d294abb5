//! The [`AgreementStore`](super::agreements::AgreementStore) of both engines: one SQL body.

/// Implements [`AgreementStore`](super::agreements::AgreementStore) for `$store`.
macro_rules! agreement_store {
    ($store:ty) => {
        use fieldsync_shared::agreement::Agreement;
        use fieldsync_shared::values::{AgreementCode, Money, Sku, TenantId, Timestamp};

        use $crate::store::agreements::AgreementStore;
        use $crate::store::decode::corrupt;
        use $crate::store::directory_sql::{assortment_scope_cols, scope_from_cols};
        use $crate::store::{StoreError, StoreResult};

        /// year, code, title, store_id, chain, channel, listed_skus, listing_fee,
        /// display_weeks, display_fee, shelf_position_weeks, shelf_position_fee, promotions,
        /// promotion_fee.
        type AgreementRow = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        );

        fn count(v: Option<i64>) -> StoreResult<Option<u32>> {
            v.map(|n| u32::try_from(n).map_err(corrupt)).transpose()
        }

        fn agreement_of(r: AgreementRow) -> StoreResult<Agreement> {
            let (year, code, title, store_id, chain, channel, skus, listing_fee) =
                (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7);
            Ok(Agreement {
                code: AgreementCode::parse(&code).map_err(corrupt)?,
                title,
                year: i32::try_from(year).map_err(corrupt)?,
                scope: scope_from_cols(&store_id, &chain, &channel)?,
                listed_skus: skus
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(Sku::parse)
                    .collect::<Result<_, _>>()
                    .map_err(corrupt)?,
                listing_fee: listing_fee.map(Money),
                display_weeks: count(r.8)?,
                display_fee: r.9.map(Money),
                shelf_position_weeks: count(r.10)?,
                shelf_position_fee: r.11.map(Money),
                promotions: count(r.12)?,
                promotion_fee: r.13.map(Money),
            })
        }

        #[async_trait::async_trait]
        impl AgreementStore for $store {
            #[tracing::instrument(skip(self, agreements), fields(%tenant, n = agreements.len()))]
            async fn replace_agreements(
                &self,
                tenant: TenantId,
                years: &[i32],
                agreements: &[Agreement],
            ) -> StoreResult<()> {
                let mut tx = self.pool().begin().await?;
                let now = Timestamp::now().millis();
                for year in years {
                    sqlx::query("DELETE FROM agreements WHERE tenant_id = $1 AND year = $2")
                        .bind(tenant.to_string())
                        .bind(i64::from(*year))
                        .execute(&mut *tx)
                        .await?;
                }
                for a in agreements {
                    if !years.contains(&a.year) {
                        return Err(StoreError::Conflict(format!(
                            "agreement {} is of {}, not of a year replaced",
                            a.code, a.year
                        )));
                    }
                    let (store_id, chain, channel) = assortment_scope_cols(&a.scope);
                    if !store_id.is_empty() {
                        $crate::store::sql_fragments::ensure_tenant_store!(&mut *tx, tenant, &store_id);
                    }
                    let skus: Vec<&str> = a.listed_skus.iter().map(|s| s.as_str()).collect();
                    sqlx::query(
                        "INSERT INTO agreements (tenant_id, year, code, title, store_id, chain, \
                           channel, listed_skus, listing_fee, display_weeks, display_fee, \
                           shelf_position_weeks, shelf_position_fee, promotions, promotion_fee, \
                           updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                           $15, $16)",
                    )
                    .bind(tenant.to_string())
                    .bind(i64::from(a.year))
                    .bind(a.code.as_str())
                    .bind(&a.title)
                    .bind(&store_id)
                    .bind(chain)
                    .bind(channel)
                    .bind(skus.join(" "))
                    .bind(a.listing_fee.map(|m| m.minor()))
                    .bind(a.display_weeks.map(i64::from))
                    .bind(a.display_fee.map(|m| m.minor()))
                    .bind(a.shelf_position_weeks.map(i64::from))
                    .bind(a.shelf_position_fee.map(|m| m.minor()))
                    .bind(a.promotions.map(i64::from))
                    .bind(a.promotion_fee.map(|m| m.minor()))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip(self))]
            async fn agreements(&self, tenant: TenantId, year: i32) -> StoreResult<Vec<Agreement>> {
                let rows: Vec<AgreementRow> = sqlx::query_as(
                    "SELECT year, code, title, store_id, chain, channel, listed_skus, listing_fee, \
                       display_weeks, display_fee, shelf_position_weeks, shelf_position_fee, \
                       promotions, promotion_fee \
                     FROM agreements WHERE tenant_id = $1 AND year = $2 ORDER BY code",
                )
                .bind(tenant.to_string())
                .bind(i64::from(year))
                .fetch_all(self.pool())
                .await?;
                rows.into_iter().map(agreement_of).collect()
            }
        }
    };
}

mod sqlite {
    agreement_store!(crate::store::sqlite::SqliteStore);
}

mod postgres {
    agreement_store!(crate::store::postgres::PgStore);
}
