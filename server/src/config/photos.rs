//! Photo upload settings (`docs/photo-uploads.md`).

use std::time::Duration;

/// Default of `FIELDSYNC_PHOTO_MULTIPART_THRESHOLD_BYTES`: 8 MiB.
pub const DEFAULT_MULTIPART_THRESHOLD_BYTES: u64 = 8 * 1024 * 1024;
/// Default of `FIELDSYNC_PHOTO_PART_BYTES`: 5 MiB.
pub const DEFAULT_PART_BYTES: u64 = 5 * 1024 * 1024;
/// Smallest part size accepted at all (the embedded store has no minimum of its own).
pub const MIN_PART_BYTES: u64 = 1024;
/// Smallest part size with an object store that presigns: S3 refuses smaller parts (except
/// the last one) when it assembles the upload.
pub const MIN_PRESIGNED_PART_BYTES: u64 = 5 * 1024 * 1024;

/// Photo upload settings (`docs/photo-uploads.md`).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct PhotoSettings {
    /// Photos larger than this many bytes are uploaded in parts (multipart); others in one
    /// request.
    #[arg(
        long = "photo-multipart-threshold-bytes",
        env = "FIELDSYNC_PHOTO_MULTIPART_THRESHOLD_BYTES",
        default_value_t = DEFAULT_MULTIPART_THRESHOLD_BYTES,
        global = true
    )]
    pub multipart_threshold_bytes: u64,

    /// Size of the parts of a multipart upload, in bytes (the last part is shorter). At least
    /// 1024; with an object store that presigns uploads (S3) at least 5 MiB (5242880), S3's
    /// minimum part size: the server refuses to start otherwise.
    #[arg(
        long = "photo-part-bytes",
        env = "FIELDSYNC_PHOTO_PART_BYTES",
        default_value_t = DEFAULT_PART_BYTES,
        value_parser = clap::value_parser!(u64).range(MIN_PART_BYTES..),
        global = true
    )]
    pub part_bytes: u64,

    /// Lifetime of presigned upload and download URLs, in seconds.
    #[arg(
        long = "photo-url-ttl-secs",
        env = "FIELDSYNC_PHOTO_URL_TTL_SECS",
        default_value_t = 900,
        value_parser = clap::value_parser!(u64).range(1..=7 * 24 * 3600),
        global = true
    )]
    pub url_ttl_secs: u64,

    /// Uploads not completed this many seconds after they were declared are aborted by the
    /// clean-up (their parts deleted); declaring the photo again starts a new upload.
    #[arg(
        long = "upload-max-age-secs",
        env = "FIELDSYNC_UPLOAD_MAX_AGE_SECS",
        default_value_t = 86_400,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub upload_max_age_secs: u64,

    /// Photos stored more than this many seconds ago that no document references are orphans:
    /// reported by the clean-up (metric `photos_orphaned`), deleted with
    /// `--delete-orphan-photos`.
    #[arg(
        long = "orphan-photo-age-secs",
        env = "FIELDSYNC_ORPHAN_PHOTO_AGE_SECS",
        default_value_t = 604_800,
        global = true
    )]
    pub orphan_photo_age_secs: u64,

    /// Delete orphaned photos (metadata, bytes and thumbnail) instead of only reporting them.
    #[arg(
        long = "delete-orphan-photos",
        env = "FIELDSYNC_DELETE_ORPHAN_PHOTOS",
        global = true
    )]
    pub delete_orphan_photos: bool,

    /// How often the photo clean-up runs, in seconds (first run one interval after start);
    /// 0 disables it.
    #[arg(
        long = "photo-gc-interval-secs",
        env = "FIELDSYNC_PHOTO_GC_INTERVAL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub gc_interval_secs: u64,
}

impl Default for PhotoSettings {
    fn default() -> Self {
        PhotoSettings {
            multipart_threshold_bytes: DEFAULT_MULTIPART_THRESHOLD_BYTES,
            part_bytes: DEFAULT_PART_BYTES,
            url_ttl_secs: 900,
            upload_max_age_secs: 86_400,
            orphan_photo_age_secs: 604_800,
            delete_orphan_photos: false,
            gc_interval_secs: 3600,
        }
    }
}

impl PhotoSettings {
    pub fn url_ttl(&self) -> Duration {
        Duration::from_secs(self.url_ttl_secs)
    }

    /// Checks the settings against the blob store: `presigns` is whether devices send bytes
    /// straight to the object store (then parts must be at least S3's 5 MiB).
    pub fn validate(&self, presigns: bool) -> Result<(), String> {
        if self.part_bytes < MIN_PART_BYTES {
            return Err(format!(
                "FIELDSYNC_PHOTO_PART_BYTES must be at least {MIN_PART_BYTES}"
            ));
        }
        if presigns && self.part_bytes < MIN_PRESIGNED_PART_BYTES {
            return Err(format!(
                "FIELDSYNC_PHOTO_PART_BYTES is {} but the object store needs parts of at least \
                 {MIN_PRESIGNED_PART_BYTES} bytes (5 MiB)",
                self.part_bytes
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        photos: PhotoSettings,
    }

    #[test]
    fn defaults_match_the_default_impl_and_part_size_is_checked() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(cli.photos, PhotoSettings::default());
        assert!(Cli::try_parse_from(["x", "--photo-part-bytes", "1000"]).is_err());
        let small =
            Cli::try_parse_from(["x", "--photo-part-bytes", "2048", "--delete-orphan-photos"])
                .unwrap()
                .photos;
        assert!(small.delete_orphan_photos);
        assert!(small.validate(false).is_ok());
        assert!(small.validate(true).is_err());
        assert!(PhotoSettings::default().validate(true).is_ok());
    }
}
