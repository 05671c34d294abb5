//! One store's shelf as recorded at a past visit (docs/reports.md, "The shelf at a past
//! visit"): pick a day, or step to the audit before or after, and see what that visit found —
//! our products and competitors' on the shelf, the must-carry range with what was missing, the
//! agreements running that day as checked, the picture of success as scored, the competitor
//! sightings and the photos. Computed
//! by the API's function (`GET /v1/stores/{id}/shelf`) within the caller's read scope.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use fieldsync_shared::master::Mechanic;
use fieldsync_shared::promotion::CheckStatus;
use fieldsync_shared::report::shelf::{ShelfLine, ShelfRecord};
use fieldsync_shared::success::ScoreStatus;
use fieldsync_shared::values::{Date, StoreId};

use super::auth::ConsoleUser;
use super::directory::Directory;
use super::error::{ConsoleError, ConsoleResult};
use super::layout::{self, Section};
use super::{competitors, queue};
use crate::reports::shelf::{shelf_at, ShelfAnswer};
use crate::scope::read_scope;
use crate::state::AppState;

/// Audits listed as links above the shelf.
const LISTED_AUDITS: usize = 12;

/// The page of `store`.
pub fn page_path(store: StoreId) -> String {
    format!("/console/stores/{store}/shelf")
}

/// The page's query: the day (empty: today).
#[derive(Debug, Default, Deserialize)]
pub struct ShelfQuery {
    #[serde(default)]
    at: String,
}

/// `GET /console/stores/{id}/shelf?at=YYYY-MM-DD`.
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(query): Query<ShelfQuery>,
) -> ConsoleResult<Response> {
    let store = StoreId::parse(&id).map_err(|_| ConsoleError::NotFound)?;
    let scope = read_scope(state.store.as_ref(), &user.principal).await?;
    if !scope.can_see_store(store) {
        return Err(ConsoleError::NotFound);
    }
    let at = match query.at.trim() {
        "" => Date::from_naive(chrono::Utc::now().date_naive()),
        raw => Date::parse(raw).map_err(|e| crate::reports::invalid("at", e))?,
    };
    let answer = shelf_at(&state, &user.principal, store, at).await?;
    let directory = Directory::load(&state, user.principal.tenant_id).await?;
    let title = format!("{} {}", answer.store_code, answer.store_name);
    let path = page_path(store);
    let earlier = answer.audits.get(1);
    let body = html! {
        main.shelf {
            p { a href=(format!("/console/reports/store-opportunity?store={store}")) { "← Key-account stores 重点客户门店" } }
            h1 { (title) " · shelf 货架" }
            form.filters method="get" action=(path) role="search" aria-label="Choose a day" {
                label { "Day 日期" input type="date" name="at" value=(answer.at); }
                button type="submit" { "Show 查看" }
                @if let Some(e) = earlier {
                    a.step.earlier href=(format!("{path}?at={}", e.date)) { "← Earlier 更早 " (e.date) }
                }
                @if let Some(n) = &answer.next {
                    a.step.later href=(format!("{path}?at={}", n.date)) { "Later 更晚 " (n.date) " →" }
                }
            }
            @if !answer.audits.is_empty() {
                nav.audits aria-label="Audits of the store 门店检查记录" {
                    "Audits 检查记录: "
                    @for (i, a) in answer.audits.iter().take(LISTED_AUDITS).enumerate() {
                        @if i == 0 { strong { (a.date) } } @else { a href=(format!("{path}?at={}", a.date)) { (a.date) } }
                        " "
                    }
                }
            }
            @match &answer.shelf {
                None => p.empty { "No audit of this store in the year up to " (answer.at) ". 截至该日一年内无检查记录。" },
                Some(record) => (shelf_sections(&answer, record, &directory)),
            }
        }
    };
    Ok(layout::html_response(
        StatusCode::OK,
        layout::page(&user, Section::StoreOpportunity, &title, body),
    ))
}

fn pct(bp: Option<u32>) -> String {
    bp.map_or("–".to_string(), |bp| {
        format!("{}.{} %", bp / 100, (bp % 100) / 10)
    })
}

fn mechanic_label(m: Mechanic) -> &'static str {
    match m {
        Mechanic::PriceCut => "Price cut 降价",
        Mechanic::Gift => "Gift 赠品",
        Mechanic::Endcap => "Endcap 端架",
        Mechanic::FloorStand => "Floor stand 地堆",
        Mechanic::ShelfPosition => "Shelf position 货架位置",
    }
}

fn status_label(s: Option<CheckStatus>) -> &'static str {
    match s {
        Some(CheckStatus::InPlace) => "In place 已执行",
        Some(CheckStatus::Partly) => "Partly 部分执行",
        Some(CheckStatus::NotInPlace) => "Not in place 未执行",
        None => "Not checked 未检查",
    }
}

fn score_label(s: Option<ScoreStatus>) -> &'static str {
    match s {
        Some(ScoreStatus::Met) => "Met 达标",
        Some(ScoreStatus::Partly) => "Partly 部分达标",
        Some(ScoreStatus::NotMet) => "Not met 未达标",
        None => "Not scored 未评分",
    }
}

fn shelf_sections(answer: &ShelfAnswer, r: &ShelfRecord, directory: &Directory) -> Markup {
    let missing = r.expected.iter().filter(|e| !e.on_shelf).count();
    html! {
        p.meta {
            "As recorded on 记录于 " strong { (r.visit_date) } " by " (directory.person_name(r.person_id)) " · "
            span.status { (queue::status_label(r.status)) } " · "
            a href=(format!("/console/visits/{}", r.visit_id)) { "Visit 拜访" }
            @if answer.audits.first().is_some_and(|a| a.date != answer.at) {
                " · the store's last audit on or before " (answer.at)
            }
        }
        dl.figures {
            div { dt { "Distribution 铺货率" } dd { (pct(r.distribution_bp)) } }
            div { dt { "Out of stock 缺货率" } dd { (pct(r.out_of_stock_bp)) } }
            div { dt { "Promotion 促销执行" } dd { (pct(r.promotion_compliance_bp)) } }
            div { dt { "Display 陈列执行" } dd { (pct(r.display_compliance_bp)) } }
            div { dt { "Picture of success 成功图像" } dd { (pct(r.success_score_bp)) } }
        }
        section aria-labelledby="own" {
            h2 #own { "Our products 本品 (" (r.own_lines.len()) ")" }
            (lines_table("own", &r.own_lines))
        }
        @if !r.expected.is_empty() {
            section aria-labelledby="range" {
                h2 #range { "Must-carry range 必备品项: " (r.expected.len() - missing) " of " (r.expected.len()) " on the shelf 在架" }
                ul.range {
                    @for e in &r.expected {
                        li class=(if e.on_shelf { "present" } else { "missing" }) {
                            (e.sku) " " (e.product.as_deref().unwrap_or(""))
                            @if !e.on_shelf { " · " strong { "missing 缺失" } } @else { " · " (e.facings) " facings 排面" }
                        }
                    }
                }
            }
        }
        section aria-labelledby="rivals" {
            h2 #rivals { "Competitors on the shelf 竞品在架 (" (r.competitor_lines.len()) ")" }
            (lines_table("rivals", &r.competitor_lines))
        }
        section aria-labelledby="agreements" {
            h2 #agreements { "Promotions and displays 促销与陈列 (" (r.agreements.len()) ")" }
            @if r.agreements.is_empty() { p.muted { "None running that day. 当日无执行中的协议。" } }
            @else {
                div.table-scroll {
                    table.agreements {
                        thead { tr {
                            th { "Code 编号" } th { "Title 名称" } th { "Mechanic 方式" } th { "Status 状态" }
                            th { "Promotion price 促销价" } th { "Seen price 实际价" } th { "Evidence 证据" }
                        } }
                        tbody {
                            @for a in &r.agreements {
                                tr data-code=(a.code) class=[(a.status != Some(CheckStatus::InPlace)).then_some("finding")] {
                                    td { (a.code) }
                                    td { (a.title) }
                                    td { (mechanic_label(a.mechanic)) }
                                    td { (status_label(a.status)) }
                                    td.num { @if let Some(p) = a.promotion_price { (p) } }
                                    td.num { @if let Some(p) = a.seen_price { (p) } }
                                    td {
                                        @for (n, sha) in a.photos.iter().enumerate() {
                                            a href=(format!("/console/photos/{sha}")) { "Photo 照片 " (n + 1) } " "
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(title) = &r.success_picture {
            section aria-labelledby="success" {
                h2 #success { "Picture of success 成功图像: " (title) }
                div.table-scroll {
                    table.success {
                        thead { tr {
                            th { "Point 检查项" } th { "Weight 权重" } th { "Score 评分" } th { "Evidence 证据" }
                        } }
                        tbody {
                            @for p in &r.success_points {
                                tr data-point=(p.code) class=[(p.status != Some(ScoreStatus::Met)).then_some("finding")] {
                                    td { (p.label) }
                                    td.num { (p.weight) }
                                    td { (score_label(p.status)) }
                                    td {
                                        @for (n, sha) in p.photos.iter().enumerate() {
                                            a href=(format!("/console/photos/{sha}")) { "Photo 照片 " (n + 1) } " "
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (competitors::sightings_section(&r.competitor_sightings))
        section aria-labelledby="photos" {
            h2 #photos { "Photos 照片 (" (r.photos.len()) ")" }
            div.photos {
                @for (n, sha) in r.photos.iter().enumerate() {
                    figure {
                        a href=(format!("/console/photos/{sha}")) {
                            img src=(format!("/console/photos/{sha}/thumbnail")) alt=(format!("Shelf photo {} of {} on {}", n + 1, r.photos.len(), r.visit_date)) loading="lazy";
                        }
                    }
                }
            }
        }
    }
}

fn lines_table(class: &str, lines: &[ShelfLine]) -> Markup {
    html! {
        @if lines.is_empty() { p.muted { "None recorded. 无记录。" } }
        @else {
            div.table-scroll {
                table class=(format!("audit {class}")) {
                    thead { tr {
                        th { "SKU" } th { "Product 产品" } th { "Place 位置" } th { "Facings 排面" } th { "On shelf 在架" }
                        th { "Shelf price 货架价" } th { "Oldest produced 最早生产日期" } th { "Shelf units 货架数量" } th { "Back room 库房数量" }
                    } }
                    tbody {
                        @for l in lines {
                            tr data-sku=(l.sku) class=[(!l.on_shelf).then_some("finding")] {
                                td { (l.sku) }
                                td { (l.product.as_deref().unwrap_or("")) }
                                td { (l.location) }
                                td.num { (l.facings) }
                                td { @if l.on_shelf { "yes 是" } @else { strong { "OOS 缺货" } } }
                                td.num { @if let Some(p) = l.shelf_price { (p) } }
                                td { @if let Some(d) = l.oldest_production_date { (d) } }
                                td.num { @if let Some(u) = l.shelf_units { (u) } }
                                td.num { @if let Some(u) = l.backroom_units { (u) } }
                            }
                        }
                    }
                }
            }
        }
    }
}
