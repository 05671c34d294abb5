//! The manager's monthly report in the console (docs/reports.md): for one month, a bar chart of
//! sales against target per rep, the table per team with its reps (sales, volume, target,
//! achievement, new and dormant stores, expense ratio, and last month's and last year's sales,
//! achievement and expense ratio; then order on-time delivery 准时交付: the orders due, late
//! and not recorded, and the on-time rate of the three months), and the XLSX download. Computed by the API's function
//! over the caller's read scope.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use fieldsync_shared::values::Money;

use super::people_in_scope;
use crate::console::auth::ConsoleUser;
use crate::console::chart::{self, Group, Series};
use crate::console::error::ConsoleResult;
use crate::console::layout::{self, Section};
use crate::reports::format::{self, ReportFormat};
use crate::reports::monthly::{self, MonthlyParams, MonthlyQuery, MonthlyReport, MonthlyRow};
use crate::reports::{self as api};
use crate::state::AppState;

/// Where the report lives.
pub const PAGE: &str = "/console/reports/monthly";

/// The page's filters as sent (empty: the current month, everyone).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct MonthlyFilter {
    #[serde(default)]
    month: String,
    #[serde(default)]
    person: String,
}

impl MonthlyFilter {
    fn query(&self, format: ReportFormat) -> ConsoleResult<MonthlyQuery> {
        let month = match self.month.trim() {
            "" => chrono::Utc::now().format("%Y-%m").to_string(),
            m => m.to_string(),
        };
        let person = Some(self.person.trim())
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        let mut query = MonthlyParams {
            month: Some(month),
            person_id: person,
            format: None,
        }
        .parse(&HeaderMap::new())?;
        query.format = format;
        Ok(query)
    }
}

const SERIES: [Series; 2] = [
    Series {
        label: "Sales 销售额",
        class: "done",
    },
    Series {
        label: "Target 目标",
        class: "required",
    },
];

/// `GET /console/reports/monthly`: the page; for htmx, the report alone.
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    Query(filter): Query<MonthlyFilter>,
) -> ConsoleResult<Response> {
    let query = filter.query(ReportFormat::Json)?;
    let report = monthly::monthly_report(&state, &user.principal, &query).await?;
    let section = report_section(&query, &report);
    if layout::is_htmx(&headers) {
        return Ok(layout::fragment(section));
    }
    let names = api::person_names(&state, &user.principal).await?;
    let people = people_in_scope(&state, &user, &names).await?;
    let body = html! {
        main.report {
            h1 { "Monthly report 月报" }
            form.filters method="get" action=(PAGE) hx-get=(PAGE) hx-target="#report" hx-swap="outerHTML" hx-push-url="true" hx-trigger="change, submit" role="search" aria-label="Filter the report" {
                label { "Month 月份"
                    input type="month" name="month" value=(query.month.as_str());
                }
                label { "Rep 人员"
                    select name="person" {
                        option value="" { "Everyone 全部" }
                        @for (id, name) in &people {
                            option value=(id) selected[filter.person == id.to_string()] { (name) }
                        }
                    }
                }
                button type="submit" { "Show 查询" }
            }
            (section)
        }
    };
    Ok(layout::html_response(
        StatusCode::OK,
        layout::page(&user, Section::MonthlyReport, "Monthly report", body),
    ))
}

/// `GET /console/reports/monthly.xlsx`: the page's report as a workbook (the API's
/// `format=xlsx`).
pub async fn xlsx(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(filter): Query<MonthlyFilter>,
) -> ConsoleResult<Response> {
    let query = filter.query(ReportFormat::Xlsx)?;
    let report = monthly::monthly_report(&state, &user.principal, &query).await?;
    let file_name = format!("monthly-{}.xlsx", report.month);
    Ok(format::xlsx_response(monthly::sheets(&report), &file_name).await?)
}

/// Whole currency units for the chart (its axis counts to `u32`).
fn units(minor: i64) -> u32 {
    u32::try_from(minor.max(0) / 100).unwrap_or(u32::MAX)
}

/// Basis points as a percentage with one decimal; a dash where there is none.
fn pct(bp: Option<i64>) -> String {
    bp.map_or("–".to_string(), |bp| {
        format!("{}.{} %", bp / 100, (bp % 100) / 10)
    })
}

fn money(minor: i64) -> String {
    Money(minor).to_string()
}

/// `classes`, and `bad` when `bad` (one class attribute: the figure shows in red).
fn flagged(classes: &str, bad: bool) -> String {
    if bad {
        format!("{classes} bad")
    } else {
        classes.to_string()
    }
}

/// A row's cells after its name: the month's figures, then the comparisons.
fn cells(row: &MonthlyRow) -> Markup {
    html! {
        td.num.sales { (money(row.sales_amount)) }
        td.num { (row.sales_volume) }
        td.num { (money(row.target_amount)) }
        td.num { (row.target_volume) }
        td class=(flagged("num achievement", row.achievement_bp.is_some_and(|bp| bp < 10_000))) { (pct(row.achievement_bp)) }
        td.num { (row.new_stores) }
        td class=(flagged("num", row.dormant_stores > 0)) { (row.dormant_stores) }
        td.num { (money(row.expense_amount)) }
        td.num { (pct(row.expense_ratio_bp)) }
        td.num { (money(row.last_month.sales_amount)) }
        td.num { (pct(row.last_month.achievement_bp)) }
        td.num { (pct(row.last_month.expense_ratio_bp)) }
        td.num { (money(row.last_year.sales_amount)) }
        td.num { (pct(row.last_year.achievement_bp)) }
        td.num { (pct(row.last_year.expense_ratio_bp)) }
        td.num.due { (row.delivery.due_orders) }
        td class=(flagged("num", row.delivery.delivered_late > 0)) { (row.delivery.delivered_late) }
        td.num { (row.delivery.not_recorded) }
        td class=(flagged("num on-time", row.delivery.on_time_bp.is_some_and(|bp| bp < 10_000))) { (pct(row.delivery.on_time_bp)) }
        td.num { (pct(row.last_month.on_time_bp)) }
        td.num { (pct(row.last_year.on_time_bp)) }
    }
}

fn report_section(query: &MonthlyQuery, report: &MonthlyReport) -> Markup {
    let groups: Vec<Group> = report
        .reps
        .iter()
        .map(|row| Group {
            label: row.person_name.clone().unwrap_or_default(),
            values: vec![units(row.sales_amount), units(row.target_amount)],
        })
        .collect();
    let described = format!(
        "Sales against target per rep in {}, in whole currency units",
        report.month
    );
    let mut download = format!("{PAGE}.xlsx?month={}", query.month.as_str());
    if let Some(p) = query.person {
        download.push_str(&format!("&person={p}"));
    }
    html! {
        section #report aria-label="Monthly report" {
            p.count {
                (report.reps.len()) " rep(s) · " (report.month)
                " · compared with 对比 " (report.last_month) " and " (report.last_year) " · "
                a.download href=(download) download { "Download XLSX 下载 Excel" }
            }
            (chart::bar_chart(&described, &SERIES, &groups))
            @if report.reps.is_empty() {
                p.empty { "No reps with figures or targets this month. 本月暂无数据。" }
            } @else {
                div.table-scroll {
                    table.monthly {
                        thead {
                            tr {
                                th rowspan="2" { "Team / rep 团队 / 人员" }
                                th colspan="9" { (report.month) }
                                th colspan="3" { "Last month 上月 " (report.last_month) }
                                th colspan="3" { "Last year 去年同期 " (report.last_year) }
                                th colspan="6" { "On-time delivery 准时交付" }
                            }
                            tr {
                                th { "Sales 销售额" } th { "Volume 销量" } th { "Target 目标额" } th { "Target volume 目标量" }
                                th { "Achievement 达成率" } th { "New stores 新增门店" } th { "Dormant stores 沉睡门店" }
                                th { "Expenses 费用" } th { "Expense ratio 费用率" }
                                th { "Sales 销售额" } th { "Achievement 达成率" } th { "Expense ratio 费用率" }
                                th { "Sales 销售额" } th { "Achievement 达成率" } th { "Expense ratio 费用率" }
                                th { "Due 到期订单" } th { "Late 延迟" } th { "Not recorded 未记录" }
                                th { "On time 准时率" } th { "Last month 上月" } th { "Last year 去年同期" }
                            }
                        }
                        @for team in &report.teams {
                            tbody {
                                tr.team data-team=(team.team_id.clone().unwrap_or_default()) {
                                    th scope="row" { (team.team_name) }
                                    (cells(team))
                                }
                                @for row in report.reps.iter().filter(|r| r.team_id == team.team_id) {
                                    tr.rep data-person=(row.person_id.clone().unwrap_or_default()) {
                                        td.name { (row.person_name.clone().unwrap_or_default()) }
                                        (cells(row))
                                    }
                                }
                            }
                        }
                        tfoot {
                            tr.total {
                                th scope="row" { (report.total.team_name) }
                                (cells(&report.total))
                            }
                        }
                    }
                }
            }
            p.note {
                "On-time delivery: sold orders whose requested delivery falls in the month; the rate is on time over those with a recorded delivery. "
                "准时交付：要求交货日期在本月的已售订单；准时率 = 准时交付数 ÷ 已记录交付数。"
            }
        }
    }
}
