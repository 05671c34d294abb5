//! What the reports over many people read (docs/reports.md), from the projections. For the
//! manager's monthly report: each person's sales of a month summed in SQL from the `amount`
//! and `units` the `orders` projection keeps, the documents of the orders projected before
//! those were kept, the expenses' documents, and the new and dormant stores counted per
//! person in SQL. For the rep's weekly report: the week's documents of some people, in one
//! read per kind. What is a
//! sale is the caller's: the statuses are bound (`rules::sales::SALE_STATUSES`). Reads of rows
//! are bounded by a row limit the caller gives (it asks for one row more to tell that it was
//! reached); the sums and counts return one row per person. The SQL, the same for both
//! engines, is in `sales_sql`.

use fieldsync_shared::document::DocKind;
use fieldsync_shared::values::{Date, TenantId, UserId};

use super::StoreResult;

/// What the projections hold of some people's sales and expenses over some days that the
/// sums cannot answer: documents.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PeopleDocuments {
    /// Their orders dated in the days whose status is one asked for and whose projection
    /// keeps no amount or units (projected before migration 0021): `serde_json` of the
    /// hydrated orders, to compute the sale from by the shared rule.
    pub unkept_orders: Vec<String>,
    /// Their expenses dated in the days (`serde_json` of the hydrated documents).
    pub expenses: Vec<String>,
}

/// One person's sales over some days: the sums of the `amount` and `units` the projection
/// keeps of each order that is a sale (`rules::sales::sale_amount`, `sale_units`), exact
/// (wider than `i64`: the caller decides what an overflow reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonSales {
    pub person_id: UserId,
    /// Orders summed.
    pub orders: i64,
    pub amount: i128,
    pub units: i128,
}

/// New and dormant stores of one person in a month (docs/reports.md): a store is new when its
/// first sale ever falls in the month, counted for the person of its first sale in the month
/// (the smallest person id on a tie); dormant when it had sales in the months before (from
/// `dormant_from`) and none in the month, counted for the person of its latest sale (the
/// largest person id on a tie). Anyone's sales count, whoever the report is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreCounts {
    pub person_id: UserId,
    pub new_stores: u32,
    pub dormant_stores: u32,
}

#[async_trait::async_trait]
pub trait SalesStore: Send + Sync {
    /// The unkept orders (see [`PeopleDocuments`]) of `people` (`None`: everyone of the
    /// tenant) dated `first..=last` whose status is in `statuses`, and their expenses dated
    /// `first..=last`: each list at most `limit` rows.
    async fn people_documents(
        &self,
        tenant: TenantId,
        people: Option<&[UserId]>,
        first: Date,
        last: Date,
        statuses: &[&str],
        limit: u32,
    ) -> StoreResult<PeopleDocuments>;

    /// Per person of `people` (`None`: everyone of the tenant) with one, the sums of the kept
    /// amount and units of their orders dated `first..=last` whose status is in `statuses`
    /// (orders without them are left out: [`SalesStore::people_documents`] returns those).
    async fn people_sales(
        &self,
        tenant: TenantId,
        people: Option<&[UserId]>,
        first: Date,
        last: Date,
        statuses: &[&str],
    ) -> StoreResult<Vec<PersonSales>>;

    /// The new and dormant stores of the month `first..=last` (see [`StoreCounts`]), per
    /// person with any, from the tenant's orders (anyone's) whose status is in `statuses`;
    /// dormant: sold `dormant_from..first`, not in the month.
    async fn store_counts(
        &self,
        tenant: TenantId,
        dormant_from: Date,
        first: Date,
        last: Date,
        statuses: &[&str],
    ) -> StoreResult<Vec<StoreCounts>>;

    /// The documents of `kind` (`serde_json` of the hydrated documents the projection rows
    /// hold: visits by planned date, orders by order date, plans by their week's Monday,
    /// expenses by date) of `people` dated `first..=last`, by person; at most `limit`. One
    /// read over the (tenant, person, date) index instead of pages of the listing.
    async fn people_documents_of(
        &self,
        tenant: TenantId,
        kind: DocKind,
        people: &[UserId],
        first: Date,
        last: Date,
        limit: u32,
    ) -> StoreResult<Vec<String>>;
}
