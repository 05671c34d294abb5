//! One visit: check-in and check-out with the plot of the store, the steps timeline, the audit
//! lines (freshness and price findings highlighted), the photos, the competitor sightings, the
//! notes, the review and the decision form, and the change history (who, which device, when
//! received). Loaded through the caller's read scope: outside it, 404.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

use fieldsync_shared::document::DocKind;
use fieldsync_shared::values::DocId;
use fieldsync_shared::visit::{GeoStamp, Visit, VisitStatus, VisitStep};

use super::auth::ConsoleUser;
use super::decisions::Outcome;
use super::directory::Directory;
use super::error::{ConsoleError, ConsoleResult};
use super::layout::{self, Section};
use super::{competitors, findings, plot, queue, shelf};
use crate::history::{history, ChangeAuthor, History, HistoryParams};
use crate::scope::named::{InScope, VisibleDocument};
use crate::scope::read_scope;
use crate::state::AppState;

/// `GET /console/visits/{id}`.
pub async fn visit_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> ConsoleResult<Response> {
    let id = DocId::parse(&id).map_err(|_| ConsoleError::NotFound)?;
    page_with_outcome(&state, &user, id, None).await
}

/// The visit as the caller may see it; 404 outside the scope.
async fn visible_visit(state: &AppState, user: &ConsoleUser, id: DocId) -> ConsoleResult<Visit> {
    let scope = read_scope(state.store.as_ref(), &user.principal).await?;
    let row = state
        .store
        .get_projected(user.principal.tenant_id, DocKind::Visit, id)
        .await?
        .filter(|r| scope.can_see(r.store_id, r.person_id))
        .ok_or(ConsoleError::NotFound)?;
    queue::visit_of(&row)
}

/// The visit page, with the outcome of a decision just made on it.
pub async fn page_with_outcome(
    state: &AppState,
    user: &ConsoleUser,
    id: DocId,
    outcome: Option<&Outcome>,
) -> ConsoleResult<Response> {
    let visit = visible_visit(state, user, id).await?;
    let directory = Directory::load(state, user.principal.tenant_id).await?;
    let history = history(
        State(state.clone()),
        InScope {
            principal: user.principal.clone(),
            object: VisibleDocument {
                id,
                kind: DocKind::Visit,
            },
        },
        Ok(Query(HistoryParams::default())),
    )
    .await?
    .0;
    let verdicts = findings::server_verdicts(state, user.principal.tenant_id, &[id]).await?;
    let local = findings::of_visit(&visit, &directory);
    let flags = findings::codes(&local, verdicts.get(&id).map_or(&[][..], Vec::as_slice));
    let status = if matches!(outcome, Some(Outcome::Refused(_))) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = directory.store_name(visit.store_id);
    let body = html! {
        main.visit {
            p { a href="/console/queue" { "← Review queue" } }
            h1 { (title) }
            p.meta {
                (directory.person_name(visit.person_id)) " · " (visit.planned_date) " · "
                span.status { (queue::status_label(visit.status)) } " · "
                a.shelf href=(format!("{}?at={}", shelf::page_path(visit.store_id), visit.planned_date)) { "The store's shelf over time 门店货架历史" }
            }
            div.visit-grid {
                section aria-labelledby="where" {
                    h2 #where { "Check-in and check-out 签到签退" }
                    @if let Some(store) = directory.store(visit.store_id) {
                        (plot::visit_plot(store, &visit))
                    }
                    (stamps(&visit, &directory))
                }
                (decision_panel(user, &visit, &directory, outcome))
            }
            section aria-labelledby="findings" {
                h2 #findings { "Flags 标记" }
                @if flags.is_empty() { p.muted { "Nothing flagged. 无异常。" } }
                @else {
                    ul.findings {
                        @for (code, message) in &flags {
                            li { span.flag { (findings::label(code)) } " " (message) }
                        }
                    }
                }
            }
            (steps(&visit, &directory))
            (audit(&visit, &directory))
            (photos(&visit))
            (competitors::sightings(&visit))
            section aria-labelledby="notes" {
                h2 #notes { "Notes 备注" }
                @let notes = visit.notes_text();
                @if notes.is_empty() { p.muted { "No notes." } }
                @else { p.notes { (notes) } }
            }
            (history_table(&history))
        }
    };
    Ok(layout::html_response(
        status,
        layout::page(user, Section::Visit, &title, body),
    ))
}

/// The decision panel after a decision (htmx answer on the visit page).
pub async fn decision_panel_after(
    state: &AppState,
    user: &ConsoleUser,
    id: DocId,
    outcome: &Outcome,
) -> ConsoleResult<Response> {
    let visit = visible_visit(state, user, id).await?;
    let directory = Directory::load(state, user.principal.tenant_id).await?;
    Ok(layout::fragment(decision_panel(
        user,
        &visit,
        &directory,
        Some(outcome),
    )))
}

fn decision_panel(
    user: &ConsoleUser,
    visit: &Visit,
    directory: &Directory,
    outcome: Option<&Outcome>,
) -> Markup {
    html! {
        section #decision aria-labelledby="review" {
            h2 #review { "Review 审核" }
            @if let Some(outcome) = outcome { (queue::outcome_note(outcome)) }
            @if let Some(review) = &visit.review {
                p.review {
                    strong { (queue::status_label(visit.status)) }
                    " by " (directory.person_name(review.by)) " · " (layout::time(review.at))
                }
                @if let Some(comment) = &review.comment { blockquote { (comment.as_str()) } }
            }
            @if visit.status == VisitStatus::Submitted {
                (queue::decision_form(user, visit.id, false))
            } @else if visit.review.is_none() {
                p.muted { (queue::status_label(visit.status)) }
            }
        }
    }
}

fn stamps(visit: &Visit, directory: &Directory) -> Markup {
    let store = directory.store(visit.store_id);
    let row = |label: &str, stamp: &Option<GeoStamp>| -> Markup {
        html! {
            tr {
                th scope="row" { (label) }
                @if let Some(s) = stamp {
                    td { (layout::time(s.at)) }
                    td { @if let Some(store) = store { (format!("{:.0} m", store.location.distance_m(&s.position))) } }
                    td { (format!("±{:.0} m", s.accuracy_m)) }
                    td {
                        @if let Some(store) = store {
                            @for f in findings::of_stamp(store, s) {
                                span.flag title=(f.message) { (findings::label(&f.code)) }
                            }
                        }
                    }
                } @else {
                    td colspan="4" { "—" }
                }
            }
        }
    };
    html! {
        table.stamps {
            thead { tr { th { "" } th { "Time 时间" } th { "From centre 距中心" } th { "Accuracy 精度" } th { "Flags 标记" } } }
            tbody {
                (row("In 签到", &visit.check_in))
                (row("Out 签退", &visit.check_out))
            }
        }
        @if let (Some(i), Some(o)) = (&visit.check_in, &visit.check_out) {
            p { "Time on site 在店时长: " strong { (layout::duration(o.at.millis() - i.at.millis())) } }
        }
    }
}

fn steps(visit: &Visit, directory: &Directory) -> Markup {
    html! {
        section aria-labelledby="steps" {
            h2 #steps { "Steps 拜访八步骤" }
            ol.timeline {
                @for step in VisitStep::ALL {
                    @let record = visit.steps.get(step.as_str());
                    li class=(match record { Some(r) if r.skipped_reason.is_some() => "skipped", Some(_) => "done", None => "open" }) {
                        span.step { (step_label(*step)) }
                        @match record {
                            Some(r) => {
                                span.when { (layout::time(r.at)) " · " (directory.person_name(r.by)) }
                                @if let Some(reason) = &r.skipped_reason { span.reason { "Skipped: " (reason.as_str()) } }
                            }
                            None => { span.when { "not done" } }
                        }
                    }
                }
            }
        }
    }
}

fn step_label(step: VisitStep) -> &'static str {
    match step {
        VisitStep::Prepare => "1 Prepare 准备",
        VisitStep::Greet => "2 Greet 打招呼",
        VisitStep::StoreCheck => "3 Store check 店内检查",
        VisitStep::Merchandise => "4 Merchandise 理货",
        VisitStep::SuggestedOrder => "5 Suggested order 建议订单",
        VisitStep::PresentOrder => "6 Present order 介绍订单",
        VisitStep::Debrief => "7 Debrief 总结",
        VisitStep::Admin => "8 Admin 行政",
    }
}

fn audit(visit: &Visit, directory: &Directory) -> Markup {
    let date = findings::audit_date(visit);
    html! {
        section aria-labelledby="audit" {
            h2 #audit { "Audit 陈列检查" }
            @if visit.audit.is_empty() { p.muted { "No audit lines." } }
            @else {
                div.table-scroll {
                    table.audit {
                        thead { tr {
                            th { "SKU" } th { "Product 产品" } th { "Place 位置" } th { "Facings 排面" }
                            th { "On shelf 在架" } th { "Shelf price 货架价" } th { "Oldest produced 最早生产日期" } th { "Findings 问题" }
                        } }
                        tbody {
                            @for line in visit.audit.values() {
                                @let found = findings::of_line(line, date, directory);
                                tr class=[(!found.is_empty()).then_some("finding")] {
                                    td { (line.sku) }
                                    td { (directory.product_name(&line.sku)) }
                                    td { (line.location) }
                                    td.num { (line.facings) }
                                    td { @if line.on_shelf { "yes 是" } @else { strong { "OOS 缺货" } } }
                                    td.num { @if let Some(p) = line.shelf_price { (p) } }
                                    td { @if let Some(d) = line.oldest_production_date { (d) } }
                                    td {
                                        @for f in &found {
                                            span.flag title=(f.message) { (findings::label(&f.code)) }
                                            " "
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
}

fn photos(visit: &Visit) -> Markup {
    html! {
        section aria-labelledby="photos" {
            h2 #photos { "Photos 照片 (" (visit.photos.len()) ")" }
            div.photos {
                @for (n, p) in visit.photos.values().enumerate() {
                    figure {
                        a href=(format!("/console/photos/{}", p.sha256)) {
                            img src=(format!("/console/photos/{}", p.sha256)) alt=(format!("Shelf photo {} of {}, {}", n + 1, visit.photos.len(), p.step.map_or("visit", |s| s.as_str()))) loading="lazy";
                        }
                        figcaption { (p.step.map_or("—", |s| s.as_str())) " · " (layout::time(p.taken_at)) }
                    }
                }
            }
        }
    }
}

fn history_table(history: &History) -> Markup {
    html! {
        section aria-labelledby="history" {
            h2 #history { "History 变更记录" }
            div.table-scroll {
                table.history {
                    thead { tr { th { "Received 接收" } th { "Who 人员" } th { "Device 设备" } th { "Change 变更" } } }
                    tbody {
                        @for e in &history.entries {
                            tr {
                                td { (e.received_at.map_or("—".to_string(), layout::time)) }
                                td { @match e.by {
                                    ChangeAuthor::Server => "server (policy)",
                                    ChangeAuthor::Unknown => "unknown",
                                    ChangeAuthor::Device => (e.username.as_deref().unwrap_or("—")),
                                } }
                                td { (e.device_name.as_deref().unwrap_or("—")) }
                                td { (e.message.as_deref().unwrap_or("")) " " span.muted { (e.fields.join(", ")) } }
                            }
                        }
                    }
                }
            }
            @if history.next.is_some() { p.muted { "Older changes first; later ones are in the API's history." } }
        }
    }
}
