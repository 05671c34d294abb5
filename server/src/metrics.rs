//! Prometheus metrics, served on the operations listener at `/metrics`.
//!
//! * `feed_events_received_total`, `feed_listener_retries_total`: feed events this instance
//!   heard from PostgreSQL (every instance's commits), and how often its listener lost or could
//!   not open its connection (`feed_events`);
//! * `http_requests_total{method,route,status}` and
//!   `http_request_duration_seconds{method,route}`: per matched route (`unmatched` otherwise, so
//!   scanners cannot blow up the label set);
//! * `sync_documents_merged_total`, `sync_changes_stored_total`, `sync_bytes_received_total`:
//!   committed sync pushes;
//! * `photo_uploads_total{outcome}` (declared, resumed, stored, already_stored, failed,
//!   expired), `photo_upload_bytes_received_total` (bytes devices sent through this server),
//!   `photos_orphaned` (gauge, set by the photo clean-up), `photos_orphans_deleted_total`,
//!   `photo_thumbnails_received_total` (thumbnails devices sent before their photos);
//! * `sessions_purged_total`: ended sessions deleted by the session purge (`sessions::purge`);
//! * `http_connections_open` (gauge), `http_connections_refused_total` (over the connection
//!   cap, answered 503), `http_timeouts_total{kind}` (`header`: headers not complete in time,
//!   connection closed; `body`: a request body went silent, answered 408): slow clients
//!   (`http::listener`, `http::timeouts`);
//! * `sync_requests_in_flight`, `sync_requests_queued` (gauges) and
//!   `sync_requests_refused_total{reason}` (`queue_full`: refused at once, `queue_timeout`:
//!   waited too long; both answered 503 `overloaded`): sync admission (`sync::admission`);
//! * `documents_refused_over_limits_total`: pushed documents refused by the document limits
//!   (`sync`);
//! * `live_streams` (gauge: open live streams), `live_events_sent_total` (change events sent
//!   on them), `live_streams_ended_total{reason}` (why streams ended: `slow_client` is a drop,
//!   `client_gone`, `token_expired`, `unauthorized`, `replaced`, `shutdown`, `unavailable`),
//!   `live_streams_refused_total{limit}` (`total`, `user`): `live`;
//! * `fieldsync_findings_total{code,severity,source}`: findings stored by the server's verdicts
//!   (`verdicts`).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
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

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    code: String,
    severity: String,
    source: String,
}

fn duration_histogram() -> Histogram {
    // 1 ms .. ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    sessions_purged: Counter,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    sync_documents_merged: Counter,
    sync_changes_stored: Counter,
    sync_bytes_received: Counter,
    feed_events_received: Counter,
    feed_listener_retries: Counter,
    photo_uploads: Family<OutcomeLabels, Counter>,
    photo_upload_bytes: Counter,
    photos_orphaned: Gauge,
    photos_orphans_deleted: Counter,
    photo_thumbnails_received: Counter,
    connections_open: Gauge,
    connections_refused: Counter,
    timeouts: Family<KindLabels, Counter>,
    documents_over_limits: Counter,
    sync_in_flight: Gauge,
    sync_queued: Gauge,
    sync_refused: Family<ReasonLabels, Counter>,
    live_streams: Gauge,
    live_events_sent: Counter,
    live_streams_ended: Family<ReasonLabels, Counter>,
    live_streams_refused: Family<LimitLabels, Counter>,
    findings: Family<FindingLabels, Counter>,
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
        let photo_uploads = Family::<OutcomeLabels, Counter>::default();
        let photo_upload_bytes = Counter::default();
        let photos_orphaned = Gauge::default();
        let photos_orphans_deleted = Counter::default();
        let photo_thumbnails_received = Counter::default();
        registry.register(
            "photo_uploads",
            "Photo uploads by outcome: declared, resumed, stored, already_stored, failed, expired",
            photo_uploads.clone(),
        );
        registry.register(
            "photo_upload_bytes_received",
            "Photo bytes devices sent through this server (content and parts)",
            photo_upload_bytes.clone(),
        );
        registry.register(
            "photos_orphaned",
            "Photos older than the orphan age that no document references (last clean-up run)",
            photos_orphaned.clone(),
        );
        registry.register(
            "photos_orphans_deleted",
            "Orphaned photos deleted by the clean-up",
            photos_orphans_deleted.clone(),
        );
        registry.register(
            "photo_thumbnails_received",
            "Thumbnails devices sent before their photos (thumbnails first) and the server stored",
            photo_thumbnails_received.clone(),
        );
        let feed_events_received = Counter::default();
        let feed_listener_retries = Counter::default();
        registry.register(
            "feed_events_received",
            "Feed events (commits of any instance) received through PostgreSQL notifications",
            feed_events_received.clone(),
        );
        registry.register(
            "feed_listener_retries",
            "Times the feed listener lost or could not open its PostgreSQL connection",
            feed_listener_retries.clone(),
        );
        let sessions_purged = Counter::default();
        registry.register(
            "sessions_purged",
            "Ended sessions (revoked, aged out or expired) deleted with their refresh tokens",
            sessions_purged.clone(),
        );
        let connections_open = Gauge::default();
        let connections_refused = Counter::default();
        let timeouts = Family::<KindLabels, Counter>::default();
        let documents_over_limits = Counter::default();
        // Shown at 0 from the start, so alerts need no "absent" case.
        for kind in ["header", "body"] {
            let _ = timeouts.get_or_create(&KindLabels { kind: kind.into() });
        }
        registry.register(
            "http_connections_open",
            "Connections the API listener holds open",
            connections_open.clone(),
        );
        registry.register(
            "http_connections_refused",
            "Connections over the connection cap, answered 503 and closed",
            connections_refused.clone(),
        );
        registry.register(
            "http_timeouts",
            "Slow clients cut off: header (headers not complete in time), body (body went silent)",
            timeouts.clone(),
        );
        registry.register(
            "documents_refused_over_limits",
            "Pushed documents refused because they exceed a document limit",
            documents_over_limits.clone(),
        );
        let sync_in_flight = Gauge::default();
        let sync_queued = Gauge::default();
        let sync_refused = Family::<ReasonLabels, Counter>::default();
        for reason in ["queue_full", "queue_timeout"] {
            let _ = sync_refused.get_or_create(&ReasonLabels {
                reason: reason.into(),
            });
        }
        registry.register(
            "sync_requests_in_flight",
            "Sync requests being worked on (admitted)",
            sync_in_flight.clone(),
        );
        registry.register(
            "sync_requests_queued",
            "Sync requests waiting for a turn",
            sync_queued.clone(),
        );
        registry.register(
            "sync_requests_refused",
            "Sync requests answered 503 overloaded: queue_full (at once) or queue_timeout",
            sync_refused.clone(),
        );
        let live_streams = Gauge::default();
        let live_events_sent = Counter::default();
        let live_streams_ended = Family::<ReasonLabels, Counter>::default();
        let live_streams_refused = Family::<LimitLabels, Counter>::default();
        registry.register(
            "live_streams",
            "Live streams (GET /v1/live) open on this instance",
            live_streams.clone(),
        );
        registry.register(
            "live_events_sent",
            "Change events sent on live streams",
            live_events_sent.clone(),
        );
        registry.register(
            "live_streams_ended",
            "Live streams ended, by reason (slow_client: dropped for not reading)",
            live_streams_ended.clone(),
        );
        registry.register(
            "live_streams_refused",
            "Live streams refused over a limit: total (this instance) or user",
            live_streams_refused.clone(),
        );
        let findings = Family::<FindingLabels, Counter>::default();
        registry.register(
            "fieldsync_findings",
            "Findings the server stored, by code, severity and source (device_basis, server_data, server)",
            findings.clone(),
        );
        Metrics {
            registry,
            live_streams,
            live_events_sent,
            live_streams_ended,
            live_streams_refused,
            findings,
            connections_open,
            connections_refused,
            timeouts,
            documents_over_limits,
            sync_in_flight,
            sync_queued,
            sync_refused,
            sessions_purged,
            feed_events_received,
            feed_listener_retries,
            photo_uploads,
            photo_upload_bytes,
            photos_orphaned,
            photos_orphans_deleted,
            photo_thumbnails_received,
            http_requests,
            http_duration,
            sync_documents_merged,
            sync_changes_stored,
            sync_bytes_received,
        }
    }

    /// The API listener accepted a connection.
    pub fn record_connection_opened(&self) {
        self.connections_open.inc();
    }

    /// A connection of the API listener closed.
    pub fn record_connection_closed(&self) {
        self.connections_open.dec();
    }

    /// A connection refused over the connection cap.
    pub fn record_connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// A slow client cut off: `header` or `body`.
    pub fn record_timeout(&self, kind: &'static str) {
        self.timeouts
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc();
    }

    /// A pushed document refused over a document limit.
    /// One stored finding (`verdicts`); codes are the rules' own, a bounded set.
    pub fn record_finding(&self, code: &str, severity: &str, source: &str) {
        self.findings
            .get_or_create(&FindingLabels {
                code: code.into(),
                severity: severity.into(),
                source: source.into(),
            })
            .inc();
    }

    pub fn record_document_over_limits(&self) {
        self.documents_over_limits.inc();
    }

    /// One committed sync push: documents that received new changes, changes stored, bytes received.
    pub fn record_sync(&self, docs_merged: u64, changes_stored: u64, bytes_received: u64) {
        self.sync_documents_merged.inc_by(docs_merged);
        self.sync_changes_stored.inc_by(changes_stored);
        self.sync_bytes_received.inc_by(bytes_received);
    }

    /// One photo upload event (`declared`, `resumed`, `stored`, `already_stored`, `failed`,
    /// `expired`).
    pub fn record_photo_upload(&self, outcome: &'static str) {
        self.photo_uploads
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Photo bytes received by the server.
    pub fn record_photo_bytes(&self, bytes: u64) {
        self.photo_upload_bytes.inc_by(bytes);
    }

    /// Orphaned photos left after the latest clean-up run.
    pub fn set_photos_orphaned(&self, count: u64) {
        self.photos_orphaned
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// One orphaned photo deleted.
    pub fn record_orphan_deleted(&self) {
        self.photos_orphans_deleted.inc();
    }

    /// One thumbnail a device sent was stored.
    pub fn record_photo_thumbnail_received(&self) {
        self.photo_thumbnails_received.inc();
    }

    /// Ended sessions deleted by one purge.
    pub fn record_sessions_purged(&self, count: u64) {
        self.sessions_purged.inc_by(count);
    }

    /// One feed event received from PostgreSQL.
    pub fn record_feed_event(&self) {
        self.feed_events_received.inc();
    }

    /// The feed listener lost (or could not open) its connection and will retry.
    pub fn record_feed_listener_retry(&self) {
        self.feed_listener_retries.inc();
    }

    /// A live stream opened.
    pub fn record_live_stream_opened(&self) {
        self.live_streams.inc();
    }

    /// A live stream closed.
    pub fn record_live_stream_closed(&self) {
        self.live_streams.dec();
    }

    /// One change event sent on a live stream.
    pub fn record_live_event_sent(&self) {
        self.live_events_sent.inc();
    }

    /// Why a live stream ended.
    pub fn record_live_stream_ended(&self, reason: &'static str) {
        self.live_streams_ended
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// A sync request started (`+1`) or finished (`-1`) its work.
    pub fn add_sync_in_flight(&self, delta: i64) {
        self.sync_in_flight.inc_by(delta);
    }

    /// A sync request started (`+1`) or stopped (`-1`) waiting for a turn.
    pub fn add_sync_queued(&self, delta: i64) {
        self.sync_queued.inc_by(delta);
    }

    /// A sync request refused by admission (`queue_full`, `queue_timeout`).
    pub fn record_sync_refused(&self, reason: &'static str) {
        self.sync_refused
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// A live stream refused over a limit (`total`, `user`).
    pub fn record_live_stream_refused(&self, limit: &'static str) {
        self.live_streams_refused
            .get_or_create(&LimitLabels {
                limit: limit.to_owned(),
            })
            .inc();
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
        m.record_feed_event();
        m.record_photo_upload("stored");
        m.set_photos_orphaned(3);
        let text = m.render();
        for name in [
            "http_requests_total",
            "http_request_duration_seconds",
            "sync_documents_merged_total 2",
            "sync_changes_stored_total 5",
            "sync_bytes_received_total 1000",
            "feed_events_received_total 1",
            "feed_listener_retries_total 0",
            "photo_uploads_total{outcome=\"stored\"} 1",
            "photos_orphaned 3",
            "photo_upload_bytes_received_total 0",
            "photos_orphans_deleted_total 0",
            "sessions_purged_total 0",
            "live_streams 0",
            "live_events_sent_total 0",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
