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
//!
//! One file per step: `declare` (declaring, resuming or replacing an upload), `send` (the
//! bytes: presigned part requests, parts and whole photos through this server), `status`
//! (where an upload stands) and `complete` (verifying and recording the photo). The lookups
//! and checks the steps share are here. Every step receives its upload through
//! [`crate::scope::named::OwnUpload`]: an upload is its declaring user's alone.

mod complete;
mod declare;
mod send;
mod status;

pub use complete::{complete, CompleteAnswer};
pub use declare::{declare, DeclareAnswer, DeclareUpload};
pub use send::{part_url, put_content, put_part, PartQuery, PartUrl, PutPartQuery};
pub use status::{get_upload, UploadState};
// The OpenAPI description (`super::PhotosApi`) names each handler by the item
// `#[utoipa::path]` generates next to it.
pub use complete::__path_complete;
pub use declare::__path_declare;
pub use send::{__path_part_url, __path_put_content, __path_put_part};
pub use status::__path_get_upload;

use fieldsync_shared::Timestamp;

use crate::blobs::{BlobKey, MultipartId};
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::photos::{PhotoUpload, UploadMode, UploadStatus};

fn closed(upload: &PhotoUpload) -> ApiError {
    ApiError::Conflict {
        reason: "upload_closed",
        message: format!(
            "this upload is {}; declare the photo again",
            upload.status.as_str()
        ),
    }
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

/// `upload` if it is still open (`uploading`), else 409 `upload_closed`.
fn still_open(upload: PhotoUpload) -> ApiResult<PhotoUpload> {
    if upload.status != UploadStatus::Uploading {
        return Err(closed(&upload));
    }
    Ok(upload)
}
