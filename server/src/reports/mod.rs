//! Reports managers run the business on, each an endpoint answering JSON or CSV, read from the
//! projections the sync transaction keeps (never by hydrating documents per request), within
//! the caller's read scope: a rep sees their own figures, a supervisor the team's, a manager
//! the region's, an admin the tenant's.
//!
//! * [`visit_frequency`]: `GET /v1/reports/visit-frequency` (docs/plans.md).

pub mod visit_frequency;

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use fieldsync_shared::master::Grade;
use fieldsync_shared::plan::IsoWeek;
use fieldsync_shared::rules::plan::VisitFrequency;
use fieldsync_shared::values::{StoreId, UserId};
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::http::{ApiError, ApiResult, ErrorBody};
use crate::scope::read_scope;
use crate::state::AppState;
use visit_frequency::{FrequencyRow, Inputs, WeekTotals};

/// Most weeks one request may span.
pub const MAX_WEEKS: usize = 26;
/// Most rows one answer may hold; narrow the filters beyond it.
pub const MAX_ROWS: usize = 20_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/reports/visit-frequency", get(visit_frequency_report))
}

/// OpenAPI description of the report endpoints (merged into the served spec by `openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(visit_frequency_report),
    components(schemas(FrequencyReport, FrequencyRow, WeekTotals, ErrorBody))
)]
pub struct ReportsApi;

/// Filters of the visit-frequency report.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FrequencyParams {
    /// First ISO week, e.g. `2026-W40` (required).
    pub from: Option<String>,
    /// Last ISO week, inclusive (required; at most 26 weeks after `from`).
    pub to: Option<String>,
    /// Only this rep (uuid).
    pub person_id: Option<String>,
    /// Only stores of this grade: `A`, `B` or `C`.
    pub grade: Option<String>,
    /// `csv` for CSV (as `Accept: text/csv`); JSON otherwise.
    pub format: Option<String>,
}

/// The visit-frequency report as JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FrequencyReport {
    pub from: String,
    pub to: String,
    /// Totals per week (the chart's bars).
    pub weeks: Vec<WeekTotals>,
    /// Per rep, store and week; by week, rep, store code.
    pub rows: Vec<FrequencyRow>,
}

/// The parsed filters.
#[derive(Debug, Clone)]
pub struct FrequencyQuery {
    pub weeks: Vec<IsoWeek>,
    pub person: Option<UserId>,
    pub grade: Option<Grade>,
    pub csv: bool,
}

fn invalid(param: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "invalid_query",
        format!("query parameter {param}: {reason}"),
    )
}

impl FrequencyParams {
    pub fn parse(&self, headers: &HeaderMap) -> ApiResult<FrequencyQuery> {
        let week = |name: &str, raw: &Option<String>| -> ApiResult<IsoWeek> {
            let raw = raw
                .as_deref()
                .ok_or_else(|| invalid(name, "required, e.g. 2026-W40"))?;
            IsoWeek::parse(raw).map_err(|e| invalid(name, e))
        };
        let (from, to) = (week("from", &self.from)?, week("to", &self.to)?);
        if to < from {
            return Err(invalid("to", format!("{to} is before {from}")));
        }
        let mut weeks = vec![from];
        while *weeks.last().expect("one week") < to {
            if weeks.len() == MAX_WEEKS {
                return Err(invalid(
                    "to",
                    format!("at most {MAX_WEEKS} weeks per request"),
                ));
            }
            weeks.push(weeks.last().expect("one week").next());
        }
        let person = self
            .person_id
            .as_deref()
            .map(|p| UserId::parse(p).map_err(|e| invalid("person_id", e)))
            .transpose()?;
        let grade = match self.grade.as_deref().map(str::trim) {
            None => None,
            Some("A" | "a") => Some(Grade::A),
            Some("B" | "b") => Some(Grade::B),
            Some("C" | "c") => Some(Grade::C),
            Some(other) => return Err(invalid("grade", format!("{other:?} is not A, B or C"))),
        };
        let accept_csv = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"));
        let csv = match self.format.as_deref() {
            None => accept_csv,
            Some("csv") => true,
            Some("json") => false,
            Some(other) => return Err(invalid("format", format!("{other:?} is not csv or json"))),
        };
        Ok(FrequencyQuery {
            weeks,
            person,
            grade,
            csv,
        })
    }
}

/// The report's rows and totals for `query`, within the caller's read scope.
pub async fn frequency_report(
    state: &AppState,
    principal: &Principal,
    query: &FrequencyQuery,
) -> ApiResult<(Vec<WeekTotals>, Vec<FrequencyRow>)> {
    let tenant = principal.tenant_id;
    let scope = read_scope(state.store.as_ref(), principal).await?;
    let people: Option<Vec<UserId>> = match (query.person, scope.whole_tenant) {
        (Some(p), _) if scope.whole_tenant || scope.people.contains(&p) => Some(vec![p]),
        // Someone outside the scope: nothing, as for an unknown person.
        (Some(_), _) => Some(Vec::new()),
        (None, true) => None,
        (None, false) => Some(scope.people.iter().copied().collect()),
    };
    let covered = state
        .store
        .covered_stores(tenant, people.as_deref())
        .await?;
    let stores: Vec<StoreId> = {
        let mut s: Vec<StoreId> = covered.iter().map(|c| c.store_id).collect();
        s.sort();
        s.dedup();
        s
    };
    let people: Vec<UserId> = {
        let mut p: Vec<UserId> = covered.iter().map(|c| c.person_id).collect();
        p.sort();
        p.dedup();
        p
    };
    let first = query.weeks[0].monday();
    let last = query.weeks[query.weeks.len() - 1].sunday();
    let rows_ahead = covered.len() * query.weeks.len();
    if rows_ahead > MAX_ROWS {
        return Err(ApiError::unprocessable(
            "too_many_rows",
            format!(
                "{rows_ahead} rows: at most {MAX_ROWS}; choose fewer weeks, one rep or one grade"
            ),
        ));
    }
    let done = state
        .store
        .done_visits(tenant, &stores, first, last)
        .await?;
    let last_before: HashMap<StoreId, fieldsync_shared::Date> = state
        .store
        .last_visits_before(tenant, &stores, first)
        .await?
        .into_iter()
        .collect();
    let planned = state
        .store
        .planned_visits(
            tenant,
            &people,
            first,
            query.weeks[query.weeks.len() - 1].monday(),
        )
        .await?;
    let inputs = Inputs {
        weeks: &query.weeks,
        covered: &covered,
        planned: &planned,
        done: &done,
        last_before: &last_before,
        frequency: VisitFrequency::default(),
    };
    let rows = visit_frequency::rows(&inputs, query.grade);
    Ok((visit_frequency::totals(&query.weeks, &rows), rows))
}

/// Visit-frequency compliance per rep, store, grade and ISO week: required, planned, done,
/// unplanned visits and overdue stores.
#[utoipa::path(
    get, path = "/v1/reports/visit-frequency", tag = "reports",
    params(FrequencyParams),
    responses(
        (status = 200, description = "the report as JSON, or as CSV (`Accept: text/csv` or `format=csv`)", body = FrequencyReport),
        (status = 400, description = "invalid_query: a week, person, grade or format does not parse, or the range is too long", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 422, description = "too_many_rows: narrow the filters", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn visit_frequency_report(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    params: Result<Query<FrequencyParams>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(params) = params.map_err(|e| {
        ApiError::bad_request("invalid_query", format!("query string: {}", e.body_text()))
    })?;
    let query = params.parse(&headers)?;
    let (weeks, rows) = frequency_report(&state, &principal, &query).await?;
    if query.csv {
        let body = visit_frequency::csv(&rows);
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    let report = FrequencyReport {
        from: query.weeks[0].to_string(),
        to: query.weeks[query.weeks.len() - 1].to_string(),
        weeks,
        rows,
    };
    Ok(Json(report).into_response())
}
