//! `/v1/admin/approval-tiers`: the tenant's approval tiers (`shared::tiers`), how far a rep, a
//! supervisor and a manager may go alone (discount off list price, order amount, expense).
//! Everyone in the tenant may read them (they travel to every phone with the master data);
//! administrators and managers may replace them. Written at a new master version, so the
//! server knows which phones judged with older tiers (docs/verdicts.md, "Approval tiers").

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use fieldsync_shared::master::Role;
use fieldsync_shared::tiers::{ApprovalTiers, RoleLimits};
use fieldsync_shared::{Money, TenantId};

use super::double_option;
use crate::auth::Principal;
use crate::http::body::body_error;
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{DirectoryStore, StoreError};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/admin/approval-tiers",
        get(get_approval_tiers).put(put_approval_tiers),
    )
}

/// Each role's largest discount without approval, basis points (1000 = 10 %); `null`: no
/// limit. Every role must be given.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountLimits {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, required = true, maximum = 10000)]
    pub rep: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, required = true, maximum = 10000)]
    pub supervisor: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, required = true, maximum = 10000)]
    pub manager: Option<Option<u32>>,
}

/// Each role's largest amount alone, minor units (fen: 500000 = 5,000.00); `null`: no limit.
/// Every role must be given.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmountLimits {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, required = true, minimum = 0)]
    pub rep: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, required = true, minimum = 0)]
    pub supervisor: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, required = true, minimum = 0)]
    pub manager: Option<Option<i64>>,
}

/// A tenant's approval tiers: the body of `PUT` and the answer of both methods. A limit may not
/// be below the limit of the role beneath it (rep, supervisor, manager); merchandisers have a
/// rep's limits, administrators a manager's.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalTiersBody {
    /// The discount off list price each role may give without approval.
    pub discount_bp: DiscountLimits,
    /// The order total each role may submit (reps) or approve (supervisors, managers) alone.
    pub order_amount: AmountLimits,
    /// The single expense each role may incur or pre-approve alone.
    pub expense_amount: AmountLimits,
}

/// A role's limit that the body must give: `field` names it in the refusal.
fn given<T>(value: Option<Option<T>>, field: &str) -> ApiResult<Option<T>> {
    value.ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_tiers",
            format!("{field}: missing (null for no limit)"),
        )
    })
}

impl DiscountLimits {
    fn limits(self) -> ApiResult<RoleLimits<u32>> {
        Ok(RoleLimits {
            rep: given(self.rep, "discount_bp.rep")?,
            supervisor: given(self.supervisor, "discount_bp.supervisor")?,
            manager: given(self.manager, "discount_bp.manager")?,
        })
    }
}

impl AmountLimits {
    fn limits(self, name: &str) -> ApiResult<RoleLimits<Money>> {
        let money = |v: Option<Option<i64>>, role: &str| {
            given(v, &format!("{name}.{role}")).map(|l| l.map(Money))
        };
        Ok(RoleLimits {
            rep: money(self.rep, "rep")?,
            supervisor: money(self.supervisor, "supervisor")?,
            manager: money(self.manager, "manager")?,
        })
    }
}

impl ApprovalTiersBody {
    /// The tiers the body gives, every role present (not yet validated: [`save`]).
    fn tiers(self) -> ApiResult<ApprovalTiers> {
        Ok(ApprovalTiers {
            discount_bp: self.discount_bp.limits()?,
            order_amount: self.order_amount.limits("order_amount")?,
            expense_amount: self.expense_amount.limits("expense_amount")?,
        })
    }
}

impl From<ApprovalTiers> for ApprovalTiersBody {
    fn from(t: ApprovalTiers) -> Self {
        let amounts = |l: RoleLimits<Money>| AmountLimits {
            rep: Some(l.rep.map(|m| m.0)),
            supervisor: Some(l.supervisor.map(|m| m.0)),
            manager: Some(l.manager.map(|m| m.0)),
        };
        ApprovalTiersBody {
            discount_bp: DiscountLimits {
                rep: Some(t.discount_bp.rep),
                supervisor: Some(t.discount_bp.supervisor),
                manager: Some(t.discount_bp.manager),
            },
            order_amount: amounts(t.order_amount),
            expense_amount: amounts(t.expense_amount),
        }
    }
}

/// Why tiers were not saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// `ApprovalTiers::validate`'s refusal, naming the field.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SaveError> for ApiError {
    fn from(e: SaveError) -> Self {
        match e {
            SaveError::Invalid(message) => ApiError::unprocessable("invalid_tiers", message),
            SaveError::Store(e) => e.into(),
        }
    }
}

/// Validates `tiers` and stores them as the tenant's at a new master version (returned): the
/// one way tiers are written (the endpoint, the demo).
pub async fn save(
    store: &(impl DirectoryStore + ?Sized),
    tenant: TenantId,
    tiers: &ApprovalTiers,
) -> Result<i64, SaveError> {
    tiers.validate().map_err(SaveError::Invalid)?;
    Ok(store.set_approval_tiers(tenant, tiers).await?)
}

#[utoipa::path(get, path = "/v1/admin/approval-tiers", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "The tenant's approval tiers (the defaults, 10 % for every role and no amount limit, if it set none)", body = ApprovalTiersBody),
              (status = 401, description = "`unauthorized`", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal), fields(tenant = %principal.tenant_id))]
pub async fn get_approval_tiers(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<ApprovalTiersBody>> {
    let tiers = state.store.approval_tiers(principal.tenant_id).await?;
    Ok(Json(tiers.unwrap_or_default().into()))
}

#[utoipa::path(put, path = "/v1/admin/approval-tiers", tag = "admin", security(("bearer" = [])),
    request_body = ApprovalTiersBody,
    responses((status = 200, description = "Stored; phones receive them with their next sync", body = ApprovalTiersBody),
              (status = 403, description = "`forbidden`: only administrators and managers set tiers", body = crate::http::ErrorBody),
              (status = 422, description = "`invalid_body` (unknown field, wrong type), `invalid_tiers` (a role missing, a limit below the role beneath it, a discount above 10000, a negative amount); the message names the field", body = crate::http::ErrorBody)))]
#[tracing::instrument(skip(state, principal, body), fields(tenant = %principal.tenant_id))]
pub async fn put_approval_tiers(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<ApprovalTiersBody>, JsonRejection>,
) -> ApiResult<Json<ApprovalTiersBody>> {
    if !matches!(principal.role, Role::Admin | Role::Manager) {
        return Err(ApiError::Forbidden(
            "only administrators and managers may set approval tiers".into(),
        ));
    }
    let Json(body) = body.map_err(body_error)?;
    let tiers = body.tiers()?;
    save(state.store.as_ref(), principal.tenant_id, &tiers).await?;
    tracing::info!(by = %principal.user_id, "approval tiers set");
    Ok(Json(tiers.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_gives_every_role_and_reads_back_the_same() {
        let json = serde_json::json!({
            "discount_bp": {"rep": 1000, "supervisor": 1500, "manager": 2500},
            "order_amount": {"rep": 500000, "supervisor": 2000000, "manager": null},
            "expense_amount": {"rep": 20000, "supervisor": 100000, "manager": null},
        });
        let body: ApprovalTiersBody = serde_json::from_value(json.clone()).unwrap();
        let tiers = body.tiers().unwrap();
        assert_eq!(
            tiers.order_amount.of(Role::Supervisor),
            Some(Money(2_000_000))
        );
        assert_eq!(tiers.order_amount.of(Role::Manager), None);
        assert_eq!(
            serde_json::to_value(ApprovalTiersBody::from(tiers)).unwrap(),
            json
        );
    }

    #[test]
    fn a_missing_role_is_refused_by_name_not_read_as_no_limit() {
        let body: ApprovalTiersBody = serde_json::from_value(serde_json::json!({
            "discount_bp": {"rep": 1000, "manager": 2500},
            "order_amount": {"rep": null, "supervisor": null, "manager": null},
            "expense_amount": {"rep": null, "supervisor": null, "manager": null},
        }))
        .unwrap();
        let Err(ApiError::Unprocessable { reason, message }) = body.tiers() else {
            panic!("refused expected");
        };
        assert_eq!(reason, "invalid_tiers");
        assert!(message.starts_with("discount_bp.supervisor"), "{message}");
    }
}
