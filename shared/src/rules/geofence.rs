//! Rule 1: check-in inside the store's geofence: distance <= radius + accuracy tolerance.
//! A mock location or an outside fix is recorded and flagged for the supervisor, not blocked.

use super::Verdict;
use crate::master::Store;
use crate::visit::GeoStamp;

/// How much of the fix's reported accuracy is credited, and its cap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeofenceTolerance {
    /// Reported accuracy above this (metres) is not credited beyond it.
    pub max_accuracy_credit_m: f64,
}

impl Default for GeofenceTolerance {
    fn default() -> Self {
        GeofenceTolerance { max_accuracy_credit_m: 100.0 }
    }
}

/// Findings (severity Flag) for a check-in or check-out fix: `outside_geofence`, `mock_location`.
pub fn check_position(store: &Store, stamp: &GeoStamp, tolerance: GeofenceTolerance) -> Verdict {
    todo!("{store:?} {stamp:?} {tolerance:?}")
}
