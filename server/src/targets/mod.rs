//! Sales targets (docs/targets.md): `GET /v1/targets` (within the read scope), the change
//! requests that keep a target's history (`POST /v1/targets/{id}/changes`, decided by a
//! manager with `POST /v1/target-changes/{id}/decision`, `GET /v1/targets/{id}/changes`), and
//! achievement per rep and month (`GET /v1/targets/achievement`): the month's actual sales
//! (`shared::rules::sales::achieved_sales`, the figure the expense budget grows with) against
//! the rep's month target. Targets are imported as CSV (`admin::csv_import::targets`).

mod period;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use fieldsync_shared::master::Role;
use fieldsync_shared::order::Order;
use fieldsync_shared::rules::sales;
use fieldsync_shared::values::{Date, Money, ShortText, Timestamp, UserId};

use crate::auth::Principal;
use crate::http::body::body_error;
use crate::http::{ApiError, ApiResult, ErrorBody};
use crate::scope::{self, ReadScope};
use crate::state::AppState;
use crate::store::targets::{Target, TargetChange, TargetDecision, TargetFilter};

pub use period::Period;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/targets", get(list_targets))
        .route("/v1/targets/achievement", get(achievement))
        .route(
            "/v1/targets/{id}/changes",
            get(list_changes).post(request_change),
        )
        .route("/v1/target-changes/{id}/decision", post(decide_change))
}

/// OpenAPI description of the target endpoints (merged into the served spec by `openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_targets, achievement, list_changes, request_change, decide_change),
    components(schemas(
        TargetView,
        ChangeView,
        AchievementRow,
        ChangeRequest,
        DecisionRequest,
        ErrorBody
    ))
)]
pub struct TargetsApi;

/// A target as the API shows it. Amounts in minor units.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TargetView {
    pub id: String,
    pub period: String,
    pub period_start: String,
    pub period_end: String,
    /// `None`: the company's own target.
    pub person_id: Option<String>,
    /// `None`: all products.
    pub category: Option<String>,
    pub amount: i64,
    pub volume: i64,
}

impl From<Target> for TargetView {
    fn from(t: Target) -> Self {
        TargetView {
            id: t.id.to_string(),
            period: t.period,
            period_start: t.period_start.to_string(),
            period_end: t.period_end.to_string(),
            person_id: t.person_id.map(|p| p.to_string()),
            category: t.category,
            amount: t.amount.0,
            volume: t.volume,
        }
    }
}

/// A change request of a target and its decision.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeView {
    pub id: String,
    pub target_id: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub reason: String,
    pub old_amount: i64,
    pub old_volume: i64,
    pub new_amount: i64,
    pub new_volume: i64,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub comment: Option<String>,
}

impl From<TargetChange> for ChangeView {
    fn from(c: TargetChange) -> Self {
        ChangeView {
            id: c.id.to_string(),
            target_id: c.target_id.to_string(),
            requested_by: c.requested_by.to_string(),
            requested_at: c.requested_at.millis(),
            reason: c.reason,
            old_amount: c.old_amount.0,
            old_volume: c.old_volume,
            new_amount: c.new_amount.0,
            new_volume: c.new_volume,
            status: c.status,
            decided_by: c.decided_by.map(|u| u.to_string()),
            decided_at: c.decided_at.map(|t| t.millis()),
            comment: c.comment,
        }
    }
}

/// One person's month: target, actual sales, achievement.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AchievementRow {
    pub person_id: String,
    pub month: String,
    pub target_amount: i64,
    /// Their orders of the month that are submitted or approved.
    pub actual_amount: i64,
    /// actual / target in basis points (10000: 100 %), rounded down; `None` for a zero target.
    pub achievement_bp: Option<i64>,
}

/// `GET /v1/targets` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TargetQuery {
    /// Only targets whose period overlaps this one (`2026`, `2026-Q1`, `2026-03`).
    pub period: Option<String>,
    /// Only this person's targets.
    pub person_id: Option<String>,
}

/// `GET /v1/targets/achievement` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AchievementQuery {
    /// The month, `2026-03`.
    pub month: String,
}

/// A request to change a target.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    /// Why the target should change (required).
    pub reason: String,
    /// The new amount, minor units.
    pub amount: i64,
    pub volume: i64,
}

/// A manager's decision on a change request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub approve: bool,
    /// Required to reject.
    pub comment: Option<String>,
}

fn invalid(param: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_query", format!("{param}: {message}"))
}

/// The scope's people as a listing filter (`None`: the whole tenant).
fn people_of(scope: &ReadScope) -> Option<Vec<UserId>> {
    (!scope.whole_tenant).then(|| {
        let mut people: Vec<UserId> = scope.people.iter().copied().collect();
        people.sort();
        people
    })
}

/// Whether the caller may see `target`: a person's target by the read scope, the company's
/// by managers and administrators.
fn sees(principal: &Principal, scope: &ReadScope, target: &Target) -> bool {
    match target.person_id {
        Some(p) => scope.whole_tenant || scope.people.contains(&p),
        None => matches!(principal.role, Role::Manager | Role::Admin),
    }
}

async fn visible_target(state: &AppState, principal: &Principal, raw: &str) -> ApiResult<Target> {
    let id = Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("target"))?;
    let scope = scope::read_scope(state.store.as_ref(), principal).await?;
    match state.store.get_target(principal.tenant_id, id).await? {
        Some(t) if sees(principal, &scope, &t) => Ok(t),
        _ => Err(ApiError::NotFound("target")),
    }
}

/// The targets the caller may see: their own (rep), their team's (supervisor), their
/// region's and the company's (manager), all (admin); by period start.
#[utoipa::path(get, path = "/v1/targets", tag = "targets", params(TargetQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "Targets within the read scope", body = Vec<TargetView>),
              (status = 400, description = "`invalid_query`", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn list_targets(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<TargetQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<TargetView>>> {
    let Query(q) = query?;
    let period = q
        .period
        .as_deref()
        .map(Period::parse)
        .transpose()
        .map_err(|e| invalid("period", e.reason))?;
    let person = q
        .person_id
        .as_deref()
        .map(UserId::parse)
        .transpose()
        .map_err(|e| invalid("person_id", e.reason))?;
    let scope = scope::read_scope(state.store.as_ref(), &principal).await?;
    let mut people = people_of(&scope);
    if let Some(p) = person {
        people = Some(match people {
            Some(visible) if !visible.contains(&p) => Vec::new(),
            _ => vec![p],
        });
    }
    let filter = TargetFilter {
        people,
        company: person.is_none() && matches!(principal.role, Role::Manager | Role::Admin),
        from: period.as_ref().map(Period::start),
        to: period.as_ref().map(Period::end),
    };
    let targets = state
        .store
        .list_targets(principal.tenant_id, &filter)
        .await?;
    Ok(Json(targets.into_iter().map(TargetView::from).collect()))
}

/// Achievement per person and month: for each person in the caller's scope with a month
/// target for all products, their actual sales of the month against it.
#[utoipa::path(get, path = "/v1/targets/achievement", tag = "targets", params(AchievementQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "One row per person with a month target, by person", body = Vec<AchievementRow>),
              (status = 400, description = "`invalid_query`: not a month", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn achievement(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<AchievementQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<AchievementRow>>> {
    let Query(q) = query?;
    let month = Period::parse(&q.month)
        .ok()
        .filter(Period::is_month)
        .ok_or_else(|| invalid("month", "not a month such as 2026-03"))?;
    let scope = scope::read_scope(state.store.as_ref(), &principal).await?;
    let targets = month_targets(&state, &principal, people_of(&scope), &month).await?;
    let mut rows = Vec::new();
    for (person, t) in targets {
        let actual = actual_sales(&state, &principal, person, month.start()).await?;
        rows.push(AchievementRow {
            person_id: person.to_string(),
            month: month.as_str().to_string(),
            target_amount: t.amount.0,
            actual_amount: actual.0,
            achievement_bp: sales::achievement_bp(actual, t.amount),
        });
    }
    rows.sort_by(|a, b| a.person_id.cmp(&b.person_id));
    Ok(Json(rows))
}

/// The month targets achievement is measured against: each person's target of exactly
/// `month` for all products (not a quarter's or a category's), for `people` (`None`: everyone
/// of the tenant), by person.
pub async fn month_targets(
    state: &AppState,
    principal: &Principal,
    people: Option<Vec<UserId>>,
    month: &Period,
) -> ApiResult<std::collections::BTreeMap<UserId, Target>> {
    let filter = TargetFilter {
        people,
        company: false,
        from: Some(month.start()),
        to: Some(month.end()),
    };
    let targets = state
        .store
        .list_targets(principal.tenant_id, &filter)
        .await?;
    Ok(targets
        .into_iter()
        .filter(|t| t.period == month.as_str() && t.category.is_none())
        .filter_map(|t| Some((t.person_id?, t)))
        .collect())
}

/// `person`'s achieved sales in the month of `day`, from the orders projection.
async fn actual_sales(
    state: &AppState,
    principal: &Principal,
    person: UserId,
    day: Date,
) -> ApiResult<Money> {
    let (first, last) = sales::month_of(day);
    let month = state
        .store
        .person_month(principal.tenant_id, person, first, last)
        .await?;
    let orders: Vec<Order> = month
        .orders
        .iter()
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect();
    Ok(sales::achieved_sales(&orders, person, day))
}

/// The change requests of a target, oldest first: its history.
#[utoipa::path(get, path = "/v1/targets/{id}/changes", tag = "targets",
    params(("id" = uuid::Uuid, Path, description = "target id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The target's change requests, oldest first", body = Vec<ChangeView>),
              (status = 404, description = "absent or outside the caller's scope", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn list_changes(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ChangeView>>> {
    let target = visible_target(&state, &principal, &id).await?;
    let changes = state
        .store
        .target_changes(principal.tenant_id, target.id)
        .await?;
    Ok(Json(changes.into_iter().map(ChangeView::from).collect()))
}

/// Requests a change of a target, with a reason and the new values: a supervisor or manager
/// for a target in their scope (the company's: a manager). A manager decides it.
#[utoipa::path(post, path = "/v1/targets/{id}/changes", tag = "targets",
    params(("id" = uuid::Uuid, Path, description = "target id")),
    request_body = ChangeRequest,
    security(("bearer" = [])),
    responses((status = 201, description = "The pending request", body = ChangeView),
              (status = 403, description = "`forbidden`: reps request no changes", body = ErrorBody),
              (status = 404, description = "absent or outside the caller's scope", body = ErrorBody),
              (status = 422, description = "`invalid_body`: no reason, a negative value", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn request_change(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Json<ChangeRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<ChangeView>)> {
    // The id is resolved before the body is read: an id outside the scope is 404 whatever
    // was sent, so a malformed body never tells that the id exists.
    let target = visible_target(&state, &principal, &id).await?;
    if !matches!(
        principal.role,
        Role::Supervisor | Role::Manager | Role::Admin
    ) {
        return Err(ApiError::Forbidden(
            "supervisors and managers request target changes".into(),
        ));
    }
    let Json(req) = body.map_err(body_error)?;
    let reason = ShortText::parse(&req.reason)
        .map_err(|e| ApiError::unprocessable("invalid_body", format!("reason: {}", e.reason)))?;
    if req.amount < 0 || req.volume < 0 {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "amount and volume must not be negative",
        ));
    }
    let change = TargetChange {
        id: Uuid::new_v4(),
        target_id: target.id,
        requested_by: principal.user_id,
        requested_at: Timestamp::now(),
        reason: reason.as_str().to_string(),
        old_amount: target.amount,
        old_volume: target.volume,
        new_amount: Money(req.amount),
        new_volume: req.volume,
        status: "pending".into(),
        decided_by: None,
        decided_at: None,
        comment: None,
    };
    state
        .store
        .request_target_change(principal.tenant_id, &change)
        .await?;
    Ok((StatusCode::CREATED, Json(change.into())))
}

/// Approves (the target takes the new values) or rejects a pending change request: a manager
/// whose region covers the target's person (the company's targets: any manager), or an
/// administrator; never the requester.
#[utoipa::path(post, path = "/v1/target-changes/{id}/decision", tag = "targets",
    params(("id" = uuid::Uuid, Path, description = "change request id")),
    request_body = DecisionRequest,
    security(("bearer" = [])),
    responses((status = 200, description = "The decided request", body = ChangeView),
              (status = 403, description = "`forbidden`: not a manager of the target, or their own request", body = ErrorBody),
              (status = 404, description = "absent or outside the caller's scope", body = ErrorBody),
              (status = 409, description = "`already_decided`", body = ErrorBody),
              (status = 422, description = "`invalid_body`: rejecting without a comment", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn decide_change(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Json<DecisionRequest>, JsonRejection>,
) -> ApiResult<Json<ChangeView>> {
    let tenant = principal.tenant_id;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("target change"))?;
    let change = state
        .store
        .get_target_change(tenant, id)
        .await?
        .ok_or(ApiError::NotFound("target change"))?;
    visible_target(&state, &principal, &change.target_id.to_string())
        .await
        .map_err(|_| ApiError::NotFound("target change"))?;
    if !matches!(principal.role, Role::Manager | Role::Admin) {
        return Err(ApiError::Forbidden(
            "a manager decides target changes".into(),
        ));
    }
    let Json(req) = body.map_err(body_error)?;
    if change.requested_by == principal.user_id {
        return Err(ApiError::Forbidden(
            "another manager decides your own request".into(),
        ));
    }
    let comment = req
        .comment
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(ShortText::parse)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_body", format!("comment: {}", e.reason)))?;
    if !req.approve && comment.is_none() {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "comment: say why the change is rejected",
        ));
    }
    let decision = TargetDecision {
        approve: req.approve,
        by: principal.user_id,
        at: Timestamp::now(),
        comment: comment.map(|c| c.as_str().to_string()),
    };
    if !state
        .store
        .decide_target_change(tenant, id, &decision)
        .await?
    {
        return Err(ApiError::Conflict {
            reason: "already_decided",
            message: format!("this request is already {}", change.status),
        });
    }
    let decided = state
        .store
        .get_target_change(tenant, id)
        .await?
        .ok_or(ApiError::NotFound("target change"))?;
    Ok(Json(decided.into()))
}
