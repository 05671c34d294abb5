//! Annual agreements (migration 0026, docs/agreements.md): imported per year, read by the
//! agreements report. The SQL, the same for both engines, is in `agreements_sql`.

use fieldsync_shared::agreement::Agreement;
use fieldsync_shared::TenantId;

use super::StoreResult;

#[async_trait::async_trait]
pub trait AgreementStore: Send + Sync {
    /// Replaces the tenant's agreements of each of `years` with those of `agreements` (each of
    /// one of `years`), in one transaction. `NotFound` if one names a store this tenant does
    /// not have.
    async fn replace_agreements(
        &self,
        tenant: TenantId,
        years: &[i32],
        agreements: &[Agreement],
    ) -> StoreResult<()>;
    /// The tenant's agreements of `year`, by code.
    async fn agreements(&self, tenant: TenantId, year: i32) -> StoreResult<Vec<Agreement>>;
}
