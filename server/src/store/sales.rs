//! What the manager's monthly report reads (docs/reports.md): the orders and expenses of many
//! people over a month, and the sales facts (store, person, date) the new and dormant stores
//! are found from, all from the `orders` and `expenses` projections. Every read is bounded by
//! a row limit the caller gives; the caller asks for one row more to tell that it was reached.
//! The SQL, the same for both engines, is in `sales_sql`.

use fieldsync_shared::values::{Date, StoreId, TenantId, UserId};

use super::StoreResult;

/// What the projections hold of some people's sales and expenses over some days.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PeopleDocuments {
    /// Their orders dated in the days whose status is one asked for.
    pub orders: Vec<OrderSale>,
    /// Their expenses dated in the days (`serde_json` of the hydrated documents).
    pub expenses: Vec<String>,
}

/// One order as the achieved sales count it: the `amount` and `units` its projection keeps
/// (`rules::sales::sale_amount`, `sale_units`), or, for an order projected before they were
/// kept, its document (`serde_json` of the hydrated order) to compute them from.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSale {
    pub person_id: UserId,
    pub amount: Option<i64>,
    pub units: Option<i64>,
    pub document: Option<String>,
}

/// One order that is a sale, reduced to what store counts need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SaleFact {
    pub order_date: Date,
    pub person_id: UserId,
    pub store_id: StoreId,
}

#[async_trait::async_trait]
pub trait SalesStore: Send + Sync {
    /// The orders of `people` (`None`: everyone of the tenant) dated `first..=last` whose
    /// status is in `statuses`, and their expenses dated `first..=last`: each list at most
    /// `limit` rows.
    async fn people_documents(
        &self,
        tenant: TenantId,
        people: Option<&[UserId]>,
        first: Date,
        last: Date,
        statuses: &[&str],
        limit: u32,
    ) -> StoreResult<PeopleDocuments>;

    /// The tenant's orders (anyone's) dated `first..=last` whose status is in `statuses`, as
    /// sale facts by date, person and store; at most `limit`.
    async fn sale_facts(
        &self,
        tenant: TenantId,
        first: Date,
        last: Date,
        statuses: &[&str],
        limit: u32,
    ) -> StoreResult<Vec<SaleFact>>;

    /// Those of `stores` with an order (anyone's) dated before `before` whose status is in
    /// `statuses`.
    async fn stores_sold_before(
        &self,
        tenant: TenantId,
        stores: &[StoreId],
        before: Date,
        statuses: &[&str],
    ) -> StoreResult<Vec<StoreId>>;
}
