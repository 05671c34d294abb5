//! Live push: `GET /v1/live`, a Server-Sent Events stream that tells a signed-in principal,
//! within its read scope only, which documents changed as the tenant's feed advances, and
//! which left its scope (docs/live-push.md).
//!
//! * [`stream`]: one stream's task (catch-up from the client's cursor, feed wakes, heartbeats,
//!   re-checks of revocation and scope, expiry, the bounded buffer).
//! * [`open_streams`]: the streams open on this instance and their limits.
//! * [`sse`]: the frames on the wire and the response body.
//!
//! Fed by `feed_events` (the sync handler on SQLite, PostgreSQL LISTEN/NOTIFY across
//! instances); the feed table is the source of truth, so a stream resumes from the client's
//! cursor (`Last-Event-ID` or `?after=`) with nothing missed.

pub mod open_streams;
pub mod sse;
pub mod stream;

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::auth::{self, Claims, Principal};
use crate::http::listener::ConnectionSlot;
use crate::http::{ApiError, ApiResult, ErrorBody};
use crate::scope;
use crate::state::AppState;
use open_streams::{OpenStreams, Refusal};
use stream::LiveStream;

/// Seconds a client refused over a limit is asked to wait.
const RETRY_AFTER_SECS: u64 = 5;

/// The live route, with this instance's registry of open streams.
pub fn router(state: &AppState) -> Router<AppState> {
    let streams = OpenStreams::new(&state.config.live, state.metrics.clone());
    Router::new()
        .route("/v1/live", get(live))
        .layer(Extension(streams))
}

/// OpenAPI description of the live stream (merged into the served spec by `openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(live), components(schemas(ErrorBody)))]
pub struct LiveApi;

/// Query parameters of `GET /v1/live`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveParams {
    /// The feed position the client holds (the `seq` of its pull cursor, or the last event
    /// id it received): changes after it are announced first. `Last-Event-ID` wins over it.
    /// Absent: from now on.
    after: Option<String>,
}

#[utoipa::path(
    get, path = "/v1/live", tag = "sync",
    params(
        LiveParams,
        ("Last-Event-ID" = Option<String>, Header, description = "the id of the last event received: resume after it"),
    ),
    responses(
        (status = 200, content_type = "text/event-stream", description = "Server-Sent Events: `changes` (id: feed cursor; data {cursor, changed: [{doc_id, kind}], evicted: [doc_id], more, scope}), `ready` (caught up; data {cursor}), `end` (data {reason, message}: token_expired, unauthorized, replaced, shutdown, unavailable), heartbeat comments"),
        (status = 400, description = "invalid_query: after or Last-Event-ID is not a feed position", body = ErrorBody),
        (status = 401, description = "missing, invalid or expired token; revoked session or device", body = ErrorBody),
        (status = 429, description = "rate_limited: the user holds its most streams (Retry-After)", body = ErrorBody),
        (status = 503, description = "unavailable: this instance serves its most streams (Retry-After)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all)]
pub async fn live(
    State(state): State<AppState>,
    Extension(streams): Extension<Arc<OpenStreams>>,
    slot: Option<Extension<ConnectionSlot>>,
    headers: HeaderMap,
    params: Result<Query<LiveParams>, QueryRejection>,
) -> ApiResult<Response> {
    let claims = auth::verified_claims(&headers, &state.tokens)?;
    let principal = auth::principal_of(&state, claims.clone()).await?;
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let resume = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("invalid").to_owned())
        .or(params.after)
        .map(|text| parse_position(&text))
        .transpose()?;
    let slot = slot.map(|Extension(slot)| slot);
    open_stream(state, &streams, claims, principal, resume, slot).await
}

/// Opens a stream for a verified principal (`claims` are its token's: their expiry ends the
/// stream) from feed position `resume` (`None`: from now on), within this instance's limits.
/// The API's route above and the web console's (with the claims of a token issued for its
/// session) both open their streams here. `slot`: the connection's place under the listener's
/// cap, given back once the stream is admitted.
pub async fn open_stream(
    state: AppState,
    streams: &Arc<OpenStreams>,
    claims: Claims,
    principal: Principal,
    resume: Option<i64>,
    slot: Option<ConnectionSlot>,
) -> ApiResult<Response> {
    let ticket = streams
        .admit(
            principal.tenant_id,
            principal.user_id,
            principal.device.as_ref().map(|d| d.device_id),
        )
        .map_err(|refusal| {
            state.metrics.record_live_stream_refused(refusal.label());
            match refusal {
                Refusal::Total => ApiError::Unavailable {
                    message: "this server serves its most live streams; try again".into(),
                    retry_after_secs: RETRY_AFTER_SECS,
                },
                Refusal::User => ApiError::TooManyRequests {
                    retry_after_secs: RETRY_AFTER_SECS,
                },
            }
        })?;
    // The stream counts under its own cap from now on: its connection's place under the
    // listener's cap goes back to requests (the answer closes the connection when it ends).
    if let Some(slot) = slot {
        slot.give_back();
    }
    // Subscribed before the first read of the feed, so no commit falls between the two.
    let events = state.feed_events.subscribe();
    let cursor = match resume {
        Some(seq) => seq,
        None => state.store.feed_head(principal.tenant_id).await?.seq,
    };
    let scope = scope::read_scope(state.store.as_ref(), &principal)
        .await?
        .sets();
    tracing::debug!(tenant = %principal.tenant_id, user = %principal.user_id, cursor, "live stream opened");
    let (frames, body) = mpsc::channel(stream::BUFFER_FRAMES);
    let stream = LiveStream {
        state,
        claims,
        principal,
        scope,
        cursor,
        frames,
        ticket,
    };
    tokio::spawn(stream.run(events));
    Ok(sse::response(body))
}

/// A feed position: a seq (`17`), or a pull cursor's `seq.mark` whose seq is taken.
fn parse_position(text: &str) -> ApiResult<i64> {
    let seq = text.split_once('.').map_or(text, |(seq, _)| seq);
    seq.trim()
        .parse::<i64>()
        .ok()
        .filter(|seq| *seq >= 0)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!("{text:?} is not a feed position (a seq, as in the last event id)"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_seqs() {
        assert_eq!(parse_position("17").unwrap(), 17);
        assert_eq!(parse_position("17.99").unwrap(), 17);
        assert_eq!(parse_position("0").unwrap(), 0);
        assert!(parse_position("-1").is_err());
        assert!(parse_position("x").is_err());
        assert!(parse_position("").is_err());
    }
}
