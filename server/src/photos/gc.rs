//! The photo clean-up, every `FIELDSYNC_PHOTO_GC_INTERVAL_SECS` (first run one interval after
//! start):
//!
//! 1. uploads not completed within `FIELDSYNC_UPLOAD_MAX_AGE_SECS` are aborted: their multipart
//!    upload is discarded by the object store and the row is marked `expired`; multipart
//!    uploads the store still holds from before that age without an open row (a crash between
//!    creating one and recording it) are aborted too;
//! 2. photos stored more than `FIELDSYNC_ORPHAN_PHOTO_AGE_SECS` ago that no document references
//!    now (`photo_refs`) are counted (gauge `photos_orphaned`, one log line) and, with
//!    `FIELDSYNC_DELETE_ORPHAN_PHOTOS=true`, deleted: metadata first (in one statement that
//!    re-checks that nothing references the photo), then bytes and thumbnails;
//! 3. thumbnails devices sent first (docs/photo-uploads.md "Thumbnails first") for photos that
//!    were still not stored `FIELDSYNC_ORPHAN_PHOTO_AGE_SECS` after they arrived are deleted
//!    (row first, in one statement that re-checks that the photo is still not stored, then
//!    bytes), whatever `FIELDSYNC_DELETE_ORPHAN_PHOTOS` says: they preview a photo that never
//!    came.
//!
//! Nothing here can stop the server: every failure is logged and counted in the report, the
//! run goes on with the next item, and a run that panics is logged and the next one starts on
//! schedule. With several server instances each runs the clean-up; every step is idempotent.

use std::collections::HashSet;
use std::time::Duration;

use fieldsync_shared::Timestamp;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::thumbnails;
use super::uploads::retire;
use crate::blobs::BlobKey;
use crate::state::AppState;
use crate::store::photos::UploadStatus;

/// Rows or photos handled per query.
const BATCH: u32 = 500;
/// Batches per step and run (the rest waits for the next run).
const MAX_BATCHES: usize = 20;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Open uploads older than the maximum age marked `expired`.
    pub expired_uploads: u64,
    /// Multipart uploads aborted in the object store (for expired rows, and stale ones the
    /// store listed without an open row).
    pub aborted_multipart: u64,
    /// Orphaned photos found (before any deletion).
    pub orphans: u64,
    /// Orphaned photos deleted (with `FIELDSYNC_DELETE_ORPHAN_PHOTOS=true`).
    pub deleted_orphans: u64,
    /// Device thumbnails of photos never stored, deleted.
    pub deleted_device_thumbnails: u64,
    /// Failures (logged); the run went on after each.
    pub errors: u64,
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// One clean-up run now.
pub async fn run_once(state: &AppState) -> GcReport {
    run_at(state, Timestamp::now()).await
}

/// One clean-up run as if the time were `now` (ages are measured from it).
pub async fn run_at(state: &AppState, now: Timestamp) -> GcReport {
    let mut report = GcReport::default();
    expire_uploads(state, now, &mut report).await;
    collect_orphans(state, now, &mut report).await;
    delete_stale_device_thumbnails(state, now, &mut report).await;
    tracing::info!(
        expired_uploads = report.expired_uploads,
        aborted_multipart = report.aborted_multipart,
        orphans = report.orphans,
        deleted_orphans = report.deleted_orphans,
        deleted_device_thumbnails = report.deleted_device_thumbnails,
        errors = report.errors,
        "photo clean-up finished"
    );
    report
}

async fn expire_uploads(state: &AppState, now: Timestamp, report: &mut GcReport) {
    let before = Timestamp(
        now.millis()
            .saturating_sub(secs_to_ms(state.config.photos.upload_max_age_secs)),
    );
    let mut handled: HashSet<String> = HashSet::new();
    let mut failed: HashSet<uuid::Uuid> = HashSet::new();
    for _ in 0..MAX_BATCHES {
        let batch = match state.store.stale_photo_uploads(before, BATCH).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!(error = %e, "photo clean-up: listing stale uploads failed");
                report.errors += 1;
                break;
            }
        };
        let fresh: Vec<_> = batch
            .into_iter()
            .filter(|u| !failed.contains(&u.id))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for upload in fresh {
            match retire(state, &upload, UploadStatus::Expired).await {
                Ok(moved) => {
                    if let Some(id) = &upload.multipart_id {
                        handled.insert(id.clone());
                        report.aborted_multipart += 1;
                    }
                    if moved {
                        report.expired_uploads += 1;
                        state.metrics.record_photo_upload("expired");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, upload = %upload.id, "photo clean-up: aborting a stale upload failed; retried next run");
                    report.errors += 1;
                    failed.insert(upload.id);
                }
            }
        }
    }

    // Multipart uploads the store still holds from before the cut-off: an open row for them
    // would have been expired above, so none of them can still be completed.
    match state.blobs.list_multipart(before.millis()).await {
        Ok(pending) => {
            for p in pending {
                if handled.contains(&p.id.0) {
                    continue;
                }
                match state.blobs.abort_multipart(&p.key, &p.id).await {
                    Ok(()) => report.aborted_multipart += 1,
                    Err(e) => {
                        tracing::warn!(error = %e, key = %p.key, "photo clean-up: aborting a stale multipart upload failed");
                        report.errors += 1;
                    }
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "photo clean-up: listing multipart uploads failed");
            report.errors += 1;
        }
    }
}

async fn collect_orphans(state: &AppState, now: Timestamp, report: &mut GcReport) {
    let settings = &state.config.photos;
    let before = Timestamp(
        now.millis()
            .saturating_sub(secs_to_ms(settings.orphan_photo_age_secs)),
    );
    let count = match state.store.count_orphan_photos(before).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "photo clean-up: counting orphaned photos failed");
            report.errors += 1;
            return;
        }
    };
    report.orphans = count;
    if count > 0 {
        tracing::info!(
            orphans = count,
            older_than_secs = settings.orphan_photo_age_secs,
            deleting = settings.delete_orphan_photos,
            "photos referenced by no document"
        );
    }
    if settings.delete_orphan_photos && count > 0 {
        delete_orphans(state, before, report).await;
    }
    state
        .metrics
        .set_photos_orphaned(count.saturating_sub(report.deleted_orphans));
}

async fn delete_orphans(state: &AppState, before: Timestamp, report: &mut GcReport) {
    for _ in 0..MAX_BATCHES {
        let batch = match state.store.orphan_photos(before, BATCH).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!(error = %e, "photo clean-up: listing orphaned photos failed");
                report.errors += 1;
                return;
            }
        };
        if batch.is_empty() {
            return;
        }
        let mut progress = false;
        for photo in batch {
            // Metadata first: from then on the photo is not stored (HEAD 404, a device
            // uploads it again), so deleting the bytes cannot leave a photo without bytes.
            match state
                .store
                .delete_orphan_photo(photo.tenant_id, &photo.sha256, before)
                .await
            {
                Ok(true) => {}
                // Referenced again meanwhile: keep it.
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, sha256 = %photo.sha256, "photo clean-up: deleting an orphan's metadata failed");
                    report.errors += 1;
                    continue;
                }
            }
            progress = true;
            report.deleted_orphans += 1;
            state.metrics.record_orphan_deleted();
            if let Err(e) = state
                .store
                .delete_photo_thumbnail(photo.tenant_id, &photo.sha256)
                .await
            {
                tracing::warn!(error = %e, sha256 = %photo.sha256, "photo clean-up: deleting an orphan's thumbnail row failed");
                report.errors += 1;
            }
            let mut keys = vec![BlobKey::photo(photo.tenant_id, &photo.sha256)];
            for key in [
                thumbnails::key(photo.tenant_id, &photo.sha256),
                thumbnails::device_key(photo.tenant_id, &photo.sha256),
            ] {
                match key {
                    Ok(key) => keys.push(key),
                    Err(e) => {
                        tracing::error!(error = %e, "thumbnail key");
                        report.errors += 1;
                    }
                }
            }
            for key in keys {
                if let Err(e) = state.blobs.delete(&key).await {
                    tracing::warn!(error = %e, key = %key, "photo clean-up: deleting an orphan's bytes failed (left in the store)");
                    report.errors += 1;
                }
            }
            tracing::info!(tenant = %photo.tenant_id, sha256 = %photo.sha256, "orphaned photo deleted");
        }
        if !progress {
            return;
        }
    }
}

async fn delete_stale_device_thumbnails(state: &AppState, now: Timestamp, report: &mut GcReport) {
    let before = Timestamp(
        now.millis()
            .saturating_sub(secs_to_ms(state.config.photos.orphan_photo_age_secs)),
    );
    for _ in 0..MAX_BATCHES {
        let batch = match state.store.stale_device_thumbnails(before, BATCH).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!(error = %e, "photo clean-up: listing stale device thumbnails failed");
                report.errors += 1;
                return;
            }
        };
        if batch.is_empty() {
            return;
        }
        let mut progress = false;
        for (tenant, sha256) in batch {
            // Row first: from then on the thumbnail is not served, so deleting the bytes
            // cannot leave a served thumbnail without bytes.
            match state
                .store
                .delete_stale_device_thumbnail(tenant, &sha256, before)
                .await
            {
                Ok(true) => {}
                // The photo arrived meanwhile: its thumbnail stays until the server's replaces it.
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, sha256 = %sha256, "photo clean-up: deleting a device thumbnail's row failed");
                    report.errors += 1;
                    continue;
                }
            }
            progress = true;
            report.deleted_device_thumbnails += 1;
            let deleted = match thumbnails::device_key(tenant, &sha256) {
                Ok(key) => state.blobs.delete(&key).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = deleted {
                tracing::warn!(error = %e, sha256 = %sha256, "photo clean-up: deleting a device thumbnail's bytes failed (left in the store)");
                report.errors += 1;
            }
        }
        if !progress {
            return;
        }
    }
}

/// The running clean-up task; stops when dropped.
#[derive(Debug)]
pub struct GcTask(JoinHandle<()>);

impl Drop for GcTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the periodic clean-up (none when `FIELDSYNC_PHOTO_GC_INTERVAL_SECS` is 0).
pub fn spawn(state: AppState) -> Option<GcTask> {
    let secs = state.config.photos.gc_interval_secs;
    if secs == 0 {
        tracing::info!("photo clean-up disabled (FIELDSYNC_PHOTO_GC_INTERVAL_SECS=0)");
        return None;
    }
    let period = Duration::from_secs(secs);
    Some(GcTask(tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let run_state = state.clone();
            // Its own task: a panic ends that run only.
            if let Err(e) = tokio::spawn(async move { run_once(&run_state).await }).await {
                tracing::error!(error = %e, "photo clean-up run failed; the next one runs on schedule");
            }
        }
    })))
}
