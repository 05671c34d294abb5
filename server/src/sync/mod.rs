//! `POST /v1/sync`: one round trip of the sync protocol (`shared::protocol`).
//!
//! Stages, one function each, in the order a request flows through them:
//! 1. [`signed_in_device`]: only a device session syncs (403 `device_required`).
//! 2. [`check_content_type`]: the body must be the sync media type (415).
//! 3. [`read_body`]: at most `max_body_bytes` (413); then a turn from [`admission`] (503
//!    `overloaded` with `Retry-After` when the server already works on and queues all it takes).
//! 4. [`decode_body`]: `Content-Encoding` gzip or identity (415 otherwise), gunzip with the
//!    decoded-size limit, then `protocol::decode_request` (400/413/422; nothing stored).
//! 5. [`check_device_id`]: the request speaks for the signed-in device (403 `device_mismatch`).
//! 6. [`scope::read_scope`]: what the principal may see, once per request.
//! 7. [`push::push`]: merge (access, actor and policy checks, [`merge`], [`policy`]), the
//!    server's verdict on submissions (`crate::verdicts`, holds written like compensations)
//!    and commit the pushed documents (one transaction); then store the verdicts' findings.
//! 8. [`pull::pull`]: a page of what the device lacks, after the commit.
//! 9. [`encode_response`]: CBOR, gzip when the device accepts it.
//!
//! After the response is decided, documents that grew past
//! [`compaction::AUTO_COMPACT_AFTER_CHANGES`] are compacted in the background.

pub mod admission;
pub mod compaction;
pub mod merge;
pub mod policy;
pub mod projection;
pub mod pull;
pub mod push;

pub mod upgrade;

use axum::body::Body;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Extension;
use axum::Router;
use fieldsync_shared::protocol::{
    self, Limits, ProtocolError, PushResult, SyncRequest, SyncResponse, PROTOCOL_VERSION,
    SYNC_CONTENT_TYPE,
};

use crate::auth::{DeviceSession, Principal};
use crate::http::body::read_body;
use crate::http::{ApiError, ApiResult, ErrorBody};
use crate::scope;
use crate::state::AppState;
use admission::Admission;
use push::PushContext;

/// Routes of the sync endpoint, with this instance's admission control.
pub fn router(state: &AppState) -> Router<AppState> {
    let admission = Admission::new(&state.config.sync_admission, state.metrics.clone());
    Router::new()
        .route("/v1/sync", post(sync))
        .layer(Extension(Arc::new(admission)))
}

/// OpenAPI description of the sync endpoint (merged into the served spec by `openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(sync), components(schemas(ErrorBody)))]
pub struct SyncApi;

/// Push changes and pull what this device lacks.
///
/// Body and response are CBOR (`shared::protocol::SyncRequest` / `SyncResponse`), optionally
/// gzip-encoded. Every pushed document gets exactly one outcome; outcomes are sent only after
/// the changes are durably committed.
#[utoipa::path(
    post,
    path = "/v1/sync",
    tag = "sync",
    request_body(
        content = inline(crate::http::body::RawBytes),
        content_type = "application/vnd.fieldsync.sync+cbor",
        description = "CBOR SyncRequest; Content-Encoding: gzip optional"
    ),
    responses(
        (status = 200, description = "CBOR SyncResponse (gzip when accepted)", body = inline(crate::http::body::RawBytes),
            content_type = "application/vnd.fieldsync.sync+cbor"),
        (status = 400, description = "malformed_body, unsupported_protocol_version", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 403, description = "device_required (the token was not issued to a device), device_mismatch (device_id is not the signed-in device)", body = ErrorBody),
        (status = 413, description = "body_too_large, limit_exceeded", body = ErrorBody),
        (status = 415, description = "unsupported_media_type (Content-Type), unsupported_content_encoding (Content-Encoding other than gzip or identity)", body = ErrorBody),
        (status = 422, description = "unknown_document_kind, duplicate_document", body = ErrorBody),
        (status = 503, description = "`overloaded`: the server is working on as many syncs as it takes (admission control), or `unavailable`: database unavailable or too much contention; retry after the Retry-After seconds", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(
    skip_all,
    fields(tenant = %principal.tenant_id, user = %principal.user_id, device, pushed, stored)
)]
pub async fn sync(
    State(state): State<AppState>,
    Extension(admission): Extension<Arc<Admission>>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let limits = state.config.limits;
    let device = signed_in_device(&principal)?;
    check_content_type(&headers)?;
    let raw = read_body(&headers, body, limits.max_body_bytes).await?;
    let _turn = match admission.admit().await {
        Ok(turn) => turn,
        Err(overloaded) => return Ok(overloaded.into_response()),
    };
    let bytes_received = raw.len() as u64;
    let request = decode_body(&headers, raw, limits).await?;
    check_device_id(device, &request)?;

    let span = tracing::Span::current();
    span.record("device", tracing::field::display(request.device_id));
    span.record("pushed", request.push.len());

    let scope = scope::read_scope(state.store.as_ref(), &principal).await?;
    let ctx = PushContext {
        tenant_id: principal.tenant_id,
        user_id: principal.user_id,
        device_id: device.device_id,
        actor: device.actor.clone(),
        scope: std::sync::Arc::new(scope),
        limits: state.config.documents.limits(),
        cross_device: crate::verdicts::Limits::for_tenant(
            &state.config.verdicts,
            principal.tenant_id,
        ),
        receipts: state.tokens.receipts().clone(),
    };
    let report = push::push(state.store.as_ref(), &ctx, request.push).await?;
    let changes_stored = report.changes_stored();
    span.record("stored", changes_stored);
    state.metrics.record_sync(
        report.committed.len() as u64,
        changes_stored,
        bytes_received,
    );
    for f in &report.findings {
        state
            .metrics
            .record_finding(&f.code, f.severity.as_str(), f.source.as_str());
    }
    for outcome in &report.outcomes {
        if matches!(&outcome.result, PushResult::Refused { reason, .. } if reason == merge::reasons::OVER_LIMITS)
        {
            state.metrics.record_document_over_limits();
        }
    }

    // After the commit, so the device's own writes are already in the feed (and skipped).
    let pull = match &request.pull {
        Some(p) => Some(
            pull::pull(
                state.store.as_ref(),
                ctx.tenant_id,
                ctx.device_id,
                &ctx.scope,
                p,
                limits.max_pull_bytes,
                state.tokens.receipts(),
            )
            .await?,
        ),
        None => None,
    };
    let response = SyncResponse {
        protocol: PROTOCOL_VERSION,
        outcomes: report.outcomes,
        pull,
    };
    let http_response = encode_response(&headers, response).await?;
    // After the commit; on PostgreSQL the NOTIFY of the commit does this (`feed_events`).
    let last_seq = report.committed.iter().map(|c| c.seq).max();
    state.feed_events.committed_locally(ctx.tenant_id, last_seq);

    let to_compact = report
        .committed
        .iter()
        .filter(|c| c.changes_since_snapshot > compaction::AUTO_COMPACT_AFTER_CHANGES)
        .map(|c| c.doc_id)
        .collect();
    compaction::spawn_compactions(state.store.clone(), ctx.tenant_id, to_compact);
    Ok(http_response)
}

/// The device session of the token: tokens issued without a device (administration tools)
/// cannot sync, because changes are bound to the device's actor.
fn signed_in_device(principal: &Principal) -> ApiResult<&DeviceSession> {
    principal.device.as_ref().ok_or_else(|| {
        ApiError::forbidden(
            "device_required",
            "only a signed-in device can sync: log in with a device registration",
        )
    })
}

/// The request must speak for the device the token was issued to: pulls skip "this device's
/// own changes" by that id, so another id would receive or hide the wrong changes.
fn check_device_id(device: &DeviceSession, request: &SyncRequest) -> ApiResult<()> {
    if request.device_id == device.device_id {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "device_mismatch",
        "the request's device_id is not the device this token was issued to",
    ))
}

/// 415 unless the body is declared as the sync media type (parameters ignored).
fn check_content_type(headers: &HeaderMap) -> ApiResult<()> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match declared {
        Some(ct) if ct.eq_ignore_ascii_case(SYNC_CONTENT_TYPE) => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be {SYNC_CONTENT_TYPE}"
        ))),
    }
}

/// The body's content coding: identity or gzip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContentCoding {
    Identity,
    Gzip,
}

fn content_coding(headers: &HeaderMap) -> Result<ContentCoding, ProtocolError> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(ContentCoding::Identity);
    };
    let value = value
        .to_str()
        .map_err(|_| ProtocolError::UnsupportedEncoding("<not ASCII>".into()))?
        .trim();
    if value.eq_ignore_ascii_case("gzip") || value.eq_ignore_ascii_case("x-gzip") {
        Ok(ContentCoding::Gzip)
    } else if value.is_empty() || value.eq_ignore_ascii_case("identity") {
        Ok(ContentCoding::Identity)
    } else {
        Err(ProtocolError::UnsupportedEncoding(value.to_string()))
    }
}

/// Undoes the content coding and decodes the request (CPU work, off the executor).
async fn decode_body(
    headers: &HeaderMap,
    raw: bytes::Bytes,
    limits: Limits,
) -> ApiResult<SyncRequest> {
    let coding = content_coding(headers)?;
    let decoded = tokio::task::spawn_blocking(move || -> Result<SyncRequest, ProtocolError> {
        match coding {
            ContentCoding::Identity => protocol::decode_request(&raw, &limits),
            ContentCoding::Gzip => {
                let plain = protocol::gunzip(&raw, limits.max_decoded_bytes)?;
                protocol::decode_request(&plain, &limits)
            }
        }
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(decoded?)
}

/// Whether the device accepts a gzip response (`Accept-Encoding` lists gzip with q > 0).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            coding.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// CBOR-encodes the response, gzip-compressed when accepted (CPU work, off the executor).
async fn encode_response(headers: &HeaderMap, response: SyncResponse) -> ApiResult<Response> {
    let gzip = accepts_gzip(headers);
    let body = tokio::task::spawn_blocking(move || {
        let cbor = protocol::encode(&response);
        if gzip {
            protocol::gzip(&cbor)
        } else {
            cbor
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SYNC_CONTENT_TYPE),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(resp)
}

#[cfg(test)]
mod tests;
