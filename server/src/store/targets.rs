//! Sales targets and their change requests (migration 0018, docs/targets.md). A target is one
//! (period, person, category) with an amount and a volume; a change request keeps the old and
//! new values and the decision, so the requests of a target are its history. The SQL, the
//! same for both engines, is in `targets_sql`.

use fieldsync_shared::values::{Date, Money, TenantId, Timestamp, UserId};
use uuid::Uuid;

use super::StoreResult;

/// One target as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub id: Uuid,
    /// `2026`, `2026-Q1` or `2026-03`.
    pub period: String,
    pub period_start: Date,
    pub period_end: Date,
    /// `None`: the company's own target.
    pub person_id: Option<UserId>,
    /// `None`: all products.
    pub category: Option<String>,
    pub amount: Money,
    pub volume: i64,
    pub updated_at: Timestamp,
}

/// Which targets a listing returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TargetFilter {
    /// Only these people's targets (`None`: everyone's).
    pub people: Option<Vec<UserId>>,
    /// The company's own targets too.
    pub company: bool,
    /// Only targets whose period overlaps `from..=to`.
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// A request to change a target, and its decision.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetChange {
    pub id: Uuid,
    pub target_id: Uuid,
    pub requested_by: UserId,
    pub requested_at: Timestamp,
    pub reason: String,
    pub old_amount: Money,
    pub old_volume: i64,
    pub new_amount: Money,
    pub new_volume: i64,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<Timestamp>,
    pub comment: Option<String>,
}

/// A decision on a pending change request.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetDecision {
    pub approve: bool,
    pub by: UserId,
    pub at: Timestamp,
    pub comment: Option<String>,
}

#[async_trait::async_trait]
pub trait TargetStore: Send + Sync {
    /// Inserts or updates `targets` by (period, person, category), in one transaction; a new
    /// row takes the id it carries.
    async fn upsert_targets(&self, tenant: TenantId, targets: &[Target]) -> StoreResult<()>;

    async fn list_targets(
        &self,
        tenant: TenantId,
        filter: &TargetFilter,
    ) -> StoreResult<Vec<Target>>;

    async fn get_target(&self, tenant: TenantId, id: Uuid) -> StoreResult<Option<Target>>;

    /// Stores a new pending request.
    async fn request_target_change(
        &self,
        tenant: TenantId,
        change: &TargetChange,
    ) -> StoreResult<()>;

    /// The requests of a target, oldest first: its history.
    async fn target_changes(
        &self,
        tenant: TenantId,
        target: Uuid,
    ) -> StoreResult<Vec<TargetChange>>;

    async fn get_target_change(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> StoreResult<Option<TargetChange>>;

    /// Decides a pending request; an approval sets the target to the new values, in the same
    /// transaction. `false` when the request was no longer pending.
    async fn decide_target_change(
        &self,
        tenant: TenantId,
        id: Uuid,
        decision: &TargetDecision,
    ) -> StoreResult<bool>;
}
