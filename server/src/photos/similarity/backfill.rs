//! Hashes of photos stored before hashing existed (or hashed by another algorithm): a
//! background task started with the server, which reads each such photo's server thumbnail
//! from the blob store, hashes it and records the hash, oldest first, in pages of
//! [`PAGE`] with a pause between pages, logging its progress. Only photos of the lookup window
//! ([`WINDOW_DAYS`](super::WINDOW_DAYS)) are hashed: older ones are never looked up. It ends
//! when none is left; every instance runs it at start, and running it twice only rewrites
//! the same rows.

use std::time::Duration;

use fieldsync_shared::Timestamp;
use tokio::task::JoinHandle;

use super::hash::{self, ALGORITHM};
use super::WINDOW_DAYS;
use crate::photos::thumbnails;
use crate::state::AppState;
use crate::store::StoreResult;

/// Photos read per page.
pub const PAGE: u32 = 100;
/// Pause between pages, so the backfill never competes with requests for long.
const PAUSE: Duration = Duration::from_millis(200);

/// What a backfill did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BackfillReport {
    /// Photos hashed.
    pub hashed: u64,
    /// Photos without a server thumbnail (not decodable, e.g. HEIC): nothing to hash.
    pub without_thumbnail: u64,
}

/// The running backfill; stops when dropped.
#[derive(Debug)]
pub struct BackfillTask(JoinHandle<()>);

impl Drop for BackfillTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the backfill.
pub fn spawn(state: AppState) -> BackfillTask {
    BackfillTask(tokio::spawn(async move {
        match run(&state, PAUSE).await {
            Ok(report) => tracing::info!(
                hashed = report.hashed,
                without_thumbnail = report.without_thumbnail,
                "photo hash backfill done"
            ),
            // The photos stay unhashed until the next start.
            Err(e) => tracing::warn!(error = %e, "photo hash backfill stopped"),
        }
    }))
}

/// Hashes every unhashed photo of the window, `pause` between pages.
pub async fn run(state: &AppState, pause: Duration) -> StoreResult<BackfillReport> {
    let since = Timestamp(Timestamp::now().millis() - i64::from(WINDOW_DAYS) * 24 * 3600 * 1000);
    let mut report = BackfillReport::default();
    let mut after = None;
    loop {
        let page = state
            .store
            .unhashed_photos(ALGORITHM, since, after, PAGE)
            .await?;
        for photo in &page {
            let key = thumbnails::key(photo.tenant_id, &photo.sha256)
                .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
            let thumbnail = match state.blobs.get(&key).await {
                Ok(Some(bytes)) => bytes,
                Ok(None) => {
                    report.without_thumbnail += 1;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(sha256 = %photo.sha256, error = %e, "reading a thumbnail to hash failed");
                    continue;
                }
            };
            let hashed = tokio::task::spawn_blocking(move || hash::of_thumbnail(&thumbnail)).await;
            let Ok(Some(hash)) = hashed else {
                report.without_thumbnail += 1;
                continue;
            };
            super::record(state, photo.tenant_id, photo.sha256, hash, photo.created_at).await?;
            report.hashed += 1;
        }
        let Some(last) = page.last() else { break };
        after = Some(*last);
        tracing::info!(
            hashed = report.hashed,
            without_thumbnail = report.without_thumbnail,
            "photo hash backfill: page done"
        );
        if page.len() < PAGE as usize {
            break;
        }
        tokio::time::sleep(pause).await;
    }
    Ok(report)
}
