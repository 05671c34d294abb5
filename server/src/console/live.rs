//! Live queue: `GET /console/live`, the same Server-Sent Events stream as the API's
//! `GET /v1/live` (`live::open_stream`: scope filtering, resume, heartbeats, bounded buffers),
//! opened for the console session instead of a Bearer token. The page's script refreshes the
//! queue through htmx when a `changes` event arrives.
//!
//! A stream ends when the claims it was opened with expire; they are those of an access
//! token issued for the console's device session at each (re)connection, so the browser's
//! `EventSource` reconnects with its cookie, is checked again, and resumes from the last event
//! id with nothing missed. Console streams have their own registry with the live settings'
//! limits; a second tab of the same sign-in takes the first one's place (one per device).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;

use super::auth::ConsoleUser;
use super::error::{ConsoleError, ConsoleResult};
use crate::http::listener::ConnectionSlot;
use crate::http::ApiError;
use crate::live::open_stream;
use crate::live::open_streams::OpenStreams;
use crate::state::AppState;

/// `GET /console/live[?after=<seq>]` (or `Last-Event-ID` on a reconnection).
pub async fn live(
    State(state): State<AppState>,
    Extension(streams): Extension<Arc<OpenStreams>>,
    user: ConsoleUser,
    slot: Option<Extension<ConnectionSlot>>,
    headers: HeaderMap,
    axum::extract::Query(params): axum::extract::Query<LiveParams>,
) -> ConsoleResult<Response> {
    let device = user.principal.device.as_ref().ok_or(ConsoleError::SignIn)?;
    let issued = state
        .tokens
        .issue_for_session(&user.profile, device.device_id, device.session_id)
        .map_err(ApiError::internal)?;
    let claims = state
        .tokens
        .verify(&issued.token)
        .map_err(ApiError::internal)?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(params.after)
        .and_then(|text| text.trim().parse::<i64>().ok())
        .filter(|seq| *seq >= 0);
    let slot = slot.map(|Extension(slot)| slot);
    Ok(open_stream(state, &streams, claims, user.principal, resume, slot).await?)
}

/// `after`: the feed position the page was rendered at.
#[derive(Debug, Default, serde::Deserialize)]
pub struct LiveParams {
    after: Option<String>,
}
