//! Weekly visit plans on the phone: generate the week offline (the shared planner over the
//! device's master data and visit history), add, move and remove entries, submit; approve or
//! return a team member's plan. Every edit goes through the shared write policy like visits
//! and orders (`edits::edit`), and syncs like them.

use fieldsync_shared::plan::{IsoWeek, Plan, PlanDecision, PlanReview, PlanStatus, WorkingDays};
use fieldsync_shared::rules::plan::{generate, PlanRequest, TerritoryStore, VisitFrequency};
use fieldsync_shared::values::{Date, DocId, Position, ShortText, StoreId, Timestamp};
use fieldsync_shared::visit::{Visit, VisitStatus};
use fieldsync_shared::DocKind;

use super::Device;
use crate::edits;
use crate::error::{DeviceError, Result};
use crate::store;

/// How to plan a week on the phone.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSettings {
    pub working_days: WorkingDays,
    pub daily_capacity: u32,
    pub start: Option<Position>,
    pub frequency: VisitFrequency,
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            working_days: WorkingDays::default(),
            daily_capacity: 8,
            start: None,
            frequency: VisitFrequency::default(),
        }
    }
}

/// Visit statuses that count as a completed visit for the planner.
const DONE: [VisitStatus; 3] = [
    VisitStatus::CheckedOut,
    VisitStatus::Submitted,
    VisitStatus::Approved,
];

impl Device {
    /// The signed-in user's plan for `week`, if this device holds it.
    pub fn own_plan(&self, week: IsoWeek) -> Result<Option<Plan>> {
        let me = store::require_profile(&self.db.lock())?.id;
        self.plan_if_present(Plan::doc_id(me, week))
    }

    pub fn plan(&self, id: DocId) -> Result<Plan> {
        edits::read(&self.db, id)
    }

    /// Every plan on this device (own and, for a supervisor, the team's), by week.
    pub fn plans(&self) -> Result<Vec<Plan>> {
        let mut plans: Vec<Plan> = edits::read_all(&self.db)?;
        plans.sort_by_key(|p| (p.week, p.person_id));
        Ok(plans)
    }

    /// Generates (or regenerates) the signed-in user's plan for `week` from the stores of
    /// their territory and the completed visits this device holds, keeping what they added,
    /// moved or removed. Returns the plan's id and the due stores no day had room for.
    pub fn generate_plan(
        &self,
        week: IsoWeek,
        settings: &PlanSettings,
    ) -> Result<(DocId, Vec<StoreId>)> {
        let (me, territory) = {
            let conn = self.db.lock();
            let profile = store::require_profile(&conn)?;
            let org = edits::org_view_for(&conn, &profile)?;
            (profile.id, org.territory_stores)
        };
        let visits: Vec<Visit> = edits::read_all(&self.db)?;
        let stores: Vec<TerritoryStore> = self
            .stores()?
            .into_iter()
            .filter(|s| territory.contains(&s.id))
            .map(|s| TerritoryStore {
                store_id: s.id,
                grade: s.grade,
                location: s.location,
                last_visit: visits
                    .iter()
                    .filter(|v| v.store_id == s.id && DONE.contains(&v.status))
                    .map(|v| v.planned_date)
                    .max(),
            })
            .collect();
        let id = Plan::doc_id(me, week);
        let existing = self.plan_if_present(id)?;
        let base = existing.clone().unwrap_or_else(|| Plan::new(me, week));
        let (pinned, removed) = (base.pinned(), base.removed_stores());
        let generated = generate(&PlanRequest {
            week,
            stores: &stores,
            frequency: settings.frequency,
            working_days: &settings.working_days,
            daily_capacity: settings.daily_capacity,
            start: settings.start,
            pinned: &pinned,
            removed: &removed,
        });
        let unscheduled = generated.unscheduled.clone();
        let now = Timestamp::now();
        match existing {
            Some(_) => self.edit_plan(id, "generate plan", move |p| {
                p.apply(generated.entries, generated.days, now);
                Ok(())
            })?,
            None => {
                let mut plan = base;
                plan.apply(generated.entries, generated.days, now);
                self.create_plan(&plan)?;
            }
        }
        Ok((id, unscheduled))
    }

    /// Adds `store` to the plan on `day` at place `seq` (1-based).
    pub fn add_plan_entry(&self, plan: DocId, store: StoreId, day: Date, seq: u32) -> Result<()> {
        self.edit_plan(plan, "add plan entry", |p| {
            p.add_entry(store, day, seq).map_err(invalid)
        })
    }

    /// Moves the entry of `store` to `day` at place `seq`; regeneration keeps it there.
    pub fn move_plan_entry(&self, plan: DocId, store: StoreId, day: Date, seq: u32) -> Result<()> {
        self.edit_plan(plan, "move plan entry", |p| {
            p.move_entry(store, day, seq).map_err(invalid)
        })
    }

    /// Takes `store` out of the plan; regeneration does not put it back.
    pub fn remove_plan_entry(&self, plan: DocId, store: StoreId) -> Result<()> {
        self.edit_plan(plan, "remove plan entry", |p| {
            p.remove_entry(store).map_err(invalid)
        })
    }

    /// Sends the plan to the supervisor.
    pub fn submit_plan(&self, plan: DocId) -> Result<()> {
        self.edit_plan(plan, "submit plan", |p| {
            p.status = PlanStatus::Submitted;
            p.submitted_at = Some(Timestamp::now());
            Ok(())
        })
    }

    /// The supervisor (or manager) approves a submitted plan.
    pub fn approve_plan(&self, plan: DocId, comment: Option<&str>) -> Result<()> {
        self.decide_plan(plan, PlanDecision::Approved, comment)
    }

    /// The supervisor (or manager) returns a submitted plan to the rep; a comment is required.
    pub fn return_plan(&self, plan: DocId, comment: &str) -> Result<()> {
        self.decide_plan(plan, PlanDecision::Returned, Some(comment))
    }

    fn decide_plan(
        &self,
        plan: DocId,
        decision: PlanDecision,
        comment: Option<&str>,
    ) -> Result<()> {
        let me = store::require_profile(&self.db.lock())?.id;
        let comment = comment
            .filter(|c| !c.trim().is_empty())
            .map(ShortText::parse)
            .transpose()?;
        self.edit_plan(plan, "review plan", move |p| {
            p.status = match decision {
                PlanDecision::Approved => PlanStatus::Approved,
                PlanDecision::Returned => PlanStatus::Returned,
            };
            p.review = Some(PlanReview {
                decision,
                comment,
                by: me,
                at: Timestamp::now(),
            });
            Ok(())
        })
    }

    fn plan_if_present(&self, id: DocId) -> Result<Option<Plan>> {
        match edits::read(&self.db, id) {
            Ok(plan) => Ok(Some(plan)),
            Err(DeviceError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn create_plan(&self, plan: &Plan) -> Result<()> {
        let mut conn = self.db.lock();
        let profile = store::require_profile(&conn)?;
        edits::authorize(&conn, &profile, None, plan)?;
        let mut doc = fieldsync_shared::document::new_plan_document(
            plan.person_id,
            plan.week,
            self.db.actor().clone(),
        )?;
        edits::commit(
            &mut conn,
            plan.id,
            DocKind::Plan,
            &mut doc,
            "create plan",
            |_, doc| Ok(fieldsync_shared::document::reconcile_plan(doc, plan)?),
        )
    }

    fn edit_plan(
        &self,
        id: DocId,
        message: &str,
        change: impl FnOnce(&mut Plan) -> Result<()>,
    ) -> Result<()> {
        edits::edit(
            &self.db,
            id,
            message,
            |_, _, p: &mut Plan| change(p),
            |_| Ok(()),
        )
    }
}

fn invalid(e: fieldsync_shared::plan::PlanEditError) -> DeviceError {
    DeviceError::InvalidInput(fieldsync_shared::ParseError::new(
        "plan entry",
        e.to_string(),
    ))
}
