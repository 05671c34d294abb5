//! The key-account store opportunity report, `GET /v1/reports/store-opportunity`
//! (docs/reports.md): per KA store in the caller's read scope and ISO week, the figures of
//! `fieldsync_shared::report::store_opportunity`, over the visits and orders the projections
//! hold for the stores (the JSON stored with each projection row, listed per store: never an
//! Automerge document hydrated per request).

use axum::http::HeaderMap;
use fieldsync_shared::document::DocKind;
use fieldsync_shared::master::{Channel, Store};
use fieldsync_shared::order::Order;
use fieldsync_shared::plan::IsoWeek;
use fieldsync_shared::report::store_opportunity::{
    self as opportunity, ChainOpportunity, OpportunityInputs, StoreOpportunity,
};
use fieldsync_shared::values::{Date, StoreId};
use fieldsync_shared::visit::Visit;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::format::{csv_field, major_units, ReportFormat};
use super::xlsx::{Cell, Sheet};
use super::{invalid, parse_weeks, MAX_ROWS};
use crate::auth::Principal;
use crate::http::{ApiError, ApiResult};
use crate::scope::read_scope;
use crate::state::AppState;
use crate::store::documents::{ProjectedDocument, ProjectionFilter};

/// Most stores one request covers; choose a chain, a channel or a store beyond it.
pub const MAX_STORES: usize = 200;
/// Most visits and orders (together) one request reads.
pub const MAX_DOCUMENTS: usize = 50_000;
/// Rows read per page of a projection listing.
const PAGE: u32 = 500;

/// Filters of the store-opportunity report.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpportunityParams {
    /// First ISO week, e.g. `2026-W40` (required).
    pub from: Option<String>,
    /// Last ISO week, inclusive (required; at most 26 weeks after `from`).
    pub to: Option<String>,
    /// Only the stores of this retail chain (exactly as in the stores file).
    pub chain: Option<String>,
    /// Only this key-account channel: `nka`, `rka` or `lka`.
    pub channel: Option<String>,
    /// Only this store (uuid).
    pub store_id: Option<String>,
    /// `json` (default), `csv` or `xlsx`; or by `Accept`.
    pub format: Option<String>,
}

/// The parsed filters.
#[derive(Debug, Clone)]
pub struct OpportunityQuery {
    pub weeks: Vec<IsoWeek>,
    pub chain: Option<String>,
    pub channel: Option<Channel>,
    pub store: Option<StoreId>,
    pub format: ReportFormat,
}

impl OpportunityParams {
    pub fn parse(&self, headers: &HeaderMap) -> ApiResult<OpportunityQuery> {
        let weeks = parse_weeks(&self.from, &self.to)?;
        let channel = match self.channel.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("nka") => Some(Channel::Nka),
            Some("rka") => Some(Channel::Rka),
            Some("lka") => Some(Channel::Lka),
            Some(other) => {
                return Err(invalid(
                    "channel",
                    format!("{other:?} is not a key-account channel: nka, rka or lka"),
                ))
            }
        };
        let store = self
            .store_id
            .as_deref()
            .map(|s| StoreId::parse(s).map_err(|e| invalid("store_id", e)))
            .transpose()?;
        let chain = self
            .chain
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        Ok(OpportunityQuery {
            weeks,
            chain,
            channel,
            store,
            format: ReportFormat::parse(self.format.as_deref(), headers)?,
        })
    }
}

/// One store's figures with its master data.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OpportunityRow {
    pub store_code: String,
    pub store_name: String,
    pub chain: Option<String>,
    /// `nka`, `rka` or `lka`.
    pub channel: String,
    /// The store's monthly potential (minor units), if estimated.
    pub monthly_potential: Option<i64>,
    /// `store_id`, `weeks` (per week: `week`, `visit_id`, `visit_date`, `own_facings`,
    /// `all_facings`, `shelf_share_bp`, `out_of_stock_bp`, `distribution_bp`,
    /// `promotion_compliance_bp`, `display_compliance_bp`, `competitor_sightings`,
    /// `success_score_bp`), `first_facings`, `last_facings`, `facings_slope`, `orders`,
    /// `order_amount` (minor units), `potential` (of the weeks), `potential_bp`,
    /// `promotion_compliance_bp`, `display_compliance_bp` and `success_score_bp` (the means of
    /// the weeks'), `competitor_sightings` (their total).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub report: StoreOpportunity,
}

/// The store-opportunity report as JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpportunityReport {
    pub from: String,
    pub to: String,
    /// One per KA store in the scope, by store code.
    pub stores: Vec<OpportunityRow>,
    /// The same stores per chain, by name, the stores of no chain (`chain: null`) last: per
    /// chain `stores`, `weeks` (per week `week`, `audited_stores`, `own_facings` and
    /// `all_facings` summed, `out_of_stock_bp`, `distribution_bp`, `promotion_compliance_bp`,
    /// `display_compliance_bp`, `success_score_bp` the means of the audited stores', `competitor_sightings`
    /// summed), `orders`, `order_amount`, `potential`, `potential_bp`, the weekly ratios'
    /// means and the sightings' total.
    #[schema(value_type = Vec<Object>)]
    pub chains: Vec<ChainOpportunity>,
}

fn channel_str(c: Channel) -> &'static str {
    match c {
        Channel::Nka => "nka",
        Channel::Rka => "rka",
        Channel::Lka => "lka",
        Channel::Other => "other",
    }
}

/// The report of the KA stores in the caller's read scope that match the filters, by code.
pub async fn store_opportunity_report(
    state: &AppState,
    principal: &Principal,
    query: &OpportunityQuery,
) -> ApiResult<OpportunityReport> {
    let tenant = principal.tenant_id;
    let scope = read_scope(state.store.as_ref(), principal).await?;
    let master = state.store.master_page(tenant, 0).await?;
    let mut stores: Vec<Store> = master
        .stores
        .into_iter()
        .filter(|s| opportunity::is_key_account(s.channel))
        .filter(|s| scope.whole_tenant || scope.stores.contains(&s.id))
        .filter(|s| query.store.is_none_or(|only| s.id == only))
        .filter(|s| query.channel.is_none_or(|c| s.channel == c))
        .filter(|s| {
            query
                .chain
                .as_deref()
                .is_none_or(|c| s.chain.as_deref() == Some(c))
        })
        .collect();
    stores.sort_by(|a, b| a.code.cmp(&b.code));
    let rows_ahead = stores.len() * query.weeks.len();
    if stores.len() > MAX_STORES || rows_ahead > MAX_ROWS {
        return Err(ApiError::unprocessable(
            "too_many_rows",
            format!(
                "{} stores over {} weeks: at most {MAX_STORES} stores and {MAX_ROWS} rows; \
                 choose a chain, a channel, a store or fewer weeks",
                stores.len(),
                query.weeks.len()
            ),
        ));
    }
    let products = master
        .products
        .into_iter()
        .map(|p| (p.sku.clone(), p))
        .collect();
    let (range, _) = state.store.assortment(tenant).await?;
    let (promotions, _) = state.store.promotions(tenant).await?;
    let (success_pictures, _) = state.store.success_pictures(tenant).await?;
    let from = query.weeks[0].monday();
    let to = query.weeks[query.weeks.len() - 1].sunday();
    let mut read = 0usize;
    let mut out = Vec::with_capacity(stores.len());
    for store in &stores {
        let visits: Vec<Visit> = documents(
            state,
            principal,
            DocKind::Visit,
            store.id,
            from,
            to,
            &mut read,
        )
        .await?;
        let orders: Vec<Order> = documents(
            state,
            principal,
            DocKind::Order,
            store.id,
            from,
            to,
            &mut read,
        )
        .await?;
        let report = opportunity::store_opportunity(&OpportunityInputs {
            weeks: &query.weeks,
            store,
            range: &range,
            promotions: &promotions,
            success_pictures: &success_pictures,
            products: &products,
            visits: &visits,
            orders: &orders,
        });
        out.push(OpportunityRow {
            store_code: store.code.to_string(),
            store_name: store.name.clone(),
            chain: store.chain.clone(),
            channel: channel_str(store.channel).to_string(),
            monthly_potential: store.monthly_potential.map(|m| m.0),
            report,
        });
    }
    let chains = opportunity::chain_opportunity(
        &out.iter()
            .map(|row| (row.chain.as_deref(), &row.report))
            .collect::<Vec<_>>(),
    );
    Ok(OpportunityReport {
        from: query.weeks[0].to_string(),
        to: query.weeks[query.weeks.len() - 1].to_string(),
        stores: out,
        chains,
    })
}

/// The documents of `kind` of `store` dated `from..=to`, from the projection rows, page by
/// page; `read` counts what the request has read against [`MAX_DOCUMENTS`].
pub(super) async fn documents<T: DeserializeOwned>(
    state: &AppState,
    principal: &Principal,
    kind: DocKind,
    store: StoreId,
    from: Date,
    to: Date,
    read: &mut usize,
) -> ApiResult<Vec<T>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        // The store is in the caller's scope (checked by the caller): all its documents are
        // visible, so no visibility filter.
        let page: Vec<ProjectedDocument> = state
            .store
            .list_projected(
                principal.tenant_id,
                kind,
                &ProjectionFilter {
                    store_id: Some(store),
                    person_id: None,
                    from: Some(from),
                    to: Some(to),
                    status: None,
                    after,
                    limit: PAGE,
                    visible: None,
                },
            )
            .await?;
        *read += page.len();
        if *read > MAX_DOCUMENTS {
            return Err(ApiError::unprocessable(
                "too_many_rows",
                format!(
                    "more than {MAX_DOCUMENTS} visits and orders: choose a chain, a channel, \
                     a store or fewer weeks"
                ),
            ));
        }
        for row in &page {
            out.push(serde_json::from_str(&row.document_json).map_err(ApiError::internal)?);
        }
        if page.len() < PAGE as usize {
            return Ok(out);
        }
        after = page.last().map(ProjectedDocument::key);
    }
}

const CSV_HEADER: &str = "week,store_id,store_code,store,chain,channel,visit_id,visit_date,own_facings,all_facings,shelf_share_bp,out_of_stock_bp,distribution_bp,first_facings,last_facings,facings_slope,orders,order_amount,potential,potential_bp,promotion_compliance_bp,display_compliance_bp,competitor_sightings,week_promotion_compliance_bp,week_display_compliance_bp,week_competitor_sightings,success_score_bp,week_success_score_bp";

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The report as CSV (RFC 4180): one line per store and week, the store's figures repeated
/// on each of its weeks (the week's own figures of promotions, displays, sightings and the
/// picture-of-success score are the `week_` columns); amounts in major units. The chains are in the JSON and the workbook.
pub fn csv(report: &OpportunityReport) -> String {
    let mut out = format!("{CSV_HEADER}\r\n");
    for row in &report.stores {
        let r = &row.report;
        for w in &r.weeks {
            let fields = [
                w.week.to_string(),
                r.store_id.to_string(),
                row.store_code.clone(),
                row.store_name.clone(),
                row.chain.clone().unwrap_or_default(),
                row.channel.clone(),
                opt(w.visit_id),
                opt(w.visit_date),
                opt(w.own_facings),
                opt(w.all_facings),
                opt(w.shelf_share_bp),
                opt(w.out_of_stock_bp),
                opt(w.distribution_bp),
                opt(r.first_facings),
                opt(r.last_facings),
                opt(r.facings_slope),
                r.orders.to_string(),
                major_units(r.order_amount.0),
                opt(r.potential.map(|p| major_units(p.0))),
                opt(r.potential_bp),
                opt(r.promotion_compliance_bp),
                opt(r.display_compliance_bp),
                r.competitor_sightings.to_string(),
                opt(w.promotion_compliance_bp),
                opt(w.display_compliance_bp),
                w.competitor_sightings.to_string(),
                opt(r.success_score_bp),
                opt(w.success_score_bp),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

/// Basis points as a percentage cell (3750 -> 37.5).
fn pct(bp: Option<u32>) -> Cell {
    bp.map_or(Cell::Empty, |b| Cell::Number(f64::from(b) / 100.0))
}

fn money_cell(minor: Option<i64>) -> Cell {
    minor.map_or(Cell::Empty, |m| Cell::Number(m as f64 / 100.0))
}

/// The report as workbook sheets: one row per store, one per store and week; amounts in major
/// units, ratios in percent.
pub fn sheets(report: &OpportunityReport) -> Vec<Sheet> {
    let stores = Sheet {
        name: "Stores 门店".into(),
        header: vec![
            "store_code",
            "store",
            "chain",
            "channel",
            "first_facings",
            "last_facings",
            "facings_slope",
            "orders",
            "order_amount",
            "potential",
            "potential_pct",
            "promotion_compliance_pct",
            "display_compliance_pct",
            "competitor_sightings",
            "success_score_pct",
        ],
        rows: report
            .stores
            .iter()
            .map(|row| {
                let r = &row.report;
                vec![
                    row.store_code.clone().into(),
                    row.store_name.clone().into(),
                    row.chain.clone().into(),
                    row.channel.clone().into(),
                    r.first_facings.into(),
                    r.last_facings.into(),
                    r.facings_slope.map_or(Cell::Empty, Cell::Number),
                    r.orders.into(),
                    money_cell(Some(r.order_amount.0)),
                    money_cell(r.potential.map(|p| p.0)),
                    pct(r.potential_bp),
                    pct(r.promotion_compliance_bp),
                    pct(r.display_compliance_bp),
                    r.competitor_sightings.into(),
                    pct(r.success_score_bp),
                ]
            })
            .collect(),
    };
    let weeks = Sheet {
        name: "Weeks 周".into(),
        header: vec![
            "store_code",
            "store",
            "week",
            "visit_date",
            "own_facings",
            "all_facings",
            "shelf_share_pct",
            "out_of_stock_pct",
            "distribution_pct",
            "promotion_compliance_pct",
            "display_compliance_pct",
            "competitor_sightings",
            "success_score_pct",
        ],
        rows: report
            .stores
            .iter()
            .flat_map(|row| {
                row.report.weeks.iter().map(|w| {
                    vec![
                        row.store_code.clone().into(),
                        row.store_name.clone().into(),
                        w.week.to_string().into(),
                        w.visit_date.map(|d| d.to_string()).into(),
                        w.own_facings.into(),
                        w.all_facings.into(),
                        pct(w.shelf_share_bp),
                        pct(w.out_of_stock_bp),
                        pct(w.distribution_bp),
                        pct(w.promotion_compliance_bp),
                        pct(w.display_compliance_bp),
                        w.competitor_sightings.into(),
                        pct(w.success_score_bp),
                    ]
                })
            })
            .collect(),
    };
    let chains = Sheet {
        name: "Chains 连锁".into(),
        header: vec![
            "chain",
            "week",
            "stores",
            "audited_stores",
            "own_facings",
            "all_facings",
            "out_of_stock_pct",
            "distribution_pct",
            "promotion_compliance_pct",
            "display_compliance_pct",
            "success_score_pct",
            "competitor_sightings",
        ],
        rows: report
            .chains
            .iter()
            .flat_map(|c| {
                c.weeks.iter().map(|w| {
                    vec![
                        c.chain.clone().into(),
                        w.week.to_string().into(),
                        c.stores.into(),
                        w.audited_stores.into(),
                        w.own_facings.into(),
                        w.all_facings.into(),
                        pct(w.out_of_stock_bp),
                        pct(w.distribution_bp),
                        pct(w.promotion_compliance_bp),
                        pct(w.display_compliance_bp),
                        pct(w.success_score_bp),
                        w.competitor_sightings.into(),
                    ]
                })
            })
            .collect(),
    };
    vec![stores, chains, weeks]
}
