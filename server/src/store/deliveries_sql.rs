//! The [`DeliveryStore`](super::deliveries::DeliveryStore) of both engines: the same SQL, with
//! the engine's form of a JSON list (`json_list!`). Bound, never built from values.

/// Implements `DeliveryStore` for `$store`; `$engine` picks the `json_list!` form.
macro_rules! delivery_store {
    ($store:ty, $engine:ident) => {
        use fieldsync_shared::values::{Date, TenantId, UserId};

        use $crate::store::decode::{json_ids, user_id_of};
        use $crate::store::deliveries::{DeliveryCount, DeliveryStore};
        use $crate::store::sql_fragments::json_list;
        use $crate::store::StoreResult;

        #[async_trait::async_trait]
        impl DeliveryStore for $store {
            #[tracing::instrument(skip(self, people, statuses), fields(%tenant, n = people.len()))]
            async fn delivery_counts(
                &self,
                tenant: TenantId,
                people: &[UserId],
                first: Date,
                last: Date,
                statuses: &[&str],
            ) -> StoreResult<Vec<DeliveryCount>> {
                // Dates are `YYYY-MM-DD` text: their order is the calendar's. On time is
                // `rules::delivery::is_on_time`: delivered on or before the requested day.
                let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(concat!(
                    "SELECT person_id,
                            COUNT(*),
                            COUNT(CASE WHEN delivered_on <= requested_delivery THEN 1 END),
                            COUNT(CASE WHEN delivered_on > requested_delivery THEN 1 END)
                     FROM orders
                     WHERE tenant_id = $1
                       AND requested_delivery >= $2 AND requested_delivery <= $3
                       AND person_id IN ",
                    json_list!($engine, "$4"),
                    "
                       AND status IN ",
                    json_list!($engine, "$5"),
                    "
                     GROUP BY person_id"
                ))
                .bind(tenant.to_string())
                .bind(first.to_string())
                .bind(last.to_string())
                .bind(json_ids(people))
                .bind(json_ids(statuses))
                .fetch_all(self.pool())
                .await?;
                rows.into_iter()
                    .map(|(person, due, on_time, late)| {
                        Ok(DeliveryCount {
                            person_id: user_id_of(&person)?,
                            due,
                            on_time,
                            late,
                        })
                    })
                    .collect()
            }
        }
    };
}

mod sqlite {
    delivery_store!(crate::store::sqlite::SqliteStore, sqlite);
}

mod postgres {
    delivery_store!(crate::store::postgres::PgStore, postgres);
}
