//! `POST /v1/admin/import/{kind}`: the CSV file in the body, the import's report (or every
//! failing row) in the answer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::pipeline::{
    run_import, FreshRows, ImportError, ImportReport, RowError, Silent, MAX_REPORTED_ERRORS,
};
use super::ImportKind;
use crate::admin::{require_admin, MAX_IMPORT_BYTES};
use crate::auth::Principal;
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;

/// 422 answer of a refused file.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvalidRows {
    /// `invalid_rows`
    pub reason: String,
    pub message: String,
    pub errors: Vec<RowError>,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/import/{kind}", post(import))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
}

/// A refused file: 422 with every failing row.
fn invalid_rows(errors: Vec<RowError>) -> Response {
    let message = format!(
        "{} error(s) in the file; nothing was imported{}",
        errors.len(),
        if errors.len() >= MAX_REPORTED_ERRORS {
            " (only the first ones are listed)"
        } else {
            ""
        }
    );
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(InvalidRows {
            reason: "invalid_rows".into(),
            message,
            errors,
        }),
    )
        .into_response()
}

/// Imports a CSV file: all rows or none.
#[utoipa::path(post, path = "/v1/admin/import/{kind}", tag = "admin", security(("bearer" = [])),
    params(("kind" = String, Path, description = "users, stores, territories, products, credit, targets, assortment, promotions, success-pictures or agreements")),
    request_body(content = String, content_type = "text/csv", description = "UTF-8 CSV with a header row; columns in docs/http-api.md"),
    responses(
        (status = 200, description = "Every row imported in one transaction", body = ImportReport),
        (status = 403, description = "`forbidden`", body = crate::http::ErrorBody),
        (status = 404, description = "`not_found`: unknown kind", body = crate::http::ErrorBody),
        (status = 413, description = "`body_too_large` (10 MiB)", body = crate::http::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not text/csv", body = crate::http::ErrorBody),
        (status = 422, description = "`invalid_rows`: nothing imported; `errors` lists row, column, message", body = InvalidRows),
    ))]
#[tracing::instrument(skip(state, principal, headers, body), fields(tenant = %principal.tenant_id, bytes = body.len()))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_admin(&principal)?;
    let kind = ImportKind::parse(&kind).ok_or(ApiError::NotFound("import kind"))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .trim()
        .to_ascii_lowercase()
        .starts_with("text/csv")
    {
        return Err(ApiError::UnsupportedMediaType(
            "send the file with Content-Type: text/csv".into(),
        ));
    }
    match run_import(
        state.store.as_ref(),
        principal.tenant_id,
        kind,
        body,
        &FreshRows,
        Arc::new(Silent),
    )
    .await
    {
        Ok(report) => {
            tracing::info!(
                kind = kind.as_str(),
                rows = report.rows,
                created = report.created,
                updated = report.updated,
                "imported"
            );
            Ok(Json(report).into_response())
        }
        Err(ImportError::Invalid(errors)) => Ok(invalid_rows(errors)),
        Err(ImportError::Store(e)) => Err(e.into()),
        Err(ImportError::Api(e)) => Err(e),
    }
}
