//! One live stream's task: it catches up from the client's cursor, then waits for feed events
//! of its tenant, heartbeats, the periodic re-check, the token's expiry, its replacement and
//! the server's shutdown, and sends what the client must know as SSE frames into the bounded
//! buffer the response body reads.
//!
//! Events are hints, read from the feed table, never from the broadcast alone: a wake (a feed
//! event, a lag of the broadcast, a re-check) reads the feed after the stream's cursor up to
//! the head, filtered by the principal's current read scope, so nothing committed is missed
//! whatever the broadcast dropped.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use fieldsync_shared::document::DocKind;
use fieldsync_shared::values::DocId;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};
use tokio::time::{interval_at, Instant};

use super::open_streams::Ticket;
use super::sse;
use crate::auth::{self, Claims, Principal};
use crate::feed_events::FeedEvent;
use crate::http::ApiError;
use crate::scope::{self, ScopeSets};
use crate::state::AppState;
use crate::store::documents::ScopeChange;

/// Frames buffered for one client. A client that leaves it full for [`SLOW_CLIENT`] is dropped
/// (it resumes from its last event id), so a stream never holds more than this.
pub const BUFFER_FRAMES: usize = 16;
/// How long a full buffer may stay full.
const SLOW_CLIENT: Duration = Duration::from_secs(10);
/// Feed entries (and scope changes) read per wake; more are announced with `more: true`.
const ENTRIES_PER_WAKE: u32 = 256;

/// Why a stream ended (the `reason` of its `end` event and of the metric).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The client closed the connection.
    ClientGone,
    /// The client left its buffer full: dropped; it resumes.
    SlowClient,
    /// The access token expired: refresh it and reconnect.
    TokenExpired,
    /// The session or device was revoked, or the session aged out.
    Unauthorized(String),
    /// A newer stream of the same device took this one's place.
    Replaced,
    /// The server is shutting down.
    Shutdown,
    /// The database did not answer: reconnect later.
    Unavailable,
}

impl End {
    pub fn reason(&self) -> &'static str {
        match self {
            End::ClientGone => "client_gone",
            End::SlowClient => "slow_client",
            End::TokenExpired => "token_expired",
            End::Unauthorized(_) => "unauthorized",
            End::Replaced => "replaced",
            End::Shutdown => "shutdown",
            End::Unavailable => "unavailable",
        }
    }

    fn message(&self) -> String {
        match self {
            End::Unauthorized(message) => message.clone(),
            End::TokenExpired => "the access token expired: refresh it and reconnect".into(),
            End::Replaced => "a newer stream of this device replaced this one".into(),
            End::Shutdown => "the server is restarting: reconnect".into(),
            End::Unavailable => "the server cannot read the feed now: reconnect later".into(),
            End::ClientGone | End::SlowClient => String::new(),
        }
    }
}

impl From<ApiError> for End {
    fn from(e: ApiError) -> End {
        match e {
            ApiError::Unauthorized(message) => End::Unauthorized(message),
            other => {
                tracing::warn!(error = %other, "live stream: reading the feed failed");
                End::Unavailable
            }
        }
    }
}

impl From<crate::store::StoreError> for End {
    fn from(e: crate::store::StoreError) -> End {
        End::from(ApiError::from(e))
    }
}

/// `event: changes`: documents of the read scope that changed (`changed`) or left it
/// (`evicted`) up to `cursor`; `more`: others did too (pull to get them all); `scope`: the
/// read scope itself changed (`changed` then lists documents that came into it).
#[derive(Debug, Serialize)]
struct Changes {
    cursor: i64,
    changed: Vec<ChangedDoc>,
    evicted: Vec<DocId>,
    more: bool,
    scope: bool,
}

#[derive(Debug, Serialize)]
struct ChangedDoc {
    doc_id: DocId,
    kind: DocKind,
}

/// `event: ready`: caught up to `cursor`; changes from now on follow as they are committed.
#[derive(Debug, Serialize)]
struct Ready {
    cursor: i64,
}

/// `event: end`: the stream ends; `reason` says whether to refresh, resume or stop.
#[derive(Debug, Serialize)]
struct Ended {
    reason: &'static str,
    message: String,
}

/// What woke the stream.
enum Wake {
    Feed,
    Heartbeat,
    Revalidate,
    End(End),
}

/// A stream being served.
pub struct LiveStream {
    pub state: AppState,
    /// Kept to re-check the principal (revocation, role) and for the token's expiry.
    pub claims: Claims,
    pub principal: Principal,
    /// The read scope the stream filters by (and whose changes it announces).
    pub scope: ScopeSets,
    /// The feed position the client holds: every visible change up to it was announced.
    pub cursor: i64,
    pub frames: mpsc::Sender<Bytes>,
    pub ticket: Ticket,
}

impl LiveStream {
    /// Serves the stream until it ends; sends the `end` event when the client can still read.
    pub async fn run(mut self, events: broadcast::Receiver<FeedEvent>) {
        let end = match self.serve(events).await {
            Ok(never) => match never {},
            Err(end) => end,
        };
        tracing::debug!(reason = end.reason(), "live stream ended");
        self.state.metrics.record_live_stream_ended(end.reason());
        if !matches!(end, End::ClientGone | End::SlowClient) {
            let ended = Ended {
                reason: end.reason(),
                message: end.message(),
            };
            let _ = self.frames.try_send(sse::event("end", None, &ended));
        }
    }

    async fn serve(
        &mut self,
        mut events: broadcast::Receiver<FeedEvent>,
    ) -> Result<Infallible, End> {
        self.send(sse::retry()).await?;
        self.catch_up().await?;
        let ready = Ready {
            cursor: self.cursor,
        };
        self.send(sse::event("ready", Some(self.cursor), &ready))
            .await?;
        let settings = &self.state.config.live;
        let (beat, check) = (settings.heartbeat(), settings.revalidate());
        let mut heartbeat = interval_at(Instant::now() + beat, beat);
        let mut revalidate = interval_at(Instant::now() + check, check);
        let expiry = tokio::time::sleep(until(self.claims.exp));
        tokio::pin!(expiry);
        let tenant = self.principal.tenant_id;
        loop {
            let wake = tokio::select! {
                () = self.frames.closed() => Wake::End(End::ClientGone),
                () = self.ticket.replaced() => Wake::End(End::Replaced),
                () = self.state.feed_events.closed() => Wake::End(End::Shutdown),
                () = &mut expiry => Wake::End(End::TokenExpired),
                event = events.recv() => match event {
                    Ok(e) if e.tenant != tenant || e.seq <= self.cursor => continue,
                    // A lag lost events of unknown tenants: read the feed to be sure.
                    Ok(_) | Err(RecvError::Lagged(_)) => Wake::Feed,
                    Err(RecvError::Closed) => Wake::End(End::Shutdown),
                },
                _ = heartbeat.tick() => Wake::Heartbeat,
                _ = revalidate.tick() => Wake::Revalidate,
            };
            match wake {
                Wake::Feed => {
                    // One read serves every event already queued.
                    while events.try_recv().is_ok() {}
                    self.revalidate().await?;
                    self.catch_up().await?;
                    revalidate.reset();
                }
                Wake::Heartbeat => self.send(sse::heartbeat()).await?,
                Wake::Revalidate => {
                    self.revalidate().await?;
                    // A write seen by the database but whose event this instance missed (its
                    // listener was reconnecting) is found here at the latest.
                    self.catch_up().await?;
                }
                Wake::End(end) => return Err(end),
            }
        }
    }

    /// Puts a frame in the buffer, waiting at most [`SLOW_CLIENT`] for room.
    async fn send(&self, frame: Bytes) -> Result<(), End> {
        match self.frames.send_timeout(frame, SLOW_CLIENT).await {
            Ok(()) => Ok(()),
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => Err(End::SlowClient),
            Err(mpsc::error::SendTimeoutError::Closed(_)) => Err(End::ClientGone),
        }
    }

    async fn send_changes(&self, changes: Changes) -> Result<(), End> {
        self.send(sse::event("changes", Some(changes.cursor), &changes))
            .await?;
        self.state.metrics.record_live_event_sent();
        Ok(())
    }

    /// Re-checks the principal (session and device not revoked, the user's current role) and
    /// its read scope; a changed scope is announced: documents gained and evicted.
    async fn revalidate(&mut self) -> Result<(), End> {
        let principal = auth::principal_of(&self.state, self.claims.clone()).await?;
        let scope = scope::read_scope(self.state.store.as_ref(), &principal)
            .await?
            .sets();
        self.principal = principal;
        if scope == self.scope {
            return Ok(());
        }
        let (before, after) = (self.scope.visibility(), scope.visibility());
        let items = self
            .state
            .store
            .scope_changes(
                self.principal.tenant_id,
                ScopeChange {
                    may_hold: before.as_ref(),
                    surely_holds: before.as_ref(),
                    target: after.as_ref(),
                },
                None,
                ENTRIES_PER_WAKE,
            )
            .await?;
        self.scope = scope;
        if items.is_empty() {
            return Ok(());
        }
        let more = items.len() == ENTRIES_PER_WAKE as usize;
        let (gained, evicted): (Vec<_>, Vec<_>) = items.into_iter().partition(|i| i.gained);
        self.send_changes(Changes {
            cursor: self.cursor,
            changed: gained
                .into_iter()
                .map(|i| ChangedDoc {
                    doc_id: i.doc_id,
                    kind: i.kind,
                })
                .collect(),
            evicted: evicted.into_iter().map(|i| i.doc_id).collect(),
            more,
            scope: true,
        })
        .await
    }

    /// Announces the visible feed entries after the cursor, up to the head (at most
    /// [`ENTRIES_PER_WAKE`] of them listed), and moves the cursor to the head.
    async fn catch_up(&mut self) -> Result<(), End> {
        let tenant = self.principal.tenant_id;
        let head = self.state.store.feed_head(tenant).await?;
        if head.seq <= self.cursor {
            return Ok(());
        }
        let visible = self.scope.visibility();
        let entries = self
            .state
            .store
            .feed_visible(
                tenant,
                self.cursor,
                head.seq,
                ENTRIES_PER_WAKE,
                visible.as_ref(),
            )
            .await?;
        // Entries the filter skipped up to the head are invisible to this principal: the
        // cursor moves past them too.
        self.cursor = head.seq;
        if entries.is_empty() {
            return Ok(());
        }
        let more = entries.len() == ENTRIES_PER_WAKE as usize;
        let mut seen = HashSet::new();
        let changed = entries
            .into_iter()
            .filter(|e| seen.insert(e.doc_id))
            .map(|e| ChangedDoc {
                doc_id: e.doc_id,
                kind: e.kind,
            })
            .collect();
        self.send_changes(Changes {
            cursor: head.seq,
            changed,
            evicted: Vec::new(),
            more,
            scope: false,
        })
        .await
    }
}

/// The time left until `exp` (seconds since the epoch); zero when past.
fn until(exp: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_secs(exp).saturating_sub(now)
}
