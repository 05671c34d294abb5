//! Admission control of `POST /v1/sync`: at most `max_in_flight` requests are worked on at
//! once, at most `max_queued` wait for a turn (for `queue_timeout` at most); any other is
//! answered 503 `overloaded` with `Retry-After` straight away. Without it a morning storm of
//! devices piles up in memory and every answer gets slower; with it the server keeps a steady
//! pace and devices come back after the (jittered) delay it asks for.
//!
//! A request is admitted after its body is read (the body is bounded by the sync body limit
//! and the connection cap; a slow phone upload must not hold a turn), before any decoding,
//! database or Automerge work.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::SyncAdmissionSettings;
use crate::http::ErrorBody;
use crate::metrics::Metrics;

/// The machine-readable reason of a refused sync request.
pub const OVERLOADED: &str = "overloaded";

pub struct Admission {
    turns: Arc<Semaphore>,
    max_queued: u32,
    queued: AtomicU32,
    queue_timeout: Duration,
    retry_after_secs: u64,
    metrics: Arc<Metrics>,
}

/// A request's turn: held while it is worked on.
pub struct Turn {
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.metrics.add_sync_in_flight(-1);
    }
}

/// Why a request got no turn: answered 503 `overloaded` with `Retry-After`.
#[derive(Debug)]
pub struct Overloaded {
    /// `queue_full` or `queue_timeout` (the metric's label).
    pub cause: &'static str,
    retry_after_secs: u64,
}

/// One request waiting; counted down however the wait ends (a turn, a timeout, the client
/// gone).
struct Waiting<'a>(&'a Admission);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::AcqRel);
        self.0.metrics.add_sync_queued(-1);
    }
}

impl Admission {
    pub fn new(settings: &SyncAdmissionSettings, metrics: Arc<Metrics>) -> Admission {
        Admission {
            turns: Arc::new(Semaphore::new(settings.max_in_flight as usize)),
            max_queued: settings.max_queued,
            queued: AtomicU32::new(0),
            queue_timeout: settings.queue_timeout(),
            retry_after_secs: settings.retry_after_secs,
            metrics,
        }
    }

    /// A turn now, or after waiting in the bounded queue; `Overloaded` when the queue is full
    /// or the wait too long.
    pub async fn admit(&self) -> Result<Turn, Overloaded> {
        let permit = match self.turns.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => self.wait_for_turn().await?,
        };
        self.metrics.add_sync_in_flight(1);
        Ok(Turn {
            _permit: permit,
            metrics: self.metrics.clone(),
        })
    }

    async fn wait_for_turn(&self) -> Result<OwnedSemaphorePermit, Overloaded> {
        let queued = self.queued.fetch_add(1, Ordering::AcqRel);
        self.metrics.add_sync_queued(1);
        let _waiting = Waiting(self);
        if queued >= self.max_queued {
            return Err(self.refuse("queue_full"));
        }
        match tokio::time::timeout(self.queue_timeout, self.turns.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a timeout is the only other way out.
            _ => Err(self.refuse("queue_timeout")),
        }
    }

    fn refuse(&self, cause: &'static str) -> Overloaded {
        self.metrics.record_sync_refused(cause);
        Overloaded {
            cause,
            retry_after_secs: self.retry_after_secs,
        }
    }
}

impl IntoResponse for Overloaded {
    fn into_response(self) -> Response {
        let message = match self.cause {
            "queue_full" => "the server is working on as many syncs as it can take",
            _ => "no turn came up in time: the server is busy",
        };
        let mut resp = (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(ErrorBody {
                reason: OVERLOADED.to_string(),
                message: format!("{message}; sync again after the Retry-After seconds"),
            }),
        )
            .into_response();
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        );
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(max_in_flight: u32, max_queued: u32, queue_timeout_ms: u64) -> Admission {
        let settings = SyncAdmissionSettings {
            max_in_flight,
            max_queued,
            queue_timeout_ms,
            retry_after_secs: 3,
        };
        Admission::new(&settings, Arc::new(Metrics::new()))
    }

    #[tokio::test]
    async fn requests_past_the_turns_and_the_queue_are_refused_at_once() {
        let admission = admission(1, 0, 60_000);
        let turn = admission.admit().await.expect("a free turn");
        let refused = admission.admit().await.err().expect("no queue");
        assert_eq!(refused.cause, "queue_full");
        let resp = refused.into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "3");
        drop(turn);
        assert!(admission.admit().await.is_ok(), "the turn came back");
    }

    #[tokio::test]
    async fn a_queued_request_gets_the_next_turn_or_times_out() {
        let admission = Arc::new(admission(1, 1, 200));
        let turn = admission.admit().await.expect("a free turn");
        let waiting = {
            let admission = admission.clone();
            tokio::spawn(async move { admission.admit().await.map(drop) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(turn);
        assert!(waiting.await.unwrap().is_ok(), "the waiter got the turn");

        let _held = admission.admit().await.expect("a free turn");
        let refused = admission.admit().await.err().expect("times out");
        assert_eq!(refused.cause, "queue_timeout");
        assert_eq!(admission.queued.load(Ordering::Acquire), 0);
    }
}
