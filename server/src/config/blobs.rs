//! Where photo bytes live: the local folder (default) or an S3-compatible bucket.

use std::time::Duration;

use super::Secret;

/// Blob store selection and S3 settings. Without `FIELDSYNC_S3_BUCKET` photo bytes live in
/// `<data dir>/blobs` (`LocalBlobStore`); with it, in that bucket (`S3BlobStore`).
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

/// How to reach the bucket; resolved from [`BlobSettings`].
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// `None`: AWS S3 of `region`.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub path_style: bool,
    /// Bound of one operation, retries included.
    pub timeout: Duration,
    /// Prepended to every object key: empty, or ending with `/`.
    pub prefix: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    use crate::config::tests::Flags;

    #[test]
    fn no_bucket_selects_the_local_folder() {
        let cli = Flags::try_parse_from(["fieldsync-server"]).unwrap();
        assert!(cli.config.blobs.s3().unwrap().is_none());
        let defaults = BlobSettings::default();
        assert_eq!(cli.config.blobs.s3_region, defaults.s3_region);
        assert_eq!(cli.config.blobs.s3_path_style, defaults.s3_path_style);
        assert_eq!(cli.config.blobs.s3_timeout_ms, defaults.s3_timeout_ms);
    }

    #[test]
    fn a_bucket_selects_s3_and_the_secret_never_prints() {
        let cli = Flags::try_parse_from([
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
        let mut settings = BlobSettings {
            s3_bucket: Some("photos".into()),
            ..Default::default()
        };
        let err = settings.s3().unwrap_err().to_string();
        assert!(err.contains("FIELDSYNC_S3_ACCESS_KEY_ID"), "{err}");
        settings.s3_access_key_id = Some("GK1".into());
        settings.s3_secret_access_key = Some(Secret::new("s"));
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
