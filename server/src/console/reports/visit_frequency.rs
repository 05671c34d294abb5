//! Visit-frequency compliance in the console (docs/reports.md): per week the stores' required, planned and done visits and the overdue stores as a bar chart
//! ([`chart`]), the same per rep and week in a table, each row drilling down to the stores
//! behind its figures, and the report as an XLSX download. Read through the API's own
//! computation (`reports::frequency_report`), so the caller's read scope applies as in the
//! API: a rep sees their own figures, a supervisor the team's, a manager the region's.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use fieldsync_shared::plan::IsoWeek;
use fieldsync_shared::values::{Date, UserId};

use super::{name_of, people_in_scope};
use crate::console::auth::ConsoleUser;
use crate::console::chart::{self, Group, Series};
use crate::console::error::ConsoleResult;
use crate::console::layout::{self, Section};
use crate::reports::format::ReportFormat;
use crate::reports::visit_frequency::{self, FrequencyRow, PersonWeekTotals, WeekTotals};
use crate::reports::{self, FrequencyParams, FrequencyQuery};
use crate::state::AppState;

/// Where the visit-frequency report lives.
pub const PAGE: &str = "/console/reports/visit-frequency";
/// Weeks shown when the filter names none: the current one and the three before it.
const DEFAULT_WEEKS: i64 = 4;
/// The id of the drill-down's section (an htmx target).
const DRILL: &str = "drill";

/// The page's filters as sent (empty fields: the default weeks, everyone, every grade), and
/// the rep and week drilled into.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FrequencyFilter {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    grade: String,
    #[serde(default)]
    drill_person: String,
    #[serde(default)]
    drill_week: String,
}

impl FrequencyFilter {
    /// Fills in the default weeks.
    fn with_defaults(mut self) -> FrequencyFilter {
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
    fn query(&self, format: ReportFormat) -> ConsoleResult<FrequencyQuery> {
        let given = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let mut query = FrequencyParams {
            from: given(&self.from),
            to: given(&self.to),
            person_id: given(&self.person),
            grade: given(&self.grade),
            format: None,
        }
        .parse(&HeaderMap::new())?;
        query.format = format;
        Ok(query)
    }

    /// The filters as a query string (without the drill-down).
    fn query_string(&self) -> String {
        [
            ("from", &self.from),
            ("to", &self.to),
            ("person", &self.person),
            ("grade", &self.grade),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", layout::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// The link to the stores behind `person`'s figures in `week`.
    fn drill_href(&self, person: UserId, week: IsoWeek) -> String {
        format!(
            "{PAGE}?{}&drill_person={person}&drill_week={week}",
            self.query_string()
        )
    }
}

/// `GET /console/reports/visit-frequency`: the page; for htmx, the report (filters changed)
/// or the drill-down alone.
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    Query(filter): Query<FrequencyFilter>,
) -> ConsoleResult<Response> {
    let filter = filter.with_defaults();
    let names = reports::person_names(&state, &user.principal).await?;
    let drill = Drill::parse(&filter)?;
    let target = headers.get("hx-target").and_then(|v| v.to_str().ok());
    if layout::is_htmx(&headers) && target == Some(DRILL) {
        if let Some(drill) = &drill {
            // Only the rep's week: the same rows as the full report's for it.
            let narrowed = FrequencyFilter {
                from: drill.week.to_string(),
                to: drill.week.to_string(),
                person: drill.person.to_string(),
                ..filter.clone()
            };
            let query = narrowed.query(ReportFormat::Json)?;
            let (_, rows) = reports::frequency_report(&state, &user.principal, &query).await?;
            return Ok(layout::fragment(drill_section(Some(drill), &rows, &names)));
        }
    }
    let query = filter.query(ReportFormat::Json)?;
    let (weeks, rows) = reports::frequency_report(&state, &user.principal, &query).await?;
    let report = report_section(&filter, &weeks, &rows, drill.as_ref(), &names);
    if layout::is_htmx(&headers) {
        return Ok(layout::fragment(report));
    }
    let people = people_in_scope(&state, &user, &names).await?;
    let body = html! {
        main.report {
            h1 { "Visit frequency 拜访频率" }
            form.filters method="get" action=(PAGE) hx-get=(PAGE) hx-target="#report" hx-swap="outerHTML" hx-push-url="true" hx-trigger="change, submit" role="search" aria-label="Filter the report" {
                label { "From week 起始周"
                    input type="week" name="from" value=(filter.from);
                }
                label { "To week 截止周"
                    input type="week" name="to" value=(filter.to);
                }
                label { "Rep 人员"
                    select name="person" {
                        option value="" { "Everyone 全部" }
                        @for (id, name) in &people {
                            option value=(id) selected[filter.person == id.to_string()] { (name) }
                        }
                    }
                }
                label { "Grade 等级"
                    select name="grade" {
                        option value="" { "All grades 全部等级" }
                        @for g in ["A", "B", "C"] {
                            option value=(g) selected[filter.grade == g] { (g) }
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
        layout::page(&user, Section::VisitFrequency, "Visit frequency", body),
    ))
}

/// `GET /console/reports/visit-frequency.xlsx`: the report of the page's filters as a
/// workbook (the API's `format=xlsx`).
pub async fn xlsx(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(filter): Query<FrequencyFilter>,
) -> ConsoleResult<Response> {
    let query = filter.with_defaults().query(ReportFormat::Xlsx)?;
    let (weeks, rows) = reports::frequency_report(&state, &user.principal, &query).await?;
    Ok(reports::frequency_xlsx(&state, &user.principal, &query, &weeks, &rows).await?)
}

/// The rep and week drilled into.
struct Drill {
    person: UserId,
    week: IsoWeek,
}

impl Drill {
    fn parse(filter: &FrequencyFilter) -> ConsoleResult<Option<Drill>> {
        let (person, week) = (filter.drill_person.trim(), filter.drill_week.trim());
        if person.is_empty() || week.is_empty() {
            return Ok(None);
        }
        let person = UserId::parse(person).map_err(|e| reports::invalid("drill_person", e))?;
        let week = IsoWeek::parse(week).map_err(|e| reports::invalid("drill_week", e))?;
        Ok(Some(Drill { person, week }))
    }
}

const SERIES: [Series; 4] = [
    Series {
        label: "Required 应访",
        class: "required",
    },
    Series {
        label: "Planned 计划",
        class: "planned",
    },
    Series {
        label: "Done 已访",
        class: "done",
    },
    Series {
        label: "Overdue 逾期",
        class: "overdue",
    },
];

/// The chart, the table per rep and week, the drill-down and the download link.
fn report_section(
    filter: &FrequencyFilter,
    weeks: &[WeekTotals],
    rows: &[FrequencyRow],
    drill: Option<&Drill>,
    names: &HashMap<UserId, String>,
) -> Markup {
    let groups: Vec<Group> = weeks
        .iter()
        .map(|w| Group {
            label: w.week.to_string(),
            values: vec![w.required, w.planned, w.done, w.overdue],
        })
        .collect();
    let described = format!(
        "Visits required, planned and done, and stores overdue, per week from {} to {}",
        filter.from, filter.to
    );
    let per_rep = visit_frequency::by_person(rows);
    let drilled: Vec<FrequencyRow> = drill
        .map(|d| {
            rows.iter()
                .filter(|r| r.person_id == d.person && r.week == d.week)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let xlsx = format!("{PAGE}.xlsx?{}", filter.query_string());
    html! {
        section #report aria-label="Visit-frequency report" {
            p.count {
                (per_rep.len()) " rep-week(s) · " (rows.len()) " store-week(s) · "
                a.download href=(xlsx) download { "Download XLSX 下载 Excel" }
            }
            (chart::bar_chart(&described, &SERIES, &groups))
            h2 { "Per rep and week 按人员和周" }
            @if per_rep.is_empty() {
                p.empty { "No stores covered in these weeks. 暂无数据。" }
            } @else {
                div.table-scroll {
                    table.per-rep {
                        thead { tr {
                            th { "Rep 人员" } th { "Week 周" } th { "Stores 门店" } th { "Required 应访" }
                            th { "Planned 计划" } th { "Done 已访" } th { "Unplanned 计划外" }
                            th { "Overdue 逾期" } th { "Compliance 达成率" } th {}
                        } }
                        tbody {
                            @for t in &per_rep {
                                (rep_row(filter, t, names, drill))
                            }
                        }
                    }
                }
            }
            (drill_section(drill, &drilled, names))
        }
    }
}

fn rep_row(
    filter: &FrequencyFilter,
    t: &PersonWeekTotals,
    names: &HashMap<UserId, String>,
    drill: Option<&Drill>,
) -> Markup {
    let href = filter.drill_href(t.person_id, t.week);
    let open = drill.is_some_and(|d| d.person == t.person_id && d.week == t.week);
    html! {
        tr class=[open.then_some("open")] data-person=(t.person_id) data-week=(t.week) {
            td { (name_of(names, t.person_id)) }
            td { (t.week) }
            td.num { (t.stores) }
            td.num { (t.required) }
            td.num { (t.planned) }
            td.num { (t.done) }
            td.num { (t.unplanned) }
            td.num class=[(t.overdue > 0).then_some("bad")] { (t.overdue) }
            td.num { (t.compliance_percent()) " %" }
            td { a.drill href=(href) hx-get=(href) hx-target=(format!("#{DRILL}")) hx-swap="outerHTML" { "Stores 门店 →" } }
        }
    }
}

/// The stores behind one rep's figures in one week (empty without a drill-down).
fn drill_section(
    drill: Option<&Drill>,
    rows: &[FrequencyRow],
    names: &HashMap<UserId, String>,
) -> Markup {
    html! {
        section #(DRILL) aria-live="polite" aria-label="Stores behind the figures" {
            @if let Some(d) = drill {
                h2 { "Stores of " (name_of(names, d.person)) " in " (d.week) " 门店明细" }
                @if rows.is_empty() {
                    p.empty { "No stores. 暂无门店。" }
                } @else {
                    div.table-scroll {
                        table.stores {
                            thead { tr {
                                th { "Code 编码" } th { "Store 门店" } th { "Grade 等级" } th { "Required 应访" }
                                th { "Planned 计划" } th { "Done 已访" } th { "Unplanned 计划外" }
                                th { "Overdue 逾期" } th { "Last visit 最近拜访" }
                            } }
                            tbody {
                                @for r in rows {
                                    tr class=[r.overdue.then_some("overdue")] {
                                        td { (r.store_code) }
                                        td { (r.store_name) }
                                        td { (format!("{:?}", r.grade)) }
                                        td.num { (r.required) }
                                        td.num { (r.planned) }
                                        td.num { (r.done) }
                                        td.num { (r.unplanned) }
                                        td { @if r.overdue { "Overdue 逾期" } @else { "—" } }
                                        td { (r.last_visit.map_or("never 从未".to_string(), |d| d.to_string())) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
