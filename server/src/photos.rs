//! Content-addressed photos: `HEAD`, `PUT`, `GET /v1/photos/{sha256}`.
//!
//! A photo is addressed by the SHA-256 of its bytes and belongs to a tenant. Upload order:
//! metadata check (already stored: 200, nothing hashed or written), content type, declared
//! size, then the body is received while hashed and size-checked, the blob is written
//! durably, and only then the metadata row is inserted: a photo the server says it has is
//! always readable.

use std::pin::Pin;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sha2::Digest;

use fieldsync_shared::{Sha256, Timestamp};

use crate::auth::Principal;
use crate::blobs::BlobKey;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::directory::PhotoMeta;

/// Content types a photo may have.
pub const ALLOWED_CONTENT_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "image/heic"];

/// Answer to a successful `PUT`.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PhotoStored {
    pub sha256: String,
    pub size_bytes: u64,
    pub content_type: String,
    /// `true`: the server already had this photo; nothing was read or written.
    pub already_stored: bool,
}

impl PhotoStored {
    fn from_meta(meta: &PhotoMeta, already_stored: bool) -> Self {
        PhotoStored {
            sha256: meta.sha256.to_hex(),
            size_bytes: meta.size_bytes,
            content_type: meta.content_type.clone(),
            already_stored,
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/photos/{sha256}",
        get(get_photo).head(head_photo).put(put_photo),
    )
}

fn parse_sha256(path: Result<Path<String>, PathRejection>) -> ApiResult<Sha256> {
    let Path(raw) = path?;
    // Canonical form only: 64 lower- or upper-case hex digits.
    if raw.len() != 64 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(
            "invalid_sha256",
            "the path must be 64 hex digits (a SHA-256)",
        ));
    }
    Sha256::parse(&raw).map_err(|e| ApiError::bad_request("invalid_sha256", e.to_string()))
}

fn content_type(headers: &HeaderMap) -> ApiResult<&'static str> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Ignore parameters such as `; charset=...`.
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ALLOWED_CONTENT_TYPES
        .iter()
        .find(|t| **t == essence)
        .copied()
        .ok_or_else(|| {
            ApiError::UnsupportedMediaType(format!(
                "Content-Type must be one of {}",
                ALLOWED_CONTENT_TYPES.join(", ")
            ))
        })
}

fn too_large(max: u64) -> ApiError {
    ApiError::too_large(
        "photo_too_large",
        format!("photos may be at most {max} bytes"),
    )
}

async fn next_data(body: &mut Body) -> Option<ApiResult<Bytes>> {
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await?;
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Ok(data));
                }
                // Trailers: nothing to hash.
            }
            Err(e) => {
                return Some(Err(ApiError::bad_request(
                    "malformed_body",
                    format!("reading the body failed: {e}"),
                )))
            }
        }
    }
}

/// Reads and discards up to `budget` more bytes.
async fn drain(body: &mut Body, mut budget: u64) {
    while budget > 0 {
        match next_data(body).await {
            Some(Ok(data)) => budget = budget.saturating_sub(data.len() as u64),
            _ => return,
        }
    }
}

/// Receives the body, hashing as it comes, refusing more than `max` bytes.
async fn receive(body: &mut Body, max: u64) -> ApiResult<(Bytes, Sha256)> {
    let mut hasher = sha2::Sha256::new();
    let mut buf = Vec::new();
    while let Some(data) = next_data(body).await {
        let data = data?;
        if (buf.len() + data.len()) as u64 > max {
            return Err(too_large(max));
        }
        hasher.update(&data);
        buf.extend_from_slice(&data);
    }
    let digest: [u8; 32] = hasher.finalize().into();
    Ok((Bytes::from(buf), Sha256::from_bytes(digest)))
}

/// Whether this tenant has the photo.
#[utoipa::path(
    head,
    path = "/v1/photos/{sha256}",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 hex digits")),
    responses((status = 200, description = "Stored"), (status = 404, description = "Not stored for this tenant"))
)]
#[tracing::instrument(skip(state, principal, path), fields(tenant = %principal.tenant_id))]
pub async fn head_photo(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<StatusCode> {
    let sha = parse_sha256(path)?;
    match state.store.get_photo(principal.tenant_id, &sha).await? {
        Some(_) => Ok(StatusCode::OK),
        None => Err(ApiError::NotFound("photo")),
    }
}

/// Uploads a photo.
#[utoipa::path(
    put,
    path = "/v1/photos/{sha256}",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 hex digits")),
    request_body(content = Vec<u8>, description = "The photo bytes", content_type = "image/jpeg"),
    responses(
        (status = 201, description = "Stored", body = PhotoStored),
        (status = 200, description = "Already stored (`already_stored: true`); nothing was written. Send `Expect: 100-continue` (or HEAD first) to skip sending the bytes", body = PhotoStored),
        (status = 400, description = "`invalid_sha256`", body = crate::error::ErrorBody),
        (status = 413, description = "`photo_too_large`", body = crate::error::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = crate::error::ErrorBody),
        (status = 422, description = "`checksum_mismatch`: the bytes do not hash to the path", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = tracing::field::Empty))]
pub async fn put_photo(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let mut body = body;
    let result = store_photo(&state, principal, path, &headers, &mut body).await;
    // Whatever the answer, read away what the client is still sending (bounded), so that a
    // client that sends its whole body before reading sees the answer instead of a reset
    // connection, and the connection stays reusable. A client that sent `Expect:
    // 100-continue` and was answered before the body was polled never sends it: nothing to
    // read. Absurdly large declared bodies are not read.
    let max = state.config.max_photo_bytes;
    if !expects_continue(&headers)
        && declared_length(&headers).is_none_or(|n| n <= max.saturating_mul(2))
    {
        drain(&mut body, max.saturating_mul(2)).await;
    }
    result
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

async fn store_photo(
    state: &AppState,
    principal: Result<Principal, ApiError>,
    path: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
    body: &mut Body,
) -> ApiResult<Response> {
    let principal = principal?;
    tracing::Span::current().record("tenant", tracing::field::display(principal.tenant_id));
    let sha = parse_sha256(path)?;
    if let Some(meta) = state.store.get_photo(principal.tenant_id, &sha).await? {
        // The cheap no-op: nothing is hashed or written (with `Expect: 100-continue` the body
        // is not even sent).
        return Ok((StatusCode::OK, Json(PhotoStored::from_meta(&meta, true))).into_response());
    }
    let content_type = content_type(headers)?;
    let max = state.config.max_photo_bytes;
    if declared_length(headers).is_some_and(|n| n > max) {
        return Err(too_large(max));
    }

    let (bytes, digest) = receive(body, max).await?;
    if digest != sha {
        return Err(ApiError::unprocessable(
            "checksum_mismatch",
            format!("the body hashes to {digest}, not to {sha}"),
        ));
    }
    let meta = PhotoMeta {
        tenant_id: principal.tenant_id,
        sha256: sha,
        size_bytes: bytes.len() as u64,
        content_type: content_type.to_string(),
        uploaded_by: principal.user_id,
        created_at: Timestamp::now(),
    };
    // Durable bytes first, then the row that says we have them.
    state
        .blobs
        .put(&BlobKey::photo(principal.tenant_id, &sha), bytes)
        .await?;
    let inserted = state.store.insert_photo_if_absent(&meta).await?;
    tracing::info!(sha256 = %sha, size = meta.size_bytes, inserted, "photo stored");
    let status = if inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(PhotoStored::from_meta(&meta, !inserted))).into_response())
}

/// Downloads a photo.
#[utoipa::path(
    get,
    path = "/v1/photos/{sha256}",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 hex digits")),
    responses(
        (status = 200, description = "The photo bytes with their content type", body = Vec<u8>, content_type = "image/jpeg"),
        (status = 404, description = "Not stored for this tenant", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, principal, path), fields(tenant = %principal.tenant_id))]
pub async fn get_photo(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let sha = parse_sha256(path)?;
    let meta = state
        .store
        .get_photo(principal.tenant_id, &sha)
        .await?
        .ok_or(ApiError::NotFound("photo"))?;
    let bytes = state
        .blobs
        .get(&BlobKey::photo(principal.tenant_id, &sha))
        .await?
        .ok_or_else(|| {
            ApiError::internal(format!("photo {sha} has metadata but no stored bytes"))
        })?;
    let content_type = HeaderValue::from_str(&meta.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            // Content-addressed: the bytes under this name never change.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Photo upload settings. (Filled in by the photo upload protocol.)
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PhotoSettings {}
