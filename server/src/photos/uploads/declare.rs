//! Declaring an upload: a photo the server has needs nothing sent, an open upload of it is
//! resumed, one too old or declared differently is replaced by a new one.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use fieldsync_shared::{Sha256, Timestamp};

use super::retire;
use crate::auth::Principal;
use crate::blobs::{BlobKey, MultipartId, PresignedRequest};
use crate::http::body::{drain_rest, receive_limited};
use crate::http::{ApiError, ApiResult};
use crate::photos::{allowed_content_type, parse_sha256_str, too_large, MAX_PARTS};
use crate::state::AppState;
use crate::store::photos::{PhotoUpload, UploadMode, UploadStatus};

/// Largest JSON body of a declaration.
pub(super) const MAX_DECLARE_BODY_BYTES: u64 = 16 * 1024;

/// `POST /v1/photos/uploads` body.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeclareUpload {
    /// SHA-256 of the whole photo, 64 hex digits.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub sha256: String,
    #[schema(minimum = 1)]
    pub size_bytes: u64,
    /// image/jpeg, image/png, image/webp or image/heic.
    #[schema(pattern = "^image/(jpeg|png|webp|heic)$")]
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
        (status = 201, description = "`status: upload`: send the bytes as described, then complete. Declaring the same photo again while the upload is open returns the same `upload_id`; another person declaring it gets an upload of their own", body = DeclareAnswer),
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
    // Three rounds at most: a concurrent declaration of the same photo by the same person wins
    // the insert, and the next round returns its upload.
    for _ in 0..3 {
        if state.store.get_photo(tenant, &sha).await?.is_some() {
            // Someone else's upload got there first: close ours, if one is open.
            if let Some(open) = state
                .store
                .find_open_photo_upload(tenant, &sha, principal.user_id)
                .await?
            {
                super::complete::close_as_stored(&state, &open).await?;
            }
            let answer = DeclareAnswer::Stored {
                sha256: sha.to_hex(),
            };
            return Ok((StatusCode::OK, Json(answer)).into_response());
        }
        // Only the declarer's own open upload is resumed: another person attaching the same
        // bytes uploads them under an upload of their own (an upload is its declarer's alone,
        // `scope::named::OwnUpload`), instead of waiting for a phone that may not come back.
        if let Some(open) = state
            .store
            .find_open_photo_upload(tenant, &sha, principal.user_id)
            .await?
        {
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
