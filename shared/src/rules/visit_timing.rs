//! Rule 2: visit timing. Check-out after check-in; no overlapping visits for one person;
//! mandatory steps (and photos) done or skipped with a reason before check-out / submit.

use super::Verdict;
use crate::values::Timestamp;
use crate::visit::{Visit, VisitStep};

/// What a visit must contain before it can be checked out and submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRequirements {
    /// Steps that must be done or skipped with a reason.
    pub mandatory_steps: Vec<VisitStep>,
    /// Minimum number of shelf photos.
    pub min_photos: u32,
}

impl Default for VisitRequirements {
    /// All eight steps, at least one photo.
    fn default() -> Self {
        VisitRequirements { mandatory_steps: VisitStep::ALL.to_vec(), min_photos: 1 }
    }
}

/// Block findings if the visit cannot be checked out at `at`: `not_checked_in`,
/// `check_out_before_check_in`, `already_checked_out`, `step_missing` (one per missing step,
/// field `steps.<name>`), `photos_missing`.
pub fn check_out(visit: &Visit, at: Timestamp, req: &VisitRequirements) -> Verdict {
    todo!("{visit:?} {at:?} {req:?}")
}

/// Block findings if the visit cannot be submitted: must be checked out (`not_checked_out`) and
/// satisfy the check-out requirements.
pub fn submit(visit: &Visit, req: &VisitRequirements) -> Verdict {
    todo!("{visit:?} {req:?}")
}

/// Block finding `overlapping_visit` if `visit`'s [check-in, check-out or now] interval overlaps
/// any of `others` (the same person's other visits). Visits without check-in never overlap.
pub fn overlap(visit: &Visit, others: &[Visit], now: Timestamp) -> Verdict {
    todo!("{visit:?} {others:?} {now:?}")
}
