//! Weekly visit plans: the plan document, one per rep and ISO week, which the rep edits offline
//! and the supervisor approves or returns.
//!
//! * [`week`]: the ISO week a plan covers and the rep's working days.
//! * [`document`]: the plan document and the rep's edits of it (add, move, remove entries).
//!
//! The planner that fills a plan (due stores by grade frequency, days, routes) is a rule:
//! [`crate::rules::plan`].

pub mod document;
pub mod week;

pub use document::{
    EntryReason, Plan, PlanDay, PlanDecision, PlanEditError, PlanEntry, PlanReview, PlanStatus,
};
pub use week::{IsoWeek, WorkingDays};

#[cfg(test)]
mod document_tests;
