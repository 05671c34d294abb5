//! The reps' weekly reports in the console (docs/reports.md): for one ISO week, a bar chart per
//! rep (visits planned, done, unplanned; open issues), the figures per rep (orders and their
//! amount, audit findings by code), the open issues with links to the visits, and the XLSX
//! download. Computed by the API's function over the caller's read scope.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use fieldsync_shared::plan::IsoWeek;
use fieldsync_shared::report::rep_weekly::{
    RepWeekly, OUT_OF_STOCK, SHELF_PRICE_BELOW_FLOOR, STALE_STOCK,
};
use fieldsync_shared::values::Date;

use super::people_in_scope;
use crate::console::auth::ConsoleUser;
use crate::console::chart::{self, Group, Series};
use crate::console::error::ConsoleResult;
use crate::console::layout::{self, Section};
use crate::reports::format::{self, ReportFormat};
use crate::reports::rep_weekly::{self, Computed, RepWeeklyParams, RepWeeklyQuery};
use crate::reports::{self as api};
use crate::state::AppState;

/// Where the report lives.
pub const PAGE: &str = "/console/reports/rep-weekly";

/// The page's filters as sent (empty: the current week, everyone).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct WeeklyFilter {
    #[serde(default)]
    week: String,
    #[serde(default)]
    person: String,
}

impl WeeklyFilter {
    fn query(&self, format: ReportFormat) -> ConsoleResult<RepWeeklyQuery> {
        let week = match self.week.trim() {
            "" => IsoWeek::of(Date::from_naive(chrono::Utc::now().date_naive())).to_string(),
            w => w.to_string(),
        };
        let person = Some(self.person.trim())
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        let mut query = RepWeeklyParams {
            week: Some(week),
            person_id: person,
            format: None,
        }
        .parse(&HeaderMap::new())?;
        query.format = format;
        Ok(query)
    }
}

const SERIES: [Series; 4] = [
    Series {
        label: "Planned 计划",
        class: "planned",
    },
    Series {
        label: "Done 已访",
        class: "done",
    },
    Series {
        label: "Unplanned 计划外",
        class: "required",
    },
    Series {
        label: "Open issues 待办",
        class: "overdue",
    },
];

/// An open issue's kind for people.
fn kind_label(kind: &str) -> &str {
    match kind {
        "visit_not_submitted" => "Visit not submitted 拜访未提交",
        "visit_rejected" => "Visit rejected 拜访被驳回",
        "order_pending_approval" => "Order awaiting approval 订单待审批",
        "order_rejected" => "Order rejected 订单被拒",
        other => other,
    }
}

/// `GET /console/reports/rep-weekly`: the page; for htmx, the report alone.
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    Query(filter): Query<WeeklyFilter>,
) -> ConsoleResult<Response> {
    let query = filter.query(ReportFormat::Json)?;
    let computed = rep_weekly::rep_weekly_reports(&state, &user.principal, &query).await?;
    let report = report_section(&query, &computed);
    if layout::is_htmx(&headers) {
        return Ok(layout::fragment(report));
    }
    let names = api::person_names(&state, &user.principal).await?;
    let people = people_in_scope(&state, &user, &names).await?;
    let body = html! {
        main.report {
            h1 { "Weekly report 周报" }
            form.filters method="get" action=(PAGE) hx-get=(PAGE) hx-target="#report" hx-swap="outerHTML" hx-push-url="true" hx-trigger="change, submit" role="search" aria-label="Filter the report" {
                label { "Week 周"
                    input type="week" name="week" value=(query.week.to_string());
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
            (report)
        }
    };
    Ok(layout::html_response(
        StatusCode::OK,
        layout::page(&user, Section::WeeklyReport, "Weekly report", body),
    ))
}

/// `GET /console/reports/rep-weekly.xlsx`: the page's report as a workbook (the API's
/// `format=xlsx`).
pub async fn xlsx(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(filter): Query<WeeklyFilter>,
) -> ConsoleResult<Response> {
    let query = filter.query(ReportFormat::Xlsx)?;
    let computed = rep_weekly::rep_weekly_reports(&state, &user.principal, &query).await?;
    let file_name = format!("rep-weekly-{}.xlsx", query.week);
    Ok(format::xlsx_response(rep_weekly::sheets(&computed), &file_name).await?)
}

fn finding(r: &RepWeekly, code: &str) -> u32 {
    r.findings.get(code).copied().unwrap_or(0)
}

fn report_section(query: &RepWeeklyQuery, computed: &Computed) -> Markup {
    let groups: Vec<Group> = computed
        .rows
        .iter()
        .map(|row| {
            let r = &row.report;
            Group {
                label: row.person_name.clone(),
                values: vec![r.planned, r.done, r.unplanned, r.open_issues.len() as u32],
            }
        })
        .collect();
    let described = format!(
        "Visits planned, done and unplanned, and open issues, per rep in {}",
        query.week
    );
    let mut download = format!("{PAGE}.xlsx?week={}", query.week);
    if let Some(p) = query.person {
        download.push_str(&format!("&person={p}"));
    }
    let store_label = |id| {
        computed
            .stores
            .get(&id)
            .map_or(id.to_string(), |s| format!("{} ({})", s.name, s.code))
    };
    html! {
        section #report aria-label="Weekly report" {
            p.count {
                (computed.rows.len()) " rep(s) · " (query.week) " · "
                a.download href=(download) download { "Download XLSX 下载 Excel" }
            }
            (chart::bar_chart(&described, &SERIES, &groups))
            @if computed.rows.is_empty() {
                p.empty { "No reps in this report. 暂无数据。" }
            } @else {
                div.table-scroll {
                    table.weekly {
                        thead { tr {
                            th { "Rep 人员" } th { "Planned 计划" } th { "Done 已访" } th { "Unplanned 计划外" }
                            th { "Orders 订单" } th { "Amount 金额" } th { "Stale stock 货龄超标" }
                            th { "Out of stock 缺货" } th { "Price below floor 价格低于底价" } th { "Open issues 待办" }
                        } }
                        tbody {
                            @for row in &computed.rows {
                                @let r = &row.report;
                                tr data-person=(r.person_id) {
                                    td { (row.person_name) }
                                    td.num { (r.planned) }
                                    td.num { (r.done) }
                                    td.num { (r.unplanned) }
                                    td.num { (r.orders) }
                                    td.num { (r.amount) }
                                    td.num { (finding(r, STALE_STOCK)) }
                                    td.num { (finding(r, OUT_OF_STOCK)) }
                                    td.num { (finding(r, SHELF_PRICE_BELOW_FLOOR)) }
                                    td.num class=[(!r.open_issues.is_empty()).then_some("bad")] { (r.open_issues.len()) }
                                }
                            }
                        }
                    }
                }
                h2 { "Open issues 待办事项" }
                @if computed.rows.iter().all(|r| r.report.open_issues.is_empty()) {
                    p.empty { "Nothing waiting. 暂无待办。" }
                }
                ul.issues {
                    @for row in &computed.rows {
                        @for issue in &row.report.open_issues {
                            li {
                                (issue.date) " · " (row.person_name) " · " (kind_label(&issue.kind)) " · "
                                @if issue.kind.starts_with("visit") {
                                    a href=(format!("/console/visits/{}", issue.doc_id)) { (store_label(issue.store_id)) }
                                } @else {
                                    (store_label(issue.store_id))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
