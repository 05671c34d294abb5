//! The [`SalesStore`](super::sales::SalesStore) of both engines: the same SQL, with the
//! engine's form of a JSON list of ids (`json_list!`). Every query is bound (no SQL built from
//! values); row reads are limited, sums and counts return a row per person.

/// Implements `SalesStore` for `$store`, where `$row` is the engine's row type and `$engine`
/// picks the `json_list!` form.
macro_rules! sales_store {
    ($store:ty, $row:ty, $engine:ident) => {
        use fieldsync_shared::document::DocKind;
        use fieldsync_shared::values::{Date, TenantId, UserId};
        use sqlx::Row;

        use $crate::store::decode::{json_ids, u32_of, user_id_of};
        use $crate::store::plans_sql::plans_as_projection;
        use $crate::store::sales::{PeopleDocuments, PersonSales, SalesStore, StoreCounts};
        use $crate::store::sql_fragments::json_list;
        use $crate::store::StoreResult;

        /// The documents of some people (`$2`, a JSON list) in a table with a date column,
        /// from `$3` to `$4`, at most `$5`.
        macro_rules! people_documents_sql {
            ($table:expr, $date:literal) => {
                concat!(
                    "SELECT document FROM ",
                    $table,
                    "
                     WHERE tenant_id = $1 AND person_id IN ",
                    json_list!($engine, "$2"),
                    "
                       AND ",
                    $date,
                    " >= $3 AND ",
                    $date,
                    " <= $4
                     ORDER BY person_id, ",
                    $date,
                    ", doc_id
                     LIMIT $5"
                )
            };
        }

        /// `high * 2^32 + low`: a sum of 64-bit values summed in two halves.
        fn halves(row: &$row, high: &str, low: &str) -> StoreResult<i128> {
            let (h, l): (i64, i64) = (row.try_get(high)?, row.try_get(low)?);
            Ok((i128::from(h) << 32) + i128::from(l))
        }

        #[async_trait::async_trait]
        impl SalesStore for $store {
            #[tracing::instrument(skip(self, people, statuses), fields(%tenant))]
            async fn people_documents(
                &self,
                tenant: TenantId,
                people: Option<&[UserId]>,
                first: Date,
                last: Date,
                statuses: &[&str],
                limit: u32,
            ) -> StoreResult<PeopleDocuments> {
                let people = people.map(json_ids);
                let unkept_orders: Vec<String> = sqlx::query_scalar(concat!(
                    "SELECT document FROM orders
                     WHERE tenant_id = $1
                       AND ($2 IS NULL OR person_id IN ",
                    json_list!($engine, "$2"),
                    ")
                       AND order_date >= $3 AND order_date <= $4
                       AND status IN ",
                    json_list!($engine, "$5"),
                    "
                       AND (amount IS NULL OR units IS NULL)
                     LIMIT $6"
                ))
                .bind(tenant.to_string())
                .bind(people.as_deref())
                .bind(first.to_string())
                .bind(last.to_string())
                .bind(json_ids(statuses))
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                let expenses: Vec<String> = sqlx::query_scalar(concat!(
                    "SELECT document FROM expenses
                     WHERE tenant_id = $1
                       AND ($2 IS NULL OR person_id IN ",
                    json_list!($engine, "$2"),
                    ")
                       AND expense_date >= $3 AND expense_date <= $4
                     ORDER BY expense_date, doc_id
                     LIMIT $5"
                ))
                .bind(tenant.to_string())
                .bind(people.as_deref())
                .bind(first.to_string())
                .bind(last.to_string())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                Ok(PeopleDocuments {
                    unkept_orders,
                    expenses,
                })
            }

            #[tracing::instrument(skip(self, people, statuses), fields(%tenant))]
            async fn people_sales(
                &self,
                tenant: TenantId,
                people: Option<&[UserId]>,
                first: Date,
                last: Date,
                statuses: &[&str],
            ) -> StoreResult<Vec<PersonSales>> {
                // Each value summed in two halves, the high 32 bits (arithmetic shift) and the
                // low 32: neither sum can overflow a 64-bit integer below 2^31 rows, where
                // SQLite's SUM would raise an error and PostgreSQL's gives NUMERIC. The sums
                // are read from the covering index `orders_tenant_date_sales`.
                let rows: Vec<$row> = sqlx::query(concat!(
                    "SELECT person_id, COUNT(*) AS orders,
                            CAST(SUM(amount >> 32) AS BIGINT) AS amount_high,
                            CAST(SUM(amount & 4294967295) AS BIGINT) AS amount_low,
                            CAST(SUM(units >> 32) AS BIGINT) AS units_high,
                            CAST(SUM(units & 4294967295) AS BIGINT) AS units_low
                     FROM orders
                     WHERE tenant_id = $1
                       AND ($2 IS NULL OR person_id IN ",
                    json_list!($engine, "$2"),
                    ")
                       AND order_date >= $3 AND order_date <= $4
                       AND status IN ",
                    json_list!($engine, "$5"),
                    "
                       AND amount IS NOT NULL AND units IS NOT NULL
                     GROUP BY person_id
                     ORDER BY person_id"
                ))
                .bind(tenant.to_string())
                .bind(people.map(json_ids))
                .bind(first.to_string())
                .bind(last.to_string())
                .bind(json_ids(statuses))
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(PersonSales {
                            person_id: user_id_of(row.try_get("person_id")?)?,
                            orders: row.try_get("orders")?,
                            amount: halves(row, "amount_high", "amount_low")?,
                            units: halves(row, "units_high", "units_low")?,
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip(self, statuses), fields(%tenant))]
            async fn store_counts(
                &self,
                tenant: TenantId,
                dormant_from: Date,
                first: Date,
                last: Date,
                statuses: &[&str],
            ) -> StoreResult<Vec<StoreCounts>> {
                // Per store of the sales from `dormant_from` to the month's end (the covering
                // index, no order row read): its first sale in the month and its latest
                // before. Then one probe of (tenant, store, date) per store: the person of
                // that sale, and for a store first sold in the month, whether it sold before
                // `dormant_from` (a store sold in the months before is not new anyway).
                let rows: Vec<$row> = sqlx::query(concat!(
                    "WITH per_store AS (
                       SELECT store_id,
                              MIN(CASE WHEN order_date >= $3 THEN order_date END) AS first_in,
                              MAX(CASE WHEN order_date < $3 THEN order_date END) AS last_before
                       FROM orders
                       WHERE tenant_id = $1 AND order_date >= $2 AND order_date <= $4
                         AND status IN ",
                    json_list!($engine, "$5"),
                    "
                       GROUP BY store_id
                     ),
                     new_stores AS (
                       SELECT (SELECT MIN(o.person_id) FROM orders o
                               WHERE o.tenant_id = $1 AND o.store_id = s.store_id
                                 AND o.order_date = s.first_in AND o.status IN ",
                    json_list!($engine, "$5"),
                    ") AS person_id
                       FROM per_store s
                       WHERE s.first_in IS NOT NULL AND s.last_before IS NULL
                         AND NOT EXISTS (SELECT 1 FROM orders o
                                         WHERE o.tenant_id = $1 AND o.store_id = s.store_id
                                           AND o.order_date < $2 AND o.status IN ",
                    json_list!($engine, "$5"),
                    ")
                     ),
                     dormant_stores AS (
                       SELECT (SELECT MAX(o.person_id) FROM orders o
                               WHERE o.tenant_id = $1 AND o.store_id = s.store_id
                                 AND o.order_date = s.last_before AND o.status IN ",
                    json_list!($engine, "$5"),
                    ") AS person_id
                       FROM per_store s
                       WHERE s.first_in IS NULL
                     ),
                     counted AS (
                       SELECT person_id, 1 AS new_store, 0 AS dormant_store FROM new_stores
                       UNION ALL
                       SELECT person_id, 0, 1 FROM dormant_stores
                     )
                     SELECT person_id, CAST(SUM(new_store) AS BIGINT) AS new_stores,
                            CAST(SUM(dormant_store) AS BIGINT) AS dormant_stores
                     FROM counted
                     WHERE person_id IS NOT NULL
                     GROUP BY person_id
                     ORDER BY person_id"
                ))
                .bind(tenant.to_string())
                .bind(dormant_from.to_string())
                .bind(first.to_string())
                .bind(last.to_string())
                .bind(json_ids(statuses))
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        let count = |col: &str| -> StoreResult<u32> {
                            u32_of(col, row.try_get::<i64, _>(col)?)
                        };
                        Ok(StoreCounts {
                            person_id: user_id_of(row.try_get("person_id")?)?,
                            new_stores: count("new_stores")?,
                            dormant_stores: count("dormant_stores")?,
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip(self, people), fields(%tenant, kind = kind.as_str()))]
            async fn people_documents_of(
                &self,
                tenant: TenantId,
                kind: DocKind,
                people: &[UserId],
                first: Date,
                last: Date,
                limit: u32,
            ) -> StoreResult<Vec<String>> {
                let sql = match kind {
                    DocKind::Visit => people_documents_sql!("visits", "planned_date"),
                    DocKind::Order => people_documents_sql!("orders", "order_date"),
                    DocKind::Plan => people_documents_sql!(plans_as_projection!(), "week_start"),
                    DocKind::Expense => people_documents_sql!("expenses", "expense_date"),
                };
                Ok(sqlx::query_scalar(sql)
                    .bind(tenant.to_string())
                    .bind(json_ids(people))
                    .bind(first.to_string())
                    .bind(last.to_string())
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await?)
            }
        }
    };
}

mod sqlite {
    sales_store!(
        crate::store::sqlite::SqliteStore,
        sqlx::sqlite::SqliteRow,
        sqlite
    );
}

mod postgres {
    sales_store!(
        crate::store::postgres::PgStore,
        sqlx::postgres::PgRow,
        postgres
    );
}
