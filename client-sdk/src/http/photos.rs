//! The photo endpoints (docs/photo-uploads.md): declaration, status, parts, content,
//! completion, thumbnails, and requests presigned for the object store.

use std::time::Duration;

use fieldsync_shared::Sha256;
use serde::{Deserialize, Serialize};

use super::errors::{read_bytes, read_json, transport};
use super::Http;
use crate::error::{DeviceError, Result};

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

impl Http<'_> {
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
        let mut resp = self.get(&url)?;
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
        let mut resp = self.get(&url)?;
        let answer: PartAnswer = read_json(&mut resp)?;
        Ok(answer.put)
    }

    /// `PUT /v1/photos/uploads/{id}/parts/{n}?sha256=`: a part, to the server itself, which
    /// refuses it (`422 checksum_mismatch`) unless it hashes to `sha`.
    pub fn put_part(&self, upload_id: &str, part: u32, sha: &Sha256, bytes: &[u8]) -> Result<()> {
        let path = format!("/v1/photos/uploads/{upload_id}/parts/{part}?sha256={sha}");
        self.put_bytes(&path, "application/octet-stream", bytes)
    }

    /// `PUT /v1/photos/uploads/{id}/content`: the whole photo, to the server itself.
    pub fn put_content(&self, upload_id: &str, content_type: &str, bytes: &[u8]) -> Result<()> {
        let path = format!("/v1/photos/uploads/{upload_id}/content");
        self.put_bytes(&path, content_type, bytes)
    }

    /// An authenticated `PUT` of photo bytes, with time to send them on a weak link.
    fn put_bytes(&self, path: &str, content_type: &str, bytes: &[u8]) -> Result<()> {
        let url = self.url(path);
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
        let mut resp = self.get(&url)?;
        read_bytes(&mut resp)
    }

    /// `GET /v1/reference-photos/{sha256}`: a reference photo of a picture of success.
    pub fn reference_photo(&self, sha: &Sha256) -> Result<Vec<u8>> {
        let url = self.url(&format!("/v1/reference-photos/{sha}"));
        let mut resp = self.get(&url)?;
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
}

/// Time allowed for sending `len` bytes: a minute plus 16 KiB/s, so a 10 MB photo on a weak
/// link is not cut off, and a dead connection is still given up eventually.
fn upload_timeout(len: usize) -> Duration {
    Duration::from_secs(60 + (len as u64) / (16 * 1024))
}
