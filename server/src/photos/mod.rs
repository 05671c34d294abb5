//! Content-addressed photos: the upload protocol of `docs/photo-uploads.md` ([`uploads`]:
//! declare, send, complete), downloads (`GET`, `/url`, `/thumbnail`), the one-shot
//! `PUT /v1/photos/{sha256}` for scripts, thumbnails ([`thumbnails`]: the server's, and the
//! ones devices send first) and the background clean-up of stale uploads, orphaned photos and
//! device thumbnails of photos that never arrived ([`gc`]).
//!
//! A photo is addressed by the SHA-256 of its bytes and belongs to a tenant. It counts as
//! stored only once its metadata row exists, and that row is written only after the bytes were
//! verified and stored durably: a photo the server says it has is always readable.
//!
//! One-shot `PUT` order: metadata check (already stored: 200, nothing hashed or written),
//! content type, declared size, then the body is received while hashed and size-checked, the
//! blob is written durably, and only then the metadata row is inserted.

pub mod gc;
pub mod similarity;
pub mod thumbnails;
pub mod uploads;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;

use fieldsync_shared::{Sha256, Timestamp};

use crate::auth::Principal;
use crate::blobs::BlobKey;
use crate::http::body::{declared_length, drain_rest, receive_limited};
use crate::http::{ApiError, ApiResult};
use crate::scope::named::{InScope, VisiblePhoto};
use crate::scope::photos::photo_access;
use crate::state::AppState;
use crate::store::photos::{PhotoMeta, ThumbnailOrigin};

/// Content types a photo may have.
pub const ALLOWED_CONTENT_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "image/heic"];

/// Most parts of one upload (S3's limit); larger photos get larger parts.
pub const MAX_PARTS: u64 = 10_000;

/// Checks the photo settings against the configured blob store; called at startup.
pub async fn check_settings(state: &AppState) -> Result<(), String> {
    let settings = &state.config.photos;
    let probe = BlobKey::parse("settings-probe").map_err(|e| e.to_string())?;
    let presigns = state
        .blobs
        .presign_get(&probe, settings.url_ttl())
        .await
        .map_err(|e| format!("the blob store cannot presign: {e}"))?
        .is_some();
    settings.validate(presigns)
}

/// This capability's part of the OpenAPI description.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        head_photo,
        put_photo,
        get_photo,
        photo_url,
        get_thumbnail,
        thumbnails::put_thumbnail,
        uploads::declare,
        uploads::get_upload,
        uploads::part_url,
        uploads::put_part,
        uploads::put_content,
        uploads::complete
    ),
    components(schemas(
        PhotoStored,
        PhotoUrl,
        thumbnails::ThumbnailStored,
        uploads::DeclareUpload,
        uploads::DeclareAnswer,
        uploads::UploadState,
        uploads::PartUrl,
        uploads::CompleteAnswer,
        crate::blobs::PresignedRequest
    ))
)]
pub struct PhotosApi;

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

/// `GET /v1/photos/{sha256}/url` answer.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PhotoUrl {
    /// A presigned GET of the object store (send no `Authorization` header), or, on the
    /// embedded default, this server's own path `/v1/photos/{sha256}` (resolve it against the
    /// server's base URL and send the Bearer token).
    pub url: String,
    /// Unix milliseconds after which `url` may no longer work.
    pub expires_at: i64,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/photos/uploads", post(uploads::declare))
        .route("/v1/photos/uploads/{upload_id}", get(uploads::get_upload))
        .route(
            "/v1/photos/uploads/{upload_id}/content",
            put(uploads::put_content),
        )
        .route(
            "/v1/photos/uploads/{upload_id}/parts/{n}",
            get(uploads::part_url).put(uploads::put_part),
        )
        .route(
            "/v1/photos/uploads/{upload_id}/complete",
            post(uploads::complete),
        )
        .route(
            "/v1/photos/{sha256}",
            get(get_photo).head(head_photo).put(put_photo),
        )
        .route("/v1/photos/{sha256}/url", get(photo_url))
        .route(
            "/v1/photos/{sha256}/thumbnail",
            get(get_thumbnail).put(thumbnails::put_thumbnail),
        )
}

/// Parses a SHA-256 in canonical form: 64 lower- or upper-case hex digits.
pub(crate) fn parse_sha256_str(raw: &str) -> ApiResult<Sha256> {
    crate::scope::photos::parse_sha256(raw)
}

fn parse_sha256(path: Result<Path<String>, PathRejection>) -> ApiResult<Sha256> {
    let Path(raw) = path?;
    parse_sha256_str(&raw)
}

/// The allowed content type `value` names (parameters such as `; charset=...` ignored), else
/// 415.
pub(crate) fn allowed_content_type(value: &str) -> ApiResult<&'static str> {
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

fn content_type(headers: &HeaderMap) -> ApiResult<&'static str> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    allowed_content_type(value)
}

pub(crate) fn too_large(max: u64) -> ApiError {
    ApiError::too_large(
        "photo_too_large",
        format!("photos may be at most {max} bytes"),
    )
}

/// Whether this tenant has the photo.
#[utoipa::path(
    head,
    path = "/v1/photos/{sha256}",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "Stored, and the caller may see it"),
        (status = 400, description = "`invalid_sha256` (no body: HEAD)"),
        (status = 404, description = "Not stored, or not a photo the caller may see (no body: HEAD)"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %photo.principal.tenant_id))]
pub async fn head_photo(photo: InScope<VisiblePhoto>) -> ApiResult<StatusCode> {
    photo.object.stored()?;
    Ok(StatusCode::OK)
}

/// Uploads a photo in one request (for scripts and small tools; devices use the upload
/// protocol, `POST /v1/photos/uploads`).
#[utoipa::path(
    put,
    path = "/v1/photos/{sha256}",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    request_body(content((inline(crate::http::body::RawBytes) = "image/jpeg"), (inline(crate::http::body::RawBytes) = "image/png"), (inline(crate::http::body::RawBytes) = "image/webp"), (inline(crate::http::body::RawBytes) = "image/heic")), description = "The photo bytes; `Content-Type` one of the four image types"),
    responses(
        (status = 201, description = "Stored", body = PhotoStored),
        (status = 200, description = "Already stored (`already_stored: true`); nothing was written. Send `Expect: 100-continue` (or HEAD first) to skip sending the bytes", body = PhotoStored),
        (status = 400, description = "`invalid_sha256`", body = crate::http::ErrorBody),
        (status = 413, description = "`photo_too_large`", body = crate::http::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = crate::http::ErrorBody),
        (status = 422, description = "`checksum_mismatch`: the bytes do not hash to the path", body = crate::http::ErrorBody),
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
    // Whatever the answer, read away what the client is still sending (bounded), so the
    // connection stays reusable.
    drain_rest(&headers, &mut body, state.config.max_photo_bytes).await;
    result
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
    // A photo the caller may not see is answered as if absent: the bytes must come.
    if let Some(Some(meta)) = photo_access(state.store.as_ref(), &principal, &sha).await? {
        // The cheap no-op: nothing is hashed or written (with `Expect: 100-continue` the body
        // is not even sent).
        return Ok((StatusCode::OK, Json(PhotoStored::from_meta(&meta, true))).into_response());
    }
    let content_type = content_type(headers)?;
    let max = state.config.max_photo_bytes;
    if declared_length(headers).is_some_and(|n| n > max) {
        return Err(too_large(max));
    }

    let (bytes, digest) = receive_limited(body, max, || too_large(max)).await?;
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
        .put(&BlobKey::photo(principal.tenant_id, &sha), bytes.clone())
        .await?;
    thumbnails::make_and_store(state, principal.tenant_id, &sha, bytes).await;
    let inserted = state.store.insert_photo_if_absent(&meta).await?;
    tracing::info!(sha256 = %sha, size = meta.size_bytes, inserted, "photo stored");
    let status = if inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(PhotoStored::from_meta(&meta, !inserted))).into_response())
}

/// A `307` to a presigned GET (which must not be cached beyond its lifetime).
fn redirect(url: &str) -> ApiResult<Response> {
    let location = HeaderValue::from_str(url)
        .map_err(|e| ApiError::internal(format!("presigned URL is not a header value: {e}")))?;
    Ok((
        StatusCode::TEMPORARY_REDIRECT,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response())
}

/// Bytes of a content-addressed blob: they never change under this name.
fn immutable_bytes(content_type: &str, bytes: Bytes) -> Response {
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Downloads a photo.
#[utoipa::path(
    get,
    path = "/v1/photos/{sha256}",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "The photo bytes with the content type they were uploaded with (embedded blob store)", content((inline(crate::http::body::RawBytes) = "image/jpeg"), (inline(crate::http::body::RawBytes) = "image/png"), (inline(crate::http::body::RawBytes) = "image/webp"), (inline(crate::http::body::RawBytes) = "image/heic"))),
        (status = 307, description = "Object store: `Location` is a short-lived presigned GET; follow it without the `Authorization` header"),
        (status = 400, description = "`invalid_sha256`", body = crate::http::ErrorBody),
        (status = 404, description = "Not stored for this tenant, or no visit the caller may see references it", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %photo.principal.tenant_id))]
pub async fn get_photo(
    State(state): State<AppState>,
    photo: InScope<VisiblePhoto>,
) -> ApiResult<Response> {
    let meta = photo.object.stored()?;
    let sha = photo.object.sha256;
    let key = BlobKey::photo(photo.principal.tenant_id, &sha);
    if let Some(signed) = state
        .blobs
        .presign_get(&key, state.config.photos.url_ttl())
        .await?
    {
        return redirect(&signed.url);
    }
    let bytes = state.blobs.get(&key).await?.ok_or_else(|| {
        ApiError::internal(format!("photo {sha} has metadata but no stored bytes"))
    })?;
    Ok(immutable_bytes(&meta.content_type, bytes))
}

/// A short-lived URL to download a photo from.
#[utoipa::path(
    get,
    path = "/v1/photos/{sha256}/url",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "Where to download the photo", body = PhotoUrl),
        (status = 400, description = "`invalid_sha256`", body = crate::http::ErrorBody),
        (status = 404, description = "Not stored for this tenant, or no visit the caller may see references it", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %photo.principal.tenant_id))]
pub async fn photo_url(
    State(state): State<AppState>,
    photo: InScope<VisiblePhoto>,
) -> ApiResult<Json<PhotoUrl>> {
    photo.object.stored()?;
    let sha = photo.object.sha256;
    let ttl = state.config.photos.url_ttl();
    let key = BlobKey::photo(photo.principal.tenant_id, &sha);
    let answer = match state.blobs.presign_get(&key, ttl).await? {
        Some(signed) => PhotoUrl {
            url: signed.url,
            expires_at: signed.expires_at,
        },
        None => PhotoUrl {
            url: format!("/v1/photos/{}", sha.to_hex()),
            expires_at: Timestamp::now().millis() + ttl.as_millis() as i64,
        },
    };
    Ok(Json(answer))
}

/// The photo's thumbnail: a JPEG at most 256 px on its longer side. While the photo is not
/// stored yet, the one its device sent first; once stored, the server's.
#[utoipa::path(
    get,
    path = "/v1/photos/{sha256}/thumbnail",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "The thumbnail (embedded blob store); `Cache-Control: no-cache` while it is the device's", body = inline(crate::http::body::RawBytes), content_type = "image/jpeg"),
        (status = 307, description = "Object store: `Location` is a short-lived presigned GET"),
        (status = 400, description = "`invalid_sha256`", body = crate::http::ErrorBody),
        (status = 404, description = "No photo the caller may see, or it has no thumbnail yet (not stored and no device thumbnail; an image the server cannot decode, e.g. HEIC)", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %photo.principal.tenant_id))]
pub async fn get_thumbnail(
    State(state): State<AppState>,
    photo: InScope<VisiblePhoto>,
) -> ApiResult<Response> {
    let (principal, sha) = (&photo.principal, photo.object.sha256);
    let origin = state
        .store
        .photo_thumbnail_origin(principal.tenant_id, &sha)
        .await?;
    let key = thumbnails::key_for(principal.tenant_id, &sha, origin)?;
    let ttl = state.config.photos.url_ttl();
    if let Some(signed) = state.blobs.presign_get(&key, ttl).await? {
        if !state.blobs.exists(&key).await? {
            return Err(ApiError::NotFound("thumbnail"));
        }
        return redirect(&signed.url);
    }
    let bytes = state
        .blobs
        .get(&key)
        .await?
        .ok_or(ApiError::NotFound("thumbnail"))?;
    if origin == Some(ThumbnailOrigin::Device) {
        // Replaced by the server's once the photo is stored: not cacheable as immutable.
        return Ok((
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            bytes,
        )
            .into_response());
    }
    Ok(immutable_bytes("image/jpeg", bytes))
}
