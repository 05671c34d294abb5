//! Authentication (docs/auth.md): who is making a request.
//!
//! * [`tokens`]: access tokens (JWT, HS256 by default, EdDSA for production; key files, key
//!   rotation, `keygen`).
//! * [`passwords`]: argon2id hashing; [`limiter`]: login throttling.
//! * [`Principal`]: the extractor every protected handler takes. It verifies the access token
//!   and, for a token issued to a device, checks in the database (one indexed query) that the
//!   session and the device are not revoked and the session not past its maximum age, and
//!   loads the Automerge actor bound to the device and the user's current role. It reads what
//!   it needs from the application state through axum's `FromRef` ([`Verifier`]), so this
//!   module does not know the state. The sign-in endpoints are the `sessions` capability.

mod limiter;
mod passwords;
pub mod receipts;
pub mod tokens;

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use fieldsync_shared::master::Role;
use fieldsync_shared::{DeviceId, TenantId, Timestamp, UserId};

use crate::http::ApiError;
use crate::store::devices::{session_aged_out, RevokeReason};
use crate::store::Store;

pub use limiter::{ClientIp, LoginAttempt, LoginLimiter};
pub use passwords::{hash_password, verify_password};
pub use tokens::{
    key_id, load_or_create_secret, Claims, IssuedToken, SecretError, TokenError, TokenKeys,
    AUDIENCE, ISSUER,
};

/// What a device is told when its session is past the maximum session age.
pub const SESSION_EXPIRED_MESSAGE: &str =
    "this session reached its maximum age: log in again (local work is kept)";

/// What the [`Principal`] extractor needs of the application state, taken from it with
/// `FromRef`: the token keys, the store (sessions, devices) and the maximum session age.
#[derive(Clone)]
pub struct Verifier {
    pub tokens: Arc<TokenKeys>,
    pub store: Arc<dyn Store>,
    pub session_max_age_ms: i64,
}

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
pub async fn principal_of<S>(state: &S, claims: Claims) -> Result<Principal, ApiError>
where
    Verifier: FromRef<S>,
{
    verify_claims(&Verifier::from_ref(state), claims).await
}

async fn verify_claims(state: &Verifier, claims: Claims) -> Result<Principal, ApiError> {
    match (claims.did, claims.sid) {
        (Some(device_id), Some(session_id)) => {
            device_session_principal(state, claims.tid, claims.sub, device_id, session_id).await
        }
        _ => Ok(Principal {
            tenant_id: claims.tid,
            user_id: claims.sub,
            role: claims.role,
            device: None,
        }),
    }
}

/// The principal of a device session, after checking in the database that the session and the
/// device are not revoked and the session not past its maximum age; the role is the user's
/// current one. What a device token is checked with, and what the web console checks its
/// sign-ins with (a console sign-in is a device session).
pub async fn device_session_principal(
    state: &Verifier,
    tenant_id: TenantId,
    user_id: UserId,
    device_id: DeviceId,
    session_id: uuid::Uuid,
) -> Result<Principal, ApiError> {
    let session = state
        .store
        .session_auth(tenant_id, session_id)
        .await?
        .filter(|s| s.user_id == user_id && s.device_id == device_id)
        .ok_or_else(|| ApiError::Unauthorized("invalid access token: unknown session".into()))?;
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
        state.session_max_age_ms,
        Timestamp::now(),
    ) {
        return Err(ApiError::Unauthorized(SESSION_EXPIRED_MESSAGE.into()));
    }
    Ok(Principal {
        tenant_id,
        user_id,
        role: session.role,
        device: Some(DeviceSession {
            device_id,
            actor: session.actor,
            session_id,
        }),
    })
}

/// The Bearer token of a request.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let header = headers
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

/// The verified claims of a request's Bearer token: the first half of the [`Principal`]
/// extractor, for handlers that keep the claims (a live stream re-checks its principal with
/// [`principal_of`] and ends at the token's expiry).
pub fn verified_claims(headers: &HeaderMap, tokens: &TokenKeys) -> Result<Claims, ApiError> {
    tokens.verify(bearer(headers)?).map_err(|e| {
        tracing::debug!(error = %e, "access token refused");
        ApiError::Unauthorized("invalid or expired access token".into())
    })
}

impl<S> FromRequestParts<S> for Principal
where
    S: Send + Sync,
    Verifier: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Verifier::from_ref(state);
        let claims = verified_claims(&parts.headers, &verifier.tokens)?;
        verify_claims(&verifier, claims).await
    }
}
