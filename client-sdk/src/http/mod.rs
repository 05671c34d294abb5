//! The HTTP side of the device (docs/http-api.md, docs/auth.md): a blocking ureq agent and one
//! function per endpoint. Error mapping lives in one place (`errors.rs`): transport failures
//! are `Offline` (retry later, nothing lost), 401 is `Unauthorized`, any other non-2xx is
//! `Server` with the JSON error body's reason and message.
//!
//! Authenticated calls go through [`Http::authed`]: a 401 (typically an access token that
//! expired while the phone was offline) exchanges the refresh token once, saves the new tokens
//! through the [`TokenStore`] before using them, and repeats the call. A refused refresh is
//! `Unauthorized` (log in again; local work is kept), whatever the server's reason: signed out,
//! `refresh_token_reused`, device revoked, password changed by an administrator, or
//! `session_expired` (the session reached the server's maximum session age).
//!
//! A sync the server refuses as `overloaded` (503 with `Retry-After`) is sent again after the
//! delay it asks for, with jitter (`overload.rs`).
//!
//! `errors.rs` maps answers to [`DeviceError`]s, `session.rs` holds the session's tokens and
//! calls, `sync.rs` and `photos.rs` the endpoints of each protocol, `queries.rs` the server's
//! findings for review screens, `live.rs` the live stream.

mod errors;
mod live;
mod overload;
mod photos;
mod queries;
mod session;
mod sync;

use std::sync::Mutex;
use std::time::Duration;

use ureq::http::Response;
use ureq::Body;

use crate::error::{DeviceError, Result};
use errors::{check, transport};

pub use live::{LiveChange, LiveEvent, LiveEvents};
pub use photos::{Declared, UploadMode};
pub use session::{DeviceRegistration, SessionTokens, TokenStore};

pub struct Http<'a> {
    agent: ureq::Agent,
    base: String,
    /// The current access token (replaced after a refresh).
    token: Mutex<Option<String>>,
    /// Where the session's tokens live; `None`: no refresh (a bare token, or none).
    tokens: Option<&'a dyn TokenStore>,
}

impl Http<'static> {
    /// A client with a bare access token (or none): a 401 is final.
    pub fn new(base: &str, token: Option<String>) -> Http<'static> {
        Http::build(base, token, None)
    }
}

impl<'a> Http<'a> {
    /// A client for the session kept in `tokens`, refreshing it when the server says the
    /// access token is no longer good. `NotLoggedIn` if there is no session.
    pub fn with_session(base: &str, tokens: &'a dyn TokenStore) -> Result<Http<'a>> {
        let current = tokens.load_tokens()?.ok_or(DeviceError::NotLoggedIn)?;
        Ok(Http::build(base, Some(current.access_token), Some(tokens)))
    }

    fn build(base: &str, token: Option<String>, tokens: Option<&'a dyn TokenStore>) -> Http<'a> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            // Statuses are mapped by `check` below, not by ureq.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_global(Some(Duration::from_secs(300)))
            .user_agent(concat!("fieldsync-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Http {
            agent,
            base: base.trim_end_matches('/').to_string(),
            token: Mutex::new(token),
            tokens,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn access_token(&self) -> Option<String> {
        self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sends an authenticated request built by `send` from the `Authorization` value; on 401,
    /// refreshes the session once and sends it again. Requests are refused by authentication
    /// before the server does anything, so sending one again is always safe.
    fn authed(
        &self,
        send: impl Fn(&str) -> std::result::Result<Response<Body>, ureq::Error>,
    ) -> Result<Response<Body>> {
        check(self.authed_unchecked(send)?)
    }

    /// [`Http::authed`] without the status mapping: the answer as it came (after a refresh on
    /// 401), for callers that look at an error's headers first.
    fn authed_unchecked(
        &self,
        send: impl Fn(&str) -> std::result::Result<Response<Body>, ureq::Error>,
    ) -> Result<Response<Body>> {
        let token = self.access_token().ok_or(DeviceError::NotLoggedIn)?;
        let resp = send(&format!("Bearer {token}")).map_err(transport)?;
        if resp.status().as_u16() != 401 || self.tokens.is_none() {
            return Ok(resp);
        }
        let fresh = self.refresh_after(&token)?;
        send(&format!("Bearer {fresh}")).map_err(transport)
    }

    /// An authenticated `GET`.
    fn get(&self, url: &str) -> Result<Response<Body>> {
        self.authed(|auth| self.agent.get(url).header("Authorization", auth).call())
    }
}
