//! The review queue: the submitted visits the signed-in user may see (a supervisor: the
//! team's), oldest first, each with its store, person, time on site, distance from the
//! geofence centre, photo thumbnails and flags, and the decision form. Filters by person,
//! store, date and flag. Read through the same read scope as the API's listings.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use fieldsync_shared::document::DocKind;
use fieldsync_shared::values::{Date, DocId, StoreId, UserId};
use fieldsync_shared::visit::{Visit, VisitStatus};

use super::auth::ConsoleUser;
use super::decisions::Outcome;
use super::directory::Directory;
use super::error::{ConsoleError, ConsoleResult};
use super::layout::{self, Section};
use super::{csrf, findings};
use crate::http::ApiError;
use crate::scope::read_scope;
use crate::state::AppState;
use crate::store::documents::{ProjectedDocument, ProjectionFilter};
use crate::store::verdicts::FindingRecord;

/// Most visits one queue page lists.
const MAX_VISITS: u32 = 500;
/// Thumbnails shown per visit in the queue.
const THUMBNAILS: usize = 4;

/// The queue's filters as sent (empty fields are no filter).
#[derive(Debug, Default, Deserialize)]
pub struct QueueFilter {
    #[serde(default)]
    person: String,
    #[serde(default)]
    store: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    flag: String,
}

impl QueueFilter {
    fn query_string(&self) -> String {
        let pairs = [
            ("person", &self.person),
            ("store", &self.store),
            ("date", &self.date),
            ("flag", &self.flag),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", layout::urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `GET /console/queue`: the page, or (htmx) only the list.
pub async fn queue_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    Query(filter): Query<QueueFilter>,
) -> ConsoleResult<Response> {
    // Read before the listing: the live stream starts here, so nothing after it is missed.
    let head = state.store.feed_head(user.principal.tenant_id).await?.seq;
    let directory = Directory::load(&state, user.principal.tenant_id).await?;
    let scope = read_scope(state.store.as_ref(), &user.principal).await?;
    let bad = |what: &str| ApiError::bad_request("invalid_query", format!("{what} does not parse"));
    let date = match filter.date.trim() {
        "" => None,
        d => Some(Date::parse(d).map_err(|_| bad("date"))?),
    };
    let store_id = match filter.store.trim() {
        "" => None,
        s => Some(StoreId::parse(s).map_err(|_| bad("store"))?),
    };
    let person_id = match filter.person.trim() {
        "" => None,
        p => Some(UserId::parse(p).map_err(|_| bad("person"))?),
    };
    let rows = state
        .store
        .list_projected(
            user.principal.tenant_id,
            DocKind::Visit,
            &ProjectionFilter {
                store_id,
                person_id,
                from: date,
                to: date,
                status: Some(VisitStatus::Submitted.as_str()),
                after: None,
                limit: MAX_VISITS,
                visible: scope.visibility(),
            },
        )
        .await?;
    let mut visits = rows
        .iter()
        .map(visit_of)
        .collect::<ConsoleResult<Vec<Visit>>>()?;
    let ids: Vec<DocId> = visits.iter().map(|v| v.id).collect();
    let verdicts = findings::server_verdicts(&state, user.principal.tenant_id, &ids).await?;
    let verdicts_of = |id: &DocId| verdicts.get(id).map_or(&[][..], Vec::as_slice);
    if !filter.flag.is_empty() {
        visits.retain(|v| {
            let local = findings::of_visit(v, &directory);
            findings::codes(&local, verdicts_of(&v.id))
                .iter()
                .any(|(code, _)| filter.flag == "any" || *code == filter.flag)
        });
    }
    // Oldest first: the one waiting longest is reviewed first.
    visits.sort_by_key(|v| (v.planned_date, v.check_out.as_ref().map(|c| c.at), v.id));
    let list = list(&user, &directory, &visits, &verdicts, &filter);
    if layout::is_htmx(&headers) {
        return Ok(layout::fragment(list));
    }
    let people = directory.people_sorted(
        scope
            .org
            .team_members
            .iter()
            .chain(visits.iter().map(|v| &v.person_id).collect::<Vec<_>>()),
    );
    let stores: Vec<_> = directory
        .stores_sorted()
        .into_iter()
        .filter(|s| scope.can_see_store(s.id))
        .collect();
    let body = html! {
        main data-live=(format!("/console/live?after={head}")) {
            h1 { "Review queue 待审核" }
            form.filters method="get" action="/console/queue" hx-get="/console/queue" hx-target="#queue" hx-swap="outerHTML" hx-push-url="true" hx-trigger="change, submit" role="search" aria-label="Filter the queue" {
                label { "Person 人员"
                    select name="person" {
                        option value="" { "Everyone 全部" }
                        @for p in &people {
                            option value=(p.id) selected[filter.person == p.id.to_string()] { (p.display_name) }
                        }
                    }
                }
                label { "Store 门店"
                    select name="store" {
                        option value="" { "All stores 全部门店" }
                        @for s in &stores {
                            option value=(s.id) selected[filter.store == s.id.to_string()] { (s.name) }
                        }
                    }
                }
                label { "Date 日期"
                    input type="date" name="date" value=(filter.date);
                }
                label { "Flag 标记"
                    select name="flag" {
                        option value="" { "Any or none 全部" }
                        option value="any" selected[filter.flag == "any"] { "Flagged 有标记" }
                        @for (code, label) in findings::FLAGS {
                            option value=(code) selected[filter.flag == *code] { (label) }
                        }
                    }
                }
                button type="submit" { "Filter" }
            }
            p #live-note hidden role="status" {
                "New submissions arrived. 有新的提交。 "
                button type="button" hx-get=(format!("/console/queue?{}", filter.query_string())) hx-target="#queue" hx-swap="outerHTML" { "Show them" }
            }
            (list)
        }
    };
    Ok(layout::html_response(
        StatusCode::OK,
        layout::page(&user, Section::Queue, "Review queue", body),
    ))
}

/// The list, refreshed in place by filters and by live updates.
fn list(
    user: &ConsoleUser,
    directory: &Directory,
    visits: &[Visit],
    verdicts: &HashMap<DocId, Vec<FindingRecord>>,
    filter: &QueueFilter,
) -> Markup {
    let refresh = format!("/console/queue?{}", filter.query_string());
    html! {
        section #queue aria-live="polite" aria-label="Visits awaiting review" hx-get=(refresh) hx-trigger="live-refresh from:body" hx-swap="outerHTML" {
            p.count { (visits.len()) " visit(s) awaiting review, oldest first" }
            @if visits.is_empty() {
                p.empty { "Nothing to review. 暂无待审核拜访。" }
            }
            @for v in visits {
                (card(user, directory, v, verdicts.get(&v.id).map_or(&[][..], Vec::as_slice), None))
            }
        }
    }
}

/// One visit of the queue with its decision form; `outcome` after a decision made on it.
pub fn card(
    user: &ConsoleUser,
    directory: &Directory,
    visit: &Visit,
    verdicts: &[FindingRecord],
    outcome: Option<&Outcome>,
) -> Markup {
    let id = visit.id;
    let href = format!("/console/visits/{id}");
    let local = findings::of_visit(visit, directory);
    let flags = findings::codes(&local, verdicts);
    let on_site = match (&visit.check_in, &visit.check_out) {
        (Some(i), Some(o)) => layout::duration(o.at.millis() - i.at.millis()),
        _ => "—".to_string(),
    };
    let distance = findings::check_in_distance_m(visit, directory)
        .map_or("—".to_string(), |d| format!("{d:.0} m"));
    let decided = visit.status != VisitStatus::Submitted;
    html! {
        article.card #(format!("visit-{id}")) data-href=(href) tabindex="0" aria-label=(format!("Visit at {} by {}", directory.store_name(visit.store_id), directory.person_name(visit.person_id))) {
            div.card-main {
                h2 { a href=(href) { (directory.store_name(visit.store_id)) } }
                p.meta { (directory.person_name(visit.person_id)) " · " (visit.planned_date) }
                dl.facts {
                    dt { "On site 在店" } dd { (on_site) }
                    dt { "From centre 距中心" } dd { (distance) }
                    dt { "Photos 照片" } dd { (visit.photos.len()) }
                }
                @if !flags.is_empty() {
                    ul.flags aria-label="Flags" {
                        @for (code, message) in &flags {
                            li.flag title=(message) { (findings::label(code)) }
                        }
                    }
                }
            }
            div.thumbs {
                @for (n, p) in visit.photos.values().take(THUMBNAILS).enumerate() {
                    a href=(format!("/console/photos/{}", p.sha256)) {
                        img src=(format!("/console/photos/{}/thumbnail", p.sha256)) alt=(format!("Shelf photo {} of {}", n + 1, visit.photos.len())) loading="lazy" width="96" height="96";
                    }
                }
            }
            div.card-decision {
                @if let Some(outcome) = outcome {
                    (outcome_note(outcome))
                }
                @if decided {
                    p.decided { (status_label(visit.status)) }
                } @else {
                    (decision_form(user, id, true))
                }
            }
        }
    }
}

/// The approve / reject form of a submitted visit (`compact` in the queue).
pub fn decision_form(user: &ConsoleUser, id: DocId, compact: bool) -> Markup {
    let action = format!("/console/visits/{id}/decision");
    let target = if compact {
        format!("#visit-{id}")
    } else {
        "#decision".to_string()
    };
    let comment_id = format!("comment-{id}");
    html! {
        form.decision method="post" action=(action) hx-post=(action) hx-target=(target) hx-swap="outerHTML" {
            input type="hidden" name=(csrf::FIELD) value=(user.csrf_token);
            @if compact { input type="hidden" name="from" value="queue"; }
            label for=(comment_id) { "Comment 评语" }
            textarea #(comment_id) name="comment" rows=(if compact { "1" } else { "3" }) maxlength="500" placeholder="Required to reject 驳回须填写" {}
            div.buttons {
                button.approve type="submit" name="action" value="approve" data-shortcut="a" { "Approve 通过" }
                button.reject type="submit" name="action" value="reject" data-shortcut="r" { "Reject 驳回" }
            }
        }
    }
}

/// What came of a decision, as a note.
pub fn outcome_note(outcome: &Outcome) -> Markup {
    match outcome {
        Outcome::Stored(message) => html! { p.ok role="status" { (message) } },
        Outcome::Refused(message) => html! { p.error role="alert" { "Refused: " (message) } },
    }
}

/// A visit status for people.
pub fn status_label(status: VisitStatus) -> &'static str {
    match status {
        VisitStatus::Planned => "Planned 计划",
        VisitStatus::InProgress => "In progress 进行中",
        VisitStatus::CheckedOut => "Checked out 已签退",
        VisitStatus::Submitted => "Submitted 待审核",
        VisitStatus::Approved => "Approved 已通过",
        VisitStatus::Rejected => "Rejected 已驳回",
    }
}

/// The queue card of visit `id` after a decision made on it (htmx answer).
pub async fn card_after_decision(
    state: &AppState,
    user: &ConsoleUser,
    id: DocId,
    outcome: &Outcome,
) -> ConsoleResult<Response> {
    let directory = Directory::load(state, user.principal.tenant_id).await?;
    let row = state
        .store
        .get_projected(user.principal.tenant_id, DocKind::Visit, id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let visit = visit_of(&row)?;
    let verdicts = findings::server_verdicts(state, user.principal.tenant_id, &[id]).await?;
    let of_visit = verdicts.get(&id).map_or(&[][..], Vec::as_slice);
    Ok(layout::fragment(card(
        user,
        &directory,
        &visit,
        of_visit,
        Some(outcome),
    )))
}

/// The visit a projection holds.
pub fn visit_of(row: &ProjectedDocument) -> ConsoleResult<Visit> {
    serde_json::from_str(&row.document_json).map_err(|e| ConsoleError::Api(ApiError::internal(e)))
}
