//! The key-account store opportunity report in the console (docs/reports.md): per week the
//! own and all facings of the KA stores' audits as a bar chart ([`chart`]), a table per store
//! (facings trend, the last audit's shelf share, out-of-stock rate and distribution, orders
//! against potential), each store drilling down to its weeks with links to the audited
//! visits, and the XLSX download. Computed by the API's function over the caller's read
//! scope: a rep sees their territory's stores, a supervisor the team's, a manager the region's.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use fieldsync_shared::plan::IsoWeek;
use fieldsync_shared::report::store_opportunity::OpportunityWeek;
use fieldsync_shared::values::{Date, Money};

use crate::console::auth::ConsoleUser;
use crate::console::chart::{self, Group, Series};
use crate::console::error::ConsoleResult;
use crate::console::layout::{self, Section};
use crate::console::shelf;
use crate::reports::format::{self, ReportFormat};
use crate::reports::store_opportunity::{
    self as report, OpportunityParams, OpportunityQuery, OpportunityReport, OpportunityRow,
};
use crate::state::AppState;

/// Where the report lives.
pub const PAGE: &str = "/console/reports/store-opportunity";
/// Weeks shown when the filter names none: the current one and the seven before it.
const DEFAULT_WEEKS: i64 = 8;

/// The page's filters as sent (empty: the default weeks, every KA store).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct OpportunityFilter {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    chain: String,
    #[serde(default)]
    store: String,
}

impl OpportunityFilter {
    fn with_defaults(mut self) -> OpportunityFilter {
        let today = Date::from_naive(chrono::Utc::now().date_naive());
        if self.to.trim().is_empty() {
            self.to = IsoWeek::of(today).to_string();
        }
        if self.from.trim().is_empty() {
            let last = IsoWeek::parse(&self.to).map_or(today, |w| w.monday());
            self.from = IsoWeek::of(last.add_days(-7 * (DEFAULT_WEEKS - 1))).to_string();
        }
        self
    }

    /// The report's query (parsed and checked as the API's).
    fn query(&self, format: ReportFormat) -> ConsoleResult<OpportunityQuery> {
        let given = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let mut query = OpportunityParams {
            from: given(&self.from),
            to: given(&self.to),
            chain: given(&self.chain),
            channel: given(&self.channel),
            store_id: given(&self.store),
            format: None,
        }
        .parse(&HeaderMap::new())?;
        query.format = format;
        Ok(query)
    }

    /// The filters as a query string, with `store` in place of the filter's.
    fn query_string(&self, store: &str) -> String {
        self.query_string_with(&self.chain, store)
    }

    /// The filters as a query string, with `chain` and `store` in place of the filter's.
    fn query_string_with(&self, chain: &str, store: &str) -> String {
        [
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("channel", self.channel.as_str()),
            ("chain", chain),
            ("store", store),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", layout::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

const SERIES: [Series; 2] = [
    Series {
        label: "Own 本品排面",
        class: "done",
    },
    Series {
        label: "All 总排面",
        class: "required",
    },
];

/// `GET /console/reports/store-opportunity`: the page; for htmx, the report alone.
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    Query(filter): Query<OpportunityFilter>,
) -> ConsoleResult<Response> {
    let filter = filter.with_defaults();
    let query = filter.query(ReportFormat::Json)?;
    let computed = report::store_opportunity_report(&state, &user.principal, &query).await?;
    let section = report_section(&filter, &computed);
    if layout::is_htmx(&headers) {
        return Ok(layout::fragment(section));
    }
    let body = html! {
        main.report {
            h1 { "Key-account stores 重点客户门店机会" }
            form.filters method="get" action=(PAGE) hx-get=(PAGE) hx-target="#report" hx-swap="outerHTML" hx-push-url="true" hx-trigger="change, submit" role="search" aria-label="Filter the report" {
                label { "From 起始周" input type="week" name="from" value=(filter.from); }
                label { "To 结束周" input type="week" name="to" value=(filter.to); }
                label { "Channel 渠道"
                    select name="channel" {
                        option value="" { "All KA 全部" }
                        @for c in ["nka", "rka", "lka"] {
                            option value=(c) selected[filter.channel == c] { (c.to_uppercase()) }
                        }
                    }
                }
                label { "Chain 连锁" input type="text" name="chain" value=(filter.chain); }
                @if !filter.store.is_empty() {
                    input type="hidden" name="store" value=(filter.store);
                }
                button type="submit" { "Show 查询" }
            }
            (section)
        }
    };
    Ok(layout::html_response(
        StatusCode::OK,
        layout::page(&user, Section::StoreOpportunity, "Key-account stores", body),
    ))
}

/// `GET /console/reports/store-opportunity.xlsx`: the page's report as a workbook (the API's
/// `format=xlsx`).
pub async fn xlsx(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(filter): Query<OpportunityFilter>,
) -> ConsoleResult<Response> {
    let query = filter.with_defaults().query(ReportFormat::Xlsx)?;
    let computed = report::store_opportunity_report(&state, &user.principal, &query).await?;
    let file_name = format!("store-opportunity-{}-{}.xlsx", computed.from, computed.to);
    Ok(format::xlsx_response(report::sheets(&computed), &file_name).await?)
}

/// Basis points as a percentage with one decimal; a dash where there is none.
fn pct(bp: Option<u32>) -> String {
    bp.map_or("–".to_string(), |bp| {
        format!("{}.{} %", bp / 100, (bp % 100) / 10)
    })
}

fn num<T: ToString>(v: Option<T>) -> String {
    v.map_or("–".to_string(), |v| v.to_string())
}

/// The last week of `row` with an audit.
fn last_audit(row: &OpportunityRow) -> Option<&OpportunityWeek> {
    row.report.weeks.iter().rev().find(|w| w.visit_id.is_some())
}

fn report_section(filter: &OpportunityFilter, computed: &OpportunityReport) -> Markup {
    let weeks: Vec<IsoWeek> = computed
        .stores
        .first()
        .map(|s| s.report.weeks.iter().map(|w| w.week).collect())
        .unwrap_or_default();
    let groups: Vec<Group> = weeks
        .iter()
        .enumerate()
        .map(|(i, week)| {
            let sum = |f: fn(&OpportunityWeek) -> Option<u32>| {
                computed
                    .stores
                    .iter()
                    .filter_map(|s| s.report.weeks.get(i).and_then(f))
                    .fold(0u32, u32::saturating_add)
            };
            Group {
                label: week.to_string(),
                values: vec![sum(|w| w.own_facings), sum(|w| w.all_facings)],
            }
        })
        .collect();
    let described = format!(
        "Own and all facings on the shelf per week in the audits of {} key-account store(s), {} to {}",
        computed.stores.len(),
        computed.from,
        computed.to
    );
    let download = format!("{PAGE}.xlsx?{}", filter.query_string(&filter.store));
    let single = (!filter.store.is_empty())
        .then(|| computed.stores.first())
        .flatten();
    html! {
        section #report aria-label="Key-account store opportunity" {
            p.count {
                (computed.stores.len()) " store(s) · " (computed.from) " – " (computed.to) " · "
                a.download href=(download) download { "Download XLSX 下载 Excel" }
                @if !filter.store.is_empty() {
                    " · " a href=(format!("{PAGE}?{}", filter.query_string(""))) { "All stores 全部门店" }
                }
            }
            (chart::bar_chart(&described, &SERIES, &groups))
            @if computed.chains.len() > 1 || (computed.chains.len() == 1 && filter.store.is_empty()) {
                (chains_table(filter, computed))
            }
            @if computed.stores.is_empty() {
                p.empty { "No key-account stores in your scope match. 没有符合条件的重点客户门店。" }
            } @else {
                div.table-scroll {
                    table.opportunity {
                        thead {
                            tr {
                                th { "Store 门店" } th { "Chain 连锁" } th { "Channel 渠道" }
                                th { "First facings 首周排面" } th { "Last facings 末周排面" } th { "Trend 趋势 /wk" }
                                th { "Shelf share 排面占比" } th { "Out of stock 缺货率" } th { "Distribution 铺货率" }
                                th { "Orders 订单额" } th { "Potential 潜力" } th { "vs potential 达成" }
                                th { "Promotion 促销执行" } th { "Display 陈列执行" } th { "Competitor sightings 竞品动态" }
                                th { "Picture of success 成功图像" }
                            }
                        }
                        tbody {
                            @for row in &computed.stores {
                                @let r = &row.report;
                                @let last = last_audit(row);
                                tr data-store=(row.store_code) {
                                    th scope="row" {
                                        a.drill href=(format!("{PAGE}?{}", filter.query_string(&r.store_id.to_string()))) {
                                            (row.store_code) " " (row.store_name)
                                        }
                                    }
                                    td { (row.chain.clone().unwrap_or_default()) }
                                    td { (row.channel.to_uppercase()) }
                                    td.num { (num(r.first_facings)) }
                                    td.num { (num(r.last_facings)) }
                                    td class=(if r.facings_slope.is_some_and(|s| s < 0.0) { "num bad" } else { "num" }) { (num(r.facings_slope)) }
                                    td.num { (pct(last.and_then(|w| w.shelf_share_bp))) }
                                    td class=(if last.and_then(|w| w.out_of_stock_bp).is_some_and(|b| b > 0) { "num bad" } else { "num" }) { (pct(last.and_then(|w| w.out_of_stock_bp))) }
                                    td.num { (pct(last.and_then(|w| w.distribution_bp))) }
                                    td.num { (r.order_amount) }
                                    td.num { (num(r.potential)) }
                                    td.num { (pct(r.potential_bp)) }
                                    td class=(compliance_class(r.promotion_compliance_bp)) { (pct(r.promotion_compliance_bp)) }
                                    td class=(compliance_class(r.display_compliance_bp)) { (pct(r.display_compliance_bp)) }
                                    td.num { (r.competitor_sightings) }
                                    td class=(compliance_class(r.success_score_bp)) { (pct(r.success_score_bp)) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(row) = single {
                (store_weeks(row))
            }
            p.note {
                "Shelf share counts facings of SKUs outside our catalogue as competitors'; promotion (price cut, gift) and display (endcap, floor stand, shelf position) compliance are the means over the audited weeks of the agreements running that day; a chain's ratios are the means of its audited stores'. "
                "排面占比以产品目录外的 SKU 为竞品；促销（降价、赠品）与陈列（端架、地堆、货架位置）执行率为各周审计当日执行率的平均值；连锁的比率为其已检查门店的平均值。"
            }
        }
    }
}

/// A compliance cell's class: marked when under 100 %.
fn compliance_class(bp: Option<u32>) -> &'static str {
    if bp.is_some_and(|b| b < 10_000) {
        "num bad"
    } else {
        "num"
    }
}

/// The stores per chain, each chain filtering the page to its stores.
fn chains_table(filter: &OpportunityFilter, computed: &OpportunityReport) -> Markup {
    html! {
        div.table-scroll {
            table.chains aria-label="Chains 连锁" {
                caption { "Chains 连锁" }
                thead {
                    tr {
                        th { "Chain 连锁" } th { "Stores 门店" } th { "Audited last week 末周已检查" }
                        th { "Out of stock 缺货率" } th { "Distribution 铺货率" }
                        th { "Promotion 促销执行" } th { "Display 陈列执行" } th { "Picture of success 成功图像" } th { "Competitor sightings 竞品动态" }
                        th { "Orders 订单额" } th { "Potential 潜力" } th { "vs potential 达成" }
                    }
                }
                tbody {
                    @for c in &computed.chains {
                        @let name = c.chain.clone().unwrap_or_default();
                        tr data-chain=(name) {
                            th scope="row" {
                                @if let Some(chain) = &c.chain {
                                    a href=(format!("{PAGE}?{}", filter.query_string_with(chain, ""))) { (chain) }
                                } @else {
                                    "No chain 无连锁"
                                }
                            }
                            td.num { (c.stores) }
                            td.num { (c.weeks.last().map_or(0, |w| w.audited_stores)) }
                            td.num { (pct(c.out_of_stock_bp)) }
                            td.num { (pct(c.distribution_bp)) }
                            td class=(compliance_class(c.promotion_compliance_bp)) { (pct(c.promotion_compliance_bp)) }
                            td class=(compliance_class(c.display_compliance_bp)) { (pct(c.display_compliance_bp)) }
                            td class=(compliance_class(c.success_score_bp)) { (pct(c.success_score_bp)) }
                            td.num { (c.competitor_sightings) }
                            td.num { (c.order_amount) }
                            td.num { (num(c.potential)) }
                            td.num { (pct(c.potential_bp)) }
                        }
                    }
                }
            }
        }
    }
}

/// One store's weeks, each audited week linking to its visit.
fn store_weeks(row: &OpportunityRow) -> Markup {
    html! {
        section.drill aria-label=(format!("Weeks of {}", row.store_code)) {
            h2 { (row.store_code) " " (row.store_name) " · weeks 每周" }
            table.opportunity-weeks {
                thead {
                    tr {
                        th { "Week 周" } th { "Audit 检查" } th { "Own facings 本品排面" } th { "All facings 总排面" }
                        th { "Shelf share 排面占比" } th { "Out of stock 缺货率" } th { "Distribution 铺货率" }
                        th { "Promotion 促销执行" } th { "Display 陈列执行" } th { "Competitor sightings 竞品动态" }
                        th { "Picture of success 成功图像" } th { "Shelf 货架" }
                    }
                }
                tbody {
                    @for w in &row.report.weeks {
                        tr {
                            th scope="row" { (w.week) }
                            td {
                                @match (w.visit_id, w.visit_date) {
                                    (Some(id), Some(date)) => a href=(format!("/console/visits/{id}")) { (date) },
                                    _ => "–",
                                }
                            }
                            td.num { (num(w.own_facings)) }
                            td.num { (num(w.all_facings)) }
                            td.num { (pct(w.shelf_share_bp)) }
                            td.num { (pct(w.out_of_stock_bp)) }
                            td.num { (pct(w.distribution_bp)) }
                            td class=(compliance_class(w.promotion_compliance_bp)) { (pct(w.promotion_compliance_bp)) }
                            td class=(compliance_class(w.display_compliance_bp)) { (pct(w.display_compliance_bp)) }
                            td.num { (w.competitor_sightings) }
                            td class=(compliance_class(w.success_score_bp)) { (pct(w.success_score_bp)) }
                            td {
                                @if let Some(date) = w.visit_date {
                                    a.shelf href=(format!("{}?at={date}", shelf::page_path(row.report.store_id))) { "Shelf 货架" }
                                } @else { "–" }
                            }
                        }
                    }
                }
            }
            @if let Some(p) = row.monthly_potential {
                p.count { "Monthly potential 月潜力: " (Money(p)) }
            }
        }
    }
}
