//! `GET /v1/stores/{id}/shelf?at=YYYY-MM-DD`: one store's shelf as recorded at a past visit
//! (docs/reports.md, "The shelf at a past visit"), the figures of
//! `fieldsync_shared::report::shelf` over the visits the projections hold for the store; with
//! the store's other audits of the year before, newest first, and the next one after, to step
//! through time. The store must be in the caller's read scope (404 otherwise).

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use fieldsync_shared::document::DocKind;
use fieldsync_shared::master::Store;
use fieldsync_shared::report::shelf::{self, ShelfRecord};
use fieldsync_shared::values::{Date, StoreId};
use fieldsync_shared::visit::Visit;
use serde::{Deserialize, Serialize};

use super::invalid;
use super::store_opportunity::documents;
use crate::auth::Principal;
use crate::http::{ApiError, ApiResult, ErrorBody};
use crate::scope::named::{InScope, VisibleStore};
use crate::state::AppState;

/// How far before `at` the audits are listed (and the shelf looked for), in days.
pub const LOOKBACK_DAYS: i64 = 366;

/// Query of the shelf endpoint.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShelfParams {
    /// The day (`YYYY-MM-DD`, default today): the shelf of the store's last audit dated on or
    /// before it, within a year.
    pub at: Option<String>,
}

/// One audit of the store: a completed visit with audit lines.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditRef {
    pub visit_id: String,
    pub date: String,
}

/// The store's shelf on a day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ShelfAnswer {
    pub store_id: String,
    pub store_code: String,
    pub store_name: String,
    pub chain: Option<String>,
    /// The day asked for.
    pub at: String,
    /// The store's audits dated in the year up to `at`, newest first (the first is the one
    /// shown).
    pub audits: Vec<AuditRef>,
    /// The store's first audit after `at` (within a year), if any.
    pub next: Option<AuditRef>,
    /// What that audit recorded; `null` when the store had none in the year up to `at`:
    /// `visit_id`, `visit_date`, `status`, `person_id`, `own_lines` and `competitor_lines`
    /// (per line `sku`, `product`, `location`, `facings`, `on_shelf`, `shelf_price`,
    /// `oldest_production_date`, `shelf_units`, `backroom_units`), `expected` (the must-carry
    /// range: `sku`, `product`, `on_shelf`, `facings`), `distribution_bp`, `out_of_stock_bp`,
    /// `agreements` (running that day: `code`, `title`, `mechanic`, `display`, `status`,
    /// `promotion_price`, `seen_price`, `photos`), `promotion_compliance_bp`,
    /// `display_compliance_bp`, `success_picture` (the store's picture of success, its title),
    /// `success_points` (`code`, `label`, `kind`, `weight`, `status`, `photos`),
    /// `success_score_bp`, `competitor_sightings`, `photos`.
    #[schema(value_type = Option<Object>)]
    pub shelf: Option<ShelfRecord>,
}

/// The store's shelf as its audit of a day recorded it.
#[utoipa::path(
    get, path = "/v1/stores/{id}/shelf", tag = "reports",
    params(("id" = String, Path, description = "The store (uuid)"), ShelfParams),
    responses(
        (status = 200, description = "the shelf at the store's audit of the day, with the store's audits around it", body = ShelfAnswer),
        (status = 400, description = "`invalid_query`: `at` or the id does not parse", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 404, description = "`not_found`: no such store in the caller's read scope", body = ErrorBody),
        (status = 422, description = "`too_many_rows`: the store has more visits in the year than a request reads", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn store_shelf(
    State(state): State<AppState>,
    store: InScope<VisibleStore>,
    params: Result<Query<ShelfParams>, QueryRejection>,
) -> ApiResult<Json<ShelfAnswer>> {
    let Query(params) = params.map_err(|e| invalid("query", e.body_text()))?;
    let at = match params.at.as_deref().map(str::trim) {
        None | Some("") => Date::from_naive(chrono::Utc::now().date_naive()),
        Some(raw) => Date::parse(raw).map_err(|e| invalid("at", e))?,
    };
    Ok(Json(
        shelf_at(&state, &store.principal, store.object.0, at).await?,
    ))
}

/// The shelf of `store` (in the caller's scope: checked by the caller) on `at`.
pub async fn shelf_at(
    state: &AppState,
    principal: &Principal,
    store_id: StoreId,
    at: Date,
) -> ApiResult<ShelfAnswer> {
    let tenant = principal.tenant_id;
    let master = state.store.master_page(tenant, 0).await?;
    let store: Store = master
        .stores
        .into_iter()
        .find(|s| s.id == store_id)
        .ok_or(ApiError::NotFound("store"))?;
    let mut read = 0usize;
    let before: Vec<Visit> = documents(
        state,
        principal,
        DocKind::Visit,
        store_id,
        at.add_days(-LOOKBACK_DAYS),
        at,
        &mut read,
    )
    .await?;
    let after: Vec<Visit> = documents(
        state,
        principal,
        DocKind::Visit,
        store_id,
        at.add_days(1),
        at.add_days(LOOKBACK_DAYS),
        &mut read,
    )
    .await?;
    let audit_ref = |v: &Visit| AuditRef {
        visit_id: v.id.to_string(),
        date: v.planned_date.to_string(),
    };
    let mut audits: Vec<&Visit> = before.iter().filter(|v| shelf::is_audit(v)).collect();
    audits.sort_by_key(|v| std::cmp::Reverse(shelf::audit_order(v)));
    let next = after
        .iter()
        .filter(|v| shelf::is_audit(v))
        .min_by_key(|v| shelf::audit_order(v))
        .map(audit_ref);
    let record = match shelf::audit_on(&before, store_id, at) {
        Some(visit) => {
            let (range, _) = state.store.assortment(tenant).await?;
            let (promotions, _) = state.store.promotions(tenant).await?;
            let (pictures, _) = state.store.success_pictures(tenant).await?;
            let products: HashMap<_, _> = master
                .products
                .into_iter()
                .map(|p| (p.sku.clone(), p))
                .collect();
            Some(shelf::shelf_record(
                visit,
                &store,
                &shelf::ShelfMaster {
                    range: &range,
                    promotions: &promotions,
                    pictures: &pictures,
                    products: &products,
                },
            ))
        }
        None => None,
    };
    Ok(ShelfAnswer {
        store_id: store.id.to_string(),
        store_code: store.code.to_string(),
        store_name: store.name.clone(),
        chain: store.chain.clone(),
        at: at.to_string(),
        audits: audits.into_iter().map(audit_ref).collect(),
        next,
        shelf: record,
    })
}
