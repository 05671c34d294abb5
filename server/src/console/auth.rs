//! Sign-in, sign-out and the signed-in user of every console page.
//!
//! A console sign-in checks the password exactly as the API's login does
//! (`sessions::check_credentials`: same accounts, same limiter) and opens an ordinary device
//! session for a device of platform `web` with an Automerge actor of its own: the decisions
//! made in this browser are changes under that actor, and the document's history names the
//! supervisor and this console (docs/console.md). The browser holds a random token in an
//! `HttpOnly`, `SameSite=Strict` cookie (`Secure` behind TLS); the database holds its SHA-256.
//! Every request checks the sign-in's expiry and then the session as a device token is
//! checked (`auth::device_session_principal`: revoked, past its maximum age, current role).

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;

use fieldsync_shared::master::UserProfile;
use fieldsync_shared::values::DeviceId;
use fieldsync_shared::Timestamp;

use super::error::{ConsoleError, ConsoleResult};
use super::{csrf, layout};
use crate::auth::{device_session_principal, normalize_username, ClientIp, Principal, Verifier};
use crate::http::ApiError;
use crate::sessions::{check_credentials, open_device_session, refresh_token_hash, AuthError};
use crate::state::AppState;
use crate::store::devices::{DeviceRegistration, NewConsoleSession, RevokeReason};

/// The cookie of a signed-in browser.
const SESSION_COOKIE: &str = "fieldsync_console";
/// The cookie the sign-in form's CSRF token is compared with.
const LOGIN_COOKIE: &str = "fieldsync_console_login";
/// How long a sign-in form stays valid, seconds.
const LOGIN_FORM_SECS: u64 = 3600;
/// The cookie naming this browser's console device, so that each sign-in in the same browser
/// reuses one device (and actor) instead of registering another: not a credential, a device id
/// is only reused for the user it belongs to.
const DEVICE_COOKIE: &str = "fieldsync_console_device";
/// How long a browser remembers its console device, seconds (400 days, the most browsers keep).
const DEVICE_COOKIE_SECS: u64 = 400 * 24 * 3600;

/// The signed-in user of a console request.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    /// The same principal a device token of this session gives (role as stored now).
    pub principal: Principal,
    pub profile: UserProfile,
    /// The session's synchronizer token, written into every form of the page.
    pub csrf_token: String,
    token_hash: String,
}

impl ConsoleUser {
    /// Refuses (403) a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, form_token: Option<&str>, headers: &HeaderMap) -> ConsoleResult<()> {
        csrf::check(&self.csrf_token, form_token, headers)
    }
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ConsoleResult<Self> {
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(ConsoleError::SignIn)?;
        let token_hash = refresh_token_hash(token);
        let record = state
            .store
            .console_session(&token_hash)
            .await?
            .ok_or(ConsoleError::SignIn)?;
        if record.expires_at <= Timestamp::now() {
            return Err(ConsoleError::SignIn);
        }
        let principal = device_session_principal(
            &Verifier::from_ref(state),
            record.tenant_id,
            record.user_id,
            record.device_id,
            record.session_id,
        )
        .await
        .map_err(|e| {
            tracing::info!(error = %e, "console sign-in no longer valid");
            ConsoleError::SignIn
        })?;
        let profile = state
            .store
            .find_user(principal.tenant_id, principal.user_id)
            .await?
            .ok_or(ConsoleError::SignIn)?;
        Ok(ConsoleUser {
            principal,
            profile,
            csrf_token: record.csrf_token,
            token_hash,
        })
    }
}

impl OptionalFromRequestParts<AppState> for ConsoleUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(
            <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

/// The sign-in form as posted.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// `GET /console/login`: the sign-in form (the queue when already signed in).
pub async fn login_page(
    State(state): State<AppState>,
    user: Option<ConsoleUser>,
    headers: HeaderMap,
) -> ConsoleResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to("/console/queue").into_response());
    }
    let default_tenant = if state.config.demo { "demo" } else { "" };
    login_form(&state, &headers, default_tenant, "", None, StatusCode::OK)
}

/// The sign-in form with a fresh CSRF token (and its cookie).
fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &str,
    username: &str,
    message: Option<&str>,
    status: StatusCode,
) -> ConsoleResult<Response> {
    let token = csrf::random_token()?;
    let body = layout::bare_page(
        "Sign in",
        html! {
            main.narrow.signin {
                h1 { "Fieldsync console" }
                p.muted { "Supervisors review visits and approve orders here. 主管审核拜访与订单。" }
                @if let Some(message) = message {
                    p.error role="alert" { (message) }
                }
                form method="post" action="/console/login" {
                    input type="hidden" name=(csrf::FIELD) value=(token);
                    label for="tenant" { "Company (tenant)" }
                    input #tenant name="tenant" value=(tenant) required autocomplete="organization";
                    label for="username" { "Username" }
                    input #username name="username" value=(username) required autocomplete="username" autofocus;
                    label for="password" { "Password" }
                    input #password type="password" name="password" required autocomplete="current-password";
                    button.primary type="submit" { "Sign in" }
                }
            }
        },
    );
    let mut resp = layout::html_response(status, body);
    set_cookie(
        &mut resp,
        &cookie_value(state, headers, LOGIN_COOKIE, &token, LOGIN_FORM_SECS),
    );
    Ok(resp)
}

/// `POST /console/login`: checks the form's token and the password, opens a session.
#[tracing::instrument(skip_all, fields(username = tracing::field::Empty))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> ConsoleResult<Response> {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    csrf::check(expected, Some(&form.csrf), &HeaderMap::new())?;
    let username = normalize_username(&form.username);
    tracing::Span::current().record("username", username.as_str());
    let tenant = form.tenant.trim().to_string();
    let profile = match check_credentials(&state, client, &tenant, &username, form.password).await {
        Ok(p) => p,
        Err(AuthError::Api(ApiError::InvalidCredentials)) => {
            return login_form(
                &state,
                &headers,
                &tenant,
                &username,
                Some("Unknown company or user, or wrong password. 用户名或密码错误。"),
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(AuthError::Api(ApiError::TooManyRequests { retry_after_secs })) => {
            let message =
                format!("Too many failed sign-ins: try again in {retry_after_secs} seconds.");
            return login_form(
                &state,
                &headers,
                &tenant,
                &username,
                Some(&message),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(AuthError::Api(e)) => return Err(e.into()),
        Err(AuthError::Refused { message, .. }) => return Err(ApiError::Forbidden(message).into()),
    };
    let known_device = cookie(&headers, DEVICE_COOKIE).and_then(|v| DeviceId::parse(v).ok());
    let (token, device) = open_console_session(&state, &profile, known_device).await?;
    let ttl = console_ttl_secs(&state);
    let mut resp = Redirect::to("/console/queue").into_response();
    set_cookie(
        &mut resp,
        &cookie_value(&state, &headers, SESSION_COOKIE, &token, ttl),
    );
    set_cookie(
        &mut resp,
        &cookie_value(
            &state,
            &headers,
            DEVICE_COOKIE,
            &device.to_string(),
            DEVICE_COOKIE_SECS,
        ),
    );
    set_cookie(&mut resp, &expired_cookie(LOGIN_COOKIE));
    tracing::info!(user = %profile.id, tenant = %profile.tenant_id, "console signed in");
    Ok(resp)
}

/// Seconds a console sign-in lasts: the console's setting, never past the session's age.
fn console_ttl_secs(state: &AppState) -> u64 {
    state
        .config
        .console
        .session_secs
        .min(state.config.session_max_age_secs)
}

/// Opens a console session for `user` on this browser's console device — the one the browser
/// names (`known`) if it is the user's, not revoked, and a console's, else a newly registered
/// one — and stores the sign-in; returns the cookie's token and the device.
async fn open_console_session(
    state: &AppState,
    user: &UserProfile,
    known: Option<DeviceId>,
) -> ConsoleResult<(String, DeviceId)> {
    let reusable = match known {
        Some(id) => state
            .store
            .get_device(user.tenant_id, id)
            .await?
            .filter(|d| d.user_id == user.id && d.revoked_at.is_none() && d.platform == "web"),
        None => None,
    };
    let registration = match reusable {
        Some(device) => DeviceRegistration {
            id: device.id,
            tenant_id: user.tenant_id,
            user_id: user.id,
            actor: device.actor,
            name: device.name,
            platform: device.platform,
        },
        None => DeviceRegistration {
            id: DeviceId::new_random(),
            tenant_id: user.tenant_id,
            user_id: user.id,
            actor: automerge::ActorId::random(),
            name: "Web console".to_string(),
            platform: "web".to_string(),
        },
    };
    let session = open_device_session(state, user, &registration)
        .await
        .map_err(|e| match e {
            AuthError::Api(e) => ConsoleError::from(e),
            AuthError::Refused { message, .. } => ConsoleError::Api(ApiError::internal(message)),
        })?;
    let token = csrf::random_token()?;
    let now = Timestamp::now();
    let ttl_ms = i64::try_from(console_ttl_secs(state).saturating_mul(1000)).unwrap_or(i64::MAX);
    state
        .store
        .create_console_session(&NewConsoleSession {
            token_hash: refresh_token_hash(&token),
            session_id: session.session_id,
            csrf_token: csrf::random_token()?,
            created_at: now,
            expires_at: Timestamp(now.millis().saturating_add(ttl_ms)),
        })
        .await?;
    Ok((token, registration.id))
}

/// The sign-out form as posted.
#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/logout`: ends the session (its device session too) and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> ConsoleResult<Response> {
    user.check_csrf(Some(&form.csrf), &headers)?;
    state.store.delete_console_session(&user.token_hash).await?;
    if let Some(device) = &user.principal.device {
        state
            .store
            .revoke_session(
                user.principal.tenant_id,
                device.session_id,
                RevokeReason::Logout,
            )
            .await?;
    }
    let mut resp = Redirect::to("/console/login").into_response();
    set_cookie(&mut resp, &expired_cookie(SESSION_COOKIE));
    Ok(resp)
}

/// The value of cookie `name` in the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Whether the console's cookies get `Secure`: an `https` public origin, or a proxy saying
/// the request came over TLS.
fn over_tls(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.console.https_origin()
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

fn cookie_value(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age_secs: u64,
) -> String {
    let secure = if over_tls(state, headers) {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}

fn expired_cookie(name: &str) -> String {
    format!("{name}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn set_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; fieldsync_console=tok; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&headers, LOGIN_COOKIE), None);
        assert_eq!(cookie(&headers, "b"), Some("2"));
    }
}
