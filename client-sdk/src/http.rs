//! The HTTP side of the device (docs/http-api.md, docs/auth.md): a blocking ureq agent and one
//! function per endpoint. Error mapping lives here, in one place: transport failures are
//! `Offline` (retry later, nothing lost), 401 is `Unauthorized`, any other non-2xx is `Server`
//! with the JSON error body's reason and message.
//!
//! Authenticated calls go through [`Http::authed`]: a 401 (typically an access token that
//! expired while the phone was offline) exchanges the refresh token once, saves the new tokens
//! through the [`TokenStore`] before using them, and repeats the call. A refused refresh is
//! `Unauthorized` (log in again; local work is kept), whatever the server's reason: signed out,
//! `refresh_token_reused`, device revoked, password changed by an administrator, or
//! `session_expired` (the session reached the server's maximum session age).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use fieldsync_shared::master::{MasterDataPage, UserProfile};
use fieldsync_shared::protocol::{self, SyncRequest, SyncResponse, SYNC_CONTENT_TYPE};
use fieldsync_shared::Sha256;
use serde::{Deserialize, Serialize};
use ureq::http::Response;
use ureq::Body;

use crate::error::{DeviceError, Result};

/// Bodies above this size are gzip-compressed before sending.
const GZIP_THRESHOLD: usize = 1024;
/// Largest response body read (a pull page is capped at 4 MiB by the protocol; CBOR overhead
/// and master data pages stay well below this).
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

pub struct Http<'a> {
    agent: ureq::Agent,
    base: String,
    /// The current access token (replaced after a refresh).
    token: Mutex<Option<String>>,
    /// Where the session's tokens live; `None`: no refresh (a bare token, or none).
    tokens: Option<&'a dyn TokenStore>,
}

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

#[derive(Serialize)]
struct DeclareRequest<'a> {
    sha256: String,
    size_bytes: u64,
    content_type: &'a str,
}

/// A request to send to the object store directly (docs/photo-uploads.md).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PresignedRequest {
    pub method: String,
    pub url: String,
    /// Sent exactly as given: they are part of the signature.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Unix milliseconds.
    #[serde(default)]
    pub expires_at: i64,
}

/// The answer to a photo declaration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Declared {
    /// The server already holds the photo: send nothing.
    Stored {},
    /// Send the photo: `single` (whole body with `put`, or to the server when `put` is null)
    /// or `multipart` (`parts` parts of `part_size` bytes, numbered from 1).
    Upload {
        upload_id: String,
        mode: UploadMode,
        #[serde(default)]
        put: Option<PresignedRequest>,
        #[serde(default)]
        part_size: u64,
        #[serde(default)]
        parts: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadMode {
    Single,
    Multipart,
}

/// `GET /v1/photos/uploads/{id}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UploadStatus {
    /// `uploading`, `stored` or `failed`.
    pub status: String,
    #[serde(default)]
    pub stored_parts: Vec<u32>,
}

#[derive(Deserialize)]
struct PartAnswer {
    #[serde(default)]
    put: Option<PresignedRequest>,
}

/// `POST /v1/photos/uploads/{id}/complete` answered 200.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Completed {
    pub status: String,
    #[serde(default)]
    pub thumbnail: bool,
}

#[derive(Deserialize)]
struct ErrorBody {
    reason: String,
    message: String,
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
        let token = self.access_token().ok_or(DeviceError::NotLoggedIn)?;
        let resp = send(&format!("Bearer {token}")).map_err(transport)?;
        if resp.status().as_u16() != 401 || self.tokens.is_none() {
            return check(resp);
        }
        let fresh = self.refresh_after(&token)?;
        let resp = send(&format!("Bearer {fresh}")).map_err(transport)?;
        check(resp)
    }

    /// A working access token after `rejected` was refused: the one another sync of this
    /// device got meanwhile, or a new one from `POST /v1/auth/refresh` (saved before returning).
    fn refresh_after(&self, rejected: &str) -> Result<String> {
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

    pub fn master(&self, since: i64) -> Result<MasterDataPage> {
        let url = self.url(&format!("/v1/master?since={since}"));
        let mut resp =
            self.authed(|auth| self.agent.get(&url).header("Authorization", auth).call())?;
        read_json(&mut resp)
    }

    // -----------------------------------------------------------------------------------------
    // photo uploads (docs/photo-uploads.md)

    /// `POST /v1/photos/uploads`: does the server hold the photo, and if not, how to send it.
    pub fn declare_photo(&self, sha: &Sha256, size: u64, content_type: &str) -> Result<Declared> {
        let url = self.url("/v1/photos/uploads");
        let mut resp = self.authed(|auth| {
            self.agent
                .post(&url)
                .header("Authorization", auth)
                .send_json(DeclareRequest {
                    sha256: sha.to_hex(),
                    size_bytes: size,
                    content_type,
                })
        })?;
        read_json(&mut resp)
    }

    /// `GET /v1/photos/uploads/{id}`: the upload's status and the parts the server holds.
    pub fn upload_status(&self, upload_id: &str) -> Result<UploadStatus> {
        let url = self.url(&format!("/v1/photos/uploads/{upload_id}"));
        let mut resp =
            self.authed(|auth| self.agent.get(&url).header("Authorization", auth).call())?;
        read_json(&mut resp)
    }

    /// `GET /v1/photos/uploads/{id}/parts/{n}`: where to send part `n` (`None`: to the server).
    pub fn part_request(
        &self,
        upload_id: &str,
        part: u32,
        sha: &Sha256,
        size: usize,
    ) -> Result<Option<PresignedRequest>> {
        let url = self.url(&format!(
            "/v1/photos/uploads/{upload_id}/parts/{part}?sha256={sha}&size={size}"
        ));
        let mut resp =
            self.authed(|auth| self.agent.get(&url).header("Authorization", auth).call())?;
        let answer: PartAnswer = read_json(&mut resp)?;
        Ok(answer.put)
    }

    /// `PUT /v1/photos/uploads/{id}/parts/{n}?sha256=`: a part, to the server itself, which
    /// refuses it (`422 checksum_mismatch`) unless it hashes to `sha`.
    pub fn put_part(&self, upload_id: &str, part: u32, sha: &Sha256, bytes: &[u8]) -> Result<()> {
        let url = self.url(&format!(
            "/v1/photos/uploads/{upload_id}/parts/{part}?sha256={sha}"
        ));
        self.authed(|auth| {
            self.agent
                .put(&url)
                .config()
                .timeout_global(Some(upload_timeout(bytes.len())))
                .build()
                .header("Authorization", auth)
                .header("Content-Type", "application/octet-stream")
                .send(bytes)
        })
        .map(|_| ())
    }

    /// `PUT /v1/photos/uploads/{id}/content`: the whole photo, to the server itself.
    pub fn put_content(&self, upload_id: &str, content_type: &str, bytes: &[u8]) -> Result<()> {
        let url = self.url(&format!("/v1/photos/uploads/{upload_id}/content"));
        self.authed(|auth| {
            self.agent
                .put(&url)
                .config()
                .timeout_global(Some(upload_timeout(bytes.len())))
                .build()
                .header("Authorization", auth)
                .header("Content-Type", content_type)
                .send(bytes)
        })
        .map(|_| ())
    }

    /// `POST /v1/photos/uploads/{id}/complete`: the server verifies and records the photo.
    pub fn complete_upload(&self, upload_id: &str) -> Result<Completed> {
        let url = self.url(&format!("/v1/photos/uploads/{upload_id}/complete"));
        let mut resp = self.authed(|auth| {
            self.agent
                .post(&url)
                .config()
                // The server reads the whole object back and hashes it before answering.
                .timeout_global(Some(Duration::from_secs(300)))
                .build()
                .header("Authorization", auth)
                .send_empty()
        })?;
        read_json(&mut resp)
    }

    /// `PUT /v1/photos/{sha256}/thumbnail`: the photo's thumbnail, sent before the photo
    /// (thumbnails first). Idempotent: sending it again changes nothing.
    pub fn put_thumbnail(&self, sha: &Sha256, jpeg: &[u8]) -> Result<()> {
        let url = self.url(&format!("/v1/photos/{sha}/thumbnail"));
        self.authed(|auth| {
            self.agent
                .put(&url)
                .header("Authorization", auth)
                .header("Content-Type", "image/jpeg")
                .send(jpeg)
        })
        .map(|_| ())
    }

    /// `GET /v1/photos/{sha256}/thumbnail`: the photo's thumbnail (a `307` to the object store
    /// is followed, without our credentials).
    pub fn photo_thumbnail(&self, sha: &Sha256) -> Result<Vec<u8>> {
        let url = self.url(&format!("/v1/photos/{sha}/thumbnail"));
        let mut resp =
            self.authed(|auth| self.agent.get(&url).header("Authorization", auth).call())?;
        read_bytes(&mut resp)
    }

    /// Sends `bytes` with a presigned request to the object store: its method, URL and headers
    /// exactly as given, and no credentials of ours (the signature is the credential). The
    /// store's refusals are `Server` errors named `object_store_<status>`.
    pub fn send_presigned(&self, req: &PresignedRequest, bytes: &[u8]) -> Result<()> {
        let mut builder = ureq::http::Request::builder()
            .method(req.method.as_str())
            .uri(req.url.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder.body(bytes).map_err(|e| DeviceError::Server {
            status: 200,
            reason: "bad_presigned_request".into(),
            message: format!("the server's upload request is unusable: {e}"),
        })?;
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(upload_timeout(bytes.len())))
            .build();
        let mut resp = self.agent.run(request).map_err(transport)?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(4 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        Err(DeviceError::Server {
            status,
            reason: format!("object_store_{status}"),
            message: format!(
                "the object store refused the upload: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            ),
        })
    }

    pub fn sync(&self, req: &SyncRequest) -> Result<SyncResponse> {
        let body = protocol::encode(req);
        let gzipped = body.len() > GZIP_THRESHOLD;
        let body = if gzipped { protocol::gzip(&body) } else { body };
        let url = self.url("/v1/sync");
        let mut resp = self.authed(|auth| {
            let mut builder = self
                .agent
                .post(&url)
                .header("Authorization", auth)
                .header("Content-Type", SYNC_CONTENT_TYPE)
                .header("Accept-Encoding", "gzip");
            if gzipped {
                builder = builder.header("Content-Encoding", "gzip");
            }
            builder.send(&body[..])
        })?;
        // ureq's gzip feature decodes `Content-Encoding: gzip` itself and removes the header;
        // if the header is still there, the body was left encoded and we decode it here.
        let still_gzipped = resp
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        let bytes = read_bytes(&mut resp)?;
        let bytes = if still_gzipped {
            protocol::gunzip(&bytes, MAX_RESPONSE_BYTES as usize)
                .map_err(|e| bad_response(e.to_string()))?
        } else {
            bytes
        };
        protocol::decode(&bytes).map_err(|e| bad_response(e.to_string()))
    }
}

/// Time allowed for sending `len` bytes: a minute plus 16 KiB/s, so a 10 MB photo on a weak
/// link is not cut off, and a dead connection is still given up eventually.
fn upload_timeout(len: usize) -> Duration {
    Duration::from_secs(60 + (len as u64) / (16 * 1024))
}

fn transport(e: ureq::Error) -> DeviceError {
    DeviceError::Offline(e.to_string())
}

fn bad_response(detail: String) -> DeviceError {
    DeviceError::Server {
        status: 200,
        reason: "bad_response".into(),
        message: format!("the server's answer could not be read: {detail}"),
    }
}

/// Passes 2xx through; maps 401 and other errors.
fn check(resp: Response<Body>) -> Result<Response<Body>> {
    let status = resp.status().as_u16();
    match status {
        200..=299 => Ok(resp),
        401 => Err(DeviceError::Unauthorized),
        _ => Err(server_error(resp)),
    }
}

fn server_error(mut resp: Response<Body>) -> DeviceError {
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(e) => DeviceError::Server {
            status,
            reason: e.reason,
            message: e.message,
        },
        Err(_) => DeviceError::Server {
            status,
            reason: format!("http_{status}"),
            message: String::from_utf8_lossy(&body).chars().take(500).collect(),
        },
    }
}

fn read_bytes(resp: &mut Response<Body>) -> Result<Vec<u8>> {
    // A body cut short is a network failure: the request may or may not have been applied,
    // and retrying is always safe.
    resp.body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_vec()
        .map_err(transport)
}

fn read_json<T: serde::de::DeserializeOwned>(resp: &mut Response<Body>) -> Result<T> {
    let bytes = read_bytes(resp)?;
    serde_json::from_slice(&bytes).map_err(|e| bad_response(e.to_string()))
}
