//! `/v1/admin/expense-budget`: the tenant's monthly expense budget per person, `base +
//! ratio_bp / 10,000 × achieved sales` (docs/expenses.md). Delivered to the phones with
//! master data and applied by the expense rule on both sides.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use fieldsync_shared::expense::ExpenseBudget;
use fieldsync_shared::values::{Money, Timestamp};

use super::require_admin;
use crate::auth::Principal;
use crate::http::body::body_error;
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/admin/expense-budget",
        get(get_expense_budget).put(put_expense_budget),
    )
}

/// The budget as the API shows and takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpenseBudgetBody {
    /// What a person may spend in a month with no sales, in minor units (cents); not negative.
    pub base: i64,
    /// What each unit of the month's achieved sales adds, in basis points (0 to 10000).
    pub ratio_bp: u32,
}

impl From<ExpenseBudget> for ExpenseBudgetBody {
    fn from(b: ExpenseBudget) -> Self {
        ExpenseBudgetBody {
            base: b.base.0,
            ratio_bp: b.ratio_bp,
        }
    }
}

#[utoipa::path(get, path = "/v1/admin/expense-budget", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "The tenant's budget (the defaults if it set none)", body = ExpenseBudgetBody),
              (status = 403, description = "`forbidden`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn get_expense_budget(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<ExpenseBudgetBody>> {
    require_admin(&principal)?;
    let budget = state.store.expense_budget(principal.tenant_id).await?;
    Ok(Json(budget.into()))
}

#[utoipa::path(put, path = "/v1/admin/expense-budget", tag = "admin", security(("bearer" = [])),
    request_body = ExpenseBudgetBody,
    responses((status = 200, description = "Stored", body = ExpenseBudgetBody),
              (status = 403, description = "`forbidden`", body = crate::http::ErrorBody),
              (status = 422, description = "`invalid_body`: a negative base or a ratio above 10000", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal, body), fields(tenant = %principal.tenant_id))]
pub async fn put_expense_budget(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<ExpenseBudgetBody>, JsonRejection>,
) -> ApiResult<Json<ExpenseBudgetBody>> {
    require_admin(&principal)?;
    let Json(req) = body.map_err(body_error)?;
    let budget = ExpenseBudget {
        base: Money(req.base),
        ratio_bp: req.ratio_bp,
    };
    budget
        .validate()
        .map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))?;
    state
        .store
        .set_expense_budget(principal.tenant_id, &budget, Timestamp::now())
        .await?;
    Ok(Json(budget.into()))
}
