//! The [`SalesStore`](super::sales::SalesStore) of both engines: the same SQL, with the
//! engine's form of a JSON list of ids (`json_list!`). Every query is bound (no SQL built from
//! values) and limited.

/// Implements `SalesStore` for `$store`, where `$row` is the engine's row type and `$engine`
/// picks the `json_list!` form.
macro_rules! sales_store {
    ($store:ty, $row:ty, $engine:ident) => {
        use fieldsync_shared::values::{Date, StoreId, TenantId, UserId};
        use sqlx::Row;

        use $crate::store::decode::{corrupt, json_ids, store_id_of, user_id_of};
        use $crate::store::sales::{OrderSale, PeopleDocuments, SaleFact, SalesStore};
        use $crate::store::sql_fragments::json_list;
        use $crate::store::StoreResult;

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
                // The kept amount and units (the sales index covers them: no order row is
                // read), then the documents of the orders projected before they were kept.
                let sql = |kept: bool| {
                    if kept {
                        concat!(
                            "SELECT person_id, amount, units, NULL AS document FROM orders
                             WHERE tenant_id = $1
                               AND ($2 IS NULL OR person_id IN ",
                            json_list!($engine, "$2"),
                            ")
                               AND order_date >= $3 AND order_date <= $4
                               AND status IN ",
                            json_list!($engine, "$5"),
                            "
                               AND amount IS NOT NULL AND units IS NOT NULL
                             LIMIT $6"
                        )
                    } else {
                        concat!(
                            "SELECT person_id, amount, units, document FROM orders
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
                        )
                    }
                };
                let mut orders = Vec::new();
                for kept in [true, false] {
                    let rows: Vec<$row> = sqlx::query(sql(kept))
                        .bind(tenant.to_string())
                        .bind(people.as_deref())
                        .bind(first.to_string())
                        .bind(last.to_string())
                        .bind(json_ids(statuses))
                        .bind(i64::from(limit))
                        .fetch_all(self.pool())
                        .await?;
                    for row in &rows {
                        orders.push(OrderSale {
                            person_id: user_id_of(row.try_get("person_id")?)?,
                            amount: row.try_get("amount")?,
                            units: row.try_get("units")?,
                            document: row.try_get("document")?,
                        });
                    }
                }
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
                Ok(PeopleDocuments { orders, expenses })
            }

            #[tracing::instrument(skip(self, statuses), fields(%tenant))]
            async fn sale_facts(
                &self,
                tenant: TenantId,
                first: Date,
                last: Date,
                statuses: &[&str],
                limit: u32,
            ) -> StoreResult<Vec<SaleFact>> {
                let rows: Vec<$row> = sqlx::query(concat!(
                    "SELECT order_date, person_id, store_id FROM orders
                     WHERE tenant_id = $1 AND order_date >= $2 AND order_date <= $3
                       AND status IN ",
                    json_list!($engine, "$4"),
                    "
                     ORDER BY order_date, person_id, store_id
                     LIMIT $5"
                ))
                .bind(tenant.to_string())
                .bind(first.to_string())
                .bind(last.to_string())
                .bind(json_ids(statuses))
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(SaleFact {
                            order_date: Date::parse(row.try_get("order_date")?).map_err(corrupt)?,
                            person_id: user_id_of(row.try_get("person_id")?)?,
                            store_id: store_id_of(row.try_get("store_id")?)?,
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip(self, stores, statuses), fields(%tenant))]
            async fn stores_sold_before(
                &self,
                tenant: TenantId,
                stores: &[StoreId],
                before: Date,
                statuses: &[&str],
            ) -> StoreResult<Vec<StoreId>> {
                // One probe of the (tenant, store, date) index per store, stopping at its
                // first sale: a DISTINCT over every earlier order read the stores' whole
                // history (seconds for a region's year).
                let ids: Vec<String> = sqlx::query_scalar(concat!(
                    "SELECT s.value FROM ",
                    json_list!($engine, "$2"),
                    " s
                     WHERE EXISTS (SELECT 1 FROM orders
                                   WHERE tenant_id = $1 AND store_id = s.value
                                     AND order_date < $3 AND status IN ",
                    json_list!($engine, "$4"),
                    ")"
                ))
                .bind(tenant.to_string())
                .bind(json_ids(stores))
                .bind(before.to_string())
                .bind(json_ids(statuses))
                .fetch_all(self.pool())
                .await?;
                ids.iter().map(|s| store_id_of(s)).collect()
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
