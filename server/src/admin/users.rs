//! `/v1/admin/users`: list, create, read and update users (role, team, code, name, password).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use fieldsync_shared::master::{Role, UserProfile};
use fieldsync_shared::{PersonCode, TenantId, UserId};

use super::{double_option, path_id, require_admin, Password, Username};
use crate::auth::{self, Principal};
use crate::http::body::body_error;
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::devices::RevokeReason;
use crate::store::organisation::OrgUser;
use crate::store::{Store, StoreError};
use fieldsync_shared::values::Name;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/users", get(list_users).post(create_user))
        .route("/v1/admin/users/{id}", get(get_user).patch(update_user))
}

/// A user as the administration sees it. There is no password field, ever.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdminUser {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// merchandiser, rep, supervisor, manager or admin.
    #[schema(value_type = String, example = "rep", pattern = "^(rep|merchandiser|supervisor|manager|admin)$")]
    pub role: Role,
    #[schema(value_type = String, example = "R001")]
    pub code: PersonCode,
    /// The team the user is a member of (reps and merchandisers).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub team_id: Option<Uuid>,
}

impl From<OrgUser> for AdminUser {
    fn from(u: OrgUser) -> Self {
        AdminUser {
            id: u.profile.id,
            username: u.profile.username,
            display_name: u.profile.display_name,
            role: u.profile.role,
            code: u.profile.code,
            team_id: u.team_id,
        }
    }
}

/// `POST /v1/admin/users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(value_type = String, min_length = 1, max_length = 64)]
    pub username: Username,
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    pub display_name: Name,
    #[schema(value_type = String, example = "rep", pattern = "^(rep|merchandiser|supervisor|manager|admin)$")]
    pub role: Role,
    #[schema(value_type = String, example = "R003")]
    pub code: PersonCode,
    /// At least 8 characters. Without one the user cannot sign in until a password is set
    /// with `PATCH /v1/admin/users/{id}`.
    #[schema(value_type = Option<String>, min_length = 8)]
    #[serde(default)]
    pub password: Option<Password>,
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default)]
    pub team_id: Option<Uuid>,
}

/// `PATCH /v1/admin/users/{id}`: absent fields are left alone; `"team_id": null` removes the
/// user from their team.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    #[serde(default)]
    pub display_name: Option<Name>,
    #[schema(value_type = Option<String>, pattern = "^(rep|merchandiser|supervisor|manager|admin)$")]
    #[serde(default)]
    pub role: Option<Role>,
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub code: Option<PersonCode>,
    #[schema(value_type = Option<String>, min_length = 8)]
    #[serde(default)]
    pub password: Option<Password>,
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default, deserialize_with = "double_option")]
    pub team_id: Option<Option<Uuid>>,
}

/// Only reps and merchandisers are team members.
pub fn check_member_role(username: &str, role: Role) -> Result<(), ApiError> {
    match role {
        Role::Rep | Role::Merchandiser => Ok(()),
        other => Err(ApiError::unprocessable(
            "invalid_member",
            format!(
                "`{username}` is a {}: only reps and merchandisers are team or territory members",
                other.as_str()
            ),
        )),
    }
}

/// 404 unless the team is this tenant's.
async fn check_team(store: &dyn Store, tenant: TenantId, team: Option<Uuid>) -> ApiResult<()> {
    if let Some(team) = team {
        if store.get_team(tenant, team).await?.is_none() {
            return Err(ApiError::NotFound("team"));
        }
    }
    Ok(())
}

/// Username or code taken: 409 naming both candidates.
fn taken(e: StoreError, username: &str, code: &PersonCode) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::Conflict {
            reason: "already_exists",
            message: format!("a user named `{username}` or with code `{code}` already exists"),
        },
        other => other.into(),
    }
}

/// Every user of the tenant.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "Users by username", body = Vec<AdminUser>),
        (status = 403, description = "`forbidden`: not an administrator", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<AdminUser>>> {
    require_admin(&principal)?;
    let users = state.store.list_org_users(principal.tenant_id).await?;
    Ok(Json(users.into_iter().map(AdminUser::from).collect()))
}

/// Creates a user.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = AdminUser),
        (status = 403, description = "`forbidden`", body = crate::http::ErrorBody),
        (status = 404, description = "`not_found`: the team is not this tenant's", body = crate::http::ErrorBody),
        (status = 409, description = "`already_exists`: username or code taken", body = crate::http::ErrorBody),
        (status = 422, description = "`invalid_body` (unknown field, invalid value), `invalid_member`", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip(state, principal, body), fields(tenant = %principal.tenant_id))]
pub async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<CreateUser>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<AdminUser>)> {
    require_admin(&principal)?;
    let Json(req) = body.map_err(body_error)?;
    if req.team_id.is_some() {
        check_member_role(req.username.as_str(), req.role)?;
    }
    check_team(state.store.as_ref(), principal.tenant_id, req.team_id).await?;
    let hash = match &req.password {
        Some(p) => auth::hash_password(p.expose().to_string()).await?,
        None => super::unusable_password_hash().await?,
    };
    let profile = UserProfile {
        id: UserId::new_random(),
        tenant_id: principal.tenant_id,
        username: req.username.as_str().to_string(),
        display_name: req.display_name.as_str().to_string(),
        role: req.role,
        code: req.code.clone(),
    };
    state
        .store
        .create_org_user(&profile, &hash, req.team_id)
        .await
        .map_err(|e| taken(e, &profile.username, &profile.code))?;
    tracing::info!(user = %profile.id, username = %profile.username, "user created");
    Ok((
        StatusCode::CREATED,
        Json(AdminUser::from(OrgUser {
            profile,
            team_id: req.team_id,
        })),
    ))
}

/// One user.
#[utoipa::path(get, path = "/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = AdminUser),
        (status = 404, description = "`not_found` (also for another tenant's user)", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn get_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminUser>> {
    require_admin(&principal)?;
    let id = UserId(path_id(&id, "user")?);
    match state.store.get_org_user(principal.tenant_id, id).await? {
        Some(u) => Ok(Json(u.into())),
        None => Err(ApiError::NotFound("user")),
    }
}

/// Changes a user's name, role, code, team or password. A new password ends every session of
/// the user (all their devices sign in again; their local work is kept).
#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The updated user", body = AdminUser),
        (status = 404, description = "`not_found`: user or team", body = crate::http::ErrorBody),
        (status = 409, description = "`already_exists`: code taken", body = crate::http::ErrorBody),
        (status = 422, description = "`invalid_body`, `invalid_member`", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip(state, principal, body), fields(tenant = %principal.tenant_id))]
pub async fn update_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Json<UpdateUser>, JsonRejection>,
) -> ApiResult<Json<AdminUser>> {
    require_admin(&principal)?;
    let id = UserId(path_id(&id, "user")?);
    let Json(req) = body.map_err(body_error)?;
    let mut user = state
        .store
        .get_org_user(principal.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if let Some(name) = req.display_name {
        user.profile.display_name = name.as_str().to_string();
    }
    if let Some(role) = req.role {
        user.profile.role = role;
    }
    if let Some(code) = req.code {
        user.profile.code = code;
    }
    if let Some(team) = req.team_id {
        check_team(state.store.as_ref(), principal.tenant_id, team).await?;
        user.team_id = team;
    }
    if user.team_id.is_some() {
        check_member_role(&user.profile.username, user.profile.role)?;
    }
    let hash = match &req.password {
        Some(p) => Some(auth::hash_password(p.expose().to_string()).await?),
        None => None,
    };
    state
        .store
        .update_org_user(&user, hash.as_deref())
        .await
        .map_err(|e| taken(e, &user.profile.username, &user.profile.code))?;
    // A new password (lost phone, leaver) must lock out whoever holds the old sessions; the
    // devices stay registered, so the user signs in again on them and unsynced work is sent.
    // Role and team changes need nothing here: device sessions read both per request.
    let sessions_revoked = match &hash {
        Some(_) => state
            .store
            .revoke_user_sessions(principal.tenant_id, id, RevokeReason::PasswordChanged)
            .await
            // The answer is an error, so the administrator sends the change again.
            .inspect_err(|e| {
                tracing::error!(user = %id, error = %e, "password changed but its sessions not ended")
            })?,
        None => 0,
    };
    tracing::info!(user = %user.profile.id, password_changed = hash.is_some(), sessions_revoked,
        "user updated");
    Ok(Json(user.into()))
}
