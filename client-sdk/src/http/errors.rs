//! Error mapping, in one place: transport failures are `Offline` (retry later, nothing lost),
//! 401 is `Unauthorized`, any other non-2xx is `Server` with the JSON error body's reason and
//! message; a 2xx whose body cannot be read is `Server` `bad_response`.

use serde::Deserialize;
use ureq::http::Response;
use ureq::Body;

use crate::error::{DeviceError, Result};

/// Largest response body read (a pull page is capped at 4 MiB by the protocol; CBOR overhead
/// and master data pages stay well below this).
pub(super) const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Deserialize)]
struct ErrorBody {
    reason: String,
    message: String,
}

pub(super) fn transport(e: ureq::Error) -> DeviceError {
    DeviceError::Offline(e.to_string())
}

pub(super) fn bad_response(detail: String) -> DeviceError {
    DeviceError::Server {
        status: 200,
        reason: "bad_response".into(),
        message: format!("the server's answer could not be read: {detail}"),
    }
}

/// Passes 2xx through; maps 401 and other errors.
pub(super) fn check(resp: Response<Body>) -> Result<Response<Body>> {
    let status = resp.status().as_u16();
    match status {
        200..=299 => Ok(resp),
        401 => Err(DeviceError::Unauthorized),
        _ => Err(server_error(resp)),
    }
}

pub(super) fn server_error(mut resp: Response<Body>) -> DeviceError {
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    error_from_body(status, &body)
}

/// The error an answer of `status` with (at most 64 KiB of) `body` stands for.
pub(super) fn error_from_body(status: u16, body: &[u8]) -> DeviceError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => DeviceError::Server {
            status,
            reason: e.reason,
            message: e.message,
        },
        Err(_) => DeviceError::Server {
            status,
            reason: format!("http_{status}"),
            message: String::from_utf8_lossy(body).chars().take(500).collect(),
        },
    }
}

pub(super) fn read_bytes(resp: &mut Response<Body>) -> Result<Vec<u8>> {
    // A body cut short is a network failure: the request may or may not have been applied,
    // and retrying is always safe.
    resp.body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_vec()
        .map_err(transport)
}

pub(super) fn read_json<T: serde::de::DeserializeOwned>(resp: &mut Response<Body>) -> Result<T> {
    let bytes = read_bytes(resp)?;
    serde_json::from_slice(&bytes).map_err(|e| bad_response(e.to_string()))
}
