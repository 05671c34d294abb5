//! The expense projection's SQL (migration 0017), used inside `documents_sql`'s
//! `document_store!` body so that expenses are written in the sync transaction and listed
//! like the other kinds, and the [`ExpenseStore`](super::expenses::ExpenseStore) of both
//! engines.
//!
//! Read scopes judge an expense by its owner alone (rep: own; supervisor: team; manager:
//! region), not by the store it was for: where the document queries read a `store_id`, an
//! expense reads the nil id, like a plan (`plans_sql::plan_no_store!`).

/// `expenses` with the columns of a projection listing (`list_projected_sql!`), keyed by
/// `expense_date`.
macro_rules! expenses_as_projection {
    () => {
        concat!(
            "(SELECT doc_id, tenant_id, ",
            $crate::store::plans_sql::plan_no_store!(),
            " AS store_id, person_id, expense_date, status, updated_seq, document FROM expenses) e"
        )
    };
}
pub(crate) use expenses_as_projection;

/// `upsert_expense(tx, tenant, doc_id, projection, seq)`: the expense's row. Expanded inside
/// `document_store!`, where `Tx` is the engine's transaction.
macro_rules! expense_projection_writes {
    () => {
        async fn upsert_expense(
            tx: &mut Tx,
            tenant: TenantId,
            doc_id: DocId,
            e: &$crate::store::documents::ExpenseProjection,
            seq: i64,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO expenses
                     (doc_id, tenant_id, person_id, store_id, expense_date, expense_type, amount,
                      status, approver, updated_seq, document)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (doc_id) DO UPDATE SET
                     person_id = excluded.person_id,
                     store_id = excluded.store_id,
                     expense_date = excluded.expense_date,
                     expense_type = excluded.expense_type,
                     amount = excluded.amount,
                     status = excluded.status,
                     approver = excluded.approver,
                     updated_seq = excluded.updated_seq,
                     document = excluded.document",
            )
            .bind(doc_id.to_string())
            .bind(tenant.to_string())
            .bind(e.person_id.to_string())
            .bind(e.store_id.map(|s| s.to_string()))
            .bind(e.date.to_string())
            .bind(e.expense_type)
            .bind(e.amount.0)
            .bind(e.status)
            .bind(e.approver)
            .bind(seq)
            .bind(&e.document_json)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }
    };
}
pub(crate) use expense_projection_writes;

/// Implements [`ExpenseStore`](super::expenses::ExpenseStore) for `$store`.
macro_rules! expense_store {
    ($store:ty) => {
        use fieldsync_shared::expense::ExpenseBudget;
        use fieldsync_shared::values::{Date, Money, TenantId, Timestamp, UserId};

        use $crate::store::decode::u32_of;
        use $crate::store::expenses::{ExpenseStore, PersonMonth};
        use $crate::store::StoreResult;

        #[async_trait::async_trait]
        impl ExpenseStore for $store {
            #[tracing::instrument(skip(self), fields(%tenant))]
            async fn expense_budget(&self, tenant: TenantId) -> StoreResult<ExpenseBudget> {
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT base, CAST(ratio_bp AS BIGINT) FROM expense_budgets WHERE tenant_id = $1",
                )
                .bind(tenant.to_string())
                .fetch_optional(self.pool())
                .await?;
                Ok(match row {
                    Some((base, ratio_bp)) => ExpenseBudget {
                        base: Money(base),
                        ratio_bp: u32_of("expense_budgets.ratio_bp", ratio_bp)?,
                    },
                    None => ExpenseBudget::default(),
                })
            }

            #[tracing::instrument(skip(self), fields(%tenant))]
            async fn set_expense_budget(
                &self,
                tenant: TenantId,
                budget: &ExpenseBudget,
                at: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO expense_budgets (tenant_id, base, ratio_bp, updated_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (tenant_id) DO UPDATE SET
                         base = excluded.base,
                         ratio_bp = excluded.ratio_bp,
                         updated_at = excluded.updated_at",
                )
                .bind(tenant.to_string())
                .bind(budget.base.0)
                .bind(i64::from(budget.ratio_bp) as i32)
                .bind(at.millis())
                .execute(self.pool())
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip(self), fields(%tenant, %person))]
            async fn person_month(
                &self,
                tenant: TenantId,
                person: UserId,
                first: Date,
                last: Date,
            ) -> StoreResult<PersonMonth> {
                let orders: Vec<String> = sqlx::query_scalar(
                    "SELECT document FROM orders
                     WHERE tenant_id = $1 AND person_id = $2
                       AND order_date >= $3 AND order_date <= $4",
                )
                .bind(tenant.to_string())
                .bind(person.to_string())
                .bind(first.to_string())
                .bind(last.to_string())
                .fetch_all(self.pool())
                .await?;
                let expenses: Vec<String> = sqlx::query_scalar(
                    "SELECT document FROM expenses
                     WHERE tenant_id = $1 AND person_id = $2
                       AND expense_date >= $3 AND expense_date <= $4",
                )
                .bind(tenant.to_string())
                .bind(person.to_string())
                .bind(first.to_string())
                .bind(last.to_string())
                .fetch_all(self.pool())
                .await?;
                Ok(PersonMonth { orders, expenses })
            }
        }
    };
}

mod sqlite {
    expense_store!(crate::store::sqlite::SqliteStore);
}

mod postgres {
    expense_store!(crate::store::postgres::PgStore);
}
