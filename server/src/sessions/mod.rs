//! Sign-in endpoints: `POST /v1/auth/login` (with device registration), `POST
//! /v1/auth/refresh` (rotating refresh tokens), `POST /v1/auth/logout`, `GET /v1/me`.
//!
//! A login with a device registers it (or reuses it) and opens a session: a refresh token
//! family. Refresh tokens are 256 random bits, base64url, stored only as SHA-256 hashes; each
//! exchange returns a new access token and a new refresh token and uses the old one up.
//! Presenting a used refresh token again revokes the whole session (both holders of the
//! family lose it), except right after an exchange whose answer may have been lost (see
//! `DeviceStore::rotate_refresh_token`). A session ends at its maximum age
//! (`FIELDSYNC_SESSION_MAX_AGE_SECS`) however often it was refreshed: `session_expired`.
//! Ended sessions are deleted a while later ([`purge`]).

pub mod purge;

use std::fmt;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use uuid::Uuid;

use fieldsync_shared::master::UserProfile;
use fieldsync_shared::{DeviceId, Timestamp};

use crate::auth::{
    normalize_username, verify_password, ClientIp, IssuedToken, Principal, SESSION_EXPIRED_MESSAGE,
};
use crate::http::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::store::devices::{
    capped_expiry, DeviceRefusal, DeviceRegistration, NewRefreshToken, RefreshRefusal,
    RevokeReason, Rotation,
};

pub use purge::{purge_sessions_at, PurgeTask};

/// Longest device name, characters.
const MAX_DEVICE_NAME_CHARS: usize = 100;
/// Longest platform name, characters.
const MAX_PLATFORM_CHARS: usize = 32;
/// Largest actor id, bytes (devices use 16 random bytes).
const MAX_ACTOR_BYTES: usize = 32;

/// An error of the sign-in endpoints: an API error, or a refusal with a reason of its own
/// (`ApiError` has no 401 or 403 with a custom reason).
#[derive(Debug)]
pub enum AuthError {
    Api(ApiError),
    Refused {
        status: StatusCode,
        reason: &'static str,
        message: String,
    },
}

impl From<ApiError> for AuthError {
    fn from(e: ApiError) -> Self {
        AuthError::Api(e)
    }
}

impl From<JsonRejection> for AuthError {
    fn from(e: JsonRejection) -> Self {
        AuthError::Api(crate::http::body::body_error(e))
    }
}

impl From<crate::store::StoreError> for AuthError {
    fn from(e: crate::store::StoreError) -> Self {
        AuthError::Api(e.into())
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match self {
            AuthError::Api(e) => e.into_response(),
            AuthError::Refused {
                status,
                reason,
                message,
            } => {
                let mut resp = (
                    status,
                    Json(ErrorBody {
                        reason: reason.to_string(),
                        message,
                    }),
                )
                    .into_response();
                if status == StatusCode::UNAUTHORIZED {
                    resp.headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                resp
            }
        }
    }
}

fn refused(status: StatusCode, reason: &'static str, message: &str) -> AuthError {
    AuthError::Refused {
        status,
        reason,
        message: message.to_string(),
    }
}

/// The device part of a login: the app installation and the Automerge actor it writes with.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRegistrationBody {
    /// Generated once per installation.
    #[schema(value_type = String, format = Uuid)]
    pub device_id: DeviceId,
    /// The installation's Automerge actor id, hex (at most 32 bytes). Bound to this device for
    /// good: changes under it are accepted from this device only.
    #[schema(example = "6f1c0a4e2b9d4e8f9a1b2c3d4e5f6a7b")]
    pub actor_id: String,
    /// Shown to administrators, e.g. the phone's name. 1 to 100 characters.
    pub name: String,
    /// e.g. `android`, `ios`, `linux`. 1 to 32 characters of `a-z 0-9 . _ -`.
    pub platform: String,
}

/// `POST /v1/auth/login` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Tenant slug, e.g. `demo`.
    pub tenant: String,
    pub username: String,
    pub password: String,
    /// The device signing in. Without it the answer is an access token that cannot sync and
    /// no refresh token (for administration tools).
    #[serde(default)]
    pub device: Option<DeviceRegistrationBody>,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("tenant", &self.tenant)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("device", &self.device)
            .finish()
    }
}

/// `POST /v1/auth/login` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Exchange at `POST /v1/auth/refresh` for new tokens; `null` without a device. Use it
    /// once: every exchange returns the next one.
    pub refresh_token: Option<String>,
    /// Seconds until the refresh token expires; `null` without a device.
    pub refresh_expires_in: Option<u64>,
    /// The session (refresh token family); `null` without a device.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub session_id: Option<Uuid>,
    #[schema(value_type = UserProfileSchema)]
    pub user: UserProfile,
}

/// `POST /v1/auth/refresh` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshRequest([redacted])")
    }
}

/// `POST /v1/auth/refresh` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefreshResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_in: u64,
    /// The next refresh token; the one sent is used up.
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    #[schema(value_type = String, format = Uuid)]
    pub session_id: Uuid,
}

/// The tokens of a new or refreshed device session.
#[derive(Clone)]
pub struct SessionTokens {
    pub access: IssuedToken,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    pub session_id: Uuid,
}

impl fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionTokens")
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

/// This capability's part of the OpenAPI description.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(login, refresh, logout, me),
    components(schemas(
        LoginRequest,
        LoginResponse,
        DeviceRegistrationBody,
        RefreshRequest,
        RefreshResponse,
        UserProfileSchema
    ))
)]
pub struct SessionsApi;

// A documentation-only mirror (the shared crate has no utoipa dependency) that serialises the
// same way; it exists only for its schema.
#[allow(dead_code)]
/// `fieldsync_shared::master::UserProfile`.
#[derive(utoipa::ToSchema)]
#[schema(as = UserProfile)]
pub struct UserProfileSchema {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    tenant_id: String,
    username: String,
    display_name: String,
    /// merchandiser, rep, supervisor, manager or admin.
    #[schema(example = "rep")]
    role: String,
    /// Short code used in order numbers.
    #[schema(example = "R001")]
    code: String,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/me", get(me))
}

/// SHA-256 (hex) of a refresh token: what the database holds instead of the token.
pub fn refresh_token_hash(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// A new refresh token (256 random bits, base64url without padding) valid `ttl_secs` from
/// `now`, and what to store for it.
fn new_refresh_token(now: Timestamp, ttl_secs: u64) -> Result<(String, NewRefreshToken), ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(e.to_string()))?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let ttl_ms = i64::try_from(ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let stored = NewRefreshToken {
        hash: refresh_token_hash(&token),
        issued_at: now,
        expires_at: Timestamp(now.millis().saturating_add(ttl_ms)),
    };
    Ok((token, stored))
}

/// Checks the device part of a login and makes it a registration for `user`.
fn registration(
    body: &DeviceRegistrationBody,
    user: &UserProfile,
) -> Result<DeviceRegistration, ApiError> {
    let invalid = |m: String| ApiError::unprocessable("invalid_body", m);
    let hex = body.actor_id.trim();
    if hex.is_empty() || hex.len() > 2 * MAX_ACTOR_BYTES || !hex.len().is_multiple_of(2) {
        return Err(invalid(format!(
            "device.actor_id must be 1 to {MAX_ACTOR_BYTES} bytes in hex"
        )));
    }
    let actor = automerge::ActorId::try_from(hex)
        .map_err(|e| invalid(format!("device.actor_id is not hex: {e}")))?;
    if is_reserved_actor(&actor) {
        return Err(invalid("device.actor_id is reserved for the server".into()));
    }
    let name = fieldsync_shared::values::Name::parse(&body.name)
        .map_err(|e| invalid(format!("device.name: {e}")))?;
    if name.as_str().chars().count() > MAX_DEVICE_NAME_CHARS {
        return Err(invalid(format!(
            "device.name is longer than {MAX_DEVICE_NAME_CHARS} characters"
        )));
    }
    let platform = body.platform.trim();
    if platform.is_empty()
        || platform.len() > MAX_PLATFORM_CHARS
        || !platform
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(invalid(format!(
            "device.platform must be 1 to {MAX_PLATFORM_CHARS} characters of a-z 0-9 . _ -"
        )));
    }
    Ok(DeviceRegistration {
        id: body.device_id,
        tenant_id: user.tenant_id,
        user_id: user.id,
        actor,
        name: name.as_str().to_string(),
        platform: platform.to_ascii_lowercase(),
    })
}

/// Actors no device may hold: the server writes its compensating changes under its own.
fn is_reserved_actor(actor: &automerge::ActorId) -> bool {
    actor.to_bytes() == fieldsync_shared::document::SERVER_ACTOR.as_slice()
}

/// Registers (or reuses) the device of `user` and opens a session: what a login with a device
/// does after the password check. Public for tests that need a device token without HTTP.
pub async fn open_device_session(
    state: &AppState,
    user: &UserProfile,
    device: &DeviceRegistration,
) -> Result<SessionTokens, AuthError> {
    // The session starts now, so its maximum age caps the first token like any later one.
    let ttl = state
        .config
        .refresh_token_ttl_secs
        .min(state.config.session_max_age_secs);
    let (refresh_token, stored) = new_refresh_token(Timestamp::now(), ttl)?;
    let session_id = Uuid::new_v4();
    if let Err(refusal) = state
        .store
        .open_session(device, session_id, &stored)
        .await?
    {
        tracing::warn!(device = %device.id, user = %user.id, ?refusal, "device refused at login");
        return Err(match refusal {
            DeviceRefusal::BelongsToAnotherUser => refused(
                StatusCode::CONFLICT,
                "device_belongs_to_another_user",
                "this device is registered to another user: sync its work, then reinstall the \
                 app (or clear its data) before signing in as someone else",
            ),
            DeviceRefusal::ActorInUse => refused(
                StatusCode::CONFLICT,
                "actor_in_use",
                "this Automerge actor id is bound to another device; each installation needs \
                 its own",
            ),
            DeviceRefusal::Revoked => refused(
                StatusCode::FORBIDDEN,
                "device_revoked",
                "this device was revoked by an administrator; reinstall the app to register \
                 a new device",
            ),
        });
    }
    let access = state
        .tokens
        .issue_for_session(user, device.id, session_id)
        .map_err(ApiError::internal)?;
    Ok(SessionTokens {
        access,
        refresh_token,
        refresh_expires_in: ttl,
        session_id,
    })
}

/// The user a tenant slug, a (normalised) username and a password name, under the login
/// limiter: what every sign-in checks, the API's and the web console's.
pub async fn check_credentials(
    state: &AppState,
    client: ClientIp,
    tenant: &str,
    username: &str,
    password: String,
) -> Result<UserProfile, AuthError> {
    // Refused before any lookup or argon2 work, and alike for known and unknown users.
    let attempt = state
        .login_limiter
        .begin(tenant.trim(), username, client.0)
        .map_err(|retry_after_secs| {
            tracing::warn!(retry_after_secs, "login throttled");
            ApiError::TooManyRequests { retry_after_secs }
        })?;
    let user = match state.store.find_tenant_by_slug(tenant.trim()).await? {
        Some(tenant) => {
            state
                .store
                .find_user_by_username(tenant.id, username)
                .await?
        }
        None => None,
    };
    let (hash, profile) = match user {
        Some(u) => (Some(u.password_hash), Some(u.profile)),
        None => (None, None),
    };
    // Always run one argon2 verification, so timing does not tell which part was wrong.
    let ok = verify_password(password, hash).await?;
    let profile = match (ok, profile) {
        (true, Some(p)) => p,
        _ => return Err(ApiError::InvalidCredentials.into()),
    };
    state.login_limiter.succeeded(attempt);
    Ok(profile)
}

/// Exchanges a tenant, username and password for an access token; with a device, also
/// registers it and opens a session with a refresh token.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "`invalid_credentials`: unknown tenant, unknown user or wrong password", body = crate::http::ErrorBody),
        (status = 403, description = "`device_revoked`: an administrator revoked this device", body = crate::http::ErrorBody),
        (status = 409, description = "`device_belongs_to_another_user`: the device id is another user's; `actor_in_use`: the actor is bound to another device", body = crate::http::ErrorBody),
        (status = 422, description = "`invalid_body`: unknown field or invalid device registration", body = crate::http::ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed attempts for this user or from this address; retry after the Retry-After seconds", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, client, body), fields(username = tracing::field::Empty))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<LoginResponse>, AuthError> {
    let Json(req) = body?;
    let username = normalize_username(&req.username);
    tracing::Span::current().record("username", username.as_str());
    let profile = check_credentials(&state, client, &req.tenant, &username, req.password).await?;
    let response = match &req.device {
        Some(device) => {
            let registration = registration(device, &profile)?;
            let s = open_device_session(&state, &profile, &registration).await?;
            tracing::info!(user = %profile.id, tenant = %profile.tenant_id,
                device = %registration.id, session = %s.session_id, "signed in");
            LoginResponse {
                access_token: s.access.token,
                token_type: "Bearer",
                expires_in: s.access.expires_in,
                refresh_token: Some(s.refresh_token),
                refresh_expires_in: Some(s.refresh_expires_in),
                session_id: Some(s.session_id),
                user: profile,
            }
        }
        None => {
            let issued = state.tokens.issue(&profile).map_err(ApiError::internal)?;
            tracing::info!(user = %profile.id, tenant = %profile.tenant_id, "signed in without a device");
            LoginResponse {
                access_token: issued.token,
                token_type: "Bearer",
                expires_in: issued.expires_in,
                refresh_token: None,
                refresh_expires_in: None,
                session_id: None,
                user: profile,
            }
        }
    };
    Ok(Json(response))
}

/// Exchanges a refresh token for a new access token and a new refresh token.
#[utoipa::path(
    post,
    path = "/v1/auth/refresh",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the refresh token sent is used up", body = RefreshResponse),
        (status = 401, description = "`refresh_token_reused`: the token was already used, its session is now revoked; `session_expired`: the session reached its maximum age (FIELDSYNC_SESSION_MAX_AGE_SECS); `unauthorized`: unknown or expired token, or the session or device was revoked (signed out, password changed by an administrator, device revoked: the message says which). Log in again (local work is kept).", body = crate::http::ErrorBody),
        (status = 422, description = "`invalid_body`: unknown field", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, body))]
pub async fn refresh(
    State(state): State<AppState>,
    body: Result<Json<RefreshRequest>, JsonRejection>,
) -> Result<Json<RefreshResponse>, AuthError> {
    let Json(req) = body?;
    let presented = refresh_token_hash(req.refresh_token.trim());
    let ttl = state.config.refresh_token_ttl_secs;
    let max_age_ms = state.config.session_max_age_ms();
    let (refresh_token, next) = new_refresh_token(Timestamp::now(), ttl)?;
    let grace_ms =
        i64::try_from(state.config.refresh_reuse_grace_secs.saturating_mul(1000)).unwrap_or(0);
    let info = match state
        .store
        .rotate_refresh_token(&presented, &next, grace_ms, max_age_ms)
        .await?
    {
        Rotation::Rotated(info) => info,
        Rotation::Reused => {
            return Err(refused(
                StatusCode::UNAUTHORIZED,
                "refresh_token_reused",
                "this refresh token was already used: its session is revoked on every device \
                 that held it. Log in again (local work is kept)",
            ))
        }
        Rotation::Refused(why) => {
            tracing::info!(?why, "refresh token refused");
            let message = match why {
                RefreshRefusal::SessionExpired => {
                    return Err(refused(
                        StatusCode::UNAUTHORIZED,
                        "session_expired",
                        SESSION_EXPIRED_MESSAGE,
                    ))
                }
                RefreshRefusal::Unknown | RefreshRefusal::Expired => {
                    "unknown or expired refresh token: log in again (local work is kept)"
                }
                RefreshRefusal::SessionRevoked(reason) => reason.message(),
                RefreshRefusal::DeviceRevoked => RevokeReason::DeviceRevoked.message(),
            };
            return Err(ApiError::Unauthorized(message.into()).into());
        }
    };
    // As stored: never past the session's maximum age. Whole seconds, rounded up.
    let refresh_expires_at = capped_expiry(next.expires_at, info.created_at, max_age_ms);
    let refresh_expires_in =
        u64::try_from((refresh_expires_at.millis() - next.issued_at.millis() + 999) / 1000)
            .unwrap_or(0);
    // The user as now stored: a changed role takes effect at the next refresh.
    let Some(user) = state.store.find_user(info.tenant_id, info.user_id).await? else {
        return Err(
            ApiError::Unauthorized("the user of this session no longer exists".into()).into(),
        );
    };
    let access = state
        .tokens
        .issue_for_session(&user, info.device_id, info.session_id)
        .map_err(ApiError::internal)?;
    tracing::info!(user = %info.user_id, device = %info.device_id, session = %info.session_id, "tokens refreshed");
    Ok(Json(RefreshResponse {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        refresh_token,
        refresh_expires_in,
        session_id: info.session_id,
    }))
}

/// Ends the caller's session: its refresh token and every access token of it stop working.
/// A token without a device has no session; it simply expires.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "`unauthorized`", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, principal), fields(user = %principal.user_id))]
pub async fn logout(State(state): State<AppState>, principal: Principal) -> ApiResult<StatusCode> {
    if let Some(device) = &principal.device {
        state
            .store
            .revoke_session(principal.tenant_id, device.session_id, RevokeReason::Logout)
            .await?;
        tracing::info!(device = %device.device_id, session = %device.session_id, "signed out");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = UserProfileSchema),
        (status = 401, description = "`unauthorized`", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, principal), fields(user = %principal.user_id))]
pub async fn me(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<UserProfile>> {
    match state
        .store
        .find_user(principal.tenant_id, principal.user_id)
        .await?
    {
        Some(user) => Ok(Json(user)),
        // A valid token for a user that no longer exists.
        None => Err(ApiError::Unauthorized(
            "the user of this token no longer exists".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_256_bits_and_stored_as_hashes() {
        let now = Timestamp(1_000);
        let (a, stored) = new_refresh_token(now, 60).unwrap();
        let (b, _) = new_refresh_token(now, 60).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&a)
                .unwrap()
                .len(),
            32
        );
        assert_eq!(stored.hash, refresh_token_hash(&a));
        assert_eq!(stored.hash.len(), 64);
        assert!(!stored.hash.contains(&a));
        assert_eq!(stored.expires_at, Timestamp(61_000));
    }

    #[test]
    fn device_registrations_are_checked() {
        let user = UserProfile {
            id: fieldsync_shared::UserId::new_random(),
            tenant_id: fieldsync_shared::TenantId::new_random(),
            username: "rep1".into(),
            display_name: "Rep One".into(),
            role: fieldsync_shared::master::Role::Rep,
            code: fieldsync_shared::PersonCode::parse("R001").unwrap(),
        };
        let good = DeviceRegistrationBody {
            device_id: DeviceId::new_random(),
            actor_id: automerge::ActorId::random().to_hex_string(),
            name: " Li's phone ".into(),
            platform: "Android".into(),
        };
        let r = registration(&good, &user).unwrap();
        assert_eq!(
            (r.name.as_str(), r.platform.as_str()),
            ("Li's phone", "android")
        );
        assert_eq!(r.actor.to_hex_string(), good.actor_id);
        let bad = |f: &dyn Fn(&mut DeviceRegistrationBody)| {
            let mut b = good.clone();
            f(&mut b);
            registration(&b, &user).is_err()
        };
        assert!(bad(&|b| b.actor_id = String::new()));
        assert!(bad(&|b| b.actor_id = "zz".into()));
        assert!(bad(&|b| b.actor_id = "abc".into()));
        assert!(bad(&|b| b.actor_id = "ab".repeat(33)));
        assert!(bad(&|b| b.actor_id = hex::encode(b"fieldsync-server")));
        assert!(bad(&|b| b.name = "  ".into()));
        assert!(bad(&|b| b.name = "x".repeat(101)));
        assert!(bad(&|b| b.platform = "my os".into()));
        assert!(bad(&|b| b.platform = "x".repeat(33)));
    }
}
