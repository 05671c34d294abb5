//! The photo upload protocol (`docs/photo-uploads.md`): declare, send (one request or parts,
//! to the object store directly when it presigns, else to this server), complete.
//!
//! An upload is a `photo_uploads` row. At most one is open (`uploading`) per tenant and photo,
//! so a device that declares the same photo again (after a dropped connection or an app
//! restart) gets the same upload back and sends only the parts the store does not hold yet.
//! Bytes go to the photo's final key (`tenants/<t>/photos/<sha[0..2]>/<sha>`); nothing is a
//! photo before `complete` read them back, checked size and SHA-256 (off the executor), made
//! the thumbnail and inserted the metadata row. Bytes that fail the check are deleted and the
//! upload is marked `failed`.

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use fieldsync_shared::{Sha256, TenantId, Timestamp};

use super::{allowed_content_type, parse_sha256_str, thumbnails, too_large, MAX_PARTS};
use crate::auth::Principal;
use crate::blobs::{BlobKey, MultipartId, PresignedRequest};
use crate::http::body::{drain_rest, receive_limited};
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::photos::{PhotoMeta, PhotoUpload, UploadMode, UploadStatus};

/// Largest JSON body of a declaration.
const MAX_DECLARE_BODY_BYTES: u64 = 16 * 1024;

/// `POST /v1/photos/uploads` body.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeclareUpload {
    /// SHA-256 of the whole photo, 64 hex digits.
    pub sha256: String,
    pub size_bytes: u64,
    /// image/jpeg, image/png, image/webp or image/heic.
    pub content_type: String,
}

/// `POST /v1/photos/uploads` answer, by `status`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeclareAnswer {
    /// 200: the server already has the photo; send nothing.
    Stored { sha256: String },
    /// 201: send the bytes, then `POST .../complete`.
    Upload {
        upload_id: Uuid,
        sha256: String,
        size_bytes: u64,
        content_type: String,
        /// `single` or `multipart`.
        mode: String,
        /// `single`: the request to send the whole photo with (to the object store); `null`:
        /// `PUT /v1/photos/uploads/{upload_id}/content` to this server. Always `null` for
        /// `multipart` (ask per part).
        put: Option<PresignedRequest>,
        /// Bytes per part (the last one is shorter); `size_bytes` for `single`.
        part_size: u64,
        /// Number of parts, numbered from 1; 1 for `single`.
        parts: u32,
    },
}

/// `GET /v1/photos/uploads/{upload_id}` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadState {
    pub upload_id: Uuid,
    pub sha256: String,
    pub size_bytes: u64,
    /// `uploading`, `stored`, `failed` (the bytes were not the declared photo: declare again)
    /// or `expired` (not completed in time: declare again).
    pub status: String,
    /// `single` or `multipart`.
    pub mode: String,
    pub parts: u32,
    pub part_size: u64,
    /// Parts the server (object store) holds with the right size; a resuming device sends
    /// only the others. `single`: `[1]` once the whole photo is there.
    pub stored_parts: Vec<u32>,
}

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

/// `POST /v1/photos/uploads/{upload_id}/complete` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompleteAnswer {
    /// `stored`
    pub status: String,
    pub sha256: String,
    /// Whether `GET /v1/photos/{sha256}/thumbnail` has a thumbnail.
    pub thumbnail: bool,
}

fn not_found() -> ApiError {
    ApiError::NotFound("upload")
}

fn closed(upload: &PhotoUpload) -> ApiError {
    ApiError::Conflict {
        reason: "upload_closed",
        message: format!(
            "this upload is {}; declare the photo again",
            upload.status.as_str()
        ),
    }
}

fn parse_upload_id(raw: &str) -> ApiResult<Uuid> {
    // A malformed id names no upload.
    Uuid::parse_str(raw).map_err(|_| not_found())
}

/// Size of part `number` (1-based) of `upload`.
fn expected_part_size(upload: &PhotoUpload, number: u32) -> u64 {
    if number < upload.parts {
        upload.part_size
    } else {
        upload.size_bytes - upload.part_size * u64::from(upload.parts - 1)
    }
}

fn check_part_number(upload: &PhotoUpload, number: &str) -> ApiResult<u32> {
    match number.parse::<u32>() {
        Ok(n) if (1..=upload.parts).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(
            "invalid_part_number",
            format!("parts are numbered 1 to {}", upload.parts),
        )),
    }
}

fn multipart_id(upload: &PhotoUpload) -> ApiResult<MultipartId> {
    match (upload.mode, &upload.multipart_id) {
        (UploadMode::Multipart, Some(id)) => Ok(MultipartId(id.clone())),
        (UploadMode::Multipart, None) => Err(ApiError::internal(format!(
            "multipart upload {} has no multipart id",
            upload.id
        ))),
        (UploadMode::Single, _) => Err(ApiError::bad_request(
            "not_multipart",
            "this is a single upload: send the whole photo in one request",
        )),
    }
}

/// Reads a small JSON body (bounded, in chunks).
async fn read_json<T: serde::de::DeserializeOwned>(body: &mut Body, max: u64) -> ApiResult<T> {
    let (bytes, _) = receive_limited(body, max, || {
        ApiError::too_large(
            "body_too_large",
            format!("the body may be at most {max} bytes"),
        )
    })
    .await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("malformed_body", format!("invalid JSON body: {e}")))
}

async fn ticket(state: &AppState, upload: &PhotoUpload) -> ApiResult<DeclareAnswer> {
    let put = match upload.mode {
        UploadMode::Single => {
            state
                .blobs
                .presign_put(
                    &BlobKey::photo(upload.tenant_id, &upload.sha256),
                    &upload.sha256,
                    upload.size_bytes,
                    state.config.photos.url_ttl(),
                )
                .await?
        }
        UploadMode::Multipart => None,
    };
    Ok(DeclareAnswer::Upload {
        upload_id: upload.id,
        sha256: upload.sha256.to_hex(),
        size_bytes: upload.size_bytes,
        content_type: upload.content_type.clone(),
        mode: upload.mode.as_str().to_string(),
        put,
        part_size: upload.part_size,
        parts: upload.parts,
    })
}

/// Closes an open upload that will not be used again (expired, superseded): aborts its
/// multipart upload in the store (best effort) and marks it `to`.
pub(crate) async fn retire(
    state: &AppState,
    upload: &PhotoUpload,
    to: UploadStatus,
) -> ApiResult<bool> {
    if let (UploadMode::Multipart, Some(id)) = (upload.mode, &upload.multipart_id) {
        let key = BlobKey::photo(upload.tenant_id, &upload.sha256);
        state
            .blobs
            .abort_multipart(&key, &MultipartId(id.clone()))
            .await?;
    }
    Ok(state
        .store
        .set_photo_upload_status(
            upload.tenant_id,
            upload.id,
            UploadStatus::Uploading,
            to,
            Timestamp::now(),
        )
        .await?)
}

fn upload_max_age_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.photos.upload_max_age_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// A new upload of `sha256` for `principal` (multipart created in the store if needed).
async fn new_upload(
    state: &AppState,
    principal: &Principal,
    sha256: Sha256,
    size_bytes: u64,
    content_type: &str,
) -> ApiResult<PhotoUpload> {
    let settings = &state.config.photos;
    let now = Timestamp::now();
    let (mode, part_size, parts, multipart_id) = if size_bytes > settings.multipart_threshold_bytes
    {
        // At most MAX_PARTS parts: very large photos with small configured parts get larger ones.
        let part_size = settings.part_bytes.max(size_bytes.div_ceil(MAX_PARTS));
        let parts = u32::try_from(size_bytes.div_ceil(part_size))
            .map_err(|_| ApiError::internal("part count out of range"))?;
        let key = BlobKey::photo(principal.tenant_id, &sha256);
        let id = state.blobs.create_multipart(&key).await?;
        (UploadMode::Multipart, part_size, parts, Some(id.0))
    } else {
        (UploadMode::Single, size_bytes, 1, None)
    };
    Ok(PhotoUpload {
        id: Uuid::new_v4(),
        tenant_id: principal.tenant_id,
        sha256,
        size_bytes,
        content_type: content_type.to_string(),
        mode,
        part_size,
        parts,
        multipart_id,
        status: UploadStatus::Uploading,
        created_by: principal.user_id,
        created_at: now,
        updated_at: now,
    })
}

/// Declares a photo upload (or learns that the photo is already stored).
#[utoipa::path(
    post,
    path = "/v1/photos/uploads",
    tag = "photos",
    security(("bearer" = [])),
    request_body(content = DeclareUpload, content_type = "application/json"),
    responses(
        (status = 200, description = "`status: stored`: the server already has the photo; send nothing", body = DeclareAnswer),
        (status = 201, description = "`status: upload`: send the bytes as described, then complete. Declaring the same photo again while the upload is open returns the same `upload_id`", body = DeclareAnswer),
        (status = 400, description = "`invalid_sha256`, `invalid_size` (0 bytes), `malformed_body`", body = crate::http::ErrorBody),
        (status = 413, description = "`photo_too_large`: over `FIELDSYNC_MAX_PHOTO_BYTES`", body = crate::http::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id))]
pub async fn declare(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let mut body = body;
    let req: DeclareUpload = match read_json(&mut body, MAX_DECLARE_BODY_BYTES).await {
        Ok(req) => req,
        Err(e) => {
            // Answer after reading what is still coming, so the client sees the answer.
            drain_rest(&headers, &mut body, MAX_DECLARE_BODY_BYTES * 4).await;
            return Err(e);
        }
    };
    let sha = parse_sha256_str(&req.sha256)?;
    let content_type = allowed_content_type(&req.content_type)?;
    let max = state.config.max_photo_bytes;
    if req.size_bytes > max {
        return Err(too_large(max));
    }
    if req.size_bytes == 0 {
        return Err(ApiError::bad_request(
            "invalid_size",
            "size_bytes must be at least 1",
        ));
    }
    let tenant = principal.tenant_id;
    // Three rounds at most: a concurrent declaration of the same photo wins the insert, and
    // the next round returns its upload.
    for _ in 0..3 {
        if state.store.get_photo(tenant, &sha).await?.is_some() {
            let answer = DeclareAnswer::Stored {
                sha256: sha.to_hex(),
            };
            return Ok((StatusCode::OK, Json(answer)).into_response());
        }
        if let Some(open) = state.store.find_open_photo_upload(tenant, &sha).await? {
            let too_old =
                open.created_at.millis() < Timestamp::now().millis() - upload_max_age_ms(&state);
            if !too_old && open.size_bytes == req.size_bytes && open.content_type == content_type {
                tracing::info!(upload = %open.id, sha256 = %sha, "upload resumed");
                state.metrics.record_photo_upload("resumed");
                let answer = ticket(&state, &open).await?;
                return Ok((StatusCode::CREATED, Json(answer)).into_response());
            }
            // Too old to finish before the clean-up aborts it, or declared differently (the
            // declaration that comes last wins): close it and start over.
            let to = if too_old {
                UploadStatus::Expired
            } else {
                UploadStatus::Failed
            };
            tracing::info!(upload = %open.id, sha256 = %sha, status = to.as_str(), "open upload replaced");
            retire(&state, &open, to).await?;
            continue;
        }
        let upload = new_upload(&state, &principal, sha, req.size_bytes, content_type).await?;
        if state.store.create_photo_upload(&upload).await? {
            tracing::info!(upload = %upload.id, sha256 = %sha, mode = upload.mode.as_str(), size = upload.size_bytes, "upload declared");
            state.metrics.record_photo_upload("declared");
            let answer = ticket(&state, &upload).await?;
            return Ok((StatusCode::CREATED, Json(answer)).into_response());
        }
        // Another declaration of the same photo got there first: drop ours, use theirs.
        if let Some(id) = &upload.multipart_id {
            let key = BlobKey::photo(tenant, &sha);
            if let Err(e) = state
                .blobs
                .abort_multipart(&key, &MultipartId(id.clone()))
                .await
            {
                tracing::warn!(error = %e, "aborting an unused multipart upload failed");
            }
        }
    }
    Err(ApiError::Unavailable {
        message: "concurrent declarations of this photo; try again".into(),
        retry_after_secs: 1,
    })
}

async fn load_upload(state: &AppState, tenant: TenantId, raw_id: &str) -> ApiResult<PhotoUpload> {
    let id = parse_upload_id(raw_id)?;
    state
        .store
        .get_photo_upload(tenant, id)
        .await?
        .ok_or_else(not_found)
}

async fn load_open_upload(
    state: &AppState,
    tenant: TenantId,
    raw_id: &str,
) -> ApiResult<PhotoUpload> {
    let upload = load_upload(state, tenant, raw_id).await?;
    if upload.status != UploadStatus::Uploading {
        return Err(closed(&upload));
    }
    Ok(upload)
}

/// Parts (numbers) the store holds with their expected size.
async fn stored_parts(state: &AppState, upload: &PhotoUpload) -> ApiResult<Vec<u32>> {
    let key = BlobKey::photo(upload.tenant_id, &upload.sha256);
    match (upload.status, upload.mode) {
        (UploadStatus::Stored, _) => Ok((1..=upload.parts).collect()),
        (UploadStatus::Uploading, UploadMode::Multipart) => {
            let id = multipart_id(upload)?;
            let mut numbers: Vec<u32> = state
                .blobs
                .list_parts(&key, &id)
                .await?
                .into_iter()
                .filter(|p| {
                    (1..=upload.parts).contains(&p.number)
                        && p.size == expected_part_size(upload, p.number)
                })
                .map(|p| p.number)
                .collect();
            numbers.sort_unstable();
            numbers.dedup();
            Ok(numbers)
        }
        (UploadStatus::Uploading, UploadMode::Single) => Ok(match state.blobs.size(&key).await? {
            Some(size) if size == upload.size_bytes => vec![1],
            _ => Vec::new(),
        }),
        _ => Ok(Vec::new()),
    }
}

/// Where an upload stands and which parts the store already holds.
#[utoipa::path(
    get,
    path = "/v1/photos/uploads/{upload_id}",
    tag = "photos",
    security(("bearer" = [])),
    params(("upload_id" = Uuid, Path, description = "From the declaration")),
    responses(
        (status = 200, description = "The upload", body = UploadState),
        (status = 404, description = "No such upload in this tenant", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, principal, path), fields(tenant = %principal.tenant_id))]
pub async fn get_upload(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<UploadState>> {
    let Path(raw_id) = path?;
    let upload = load_upload(&state, principal.tenant_id, &raw_id).await?;
    let stored_parts = stored_parts(&state, &upload).await?;
    Ok(Json(UploadState {
        upload_id: upload.id,
        sha256: upload.sha256.to_hex(),
        size_bytes: upload.size_bytes,
        status: upload.status.as_str().to_string(),
        mode: upload.mode.as_str().to_string(),
        parts: upload.parts,
        part_size: upload.part_size,
        stored_parts,
    }))
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
        (status = 404, description = "No such upload in this tenant", body = crate::http::ErrorBody),
        (status = 409, description = "`upload_closed`: stored, failed or expired", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, principal, path, query), fields(tenant = %principal.tenant_id))]
pub async fn part_url(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<PartQuery>, QueryRejection>,
) -> ApiResult<Json<PartUrl>> {
    let Path((raw_id, raw_number)) = path?;
    let upload = load_open_upload(&state, principal.tenant_id, &raw_id).await?;
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
    request_body(content = Vec<u8>, description = "The part's bytes: exactly `part_size` (the last part: what is left)", content_type = "application/octet-stream"),
    responses(
        (status = 204, description = "Stored (replacing an earlier copy of the part)"),
        (status = 400, description = "`invalid_part_number`, `invalid_part_size` (shorter than the part), `not_multipart`", body = crate::http::ErrorBody),
        (status = 404, description = "No such upload in this tenant", body = crate::http::ErrorBody),
        (status = 409, description = "`upload_closed`", body = crate::http::ErrorBody),
        (status = 413, description = "`part_too_large`: longer than the part", body = crate::http::ErrorBody),
        (status = 422, description = "`checksum_mismatch`: the part does not hash to `sha256`", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = tracing::field::Empty))]
pub async fn put_part(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<PutPartQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let mut body = body;
    let result = receive_part(&state, principal, path, query, &headers, &mut body).await;
    drain_rest(&headers, &mut body, state.config.photos.part_bytes).await;
    result
}

async fn receive_part(
    state: &AppState,
    principal: Result<Principal, ApiError>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<PutPartQuery>, QueryRejection>,
    headers: &HeaderMap,
    body: &mut Body,
) -> ApiResult<StatusCode> {
    let principal = principal?;
    tracing::Span::current().record("tenant", tracing::field::display(principal.tenant_id));
    let Path((raw_id, raw_number)) = path?;
    let Query(query) = query?;
    let upload = load_open_upload(state, principal.tenant_id, &raw_id).await?;
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
    if super::declared_length(headers).is_some_and(|n| n > expected) {
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
    request_body(content = Vec<u8>, description = "The photo bytes (exactly `size_bytes`)", content_type = "application/octet-stream"),
    responses(
        (status = 204, description = "Received and checked; now complete the upload"),
        (status = 400, description = "`not_single`: a multipart upload", body = crate::http::ErrorBody),
        (status = 404, description = "No such upload in this tenant", body = crate::http::ErrorBody),
        (status = 409, description = "`upload_closed`", body = crate::http::ErrorBody),
        (status = 413, description = "`photo_too_large`: more bytes than declared", body = crate::http::ErrorBody),
        (status = 422, description = "`checksum_mismatch`: the bytes are not the declared photo; nothing was stored", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = tracing::field::Empty))]
pub async fn put_content(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let mut body = body;
    let result = receive_content(&state, principal, path, &headers, &mut body).await;
    drain_rest(&headers, &mut body, state.config.max_photo_bytes).await;
    result
}

async fn receive_content(
    state: &AppState,
    principal: Result<Principal, ApiError>,
    path: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
    body: &mut Body,
) -> ApiResult<StatusCode> {
    let principal = principal?;
    tracing::Span::current().record("tenant", tracing::field::display(principal.tenant_id));
    let Path(raw_id) = path?;
    let upload = load_open_upload(state, principal.tenant_id, &raw_id).await?;
    if upload.mode != UploadMode::Single {
        return Err(ApiError::bad_request(
            "not_single",
            "this is a multipart upload: send its parts",
        ));
    }
    let declared = upload.size_bytes;
    if super::declared_length(headers).is_some_and(|n| n > declared) {
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

fn stored_answer(sha256: &Sha256, thumbnail: bool) -> Json<CompleteAnswer> {
    Json(CompleteAnswer {
        status: "stored".into(),
        sha256: sha256.to_hex(),
        thumbnail,
    })
}

async fn has_thumbnail(state: &AppState, tenant: TenantId, sha256: &Sha256) -> ApiResult<bool> {
    Ok(state
        .blobs
        .exists(&thumbnails::key(tenant, sha256)?)
        .await?)
}

/// Completes an upload: assembles the parts, verifies size and SHA-256 of what the store holds,
/// makes the thumbnail, records the photo.
#[utoipa::path(
    post,
    path = "/v1/photos/uploads/{upload_id}/complete",
    tag = "photos",
    security(("bearer" = [])),
    params(("upload_id" = Uuid, Path, description = "From the declaration")),
    responses(
        (status = 200, description = "Stored (also when it already was: completing is idempotent)", body = CompleteAnswer),
        (status = 404, description = "No such upload in this tenant", body = crate::http::ErrorBody),
        (status = 409, description = "`upload_incomplete`: parts (or the photo) missing, GET the upload to see which; `upload_closed`: failed or expired, declare again", body = crate::http::ErrorBody),
        (status = 422, description = "`checksum_mismatch`: the stored bytes are not the declared photo; they were deleted and the upload is failed: declare again", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, principal, path), fields(tenant = %principal.tenant_id))]
pub async fn complete(
    State(state): State<AppState>,
    principal: Principal,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<CompleteAnswer>> {
    // No body is expected, but clients send an empty one (some chunked): read it away, or the
    // connection could not be reused and the client's next request would fail.
    let mut body = body;
    drain_rest(&headers, &mut body, MAX_DECLARE_BODY_BYTES).await;
    let Path(raw_id) = path?;
    let upload = load_upload(&state, principal.tenant_id, &raw_id).await?;
    let tenant = upload.tenant_id;
    let sha = upload.sha256;
    match upload.status {
        UploadStatus::Stored => {
            return Ok(stored_answer(
                &sha,
                has_thumbnail(&state, tenant, &sha).await?,
            ));
        }
        UploadStatus::Failed | UploadStatus::Expired => return Err(closed(&upload)),
        UploadStatus::Uploading => {}
    }
    let key = BlobKey::photo(tenant, &sha);

    // Stored meanwhile by another route (one-shot PUT, another upload): nothing to verify.
    if state.store.get_photo(tenant, &sha).await?.is_some() {
        return finish_already_stored(&state, &upload).await;
    }

    // A multipart upload is assembled once; a `complete` that stopped after assembling (crash,
    // dropped connection) is resumed at the verification.
    let assembled = upload.mode == UploadMode::Multipart
        && state.blobs.size(&key).await? == Some(upload.size_bytes);
    if upload.mode == UploadMode::Multipart && !assembled {
        let id = multipart_id(&upload)?;
        let present = stored_parts(&state, &upload).await?;
        let missing: Vec<u32> = (1..=upload.parts)
            .filter(|n| present.binary_search(n).is_err())
            .collect();
        if !missing.is_empty() {
            return Err(incomplete(format!(
                "parts {missing:?} of {} are missing",
                upload.parts
            )));
        }
        if let Err(e) = state
            .blobs
            .complete_multipart(&key, &id, upload.parts)
            .await
        {
            // A concurrent `complete` of the same upload may have assembled it first.
            if state.store.get_photo(tenant, &sha).await?.is_some() {
                return finish_already_stored(&state, &upload).await;
            }
            return Err(e.into());
        }
    }

    // Read back what the store holds and check it against the declaration.
    let Some(size) = state.blobs.size(&key).await? else {
        return Err(incomplete("the photo has not been received yet".into()));
    };
    if size != upload.size_bytes {
        return Err(reject(
            &state,
            &upload,
            format!("{size} bytes stored, {} declared", upload.size_bytes),
        )
        .await);
    }
    let Some(bytes) = state.blobs.get(&key).await? else {
        return Err(incomplete("the photo has not been received yet".into()));
    };
    let hashed = bytes.clone();
    let digest = tokio::task::spawn_blocking(move || Sha256::digest(&hashed))
        .await
        .map_err(|e| ApiError::internal(format!("hashing failed: {e}")))?;
    if digest != sha {
        return Err(reject(
            &state,
            &upload,
            format!("the stored bytes hash to {digest}"),
        )
        .await);
    }

    let thumbnail = thumbnails::make_and_store(&state, tenant, &sha, bytes).await;
    let meta = PhotoMeta {
        tenant_id: tenant,
        sha256: sha,
        size_bytes: size,
        content_type: upload.content_type.clone(),
        uploaded_by: upload.created_by,
        created_at: Timestamp::now(),
    };
    state.store.insert_photo_if_absent(&meta).await?;
    state
        .store
        .set_photo_upload_status(
            tenant,
            upload.id,
            UploadStatus::Uploading,
            UploadStatus::Stored,
            Timestamp::now(),
        )
        .await?;
    state.metrics.record_photo_upload("stored");
    tracing::info!(upload = %upload.id, sha256 = %sha, size, thumbnail, "photo upload completed");
    Ok(stored_answer(&sha, thumbnail))
}

fn incomplete(message: String) -> ApiError {
    ApiError::Conflict {
        reason: "upload_incomplete",
        message,
    }
}

/// The photo is recorded already: close the upload (dropping its parts) and answer stored.
async fn finish_already_stored(
    state: &AppState,
    upload: &PhotoUpload,
) -> ApiResult<Json<CompleteAnswer>> {
    if let (UploadMode::Multipart, Some(id)) = (upload.mode, &upload.multipart_id) {
        let key = BlobKey::photo(upload.tenant_id, &upload.sha256);
        if let Err(e) = state
            .blobs
            .abort_multipart(&key, &MultipartId(id.clone()))
            .await
        {
            tracing::warn!(error = %e, upload = %upload.id, "dropping the parts of an upload of an already stored photo failed");
        }
    }
    state
        .store
        .set_photo_upload_status(
            upload.tenant_id,
            upload.id,
            UploadStatus::Uploading,
            UploadStatus::Stored,
            Timestamp::now(),
        )
        .await?;
    state.metrics.record_photo_upload("already_stored");
    Ok(stored_answer(
        &upload.sha256,
        has_thumbnail(state, upload.tenant_id, &upload.sha256).await?,
    ))
}

/// The stored bytes are not the declared photo: delete them, fail the upload, answer 422.
async fn reject(state: &AppState, upload: &PhotoUpload, why: String) -> ApiError {
    let key = BlobKey::photo(upload.tenant_id, &upload.sha256);
    tracing::warn!(upload = %upload.id, sha256 = %upload.sha256, why = %why, "upload failed verification");
    // Never delete the bytes of a recorded photo (a concurrent upload may have completed).
    match state
        .store
        .get_photo(upload.tenant_id, &upload.sha256)
        .await
    {
        Ok(None) => {
            if let Err(e) = state.blobs.delete(&key).await {
                tracing::error!(error = %e, key = %key, "deleting bytes that failed verification failed");
            }
        }
        Ok(Some(_)) => {}
        Err(e) => tracing::error!(error = %e, "checking the photo before deleting failed bytes"),
    }
    if let Err(e) = state
        .store
        .set_photo_upload_status(
            upload.tenant_id,
            upload.id,
            UploadStatus::Uploading,
            UploadStatus::Failed,
            Timestamp::now(),
        )
        .await
    {
        tracing::error!(error = %e, upload = %upload.id, "marking the upload failed failed");
    }
    state.metrics.record_photo_upload("failed");
    ApiError::unprocessable(
        "checksum_mismatch",
        format!(
            "the stored bytes are not the declared photo ({why}); they were deleted: declare again"
        ),
    )
}
