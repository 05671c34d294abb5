//! `/v1/admin/territories`: the stores a set of reps and merchandisers cover.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use fieldsync_shared::master::Role;
use fieldsync_shared::{StoreId, TenantId, UserId};

use super::teams::check_user_role;
use super::{path_id, require_admin};
use crate::auth::Principal;
use crate::http::body::body_error;
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::organisation::Territory;
use crate::store::{Store, StoreError};
use fieldsync_shared::values::Name;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/admin/territories",
            get(list_territories).post(create_territory),
        )
        .route(
            "/v1/admin/territories/{id}",
            get(get_territory).patch(update_territory),
        )
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TerritoryView {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Vec<String>)]
    pub store_ids: Vec<StoreId>,
    /// The reps and merchandisers who cover these stores.
    #[schema(value_type = Vec<String>)]
    pub user_ids: Vec<UserId>,
}

impl From<Territory> for TerritoryView {
    fn from(t: Territory) -> Self {
        TerritoryView {
            id: t.id,
            name: t.name,
            store_ids: t.store_ids,
            user_ids: t.user_ids,
        }
    }
}

/// `POST /v1/admin/territories`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTerritory {
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    pub name: Name,
    #[schema(value_type = Vec<uuid::Uuid>)]
    #[serde(default)]
    pub store_ids: Vec<StoreId>,
    #[schema(value_type = Vec<uuid::Uuid>)]
    #[serde(default)]
    pub user_ids: Vec<UserId>,
}

/// `PATCH /v1/admin/territories/{id}`: absent fields unchanged; lists replace.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTerritory {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    #[serde(default)]
    pub name: Option<Name>,
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    #[serde(default)]
    pub store_ids: Option<Vec<StoreId>>,
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    #[serde(default)]
    pub user_ids: Option<Vec<UserId>>,
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v.dedup();
    v
}

async fn check_users(store: &dyn Store, tenant: TenantId, users: &[UserId]) -> ApiResult<()> {
    for u in users {
        check_user_role(
            store,
            tenant,
            *u,
            &[Role::Rep, Role::Merchandiser],
            "rep or merchandiser",
        )
        .await?;
    }
    Ok(())
}

/// Store-level refusals: a store or user of another tenant is `not_found`.
fn stored(e: StoreError, name: &str) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::Conflict {
            reason: "already_exists",
            message: format!("a territory named `{name}` already exists"),
        },
        other => other.into(),
    }
}

#[utoipa::path(get, path = "/v1/admin/territories", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Territories by name", body = Vec<TerritoryView>),
              (status = 403, description = "`forbidden`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn list_territories(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<TerritoryView>>> {
    require_admin(&principal)?;
    let list = state.store.list_territories(principal.tenant_id).await?;
    Ok(Json(list.into_iter().map(TerritoryView::from).collect()))
}

#[utoipa::path(post, path = "/v1/admin/territories", tag = "admin", security(("bearer" = [])),
    request_body = CreateTerritory,
    responses((status = 201, description = "Created", body = TerritoryView),
              (status = 404, description = "`not_found`: a store or user", body = crate::http::ErrorBody),
              (status = 409, description = "`already_exists`", body = crate::http::ErrorBody),
              (status = 422, description = "`invalid_body`, `invalid_role`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal, body), fields(tenant = %principal.tenant_id))]
pub async fn create_territory(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<CreateTerritory>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<TerritoryView>)> {
    require_admin(&principal)?;
    let Json(req) = body.map_err(body_error)?;
    let tenant = principal.tenant_id;
    let user_ids = sorted(req.user_ids);
    check_users(state.store.as_ref(), tenant, &user_ids).await?;
    let territory = Territory {
        id: Uuid::new_v4(),
        tenant_id: tenant,
        name: req.name.as_str().to_string(),
        store_ids: sorted(req.store_ids),
        user_ids,
    };
    state
        .store
        .create_territory(&territory)
        .await
        .map_err(|e| stored(e, &territory.name))?;
    Ok((StatusCode::CREATED, Json(territory.into())))
}

#[utoipa::path(get, path = "/v1/admin/territories/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Territory id")),
    responses((status = 200, description = "The territory", body = TerritoryView),
              (status = 404, description = "`not_found`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn get_territory(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<TerritoryView>> {
    require_admin(&principal)?;
    let id = path_id(&id, "territory")?;
    let t = state.store.get_territory(principal.tenant_id, id).await?;
    Ok(Json(t.ok_or(ApiError::NotFound("territory"))?.into()))
}

#[utoipa::path(patch, path = "/v1/admin/territories/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Territory id")),
    request_body = UpdateTerritory,
    responses((status = 200, description = "Updated", body = TerritoryView),
              (status = 404, description = "`not_found`", body = crate::http::ErrorBody),
              (status = 409, description = "`already_exists`", body = crate::http::ErrorBody),
              (status = 422, description = "`invalid_body`, `invalid_role`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal, body), fields(tenant = %principal.tenant_id))]
pub async fn update_territory(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Json<UpdateTerritory>, JsonRejection>,
) -> ApiResult<Json<TerritoryView>> {
    require_admin(&principal)?;
    let id = path_id(&id, "territory")?;
    let Json(req) = body.map_err(body_error)?;
    let tenant = principal.tenant_id;
    let mut t = state
        .store
        .get_territory(tenant, id)
        .await?
        .ok_or(ApiError::NotFound("territory"))?;
    if let Some(name) = req.name {
        t.name = name.as_str().to_string();
    }
    if let Some(stores) = req.store_ids {
        t.store_ids = sorted(stores);
    }
    if let Some(users) = req.user_ids {
        let users = sorted(users);
        check_users(state.store.as_ref(), tenant, &users).await?;
        t.user_ids = users;
    }
    state
        .store
        .update_territory(&t)
        .await
        .map_err(|e| stored(e, &t.name))?;
    Ok(Json(t.into()))
}
