//! Reports managers run the business on, each an endpoint answering JSON or CSV, read from the
//! projections the sync transaction keeps (never by hydrating documents per request), within
//! the caller's read scope: a rep sees their own figures, a supervisor the team's, a manager
//! the region's, an admin the tenant's.
//!
//! * [`visit_frequency`]: `GET /v1/reports/visit-frequency` (docs/reports.md).
//! * [`rep_weekly`]: `GET /v1/reports/rep-weekly`, the rep's weekly report.
//! * [`monthly`]: `GET /v1/reports/monthly`, the manager's monthly report per rep and team.
//! * [`store_opportunity`]: `GET /v1/reports/store-opportunity`, per key-account store.
//! * [`shelf`]: `GET /v1/stores/{id}/shelf`, one store's shelf as recorded at a past visit.
//! * [`agreements`]: `GET /v1/reports/agreements`, the annual agreement self-check.
//!
//! [`format`] chooses the answer's form (JSON, CSV, XLSX) and builds it; [`xlsx`] writes
//! workbooks.

pub mod agreements;
pub mod format;
pub mod monthly;
pub mod rep_weekly;
pub mod shelf;
pub mod store_opportunity;
pub mod visit_frequency;
pub mod xlsx;

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
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
use agreements::{AgreementRow, AgreementsParams, AgreementsReport};
use format::ReportFormat;
use monthly::delivery::DeliveryFigures;
use monthly::{Comparison, MonthlyParams, MonthlyReport, MonthlyRow};
use rep_weekly::{RepWeeklyParams, RepWeeklyReport, RepWeeklyRow};
use store_opportunity::{OpportunityParams, OpportunityReport, OpportunityRow};
use visit_frequency::{FrequencyRow, Inputs, WeekTotals};

/// Most weeks one request may span.
pub const MAX_WEEKS: usize = 26;
/// Most rows one answer may hold; narrow the filters beyond it.
pub const MAX_ROWS: usize = 20_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reports/visit-frequency", get(visit_frequency_report))
        .route("/v1/reports/rep-weekly", get(rep_weekly_report))
        .route("/v1/reports/monthly", get(monthly_report))
        .route(
            "/v1/reports/store-opportunity",
            get(store_opportunity_report),
        )
        .route("/v1/stores/{id}/shelf", get(shelf::store_shelf))
        .route("/v1/reports/agreements", get(agreements_report))
}

/// OpenAPI description of the report endpoints (merged into the served spec by `openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        visit_frequency_report,
        rep_weekly_report,
        monthly_report,
        store_opportunity_report,
        shelf::store_shelf,
        agreements_report
    ),
    components(schemas(
        FrequencyReport,
        FrequencyRow,
        WeekTotals,
        RepWeeklyReport,
        RepWeeklyRow,
        MonthlyReport,
        MonthlyRow,
        Comparison,
        DeliveryFigures,
        OpportunityReport,
        OpportunityRow,
        shelf::ShelfAnswer,
        shelf::AuditRef,
        AgreementsReport,
        AgreementRow,
        ErrorBody
    ))
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
    /// `csv` for CSV (as `Accept: text/csv`), `xlsx` for an XLSX workbook (as `Accept:
    /// application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`); JSON otherwise.
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
    pub format: ReportFormat,
}

/// A query parameter that does not parse.
pub fn invalid(param: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "invalid_query",
        format!("query parameter {param}: {reason}"),
    )
}

impl FrequencyParams {
    pub fn parse(&self, headers: &HeaderMap) -> ApiResult<FrequencyQuery> {
        let weeks = parse_weeks(&self.from, &self.to)?;
        let person = parse_person(&self.person_id)?;
        let grade = match self.grade.as_deref().map(str::trim) {
            None => None,
            Some("A" | "a") => Some(Grade::A),
            Some("B" | "b") => Some(Grade::B),
            Some("C" | "c") => Some(Grade::C),
            Some(other) => return Err(invalid("grade", format!("{other:?} is not A, B or C"))),
        };
        let format = ReportFormat::parse(self.format.as_deref(), headers)?;
        Ok(FrequencyQuery {
            weeks,
            person,
            grade,
            format,
        })
    }
}

/// A report's `person_id` filter.
pub fn parse_person(raw: &Option<String>) -> ApiResult<Option<UserId>> {
    raw.as_deref()
        .map(|p| UserId::parse(p).map_err(|e| invalid("person_id", e)))
        .transpose()
}

/// A report's query string, or 400 `invalid_query` saying what does not parse.
fn query_params<T>(params: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    let Query(params) = params.map_err(|e| {
        ApiError::bad_request("invalid_query", format!("query string: {}", e.body_text()))
    })?;
    Ok(params)
}

/// The ISO weeks `from..=to` (both required, at most [`MAX_WEEKS`]) of a report's query.
pub fn parse_weeks(from: &Option<String>, to: &Option<String>) -> ApiResult<Vec<IsoWeek>> {
    let week = |name: &str, raw: &Option<String>| -> ApiResult<IsoWeek> {
        let raw = raw
            .as_deref()
            .ok_or_else(|| invalid(name, "required, e.g. 2026-W40"))?;
        IsoWeek::parse(raw).map_err(|e| invalid(name, e))
    };
    let (from, to) = (week("from", from)?, week("to", to)?);
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
    Ok(weeks)
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
        (status = 200, description = "the report as JSON, as CSV (`Accept: text/csv` or `format=csv`) or as an XLSX workbook (`format=xlsx` or its media type in `Accept`: sheets of the week totals, the totals per rep and week, and the rows)", body = FrequencyReport),
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
    let params = query_params(params)?;
    let query = params.parse(&headers)?;
    let (weeks, rows) = frequency_report(&state, &principal, &query).await?;
    match query.format {
        ReportFormat::Csv => Ok(format::csv_response(visit_frequency::csv(&rows))),
        ReportFormat::Xlsx => frequency_xlsx(&state, &principal, &query, &weeks, &rows).await,
        ReportFormat::Json => {
            let report = FrequencyReport {
                from: query.weeks[0].to_string(),
                to: query.weeks[query.weeks.len() - 1].to_string(),
                weeks,
                rows,
            };
            Ok(Json(report).into_response())
        }
    }
}

/// The visit-frequency report as an XLSX download (the API's and the console's), with the
/// people's names.
pub async fn frequency_xlsx(
    state: &AppState,
    principal: &Principal,
    query: &FrequencyQuery,
    weeks: &[WeekTotals],
    rows: &[FrequencyRow],
) -> ApiResult<Response> {
    let names = person_names(state, principal).await?;
    let sheets = visit_frequency::sheets(weeks, rows, &names);
    let file_name = format!(
        "visit-frequency-{}-{}.xlsx",
        query.weeks[0],
        query.weeks[query.weeks.len() - 1]
    );
    format::xlsx_response(sheets, &file_name).await
}

/// The tenant's people's display names, by id.
pub async fn person_names(
    state: &AppState,
    principal: &Principal,
) -> ApiResult<HashMap<UserId, String>> {
    Ok(state
        .store
        .list_org_users(principal.tenant_id)
        .await?
        .into_iter()
        .map(|u| (u.profile.id, u.profile.display_name))
        .collect())
}

/// The rep's weekly report: per rep (or merchandiser) in the caller's read scope, the week's
/// visits planned, done and unplanned, orders and their amount, audit findings by code and
/// open issues; computed by the same function as the phone's offline report.
#[utoipa::path(
    get, path = "/v1/reports/rep-weekly", tag = "reports",
    params(RepWeeklyParams),
    responses(
        (status = 200, description = "the report as JSON, as CSV (`Accept: text/csv` or `format=csv`: one line per rep) or as an XLSX workbook (`format=xlsx`: sheets of the reps, their findings and their open issues)", body = RepWeeklyReport),
        (status = 400, description = "invalid_query: the week, person or format does not parse", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 422, description = "too_many_rows: more visits, orders or plans in the week than a report reads; choose one rep", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn rep_weekly_report(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    params: Result<Query<RepWeeklyParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query_params(params)?;
    let query = params.parse(&headers)?;
    let computed = rep_weekly::rep_weekly_reports(&state, &principal, &query).await?;
    match query.format {
        ReportFormat::Csv => Ok(format::csv_response(rep_weekly::csv(&computed.rows))),
        ReportFormat::Xlsx => {
            let file_name = format!("rep-weekly-{}.xlsx", query.week);
            format::xlsx_response(rep_weekly::sheets(&computed), &file_name).await
        }
        ReportFormat::Json => Ok(Json(RepWeeklyReport {
            week: query.week.to_string(),
            reps: computed.rows,
        })
        .into_response()),
    }
}

/// The manager's monthly report: per rep or merchandiser in the caller's read scope, per team
/// and in total, the month's sales amount and volume against target (achievement), new and
/// dormant stores, expenses and the expense ratio, with last month's and the same month last
/// year's sales, achievement and expense ratio. Order on-time delivery is not reported:
/// nothing records an order's actual delivery.
#[utoipa::path(
    get, path = "/v1/reports/monthly", tag = "reports",
    params(MonthlyParams),
    responses(
        (status = 200, description = "the report as JSON, as CSV (`Accept: text/csv` or `format=csv`: one line per rep, team and the total) or as an XLSX workbook (`format=xlsx`: sheets `Teams 团队` and `Reps 人员`)", body = MonthlyReport),
        (status = 400, description = "invalid_query: the month, person or format does not parse", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 422, description = "too_many_rows: more expenses, or orders without kept amounts, in a month than a report reads; choose one rep", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn monthly_report(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    params: Result<Query<MonthlyParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query_params(params)?;
    let query = params.parse(&headers)?;
    let report = monthly::monthly_report(&state, &principal, &query).await?;
    match query.format {
        ReportFormat::Csv => Ok(format::csv_response(monthly::csv(&report))),
        ReportFormat::Xlsx => {
            let file_name = format!("monthly-{}.xlsx", report.month);
            format::xlsx_response(monthly::sheets(&report), &file_name).await
        }
        ReportFormat::Json => Ok(Json(report).into_response()),
    }
}

/// The key-account store opportunity report: per KA store (channel NKA, RKA or LKA) in the
/// caller's read scope and ISO week, the own shelf share, own facings, out-of-stock rate and
/// numeric distribution of the week's last audit; per store the facings trend and the orders
/// of the weeks against the store's potential. Promotion compliance is null for now.
#[utoipa::path(
    get, path = "/v1/reports/store-opportunity", tag = "reports",
    params(OpportunityParams),
    responses(
        (status = 200, description = "the report as JSON, as CSV (`Accept: text/csv` or `format=csv`: one line per store and week) or as an XLSX workbook (`format=xlsx`: sheets `Stores 门店` and `Weeks 周`)", body = OpportunityReport),
        (status = 400, description = "invalid_query: a week, the channel, the store or the format does not parse, or the range is too long", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 422, description = "too_many_rows: more stores, rows or documents than a report reads; narrow the filters", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn store_opportunity_report(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    params: Result<Query<OpportunityParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query_params(params)?;
    let query = params.parse(&headers)?;
    let report = store_opportunity::store_opportunity_report(&state, &principal, &query).await?;
    match query.format {
        ReportFormat::Csv => Ok(format::csv_response(store_opportunity::csv(&report))),
        ReportFormat::Xlsx => {
            let file_name = format!("store-opportunity-{}-{}.xlsx", report.from, report.to);
            format::xlsx_response(store_opportunity::sheets(&report), &file_name).await
        }
        ReportFormat::Json => Ok(Json(report).into_response()),
    }
}

/// The annual agreement self-check: per agreement of the year with at least one store the
/// caller reads, computed on those stores, each agreed term (listed SKUs, display weeks,
/// shelf-position weeks, promotions) against what the year's visits recorded by the day: agreed,
/// recorded, expected pro rata, status and the fee at risk (docs/agreements.md).
#[utoipa::path(
    get, path = "/v1/reports/agreements", tag = "reports",
    params(AgreementsParams),
    responses(
        (status = 200, description = "the report as JSON, as CSV (`Accept: text/csv` or `format=csv`: one line per agreement and term) or as an XLSX workbook (`format=xlsx`: sheets `Agreements 协议` and `Terms 条款`)", body = AgreementsReport),
        (status = 400, description = "invalid_query: the year, the day or the format does not parse, or the day is not in the year", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 422, description = "unknown_year: the tenant has no agreement of the year; too_many_rows: more stores or visits than a report reads", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn agreements_report(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    params: Result<Query<AgreementsParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query_params(params)?;
    let query = params.parse(&headers)?;
    let report = agreements::agreements_report(&state, &principal, &query).await?;
    match query.format {
        ReportFormat::Csv => Ok(format::csv_response(agreements::csv(&report))),
        ReportFormat::Xlsx => {
            let file_name = format!("agreements-{}-{}.xlsx", report.year, report.day);
            format::xlsx_response(agreements::sheets(&report), &file_name).await
        }
        ReportFormat::Json => Ok(Json(report).into_response()),
    }
}
