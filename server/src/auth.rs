//! Authentication: argon2 password hashes, JWT access tokens, `POST /v1/auth/login`, and the
//! [`Principal`] extractor every protected handler takes.
//!
//! Tokens are HS256 JWTs with `iss = "fieldsync"`, `aud = "fieldsync-api"`, `sub` (user id),
//! `tid` (tenant id), `role`, `iat`, `nbf`, `exp`, `jti`. Verification pins the algorithm to
//! HS256 and requires `exp`, `iss`, `aud` and `sub` (jsonwebtoken only checks claims that are
//! present unless told to require them). Tokens carry a `kid` header naming the signing key
//! (see [`key_id`]); a token without it, or with another key's id, is refused.
//!
//! Logins are throttled in memory, per instance ([`LoginLimiter`]): too many failed attempts
//! for one tenant and username, or from one client address, get 429 with Retry-After without
//! checking the password.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest;

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
    kid: String,
    ttl_secs: u64,
}

/// The key id of an HS256 secret: the first 8 hex digits of its SHA-256. Names the key in
/// token headers without revealing it.
pub fn key_id(secret: &[u8]) -> String {
    hex::encode(&sha2::Sha256::digest(secret)[..4])
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("keys", &"[redacted]")
            .field("kid", &self.kid)
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
pub enum TokenError {
    #[error("invalid access token: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    #[error("invalid access token: no kid header")]
    MissingKeyId,
    #[error("invalid access token: unknown kid {0:?}")]
    UnknownKeyId(String),
}

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
            kid: key_id(secret),
            ttl_secs,
        }
    }

    /// The id (`kid` header) of the signing key.
    pub fn kid(&self) -> &str {
        &self.kid
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
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)?;
        Ok(IssuedToken {
            token,
            expires_in: self.ttl_secs,
        })
    }

    /// Verifies the key id, signature, algorithm, issuer, audience and validity period.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        match jsonwebtoken::decode_header(token)?.kid {
            None => return Err(TokenError::MissingKeyId),
            Some(kid) if kid != self.kid => {
                let shown: String = kid.chars().take(16).collect();
                return Err(TokenError::UnknownKeyId(shown));
            }
            Some(_) => {}
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        let c = data.claims;
        Ok(Principal {
            tenant_id: c.tid,
            user_id: c.sub,
            role: c.role,
            device: None,
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

/// Most keys each [`LoginLimiter`] map tracks; beyond it expired entries are pruned and, if
/// still full, the oldest entry is dropped.
const LIMITER_MAX_ENTRIES: usize = 100_000;

/// A fixed window of attempts for one key.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

/// Attempt counters per key, with bounded memory.
#[derive(Debug)]
struct Counters<K> {
    max: u32,
    entries: HashMap<K, Window>,
}

impl<K: Eq + Hash + Clone> Counters<K> {
    fn new(max: u32) -> Self {
        Counters {
            max,
            entries: HashMap::new(),
        }
    }

    /// Seconds until `key` may try again, if it is over its limit now.
    fn blocked_for(&self, key: &K, now: Instant, window: Duration) -> Option<u64> {
        if self.max == 0 {
            return None;
        }
        let w = self.entries.get(key)?;
        let elapsed = now.saturating_duration_since(w.started);
        if elapsed >= window || w.count < self.max {
            return None;
        }
        let left = window - elapsed;
        Some((left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1))
    }

    fn add(&mut self, key: &K, now: Instant, window: Duration) {
        if self.max == 0 {
            return;
        }
        if let Some(w) = self.entries.get_mut(key) {
            if now.saturating_duration_since(w.started) >= window {
                *w = Window {
                    started: now,
                    count: 0,
                };
            }
            w.count = w.count.saturating_add(1);
            return;
        }
        if self.entries.len() >= LIMITER_MAX_ENTRIES {
            self.entries
                .retain(|_, w| now.saturating_duration_since(w.started) < window);
        }
        if self.entries.len() >= LIMITER_MAX_ENTRIES {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, w)| w.started)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.entries.remove(&k);
            }
        }
        self.entries.insert(
            key.clone(),
            Window {
                started: now,
                count: 1,
            },
        );
    }

    /// Takes back one attempt (a successful one).
    fn sub(&mut self, key: &K) {
        if let Some(w) = self.entries.get_mut(key) {
            w.count = w.count.saturating_sub(1);
            if w.count == 0 {
                self.entries.remove(key);
            }
        }
    }
}

#[derive(Debug)]
struct LimiterState {
    users: Counters<(String, String)>,
    ips: Counters<IpAddr>,
}

/// Throttles `POST /v1/auth/login`, in memory and per server instance: at most
/// `max_failures` failed attempts per (tenant slug, username) and `max_failures_per_ip` per
/// client address within a window that starts at the first failure. Every attempt counts
/// when it starts (so parallel guesses cannot slip through); a successful sign-in takes its
/// attempt back and clears the username's count.
#[derive(Debug)]
pub struct LoginLimiter {
    window: Duration,
    state: Mutex<LimiterState>,
}

/// A login attempt admitted by [`LoginLimiter::begin`]; report how it ended with
/// [`LoginLimiter::succeeded`] (failures need nothing more).
#[derive(Debug)]
pub struct LoginAttempt {
    user: (String, String),
    ip: Option<IpAddr>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, max_failures_per_ip: u32, window: Duration) -> Self {
        LoginLimiter {
            window: window.max(Duration::from_secs(1)),
            state: Mutex::new(LimiterState {
                users: Counters::new(max_failures),
                ips: Counters::new(max_failures_per_ip),
            }),
        }
    }

    /// From the `FIELDSYNC_LOGIN_*` options.
    pub fn from_config(config: &crate::config::Config) -> Self {
        LoginLimiter::new(
            config.login_max_failures,
            config.login_max_failures_per_ip,
            Duration::from_secs(config.login_window_secs),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits and counts an attempt, or refuses it with the seconds until the window frees.
    /// Keys are the tenant slug and username, trimmed and lower-cased.
    pub fn begin(
        &self,
        tenant: &str,
        username: &str,
        ip: Option<IpAddr>,
    ) -> Result<LoginAttempt, u64> {
        let user = (normalize_username(tenant), normalize_username(username));
        let now = Instant::now();
        let mut st = self.lock();
        let blocked = [
            st.users.blocked_for(&user, now, self.window),
            ip.and_then(|ip| st.ips.blocked_for(&ip, now, self.window)),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(secs) = blocked {
            return Err(secs);
        }
        st.users.add(&user, now, self.window);
        if let Some(ip) = ip {
            st.ips.add(&ip, now, self.window);
        }
        Ok(LoginAttempt { user, ip })
    }

    /// The attempt signed in: the username's failures are forgotten and the attempt no
    /// longer counts against the address.
    pub fn succeeded(&self, attempt: LoginAttempt) {
        let mut st = self.lock();
        st.users.entries.remove(&attempt.user);
        if let Some(ip) = attempt.ip {
            st.ips.sub(&ip);
        }
    }
}

/// The client's address, when the server runs with connect info (not in router-only tests).
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
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
        (status = 429, description = "`rate_limited`: too many failed attempts for this user or from this address; retry after the Retry-After seconds", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, client, body), fields(username = tracing::field::Empty))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> ApiResult<Json<LoginResponse>> {
    let Json(req) = body?;
    let username = normalize_username(&req.username);
    tracing::Span::current().record("username", username.as_str());
    // Refused before any lookup or argon2 work, and alike for known and unknown users.
    let attempt = state
        .login_limiter
        .begin(req.tenant.trim(), &username, client.0)
        .map_err(|retry_after_secs| {
            tracing::warn!(retry_after_secs, "login throttled");
            ApiError::TooManyRequests { retry_after_secs }
        })?;
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
    state.login_limiter.succeeded(attempt);
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
                role: Role::Rep,
                device: None,
            }
        );
        assert!(TokenKeys::hs256(&[8u8; 32], 60).verify(&t.token).is_err());
    }

    #[test]
    fn tokens_without_the_key_id_are_refused() {
        let keys = TokenKeys::hs256(&[7u8; 32], 60);
        assert_eq!(keys.kid(), key_id(&[7u8; 32]));
        assert_eq!(keys.kid().len(), 8);
        assert_ne!(keys.kid(), key_id(&[8u8; 32]));
        let good = keys.issue(&user()).unwrap().token;
        keys.verify(&good).unwrap();
        let data = jsonwebtoken::decode::<Claims>(&good, &keys.decoding, &keys.validation)
            .unwrap()
            .claims;
        for kid in [None, Some("hs256-1".to_string())] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = kid.clone();
            let t = jsonwebtoken::encode(&header, &data, &keys.encoding).unwrap();
            assert!(keys.verify(&t).is_err(), "{kid:?}");
        }
    }

    #[test]
    fn login_limiter_counts_per_user_and_address_and_resets_on_success() {
        let limiter = LoginLimiter::new(2, 3, Duration::from_secs(60));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other_ip: IpAddr = "192.0.2.2".parse().unwrap();
        limiter.begin("demo", "rep1", Some(ip)).unwrap();
        let ok = limiter.begin("demo", "Rep1", Some(ip)).unwrap();
        limiter.succeeded(ok);
        limiter.begin("DEMO", "rep1", Some(ip)).unwrap();
        limiter.begin("demo", "rep1", Some(other_ip)).unwrap();
        let secs = limiter.begin("demo", "rep1", Some(other_ip)).unwrap_err();
        assert!((59..=60).contains(&secs), "{secs}");
        // Same tenant, other user; then this address is at its limit of 3 failures.
        limiter.begin("demo", "rep2", Some(ip)).unwrap();
        assert!(limiter.begin("demo", "rep3", Some(ip)).is_err());
        assert!(limiter.begin("demo", "rep3", None).is_ok());
        // Zero disables a limit.
        let off = LoginLimiter::new(0, 0, Duration::from_secs(60));
        for _ in 0..50 {
            off.begin("demo", "rep1", Some(ip)).unwrap();
        }
    }

    #[test]
    fn login_limiter_memory_is_bounded() {
        let mut c = Counters::new(5);
        let now = Instant::now();
        let window = Duration::from_secs(60);
        for i in 0..LIMITER_MAX_ENTRIES + 10 {
            c.add(&i, now, window);
        }
        assert_eq!(c.entries.len(), LIMITER_MAX_ENTRIES);
        // Expired entries are pruned first.
        let later = now + window;
        c.add(&usize::MAX, later, window);
        assert_eq!(c.entries.len(), 1);
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
