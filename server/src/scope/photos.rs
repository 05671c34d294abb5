//! Who may see a photo. A SHA-256 names a photo; it grants nothing. A photo is visible to
//! the user who uploaded it, and to those who may read a visit whose reference to it grants
//! access (`photo_refs`, docs/read-scopes.md "Photos"); also, while it is not stored yet, to
//! the user uploading it.

use fieldsync_shared::Sha256;

use crate::auth::Principal;
use crate::http::{ApiError, ApiResult};
use crate::store::photos::PhotoMeta;
use crate::store::Store;

fn invalid_sha256() -> ApiError {
    ApiError::bad_request(
        "invalid_sha256",
        "a photo is named by 64 hex digits (its SHA-256)",
    )
}

/// Parses a SHA-256 in canonical form: 64 lower- or upper-case hex digits.
pub fn parse_sha256(raw: &str) -> ApiResult<Sha256> {
    if raw.len() != 64 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid_sha256());
    }
    Sha256::parse(raw).map_err(|e| ApiError::bad_request("invalid_sha256", e.to_string()))
}

/// `Some(metadata if stored)` when the principal may see the photo, stored or not yet: they
/// uploaded it, a visit in their read scope references it with a reference that grants access
/// (what makes a supervisor see the thumbnails of a visit whose photos are still on the
/// phone), or they declared an open upload of it. `None` otherwise.
pub async fn photo_access(
    store: &dyn Store,
    principal: &Principal,
    sha: &Sha256,
) -> ApiResult<Option<Option<PhotoMeta>>> {
    let tenant = principal.tenant_id;
    let meta = store.get_photo(tenant, sha).await?;
    if meta
        .as_ref()
        .is_some_and(|m| m.uploaded_by == principal.user_id)
    {
        return Ok(Some(meta));
    }
    let scope = super::read_scope(store, principal).await?;
    let visible = scope.visibility();
    if store.photo_visible(tenant, sha, visible.as_ref()).await? {
        return Ok(Some(meta));
    }
    match store
        .find_open_photo_upload(tenant, sha, principal.user_id)
        .await?
    {
        Some(_) => Ok(Some(meta)),
        None => Ok(None),
    }
}
