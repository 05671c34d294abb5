//! The HTTP side of the device (docs/http-api.md): a blocking ureq agent and one function per
//! endpoint. Error mapping lives here, in one place: transport failures are `Offline` (retry
//! later, nothing lost), 401 is `Unauthorized`, any other non-2xx is `Server` with the JSON
//! error body's reason and message.

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

pub struct Http {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
}

#[derive(Serialize)]
struct LoginRequest<'a> {
    tenant: &'a str,
    username: &'a str,
    password: &'a str,
}

#[derive(Deserialize)]
pub struct LoginResponse {
    pub access_token: String,
    pub user: UserProfile,
}

#[derive(Deserialize)]
struct ErrorBody {
    reason: String,
    message: String,
}

impl Http {
    pub fn new(base: &str, token: Option<String>) -> Http {
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
            token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn bearer(&self) -> Result<String> {
        self.token
            .as_ref()
            .map(|t| format!("Bearer {t}"))
            .ok_or(DeviceError::NotLoggedIn)
    }

    pub fn login(&self, tenant: &str, username: &str, password: &str) -> Result<LoginResponse> {
        let resp = self
            .agent
            .post(&self.url("/v1/auth/login"))
            .send_json(LoginRequest {
                tenant,
                username,
                password,
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

    pub fn master(&self, since: i64) -> Result<MasterDataPage> {
        let resp = self
            .agent
            .get(&self.url(&format!("/v1/master?since={since}")))
            .header("Authorization", &self.bearer()?)
            .call()
            .map_err(transport)?;
        read_json(&mut check(resp)?)
    }

    /// Does the server already hold this photo (for this tenant)?
    pub fn photo_exists(&self, sha: &Sha256) -> Result<bool> {
        let resp = self
            .agent
            .head(&self.url(&format!("/v1/photos/{sha}")))
            .header("Authorization", &self.bearer()?)
            .call()
            .map_err(transport)?;
        match resp.status().as_u16() {
            404 => Ok(false),
            _ => check(resp).map(|_| true),
        }
    }

    pub fn put_photo(&self, sha: &Sha256, content_type: &str, bytes: &[u8]) -> Result<()> {
        let resp = self
            .agent
            .put(&self.url(&format!("/v1/photos/{sha}")))
            .header("Authorization", &self.bearer()?)
            .header("Content-Type", content_type)
            .send(bytes)
            .map_err(transport)?;
        check(resp).map(|_| ())
    }

    pub fn sync(&self, req: &SyncRequest) -> Result<SyncResponse> {
        let body = protocol::encode(req);
        let mut builder = self
            .agent
            .post(&self.url("/v1/sync"))
            .header("Authorization", &self.bearer()?)
            .header("Content-Type", SYNC_CONTENT_TYPE)
            .header("Accept-Encoding", "gzip");
        let body = if body.len() > GZIP_THRESHOLD {
            builder = builder.header("Content-Encoding", "gzip");
            protocol::gzip(&body)
        } else {
            body
        };
        let resp = builder.send(&body[..]).map_err(transport)?;
        let mut resp = check(resp)?;
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
