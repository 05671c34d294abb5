//! Logs and request tracing: the tracing subscriber (pretty or JSON), request ids, and the
//! per-request span. Spans record method, matched route and request id, never headers, so
//! tokens and passwords do not reach the logs.

use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use axum::Router;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Calling it again (tests) keeps the first one.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("invalid log filter {filter:?} ({e}); using \"info\"");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    // Err means a subscriber is already installed: keep it.
    drop(result);
}

/// Adds request ids (`x-request-id`: kept from the client or a new UUID, echoed in the
/// response) and a tracing span per request around `router`.
pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request<_>| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "unmatched".to_owned());
            let request_id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            tracing::info_span!(
                "http_request",
                method = %req.method(),
                route = %route,
                request_id = %request_id,
                status = tracing::field::Empty,
            )
        })
        .on_request(())
        .on_response(
            |resp: &Response<_>, latency: std::time::Duration, span: &Span| {
                span.record("status", resp.status().as_u16());
                tracing::info!(
                    status = resp.status().as_u16(),
                    latency_ms = latency.as_millis() as u64,
                    "response"
                );
            },
        )
        .on_failure(
            |class: ServerErrorsFailureClass, _latency: std::time::Duration, _span: &Span| {
                tracing::warn!(%class, "request failed");
            },
        );
    // Layers run outside-in in reverse order of `.layer` calls: the id is set first, then the
    // span sees it, and the response gets it back.
    router
        .layer(trace)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
