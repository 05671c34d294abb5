//! Fieldsync for apps: the device library (`fieldsync-client`, with the shared business rules)
//! behind a uniffi interface, for Kotlin (Android), Swift (iOS) and Python (tests, tools). One
//! library carries everything a phone needs; it does not link the server's stack.
//!
//! * [`FieldsyncDevice`]: open a data directory, log in, work offline (visits, photos, orders,
//!   expenses, weekly plans and the rep's weekly report, supervisor reviews), sync now or in the background with a [`SyncObserver`] (and, for live
//!   push, a [`LiveObserver`]).
//! * [`FieldsyncError`]: the one error of the interface, converted from the device library's
//!   error in one place (`error.rs`); [`CallbackError`]: an exception of an app callback,
//!   reported to the app rather than lost.
//! * [`set_log_sink`]: the library's log lines to the app's logger ([`LogSink`]).
//!
//! Bindings: `scripts/bindings.sh`; guide: docs/mobile-bindings.md.

uniffi::setup_scaffolding!("fieldsync");

mod mirror;

mod background;
mod competitors;
mod device;
mod error;
mod expenses;
mod findings;
mod logging;
mod network;
mod plans;
mod promotions;
mod records;
mod review;
mod status;
mod stock;
mod success;
mod worker;

pub use background::{LiveChange, LiveEvent, LiveObserver, SyncObserver, SyncState};
pub use competitors::{CompetitorDisplay, CompetitorSighting, CompetitorSightingInput};
pub use device::FieldsyncDevice;
pub use error::{CallbackError, FieldsyncError, Finding, Severity};
pub use expenses::{Expense, ExpenseApprover, ExpenseInput, ExpenseStatus, ExpenseType};
pub use findings::{RecordedFinding, ServerFinding};
pub use logging::{set_log_sink, LogLevel, LogSink};
pub use network::{Connectivity, PhotoNetworks};
pub use plans::{
    GeneratedPlan, OpenIssue, Plan, PlanEntry, PlanEntryReason, PlanStatus, RepWeeklyReport,
    WeeklyFinding,
};
pub use promotions::{PromotionCheck, PromotionCheckStatus, PromotionMechanic, RunningPromotion};
pub use records::*;
pub use review::{OrderForApproval, VisitForReview};
pub use status::{SyncFailure, SyncStatus};
pub use success::{
    SuccessPicture, SuccessPoint, SuccessPointKind, SuccessScore, SuccessScoreStatus,
};
