//! The body-idle timeout: a request body that goes longer than the limit without a byte is
//! cut off, and the request is answered 408 `request_timeout` with `Connection: close`
//! (metric `http_timeouts_total{kind="body"}`), whatever the handler made of the broken body.
//!
//! Only silence is timed, and only while a handler waits for the body: a client on a 2G link
//! that keeps sending finishes its upload however long it takes, and a handler that reads the
//! body late is not charged for its own work. Answers are never timed, so downloads and
//! long-lived streams keep their own pace.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::error::ErrorBody;
use crate::metrics::Metrics;

/// What the middleware needs: the limit and where to count.
#[derive(Clone)]
pub struct BodyTimeout {
    pub idle: Duration,
    pub metrics: Arc<Metrics>,
}

/// Middleware: wraps the request body in [`IdleTimeoutBody`] and answers 408 if it fired.
pub async fn body_idle_timeout(
    State(limit): State<BodyTimeout>,
    req: Request,
    next: Next,
) -> Response {
    let fired = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| {
        Body::new(IdleTimeoutBody {
            inner: body,
            idle: limit.idle,
            sleep: Box::pin(tokio::time::sleep(limit.idle)),
            waiting: false,
            fired: fired.clone(),
        })
    });
    let resp = next.run(req).await;
    if !fired.load(Ordering::Acquire) {
        return resp;
    }
    limit.metrics.record_timeout("body");
    let body = ErrorBody {
        reason: "request_timeout".into(),
        message: format!(
            "the request body sent nothing for {} s; send it again",
            limit.idle.as_secs()
        ),
    };
    let mut out = (StatusCode::REQUEST_TIMEOUT, Json(body)).into_response();
    out.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    out
}

/// The body went silent for longer than the limit.
#[derive(Debug, thiserror::Error)]
#[error("the request body sent nothing within the body-idle timeout")]
pub struct BodyTimedOut;

/// A request body that fails with [`BodyTimedOut`] when a wait for its next frame lasts
/// longer than `idle`. The clock starts when a read starts waiting, not when the last frame
/// came.
struct IdleTimeoutBody {
    inner: Body,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    /// A read is waiting (its clock is running).
    waiting: bool,
    fired: Arc<AtomicBool>,
}

impl http_body::Body for IdleTimeoutBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if this.fired.load(Ordering::Acquire) {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        if !this.waiting {
            this.waiting = true;
            this.sleep.as_mut().reset(Instant::now() + this.idle);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame)
            }
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.fired.store(true, Ordering::Release);
                    return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
