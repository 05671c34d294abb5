//! Promotions and display agreements (migration 0020, docs/promotions.md): master data, replaced
//! as a whole by an import at a new master version, sent to the devices with the master pages
//! and read by the verdicts for a visit's store. The SQL, the same for both engines, is in
//! `promotions_sql`.

use fieldsync_shared::master::Promotion;
use fieldsync_shared::{StoreId, TenantId};

use super::StoreResult;

#[async_trait::async_trait]
pub trait PromotionStore: Send + Sync {
    /// Replaces the tenant's promotions with `promotions` at a new master version, which is
    /// returned (and recorded as the promotions' version). `NotFound` if one names a store
    /// this tenant does not have.
    async fn replace_promotions(
        &self,
        tenant: TenantId,
        promotions: &[Promotion],
    ) -> StoreResult<i64>;
    /// The tenant's promotions by code, and the master version they were last replaced at
    /// (0: never), read in one statement.
    async fn promotions(&self, tenant: TenantId) -> StoreResult<(Vec<Promotion>, i64)>;
    /// The promotions whose scope names `store`: its own, its chain's in its channel and its
    /// channel's, by code (none when the tenant has no such store).
    async fn promotions_of_store(
        &self,
        tenant: TenantId,
        store: StoreId,
    ) -> StoreResult<Vec<Promotion>>;
}
