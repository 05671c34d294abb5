//! Pictures of success (migration 0025, docs/picture-of-success.md): master data, replaced as a
//! whole by an import at a new master version, sent to the devices with the master pages and
//! read by the verdicts for a visit's store. The SQL, the same for both engines, is in
//! `success_sql`.

use fieldsync_shared::master::SuccessPicture;
use fieldsync_shared::{StoreId, TenantId};

use super::StoreResult;

#[async_trait::async_trait]
pub trait SuccessStore: Send + Sync {
    /// Replaces the tenant's pictures of success with `pictures` at a new master version, which
    /// is returned (and recorded as the pictures' version). `NotFound` if one names a store
    /// this tenant does not have; `Conflict` if two have the same scope.
    async fn replace_success_pictures(
        &self,
        tenant: TenantId,
        pictures: &[SuccessPicture],
    ) -> StoreResult<i64>;
    /// The tenant's pictures by code, and the master version they were last replaced at (0:
    /// never), read in one statement.
    async fn success_pictures(&self, tenant: TenantId) -> StoreResult<(Vec<SuccessPicture>, i64)>;
    /// The pictures whose scope names `store`: its own, its chain's in its channel and its
    /// channel's, by code (none when the tenant has no such store). The rule picks the most
    /// specific (`rules::success::picture_for`).
    async fn success_pictures_of_store(
        &self,
        tenant: TenantId,
        store: StoreId,
    ) -> StoreResult<Vec<SuccessPicture>>;
}
