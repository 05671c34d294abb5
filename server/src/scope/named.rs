//! Objects a route names in its path, loaded only through the caller's read scope.
//!
//! [`InScope<T>`] is the one way an id-taking handler receives its object: the extractor
//! verifies the caller ([`Principal`]), reads the id from the path parameter `T` names, and
//! loads the object with the caller's tenant and scope. Absent, another tenant's and outside
//! the caller's scope are one answer, 404 `not_found`, so an id tells nobody whether the object
//! exists. No handler can forget the check: none receives the object without it.
//! `tests/e2e/security_ids.rs` calls every route of the OpenAPI description that takes an id
//! with other people's ids and expects exactly that.

use std::collections::HashMap;
use std::future::Future;

use axum::extract::{FromRef, FromRequestParts, Path};
use axum::http::request::Parts;
use fieldsync_shared::document::DocKind;
use fieldsync_shared::values::{DocId, StoreId};
use fieldsync_shared::Sha256;

use crate::auth::{Principal, Verifier};
use crate::http::{ApiError, ApiResult};
use crate::store::documents::ProjectedDocument;
use crate::store::photos::{PhotoMeta, PhotoUpload};
use crate::store::Store;

/// An object of type `T` that the caller may see, with the caller.
#[derive(Debug)]
pub struct InScope<T> {
    pub principal: Principal,
    pub object: T,
}

/// A kind of object routes name by id.
pub trait Named: Sized + Send {
    /// The path parameter that holds the id.
    const PARAM: &'static str;
    /// What the 404 names.
    const WHAT: &'static str;
    /// The object `raw` names if `principal` may see it; `None` otherwise (absent, another
    /// tenant's, out of scope). An id that does not parse is an error of its own (400) or
    /// `None`, as the kind chooses.
    fn load(
        store: &dyn Store,
        principal: &Principal,
        raw: &str,
    ) -> impl Future<Output = ApiResult<Option<Self>>> + Send;
}

impl<S, T> FromRequestParts<S> for InScope<T>
where
    S: Send + Sync,
    Verifier: FromRef<S>,
    T: Named,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(ApiError::from)?;
        let raw = params.get(T::PARAM).ok_or_else(|| {
            ApiError::internal(format!("the route has no path parameter {}", T::PARAM))
        })?;
        let store = Verifier::from_ref(state).store;
        let object = T::load(store.as_ref(), &principal, raw)
            .await?
            .ok_or(ApiError::NotFound(T::WHAT))?;
        Ok(InScope { principal, object })
    }
}

fn parse_doc_id(raw: &str) -> ApiResult<DocId> {
    DocId::parse(raw).map_err(|e| ApiError::bad_request("invalid_query", format!("id: {e}")))
}

/// The projection of a document of `kind` the principal may see.
async fn visible_projection(
    store: &dyn Store,
    principal: &Principal,
    kind: DocKind,
    id: DocId,
) -> ApiResult<Option<ProjectedDocument>> {
    let Some(row) = store.get_projected(principal.tenant_id, kind, id).await? else {
        return Ok(None);
    };
    let scope = super::read_scope(store, principal).await?;
    Ok(scope.can_see(row.store_id, row.person_id).then_some(row))
}

/// A store (`{id}`) of the caller's read scope (a store of another tenant is in no scope).
#[derive(Debug)]
pub struct VisibleStore(pub StoreId);

impl Named for VisibleStore {
    const PARAM: &'static str = "id";
    const WHAT: &'static str = "store";
    async fn load(store: &dyn Store, principal: &Principal, raw: &str) -> ApiResult<Option<Self>> {
        let id = StoreId::parse(raw)
            .map_err(|e| ApiError::bad_request("invalid_query", format!("id: {e}")))?;
        let scope = super::read_scope(store, principal).await?;
        if !scope.can_see_store(id) {
            return Ok(None);
        }
        // An admin's scope is the whole tenant: the store must still be one of its stores.
        let known = store.known_stores(principal.tenant_id, &[id]).await?;
        Ok(known.contains(&id).then_some(VisibleStore(id)))
    }
}

/// A visit (`{id}`) the caller may see, as projected for queries.
#[derive(Debug)]
pub struct VisibleVisit(pub ProjectedDocument);

impl Named for VisibleVisit {
    const PARAM: &'static str = "id";
    const WHAT: &'static str = "visit";
    async fn load(store: &dyn Store, principal: &Principal, raw: &str) -> ApiResult<Option<Self>> {
        let id = parse_doc_id(raw)?;
        Ok(visible_projection(store, principal, DocKind::Visit, id)
            .await?
            .map(VisibleVisit))
    }
}

/// An order (`{id}`) the caller may see, as projected for queries.
#[derive(Debug)]
pub struct VisibleOrder(pub ProjectedDocument);

impl Named for VisibleOrder {
    const PARAM: &'static str = "id";
    const WHAT: &'static str = "order";
    async fn load(store: &dyn Store, principal: &Principal, raw: &str) -> ApiResult<Option<Self>> {
        let id = parse_doc_id(raw)?;
        Ok(visible_projection(store, principal, DocKind::Order, id)
            .await?
            .map(VisibleOrder))
    }
}

/// A weekly plan (`{id}`) the caller may see (by its owner: a plan has no store).
#[derive(Debug)]
pub struct VisiblePlan(pub ProjectedDocument);

impl Named for VisiblePlan {
    const PARAM: &'static str = "id";
    const WHAT: &'static str = "plan";
    async fn load(store: &dyn Store, principal: &Principal, raw: &str) -> ApiResult<Option<Self>> {
        let id = parse_doc_id(raw)?;
        Ok(visible_projection(store, principal, DocKind::Plan, id)
            .await?
            .map(VisiblePlan))
    }
}

/// An expense (`{id}`) the caller may see (by its owner, like a plan).
#[derive(Debug)]
pub struct VisibleExpense(pub ProjectedDocument);

impl Named for VisibleExpense {
    const PARAM: &'static str = "id";
    const WHAT: &'static str = "expense";
    async fn load(store: &dyn Store, principal: &Principal, raw: &str) -> ApiResult<Option<Self>> {
        let id = parse_doc_id(raw)?;
        Ok(visible_projection(store, principal, DocKind::Expense, id)
            .await?
            .map(VisibleExpense))
    }
}

/// A document of any kind (`{id}`) the caller may see. Judged by its projection, so
/// nothing of a document outside the scope is loaded.
#[derive(Debug, Clone, Copy)]
pub struct VisibleDocument {
    pub id: DocId,
    pub kind: DocKind,
}

impl Named for VisibleDocument {
    const PARAM: &'static str = "id";
    const WHAT: &'static str = "document";
    async fn load(store: &dyn Store, principal: &Principal, raw: &str) -> ApiResult<Option<Self>> {
        let id = parse_doc_id(raw)?;
        for kind in DocKind::ALL.iter().copied() {
            if visible_projection(store, principal, kind, id)
                .await?
                .is_some()
            {
                return Ok(Some(VisibleDocument { id, kind }));
            }
        }
        Ok(None)
    }
}

/// A photo upload (`{upload_id}`) the caller declared: an upload belongs to the user who
/// declared it (any of their devices may resume it), nobody else.
#[derive(Debug)]
pub struct OwnUpload(pub PhotoUpload);

impl Named for OwnUpload {
    const PARAM: &'static str = "upload_id";
    const WHAT: &'static str = "upload";
    async fn load(store: &dyn Store, principal: &Principal, raw: &str) -> ApiResult<Option<Self>> {
        // A malformed id names no upload.
        let Ok(id) = uuid::Uuid::parse_str(raw) else {
            return Ok(None);
        };
        Ok(store
            .get_photo_upload(principal.tenant_id, id)
            .await?
            .filter(|u| u.created_by == principal.user_id)
            .map(OwnUpload))
    }
}

/// A photo (`{sha256}`) the caller may see, stored or not yet ([`super::photos`]); `meta` is
/// its metadata once stored.
#[derive(Debug)]
pub struct VisiblePhoto {
    pub sha256: Sha256,
    pub meta: Option<PhotoMeta>,
}

impl VisiblePhoto {
    /// The metadata of a stored photo; 404 while it is not stored.
    pub fn stored(&self) -> ApiResult<&PhotoMeta> {
        self.meta.as_ref().ok_or(ApiError::NotFound("photo"))
    }
}

impl Named for VisiblePhoto {
    const PARAM: &'static str = "sha256";
    const WHAT: &'static str = "photo";
    async fn load(store: &dyn Store, principal: &Principal, raw: &str) -> ApiResult<Option<Self>> {
        let sha256 = super::photos::parse_sha256(raw)?;
        Ok(super::photos::photo_access(store, principal, &sha256)
            .await?
            .map(|meta| VisiblePhoto { sha256, meta }))
    }
}
