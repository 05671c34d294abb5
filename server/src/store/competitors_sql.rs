//! The competitor sightings projection's SQL (migration 0022): its writes, expanded inside
//! `documents_sql`'s `document_store!` body so that they happen in the sync transaction, and
//! the weekly counts of [`CompetitorStore`](super::competitors::CompetitorStore).

/// `replace_sightings(tx, tenant, doc_id, projection)`: the visit's sighting rows, replaced.
/// Expanded inside `document_store!`, where `Tx` is the engine's transaction.
macro_rules! competitor_projection_writes {
    () => {
        async fn replace_sightings(
            tx: &mut Tx,
            tenant: TenantId,
            doc_id: DocId,
            v: &$crate::store::documents::VisitProjection,
        ) -> StoreResult<()> {
            sqlx::query("DELETE FROM competitor_sightings WHERE visit_id = $1")
                .bind(doc_id.to_string())
                .execute(&mut **tx)
                .await?;
            let week_start =
                fieldsync_shared::plan::IsoWeek::of(v.planned_date).monday();
            for s in v.sighting_rows() {
                sqlx::query(
                    "INSERT INTO competitor_sightings
                         (visit_id, sighting_id, tenant_id, store_id, person_id, week_start,
                          competitor, seen, shelf_price, promotion, display, photos, by_id, at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(doc_id.to_string())
                .bind(&s.sighting_id)
                .bind(tenant.to_string())
                .bind(v.store_id.to_string())
                .bind(v.person_id.to_string())
                .bind(week_start.to_string())
                .bind(&s.competitor)
                .bind(&s.seen)
                .bind(s.shelf_price)
                .bind(&s.promotion)
                .bind(s.display)
                .bind(s.photos)
                .bind(&s.by)
                .bind(s.at)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }
    };
}
pub(crate) use competitor_projection_writes;

/// Implements [`CompetitorStore`](super::competitors::CompetitorStore) for `$store`.
macro_rules! competitor_store {
    ($store:ty, $row:ty, $engine:ident) => {
        use fieldsync_shared::values::{Date, StoreId, TenantId};
        use sqlx::Row;

        use $crate::store::competitors::{CompetitorStore, WeeklySightings};
        use $crate::store::decode::{corrupt, json_ids, store_id_of};
        use $crate::store::sql_fragments::json_list;
        use $crate::store::StoreResult;

        fn count(row: &$row, col: &str) -> StoreResult<u64> {
            let n: i64 = row.try_get(col)?;
            u64::try_from(n).map_err(corrupt)
        }

        #[async_trait::async_trait]
        impl CompetitorStore for $store {
            async fn weekly_sightings(
                &self,
                tenant: TenantId,
                stores: &[StoreId],
                from: Date,
                to: Date,
            ) -> StoreResult<Vec<WeeklySightings>> {
                let rows: Vec<$row> = sqlx::query(concat!(
                    "SELECT store_id, week_start, COUNT(*) AS sightings,
                            SUM(CASE WHEN promotion IS NULL THEN 0 ELSE 1 END) AS with_promotion,
                            SUM(CASE WHEN display IS NULL THEN 0 ELSE 1 END) AS with_display
                     FROM competitor_sightings
                     WHERE tenant_id = $1 AND store_id IN ",
                    json_list!($engine, "$2"),
                    "
                       AND week_start >= $3 AND week_start <= $4
                     GROUP BY store_id, week_start
                     ORDER BY week_start, store_id"
                ))
                .bind(tenant.to_string())
                .bind(json_ids(stores))
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(WeeklySightings {
                            store_id: store_id_of(row.try_get("store_id")?)?,
                            week_start: Date::parse(row.try_get("week_start")?).map_err(corrupt)?,
                            sightings: count(row, "sightings")?,
                            with_promotion: count(row, "with_promotion")?,
                            with_display: count(row, "with_display")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

mod sqlite {
    competitor_store!(
        crate::store::sqlite::SqliteStore,
        sqlx::sqlite::SqliteRow,
        sqlite
    );
}

mod postgres {
    competitor_store!(
        crate::store::postgres::PgStore,
        sqlx::postgres::PgRow,
        postgres
    );
}
