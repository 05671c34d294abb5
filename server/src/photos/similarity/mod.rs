//! Near-duplicate shelf photos (docs/photo-uploads.md, "Near-duplicate photos"): a reused
//! shelf photo (re-encoded, resized, lightly cropped, brightened) attached to another visit is
//! found, a different shelf is not.
//!
//! * [`hash`]: the 64-bit perceptual hash of a photo's server thumbnail;
//! * [`near_duplicates`]: the photos of other visits (other store or other day) near a visit's
//!   photo, with their distances;
//! * [`flags`]: the `photo_near_duplicate` finding on visits whose photo has near-duplicates;
//! * [`backfill`]: hashes photos stored before hashing existed (a background task at start);
//! * [`synthetic_shelves`]: drawn shelf photos for the tests and the benchmark.
//!
//! Hashes are recorded when the server renders a photo's thumbnail ([`record_thumbnail`]) and
//! looked up in [`crate::photo_index`] (multi-index hashing, one index per tenant, in the
//! state).

pub mod backfill;
pub mod flags;
pub mod hash;
pub mod near_duplicates;
pub mod synthetic_shelves;

use axum::body::Bytes;
use fieldsync_shared::{Sha256, TenantId, Timestamp};

use crate::photo_index::multi_index::IndexedPhoto;
use crate::state::AppState;
use crate::store::photo_hashes::PhotoHashRow;
use crate::store::StoreResult;
use hash::{PhotoHash, ALGORITHM};

/// Photos whose hashes differ in at most this many bits are near-duplicates (measured:
/// docs/photo-uploads.md).
pub const NEAR_DUPLICATE_DISTANCE: u32 = 12;
/// How far back a lookup looks: photos stored in the last 90 days.
pub const WINDOW_DAYS: u32 = 90;

/// Hashes a server thumbnail just stored, records the hash (table, then this instance's
/// index) and flags the photo's visits that have near-duplicates elsewhere ([`flags`]).
/// Failures are logged: a photo without a hash or flag is still a stored photo.
pub async fn record_thumbnail(
    state: &AppState,
    tenant: TenantId,
    sha256: &Sha256,
    thumbnail: Bytes,
) -> Option<PhotoHash> {
    let hashed = tokio::task::spawn_blocking(move || hash::of_thumbnail(&thumbnail)).await;
    let Ok(Some(hash)) = hashed else {
        tracing::warn!(sha256 = %sha256, "the server thumbnail has no perceptual hash");
        return None;
    };
    if let Err(e) = record(state, tenant, *sha256, hash, Timestamp::now()).await {
        tracing::warn!(sha256 = %sha256, error = %e, "recording the photo hash failed");
        return None;
    }
    if let Err(e) = flags::flag_visits_of(state, tenant, sha256).await {
        tracing::warn!(sha256 = %sha256, error = %e, "the near-duplicate check failed");
    }
    Some(hash)
}

/// Records a photo's hash: the row first (which every instance's index reads when it catches
/// up), then this instance's index.
pub async fn record(
    state: &AppState,
    tenant: TenantId,
    sha256: Sha256,
    hash: PhotoHash,
    stored_at: Timestamp,
) -> StoreResult<()> {
    let row = PhotoHashRow {
        sha256,
        hash: hash.0,
        stored_at,
        recorded_at: Timestamp::now(),
    };
    state
        .store
        .upsert_photo_hash(tenant, ALGORITHM, &row)
        .await?;
    state.photo_index.insert(
        tenant,
        IndexedPhoto {
            sha256,
            hash,
            stored_at: stored_at.millis(),
        },
    );
    Ok(())
}
