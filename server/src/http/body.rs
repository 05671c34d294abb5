//! Reading request bodies: whole within a limit (JSON, sync), or streamed and hashed (photos),
//! and reading away what a refused client is still sending.

use std::pin::Pin;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderMap};
use fieldsync_shared::Sha256;
use sha2::Digest;

use super::error::{ApiError, ApiResult};

/// A JSON body that did not parse: unknown fields and invalid values are 422 `invalid_body`
/// (well-formed JSON, refused content), broken JSON 400, wrong content type 415.
pub fn body_error(e: JsonRejection) -> ApiError {
    match e {
        JsonRejection::JsonDataError(e) => ApiError::unprocessable("invalid_body", e.body_text()),
        other => other.into(),
    }
}

/// Reads at most `max` body bytes (413 `body_too_large` beyond).
pub async fn read_body(headers: &HeaderMap, body: Body, max: usize) -> ApiResult<bytes::Bytes> {
    let too_large = || ApiError::TooLarge {
        reason: "body_too_large",
        message: format!("the body is larger than {max} bytes"),
    };
    if declared_length(headers).is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    // The only error a request body produces here, besides the limit, is a client that went
    // away mid-upload; nobody reads that answer.
    axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_large())
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// The next data frame of the body; trailers are skipped.
async fn next_data(body: &mut Body) -> Option<ApiResult<Bytes>> {
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await?;
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Ok(data));
                }
                // Trailers: nothing to hash.
            }
            Err(e) => {
                return Some(Err(ApiError::bad_request(
                    "malformed_body",
                    format!("reading the body failed: {e}"),
                )))
            }
        }
    }
}

/// Reads and discards up to `budget` more bytes.
async fn drain(body: &mut Body, mut budget: u64) {
    while budget > 0 {
        match next_data(body).await {
            Some(Ok(data)) => budget = budget.saturating_sub(data.len() as u64),
            _ => return,
        }
    }
}

/// After answering (typically with an error), reads away what the client is still sending
/// (at most `2 * max`), so that a client that sends its whole body before reading sees the
/// answer instead of a reset connection. Not with `Expect: 100-continue` (the client waits
/// and never sends the body) nor for absurdly large declared bodies.
pub async fn drain_rest(headers: &HeaderMap, body: &mut Body, max: u64) {
    let budget = max.saturating_mul(2);
    if !expects_continue(headers) && declared_length(headers).is_none_or(|n| n <= budget) {
        drain(body, budget).await;
    }
}

/// Receives the body in chunks, hashing as it comes; more than `max` bytes is refused with
/// `over_limit()` as soon as the chunk that crosses it arrives.
pub async fn receive_limited(
    body: &mut Body,
    max: u64,
    over_limit: impl Fn() -> ApiError,
) -> ApiResult<(Bytes, Sha256)> {
    let mut hasher = sha2::Sha256::new();
    let mut buf = Vec::new();
    while let Some(data) = next_data(body).await {
        let data = data?;
        if (buf.len() + data.len()) as u64 > max {
            return Err(over_limit());
        }
        hasher.update(&data);
        buf.extend_from_slice(&data);
    }
    let digest: [u8; 32] = hasher.finalize().into();
    Ok((Bytes::from(buf), Sha256::from_bytes(digest)))
}

/// How the OpenAPI description names raw bytes, a photo or a CBOR body: `type: string,
/// format: binary` (a `Vec<u8>` would be described as an array of integers).
pub struct RawBytes;

impl utoipa::PartialSchema for RawBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for RawBytes {}
