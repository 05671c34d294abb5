//! Authentication: argon2 password hashes, JWT access tokens, `POST /v1/auth/login`, and the
//! [`Principal`] extractor every protected handler takes.
//!
//! Tokens are HS256 JWTs with `iss = "fieldsync"`, `aud = "fieldsync-api"`, `sub` (user id),
//! `tid` (tenant id), `role`, `iat`, `nbf`, `exp`, `jti`. Verification pins the algorithm to
//! HS256 and requires `exp`, `iss`, `aud` and `sub` (jsonwebtoken only checks claims that are
//! present unless told to require them).

use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use fieldsync_shared::master::{Role, UserProfile};
use fieldsync_shared::{TenantId, UserId};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Token issuer.
pub const ISSUER: &str = "fieldsync";
/// Token audience.
pub const AUDIENCE: &str = "fieldsync-api";
/// Clock skew tolerated when checking `exp` and `nbf`, seconds.
const LEEWAY_SECS: u64 = 5;

/// Who is making the request, from a validated access token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: Role,
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub tid: TenantId,
    pub role: Role,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
}

/// Signing and verification keys for access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: u64,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("keys", &"[redacted]")
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

/// Why a token was refused (logged at debug level; the client only sees `unauthorized`).
#[derive(Debug, thiserror::Error)]
#[error("invalid access token: {0}")]
pub struct TokenError(#[from] jsonwebtoken::errors::Error);

impl TokenKeys {
    /// HS256 keys from a shared secret; tokens live `ttl_secs`.
    pub fn hs256(secret: &[u8], ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = LEEWAY_SECS;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        }
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Issues an access token for `user`.
    pub fn issue(&self, user: &UserProfile) -> Result<IssuedToken, TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user.id,
            tid: user.tenant_id,
            role: user.role,
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs,
            jti: uuid::Uuid::new_v4().to_string(),
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(IssuedToken {
            token,
            expires_in: self.ttl_secs,
        })
    }

    /// Verifies signature, algorithm, issuer, audience and validity period.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        let c = data.claims;
        Ok(Principal {
            tenant_id: c.tid,
            user_id: c.sub,
            role: c.role,
        })
    }
}

/// Why the signing secret could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read or write the JWT secret file {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("the JWT secret file {0} does not hold at least 32 hex-encoded bytes")]
    Invalid(String),
    #[error("no randomness available: {0}")]
    Random(String),
}

/// Loads the HS256 secret from `path` (hex), or generates 32 random bytes into it (mode 0600)
/// on first start.
pub fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, SecretError> {
    let io_err = |source: io::Error| SecretError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim())
                .map_err(|_| SecretError::Invalid(path.display().to_string()))?;
            if bytes.len() < 32 {
                return Err(SecretError::Invalid(path.display().to_string()));
            }
            warn_if_readable_by_others(path);
            Ok(bytes)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut secret = vec![0u8; 32];
            getrandom::fill(&mut secret).map_err(|e| SecretError::Random(e.to_string()))?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            match opts.open(path) {
                Ok(mut file) => {
                    file.write_all(hex::encode(&secret).as_bytes())
                        .map_err(io_err)?;
                    file.sync_all().map_err(io_err)?;
                    tracing::info!(path = %path.display(), "generated a new JWT signing secret");
                    Ok(secret)
                }
                // Another process created it meanwhile: use theirs.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => load_or_create_secret(path),
                Err(e) => Err(io_err(e)),
            }
        }
        Err(e) => Err(io_err(e)),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the JWT secret file is readable by other users; chmod 600 it");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Hashes a password with argon2id (default parameters) on the blocking pool.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password))
        .await
        .map_err(ApiError::internal)?
}

fn hash_password_blocking(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ApiError::internal(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// A hash of a random password, verified against when the user does not exist, so that an
/// unknown user takes as long to refuse as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password_blocking("fieldsync-dummy-password-for-timing")
            .unwrap_or_else(|_| "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$invalid".to_string())
    })
}

/// Checks `password` against `hash` (or against a dummy hash when `hash` is `None`) on the
/// blocking pool. `false` for no hash, a wrong password or an unreadable hash.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
        let ok = match PasswordHash::new(&hash) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(e) => {
                tracing::error!(error = %e, "stored password hash does not parse");
                false
            }
        };
        known && ok
    })
    .await
    .map_err(ApiError::internal)
}

/// Usernames are compared trimmed and lower-case.
pub fn normalize_username(s: &str) -> String {
    s.trim().to_lowercase()
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("missing Authorization: Bearer token".into()))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Err(ApiError::Unauthorized(
                    "expected Authorization: Bearer <token>".into(),
                ))
            }
        };
        state.tokens.verify(token).map_err(|e| {
            tracing::debug!(error = %e, "access token refused");
            ApiError::Unauthorized("invalid or expired access token".into())
        })
    }
}

/// `POST /v1/auth/login` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    /// Tenant slug, e.g. `demo`.
    pub tenant: String,
    pub username: String,
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("tenant", &self.tenant)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// `POST /v1/auth/login` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    #[schema(value_type = crate::openapi::UserProfileSchema)]
    pub user: UserProfile,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/login", post(login))
        .route("/v1/me", get(me))
}

/// Exchanges a tenant, username and password for an access token.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "`invalid_credentials`: unknown tenant, unknown user or wrong password", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, body), fields(username = tracing::field::Empty))]
pub async fn login(
    State(state): State<AppState>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> ApiResult<Json<LoginResponse>> {
    let Json(req) = body?;
    let username = normalize_username(&req.username);
    tracing::Span::current().record("username", username.as_str());
    let user = match state.store.find_tenant_by_slug(req.tenant.trim()).await? {
        Some(tenant) => {
            state
                .store
                .find_user_by_username(tenant.id, &username)
                .await?
        }
        None => None,
    };
    let (hash, profile) = match user {
        Some(u) => (Some(u.password_hash), Some(u.profile)),
        None => (None, None),
    };
    // Always run one argon2 verification, so timing does not tell which part was wrong.
    let ok = verify_password(req.password, hash).await?;
    let profile = match (ok, profile) {
        (true, Some(p)) => p,
        _ => return Err(ApiError::InvalidCredentials),
    };
    let issued = state.tokens.issue(&profile).map_err(ApiError::internal)?;
    tracing::info!(user = %profile.id, tenant = %profile.tenant_id, "signed in");
    Ok(Json(LoginResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        user: profile,
    }))
}

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = crate::openapi::UserProfileSchema),
        (status = 401, description = "`unauthorized`", body = crate::error::ErrorBody),
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
    use fieldsync_shared::PersonCode;

    fn user() -> UserProfile {
        UserProfile {
            id: UserId::new_random(),
            tenant_id: TenantId::new_random(),
            username: "rep1".into(),
            display_name: "Rep One".into(),
            role: Role::Rep,
            code: PersonCode::parse("R001").unwrap(),
        }
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_principal() {
        let keys = TokenKeys::hs256(&[7u8; 32], 60);
        let u = user();
        let t = keys.issue(&u).unwrap();
        let p = keys.verify(&t.token).unwrap();
        assert_eq!(
            p,
            Principal {
                tenant_id: u.tenant_id,
                user_id: u.id,
                role: Role::Rep
            }
        );
        assert!(TokenKeys::hs256(&[8u8; 32], 60).verify(&t.token).is_err());
    }

    #[tokio::test]
    async fn passwords_verify_only_with_the_right_hash() {
        let h = hash_password("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!verify_password("wrong".into(), Some(h)).await.unwrap());
        assert!(!verify_password("correct horse".into(), None).await.unwrap());
    }

    #[test]
    fn secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt-secret");
        let a = load_or_create_secret(&path).unwrap();
        let b = load_or_create_secret(&path).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
