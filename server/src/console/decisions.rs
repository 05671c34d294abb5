//! Approve / reject a visit, approve / decline an order: each decision is an ordinary edit of
//! the document, written as an Automerge change under the actor of the supervisor's console
//! session and pushed through the same merge and write policy as a phone's sync
//! (`sync::push`). Like a phone, the console first runs the write policy itself and stores
//! nothing it would refuse, so a refused decision is answered with the policy's message and
//! leaves no trace; the push then judges the change again on the server's side.

use std::sync::Arc;

use automerge::transaction::CommitOptions;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use fieldsync_shared::document::{
    hydrate_any, reconcile_expense, reconcile_order, reconcile_plan, reconcile_visit, AnyDocument,
    DocKind,
};
use fieldsync_shared::master::UserProfile;
use fieldsync_shared::order::OrderStatus;
use fieldsync_shared::policy;
use fieldsync_shared::protocol::{DocPush, PushResult};
use fieldsync_shared::values::{DocId, ShortText, Timestamp};
use fieldsync_shared::visit::{Review, ReviewDecision, VisitStatus};

use super::auth::ConsoleUser;
use super::error::{ConsoleError, ConsoleResult};
use super::{layout, orders, queue, visit};
use crate::http::ApiError;
use crate::scope::{read_scope, ReadScope};
use crate::state::AppState;
use crate::store::documents::LoadedDocument;
use crate::sync::merge::open_stored_editable;
use crate::sync::policy::editor_for;
use crate::sync::push::{push, PushContext};

/// What came of a decision, shown where it was made.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Stored: the decision is in the document and on its way to the devices.
    Stored(String),
    /// Refused by the write policy (or the push); nothing stored.
    Refused(String),
}

/// A decision form as posted (from the visit page, the queue, or the orders page).
#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    csrf: String,
    /// `queue` when posted from a queue card (the answer is that card).
    #[serde(default)]
    from: String,
}

/// `POST /console/visits/{id}/decision`: `action` `approve` or `reject`, with `comment`.
#[tracing::instrument(skip_all, fields(user = %user.principal.user_id, visit = %id))]
pub async fn decide_visit(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<DecisionForm>,
) -> ConsoleResult<Response> {
    user.check_csrf(Some(&form.csrf), &headers)?;
    let id = DocId::parse(&id).map_err(|_| ConsoleError::NotFound)?;
    let scope = Arc::new(read_scope(state.store.as_ref(), &user.principal).await?);
    let (status, decision) = match form.action.as_str() {
        "approve" => (VisitStatus::Approved, ReviewDecision::Approved),
        "reject" => (VisitStatus::Rejected, ReviewDecision::Rejected),
        _ => {
            return Err(
                ApiError::bad_request("invalid_body", "action must be approve or reject").into(),
            )
        }
    };
    let comment = form.comment.trim().to_string();
    let outcome = decide(
        &state,
        &user,
        &scope,
        id,
        DocKind::Visit,
        move |doc, profile| {
            let AnyDocument::Visit(v) = doc else {
                return Err("not a visit".into());
            };
            let comment = match comment.as_str() {
                "" => None,
                text => Some(ShortText::parse(text).map_err(|e| format!("comment: {e}"))?),
            };
            v.status = status;
            v.review = Some(Review {
                decision,
                comment,
                by: profile.id,
                at: Timestamp::now(),
            });
            Ok(format!("{} visit", form.action))
        },
    )
    .await?;
    if layout::is_htmx(&headers) {
        return if form.from == "queue" {
            queue::card_after_decision(&state, &user, id, &outcome).await
        } else {
            visit::decision_panel_after(&state, &user, id, &outcome).await
        };
    }
    match outcome {
        Outcome::Stored(_) => Ok(Redirect::to(&format!("/console/visits/{id}")).into_response()),
        Outcome::Refused(_) => visit::page_with_outcome(&state, &user, id, Some(&outcome)).await,
    }
}

/// `POST /console/orders/{id}/decision`: `action` `approve` or `decline`; a decline's reason
/// (`comment`) is appended to the order's notes, as the device does.
#[tracing::instrument(skip_all, fields(user = %user.principal.user_id, order = %id))]
pub async fn decide_order(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<DecisionForm>,
) -> ConsoleResult<Response> {
    user.check_csrf(Some(&form.csrf), &headers)?;
    let id = DocId::parse(&id).map_err(|_| ConsoleError::NotFound)?;
    let scope = Arc::new(read_scope(state.store.as_ref(), &user.principal).await?);
    let approve = match form.action.as_str() {
        "approve" => true,
        "decline" => false,
        _ => {
            return Err(
                ApiError::bad_request("invalid_body", "action must be approve or decline").into(),
            )
        }
    };
    let reason = form.comment.trim().to_string();
    if !approve && reason.is_empty() {
        let outcome =
            Outcome::Refused("Give a reason for declining the order. 请填写拒绝原因。".into());
        return orders::card_after_decision(&state, &user, id, &outcome).await;
    }
    let outcome = decide(
        &state,
        &user,
        &scope,
        id,
        DocKind::Order,
        move |doc, profile| {
            let AnyDocument::Order(o) = doc else {
                return Err("not an order".into());
            };
            if approve {
                o.status = OrderStatus::Approved;
                return Ok("approve order".into());
            }
            o.status = OrderStatus::Rejected;
            let existing = o.notes.as_str();
            let line = format!(
                "Rejected by {} ({}): {reason}",
                profile.display_name, profile.code
            );
            let insert = if existing.is_empty() || existing.ends_with('\n') {
                line
            } else {
                format!("\n{line}")
            };
            let end = existing.len();
            o.notes.splice(end, 0, insert);
            Ok("reject order".into())
        },
    )
    .await?;
    orders::card_after_decision(&state, &user, id, &outcome).await
}

/// Loads document `id` (404 outside the caller's scope), applies `edit` under the console
/// session's actor, checks the write policy, and pushes the change as the session's device.
async fn decide<F>(
    state: &AppState,
    user: &ConsoleUser,
    scope: &Arc<ReadScope>,
    id: DocId,
    kind: DocKind,
    edit: F,
) -> ConsoleResult<Outcome>
where
    F: FnOnce(&mut AnyDocument, &UserProfile) -> Result<String, String> + Send + 'static,
{
    let principal = &user.principal;
    let device = principal.device.clone().ok_or(ConsoleError::SignIn)?;
    let row = state
        .store
        .get_projected(principal.tenant_id, kind, id)
        .await?
        .filter(|r| scope.can_see(r.store_id, r.person_id))
        .ok_or(ConsoleError::NotFound)?;
    let loaded = state
        .store
        .load_documents(principal.tenant_id, &[row.doc_id])
        .await?;
    let Some((_, LoadedDocument::Found(stored))) = loaded.into_iter().next() else {
        return Err(ConsoleError::NotFound);
    };
    let actor = device.actor.clone();
    let org = scope.org.clone();
    let profile = user.profile.clone();
    let change =
        tokio::task::spawn_blocking(move || -> Result<Result<Vec<u8>, String>, ApiError> {
            let mut doc = open_stored_editable(&stored).map_err(ApiError::internal)?;
            doc.set_actor(actor);
            let before = hydrate_any(kind, &doc).map_err(ApiError::internal)?;
            let mut after = before.clone();
            let message = match edit(&mut after, &profile) {
                Ok(m) => m,
                Err(e) => return Ok(Err(e)),
            };
            // What a device checks before committing a local edit: the same write policy.
            let editor = editor_for(&org, Some(&before), &after);
            let refusals = policy::check(&editor, Some(&before), &after);
            if !refusals.is_empty() {
                return Ok(Err(refusals
                    .iter()
                    .map(|r| r.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ")));
            }
            match &after {
                AnyDocument::Visit(v) => reconcile_visit(&mut doc, v),
                AnyDocument::Order(o) => reconcile_order(&mut doc, o),
                AnyDocument::Plan(p) => reconcile_plan(&mut doc, p),
                AnyDocument::Expense(e) => reconcile_expense(&mut doc, e),
            }
            .map_err(ApiError::internal)?;
            let options = CommitOptions::default()
                .with_message(format!("console: {message}"))
                .with_time(Timestamp::now().millis() / 1000);
            let Some(hash) = doc.commit_with(options) else {
                return Ok(Err("nothing to change".into()));
            };
            let change = doc
                .get_change_by_hash(&hash)
                .ok_or_else(|| ApiError::internal("the committed change is missing"))?;
            Ok(Ok(change.raw_bytes().to_vec()))
        })
        .await
        .map_err(ApiError::internal)??;
    let bytes = match change {
        Ok(bytes) => bytes,
        Err(message) => {
            tracing::info!(%message, "console decision refused by the write policy");
            return Ok(Outcome::Refused(message));
        }
    };
    let ctx = PushContext {
        tenant_id: principal.tenant_id,
        user_id: principal.user_id,
        device_id: device.device_id,
        actor: device.actor,
        scope: Arc::clone(scope),
        limits: state.config.documents.limits(),
        cross_device: crate::verdicts::Limits::for_tenant(
            &state.config.verdicts,
            principal.tenant_id,
        ),
        receipts: state.tokens.receipts().clone(),
    };
    let report = push(
        state.store.as_ref(),
        &ctx,
        vec![DocPush {
            doc_id: id,
            kind: kind.as_str().to_string(),
            changes: vec![bytes.into()],
            receipt: None,
        }],
    )
    .await?;
    // As after a device's sync: tell live subscribers and the other instances' listeners.
    let last_seq = report.committed.iter().map(|c| c.seq).max();
    state
        .feed_events
        .committed_locally(principal.tenant_id, last_seq);
    let result = report.outcomes.into_iter().next().map(|o| o.result);
    Ok(match result {
        Some(PushResult::Stored { refused_edits, .. }) if refused_edits.is_empty() => {
            Outcome::Stored("Saved; the rep's device receives it with its next sync.".into())
        }
        Some(PushResult::Stored { refused_edits, .. }) => Outcome::Refused(
            refused_edits
                .iter()
                .map(|r| r.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Some(PushResult::Refused { message, .. }) => Outcome::Refused(message),
        Some(PushResult::MissingDeps) | None => {
            return Err(ApiError::internal("a console change was not stored").into())
        }
    })
}
