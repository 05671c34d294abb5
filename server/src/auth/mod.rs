//! Authentication (docs/auth.md): who is making a request.
//!
//! * [`tokens`]: access tokens (JWT, HS256 by default, EdDSA for production; key files, key
//!   rotation, `keygen`).
//! * [`sessions`]: `POST /v1/auth/login` (with device registration), `/refresh` (rotating
//!   refresh tokens with reuse detection), `/logout`, `GET /v1/me`.
//! * [`passwords`]: argon2id hashing; [`limiter`]: login throttling.
//! * [`session_purge`]: the periodic deletion of ended sessions and expired refresh tokens.
//! * [`Principal`]: the extractor every protected handler takes. It verifies the access token
//!   and, for a token issued to a device, checks in the database (one indexed query) that the
//!   session and the device are not revoked and the session not past its maximum age, and
//!   loads the Automerge actor bound to the device and the user's current role.

mod limiter;
mod passwords;
pub mod session_purge;
pub mod sessions;
pub mod tokens;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use fieldsync_shared::master::Role;
use fieldsync_shared::{TenantId, Timestamp, UserId};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::devices::{session_aged_out, RevokeReason};

pub use limiter::{ClientIp, LoginAttempt, LoginLimiter};
pub use passwords::{hash_password, verify_password};
pub use session_purge::{purge_sessions_at, PurgeTask};
pub use sessions::{
    login, logout, me, open_device_session, refresh, router, DeviceRegistrationBody, LoginRequest,
    LoginResponse, RefreshRequest, SessionTokens, SESSION_EXPIRED_MESSAGE,
};
pub use tokens::{
    key_id, load_or_create_secret, Claims, IssuedToken, SecretError, TokenError, TokenKeys,
    AUDIENCE, ISSUER,
};

/// Who is making the request, from a validated access token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: Role,
    /// The registered device the token was issued to; `None` for tokens issued without a
    /// device (administration tools), which cannot sync.
    pub device: Option<DeviceSession>,
}

/// A signed-in device: the device, the Automerge actor bound to it, and the session (refresh
/// token family) the access token belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSession {
    pub device_id: fieldsync_shared::values::DeviceId,
    pub actor: automerge::ActorId,
    pub session_id: uuid::Uuid,
}

/// Usernames are compared trimmed and lower-case.
pub fn normalize_username(s: &str) -> String {
    s.trim().to_lowercase()
}

/// The principal of verified `claims`: for a device token, after checking its session and
/// device in the database. A device session's role is read there too, so a role change made by
/// an administrator applies from the next request (tokens without a device keep the role they
/// were issued with until they expire).
pub async fn principal_of(state: &AppState, claims: Claims) -> Result<Principal, ApiError> {
    let mut role = claims.role;
    let device = match (claims.did, claims.sid) {
        (Some(device_id), Some(session_id)) => {
            let session = state
                .store
                .session_auth(claims.tid, session_id)
                .await?
                .filter(|s| s.user_id == claims.sub && s.device_id == device_id)
                .ok_or_else(|| {
                    ApiError::Unauthorized("invalid access token: unknown session".into())
                })?;
            if session.device_revoked {
                return Err(ApiError::Unauthorized(
                    RevokeReason::DeviceRevoked.message().into(),
                ));
            }
            if let Some(reason) = session.session_revoked {
                return Err(ApiError::Unauthorized(reason.message().into()));
            }
            if session_aged_out(
                session.created_at,
                state.config.session_max_age_ms(),
                Timestamp::now(),
            ) {
                return Err(ApiError::Unauthorized(SESSION_EXPIRED_MESSAGE.into()));
            }
            role = session.role;
            Some(DeviceSession {
                device_id,
                actor: session.actor,
                session_id,
            })
        }
        _ => None,
    };
    Ok(Principal {
        tenant_id: claims.tid,
        user_id: claims.sub,
        role,
        device,
    })
}

/// The Bearer token of a request.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing Authorization: Bearer token".into()))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(ApiError::Unauthorized(
            "expected Authorization: Bearer <token>".into(),
        )),
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let claims = state.tokens.verify(token).map_err(|e| {
            tracing::debug!(error = %e, "access token refused");
            ApiError::Unauthorized("invalid or expired access token".into())
        })?;
        principal_of(state, claims).await
    }
}
