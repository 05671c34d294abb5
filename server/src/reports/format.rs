//! What form a report answers in: JSON (the default), CSV or XLSX, chosen by `format=` or by
//! the `Accept` header, and the answer of each form with its content type.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::invalid;
use super::xlsx::{self, Sheet};
use crate::http::{ApiError, ApiResult};

/// The media type of an XLSX workbook.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A report's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Csv,
    Xlsx,
}

impl ReportFormat {
    /// `format=json|csv|xlsx` when given, else what `Accept` asks for (CSV or XLSX), else JSON.
    pub fn parse(format: Option<&str>, headers: &HeaderMap) -> ApiResult<ReportFormat> {
        match format {
            Some("json") => Ok(ReportFormat::Json),
            Some("csv") => Ok(ReportFormat::Csv),
            Some("xlsx") => Ok(ReportFormat::Xlsx),
            Some(other) => Err(invalid(
                "format",
                format!("{other:?} is not json, csv or xlsx"),
            )),
            None => {
                let accept = headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                Ok(if accept.contains(XLSX_TYPE) {
                    ReportFormat::Xlsx
                } else if accept.contains("text/csv") {
                    ReportFormat::Csv
                } else {
                    ReportFormat::Json
                })
            }
        }
    }
}

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
pub fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Minor units as major, two decimals (`123456` -> `1234.56`): amounts in CSV files.
pub fn major_units(minor: i64) -> String {
    fieldsync_shared::values::Money(minor).to_string()
}

/// A CSV answer.
pub fn csv_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
}

/// An XLSX answer of `sheets`, offered for download as `file_name` (ASCII, no quotes). The
/// workbook is written on the blocking pool: a large one takes a noticeable moment.
pub async fn xlsx_response(sheets: Vec<Sheet>, file_name: &str) -> ApiResult<Response> {
    let bytes = tokio::task::spawn_blocking(move || xlsx::workbook(&sheets))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(XLSX_TYPE)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
