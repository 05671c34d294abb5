//! Prometheus metrics, served on the operations listener at `/metrics`.
//!
//! * `http_requests_total{method,route,status}` and
//!   `http_request_duration_seconds{method,route}`: per matched route (`unmatched` otherwise, so
//!   scanners cannot blow up the label set);
//! * `sync_documents_merged_total`, `sync_changes_stored_total`, `sync_bytes_received_total`:
//!   committed sync pushes.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

fn duration_histogram() -> Histogram {
    // 1 ms .. ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    sync_documents_merged: Counter,
    sync_changes_stored: Counter,
    sync_bytes_received: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram as fn() -> Histogram,
            );
        let sync_documents_merged = Counter::default();
        let sync_changes_stored = Counter::default();
        let sync_bytes_received = Counter::default();
        // Counters get their `_total` suffix from the encoder.
        registry.register(
            "http_requests",
            "HTTP requests answered",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests",
            http_duration.clone(),
        );
        registry.register(
            "sync_documents_merged",
            "Documents that received new changes in committed sync pushes",
            sync_documents_merged.clone(),
        );
        registry.register(
            "sync_changes_stored",
            "Automerge changes stored by committed sync pushes",
            sync_changes_stored.clone(),
        );
        registry.register(
            "sync_bytes_received",
            "Request body bytes of committed sync pushes",
            sync_bytes_received.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_duration,
            sync_documents_merged,
            sync_changes_stored,
            sync_bytes_received,
        }
    }

    /// One committed sync push: documents that received new changes, changes stored, bytes received.
    pub fn record_sync(&self, docs_merged: u64, changes_stored: u64, bytes_received: u64) {
        self.sync_documents_merged.inc_by(docs_merged);
        self.sync_changes_stored.inc_by(changes_stored);
        self.sync_bytes_received.inc_by(bytes_received);
    }

    /// One answered HTTP request.
    pub fn record_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http_requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// Middleware recording `http_requests_total` and `http_request_duration_seconds`.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let resp = next.run(req).await;
    metrics.record_request(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_name() {
        let m = Metrics::new();
        m.record_sync(2, 5, 1000);
        m.record_request("GET", "/health", 200, 0.01);
        let text = m.render();
        for name in [
            "http_requests_total",
            "http_request_duration_seconds",
            "sync_documents_merged_total 2",
            "sync_changes_stored_total 5",
            "sync_bytes_received_total 1000",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
