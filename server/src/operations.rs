//! The operations listener's endpoints: `/health` (also on the API listener), `/metrics`
//! (Prometheus) and `/openapi.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::http::{ApiError, ErrorBody};
use crate::state::AppState;

/// This capability's part of the OpenAPI description.
#[derive(utoipa::OpenApi)]
#[openapi(paths(health), components(schemas(HealthBody)))]
pub struct OperationsApi;

/// `/metrics`, `/openapi.json` (the rendered `spec`) and `/health`.
pub fn router(spec: Arc<str>) -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics_text))
        .route(
            "/openapi.json",
            get(move || {
                let spec = spec.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        spec.to_string(),
                    )
                }
            }),
        )
        .route("/health", get(health))
}

/// `GET /health` answer.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct HealthBody {
    /// `ok`
    pub status: String,
    /// The server's crate version.
    pub version: String,
}

/// Liveness and database reachability.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "Serving", body = HealthBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(state))]
pub async fn health(State(state): State<AppState>) -> Result<Json<HealthBody>, ApiError> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: database unavailable");
        ApiError::Unavailable {
            message: "the database is unavailable".into(),
            retry_after_secs: 5,
        }
    })?;
    Ok(Json(HealthBody {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.render(),
    )
}
