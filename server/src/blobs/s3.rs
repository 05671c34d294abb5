//! [`S3BlobStore`]: blobs as objects of an S3-compatible bucket (AWS S3, Garage, MinIO), through
//! `aws-sdk-s3` configured by hand (no `aws-config`: credentials come from the settings).
//!
//! * Every upload carries `x-amz-checksum-sha256` (and its `Content-Length`), so the store
//!   refuses bytes damaged on the way; presigned uploads sign both, so a device can only send
//!   the bytes it announced.
//! * Connection failures, timeouts, 5xx and throttling are [`BlobError::Unavailable`] (503 with
//!   `Retry-After`); every operation is bounded by `FIELDSYNC_S3_TIMEOUT_MS`, so a store that
//!   is down answers fast instead of holding requests.

use std::collections::HashMap;
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, Part};
use base64::Engine;
use bytes::Bytes;
use fieldsync_shared::Sha256;

use super::{
    BlobError, BlobKey, BlobStore, MultipartId, PendingMultipart, PresignedRequest, StoredPart,
};
use crate::config::S3Settings;

/// Blobs as objects of one bucket, under an optional key prefix.
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    /// Where presigned downloads point (see [`BlobStore::download_origin`]).
    download_origin: Option<String>,
}

impl S3BlobStore {
    /// Builds the client and checks that the bucket exists and is reachable with these
    /// credentials (`HeadBucket`), so a misconfigured store fails at startup, not at the first
    /// photo.
    pub async fn open(settings: S3Settings) -> Result<Self, BlobError> {
        let mut store = Self::new(&settings);
        store.download_origin = store.probe_download_origin().await;
        let place = format!(
            "S3 bucket {:?} at {}",
            settings.bucket,
            settings.endpoint.as_deref().unwrap_or("AWS")
        );
        match store
            .client
            .head_bucket()
            .bucket(&store.bucket)
            .send()
            .await
        {
            Ok(_) => Ok(store),
            Err(e) => Err(match status_of(&e) {
                Some(404) => BlobError::Io(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{place} does not exist: create it first"),
                )),
                Some(401 | 403) => BlobError::Io(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!(
                        "{place} refuses these credentials (FIELDSYNC_S3_ACCESS_KEY_ID, \
                         FIELDSYNC_S3_SECRET_ACCESS_KEY, FIELDSYNC_S3_REGION)"
                    ),
                )),
                _ => match classify(&format!("checking {place}"), e) {
                    BlobError::Unavailable(msg) => {
                        BlobError::Unavailable(format!("{msg} (is the object store running?)"))
                    }
                    other => other,
                },
            }),
        }
    }

    /// The client alone, without checking the bucket.
    fn new(settings: &S3Settings) -> Self {
        use aws_smithy_http_client::tls;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let timeout = settings.timeout;
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .credentials_provider(Credentials::new(
                settings.access_key_id.clone(),
                settings.secret_access_key.expose().to_string(),
                None,
                None,
                "fieldsync-settings",
            ))
            .force_path_style(settings.path_style)
            .http_client(http_client)
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(timeout)
                    .connect_timeout(timeout.min(Duration::from_secs(3)))
                    .build(),
            )
            // A few quick retries for a blip; an outage fails fast with 503 and the device
            // retries later.
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(100))
                    .with_max_backoff(Duration::from_secs(1)),
            )
            // Checksums are set explicitly (SHA-256 of the content), not CRC32 by default.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint);
        }
        S3BlobStore {
            client: aws_sdk_s3::Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
            prefix: settings.prefix.clone(),
            download_origin: None,
        }
    }

    /// The origin of a presigned download URL, found by presigning one (a local computation:
    /// the SDK decides between path-style and virtual-hosted addresses, so ask it).
    async fn probe_download_origin(&self) -> Option<String> {
        let ttl = Duration::from_secs(60);
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(&BlobKey("origin-probe".to_string())))
            .presigned(presigning(ttl).ok()?)
            .await
            .ok()?;
        let uri: axum::http::Uri = req.uri().parse().ok()?;
        Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
    }

    fn object_key(&self, key: &BlobKey) -> String {
        format!("{}{}", self.prefix, key.as_str())
    }

    /// Every part of an upload (ListParts is paginated).
    async fn all_parts(&self, key: &BlobKey, upload: &MultipartId) -> Result<Vec<Part>, BlobError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(self.object_key(key))
                .upload_id(&upload.0)
                .set_part_number_marker(marker.take())
                .send()
                .await
                .map_err(|e| match status_of(&e) {
                    Some(404) => no_such_upload(upload),
                    _ => classify("listing the parts of an upload", e),
                })?;
            parts.extend(out.parts().iter().cloned());
            match out.next_part_number_marker() {
                Some(next) if out.is_truncated() == Some(true) => marker = Some(next.to_string()),
                _ => break,
            }
        }
        parts.sort_by_key(|p| p.part_number());
        Ok(parts)
    }
}

fn no_such_upload(upload: &MultipartId) -> BlobError {
    BlobError::Io(io::Error::new(
        io::ErrorKind::NotFound,
        format!("no multipart upload {:?} for this key", upload.0),
    ))
}

fn status_of<E>(err: &SdkError<E>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Maps an SDK error: the store cannot be reached, timed out, failed (5xx) or throttles
/// -> [`BlobError::Unavailable`] (retry later); anything else is an I/O error (logged as a 500).
fn classify<E>(what: &str, err: SdkError<E>) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let unavailable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => {
            let status = e.raw().status().as_u16();
            status >= 500
                || status == 429
                || status == 408
                || matches!(
                    e.err().code(),
                    Some(
                        "SlowDown"
                            | "Throttling"
                            | "ThrottlingException"
                            | "RequestTimeout"
                            | "ServiceUnavailable"
                    )
                )
        }
        _ => false,
    };
    let message = format!("{what}: {}", DisplayErrorContext(&err));
    if unavailable {
        BlobError::Unavailable(message)
    } else {
        BlobError::Io(io::Error::other(message))
    }
}

fn base64_sha256(sha256: &Sha256) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha256.as_bytes())
}

/// SHA-256 of `bytes`, off the async executor (photos are megabytes).
async fn digest(bytes: Bytes) -> Result<(Sha256, Bytes), BlobError> {
    tokio::task::spawn_blocking(move || (Sha256::digest(&bytes), bytes))
        .await
        .map_err(|e| BlobError::Io(io::Error::other(e.to_string())))
}

fn presigning(ttl: Duration) -> Result<PresigningConfig, BlobError> {
    PresigningConfig::expires_in(ttl).map_err(|e| {
        BlobError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("presigned URL lifetime {ttl:?}: {e}"),
        ))
    })
}

fn to_presigned(req: aws_sdk_s3::presigning::PresignedRequest, ttl: Duration) -> PresignedRequest {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let expires_at = now.saturating_add(ttl).as_millis();
    PresignedRequest {
        method: req.method().to_string(),
        url: req.uri().to_string(),
        headers: req
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        expires_at: i64::try_from(expires_at).unwrap_or(i64::MAX),
    }
}

fn size_i64(size: u64) -> Result<i64, BlobError> {
    i64::try_from(size).map_err(|_| {
        BlobError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("size {size} is too large"),
        ))
    })
}

fn part_number(number: u32) -> Result<i32, BlobError> {
    match i32::try_from(number) {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(BlobError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("part number {number} is not in 1..=10000"),
        ))),
    }
}

#[async_trait::async_trait]
impl BlobStore for S3BlobStore {
    #[tracing::instrument(skip(self, bytes), fields(key = %key, len = bytes.len()))]
    async fn put(&self, key: &BlobKey, bytes: Bytes) -> Result<(), BlobError> {
        // Content-addressed: an existing object already holds these bytes. (Stores that
        // support conditional writes also get `If-None-Match: *` for concurrent puts.)
        if self.exists(key).await? {
            return Ok(());
        }
        let len = size_i64(bytes.len() as u64)?;
        let (sha256, bytes) = digest(bytes).await?;
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .content_length(len)
            .checksum_sha256(base64_sha256(&sha256))
            .if_none_match("*")
            .body(ByteStream::from(bytes))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Written meanwhile by someone else: the same bytes.
            Err(e) if status_of(&e) == Some(412) => Ok(()),
            Err(e) if status_of(&e) == Some(409) => Err(BlobError::Unavailable(format!(
                "a concurrent write of {key} is in progress: {}",
                DisplayErrorContext(&e)
            ))),
            Err(e) => Err(classify("storing an object", e)),
        }
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn get(&self, key: &BlobKey) -> Result<Option<Bytes>, BlobError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if status_of(&e) == Some(404) && e.code() != Some("NoSuchBucket") => {
                return Ok(None)
            }
            Err(e) => return Err(classify("reading an object", e)),
        };
        let data = out.body.collect().await.map_err(|e| {
            BlobError::Unavailable(format!(
                "reading the bytes of {key}: {}",
                DisplayErrorContext(&e)
            ))
        })?;
        Ok(Some(data.into_bytes()))
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        Ok(self.size(key).await?.is_some())
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn size(&self, key: &BlobKey) -> Result<Option<u64>, BlobError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            )),
            Err(e) if status_of(&e) == Some(404) => Ok(None),
            Err(e) => Err(classify("checking an object", e)),
        }
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(404) && e.code() != Some("NoSuchBucket") => Ok(()),
            Err(e) => Err(classify("deleting an object", e)),
        }
    }

    #[tracing::instrument(skip(self, sha256), fields(key = %key))]
    async fn presign_put(
        &self,
        key: &BlobKey,
        sha256: &Sha256,
        size: u64,
        ttl: Duration,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .content_length(size_i64(size)?)
            .checksum_sha256(base64_sha256(sha256))
            .presigned(presigning(ttl)?)
            .await
            .map_err(|e| classify("presigning an upload", e))?;
        Ok(Some(to_presigned(req, ttl)))
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn presign_get(
        &self,
        key: &BlobKey,
        ttl: Duration,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .presigned(presigning(ttl)?)
            .await
            .map_err(|e| classify("presigning a download", e))?;
        Ok(Some(to_presigned(req, ttl)))
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn create_multipart(&self, key: &BlobKey) -> Result<MultipartId, BlobError> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            // Every part carries its SHA-256, verified by the store.
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .send()
            .await
            .map_err(|e| classify("starting a multipart upload", e))?;
        let id = out.upload_id().ok_or_else(|| {
            BlobError::Io(io::Error::other(
                "the object store answered CreateMultipartUpload without an upload id",
            ))
        })?;
        Ok(MultipartId(id.to_string()))
    }

    #[tracing::instrument(skip(self, sha256), fields(key = %key, upload = %upload.0))]
    async fn presign_part(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
        number: u32,
        sha256: &Sha256,
        size: u64,
        ttl: Duration,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        let req = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .upload_id(&upload.0)
            .part_number(part_number(number)?)
            .content_length(size_i64(size)?)
            .checksum_sha256(base64_sha256(sha256))
            .presigned(presigning(ttl)?)
            .await
            .map_err(|e| classify("presigning a part upload", e))?;
        Ok(Some(to_presigned(req, ttl)))
    }

    #[tracing::instrument(skip(self, bytes), fields(key = %key, upload = %upload.0, len = bytes.len()))]
    async fn put_part(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
        number: u32,
        bytes: Bytes,
    ) -> Result<(), BlobError> {
        let number = part_number(number)?;
        let len = size_i64(bytes.len() as u64)?;
        let (sha256, bytes) = digest(bytes).await?;
        self.client
            .upload_part()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .upload_id(&upload.0)
            .part_number(number)
            .content_length(len)
            .checksum_sha256(base64_sha256(&sha256))
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| match status_of(&e) {
                Some(404) => no_such_upload(upload),
                _ => classify("storing a part", e),
            })?;
        Ok(())
    }

    #[tracing::instrument(skip(self), fields(key = %key, upload = %upload.0))]
    async fn list_parts(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
    ) -> Result<Vec<StoredPart>, BlobError> {
        Ok(self
            .all_parts(key, upload)
            .await?
            .iter()
            .filter_map(|p| {
                Some(StoredPart {
                    number: u32::try_from(p.part_number()?).ok()?,
                    size: u64::try_from(p.size()?).ok()?,
                })
            })
            .collect())
    }

    #[tracing::instrument(skip(self), fields(key = %key, upload = %upload.0))]
    async fn complete_multipart(
        &self,
        key: &BlobKey,
        upload: &MultipartId,
        parts: u32,
    ) -> Result<(), BlobError> {
        if parts == 0 {
            return Err(BlobError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a multipart upload needs at least one part",
            )));
        }
        let stored: HashMap<i32, Part> = self
            .all_parts(key, upload)
            .await?
            .into_iter()
            .filter_map(|p| Some((p.part_number()?, p)))
            .collect();
        let mut completed = Vec::with_capacity(parts as usize);
        for number in 1..=parts {
            let n = part_number(number)?;
            let part = stored.get(&n).ok_or_else(|| {
                BlobError::Io(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("part {number} of {parts} has not been uploaded"),
                ))
            })?;
            completed.push(
                CompletedPart::builder()
                    .part_number(n)
                    .set_e_tag(part.e_tag().map(str::to_string))
                    .set_checksum_sha256(part.checksum_sha256().map(str::to_string))
                    .build(),
            );
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .upload_id(&upload.0)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| match status_of(&e) {
                Some(404) => no_such_upload(upload),
                _ => classify("completing a multipart upload", e),
            })?;
        Ok(())
    }

    #[tracing::instrument(skip(self), fields(key = %key, upload = %upload.0))]
    async fn abort_multipart(&self, key: &BlobKey, upload: &MultipartId) -> Result<(), BlobError> {
        match self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .upload_id(&upload.0)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(404) && e.code() != Some("NoSuchBucket") => Ok(()),
            Err(e) => Err(classify("aborting a multipart upload", e)),
        }
    }

    #[tracing::instrument(skip(self))]
    fn download_origin(&self) -> Option<&str> {
        self.download_origin.as_deref()
    }

    async fn list_multipart(&self, before: i64) -> Result<Vec<PendingMultipart>, BlobError> {
        let mut pending = Vec::new();
        let mut key_marker: Option<String> = None;
        let mut upload_marker: Option<String> = None;
        loop {
            let mut req = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(upload_marker.take());
            if !self.prefix.is_empty() {
                req = req.prefix(&self.prefix);
            }
            let out = req
                .send()
                .await
                .map_err(|e| classify("listing multipart uploads", e))?;
            for u in out.uploads() {
                let (Some(object_key), Some(id), Some(initiated)) =
                    (u.key(), u.upload_id(), u.initiated())
                else {
                    continue;
                };
                let Ok(started_at) = initiated.to_millis() else {
                    continue;
                };
                // Objects of other applications sharing the bucket are not ours to list.
                let Some(key) = object_key
                    .strip_prefix(self.prefix.as_str())
                    .and_then(|k| BlobKey::parse(k).ok())
                else {
                    continue;
                };
                if started_at < before {
                    pending.push(PendingMultipart {
                        key,
                        id: MultipartId(id.to_string()),
                        started_at,
                    });
                }
            }
            if out.is_truncated() != Some(true) {
                break;
            }
            key_marker = out.next_key_marker().map(str::to_string);
            upload_marker = out.next_upload_id_marker().map(str::to_string);
            if key_marker.is_none() && upload_marker.is_none() {
                break;
            }
        }
        pending.sort_by_key(|p| p.started_at);
        Ok(pending)
    }
}
