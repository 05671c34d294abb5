//! `/v1/admin/regions` (a manager's region) and `/v1/admin/teams` (a supervisor's reps and
//! merchandisers, in a region).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use fieldsync_shared::master::Role;
use fieldsync_shared::{TenantId, UserId};

use super::users::check_member_role;
use super::{double_option, path_id, require_admin};
use crate::auth::Principal;
use crate::http::body::body_error;
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::organisation::{Region, Team};
use crate::store::{Store, StoreError};
use fieldsync_shared::values::Name;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/regions", get(list_regions).post(create_region))
        .route(
            "/v1/admin/regions/{id}",
            get(get_region).patch(update_region),
        )
        .route("/v1/admin/teams", get(list_teams).post(create_team))
        .route("/v1/admin/teams/{id}", get(get_team).patch(update_team))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegionView {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub manager_id: Option<UserId>,
}

impl From<Region> for RegionView {
    fn from(r: Region) -> Self {
        RegionView {
            id: r.id,
            name: r.name,
            manager_id: r.manager_id,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamView {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub supervisor_id: Option<UserId>,
    pub region_id: Option<Uuid>,
    #[schema(value_type = Vec<String>)]
    pub member_ids: Vec<UserId>,
}

impl From<Team> for TeamView {
    fn from(t: Team) -> Self {
        TeamView {
            id: t.id,
            name: t.name,
            supervisor_id: t.supervisor_id,
            region_id: t.region_id,
            member_ids: t.members,
        }
    }
}

/// `POST /v1/admin/regions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRegion {
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    pub name: Name,
    /// A user with role `manager`.
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default)]
    pub manager_id: Option<UserId>,
}

/// `PATCH /v1/admin/regions/{id}`: absent fields unchanged, `"manager_id": null` clears.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRegion {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    #[serde(default)]
    pub name: Option<Name>,
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default, deserialize_with = "double_option")]
    pub manager_id: Option<Option<UserId>>,
}

/// `POST /v1/admin/teams`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    pub name: Name,
    /// A user with role `supervisor`.
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default)]
    pub supervisor_id: Option<UserId>,
    #[serde(default)]
    pub region_id: Option<Uuid>,
    /// Reps and merchandisers; each leaves any other team.
    #[schema(value_type = Vec<uuid::Uuid>)]
    #[serde(default)]
    pub member_ids: Vec<UserId>,
}

/// `PATCH /v1/admin/teams/{id}`: absent fields unchanged; `member_ids` replaces the members.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    #[serde(default)]
    pub name: Option<Name>,
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default, deserialize_with = "double_option")]
    pub supervisor_id: Option<Option<UserId>>,
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default, deserialize_with = "double_option")]
    pub region_id: Option<Option<Uuid>>,
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    #[serde(default)]
    pub member_ids: Option<Vec<UserId>>,
}

/// 404 unless the user is this tenant's; 422 unless they have one of `roles`.
pub async fn check_user_role(
    store: &dyn Store,
    tenant: TenantId,
    user: UserId,
    roles: &[Role],
    what: &str,
) -> ApiResult<()> {
    let u = store
        .get_org_user(tenant, user)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if !roles.contains(&u.profile.role) {
        return Err(ApiError::unprocessable(
            "invalid_role",
            format!(
                "`{}` is a {}, not a {what}",
                u.profile.username,
                u.profile.role.as_str()
            ),
        ));
    }
    Ok(())
}

async fn check_members(store: &dyn Store, tenant: TenantId, members: &[UserId]) -> ApiResult<()> {
    for m in members {
        let u = store
            .get_org_user(tenant, *m)
            .await?
            .ok_or(ApiError::NotFound("user"))?;
        check_member_role(&u.profile.username, u.profile.role)?;
    }
    Ok(())
}

fn name_taken(e: StoreError, what: &str, name: &str) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::Conflict {
            reason: "already_exists",
            message: format!("a {what} named `{name}` already exists"),
        },
        other => other.into(),
    }
}

fn dedup(mut ids: Vec<UserId>) -> Vec<UserId> {
    ids.sort();
    ids.dedup();
    ids
}

#[utoipa::path(get, path = "/v1/admin/regions", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Regions by name", body = Vec<RegionView>),
              (status = 403, description = "`forbidden`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn list_regions(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<RegionView>>> {
    require_admin(&principal)?;
    let regions = state.store.list_regions(principal.tenant_id).await?;
    Ok(Json(regions.into_iter().map(RegionView::from).collect()))
}

#[utoipa::path(post, path = "/v1/admin/regions", tag = "admin", security(("bearer" = [])),
    request_body = CreateRegion,
    responses((status = 201, description = "Created", body = RegionView),
              (status = 404, description = "`not_found`: the manager", body = crate::http::ErrorBody),
              (status = 409, description = "`already_exists`", body = crate::http::ErrorBody),
              (status = 422, description = "`invalid_body`, `invalid_role`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal, body), fields(tenant = %principal.tenant_id))]
pub async fn create_region(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<CreateRegion>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<RegionView>)> {
    require_admin(&principal)?;
    let Json(req) = body.map_err(body_error)?;
    let tenant = principal.tenant_id;
    if let Some(m) = req.manager_id {
        check_user_role(state.store.as_ref(), tenant, m, &[Role::Manager], "manager").await?;
    }
    let region = Region {
        id: Uuid::new_v4(),
        tenant_id: tenant,
        name: req.name.as_str().to_string(),
        manager_id: req.manager_id,
    };
    state
        .store
        .create_region(&region)
        .await
        .map_err(|e| name_taken(e, "region", &region.name))?;
    Ok((StatusCode::CREATED, Json(region.into())))
}

#[utoipa::path(get, path = "/v1/admin/regions/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Region id")),
    responses((status = 200, description = "The region", body = RegionView),
              (status = 404, description = "`not_found`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn get_region(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<RegionView>> {
    require_admin(&principal)?;
    let id = path_id(&id, "region")?;
    let region = state.store.get_region(principal.tenant_id, id).await?;
    Ok(Json(region.ok_or(ApiError::NotFound("region"))?.into()))
}

#[utoipa::path(patch, path = "/v1/admin/regions/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Region id")),
    request_body = UpdateRegion,
    responses((status = 200, description = "Updated", body = RegionView),
              (status = 404, description = "`not_found`", body = crate::http::ErrorBody),
              (status = 409, description = "`already_exists`", body = crate::http::ErrorBody),
              (status = 422, description = "`invalid_body`, `invalid_role`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal, body), fields(tenant = %principal.tenant_id))]
pub async fn update_region(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Json<UpdateRegion>, JsonRejection>,
) -> ApiResult<Json<RegionView>> {
    require_admin(&principal)?;
    let id = path_id(&id, "region")?;
    let Json(req) = body.map_err(body_error)?;
    let tenant = principal.tenant_id;
    let mut region = state
        .store
        .get_region(tenant, id)
        .await?
        .ok_or(ApiError::NotFound("region"))?;
    if let Some(name) = req.name {
        region.name = name.as_str().to_string();
    }
    if let Some(manager) = req.manager_id {
        if let Some(m) = manager {
            check_user_role(state.store.as_ref(), tenant, m, &[Role::Manager], "manager").await?;
        }
        region.manager_id = manager;
    }
    state
        .store
        .update_region(&region)
        .await
        .map_err(|e| name_taken(e, "region", &region.name))?;
    Ok(Json(region.into()))
}

#[utoipa::path(get, path = "/v1/admin/teams", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Teams by name, with their members", body = Vec<TeamView>),
              (status = 403, description = "`forbidden`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn list_teams(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<TeamView>>> {
    require_admin(&principal)?;
    let teams = state.store.list_teams(principal.tenant_id).await?;
    Ok(Json(teams.into_iter().map(TeamView::from).collect()))
}

async fn check_team_refs(
    store: &dyn Store,
    tenant: TenantId,
    supervisor: Option<UserId>,
    region: Option<Uuid>,
    members: &[UserId],
) -> ApiResult<()> {
    if let Some(s) = supervisor {
        check_user_role(store, tenant, s, &[Role::Supervisor], "supervisor").await?;
    }
    if let Some(r) = region {
        if store.get_region(tenant, r).await?.is_none() {
            return Err(ApiError::NotFound("region"));
        }
    }
    check_members(store, tenant, members).await
}

#[utoipa::path(post, path = "/v1/admin/teams", tag = "admin", security(("bearer" = [])),
    request_body = CreateTeam,
    responses((status = 201, description = "Created", body = TeamView),
              (status = 404, description = "`not_found`: supervisor, region or member", body = crate::http::ErrorBody),
              (status = 409, description = "`already_exists`", body = crate::http::ErrorBody),
              (status = 422, description = "`invalid_body`, `invalid_role`, `invalid_member`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal, body), fields(tenant = %principal.tenant_id))]
pub async fn create_team(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<CreateTeam>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<TeamView>)> {
    require_admin(&principal)?;
    let Json(req) = body.map_err(body_error)?;
    let tenant = principal.tenant_id;
    let members = dedup(req.member_ids);
    check_team_refs(
        state.store.as_ref(),
        tenant,
        req.supervisor_id,
        req.region_id,
        &members,
    )
    .await?;
    let team = Team {
        id: Uuid::new_v4(),
        tenant_id: tenant,
        name: req.name.as_str().to_string(),
        supervisor_id: req.supervisor_id,
        region_id: req.region_id,
        members,
    };
    state
        .store
        .create_team(&team)
        .await
        .map_err(|e| name_taken(e, "team", &team.name))?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

#[utoipa::path(get, path = "/v1/admin/teams/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Team id")),
    responses((status = 200, description = "The team", body = TeamView),
              (status = 404, description = "`not_found`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn get_team(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<TeamView>> {
    require_admin(&principal)?;
    let id = path_id(&id, "team")?;
    let team = state.store.get_team(principal.tenant_id, id).await?;
    Ok(Json(team.ok_or(ApiError::NotFound("team"))?.into()))
}

#[utoipa::path(patch, path = "/v1/admin/teams/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Team id")),
    request_body = UpdateTeam,
    responses((status = 200, description = "Updated", body = TeamView),
              (status = 404, description = "`not_found`", body = crate::http::ErrorBody),
              (status = 409, description = "`already_exists`", body = crate::http::ErrorBody),
              (status = 422, description = "`invalid_body`, `invalid_role`, `invalid_member`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal, body), fields(tenant = %principal.tenant_id))]
pub async fn update_team(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Json<UpdateTeam>, JsonRejection>,
) -> ApiResult<Json<TeamView>> {
    require_admin(&principal)?;
    let id = path_id(&id, "team")?;
    let Json(req) = body.map_err(body_error)?;
    let tenant = principal.tenant_id;
    let mut team = state
        .store
        .get_team(tenant, id)
        .await?
        .ok_or(ApiError::NotFound("team"))?;
    if let Some(name) = req.name {
        team.name = name.as_str().to_string();
    }
    if let Some(s) = req.supervisor_id {
        team.supervisor_id = s;
    }
    if let Some(r) = req.region_id {
        team.region_id = r;
    }
    let new_members = req.member_ids.map(dedup);
    check_team_refs(
        state.store.as_ref(),
        tenant,
        req.supervisor_id.flatten(),
        req.region_id.flatten(),
        new_members.as_deref().unwrap_or(&[]),
    )
    .await?;
    if let Some(m) = new_members {
        team.members = m;
    }
    state
        .store
        .update_team(&team)
        .await
        .map_err(|e| name_taken(e, "team", &team.name))?;
    Ok(Json(team.into()))
}
