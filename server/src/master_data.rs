//! `GET /v1/master?since=N`: stores, products, credit snapshots and the must-carry range
//! changed after version `N`, delivered read-only to devices for offline rule evaluation.
//!
//! Stores and credit snapshots only of the stores in the principal's read scope (products: the
//! whole catalogue), and the principal's [`OrgView`](fieldsync_shared::org::OrgView) and the
//! tenant's approval tiers on every page. Every organisation change takes a master version (`org_seq`): a device whose
//! `since` is older receives the complete store list of its scope (`stores_complete`) and
//! drops the stores it no longer may hold. A lost response changes nothing: the device asks
//! with the same `since` again.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use fieldsync_shared::master::{AssortmentScope, MasterDataPage, Promotion, SuccessPicture};
use fieldsync_shared::values::Timestamp;

use crate::auth::Principal;
use crate::http::{ApiError, ApiResult};
use crate::scope;
use crate::state::AppState;

/// Attempts to read a page whose organisation did not change while it was read.
const ORG_READ_ATTEMPTS: usize = 3;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MasterQuery {
    /// The `version` of the last page received; 0 (default) for everything.
    #[serde(default)]
    pub since: i64,
}

/// This capability's part of the OpenAPI description.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(master_page),
    components(schemas(
        MasterDataPageSchema,
        StoreSchema,
        ProductSchema,
        CreditSnapshotSchema,
        PositionSchema,
        AssortmentRowSchema,
        PromotionSchema,
        SuccessPictureSchema,
        SuccessPointSchema
    ))
)]
pub struct MasterDataApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/master", get(master_page))
}

/// Master data changed after `since`.
#[utoipa::path(
    get,
    path = "/v1/master",
    tag = "master data",
    security(("bearer" = [])),
    params(MasterQuery),
    responses(
        (status = 200, description = "Rows with version > since; pass `version` back as `since` next time", body = MasterDataPageSchema),
        (status = 400, description = "`invalid_query`", body = crate::http::ErrorBody),
        (status = 401, description = "`unauthorized`", body = crate::http::ErrorBody),
        (status = 503, description = "`unavailable`: the organisation kept changing while the page was read; retry", body = crate::http::ErrorBody),
    )
)]
#[tracing::instrument(skip(state, principal, query), fields(tenant = %principal.tenant_id))]
pub async fn master_page(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<MasterQuery>, QueryRejection>,
) -> ApiResult<Json<MasterDataPage>> {
    let Query(q) = query?;
    let store = state.store.as_ref();
    for _ in 0..ORG_READ_ATTEMPTS {
        // The organisation version first: the scope read after it reflects at least that
        // version, and if no organisation change commits before the page is read, the page's
        // version covers exactly the scope used.
        let org_seq = store.org_version(principal.tenant_id).await?;
        let scope = scope::read_scope(store, &principal).await?;
        let complete = q.since <= 0 || q.since < org_seq;
        let since = if complete { 0 } else { q.since };
        let mut page = store.master_page(principal.tenant_id, since).await?;
        if store.org_version(principal.tenant_id).await? != org_seq {
            continue;
        }
        page.stores.retain(|s| scope.can_see_store(s.id));
        page.credit.retain(|c| scope.can_see_store(c.store_id));
        // A store new to the user (or whose channel changed) may have a range: send it
        // whole with the stores; otherwise only when it was replaced (`master_page`).
        if page.assortment.is_none() && (complete || !page.stores.is_empty()) {
            page.assortment = Some(store.assortment(principal.tenant_id).await?.0);
        }
        // Rows of one store only to those who see the store; chain and channel rows name no
        // store.
        if let Some(rows) = &mut page.assortment {
            rows.retain(|r| match r.scope {
                AssortmentScope::Store(id) => scope.can_see_store(id),
                AssortmentScope::Chain { .. } | AssortmentScope::Channel(_) => true,
            });
        }
        page.promotions =
            promotions_page(store, &principal, &scope, since, complete, &page).await?;
        page.success_pictures =
            success_pictures_page(store, &principal, &scope, since, complete, &page).await?;
        // A `since` beyond the counter (a restored server) was answered from version 0.
        page.stores_complete = complete || q.since > page.version;
        page.org = Some(scope.org);
        page.expense_budget = Some(store.expense_budget(principal.tenant_id).await?);
        return Ok(Json(page));
    }
    Err(ApiError::Unavailable {
        message: "the organisation is being changed; retry".into(),
        retry_after_secs: 1,
    })
}

/// The promotions the page carries: all of those of the user's stores still running or to come
/// (the device replaces what it holds) when they were replaced after `since`, or when stores
/// are new to the user; else `None` (unchanged). Rows of one store only to those who see the
/// store; chain and channel promotions name no store (as the must-carry range).
async fn promotions_page(
    store: &dyn crate::store::Store,
    principal: &Principal,
    scope: &scope::ReadScope,
    since: i64,
    complete: bool,
    page: &MasterDataPage,
) -> ApiResult<Option<Vec<Promotion>>> {
    let (mut promotions, version) = store.promotions(principal.tenant_id).await?;
    if !(complete || version > since || !page.stores.is_empty()) {
        return Ok(None);
    }
    // A day of margin: a phone west of UTC may still be on yesterday.
    let yesterday = Timestamp::now().utc_date().add_days(-1);
    promotions.retain(|p| {
        p.to >= yesterday
            && match p.scope {
                AssortmentScope::Store(id) => scope.can_see_store(id),
                AssortmentScope::Chain { .. } | AssortmentScope::Channel(_) => true,
            }
    });
    Ok(Some(promotions))
}

/// The pictures of success the page carries, as the promotions: all of those of the user's
/// stores (and every chain's and channel's) when they were replaced after `since` or stores are
/// new to the user, else `None` (unchanged). A store's own picture only to those who see it.
async fn success_pictures_page(
    store: &dyn crate::store::Store,
    principal: &Principal,
    scope: &scope::ReadScope,
    since: i64,
    complete: bool,
    page: &MasterDataPage,
) -> ApiResult<Option<Vec<SuccessPicture>>> {
    let (mut pictures, version) = store.success_pictures(principal.tenant_id).await?;
    if !(complete || version > since || !page.stores.is_empty()) {
        return Ok(None);
    }
    pictures.retain(|p| match p.scope {
        AssortmentScope::Store(id) => scope.can_see_store(id),
        AssortmentScope::Chain { .. } | AssortmentScope::Channel(_) => true,
    });
    Ok(Some(pictures))
}

// Documentation-only mirrors of the shared crate's master data types (it has no utoipa
// dependency); they serialise the same way and exist only for their schemas.
#[allow(dead_code)]
mod schema {
    /// `fieldsync_shared::values::Position`.
    #[derive(utoipa::ToSchema)]
    #[schema(as = Position)]
    pub struct PositionSchema {
        lat: f64,
        lon: f64,
    }

    /// `fieldsync_shared::master::Store`.
    #[derive(utoipa::ToSchema)]
    #[schema(as = Store)]
    pub struct StoreSchema {
        #[schema(format = Uuid)]
        id: String,
        #[schema(example = "NKA-001")]
        code: String,
        name: String,
        /// nka, rka, lka or other.
        channel: String,
        /// A, B or C.
        grade: String,
        address: String,
        location: PositionSchema,
        /// Check-in geofence radius, metres.
        geofence_radius_m: u32,
        /// Days between order date and earliest delivery date.
        delivery_lead_days: u32,
        /// The store's retail chain, if any.
        chain: Option<String>,
        /// What the store could buy in a month, minor units, when estimated (the
        /// store-opportunity report's potential).
        monthly_potential: Option<i64>,
    }

    /// `fieldsync_shared::master::Product`. Money is in minor units (fen).
    #[derive(utoipa::ToSchema)]
    #[schema(as = Product)]
    pub struct ProductSchema {
        #[schema(example = "COLA-330")]
        sku: String,
        name: String,
        case_pack: u32,
        sold_by_case: bool,
        shelf_life_days: u32,
        list_price: i64,
        floor_price: i64,
    }

    /// `fieldsync_shared::master::CreditSnapshot`. Money is in minor units (fen).
    #[derive(utoipa::ToSchema)]
    #[schema(as = CreditSnapshot)]
    pub struct CreditSnapshotSchema {
        #[schema(format = Uuid)]
        store_id: String,
        credit_limit: i64,
        receivables: i64,
        overdue: i64,
        #[schema(format = Date)]
        as_of: String,
    }

    /// `fieldsync_shared::master::AssortmentRow`: one SKU of the must-carry range.
    #[derive(utoipa::ToSchema)]
    #[schema(as = AssortmentRow)]
    pub struct AssortmentRowSchema {
        /// `{"store": "<store id>"}` (one store), `{"chain": {"chain": "Walmart", "channel":
        /// "nka"}}` (the chain's stores in the channel) or `{"channel": "nka"}` (every store of
        /// the channel).
        #[schema(value_type = Object)]
        scope: String,
        #[schema(example = "COLA-330")]
        sku: String,
        /// Units agreed to be held, if any.
        safety_stock: Option<u32>,
    }

    /// `fieldsync_shared::master::Promotion`: a promotion or display agreement.
    #[derive(utoipa::ToSchema)]
    #[schema(as = Promotion)]
    pub struct PromotionSchema {
        #[schema(example = "CNY-ENDCAP")]
        code: String,
        title: String,
        /// First day, `YYYY-MM-DD`.
        from: String,
        /// Last day (included), `YYYY-MM-DD`.
        to: String,
        /// As an assortment row's scope: one store, a chain's stores in a channel, or a
        /// channel.
        #[schema(value_type = Object)]
        scope: String,
        /// One or more SKUs.
        skus: Vec<String>,
        /// price_cut, gift, endcap, floor_stand or shelf_position.
        #[schema(example = "price_cut")]
        mechanic: String,
        /// The shelf price a price cut must show, minor units.
        promotion_price: Option<i64>,
        /// The fee agreed, minor units.
        fee: Option<i64>,
    }

    /// `fieldsync_shared::master::SuccessPoint`: one point of a picture's checklist.
    #[derive(utoipa::ToSchema)]
    #[schema(as = SuccessPoint)]
    pub struct SuccessPointSchema {
        #[schema(example = "COLA-BLOCK")]
        code: String,
        label: String,
        /// shelf_blocking, eye_level, price_tag, pos_material or other.
        #[schema(example = "shelf_blocking")]
        kind: String,
        /// 1 to 100: the point's share of the score.
        weight: u32,
        /// The SKU an eye_level point names, if any.
        sku: Option<String>,
    }

    /// `fieldsync_shared::master::SuccessPicture`: what the shelf should look like.
    #[derive(utoipa::ToSchema)]
    #[schema(as = SuccessPicture)]
    pub struct SuccessPictureSchema {
        #[schema(example = "WALMART-SODA")]
        code: String,
        title: String,
        /// As an assortment row's scope: one store, a chain's stores in a channel, or a
        /// channel. A store's picture is the most specific one.
        #[schema(value_type = Object)]
        scope: String,
        /// The checklist, in order.
        points: Vec<SuccessPointSchema>,
        /// SHA-256s (hex) of the reference photos.
        reference_photos: Vec<String>,
    }

    /// `fieldsync_shared::master::MasterDataPage`.
    #[derive(utoipa::ToSchema)]
    #[schema(as = MasterDataPage)]
    pub struct MasterDataPageSchema {
        /// Pass back as `since` to get only what changed after this page.
        version: i64,
        stores: Vec<StoreSchema>,
        products: Vec<ProductSchema>,
        credit: Vec<CreditSnapshotSchema>,
        /// Unix milliseconds.
        generated_at: i64,
        /// `stores` (with `credit`) lists every store of the caller's read scope: drop the stores
        /// held that are not listed (after an organisation change, or on a first page).
        stores_complete: bool,
        /// The tenant's approval tiers, on every page (`GET /v1/admin/approval-tiers` has the
        /// same shape); absent or `null`: the defaults (10 % for every role, no amount limit).
        approval_tiers: Option<crate::admin::approval_tiers::ApprovalTiersBody>,
        /// The must-carry rows of the caller's stores and of every channel, all of them:
        /// replace what is held. Absent or `null`: unchanged since `since`.
        assortment: Option<Vec<AssortmentRowSchema>>,
        /// The promotions of the caller's stores (and of every chain and channel) running now
        /// or later, all of them: replace what is held. Absent or `null`: unchanged since
        /// `since`.
        promotions: Option<Vec<PromotionSchema>>,
        /// The pictures of success of the caller's stores (and of every chain and channel),
        /// all of them: replace what is held. Absent or `null`: unchanged since `since`.
        success_pictures: Option<Vec<SuccessPictureSchema>>,
    }
}
use schema::{
    AssortmentRowSchema, CreditSnapshotSchema, MasterDataPageSchema, PositionSchema, ProductSchema,
    PromotionSchema, StoreSchema, SuccessPictureSchema, SuccessPointSchema,
};
