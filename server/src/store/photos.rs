//! Photo metadata (`photos`), declared uploads (`photo_uploads`) and thumbnails
//! (`photo_thumbnails`): what the photo capability records about the bytes in the blob store
//! (docs/photo-uploads.md). The SQL, the same for both engines, is in `photos_sql`.

use fieldsync_shared::{Sha256, TenantId, Timestamp, UserId};

use super::StoreResult;

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

/// Photo metadata, uploads and thumbnails. Every query is bound to a tenant, except the
/// clean-up's, which sweep every tenant.
#[async_trait::async_trait]
pub trait PhotoStore: Send + Sync {
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
    /// `user`'s open (`uploading`) upload of this photo, if any (each person uploads under
    /// their own: docs/photo-uploads.md).
    async fn find_open_photo_upload(
        &self,
        tenant: TenantId,
        sha256: &Sha256,
        user: UserId,
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
