//! Perceptual hashes of photos (`photo_hashes`) for the near-duplicate check, and the visits a
//! photo is attached to (docs/photo-uploads.md, "Near-duplicate photos"). The SQL, the same for
//! both engines, is in `photo_hashes_sql`.

use fieldsync_shared::{Date, DocId, Sha256, StoreId, TenantId, Timestamp};

use super::StoreResult;

/// One photo's stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoHashRow {
    pub sha256: Sha256,
    /// The 64 hash bits.
    pub hash: u64,
    /// When the photo was stored.
    pub stored_at: Timestamp,
    /// When this row was written (indexes of other instances catch up by it).
    pub recorded_at: Timestamp,
}

/// A photo still to hash (the backfill): stored, of a tenant, without a hash of the current
/// algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnhashedPhoto {
    pub tenant_id: TenantId,
    pub sha256: Sha256,
    pub created_at: Timestamp,
}

/// A visit that references a photo (`photo_refs` joined with the `visits` projection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoVisit {
    pub visit: DocId,
    pub store_id: StoreId,
    pub date: Date,
}

/// Photo hashes. Every query is bound to a tenant, except the backfill's, which sweeps every
/// tenant.
#[async_trait::async_trait]
pub trait PhotoHashStore: Send + Sync {
    /// Records (or replaces) the photo's hash of `algorithm`.
    async fn upsert_photo_hash(
        &self,
        tenant: TenantId,
        algorithm: &str,
        row: &PhotoHashRow,
    ) -> StoreResult<()>;
    /// The photo's hash of `algorithm`, if recorded.
    async fn photo_hash(
        &self,
        tenant: TenantId,
        algorithm: &str,
        sha256: &Sha256,
    ) -> StoreResult<Option<PhotoHashRow>>;
    /// The tenant's hashes of `algorithm` of photos stored at or after `since`, ordered by
    /// (`recorded_at`, `sha256`), after `after` (a `recorded_at` and, within it, a `sha256`;
    /// `None`: every one of that time), at most `limit` (keyset pages).
    async fn photo_hashes_page(
        &self,
        tenant: TenantId,
        algorithm: &str,
        since: Timestamp,
        after: (Timestamp, Option<Sha256>),
        limit: u32,
    ) -> StoreResult<Vec<PhotoHashRow>>;
    /// Photos of every tenant stored at or after `since` without a hash of `algorithm`,
    /// ordered by (`created_at`, `tenant_id`, `sha256`), after `after`, at most `limit`.
    async fn unhashed_photos(
        &self,
        algorithm: &str,
        since: Timestamp,
        after: Option<UnhashedPhoto>,
        limit: u32,
    ) -> StoreResult<Vec<UnhashedPhoto>>;
    /// The visits of the tenant that reference the photo now.
    async fn visits_with_photo(
        &self,
        tenant: TenantId,
        sha256: &Sha256,
    ) -> StoreResult<Vec<PhotoVisit>>;
}
