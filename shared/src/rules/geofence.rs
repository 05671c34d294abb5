//! Rule 1: check-in inside the store's geofence: distance <= radius + accuracy tolerance.
//! A mock location or an outside fix is recorded and flagged for the supervisor, not blocked.

use super::{Finding, RuleId, Severity, Verdict};
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
        GeofenceTolerance {
            max_accuracy_credit_m: 100.0,
        }
    }
}

/// Findings (severity Flag) for a check-in or check-out fix: `outside_geofence`, `mock_location`.
///
/// Inside when `distance <= radius + min(accuracy, max_accuracy_credit_m)`; a negative or NaN
/// accuracy earns no credit. A mocked fix is flagged whether inside or not.
pub fn check_position(store: &Store, stamp: &GeoStamp, tolerance: GeofenceTolerance) -> Verdict {
    let mut findings = Vec::new();
    let distance = store.location.distance_m(&stamp.position);
    // f64::max ignores NaN, so a NaN accuracy becomes 0 credit.
    let credit = stamp
        .accuracy_m
        .max(0.0)
        .min(tolerance.max_accuracy_credit_m);
    let allowed = f64::from(store.geofence_radius_m) + credit;
    if distance > allowed {
        findings.push(
            Finding::new(
                RuleId::Geofence,
                Severity::Flag,
                "outside_geofence",
                format!(
                    "position is {distance:.0} m from the store, more than the {allowed:.0} m allowed"
                ),
            )
            .input("distance_m", format!("{distance:.1}"))
            .input("radius_m", store.geofence_radius_m)
            .input("accuracy_m", stamp.accuracy_m)
            .input("accuracy_credit_m", credit)
            .input("lat", stamp.position.lat())
            .input("lon", stamp.position.lon()),
        );
    }
    if stamp.mocked {
        findings.push(
            Finding::new(
                RuleId::Geofence,
                Severity::Flag,
                "mock_location",
                "the phone reported a mock location provider",
            )
            .input("mocked", true)
            .input("distance_m", format!("{distance:.1}"))
            .input("lat", stamp.position.lat())
            .input("lon", stamp.position.lon()),
        );
    }
    Verdict::from_findings(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;
    use crate::testkit::{pos, stamp, store, STORE_LAT, STORE_LON};

    fn codes(v: &Verdict) -> Vec<&str> {
        v.findings.iter().map(|f| f.code.as_str()).collect()
    }

    /// A fix about 150 m north of the store, its exact distance, and a stamp with `accuracy_m`.
    fn fix_150m_north(accuracy_m: f64) -> (GeoStamp, f64) {
        let p = pos(STORE_LAT + 0.00135, STORE_LON);
        let d = store().location.distance_m(&p);
        assert!((149.0..152.0).contains(&d), "{d}");
        (
            GeoStamp {
                accuracy_m,
                ..stamp(0, p)
            },
            d,
        )
    }

    #[test]
    fn at_the_store_is_inside() {
        let s = store();
        let v = check_position(&s, &stamp(0, s.location), GeofenceTolerance::default());
        assert!(v.findings.is_empty());
    }

    #[test]
    fn boundary_is_radius_plus_accuracy() {
        let s = store(); // radius 100 m
        let (_, d) = fix_150m_north(0.0);
        // d - 100 is exact (Sterbenz), so 100 + (d - 100) == d exactly.
        let exact = d - 100.0;
        for (accuracy, outside) in [(exact + 0.01, false), (exact, false), (exact - 0.01, true)] {
            let (st, _) = fix_150m_north(accuracy);
            let v = check_position(&s, &st, GeofenceTolerance::default());
            assert_eq!(!v.findings.is_empty(), outside, "accuracy {accuracy}");
        }
    }

    #[test]
    fn outside_fix_is_flagged_with_its_inputs() {
        let (st, d) = fix_150m_north(20.0);
        let v = check_position(&store(), &st, GeofenceTolerance::default());
        assert_eq!(codes(&v), ["outside_geofence"]);
        let f = &v.findings[0];
        assert_eq!(f.severity, Severity::Flag);
        assert_eq!(f.rule, RuleId::Geofence);
        assert!(!v.is_blocked() && !v.needs_approval());
        assert_eq!(f.inputs["distance_m"], format!("{d:.1}"));
        assert_eq!(f.inputs["radius_m"], "100");
        assert_eq!(f.inputs["accuracy_m"], "20");
        assert_eq!(f.inputs["accuracy_credit_m"], "20");
    }

    #[test]
    fn accuracy_credit_is_capped() {
        let (st, _) = fix_150m_north(1000.0);
        let capped = GeofenceTolerance {
            max_accuracy_credit_m: 40.0,
        };
        let v = check_position(&store(), &st, capped);
        assert_eq!(codes(&v), ["outside_geofence"]);
        assert_eq!(v.findings[0].inputs["accuracy_credit_m"], "40");
        let generous = GeofenceTolerance {
            max_accuracy_credit_m: 60.0,
        };
        assert!(check_position(&store(), &st, generous).findings.is_empty());
    }

    #[test]
    fn negative_or_nan_accuracy_earns_no_credit() {
        for accuracy in [-500.0, f64::NAN] {
            let (st, _) = fix_150m_north(accuracy);
            let v = check_position(&store(), &st, GeofenceTolerance::default());
            assert_eq!(codes(&v), ["outside_geofence"], "{accuracy}");
            assert_eq!(v.findings[0].inputs["accuracy_credit_m"], "0");
        }
    }

    #[test]
    fn mock_location_is_flagged_inside_and_outside() {
        let s = store();
        let inside = GeoStamp {
            mocked: true,
            ..stamp(0, s.location)
        };
        let v = check_position(&s, &inside, GeofenceTolerance::default());
        assert_eq!(codes(&v), ["mock_location"]);
        assert_eq!(v.findings[0].severity, Severity::Flag);

        let (st, _) = fix_150m_north(0.0);
        let outside = GeoStamp { mocked: true, ..st };
        let v = check_position(&s, &outside, GeofenceTolerance::default());
        assert_eq!(codes(&v), ["outside_geofence", "mock_location"]);
        assert!(!v.is_blocked());
    }
}
