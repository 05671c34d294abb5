//! Weekly visit plans and the rep's weekly report for apps: generate the week offline, add,
//! move and remove stores, submit; approve or return a team member's plan; the week's figures
//! from the phone's own data. Thin wrappers over `fieldsync_client::Device`'s plan and report
//! operations (docs/plans.md, docs/reports.md).

use fieldsync_client::PlanSettings;
use fieldsync_shared::plan as shared_plan;
use fieldsync_shared::report::rep_weekly::RepWeekly;
use fieldsync_shared::{Date, ParseError, StoreId};

use crate::device::{doc_id, FieldsyncDevice};
use crate::error::{FieldsyncError, Result};
use crate::mirror::mirror_enum;

mirror_enum!(
    /// Lifecycle of a plan: draft -> submitted -> approved, or returned to the rep.
    PlanStatus = shared_plan::PlanStatus { Draft, Submitted, Approved, Returned }
);

mirror_enum!(
    /// Why a store is in the plan.
    PlanEntryReason = shared_plan::EntryReason { Due, Overdue, Manual }
);

/// One store of the week: its day and place in that day's route.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PlanEntry {
    pub store_id: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    /// 1-based place in the day's route.
    pub seq: u32,
    pub reason: PlanEntryReason,
    /// The rep added or moved it: regenerating leaves it where it is.
    pub pinned: bool,
}

/// A rep's plan for one ISO week.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Plan {
    pub id: String,
    pub person_id: String,
    /// `2026-W50`.
    pub week: String,
    pub status: PlanStatus,
    /// In route order: by day, then place.
    pub entries: Vec<PlanEntry>,
    /// Stores the rep took out of the week (regenerating does not put them back).
    pub removed_store_ids: Vec<String>,
    /// Length of the week's routes as last generated, in km.
    pub route_km: f64,
    pub generated_at_ms: Option<i64>,
    pub submitted_at_ms: Option<i64>,
    /// The supervisor's comment on the decision, if any.
    pub review_comment: Option<String>,
}

impl From<shared_plan::Plan> for Plan {
    fn from(p: shared_plan::Plan) -> Self {
        Plan {
            id: p.id.to_string(),
            person_id: p.person_id.to_string(),
            week: p.week.to_string(),
            status: p.status.into(),
            entries: p
                .ordered_entries()
                .into_iter()
                .map(|e| PlanEntry {
                    store_id: e.store_id.to_string(),
                    day: e.day.to_string(),
                    seq: e.seq,
                    reason: e.reason.into(),
                    pinned: e.pinned,
                })
                .collect(),
            removed_store_ids: p.removed_stores().iter().map(|s| s.to_string()).collect(),
            route_km: p.days.values().map(|d| d.length_km).sum(),
            generated_at_ms: p.generated_at.map(|t| t.millis()),
            submitted_at_ms: p.submitted_at.map(|t| t.millis()),
            review_comment: p
                .review
                .and_then(|r| r.comment)
                .map(|c| c.as_str().to_string()),
        }
    }
}

/// A generated week: the plan, and the due stores no working day had room for.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct GeneratedPlan {
    pub plan: Plan,
    pub unscheduled_store_ids: Vec<String>,
}

/// Audit lines of the week that found `code` (`stale_stock`, `out_of_stock`,
/// `shelf_price_below_floor`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WeeklyFinding {
    pub code: String,
    pub count: u32,
}

/// Work of the week still waiting: `visit_not_submitted`, `visit_rejected`,
/// `order_pending_approval` or `order_rejected`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OpenIssue {
    pub date: String,
    pub kind: String,
    pub doc_id: String,
    pub store_id: String,
}

/// The rep's weekly report from the phone's own data (the server's
/// `GET /v1/reports/rep-weekly` gives the same figures after a sync).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RepWeeklyReport {
    pub week: String,
    pub person_id: String,
    pub planned: u32,
    pub done: u32,
    pub planned_done: u32,
    pub unplanned: u32,
    pub orders: u32,
    /// Sum of the orders' totals, in minor units.
    pub amount_minor: i64,
    pub findings: Vec<WeeklyFinding>,
    pub open_issues: Vec<OpenIssue>,
}

impl From<RepWeekly> for RepWeeklyReport {
    fn from(r: RepWeekly) -> Self {
        RepWeeklyReport {
            week: r.week.to_string(),
            person_id: r.person_id.to_string(),
            planned: r.planned,
            done: r.done,
            planned_done: r.planned_done,
            unplanned: r.unplanned,
            orders: r.orders,
            amount_minor: r.amount.minor(),
            findings: r
                .findings
                .into_iter()
                .map(|(code, count)| WeeklyFinding { code, count })
                .collect(),
            open_issues: r
                .open_issues
                .into_iter()
                .map(|i| OpenIssue {
                    date: i.date.to_string(),
                    kind: i.kind,
                    doc_id: i.doc_id.to_string(),
                    store_id: i.store_id.to_string(),
                })
                .collect(),
        }
    }
}

fn parse_week(s: &str) -> Result<shared_plan::IsoWeek> {
    shared_plan::IsoWeek::parse(s.trim()).map_err(|e| ParseError::new("week", e.reason).into())
}

fn parse_store(s: &str) -> Result<StoreId> {
    StoreId::parse(s.trim()).map_err(|e| ParseError::new("store_id", e.reason).into())
}

fn parse_day(s: &str) -> Result<Date> {
    Date::parse(s.trim()).map_err(|e| ParseError::new("day", e.reason).into())
}

#[uniffi::export]
impl FieldsyncDevice {
    /// Generates (or regenerates) the signed-in rep's plan for `week` (`2026-W50`) offline,
    /// from the stores of their territory, their grades and the completed visits this phone
    /// holds, keeping the stores the rep added, moved or removed. `daily_capacity`: most
    /// stores a day (default 8); working days Monday to Friday.
    #[uniffi::method(default(daily_capacity = None))]
    pub fn generate_plan(
        &self,
        week: String,
        daily_capacity: Option<u32>,
    ) -> Result<GeneratedPlan> {
        let mut settings = PlanSettings::default();
        if let Some(capacity) = daily_capacity {
            if capacity == 0 {
                return Err(ParseError::new("daily_capacity", "must be at least 1").into());
            }
            settings.daily_capacity = capacity;
        }
        let (id, unscheduled) = self.device.generate_plan(parse_week(&week)?, &settings)?;
        Ok(GeneratedPlan {
            plan: self.device.plan(id)?.into(),
            unscheduled_store_ids: unscheduled.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// The signed-in user's plan for `week`, if this phone holds it.
    pub fn own_plan(&self, week: String) -> Result<Option<Plan>> {
        Ok(self.device.own_plan(parse_week(&week)?)?.map(Plan::from))
    }

    pub fn plan(&self, plan_id: String) -> Result<Plan> {
        Ok(self.device.plan(doc_id("plan_id", &plan_id)?)?.into())
    }

    /// Every plan on this phone (own and, for a supervisor, the team's), by week.
    pub fn plans(&self) -> Result<Vec<Plan>> {
        Ok(self.device.plans()?.into_iter().map(Plan::from).collect())
    }

    /// Adds a store of the territory on `day` (`YYYY-MM-DD`, in the plan's week) at place
    /// `seq` (1-based; past the end: last).
    pub fn add_plan_entry(
        &self,
        plan_id: String,
        store_id: String,
        day: String,
        seq: u32,
    ) -> Result<()> {
        Ok(self.device.add_plan_entry(
            doc_id("plan_id", &plan_id)?,
            parse_store(&store_id)?,
            parse_day(&day)?,
            seq,
        )?)
    }

    /// Moves a planned store to `day` at place `seq`.
    pub fn move_plan_entry(
        &self,
        plan_id: String,
        store_id: String,
        day: String,
        seq: u32,
    ) -> Result<()> {
        Ok(self.device.move_plan_entry(
            doc_id("plan_id", &plan_id)?,
            parse_store(&store_id)?,
            parse_day(&day)?,
            seq,
        )?)
    }

    /// Takes a store out of the week (regenerating does not put it back).
    pub fn remove_plan_entry(&self, plan_id: String, store_id: String) -> Result<()> {
        Ok(self
            .device
            .remove_plan_entry(doc_id("plan_id", &plan_id)?, parse_store(&store_id)?)?)
    }

    /// Sends the plan to the supervisor.
    pub fn submit_plan(&self, plan_id: String) -> Result<()> {
        Ok(self.device.submit_plan(doc_id("plan_id", &plan_id)?)?)
    }

    /// The supervisor (or manager) approves a submitted plan.
    #[uniffi::method(default(comment = None))]
    pub fn approve_plan(&self, plan_id: String, comment: Option<String>) -> Result<()> {
        Ok(self
            .device
            .approve_plan(doc_id("plan_id", &plan_id)?, comment.as_deref())?)
    }

    /// The supervisor (or manager) returns a submitted plan to the rep; a blank comment is
    /// `Invalid` (field `comment`).
    pub fn return_plan(&self, plan_id: String, comment: String) -> Result<()> {
        if comment.trim().is_empty() {
            return Err(FieldsyncError::required("comment"));
        }
        Ok(self
            .device
            .return_plan(doc_id("plan_id", &plan_id)?, &comment)?)
    }

    /// The signed-in rep's weekly report for `week`, from this phone's own data (offline).
    pub fn rep_weekly_report(&self, week: String) -> Result<RepWeeklyReport> {
        Ok(self.device.rep_weekly_report(parse_week(&week)?)?.into())
    }
}
