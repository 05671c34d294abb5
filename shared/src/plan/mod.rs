//! Weekly visit plans: which stores a rep visits in an ISO week, on which day, in which order.
//!
//! * [`week`]: the ISO week a plan covers and the rep's working days.
//! * [`route`]: ordering one day's stops (nearest neighbour + 2-opt) and its length in km.
//! * [`generate`]: the planner — due stores by grade frequency, days, routes, and the rep's
//!   own changes kept on regeneration.
//!
//! Pure functions, run the same on the phone (from its master data and visit history) and on
//! the server.

pub mod generate;
pub mod route;
pub mod week;

pub use generate::{
    generate, DayRoute, EntryReason, GeneratedPlan, PinnedEntry, PlanRequest, PlanStore,
    PlannedEntry, VisitFrequency,
};
pub use week::{IsoWeek, WorkingDays};

#[cfg(test)]
mod tests;
