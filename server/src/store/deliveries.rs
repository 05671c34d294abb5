//! What the monthly report's order on-time delivery reads (docs/reports.md): per person, the
//! sales due in some days and how many of them were delivered on time or late, counted in SQL
//! from the `orders` projection's `requested_delivery` and `delivered_on` (migration 0028): no
//! document is read. The SQL, the same for both engines, is in `deliveries_sql`.

use fieldsync_shared::values::{Date, TenantId, UserId};

use super::StoreResult;

/// One person's orders due in some days, by what their recorded delivery says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryCount {
    pub person_id: UserId,
    /// Orders whose requested delivery falls in the days.
    pub due: i64,
    /// Of those, delivered on or before the requested day (`rules::delivery::is_on_time`).
    pub on_time: i64,
    /// Delivered after it.
    pub late: i64,
}

#[async_trait::async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Per person of `people` with any, their orders whose requested delivery is in
    /// `first..=last` and whose status is in `statuses`, counted by delivery: at most one row
    /// per person.
    async fn delivery_counts(
        &self,
        tenant: TenantId,
        people: &[UserId],
        first: Date,
        last: Date,
        statuses: &[&str],
    ) -> StoreResult<Vec<DeliveryCount>>;
}
