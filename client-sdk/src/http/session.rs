//! The session: the tokens a device keeps, its registration at login, and the calls that
//! open, refresh and end a session (docs/auth.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use fieldsync_shared::master::UserProfile;
use serde::{Deserialize, Serialize};

use super::errors::{check, read_json, server_error, transport};
use super::Http;
use crate::error::{DeviceError, Result};

/// The tokens of a device session, as the device keeps them.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionTokens {
    pub access_token: String,
    /// `None` for a login without a device (it cannot be refreshed).
    pub refresh_token: Option<String>,
    /// Unix milliseconds.
    pub refresh_expires_at: Option<i64>,
    pub session_id: Option<String>,
}

impl std::fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTokens")
            .field("session_id", &self.session_id)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

/// Keeps a device's session tokens (the device database). A refreshed refresh token must be
/// saved before it is used: the one it replaced is used up on the server.
pub trait TokenStore: Send + Sync {
    /// Serialises refreshes of this device's session (process-wide).
    fn session_key(&self) -> String;
    fn load_tokens(&self) -> Result<Option<SessionTokens>>;
    fn save_tokens(&self, tokens: &SessionTokens) -> Result<()>;
}

/// The device part of a login (docs/auth.md).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceRegistration {
    pub device_id: String,
    /// Hex.
    pub actor_id: String,
    pub name: String,
    pub platform: String,
}

impl DeviceRegistration {
    /// This installation: its device id and actor, the machine's name (or "fieldsync
    /// device"), and the operating system.
    pub fn this_installation(device_id: &str, actor_hex: &str) -> DeviceRegistration {
        DeviceRegistration {
            device_id: device_id.to_string(),
            actor_id: actor_hex.to_string(),
            name: device_name(),
            platform: std::env::consts::OS.to_string(),
        }
    }
}

/// A readable name for this machine: its host name where the system tells it, else a generic
/// one (phones do not expose theirs to apps).
fn device_name() -> String {
    let from_env = ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok());
    let from_file = || std::fs::read_to_string("/etc/hostname").ok();
    from_env
        .or_else(from_file)
        .map(|n| {
            n.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "fieldsync device".to_string())
}

#[derive(Serialize)]
struct LoginRequest<'a> {
    tenant: &'a str,
    username: &'a str,
    password: &'a str,
    device: &'a DeviceRegistration,
}

#[derive(Deserialize)]
pub struct LoginResponse {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Seconds.
    #[serde(default)]
    pub refresh_expires_in: Option<u64>,
    #[serde(default)]
    pub session_id: Option<String>,
    pub user: UserProfile,
}

impl LoginResponse {
    /// The tokens to keep, with the refresh token's expiry as of `now_ms`.
    pub fn session_tokens(&self, now_ms: i64) -> SessionTokens {
        SessionTokens {
            access_token: self.access_token.clone(),
            refresh_token: self.refresh_token.clone(),
            refresh_expires_at: self
                .refresh_expires_in
                .map(|s| now_ms.saturating_add((s as i64).saturating_mul(1000))),
            session_id: self.session_id.clone(),
        }
    }
}

#[derive(Serialize)]
struct RefreshRequest<'a> {
    refresh_token: &'a str,
}

#[derive(Deserialize)]
struct RefreshResponse {
    access_token: String,
    refresh_token: String,
    refresh_expires_in: u64,
    session_id: String,
}

/// One lock per device session, so that two syncs of one device (a background one and the
/// app's) never exchange the same refresh token twice: the second would count as a reuse.
fn refresh_lock(key: &str) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    locks.entry(key.to_string()).or_default().clone()
}

impl Http<'_> {
    /// A working access token after `rejected` was refused: the one another sync of this
    /// device got meanwhile, or a new one from `POST /v1/auth/refresh` (saved before returning).
    pub(super) fn refresh_after(&self, rejected: &str) -> Result<String> {
        let store = self.tokens.ok_or(DeviceError::Unauthorized)?;
        let lock = refresh_lock(&store.session_key());
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let current = store.load_tokens()?.ok_or(DeviceError::NotLoggedIn)?;
        if current.access_token != rejected {
            self.set_access_token(&current.access_token);
            return Ok(current.access_token);
        }
        let refresh_token = current.refresh_token.ok_or(DeviceError::Unauthorized)?;
        let resp = self
            .agent
            .post(&self.url("/v1/auth/refresh"))
            .send_json(RefreshRequest {
                refresh_token: &refresh_token,
            })
            .map_err(transport)?;
        let answer: RefreshResponse = read_json(&mut check(resp)?)?;
        let now_ms = chrono::Utc::now().timestamp_millis();
        store.save_tokens(&SessionTokens {
            access_token: answer.access_token.clone(),
            refresh_token: Some(answer.refresh_token),
            refresh_expires_at: Some(
                now_ms.saturating_add((answer.refresh_expires_in as i64).saturating_mul(1000)),
            ),
            session_id: Some(answer.session_id),
        })?;
        self.set_access_token(&answer.access_token);
        Ok(answer.access_token)
    }

    fn set_access_token(&self, token: &str) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.to_string());
    }

    /// `POST /v1/auth/login` with this device's registration.
    pub fn login(
        &self,
        tenant: &str,
        username: &str,
        password: &str,
        device: &DeviceRegistration,
    ) -> Result<LoginResponse> {
        let resp = self
            .agent
            .post(&self.url("/v1/auth/login"))
            .send_json(LoginRequest {
                tenant,
                username,
                password,
                device,
            })
            .map_err(transport)?;
        // A 401 here means wrong credentials, not an expired session: keep the server's words.
        let mut resp = if resp.status().as_u16() == 401 {
            return Err(server_error(resp));
        } else {
            check(resp)?
        };
        read_json(&mut resp)
    }

    /// `POST /v1/auth/logout`: ends the session on the server.
    pub fn logout(&self) -> Result<()> {
        self.authed(|auth| {
            self.agent
                .post(&self.url("/v1/auth/logout"))
                .header("Authorization", auth)
                .send_empty()
        })
        .map(|_| ())
    }
}
