//! `GET /v1/master?since=N`: stores, products and credit snapshots changed after version `N`,
//! delivered read-only to devices for offline rule evaluation.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use fieldsync_shared::master::MasterDataPage;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MasterQuery {
    /// The `version` of the last page received; 0 (default) for everything.
    #[serde(default)]
    pub since: i64,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/master", get(master_page))
}

/// Master data changed after `since`.
#[utoipa::path(
    get,
    path = "/v1/master",
    tag = "master data",
    security(("bearer" = [])),
    params(MasterQuery),
    responses(
        (status = 200, description = "Rows with version > since; pass `version` back as `since` next time", body = crate::openapi::MasterDataPageSchema),
        (status = 400, description = "`invalid_query`", body = crate::error::ErrorBody),
        (status = 401, description = "`unauthorized`", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, principal, query), fields(tenant = %principal.tenant_id))]
pub async fn master_page(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<MasterQuery>, QueryRejection>,
) -> ApiResult<Json<MasterDataPage>> {
    let Query(q) = query?;
    let page = state
        .store
        .master_page(principal.tenant_id, q.since)
        .await?;
    Ok(Json(page))
}
