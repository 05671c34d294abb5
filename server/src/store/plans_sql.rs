//! The plan projection's SQL (migration 0016), used inside `documents_sql`'s `document_store!`
//! body so that plans are written in the sync transaction and listed like visits and orders.
//!
//! A plan has no store. Where the document queries read a `store_id`, a plan reads the nil
//! id (`plan_no_store!`, `sync::policy::NO_STORE`), which is in no read scope's stores: a
//! plan is visible by its owner alone (rep: own; supervisor: team; manager: region).

/// The nil store id as an SQL literal.
macro_rules! plan_no_store {
    () => {
        "'00000000-0000-0000-0000-000000000000'"
    };
}
pub(crate) use plan_no_store;

/// `plans` with the columns of a projection listing (`list_projected_sql!`), keyed by
/// `week_start`.
macro_rules! plans_as_projection {
    () => {
        concat!(
            "(SELECT doc_id, tenant_id, ",
            $crate::store::plans_sql::plan_no_store!(),
            " AS store_id, person_id, week_start, status, updated_seq, document FROM plans) p"
        )
    };
}
pub(crate) use plans_as_projection;

/// `upsert_plan(tx, tenant, doc_id, projection, seq)`: the plan's row and its entries,
/// replaced. Expanded inside `document_store!`, where `Tx` is the engine's transaction.
macro_rules! plan_projection_writes {
    () => {
        async fn upsert_plan(
            tx: &mut Tx,
            tenant: TenantId,
            doc_id: DocId,
            p: &$crate::store::documents::PlanProjection,
            seq: i64,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO plans
                     (doc_id, tenant_id, person_id, week, week_start, status, updated_seq, document)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (doc_id) DO UPDATE SET
                     person_id = excluded.person_id,
                     week = excluded.week,
                     week_start = excluded.week_start,
                     status = excluded.status,
                     updated_seq = excluded.updated_seq,
                     document = excluded.document",
            )
            .bind(doc_id.to_string())
            .bind(tenant.to_string())
            .bind(p.person_id.to_string())
            .bind(&p.week)
            .bind(p.week_start.to_string())
            .bind(p.status)
            .bind(seq)
            .bind(&p.document_json)
            .execute(&mut **tx)
            .await?;
            sqlx::query("DELETE FROM plan_entries WHERE plan_id = $1")
                .bind(doc_id.to_string())
                .execute(&mut **tx)
                .await?;
            for e in &p.entries {
                sqlx::query(
                    "INSERT INTO plan_entries
                         (plan_id, tenant_id, person_id, week_start, store_id, day, seq, reason, pinned)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(doc_id.to_string())
                .bind(tenant.to_string())
                .bind(p.person_id.to_string())
                .bind(p.week_start.to_string())
                .bind(e.store_id.to_string())
                .bind(e.day.to_string())
                .bind(i64::from(e.seq))
                .bind(e.reason)
                .bind(e.pinned)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }
    };
}
pub(crate) use plan_projection_writes;

/// Implements [`PlanStore`](super::plans::PlanStore) for `$store`, where `$row` is the
/// engine's row type and `$engine` picks the `json_list!` form.
macro_rules! plan_store {
    ($store:ty, $row:ty, $engine:ident) => {
        use fieldsync_shared::rules::plan::TerritoryStore;
        use fieldsync_shared::values::{Date, Position, StoreId, TenantId, UserId};
        use sqlx::Row;

        use $crate::store::decode::{corrupt, json_ids, store_id_of, user_id_of};
        use $crate::store::directory_sql::parse_grade;
        use $crate::store::plans::{CoveredStore, DoneVisit, PlanStore, PlannedVisit};
        use $crate::store::sql_fragments::json_list;
        use $crate::store::StoreResult;

        /// `visits.status IN (...)` for the statuses that count as done.
        macro_rules! done {
            () => {
                "status IN ('checked_out', 'submitted', 'approved')"
            };
        }

        fn date_col(row: &$row, col: &str) -> StoreResult<Date> {
            Date::parse(row.try_get(col)?).map_err(corrupt)
        }

        #[async_trait::async_trait]
        impl PlanStore for $store {
            async fn planning_stores(
                &self,
                tenant: TenantId,
                stores: &[StoreId],
            ) -> StoreResult<Vec<TerritoryStore>> {
                let rows: Vec<$row> = sqlx::query(concat!(
                    "SELECT s.id, s.grade, s.lat, s.lon,
                            (SELECT MAX(v.planned_date) FROM visits v
                             WHERE v.tenant_id = s.tenant_id AND v.store_id = s.id AND v.",
                    done!(),
                    ") AS last_visit
                     FROM stores s
                     WHERE s.tenant_id = $1 AND s.id IN ",
                    json_list!($engine, "$2"),
                    "
                     ORDER BY s.id"
                ))
                .bind(tenant.to_string())
                .bind(json_ids(stores))
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        let last: Option<String> = row.try_get("last_visit")?;
                        Ok(TerritoryStore {
                            store_id: store_id_of(row.try_get("id")?)?,
                            grade: parse_grade(row.try_get("grade")?)?,
                            location: Position::new(row.try_get("lat")?, row.try_get("lon")?)
                                .map_err(corrupt)?,
                            last_visit: last
                                .as_deref()
                                .map(Date::parse)
                                .transpose()
                                .map_err(corrupt)?,
                        })
                    })
                    .collect()
            }

            async fn covered_stores(
                &self,
                tenant: TenantId,
                people: Option<&[UserId]>,
            ) -> StoreResult<Vec<CoveredStore>> {
                let rows: Vec<$row> = sqlx::query(concat!(
                    "SELECT DISTINCT a.user_id, s.id, s.code, s.name, s.grade
                     FROM territory_assignments a
                     JOIN territory_stores ts ON ts.territory_id = a.territory_id
                     JOIN stores s ON s.id = ts.store_id
                     WHERE a.tenant_id = $1
                       AND ($2 IS NULL OR a.user_id IN ",
                    json_list!($engine, "$2"),
                    ")
                     ORDER BY a.user_id, s.code"
                ))
                .bind(tenant.to_string())
                .bind(people.map(json_ids))
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(CoveredStore {
                            person_id: user_id_of(row.try_get("user_id")?)?,
                            store_id: store_id_of(row.try_get("id")?)?,
                            code: row.try_get("code")?,
                            name: row.try_get("name")?,
                            grade: parse_grade(row.try_get("grade")?)?,
                        })
                    })
                    .collect()
            }

            async fn done_visits(
                &self,
                tenant: TenantId,
                stores: &[StoreId],
                from: Date,
                to: Date,
            ) -> StoreResult<Vec<DoneVisit>> {
                let rows: Vec<$row> = sqlx::query(concat!(
                    "SELECT person_id, store_id, planned_date FROM visits
                     WHERE tenant_id = $1 AND store_id IN ",
                    json_list!($engine, "$2"),
                    "
                       AND planned_date >= $3 AND planned_date <= $4 AND ",
                    done!(),
                    "
                     ORDER BY planned_date"
                ))
                .bind(tenant.to_string())
                .bind(json_ids(stores))
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(DoneVisit {
                            person_id: user_id_of(row.try_get("person_id")?)?,
                            store_id: store_id_of(row.try_get("store_id")?)?,
                            date: date_col(row, "planned_date")?,
                        })
                    })
                    .collect()
            }

            async fn last_visits_before(
                &self,
                tenant: TenantId,
                stores: &[StoreId],
                before: Date,
            ) -> StoreResult<Vec<(StoreId, Date)>> {
                // One latest-first walk of the (tenant, store, date) index per store, stopping
                // at its first done visit: a GROUP BY over every earlier visit read the whole
                // history of the stores (seconds for a region's year).
                let rows: Vec<$row> = sqlx::query(concat!(
                    "SELECT store_id, last_visit FROM (
                       SELECT s.value AS store_id,
                              (SELECT MAX(planned_date) FROM visits
                               WHERE tenant_id = $1 AND store_id = s.value
                                 AND planned_date < $3 AND ",
                    done!(),
                    ") AS last_visit
                       FROM ",
                    json_list!($engine, "$2"),
                    " s) latest
                     WHERE last_visit IS NOT NULL"
                ))
                .bind(tenant.to_string())
                .bind(json_ids(stores))
                .bind(before.to_string())
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok((
                            store_id_of(row.try_get("store_id")?)?,
                            date_col(row, "last_visit")?,
                        ))
                    })
                    .collect()
            }

            async fn planned_visits(
                &self,
                tenant: TenantId,
                people: &[UserId],
                from: Date,
                to: Date,
            ) -> StoreResult<Vec<PlannedVisit>> {
                let rows: Vec<$row> = sqlx::query(concat!(
                    "SELECT person_id, store_id, week_start FROM plan_entries
                     WHERE tenant_id = $1 AND person_id IN ",
                    json_list!($engine, "$2"),
                    "
                       AND week_start >= $3 AND week_start <= $4"
                ))
                .bind(tenant.to_string())
                .bind(json_ids(people))
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(PlannedVisit {
                            person_id: user_id_of(row.try_get("person_id")?)?,
                            store_id: store_id_of(row.try_get("store_id")?)?,
                            week_start: date_col(row, "week_start")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

mod sqlite {
    plan_store!(
        crate::store::sqlite::SqliteStore,
        sqlx::sqlite::SqliteRow,
        sqlite
    );
}

mod postgres {
    plan_store!(
        crate::store::postgres::PgStore,
        sqlx::postgres::PgRow,
        postgres
    );
}
