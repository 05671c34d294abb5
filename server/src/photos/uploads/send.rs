//! Sending the bytes of an open upload: presigned requests for the parts of a multipart
//! upload, and parts or the whole photo of a single upload through this server when the
//! store does not presign.

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{check_part_number, expected_part_size, multipart_id, still_open};
use crate::blobs::{BlobKey, PresignedRequest};
use crate::http::body::{declared_length, drain_rest, receive_limited};
use crate::http::{ApiError, ApiResult};
use crate::photos::{parse_sha256_str, too_large};
use crate::scope::named::{InScope, OwnUpload};
use crate::state::AppState;
use crate::store::photos::UploadMode;

/// `GET /v1/photos/uploads/{upload_id}/parts/{n}` query.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartQuery {
    /// SHA-256 of the part's bytes, 64 hex digits (the object store checks it).
    pub sha256: String,
    /// The part's size in bytes: `part_size`, or what is left for the last part.
    pub size: u64,
}

/// `PUT /v1/photos/uploads/{upload_id}/parts/{n}` query.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PutPartQuery {
    /// Optional SHA-256 of the part: when given, a part that does not hash to it is refused
    /// (422 `checksum_mismatch`) and not stored.
    pub sha256: Option<String>,
}

/// `GET /v1/photos/uploads/{upload_id}/parts/{n}` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartUrl {
    /// The request to send the part with (to the object store); `null`:
    /// `PUT /v1/photos/uploads/{upload_id}/parts/{n}` to this server.
    pub put: Option<PresignedRequest>,
}

/// How to send part `n` of a multipart upload.
#[utoipa::path(
    get,
    path = "/v1/photos/uploads/{upload_id}/parts/{n}",
    tag = "photos",
    security(("bearer" = [])),
    params(
        ("upload_id" = Uuid, Path, description = "From the declaration"),
        ("n" = u32, Path, description = "Part number, 1 to `parts`"),
        PartQuery,
    ),
    responses(
        (status = 200, description = "`put`: a presigned request to the object store, or `null`: PUT the part to this server", body = PartUrl),
        (status = 400, description = "`invalid_part_number`, `invalid_part_size`, `invalid_sha256`, `not_multipart`", body = crate::http::ErrorBody),
        (status = 404, description = "No upload of the caller's with this id", body = crate::http::ErrorBody),
        (status = 409, description = "`upload_closed`: stored, failed or expired", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %upload.principal.tenant_id))]
pub async fn part_url(
    State(state): State<AppState>,
    upload: InScope<OwnUpload>,
    number: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<PartQuery>, QueryRejection>,
) -> ApiResult<Json<PartUrl>> {
    let Path((_, raw_number)) = number?;
    let upload = still_open(upload.object.0)?;
    let id = multipart_id(&upload)?;
    let number = check_part_number(&upload, &raw_number)?;
    let Query(query) = query?;
    let sha = parse_sha256_str(&query.sha256)?;
    let expected = expected_part_size(&upload, number);
    if query.size != expected {
        return Err(ApiError::bad_request(
            "invalid_part_size",
            format!("part {number} has {expected} bytes"),
        ));
    }
    let key = BlobKey::photo(upload.tenant_id, &upload.sha256);
    let put = state
        .blobs
        .presign_part(
            &key,
            &id,
            number,
            &sha,
            expected,
            state.config.photos.url_ttl(),
        )
        .await?;
    Ok(Json(PartUrl { put }))
}

/// Sends part `n` of a multipart upload through this server (when the store does not presign).
#[utoipa::path(
    put,
    path = "/v1/photos/uploads/{upload_id}/parts/{n}",
    tag = "photos",
    security(("bearer" = [])),
    params(
        ("upload_id" = Uuid, Path, description = "From the declaration"),
        ("n" = u32, Path, description = "Part number, 1 to `parts`"),
        PutPartQuery,
    ),
    request_body(content = inline(crate::http::body::RawBytes), description = "The part's bytes: exactly `part_size` (the last part: what is left)", content_type = "application/octet-stream"),
    responses(
        (status = 204, description = "Stored (replacing an earlier copy of the part)"),
        (status = 400, description = "`invalid_part_number`, `invalid_part_size` (shorter than the part), `not_multipart`", body = crate::http::ErrorBody),
        (status = 404, description = "No upload of the caller's with this id", body = crate::http::ErrorBody),
        (status = 409, description = "`upload_closed`", body = crate::http::ErrorBody),
        (status = 413, description = "`part_too_large`: longer than the part", body = crate::http::ErrorBody),
        (status = 422, description = "`checksum_mismatch`: the part does not hash to `sha256`", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = tracing::field::Empty))]
pub async fn put_part(
    State(state): State<AppState>,
    upload: Result<InScope<OwnUpload>, ApiError>,
    number: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<PutPartQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let mut body = body;
    let result = receive_part(&state, upload, number, query, &headers, &mut body).await;
    drain_rest(&headers, &mut body, state.config.photos.part_bytes).await;
    result
}

async fn receive_part(
    state: &AppState,
    upload: Result<InScope<OwnUpload>, ApiError>,
    number: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<PutPartQuery>, QueryRejection>,
    headers: &HeaderMap,
    body: &mut Body,
) -> ApiResult<StatusCode> {
    let OwnUpload(upload) = upload?.object;
    tracing::Span::current().record("tenant", tracing::field::display(upload.tenant_id));
    let Path((_, raw_number)) = number?;
    let Query(query) = query?;
    let upload = still_open(upload)?;
    let id = multipart_id(&upload)?;
    let number = check_part_number(&upload, &raw_number)?;
    let part_sha = query.sha256.as_deref().map(parse_sha256_str).transpose()?;
    let expected = expected_part_size(&upload, number);
    let over = || {
        ApiError::too_large(
            "part_too_large",
            format!("part {number} has {expected} bytes"),
        )
    };
    if declared_length(headers).is_some_and(|n| n > expected) {
        return Err(over());
    }
    let (bytes, digest) = receive_limited(body, expected, over).await?;
    if bytes.len() as u64 != expected {
        return Err(ApiError::bad_request(
            "invalid_part_size",
            format!(
                "part {number} has {expected} bytes, {} were sent",
                bytes.len()
            ),
        ));
    }
    if let Some(sha) = part_sha {
        if sha != digest {
            return Err(ApiError::unprocessable(
                "checksum_mismatch",
                format!("the part hashes to {digest}, not to {sha}"),
            ));
        }
    }
    state.metrics.record_photo_bytes(bytes.len() as u64);
    let key = BlobKey::photo(upload.tenant_id, &upload.sha256);
    state.blobs.put_part(&key, &id, number, bytes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends the whole photo of a `single` upload through this server (when `put` was `null`).
#[utoipa::path(
    put,
    path = "/v1/photos/uploads/{upload_id}/content",
    tag = "photos",
    security(("bearer" = [])),
    params(("upload_id" = Uuid, Path, description = "From the declaration")),
    request_body(content = inline(crate::http::body::RawBytes), description = "The photo bytes (exactly `size_bytes`)", content_type = "application/octet-stream"),
    responses(
        (status = 204, description = "Received and checked; now complete the upload"),
        (status = 400, description = "`not_single`: a multipart upload", body = crate::http::ErrorBody),
        (status = 404, description = "No upload of the caller's with this id", body = crate::http::ErrorBody),
        (status = 409, description = "`upload_closed`", body = crate::http::ErrorBody),
        (status = 413, description = "`photo_too_large`: more bytes than declared", body = crate::http::ErrorBody),
        (status = 422, description = "`checksum_mismatch`: the bytes are not the declared photo; nothing was stored", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = tracing::field::Empty))]
pub async fn put_content(
    State(state): State<AppState>,
    upload: Result<InScope<OwnUpload>, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let mut body = body;
    let result = receive_content(&state, upload, &headers, &mut body).await;
    drain_rest(&headers, &mut body, state.config.max_photo_bytes).await;
    result
}

async fn receive_content(
    state: &AppState,
    upload: Result<InScope<OwnUpload>, ApiError>,
    headers: &HeaderMap,
    body: &mut Body,
) -> ApiResult<StatusCode> {
    let OwnUpload(upload) = upload?.object;
    tracing::Span::current().record("tenant", tracing::field::display(upload.tenant_id));
    let upload = still_open(upload)?;
    if upload.mode != UploadMode::Single {
        return Err(ApiError::bad_request(
            "not_single",
            "this is a multipart upload: send its parts",
        ));
    }
    let declared = upload.size_bytes;
    if declared_length(headers).is_some_and(|n| n > declared) {
        return Err(too_large(declared));
    }
    let (bytes, digest) = receive_limited(body, declared, || too_large(declared)).await?;
    if digest != upload.sha256 || bytes.len() as u64 != declared {
        return Err(ApiError::unprocessable(
            "checksum_mismatch",
            format!(
                "the body ({} bytes) hashes to {digest}, not to the declared {} ({declared} bytes)",
                bytes.len(),
                upload.sha256
            ),
        ));
    }
    state.metrics.record_photo_bytes(bytes.len() as u64);
    state
        .blobs
        .put(&BlobKey::photo(upload.tenant_id, &upload.sha256), bytes)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
