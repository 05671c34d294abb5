//! The routers of both listeners: every capability's routes under the shared middleware.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::state::AppState;
use crate::{http, master_data, metrics, openapi, operations, photos, sessions, telemetry};

/// The API router: public `/health` and login, everything else behind the Bearer extractor.
pub fn api_router(state: AppState) -> Router {
    // JSON and sync endpoints share the sync body limit; photos stream their body and apply
    // their own (larger) limit.
    let limited = Router::new()
        .merge(sessions::router())
        .merge(crate::sync::router(&state))
        .merge(crate::queries::router())
        .merge(crate::plans::router())
        .merge(crate::targets::router())
        .merge(crate::reports::router())
        .merge(crate::history::router())
        .merge(master_data::router())
        .merge(crate::admin::router())
        .merge(crate::console::router(&state))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(
            state.config.limits.max_body_bytes,
        ));
    let router = Router::new()
        .route("/health", get(operations::health))
        .merge(limited)
        .merge(photos::router())
        // Reference photos stream their body under their own (5 MiB) limit.
        .merge(crate::reference_photos::router())
        .merge(crate::live::router(&state))
        // CSV imports: their own (10 MiB) limit.
        .merge(crate::admin::import_router())
        .layer(DefaultBodyLimit::disable())
        // Innermost first: a panic becomes a 500 that metrics and traces still see.
        .layer(CatchPanicLayer::custom(http::panic_response))
        .layer(middleware::map_response(http::json_errors))
        .layer(middleware::map_response(http::close_after_too_large))
        .layer(middleware::from_fn_with_state(
            http::timeouts::BodyTimeout {
                idle: state.config.connections.body_idle_timeout(),
                metrics: state.metrics.clone(),
            },
            http::timeouts::body_idle_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ));
    telemetry::layer(router).with_state(state)
}

/// The operations router: `/metrics`, `/openapi.json`, `/health`.
pub fn ops_router(state: AppState) -> Router {
    // Rendered once; the description does not change while the server runs.
    let spec: Arc<str> = match openapi::spec().to_json() {
        Ok(json) => json.into(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the OpenAPI description failed");
            "{}".into()
        }
    };
    operations::router(spec).with_state(state)
}
