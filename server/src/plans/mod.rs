//! Weekly visit plans on the server: `POST /v1/plans/generate` creates or regenerates the
//! caller's plan for a week with the shared planner (`fieldsync_shared::plan`), keeping the
//! rep's own changes. Plans are read through the query API (`GET /v1/plans`, `crate::queries`)
//! and edited, submitted and reviewed like any document, by sync (docs/plans.md).

mod generate;

use axum::routing::post;
use axum::Router;

use crate::http::ErrorBody;
use crate::state::AppState;

pub use generate::{GenerateRequest, GeneratedPlanBody};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/plans/generate", post(generate::generate_plan))
}

/// OpenAPI description of the plan endpoints (merged into the served spec by `openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(generate::generate_plan),
    components(schemas(GenerateRequest, GeneratedPlanBody, ErrorBody))
)]
pub struct PlansApi;
