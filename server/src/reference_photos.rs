//! Reference photos of the pictures of success (docs/picture-of-success.md): what the shelf
//! should look like. An administrator uploads a JPEG by its SHA-256
//! (`PUT /v1/admin/reference-photos/{sha256}`); any signed-in user of the tenant reads it
//! (`GET /v1/reference-photos/{sha256}`); the devices download those their pictures name during
//! sync and show them offline. Content-addressed and per tenant in the blob store
//! (`tenants/<tenant>/reference-photos/<sha256[0..2]>/<sha256>`): another tenant's is 404, and
//! uploading the same bytes again changes nothing.

use std::io::Cursor;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use fieldsync_shared::{Sha256, TenantId};
use image::{ImageDecoder, ImageFormat};
use serde::{Deserialize, Serialize};

use crate::admin::require_admin;
use crate::auth::Principal;
use crate::blobs::{BlobError, BlobKey};
use crate::http::body::{declared_length, drain_rest, receive_limited};
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;

/// Largest reference photo, bytes: a shelf photo of a good phone camera, re-encoded.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Longest side of a reference photo, pixels (the header is read, the pixels are not).
pub const MAX_SIDE: u32 = 12_000;

/// This capability's part of the OpenAPI description.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(put_reference_photo, get_reference_photo),
    components(schemas(ReferencePhotoStored))
)]
pub struct ReferencePhotosApi;

/// The routes; the upload streams its body under its own limit ([`MAX_BYTES`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/admin/reference-photos/{sha256}",
            put(put_reference_photo),
        )
        .route("/v1/reference-photos/{sha256}", get(get_reference_photo))
}

/// `tenants/<tenant>/reference-photos/<sha256[0..2]>/<sha256>`.
pub fn key(tenant: TenantId, sha256: &Sha256) -> Result<BlobKey, BlobError> {
    let hex = sha256.to_hex();
    BlobKey::parse(&format!(
        "tenants/{tenant}/reference-photos/{}/{hex}",
        &hex[..2]
    ))
}

/// Answer to `PUT /v1/admin/reference-photos/{sha256}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReferencePhotoStored {
    pub sha256: String,
    pub size_bytes: u64,
    /// `true`: the same bytes were stored before; nothing was written.
    pub already_stored: bool,
}

fn parse_sha256(path: Result<Path<String>, PathRejection>) -> ApiResult<Sha256> {
    let Path(raw) = path?;
    crate::photos::parse_sha256_str(&raw)
}

fn too_large() -> ApiError {
    ApiError::too_large(
        "reference_photo_too_large",
        format!("a reference photo has at most {MAX_BYTES} bytes"),
    )
}

/// Checks that `bytes` are a JPEG: its magic, a header that decodes, sides within
/// [`MAX_SIDE`], the end-of-image marker. The pixels are not decoded.
pub fn check_jpeg(bytes: &[u8]) -> Result<(u32, u32), String> {
    if image::guess_format(bytes).ok() != Some(ImageFormat::Jpeg) {
        return Err("it does not start like a JPEG".into());
    }
    if !bytes.ends_with(&[0xFF, 0xD9]) {
        return Err("it is cut short (no end-of-image marker)".into());
    }
    let decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes))
        .map_err(|e| format!("its header does not decode: {e}"))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!(
            "{width}x{height} px: each side must be 1 to {MAX_SIDE} px"
        ));
    }
    Ok((width, height))
}

/// Stores a reference photo (administrators).
#[utoipa::path(
    put,
    path = "/v1/admin/reference-photos/{sha256}",
    tag = "admin",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the JPEG bytes, 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    request_body(content = inline(crate::http::body::RawBytes), description = "The reference photo: a JPEG of at most 5 MiB", content_type = "image/jpeg"),
    responses(
        (status = 201, description = "Stored", body = ReferencePhotoStored),
        (status = 200, description = "The same bytes were stored before (idempotent)", body = ReferencePhotoStored),
        (status = 400, description = "`invalid_sha256`", body = crate::http::ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = crate::http::ErrorBody),
        (status = 413, description = "`reference_photo_too_large`: more than 5 MiB", body = crate::http::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not image/jpeg", body = crate::http::ErrorBody),
        (status = 422, description = "`sha256_mismatch`: the bytes hash to another SHA-256; `invalid_jpeg`: not a JPEG (magic, header, sides, end marker)", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id))]
pub async fn put_reference_photo(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let mut body = body;
    let result = store_reference_photo(&state, &principal, path, &headers, &mut body).await;
    // Keep the connection reusable whatever the answer (bounded).
    drain_rest(&headers, &mut body, MAX_BYTES).await;
    result
}

async fn store_reference_photo(
    state: &AppState,
    principal: &Principal,
    path: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
    body: &mut Body,
) -> ApiResult<Response> {
    require_admin(principal)?;
    let sha = parse_sha256(path)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("image/jpeg") {
        return Err(ApiError::UnsupportedMediaType(
            "send the reference photo with Content-Type: image/jpeg".into(),
        ));
    }
    if declared_length(headers).is_some_and(|n| n > MAX_BYTES) {
        return Err(too_large());
    }
    let (bytes, digest): (Bytes, Sha256) = receive_limited(body, MAX_BYTES, too_large).await?;
    if digest != sha {
        return Err(ApiError::unprocessable(
            "sha256_mismatch",
            format!("the bytes hash to {digest}, not {sha}"),
        ));
    }
    let checked = bytes.clone();
    tokio::task::spawn_blocking(move || check_jpeg(&checked))
        .await
        .map_err(|e| ApiError::internal(format!("reference photo check: {e}")))?
        .map_err(|m| ApiError::unprocessable("invalid_jpeg", format!("not a JPEG: {m}")))?;
    let key = key(principal.tenant_id, &sha)?;
    let size_bytes = bytes.len() as u64;
    let already_stored = state.blobs.exists(&key).await?;
    if !already_stored {
        state.blobs.put(&key, bytes).await?;
        tracing::info!(sha256 = %sha, size_bytes, "reference photo stored");
    }
    let status = if already_stored {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(ReferencePhotoStored {
            sha256: sha.to_hex(),
            size_bytes,
            already_stored,
        }),
    )
        .into_response())
}

/// A reference photo of the caller's tenant (any signed-in user: the pictures of success are
/// the tenant's, not one store's).
#[utoipa::path(
    get,
    path = "/v1/reference-photos/{sha256}",
    tag = "master data",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the JPEG bytes, 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "The JPEG", content((inline(crate::http::body::RawBytes) = "image/jpeg"))),
        (status = 400, description = "`invalid_sha256`", body = crate::http::ErrorBody),
        (status = 404, description = "Not stored for the caller's tenant", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id))]
pub async fn get_reference_photo(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let sha = parse_sha256(path)?;
    let bytes = state
        .blobs
        .get(&key(principal.tenant_id, &sha)?)
        .await?
        .ok_or(ApiError::NotFound("reference photo"))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_is_checked_by_its_magic_header_sides_and_end() {
        let img = image::RgbImage::from_fn(8, 6, |x, _| image::Rgb([(x * 30) as u8, 10, 200]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .encode_image(&img)
            .unwrap();
        assert_eq!(check_jpeg(&jpeg), Ok((8, 6)));
        assert!(check_jpeg(&jpeg[..jpeg.len() - 2]).is_err(), "cut short");
        assert!(check_jpeg(b"\x89PNG\r\n\x1a\n....").is_err(), "not a JPEG");
        let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
        fake.extend([0xFF, 0xD9]);
        assert!(check_jpeg(&fake).is_err(), "a header that does not decode");
        let tenant = TenantId::new_random();
        let sha = Sha256::digest(b"x");
        let hex = sha.to_hex();
        assert_eq!(
            key(tenant, &sha).unwrap().as_str(),
            format!("tenants/{tenant}/reference-photos/{}/{hex}", &hex[..2])
        );
    }
}
