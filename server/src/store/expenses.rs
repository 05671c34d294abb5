//! Expenses (migration 0017): each tenant's monthly expense budget, and what the expense rule
//! reads on the server: a person's orders and expenses of a month. The expense projection
//! itself is written with the other projections in the sync transaction (`documents_sql`,
//! `expenses_sql`). The SQL, the same for both engines, is in `expenses_sql`.

use fieldsync_shared::expense::ExpenseBudget;
use fieldsync_shared::values::{Date, TenantId, Timestamp, UserId};

use super::StoreResult;

/// A person's documents of one month, as the projections hold them (`serde_json` of the
/// hydrated documents).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PersonMonth {
    /// Their orders dated in the month.
    pub orders: Vec<String>,
    /// Their expenses dated in the month.
    pub expenses: Vec<String>,
}

#[async_trait::async_trait]
pub trait ExpenseStore: Send + Sync {
    /// The tenant's budget (the defaults when it set none).
    async fn expense_budget(&self, tenant: TenantId) -> StoreResult<ExpenseBudget>;

    /// Sets the tenant's budget (validated by the caller).
    async fn set_expense_budget(
        &self,
        tenant: TenantId,
        budget: &ExpenseBudget,
        at: Timestamp,
    ) -> StoreResult<()>;

    /// `person`'s orders and expenses dated `first..=last`.
    async fn person_month(
        &self,
        tenant: TenantId,
        person: UserId,
        first: Date,
        last: Date,
    ) -> StoreResult<PersonMonth>;
}
