//! The annual agreement self-check in the console (docs/agreements.md): per agreement of the
//! year, its terms as bars (recorded so far against agreed, with a mark where the day's pro
//! rata expectation stands; SVG with classes, no inline style), status and fee at risk, and
//! the XLSX download. Computed by the API's function over the caller's read scope: an agreement
//! shows when the caller reads one of its stores, computed on the stores they read.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use fieldsync_shared::report::agreements::{Term, TermProgress, TermStatus};
use fieldsync_shared::values::Money;

use crate::console::auth::ConsoleUser;
use crate::console::error::ConsoleResult;
use crate::console::layout::{self, Section};
use crate::http::ApiError;
use crate::reports::agreements::{
    self as report, AgreementRow, AgreementsParams, AgreementsQuery, AgreementsReport,
};
use crate::reports::format::{self, ReportFormat};
use crate::state::AppState;

/// Where the report lives.
pub const PAGE: &str = "/console/reports/agreements";

/// The page's filters as sent (empty: this year, today).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AgreementsFilter {
    #[serde(default)]
    year: String,
    #[serde(default)]
    on: String,
}

impl AgreementsFilter {
    fn with_defaults(mut self) -> AgreementsFilter {
        if self.year.trim().is_empty() {
            self.year = chrono::Utc::now().format("%Y").to_string();
        }
        self
    }

    /// The report's query (parsed and checked as the API's).
    fn query(&self, format: ReportFormat) -> ConsoleResult<AgreementsQuery> {
        let given = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let mut query = AgreementsParams {
            year: given(&self.year),
            on: given(&self.on),
            format: None,
        }
        .parse(&HeaderMap::new())?;
        query.format = format;
        Ok(query)
    }

    fn query_string(&self) -> String {
        [("year", self.year.as_str()), ("on", self.on.as_str())]
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", layout::urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `GET /console/reports/agreements`: the page; for htmx, the report alone. A year without
/// agreements shows as such, not as an error page.
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    Query(filter): Query<AgreementsFilter>,
) -> ConsoleResult<Response> {
    let filter = filter.with_defaults();
    let query = filter.query(ReportFormat::Json)?;
    let section = match report::agreements_report(&state, &user.principal, &query).await {
        Ok(computed) => report_section(&filter, &computed),
        Err(ApiError::Unprocessable {
            reason: "unknown_year",
            ..
        }) => html! {
            section #report aria-label="Annual agreements" {
                p.empty { "No agreements of " (query.year) ". 该年度没有协议。" }
            }
        },
        Err(e) => return Err(e.into()),
    };
    if layout::is_htmx(&headers) {
        return Ok(layout::fragment(section));
    }
    let body = html! {
        main.report {
            h1 { "Annual agreements 年度协议自查" }
            form.filters method="get" action=(PAGE) hx-get=(PAGE) hx-target="#report" hx-swap="outerHTML" hx-push-url="true" hx-trigger="change, submit" role="search" aria-label="Filter the report" {
                label { "Year 年度" input type="number" name="year" min="2000" max="2100" value=(filter.year); }
                label { "As of 截至" input type="date" name="on" value=(filter.on); }
                button type="submit" { "Show 查询" }
            }
            (section)
        }
    };
    Ok(layout::html_response(
        StatusCode::OK,
        layout::page(&user, Section::Agreements, "Annual agreements", body),
    ))
}

/// `GET /console/reports/agreements.xlsx`: the page's report as a workbook (the API's
/// `format=xlsx`).
pub async fn xlsx(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(filter): Query<AgreementsFilter>,
) -> ConsoleResult<Response> {
    let query = filter.with_defaults().query(ReportFormat::Xlsx)?;
    let computed = report::agreements_report(&state, &user.principal, &query).await?;
    let file_name = format!("agreements-{}-{}.xlsx", computed.year, computed.day);
    Ok(format::xlsx_response(report::sheets(&computed), &file_name).await?)
}

fn term_label(t: Term) -> &'static str {
    match t {
        Term::Listing => "Listed SKUs 进场单品",
        Term::DisplayWeeks => "Display weeks 陈列周数",
        Term::ShelfPositionWeeks => "Shelf position weeks 货架位置周数",
        Term::Promotions => "Promotions 促销档期",
    }
}

fn status_label(s: TermStatus) -> &'static str {
    match s {
        TermStatus::Met => "Met 已达成",
        TermStatus::OnTrack => "On track 进度正常",
        TermStatus::Behind => "Behind 落后",
        TermStatus::NotRecorded => "Not recorded 无记录",
    }
}

/// Basis points as a percentage with one decimal.
fn pct(bp: u32) -> String {
    format!("{}.{} %", bp / 100, (bp % 100) / 10)
}

const BAR_W: f64 = 240.0;
const BAR_H: f64 = 18.0;

/// A term's bar: recorded against agreed (capped at the bar's end), a mark at the expected.
fn bar(t: &TermProgress) -> Markup {
    let x = |bp: u32| f64::from(bp.min(10_000)) / 10_000.0 * BAR_W;
    let described = format!(
        "{}: {} of {} recorded, {} expected by the day",
        term_label(t.term),
        t.recorded,
        t.agreed,
        t.expected
    );
    html! {
        svg.term-bar viewBox=(format!("0 0 {BAR_W} {BAR_H}")) width=(BAR_W) height=(BAR_H) role="img" aria-label=(described) xmlns="http://www.w3.org/2000/svg" {
            title { (described) }
            rect.term-track x="0" y="0" width=(BAR_W) height=(BAR_H) {}
            rect class=(format!("term-fill {}", t.status)) x="0" y="0" width=(format!("{:.1}", x(t.recorded_bp))) height=(BAR_H) {}
            line.term-expected x1=(format!("{:.1}", x(t.expected_bp))) y1="0" x2=(format!("{:.1}", x(t.expected_bp))) y2=(BAR_H) {}
        }
    }
}

fn report_section(filter: &AgreementsFilter, computed: &AgreementsReport) -> Markup {
    let download = format!("{PAGE}.xlsx?{}", filter.query_string());
    let at_risk = computed
        .agreements
        .iter()
        .fold(0i64, |s, a| s.saturating_add(a.check.fee_at_risk.0));
    html! {
        section #report aria-label="Annual agreements" {
            p.count {
                (computed.agreements.len()) " agreement(s) · " (computed.year) " · as of 截至 " (computed.day)
                " · fees at risk 风险费用 " (Money(at_risk)) " · "
                a.download href=(download) download { "Download XLSX 下载 Excel" }
            }
            @if computed.agreements.is_empty() {
                p.empty { "No agreement of your stores this year. 您的门店今年没有协议。" }
            }
            @for a in &computed.agreements {
                (agreement(a))
            }
            p.note {
                "Each agreement is computed on the stores you may see (stores of the total). Listed SKUs: the share on the shelf at each store's latest audit, all expected from the first day. "
                "Display and shelf-position weeks: ISO weeks with such a promotion checked in place (partly counts half); promotions: distinct price cuts and gifts checked in place. "
                "Both are expected pro rata of the year (the mark on each bar). Fee at risk: the fee's share of the shortfall against that expectation. "
                "每份协议仅按您可查看的门店计算。进场单品：各门店最近一次检查时在架的比例，自年初起全部应在架；陈列与货架位置周数：检查执行到位的 ISO 周（部分执行计半周）；促销：检查执行到位的不同降价与赠品促销。按全年进度折算预期（条上的标记）；风险费用为落后部分对应的费用。"
            }
        }
    }
}

fn agreement(a: &AgreementRow) -> Markup {
    let c = &a.check;
    let scope = match (&a.store_code, &a.chain, &a.channel) {
        (Some(store), _, _) => format!("Store 门店 {store}"),
        (None, Some(chain), Some(channel)) => {
            format!("Chain 连锁 {chain} · {}", channel.to_uppercase())
        }
        _ => a.scope.clone(),
    };
    html! {
        article.agreement data-agreement=(a.code) {
            h2 { (a.code) " " (a.title) }
            p.meta {
                (scope) " · stores 门店 " (c.stores) " / " (a.stores_total)
                " · audited 已检查 " (c.stores_audited) " · visits 拜访 " (c.visits)
                " · day 天数 " (c.days_elapsed) " / " (c.days_in_year)
            }
            table.terms {
                thead {
                    tr {
                        th { "Term 条款" } th { "Agreed 约定" } th { "Recorded 已记录" } th { "Expected 预期" }
                        th { "Progress 进度" } th { "Status 状态" } th { "Fee 费用" } th { "At risk 风险" }
                    }
                }
                tbody {
                    @for t in &c.terms {
                        tr data-term=(t.term) {
                            th scope="row" { (term_label(t.term)) }
                            td.num { (t.agreed) }
                            td.num { (t.recorded) }
                            td.num { (t.expected) }
                            td { (bar(t)) " " span.pct { (pct(t.recorded_bp)) } }
                            td class=(format!("status {}", t.status)) { (status_label(t.status)) }
                            td.num { (t.fee) }
                            td class=(if t.fee_at_risk.0 > 0 { "num bad" } else { "num" }) { (t.fee_at_risk) }
                        }
                    }
                }
                tfoot {
                    tr {
                        th scope="row" colspan="6" { "Total 合计" }
                        td.num { (c.fee) }
                        td class=(if c.fee_at_risk.0 > 0 { "num bad" } else { "num" }) { (c.fee_at_risk) }
                    }
                }
            }
        }
    }
}
