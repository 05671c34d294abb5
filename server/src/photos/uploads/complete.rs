//! Completing an upload: assembling the parts, reading back what the store holds, checking
//! size and SHA-256 against the declaration, then making the thumbnail and recording the
//! photo; bytes that fail the check are deleted and the upload is failed.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};

use fieldsync_shared::{Sha256, TenantId, Timestamp};

use super::declare::MAX_DECLARE_BODY_BYTES;
use super::status::stored_parts;
use super::{closed, multipart_id};
use crate::blobs::{BlobKey, MultipartId};
use crate::http::body::drain_rest;
use crate::http::{ApiError, ApiResult};
use crate::photos::thumbnails;
use crate::scope::named::{InScope, OwnUpload};
use crate::state::AppState;
use crate::store::photos::{PhotoMeta, PhotoUpload, UploadMode, UploadStatus};

/// `POST /v1/photos/uploads/{upload_id}/complete` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompleteAnswer {
    /// `stored`
    pub status: String,
    pub sha256: String,
    /// Whether `GET /v1/photos/{sha256}/thumbnail` has a thumbnail.
    pub thumbnail: bool,
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
        (status = 404, description = "No upload of the caller's with this id", body = crate::http::ErrorBody),
        (status = 409, description = "`upload_incomplete`: parts (or the photo) missing, GET the upload to see which; `upload_closed`: failed or expired, declare again", body = crate::http::ErrorBody),
        (status = 422, description = "`checksum_mismatch`: the stored bytes are not the declared photo; they were deleted and the upload is failed: declare again", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = tracing::field::Empty))]
pub async fn complete(
    State(state): State<AppState>,
    upload: Result<InScope<OwnUpload>, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<CompleteAnswer>> {
    // No body is expected, but clients send an empty one (some chunked): read it away, or the
    // connection could not be reused and the client's next request would fail.
    let mut body = body;
    drain_rest(&headers, &mut body, MAX_DECLARE_BODY_BYTES).await;
    let OwnUpload(upload) = upload?.object;
    tracing::Span::current().record("tenant", tracing::field::display(upload.tenant_id));
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
    close_as_stored(state, upload).await?;
    Ok(stored_answer(
        &upload.sha256,
        has_thumbnail(state, upload.tenant_id, &upload.sha256).await?,
    ))
}

/// Closes an open upload of a photo someone else's upload recorded first, dropping its parts.
pub(super) async fn close_as_stored(state: &AppState, upload: &PhotoUpload) -> ApiResult<()> {
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
    Ok(())
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
