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

use crate::config::Secret;

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
}

/// Blob store selection and S3 settings. Without `FIELDSYNC_S3_BUCKET` photo bytes live in
/// `<data dir>/blobs` ([`LocalBlobStore`]); with it, in that bucket ([`S3BlobStore`]).
#[derive(Debug, Clone, clap::Args)]
pub struct BlobSettings {
    /// S3 bucket for photo bytes. Setting it selects the S3-compatible store (AWS S3, Garage,
    /// MinIO, ...) instead of `<data dir>/blobs`. The bucket must exist: startup checks it.
    #[arg(long, env = "FIELDSYNC_S3_BUCKET", global = true)]
    pub s3_bucket: Option<String>,

    /// S3 endpoint URL, e.g. `http://127.0.0.1:3900` for Garage. Empty: AWS S3 of the region.
    #[arg(long, env = "FIELDSYNC_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,

    /// S3 region (Garage's default is `garage`).
    #[arg(
        long,
        env = "FIELDSYNC_S3_REGION",
        default_value = DEFAULT_S3_REGION,
        global = true
    )]
    pub s3_region: String,

    /// S3 access key id.
    #[arg(long, env = "FIELDSYNC_S3_ACCESS_KEY_ID", global = true)]
    pub s3_access_key_id: Option<String>,

    /// S3 secret access key (never printed or logged).
    #[arg(
        long,
        env = "FIELDSYNC_S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        value_parser = parse_secret,
        global = true
    )]
    pub s3_secret_access_key: Option<Secret>,

    /// Path-style URLs (`<endpoint>/<bucket>/<key>`), as Garage and MinIO need by default;
    /// `false` for virtual-hosted style (`<bucket>.<endpoint>/<key>`).
    #[arg(
        long,
        env = "FIELDSYNC_S3_PATH_STYLE",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub s3_path_style: bool,

    /// Longest time one object store operation may take (all retries included), in
    /// milliseconds. A store that does not answer in time fails the request with 503 (retry
    /// later) instead of holding it; it must cover uploading the largest photo.
    #[arg(
        long,
        env = "FIELDSYNC_S3_TIMEOUT_MS",
        default_value_t = DEFAULT_S3_TIMEOUT_MS,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub s3_timeout_ms: u64,

    /// Prefix of every object key in the bucket (e.g. `fieldsync/`), to share a bucket.
    #[arg(long, env = "FIELDSYNC_S3_PREFIX", default_value = "", global = true)]
    pub s3_prefix: String,
}

/// Default of `FIELDSYNC_S3_REGION`.
pub const DEFAULT_S3_REGION: &str = "us-east-1";
/// Default of `FIELDSYNC_S3_TIMEOUT_MS`.
pub const DEFAULT_S3_TIMEOUT_MS: u64 = 10_000;

impl Default for BlobSettings {
    /// The local folder; S3 options at their defaults.
    fn default() -> Self {
        BlobSettings {
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: DEFAULT_S3_REGION.to_string(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_path_style: true,
            s3_timeout_ms: DEFAULT_S3_TIMEOUT_MS,
            s3_prefix: String::new(),
        }
    }
}

fn parse_secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

/// Settings that name no usable blob store.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidBlobSettings(pub String);

impl BlobSettings {
    /// The S3 settings if a bucket is configured; `None` selects the local folder.
    pub fn s3(&self) -> Result<Option<S3Settings>, InvalidBlobSettings> {
        let Some(bucket) = self
            .s3_bucket
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
        else {
            return Ok(None);
        };
        let (Some(access_key_id), Some(secret_access_key)) = (
            self.s3_access_key_id.as_deref().filter(|k| !k.is_empty()),
            self.s3_secret_access_key
                .as_ref()
                .filter(|k| !k.expose().is_empty()),
        ) else {
            return Err(InvalidBlobSettings(
                "FIELDSYNC_S3_BUCKET is set but FIELDSYNC_S3_ACCESS_KEY_ID or \
                 FIELDSYNC_S3_SECRET_ACCESS_KEY is not: the S3 store needs both"
                    .to_string(),
            ));
        };
        let endpoint = self
            .s3_endpoint
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        if let Some(e) = endpoint {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(InvalidBlobSettings(format!(
                    "FIELDSYNC_S3_ENDPOINT {e:?} must start with http:// or https://"
                )));
            }
        }
        let prefix = self.s3_prefix.trim().to_string();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            return Err(InvalidBlobSettings(format!(
                "FIELDSYNC_S3_PREFIX {prefix:?} must end with '/'"
            )));
        }
        Ok(Some(S3Settings {
            bucket: bucket.to_string(),
            endpoint: endpoint.map(str::to_string),
            region: self.s3_region.trim().to_string(),
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.clone(),
            path_style: self.s3_path_style,
            timeout: std::time::Duration::from_millis(self.s3_timeout_ms.max(1)),
            prefix,
        }))
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
pub use s3::{S3BlobStore, S3Settings};

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::config::Cli;

    #[test]
    fn no_bucket_selects_the_local_folder() {
        let cli = Cli::try_parse_from(["fieldsync-server"]).unwrap();
        assert!(cli.config.blobs.s3().unwrap().is_none());
        let defaults = super::BlobSettings::default();
        assert_eq!(cli.config.blobs.s3_region, defaults.s3_region);
        assert_eq!(cli.config.blobs.s3_path_style, defaults.s3_path_style);
        assert_eq!(cli.config.blobs.s3_timeout_ms, defaults.s3_timeout_ms);
    }

    #[test]
    fn a_bucket_selects_s3_and_the_secret_never_prints() {
        let cli = Cli::try_parse_from([
            "fieldsync-server",
            "--s3-bucket",
            "photos",
            "--s3-endpoint",
            "http://127.0.0.1:3900",
            "--s3-region",
            "garage",
            "--s3-access-key-id",
            "GK0123",
            "--s3-secret-access-key",
            "very-secret-value",
            "--s3-path-style",
            "false",
            "--s3-timeout-ms",
            "2500",
        ])
        .unwrap();
        let s3 = cli.config.blobs.s3().unwrap().unwrap();
        assert_eq!(s3.bucket, "photos");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:3900"));
        assert_eq!(s3.region, "garage");
        assert!(!s3.path_style);
        assert_eq!(s3.timeout, std::time::Duration::from_millis(2500));
        assert_eq!(s3.secret_access_key.expose(), "very-secret-value");
        let shown = format!("{:?} {s3:?}", cli.config);
        assert!(!shown.contains("very-secret-value"), "{shown}");
    }

    #[test]
    fn incomplete_s3_settings_are_refused() {
        let mut settings = super::BlobSettings {
            s3_bucket: Some("photos".into()),
            ..Default::default()
        };
        let err = settings.s3().unwrap_err().to_string();
        assert!(err.contains("FIELDSYNC_S3_ACCESS_KEY_ID"), "{err}");
        settings.s3_access_key_id = Some("GK1".into());
        settings.s3_secret_access_key = Some(crate::config::Secret::new("s"));
        assert!(settings.s3().unwrap().is_some());
        settings.s3_endpoint = Some("127.0.0.1:3900".into());
        assert!(settings.s3().is_err(), "an endpoint needs its scheme");
        settings.s3_endpoint = Some(String::new());
        assert_eq!(
            settings.s3().unwrap().unwrap().endpoint,
            None,
            "empty = AWS"
        );
        settings.s3_prefix = "fieldsync".into();
        assert!(settings.s3().is_err(), "a prefix ends with '/'");
    }
}
