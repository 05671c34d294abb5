//! What the planner and the visit-frequency report read (migration 0016): the stores of a
//! territory with their last completed visit, and the planned and done visits of a range of
//! weeks. Plans themselves are written with the other projections in the sync transaction
//! (`documents_sql`, `plans_sql`). The SQL, the same for both engines, is in `plans_sql`.

use fieldsync_shared::master::Grade;
use fieldsync_shared::rules::plan::TerritoryStore;
use fieldsync_shared::values::{Date, StoreId, TenantId, UserId};

use super::StoreResult;

/// Visit statuses that count as done: the rep has been to the store.
pub const DONE_VISIT_STATUSES: [&str; 3] = ["checked_out", "submitted", "approved"];

/// One store a person covers (through their territories), for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct CoveredStore {
    pub person_id: UserId,
    pub store_id: StoreId,
    pub code: String,
    pub name: String,
    pub grade: Grade,
}

/// A completed visit: who, where, which day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoneVisit {
    pub person_id: UserId,
    pub store_id: StoreId,
    pub date: Date,
}

/// A plan entry: who planned which store in the week starting `week_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedVisit {
    pub person_id: UserId,
    pub store_id: StoreId,
    pub week_start: Date,
}

#[async_trait::async_trait]
pub trait PlanStore: Send + Sync {
    /// The planner's view of `stores` (grade, location, last completed visit by anyone).
    /// Ids that are not the tenant's stores are left out.
    async fn planning_stores(
        &self,
        tenant: TenantId,
        stores: &[StoreId],
    ) -> StoreResult<Vec<TerritoryStore>>;

    /// The stores each of `people` covers (`None`: everyone of the tenant), with their grade.
    async fn covered_stores(
        &self,
        tenant: TenantId,
        people: Option<&[UserId]>,
    ) -> StoreResult<Vec<CoveredStore>>;

    /// Completed visits of `stores` (by anyone) dated `from..=to`.
    async fn done_visits(
        &self,
        tenant: TenantId,
        stores: &[StoreId],
        from: Date,
        to: Date,
    ) -> StoreResult<Vec<DoneVisit>>;

    /// The latest completed visit of each of `stores` (by anyone) dated before `before`.
    async fn last_visits_before(
        &self,
        tenant: TenantId,
        stores: &[StoreId],
        before: Date,
    ) -> StoreResult<Vec<(StoreId, Date)>>;

    /// Plan entries of `people` for the weeks starting `from..=to` (Mondays).
    async fn planned_visits(
        &self,
        tenant: TenantId,
        people: &[UserId],
        from: Date,
        to: Date,
    ) -> StoreResult<Vec<PlannedVisit>>;
}
