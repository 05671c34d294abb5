//! Blob storage for photo bytes: a trait with a typed error, the local-folder implementation
//! [`LocalBlobStore`] and an S3-compatible one; uploads can go straight to the object store.
//!
//! Keys are [`BlobKey`]s: relative, `/`-separated paths of safe segments, so a key can never
//! escape the root. Photos live at `tenants/<tenant>/photos/<sha256[0..2]>/<sha256>`: the tenant
//! is part of the key, so one tenant can never read (or learn of) another tenant's photo.

use std::fmt;
use std::io;

use bytes::Bytes;
use fieldsync_shared::{Sha256, TenantId};

pub use crate::config::{BlobSettings, InvalidBlobSettings, S3Settings};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The storage cannot be used right now (disk full, read-only, unreachable): retry later.
    #[error("blob storage unavailable: {0}")]
    Unavailable(String),
    /// A key that is not a safe relative path.
    #[error("invalid blob key: {0}")]
    InvalidKey(String),
    /// Any other I/O failure.
    #[error("blob storage I/O error: {0}")]
    Io(#[from] io::Error),
}

impl BlobError {
    fn from_io(e: io::Error) -> Self {
        use io::ErrorKind::*;
        match e.kind() {
            StorageFull | ReadOnlyFilesystem | TimedOut | ResourceBusy => {
                BlobError::Unavailable(e.to_string())
            }
            _ => BlobError::Io(e),
        }
    }
}

/// A validated blob key: non-empty `/`-separated segments of `[A-Za-z0-9._-]`, no segment
/// `.` or `..`, no leading `/`, at most 512 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    pub const MAX_LEN: usize = 512;

    pub fn parse(s: &str) -> Result<Self, BlobError> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(BlobError::InvalidKey(format!(
                "length {} not in 1..={}",
                s.len(),
                Self::MAX_LEN
            )));
        }
        for seg in s.split('/') {
            if seg.is_empty() || seg == "." || seg == ".." {
                return Err(BlobError::InvalidKey(format!(
                    "{s:?} has an empty, '.' or '..' segment"
                )));
            }
            if let Some(c) = seg
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            {
                return Err(BlobError::InvalidKey(format!("{s:?} contains {c:?}")));
            }
        }
        Ok(BlobKey(s.to_string()))
    }

    /// `tenants/<tenant>/photos/<sha256[0..2]>/<sha256>`.
    pub fn photo(tenant: TenantId, sha256: &Sha256) -> Self {
        let hex = sha256.to_hex();
        // Built only from a uuid and lower-case hex: always a valid key.
        BlobKey(format!("tenants/{tenant}/photos/{}/{hex}", &hex[..2]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a device (or the server) sends or fetches bytes directly from the object store: a
/// presigned request. `headers` must be sent exactly as given (they are part of the signature;
/// for uploads they carry the SHA-256 checksum the store verifies).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PresignedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Unix milliseconds after which the URL no longer works.
    pub expires_at: i64,
}

/// An object store's id for one multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct MultipartId(pub String);

/// A part of a multipart upload that the store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPart {
    /// 1-based part number.
    pub number: u32,
    pub size: u64,
}

/// A multipart upload the store still holds (for aborting stale ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMultipart {
    pub key: BlobKey,
    pub id: MultipartId,
    /// Unix milliseconds.
    pub started_at: i64,
}

/// Bytes by key. Implementations: [`LocalBlobStore`] (files under the data directory, the
/// default) and an S3-compatible store. Keys are content addresses, so a key's bytes never
/// change once stored. The conformance suite in `server/tests/blob_store.rs` runs against both.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` durably under `key` before returning. Putting a key that already exists
    /// is a no-op (keys are content addresses: the bytes are the same).
    async fn put(&self, key: &BlobKey, bytes: Bytes) -> Result<(), BlobError>;
    async fn get(&self, key: &BlobKey) -> Result<Option<Bytes>, BlobError>;
    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError>;
    /// Size in bytes of the stored blob; `None` if absent.
    async fn size(&self, key: &BlobKey) -> Result<Option<u64>, BlobError>;
    /// Removes `key`; deleting an absent key is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;

    /// A request the device sends the whole blob with, verified by the store against `sha256`
    /// and `size` (S3: `x-amz-checksum-sha256` and `Content-Length` are signed). `None`: this
    /// store has no direct upload; the server receives the bytes itself.
    async fn presign_put(
        &self,
        key: &BlobKey,
        sha256: &Sha256,
        size: u64,
        ttl: std::time::Duration,
    ) -> Result<Option<PresignedRequest>, BlobError>;
    /// A short-lived download request. `None`: the server streams the bytes itself.
    async fn presign_get(
        &self,
        key: &BlobKey,
        ttl: std::time::Duration,
    ) -> Result<Option<PresignedRequest>, BlobError>;

    /// Starts a multipart upload for `key`.
    async fn create_multipart(&self, key: &BlobKey) -> Result<MultipartId, BlobError>;
    /// A request the device sends part `number` (1-based) with, verified against the part's
    /// `sha256` and `size`. `None`: the server receives the part itself ([`Self::put_part`]).
    async fn presign_part(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
        number: u32,
        sha256: &Sha256,
        size: u64,
        ttl: std::time::Duration,
    ) -> Result<Option<PresignedRequest>, BlobError>;
    /// Stores part `number` received by the server. Storing a part again replaces it.
    async fn put_part(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
        number: u32,
        bytes: Bytes,
    ) -> Result<(), BlobError>;
    /// The parts stored so far, by number (what a resuming device need not send again).
    async fn list_parts(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
    ) -> Result<Vec<StoredPart>, BlobError>;
    /// Assembles parts `1..=parts` into the blob at `key`, durably.
    async fn complete_multipart(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
        parts: u32,
    ) -> Result<(), BlobError>;
    /// Discards an unfinished upload and its parts; aborting an unknown upload is not an error.
    async fn abort_multipart(&self, key: &BlobKey, upload: &MultipartId) -> Result<(), BlobError>;
    /// Unfinished multipart uploads started before `before` (unix ms).
    async fn list_multipart(&self, before: i64) -> Result<Vec<PendingMultipart>, BlobError>;

    /// The origin (`scheme://host[:port]`) that [`Self::presign_get`] URLs point to, when it is
    /// not the server's own: a browser page showing photos must allow it as an image source.
    fn download_origin(&self) -> Option<&str> {
        None
    }
}

/// Opens the blob store the settings name: the S3 bucket (checked to be reachable), else
/// the folder `local_root`.
pub async fn open(
    settings: &BlobSettings,
    local_root: &std::path::Path,
) -> Result<std::sync::Arc<dyn BlobStore>, OpenBlobStoreError> {
    Ok(match settings.s3()? {
        Some(s3) => std::sync::Arc::new(S3BlobStore::open(s3).await?),
        None => std::sync::Arc::new(LocalBlobStore::open(local_root)?),
    })
}

/// Why [`open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenBlobStoreError {
    #[error(transparent)]
    Settings(#[from] InvalidBlobSettings),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

mod local;
mod s3;
pub use local::LocalBlobStore;
pub use s3::S3BlobStore;
