//! Tenants, users, master data (stores, products, credit snapshots) and photo metadata.

use std::fmt;

use fieldsync_shared::master::{CreditSnapshot, MasterDataPage, Product, Store, UserProfile};
use fieldsync_shared::{Sha256, TenantId, Timestamp, UserId};

use super::StoreResult;

/// A customer company. `slug` is what people type at login (`demo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
}

/// A user as stored, with the password hash (never serialised, redacted in `Debug`).
#[derive(Clone)]
pub struct UserRecord {
    pub profile: UserProfile,
    /// PHC string of an argon2id hash.
    pub password_hash: String,
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("profile", &self.profile)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

/// Metadata of one stored photo; the bytes live in the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoMeta {
    pub tenant_id: TenantId,
    pub sha256: Sha256,
    pub size_bytes: u64,
    pub content_type: String,
    pub uploaded_by: UserId,
    pub created_at: Timestamp,
}

/// Who made a photo's thumbnail (`photo_thumbnails.origin`, docs/photo-uploads.md
/// "Thumbnails first").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbnailOrigin {
    /// Sent by a device before the photo; served while the photo is not stored.
    Device,
    /// Rendered by the server from the stored photo.
    Server,
}

impl ThumbnailOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            ThumbnailOrigin::Device => "device",
            ThumbnailOrigin::Server => "server",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "device" => Some(ThumbnailOrigin::Device),
            "server" => Some(ThumbnailOrigin::Server),
            _ => None,
        }
    }
}

/// How the bytes of a declared photo are sent (docs/photo-uploads.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMode {
    /// The whole photo in one request.
    Single,
    /// Numbered parts, assembled by the object store.
    Multipart,
}

impl UploadMode {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadMode::Single => "single",
            UploadMode::Multipart => "multipart",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "single" => Some(UploadMode::Single),
            "multipart" => Some(UploadMode::Multipart),
            _ => None,
        }
    }
}

/// Where a declared upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadStatus {
    /// Open: bytes may be sent, then `complete`.
    Uploading,
    /// Verified and recorded as a photo.
    Stored,
    /// The stored bytes were not the declared photo; they were deleted.
    Failed,
    /// Not completed within the maximum age; aborted by the clean-up.
    Expired,
}

impl UploadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadStatus::Uploading => "uploading",
            UploadStatus::Stored => "stored",
            UploadStatus::Failed => "failed",
            UploadStatus::Expired => "expired",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "uploading" => Some(UploadStatus::Uploading),
            "stored" => Some(UploadStatus::Stored),
            "failed" => Some(UploadStatus::Failed),
            "expired" => Some(UploadStatus::Expired),
            _ => None,
        }
    }
}

/// One declared photo upload (`photo_uploads`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoUpload {
    pub id: uuid::Uuid,
    pub tenant_id: TenantId,
    pub sha256: Sha256,
    pub size_bytes: u64,
    pub content_type: String,
    pub mode: UploadMode,
    /// Bytes per part (the last part is shorter); `size_bytes` for single uploads.
    pub part_size: u64,
    /// Number of parts; 1 for single uploads.
    pub parts: u32,
    /// The object store's multipart upload id (multipart only).
    pub multipart_id: Option<String>,
    pub status: UploadStatus,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Tenants, users, master data, photo metadata. Every query is bound to a tenant.
#[async_trait::async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Cheap liveness probe for `/health`.
    async fn ping(&self) -> StoreResult<()>;

    /// Creates a tenant; `Conflict` if the id or slug is taken.
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    async fn find_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>>;

    /// Creates a user; `Conflict` if the username or code is taken in the tenant.
    async fn create_user(&self, user: &UserProfile, password_hash: &str) -> StoreResult<()>;
    async fn find_user_by_username(
        &self,
        tenant: TenantId,
        username: &str,
    ) -> StoreResult<Option<UserRecord>>;
    async fn find_user(&self, tenant: TenantId, user: UserId) -> StoreResult<Option<UserProfile>>;

    /// Inserts or updates stores by id (a store's code stays unique in its tenant). All rows
    /// get one new master version, which is returned.
    async fn upsert_stores(&self, tenant: TenantId, stores: &[Store]) -> StoreResult<i64>;
    /// Inserts or updates products by SKU; returns the new master version.
    async fn upsert_products(&self, tenant: TenantId, products: &[Product]) -> StoreResult<i64>;
    /// Inserts or replaces each store's credit snapshot; returns the new master version.
    /// `NotFound` if a snapshot names a store this tenant does not have.
    async fn upsert_credit(&self, tenant: TenantId, credit: &[CreditSnapshot]) -> StoreResult<i64>;
    /// Master rows with `version > since`. A `since` newer than anything this tenant has
    /// (restored database, other server) is answered with everything.
    async fn master_page(&self, tenant: TenantId, since: i64) -> StoreResult<MasterDataPage>;

    /// Records photo metadata unless the tenant already has it; `true` if inserted.
    async fn insert_photo_if_absent(&self, photo: &PhotoMeta) -> StoreResult<bool>;
    async fn get_photo(&self, tenant: TenantId, sha256: &Sha256) -> StoreResult<Option<PhotoMeta>>;

    /// Records a new open upload unless the tenant already has an open (`uploading`) upload of
    /// the same photo: `false` then, and nothing is written.
    async fn create_photo_upload(&self, upload: &PhotoUpload) -> StoreResult<bool>;
    async fn get_photo_upload(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<PhotoUpload>>;
    /// The tenant's open (`uploading`) upload of this photo, if any.
    async fn find_open_photo_upload(
        &self,
        tenant: TenantId,
        sha256: &Sha256,
    ) -> StoreResult<Option<PhotoUpload>>;
    /// Moves an upload from status `from` to `to`; `false` if it was not in `from` (another
    /// request or the clean-up moved it first).
    async fn set_photo_upload_status(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
        from: UploadStatus,
        to: UploadStatus,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Open uploads of every tenant created before `before`, oldest first, at most `limit`.
    async fn stale_photo_uploads(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<PhotoUpload>>;
    /// Photos of every tenant, created before `before`, that no document references
    /// (`photo_refs`).
    async fn count_orphan_photos(&self, before: Timestamp) -> StoreResult<u64>;
    /// Up to `limit` of those photos, oldest first.
    async fn orphan_photos(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<PhotoMeta>>;
    /// Deletes the photo's metadata if it is still unreferenced and created before `before`
    /// (checked in the same statement); `true` if deleted.
    async fn delete_orphan_photo(
        &self,
        tenant: TenantId,
        sha256: &Sha256,
        before: Timestamp,
    ) -> StoreResult<bool>;

    /// Who made the photo's thumbnail; `None` without a row (no thumbnail, or a server
    /// thumbnail made before origins were recorded).
    async fn photo_thumbnail_origin(
        &self,
        tenant: TenantId,
        sha256: &Sha256,
    ) -> StoreResult<Option<ThumbnailOrigin>>;
    /// Records a thumbnail a device sent, unless the photo already has a thumbnail row;
    /// `true` if inserted.
    async fn insert_device_thumbnail(
        &self,
        tenant: TenantId,
        sha256: &Sha256,
        size_bytes: u64,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Records the thumbnail the server rendered, replacing a device's row.
    async fn record_server_thumbnail(
        &self,
        tenant: TenantId,
        sha256: &Sha256,
        size_bytes: u64,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Device thumbnails of every tenant, recorded before `before`, whose photo is not stored
    /// (`photos`), oldest first, at most `limit`.
    async fn stale_device_thumbnails(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(TenantId, Sha256)>>;
    /// Deletes the row if it is still a device thumbnail recorded before `before` whose photo
    /// is not stored (checked in the same statement); `true` if deleted.
    async fn delete_stale_device_thumbnail(
        &self,
        tenant: TenantId,
        sha256: &Sha256,
        before: Timestamp,
    ) -> StoreResult<bool>;
    /// Deletes the photo's thumbnail row, whatever its origin (with a deleted photo).
    async fn delete_photo_thumbnail(&self, tenant: TenantId, sha256: &Sha256) -> StoreResult<()>;
}
