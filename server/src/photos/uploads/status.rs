//! Where an upload stands (`GET /v1/photos/uploads/{upload_id}`) and which parts the store
//! already holds, so a resuming device sends only the others.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{expected_part_size, multipart_id};
use crate::blobs::BlobKey;
use crate::http::ApiResult;
use crate::scope::named::{InScope, OwnUpload};
use crate::state::AppState;
use crate::store::photos::{PhotoUpload, UploadMode, UploadStatus};

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

/// Parts (numbers) the store holds with their expected size.
pub(super) async fn stored_parts(state: &AppState, upload: &PhotoUpload) -> ApiResult<Vec<u32>> {
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
        (status = 404, description = "No upload of the caller's with this id", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %upload.principal.tenant_id))]
pub async fn get_upload(
    State(state): State<AppState>,
    upload: InScope<OwnUpload>,
) -> ApiResult<Json<UploadState>> {
    let OwnUpload(upload) = upload.object;
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
