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

    // -----------------------------------------------------------------------------------------
    // photo uploads (docs/photo-uploads.md)

    /// `POST /v1/photos/uploads`: does the server hold the photo, and if not, how to send it.
    pub fn declare_photo(&self, sha: &Sha256, size: u64, content_type: &str) -> Result<Declared> {
        let resp = self
            .agent
            .post(&self.url("/v1/photos/uploads"))
            .header("Authorization", &self.bearer()?)
            .send_json(DeclareRequest {
                sha256: sha.to_hex(),
                size_bytes: size,
                content_type,
            })
            .map_err(transport)?;
        read_json(&mut check(resp)?)
    }

    /// `GET /v1/photos/uploads/{id}`: the upload's status and the parts the server holds.
    pub fn upload_status(&self, upload_id: &str) -> Result<UploadStatus> {
        let resp = self
            .agent
            .get(&self.url(&format!("/v1/photos/uploads/{upload_id}")))
            .header("Authorization", &self.bearer()?)
            .call()
            .map_err(transport)?;
        read_json(&mut check(resp)?)
    }

    /// `GET /v1/photos/uploads/{id}/parts/{n}`: where to send part `n` (`None`: to the server).
    pub fn part_request(
        &self,
        upload_id: &str,
        part: u32,
        sha: &Sha256,
        size: usize,
    ) -> Result<Option<PresignedRequest>> {
        let resp = self
            .agent
            .get(&self.url(&format!(
                "/v1/photos/uploads/{upload_id}/parts/{part}?sha256={sha}&size={size}"
            )))
            .header("Authorization", &self.bearer()?)
            .call()
            .map_err(transport)?;
        let answer: PartAnswer = read_json(&mut check(resp)?)?;
        Ok(answer.put)
    }

    /// `PUT /v1/photos/uploads/{id}/parts/{n}?sha256=`: a part, to the server itself, which
    /// refuses it (`422 checksum_mismatch`) unless it hashes to `sha`.
    pub fn put_part(&self, upload_id: &str, part: u32, sha: &Sha256, bytes: &[u8]) -> Result<()> {
        let resp = self
            .agent
            .put(&self.url(&format!(
                "/v1/photos/uploads/{upload_id}/parts/{part}?sha256={sha}"
            )))
            .config()
            .timeout_global(Some(upload_timeout(bytes.len())))
            .build()
            .header("Authorization", &self.bearer()?)
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .map_err(transport)?;
        check(resp).map(|_| ())
    }

    /// `PUT /v1/photos/uploads/{id}/content`: the whole photo, to the server itself.
    pub fn put_content(&self, upload_id: &str, content_type: &str, bytes: &[u8]) -> Result<()> {
        let resp = self
            .agent
            .put(&self.url(&format!("/v1/photos/uploads/{upload_id}/content")))
            .config()
            .timeout_global(Some(upload_timeout(bytes.len())))
            .build()
            .header("Authorization", &self.bearer()?)
            .header("Content-Type", content_type)
            .send(bytes)
            .map_err(transport)?;
        check(resp).map(|_| ())
    }

    /// `POST /v1/photos/uploads/{id}/complete`: the server verifies and records the photo.
    pub fn complete_upload(&self, upload_id: &str) -> Result<Completed> {
        let resp = self
            .agent
            .post(&self.url(&format!("/v1/photos/uploads/{upload_id}/complete")))
            .config()
            // The server reads the whole object back and hashes it before answering.
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .header("Authorization", &self.bearer()?)
            .send_empty()
            .map_err(transport)?;
        read_json(&mut check(resp)?)
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
