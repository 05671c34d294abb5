//! `POST /v1/plans/generate`: the caller's plan for a week, generated from their territory's
//! stores, each store's last completed visit and the tenant's visit frequency, and written as
//! a change of the server's own actor into the plan document (created if absent). What the rep
//! added, moved or removed is kept (the planner's pinned entries and removed stores), and the
//! write policy judges the result with the caller as the plan's author, exactly as if their
//! phone had made the edit: a submitted or approved plan is not regenerated.

// `DocumentError` is large (automerge's errors by value); one per request here.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;
use chrono::Weekday;
use serde::{Deserialize, Serialize};

use fieldsync_shared::document::{
    hydrate_plan, new_plan_document, server_actor, AnyDocument, DocKind,
};
use fieldsync_shared::plan::{IsoWeek, Plan, PlanDay, WorkingDays};
use fieldsync_shared::policy;
use fieldsync_shared::rules::plan::{generate, PlanRequest, TerritoryStore, VisitFrequency};
use fieldsync_shared::values::{DeviceId, Position, StoreId, Timestamp};

use crate::auth::Principal;
use crate::http::{ApiError, ApiResult, ErrorBody};
use crate::scope::read_scope;
use crate::state::AppState;
use crate::store::documents::{
    ChangeOrigin, CommitOutcome, DocumentWrite, ExpectedVersion, LoadedDocument, NewChange,
    PushCommit, StoredDocument,
};
use crate::sync::merge::open_stored_editable;
use crate::sync::policy::{editor_for, refusal_message, server_change};
use crate::sync::projection::project;

/// Most visits in one day a request may ask for.
const MAX_DAILY_CAPACITY: u32 = 50;
/// Visits per day when the request does not say.
const DEFAULT_DAILY_CAPACITY: u32 = 8;
/// Attempts when another write changes the plan between load and commit.
const ATTEMPTS: usize = 3;

/// What to plan: the week, and optionally the rep's working days, daily capacity and start.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// ISO week, e.g. `2026-W50`.
    pub week: String,
    /// Working days, `mon`..`sun`; default Monday to Friday.
    #[serde(default)]
    pub working_days: Option<Vec<String>>,
    /// Most visits in a day (1-50); default 8.
    #[serde(default)]
    pub daily_capacity: Option<u32>,
    /// Where each day starts (home or depot), `{lat, lon}`; routes start at their first store
    /// without it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub start: Option<Position>,
}

/// The plan as stored, with what the planner could not fit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GeneratedPlanBody {
    pub plan_id: String,
    /// The hydrated plan document.
    #[schema(value_type = Object)]
    pub plan: Plan,
    /// Stores due in the week for which no day had room.
    #[schema(value_type = Vec<String>)]
    pub unscheduled: Vec<StoreId>,
    /// Sum of the days' route lengths, km.
    pub total_km: f64,
}

/// Generate (or regenerate) the caller's visit plan for a week.
#[utoipa::path(
    post, path = "/v1/plans/generate", tag = "plans",
    request_body = GenerateRequest,
    responses(
        (status = 200, description = "the plan as stored (created or regenerated)", body = GeneratedPlanBody),
        (status = 400, description = "invalid_body: the week, days or capacity do not parse", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 403, description = "the write policy refuses: the caller may not plan, or the plan is submitted or approved", body = ErrorBody),
        (status = 409, description = "version_conflict: the plan kept changing; retry", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn generate_plan(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<GenerateRequest>, JsonRejection>,
) -> ApiResult<Json<GeneratedPlanBody>> {
    let Json(body) = body.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let settings = Settings::parse(&body)?;
    let tenant = principal.tenant_id;
    let scope = Arc::new(read_scope(state.store.as_ref(), &principal).await?);
    let territory: Vec<StoreId> = scope.org.territory_stores.iter().copied().collect();
    let stores = state.store.planning_stores(tenant, &territory).await?;
    let plan_id = Plan::doc_id(principal.user_id, settings.week);

    for _ in 0..ATTEMPTS {
        let loaded = state.store.load_documents(tenant, &[plan_id]).await?;
        let stored = match loaded.into_iter().next().map(|(_, l)| l) {
            Some(LoadedDocument::Found(stored)) => Some(stored),
            Some(LoadedDocument::OtherTenant) => return Err(ApiError::NotFound("plan")),
            _ => None,
        };
        let expected = stored.as_ref().map_or(ExpectedVersion::New, |s| {
            ExpectedVersion::Existing(s.version)
        });
        let input = Regeneration {
            stored,
            person: principal.user_id,
            settings: settings.clone(),
            stores: stores.clone(),
            scope_org: scope.org.clone(),
        };
        let outcome = tokio::task::spawn_blocking(move || input.run())
            .await
            .map_err(ApiError::internal)??;
        if outcome.changes.is_empty() {
            return Ok(Json(outcome.body));
        }
        let projection =
            project(&AnyDocument::Plan(outcome.body.plan.clone())).map_err(ApiError::internal)?;
        let commit = PushCommit {
            tenant_id: tenant,
            device_id: principal
                .device
                .as_ref()
                .map_or(DeviceId(uuid::Uuid::nil()), |d| d.device_id),
            user_id: principal.user_id,
            at: Timestamp::now(),
            documents: vec![DocumentWrite {
                doc_id: plan_id,
                kind: DocKind::Plan,
                expected,
                changes: outcome
                    .changes
                    .iter()
                    .map(|change| NewChange {
                        hash: change.hash().0,
                        bytes: change.raw_bytes().to_vec(),
                        origin: ChangeOrigin::Server,
                    })
                    .collect(),
                projection,
                heads: outcome.heads.clone(),
            }],
            // No shared rule judges a plan.
            findings: Vec::new(),
        };
        match state.store.commit_push(commit).await? {
            CommitOutcome::Committed(done) => {
                let last_seq = done.iter().map(|c| c.seq).max();
                state.feed_events.committed_locally(tenant, last_seq);
                return Ok(Json(outcome.body));
            }
            CommitOutcome::VersionConflict(_) => continue,
        }
    }
    Err(ApiError::Conflict {
        reason: "version_conflict",
        message: "the plan kept changing while it was generated; try again".into(),
    })
}

/// The request, parsed.
#[derive(Debug, Clone)]
struct Settings {
    week: IsoWeek,
    working_days: WorkingDays,
    daily_capacity: u32,
    start: Option<Position>,
}

impl Settings {
    fn parse(body: &GenerateRequest) -> ApiResult<Self> {
        let invalid = |m: String| ApiError::bad_request("invalid_body", m);
        let week = IsoWeek::parse(&body.week).map_err(|e| invalid(e.to_string()))?;
        let working_days = match &body.working_days {
            None => WorkingDays::default(),
            Some(days) => WorkingDays::new(
                days.iter()
                    .map(|d| {
                        d.parse::<Weekday>()
                            .map_err(|_| invalid(format!("{d:?} is not a day such as mon")))
                    })
                    .collect::<ApiResult<Vec<_>>>()?,
            ),
        };
        let daily_capacity = body.daily_capacity.unwrap_or(DEFAULT_DAILY_CAPACITY);
        if !(1..=MAX_DAILY_CAPACITY).contains(&daily_capacity) {
            return Err(invalid(format!(
                "daily_capacity must be 1 to {MAX_DAILY_CAPACITY}"
            )));
        }
        Ok(Settings {
            week,
            working_days,
            daily_capacity,
            start: body.start,
        })
    }
}

/// One attempt: the stored plan (if any) regenerated, judged and written as a server change.
struct Regeneration {
    stored: Option<StoredDocument>,
    person: fieldsync_shared::values::UserId,
    settings: Settings,
    stores: Vec<TerritoryStore>,
    scope_org: fieldsync_shared::org::OrgView,
}

struct Attempt {
    body: GeneratedPlanBody,
    /// The changes to store, in causal order (a new plan: its skeleton first); empty: nothing
    /// changed.
    changes: Vec<automerge::Change>,
    /// The plan's heads after them.
    heads: Vec<[u8; 32]>,
}

impl Regeneration {
    fn run(self) -> ApiResult<Attempt> {
        // A new plan starts from the skeleton every creator shares, so that the rep's phone
        // creating the same plan offline merges with this one.
        let mut doc = match &self.stored {
            Some(stored) => open_stored_editable(stored).map_err(ApiError::internal)?,
            None => new_plan_document(self.person, self.settings.week, server_actor())
                .map_err(ApiError::internal)?,
        };
        let mut changes: Vec<automerge::Change> = match &self.stored {
            Some(_) => Vec::new(),
            None => doc.get_changes(&[]),
        };
        let before = match &self.stored {
            Some(_) => Some(hydrate_plan(&doc).map_err(ApiError::internal)?),
            None => None,
        };
        let mut plan = before
            .clone()
            .unwrap_or_else(|| Plan::new(self.person, self.settings.week));
        let (pinned, removed) = (plan.pinned(), plan.removed_stores());
        let generated = generate(&PlanRequest {
            week: self.settings.week,
            stores: &self.stores,
            frequency: VisitFrequency::default(),
            working_days: &self.settings.working_days,
            daily_capacity: self.settings.daily_capacity,
            start: self.settings.start,
            pinned: &pinned,
            removed: &removed,
        });
        let unscheduled = generated.unscheduled;
        plan.apply(generated.entries, generated.days, Timestamp::now());

        let before = before.map(AnyDocument::Plan);
        let after = AnyDocument::Plan(plan.clone());
        // What the rep's phone would check before making this edit.
        let editor = editor_for(&self.scope_org, before.as_ref(), &after);
        let refusals = policy::check(&editor, before.as_ref(), &after);
        if !refusals.is_empty() {
            return Err(ApiError::forbidden(
                "write_refused",
                refusal_message(&refusals),
            ));
        }
        // The document's state now: the stored plan, or the new plan's skeleton.
        let current = match before {
            Some(before) => before,
            None => AnyDocument::Plan(hydrate_plan(&doc).map_err(ApiError::internal)?),
        };
        let change = server_change(&mut doc, &current, after, "plan generated".into())
            .map_err(ApiError::internal)?;
        match change {
            Some((change, _)) => changes.push(change),
            // Nothing to write: a new plan's skeleton alone is not stored.
            None => changes.clear(),
        }
        let total_km = plan.days.values().map(|d: &PlanDay| d.length_km).sum();
        let heads = doc.get_heads().iter().map(|h| h.0).collect();
        Ok(Attempt {
            body: GeneratedPlanBody {
                plan_id: plan.id.to_string(),
                plan,
                unscheduled,
                total_km,
            },
            changes,
            heads,
        })
    }
}
