//! Thumbnails: a JPEG at most 256 px on its longer side (the rule is
//! [`fieldsync_shared::thumbnail`], shared with devices).
//!
//! Two makers, two blob keys, one row in `photo_thumbnails` saying which one counts:
//!
//! * the server renders one from every photo it stores, at
//!   `tenants/<tenant>/thumbnails/<sha256[0..2]>/<sha256>` (origin `server`);
//! * "thumbnails first": a device sends one before the photo itself
//!   (`PUT /v1/photos/{sha256}/thumbnail`, [`put_thumbnail`]), kept at
//!   `tenants/<tenant>/device-thumbnails/<sha256[0..2]>/<sha256>` (origin `device`) and served
//!   until the server rendered its own. Separate keys, so a late device thumbnail can never
//!   overwrite the server's, and the clean-up of device thumbnails never deletes a server one.
//!
//! Rendering is CPU-heavy and runs on the blocking pool, at most [`MAX_CONCURRENT`] at a time
//! (a 48 MP photo decodes to ~150 MB). An image the server cannot decode (HEIC, a corrupt file)
//! simply has no server thumbnail (a device's stays); that is never an error.

use std::sync::OnceLock;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fieldsync_shared::thumbnail::{self as rule, ThumbnailRefusal};
use fieldsync_shared::{Sha256, TenantId, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::{declared_length, drain_rest, receive_limited};
use crate::blobs::{BlobError, BlobKey};
use crate::http::{ApiError, ApiResult};
use crate::scope::named::{InScope, VisiblePhoto};
use crate::state::AppState;
use crate::store::photos::ThumbnailOrigin;

pub use rule::{JPEG_QUALITY, MAX_BYTES, MAX_SIDE};
/// Thumbnails rendered at the same time.
pub const MAX_CONCURRENT: usize = 2;

/// `tenants/<tenant>/thumbnails/<sha256[0..2]>/<sha256>`: the server's thumbnail.
pub fn key(tenant: TenantId, sha256: &Sha256) -> Result<BlobKey, BlobError> {
    let hex = sha256.to_hex();
    BlobKey::parse(&format!("tenants/{tenant}/thumbnails/{}/{hex}", &hex[..2]))
}

/// `tenants/<tenant>/device-thumbnails/<sha256[0..2]>/<sha256>`: a device's thumbnail.
pub fn device_key(tenant: TenantId, sha256: &Sha256) -> Result<BlobKey, BlobError> {
    let hex = sha256.to_hex();
    BlobKey::parse(&format!(
        "tenants/{tenant}/device-thumbnails/{}/{hex}",
        &hex[..2]
    ))
}

/// The key of the thumbnail that counts for a photo with this `origin` row (no row: the
/// server's, as for photos stored before origins were recorded).
pub fn key_for(
    tenant: TenantId,
    sha256: &Sha256,
    origin: Option<ThumbnailOrigin>,
) -> Result<BlobKey, BlobError> {
    match origin {
        Some(ThumbnailOrigin::Device) => device_key(tenant, sha256),
        Some(ThumbnailOrigin::Server) | None => key(tenant, sha256),
    }
}

/// Renders the thumbnail of `bytes` (blocking: call on the blocking pool).
pub fn render(bytes: &[u8]) -> Option<Vec<u8>> {
    rule::render(bytes)
}

fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(MAX_CONCURRENT))
}

/// Renders (off the executor) and stores the thumbnail of a verified photo, records it as the
/// server's (replacing a device's, whose bytes are then deleted). `true` if the photo now has
/// a server thumbnail; failures are logged, never returned: a photo without a thumbnail is
/// still a stored photo.
pub async fn make_and_store(
    state: &AppState,
    tenant: TenantId,
    sha256: &Sha256,
    bytes: Bytes,
) -> bool {
    let key = match key(tenant, sha256) {
        Ok(key) => key,
        Err(e) => {
            tracing::error!(error = %e, "thumbnail key");
            return false;
        }
    };
    let rendered = {
        let _permit = permits().acquire().await;
        tokio::task::spawn_blocking(move || render(&bytes)).await
    };
    let thumbnail = match rendered {
        Ok(Some(thumbnail)) => thumbnail,
        Ok(None) => {
            tracing::debug!(sha256 = %sha256, "no thumbnail: not a decodable image");
            return false;
        }
        Err(e) => {
            tracing::error!(sha256 = %sha256, error = %e, "thumbnail rendering failed");
            return false;
        }
    };
    let size = thumbnail.len() as u64;
    let thumbnail = Bytes::from(thumbnail);
    if let Err(e) = state.blobs.put(&key, thumbnail.clone()).await {
        tracing::warn!(sha256 = %sha256, error = %e, "storing the thumbnail failed");
        return false;
    }
    // Bytes first, then the row that makes them the thumbnail served.
    if let Err(e) = state
        .store
        .record_server_thumbnail(tenant, sha256, size, Timestamp::now())
        .await
    {
        // The device's thumbnail (if any) stays the one served; the next upload of the photo
        // records it again.
        tracing::warn!(sha256 = %sha256, error = %e, "recording the server thumbnail failed");
        return false;
    }
    // No longer served; a failure only leaves bytes behind.
    match device_key(tenant, sha256) {
        Ok(device) => {
            if let Err(e) = state.blobs.delete(&device).await {
                tracing::warn!(sha256 = %sha256, error = %e, "deleting a replaced device thumbnail failed");
            }
        }
        Err(e) => tracing::error!(error = %e, "device thumbnail key"),
    }
    super::similarity::record_thumbnail(state, tenant, sha256, thumbnail).await;
    true
}

/// Answer to `PUT /v1/photos/{sha256}/thumbnail`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ThumbnailStored {
    /// `stored`: the device's thumbnail is stored (now, 201, or before, 200);
    /// `kept_server_thumbnail`: the server already has its own thumbnail of the stored photo,
    /// nothing was written (200).
    pub status: String,
}

fn answer(status: StatusCode, what: &str) -> Response {
    (
        status,
        Json(ThumbnailStored {
            status: what.to_string(),
        }),
    )
        .into_response()
}

fn too_large() -> ApiError {
    ApiError::too_large(
        "thumbnail_too_large",
        format!("a thumbnail has at most {MAX_BYTES} bytes"),
    )
}

/// Stores the thumbnail a device rendered before uploading the photo ("thumbnails first",
/// docs/photo-uploads.md), so reviewers see the shelf before the full photo arrives.
#[utoipa::path(
    put,
    path = "/v1/photos/{sha256}/thumbnail",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes (not of the thumbnail), 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    request_body(content = inline(crate::http::body::RawBytes), description = "The thumbnail: a JPEG of at most 256 px on its longer side and 64 KiB", content_type = "image/jpeg"),
    responses(
        (status = 201, description = "Stored (`status: stored`)", body = ThumbnailStored),
        (status = 200, description = "A valid thumbnail, nothing written: stored before (`stored`, idempotent), or the server already rendered its own from the stored photo (`kept_server_thumbnail`)", body = ThumbnailStored),
        (status = 400, description = "`invalid_sha256`", body = crate::http::ErrorBody),
        (status = 404, description = "No photo the caller may see: not referenced by a visit in their scope, nor uploaded or declared by them", body = crate::http::ErrorBody),
        (status = 413, description = "`thumbnail_too_large`: more than 64 KiB", body = crate::http::ErrorBody),
        (status = 422, description = "`invalid_thumbnail`: not a decodable JPEG, or a side longer than 256 px", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = tracing::field::Empty))]
pub async fn put_thumbnail(
    State(state): State<AppState>,
    photo: Result<InScope<VisiblePhoto>, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let mut body = body;
    let result = store_device_thumbnail(&state, photo, &headers, &mut body).await;
    // Keep the connection reusable whatever the answer (bounded).
    drain_rest(&headers, &mut body, MAX_BYTES as u64).await;
    result
}

async fn store_device_thumbnail(
    state: &AppState,
    photo: Result<InScope<VisiblePhoto>, ApiError>,
    headers: &HeaderMap,
    body: &mut Body,
) -> ApiResult<Response> {
    let InScope { principal, object } = photo?;
    let tenant = principal.tenant_id;
    tracing::Span::current().record("tenant", tracing::field::display(tenant));
    let (sha, stored) = (object.sha256, object.meta);
    // Every PUT is checked the same way, also when nothing will be written: a client learns
    // that its bytes are wrong from its first request, not from whichever came first.
    let bytes = receive_valid_thumbnail(headers, body).await?;
    match state.store.photo_thumbnail_origin(tenant, &sha).await? {
        Some(ThumbnailOrigin::Server) => {
            return Ok(answer(StatusCode::OK, "kept_server_thumbnail"));
        }
        Some(ThumbnailOrigin::Device) => return Ok(answer(StatusCode::OK, "stored")),
        None => {
            // A photo stored before origins were recorded, with the server's thumbnail.
            if stored.is_some() && state.blobs.exists(&key(tenant, &sha)?).await? {
                return Ok(answer(StatusCode::OK, "kept_server_thumbnail"));
            }
        }
    }
    let size = bytes.len() as u64;
    // Durable bytes first, then the row that says they are the photo's thumbnail.
    state.blobs.put(&device_key(tenant, &sha)?, bytes).await?;
    let inserted = state
        .store
        .insert_device_thumbnail(tenant, &sha, size, Timestamp::now())
        .await?;
    state.metrics.record_photo_thumbnail_received();
    tracing::info!(sha256 = %sha, size, inserted, "device thumbnail stored");
    if inserted {
        return Ok(answer(StatusCode::CREATED, "stored"));
    }
    // Another request recorded one meanwhile: the server's (the photo was completed) or the
    // same device thumbnail sent twice.
    Ok(
        match state.store.photo_thumbnail_origin(tenant, &sha).await? {
            Some(ThumbnailOrigin::Server) => answer(StatusCode::OK, "kept_server_thumbnail"),
            _ => answer(StatusCode::OK, "stored"),
        },
    )
}

/// Reads the request body (at most [`MAX_BYTES`]) and checks it is a thumbnail by the shared
/// rule: `413 thumbnail_too_large` or `422 invalid_thumbnail` otherwise.
async fn receive_valid_thumbnail(headers: &HeaderMap, body: &mut Body) -> ApiResult<Bytes> {
    let max = MAX_BYTES as u64;
    if declared_length(headers).is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let (bytes, _) = receive_limited(body, max, too_large).await?;
    let checked = bytes.clone();
    let verdict = tokio::task::spawn_blocking(move || rule::validate(&checked))
        .await
        .map_err(|e| ApiError::internal(format!("thumbnail check: {e}")))?;
    match verdict {
        Ok(_) => Ok(bytes),
        Err(ThumbnailRefusal::TooManyBytes { .. }) => Err(too_large()),
        Err(refusal) => Err(ApiError::unprocessable(
            "invalid_thumbnail",
            refusal.to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnail_keys_sit_next_to_photos() {
        let tenant = TenantId::new_random();
        let sha = Sha256::digest(b"x");
        let hex = sha.to_hex();
        assert_eq!(
            key(tenant, &sha).unwrap().as_str(),
            format!("tenants/{tenant}/thumbnails/{}/{hex}", &hex[..2])
        );
        assert_eq!(
            device_key(tenant, &sha).unwrap().as_str(),
            format!("tenants/{tenant}/device-thumbnails/{}/{hex}", &hex[..2])
        );
        assert_eq!(
            key_for(tenant, &sha, Some(ThumbnailOrigin::Device)).unwrap(),
            device_key(tenant, &sha).unwrap()
        );
        assert_eq!(
            key_for(tenant, &sha, None).unwrap(),
            key(tenant, &sha).unwrap()
        );
    }
}
