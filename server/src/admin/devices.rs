//! `/v1/admin/devices`: the registered devices (app installations) of the tenant, and their
//! revocation. Revoking a device ends every session on it at once: its access tokens are
//! refused from the next request on and its refresh tokens no longer exchange.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use fieldsync_shared::{DeviceId, UserId};

use super::{path_id, require_admin};
use crate::auth::Principal;
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::devices::DeviceRecord;
use crate::store::StoreError;

/// Most devices one listing returns.
pub const MAX_DEVICES_PER_LIST: u32 = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/devices", get(list_devices))
        .route("/v1/admin/devices/{id}/revoke", post(revoke_device))
}

/// A registered device as the administration sees it. Times are Unix milliseconds.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdminDevice {
    #[schema(value_type = String, format = Uuid)]
    pub id: DeviceId,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    /// The Automerge actor bound to the device (hex): changes under it came from it.
    pub actor_id: String,
    pub name: String,
    pub platform: String,
    pub registered_at: i64,
    /// Last sign-in or token refresh.
    pub last_seen_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<DeviceRecord> for AdminDevice {
    fn from(d: DeviceRecord) -> Self {
        AdminDevice {
            id: d.id,
            user_id: d.user_id,
            actor_id: d.actor.to_hex_string(),
            name: d.name,
            platform: d.platform,
            registered_at: d.registered_at.millis(),
            last_seen_at: d.last_seen_at.millis(),
            revoked_at: d.revoked_at.map(|t| t.millis()),
        }
    }
}

/// `GET /v1/admin/devices` answer.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeviceList {
    /// Most recently registered first.
    pub devices: Vec<AdminDevice>,
    /// More devices match than `limit`: narrow the listing with `user`.
    pub truncated: bool,
}

/// `GET /v1/admin/devices` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeviceQuery {
    /// Only this user's devices.
    #[param(value_type = Option<String>, format = Uuid)]
    pub user: Option<Uuid>,
    /// At most this many devices (1 to 1000, default 1000).
    pub limit: Option<u32>,
}

/// The tenant's devices.
#[utoipa::path(get, path = "/v1/admin/devices", tag = "admin", security(("bearer" = [])),
    params(DeviceQuery),
    responses(
        (status = 200, description = "Devices, most recently registered first", body = DeviceList),
        (status = 400, description = "`invalid_query`: unknown parameter, `user` not a UUID or `limit` out of range", body = crate::http::ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip(state, principal, query), fields(tenant = %principal.tenant_id))]
pub async fn list_devices(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<DeviceQuery>, QueryRejection>,
) -> ApiResult<Json<DeviceList>> {
    require_admin(&principal)?;
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(MAX_DEVICES_PER_LIST);
    if !(1..=MAX_DEVICES_PER_LIST).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1 to {MAX_DEVICES_PER_LIST}"),
        ));
    }
    let mut devices = state
        .store
        .list_devices(principal.tenant_id, q.user.map(UserId), limit + 1)
        .await?;
    let truncated = devices.len() > limit as usize;
    devices.truncate(limit as usize);
    Ok(Json(DeviceList {
        devices: devices.into_iter().map(AdminDevice::from).collect(),
        truncated,
    }))
}

/// Revokes a device and every session on it (idempotent). Its local data stays on the phone;
/// it can sign in again only as a new installation.
#[utoipa::path(post, path = "/v1/admin/devices/{id}/revoke", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device id")),
    responses(
        (status = 200, description = "The revoked device", body = AdminDevice),
        (status = 403, description = "`forbidden`: not an administrator", body = crate::http::ErrorBody),
        (status = 404, description = "`not_found` (also for another tenant's device)", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn revoke_device(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminDevice>> {
    require_admin(&principal)?;
    let id = DeviceId(path_id(&id, "device")?);
    let device = state
        .store
        .revoke_device(principal.tenant_id, id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => ApiError::NotFound("device"),
            other => other.into(),
        })?;
    tracing::info!(device = %device.id, user = %device.user_id, by = %principal.user_id, "device revoked");
    Ok(Json(device.into()))
}
