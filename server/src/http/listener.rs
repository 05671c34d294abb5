//! The accept loop of both listeners (API and operations): hyper with a header-read timeout,
//! and a cap on open connections. `axum::serve` has neither, and a few thousand stalled
//! sockets would exhaust the process's file descriptors.
//!
//! * Header-read timeout: hyper closes a connection whose request headers are not complete
//!   within it, counted from when it starts waiting for them (a new connection, or a
//!   kept-alive one after its previous answer), so it is the keep-alive idle timeout too.
//!   Nothing can be answered then (no request was read). Metric `http_timeouts_total{kind="header"}`.
//! * Connection cap: a connection over it is answered 503 `too_many_connections` with
//!   `Retry-After` and closed at once, before anything is read. Metric
//!   `http_connections_refused_total`; open connections: `http_connections_open`. Each
//!   request carries its connection's [`ConnectionSlot`]: a handler that turns the connection
//!   into a long-lived stream (`GET /v1/live`) gives the slot back, since streams have a cap
//!   of their own, so that they never take the places requests need.
//! * The body timeout is per request, in [`super::timeouts`] (API routes only: the operations
//!   routes read no body).
//! * The metrics count the API listener only; the operations listener's own connections
//!   (scrapes, probes) would blur them.
//!
//! Graceful shutdown as before: stop accepting, let open requests finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

use crate::metrics::Metrics;

/// What the accept loop enforces.
#[derive(Debug, Clone, Copy)]
pub struct ListenerLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

/// A connection's place under the connection cap, in every request's extensions.
#[derive(Clone)]
pub struct ConnectionSlot(Arc<std::sync::Mutex<Option<OwnedSemaphorePermit>>>);

impl ConnectionSlot {
    /// Frees the place for another connection while this one stays open: for a connection
    /// that became a long-lived stream counted under its own cap. The answer must close the
    /// connection when it ends (`Connection: close`), or later requests on it would be
    /// uncounted.
    pub fn give_back(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// The answer to a connection over the cap (a whole HTTP/1.1 response; nothing is read).
const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 95\r\n\
\r\n\
{\"reason\":\"too_many_connections\",\"message\":\"the server is serving too many clients; try again\"}";

/// Serves `router` on `listener` until `shutdown` completes, then waits for open requests.
/// Requests carry `ConnectInfo<SocketAddr>` (the peer address) like `axum::serve` gives them.
/// Connections and timeouts are counted in `metrics` when given.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ListenerLimits,
    metrics: Option<Arc<Metrics>>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    // HTTP/1.1 only (devices, browsers and proxies speak it): hyper's automatic version
    // detection waits for the first bytes with no timeout at all.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if let Some(metrics) = &metrics {
                metrics.record_connection_refused();
            }
            tokio::spawn(refuse(stream));
            continue;
        };
        if let Some(metrics) = &metrics {
            metrics.record_connection_opened();
        }
        let slot = ConnectionSlot(Arc::new(std::sync::Mutex::new(Some(permit))));
        let request_slot = slot.clone();
        let service = router
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.extensions_mut().insert(request_slot.clone());
                req.map(axum::body::Body::new)
            });
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        let metrics = metrics.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                if e.is_timeout() {
                    if let Some(metrics) = &metrics {
                        metrics.record_timeout("header");
                    }
                    tracing::debug!(%peer, "request headers not complete in time: closed");
                } else {
                    tracing::trace!(%peer, error = %e, "connection ended with an error");
                }
            }
            if let Some(metrics) = &metrics {
                metrics.record_connection_closed();
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Answers a connection over the cap and closes it, within a few seconds whatever the client
/// does (it holds no permit, but still a descriptor).
async fn refuse(mut stream: TcpStream) {
    let answer = async {
        stream.write_all(TOO_MANY_CONNECTIONS).await?;
        stream.shutdown().await?;
        // Read away what the client sent (bounded) so the close does not reset the answer.
        let mut sink = [0u8; 4096];
        let mut left: usize = 64 * 1024;
        while left > 0 {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            left = left.saturating_sub(n);
        }
        std::io::Result::Ok(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), answer).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_whole_http_answer() {
        let text = std::str::from_utf8(TOO_MANY_CONNECTIONS).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["reason"], "too_many_connections");
    }
}
