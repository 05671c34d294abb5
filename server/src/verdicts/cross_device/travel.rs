//! One person's visits against each other, which only the server sees together (a rep's two
//! phones, or a phone that lost its data): `impossible_travel` between consecutive check-ins
//! faster than the tenant's bound, `visit_too_short` (check-in to check-out under the
//! minimum), and `overlapping_visit`, two visits at once (`shared::rules::visit_timing::overlap`).
//! Each is flagged for the supervisor, never held: which visit is true is for a person to
//! decide. Check-in outside the geofence and mocked positions are the geofence rule's own
//! findings of the visit (`evaluate_visit`).

use fieldsync_shared::rules::{visit_timing, Finding, RuleId, Severity};
use fieldsync_shared::values::Timestamp;
use fieldsync_shared::visit::{GeoStamp, Visit};

use super::{flagged, Limits};
use crate::verdicts::judge::Judgement;

/// The check's name and code.
pub const IMPOSSIBLE_TRAVEL: &str = "impossible_travel";
/// The check's name and code.
pub const VISIT_TOO_SHORT: &str = "visit_too_short";
/// The visit timing rule's code for two visits at once.
pub const OVERLAPPING_VISIT: &str = "overlapping_visit";

/// Moves shorter than this are GPS noise (two fixes at one store), not travel.
pub const MIN_TRAVEL_M: f64 = 1_000.0;

const HOUR_MS: f64 = 3_600_000.0;

/// Flags `visit` against `others`, its person's other visits.
pub fn flag_visit(
    visit: &Visit,
    others: &[Visit],
    limits: &Limits,
    now: Timestamp,
    judgement: &mut Judgement,
) {
    for finding in impossible_travel(visit, others, limits.max_travel_kmh) {
        judgement.findings.push(flagged(IMPOSSIBLE_TRAVEL, finding));
    }
    if let Some(finding) = too_short(visit, limits.min_visit_ms) {
        judgement.findings.push(flagged(VISIT_TOO_SHORT, finding));
    }
    for finding in visit_timing::overlap(visit, others, now).findings {
        judgement.findings.push(flagged(OVERLAPPING_VISIT, finding));
    }
}

/// The check-ins just before and just after `visit`'s among `others`, where the person would
/// have moved faster than `max_kmh` (over at least [`MIN_TRAVEL_M`]).
fn impossible_travel(visit: &Visit, others: &[Visit], max_kmh: f64) -> Vec<Finding> {
    let Some(here) = &visit.check_in else {
        return Vec::new();
    };
    let checked_in = || {
        others
            .iter()
            .filter(|o| o.id != visit.id)
            .filter_map(|o| Some((o, o.check_in.as_ref()?)))
    };
    let before = checked_in()
        .filter(|(_, s)| s.at <= here.at)
        .max_by_key(|(o, s)| (s.at, o.id));
    let after = checked_in()
        .filter(|(_, s)| s.at > here.at)
        .min_by_key(|(o, s)| (s.at, o.id));
    [before, after]
        .into_iter()
        .flatten()
        .filter_map(|(other, there)| travel(here, other, there, max_kmh))
        .collect()
}

fn travel(here: &GeoStamp, other: &Visit, there: &GeoStamp, max_kmh: f64) -> Option<Finding> {
    let distance_m = here.position.distance_m(&there.position);
    let elapsed_ms = here.at.millis().abs_diff(there.at.millis());
    let kmh = match elapsed_ms {
        0 => f64::INFINITY,
        ms => distance_m / 1000.0 / (ms as f64 / HOUR_MS),
    };
    let elapsed_ms = elapsed_ms as f64;
    if distance_m < MIN_TRAVEL_M || kmh <= max_kmh {
        return None;
    }
    let minutes = elapsed_ms / 60_000.0;
    Some(
        Finding::new(
            RuleId::Geofence,
            Severity::Flag,
            IMPOSSIBLE_TRAVEL,
            format!(
                "{:.1} km in {minutes:.0} min from the check-in of visit {} ({kmh:.0} km/h, \
                 more than {max_kmh:.0} km/h)",
                distance_m / 1000.0,
                other.id
            ),
        )
        .field("check_in")
        .input("other_visit", other.id)
        .input("other_store", other.store_id)
        .input("other_check_in_at", there.at)
        .input("distance_km", format!("{:.1}", distance_m / 1000.0))
        .input("minutes", format!("{minutes:.1}"))
        .input("speed_kmh", format!("{kmh:.0}"))
        .input("max_speed_kmh", format!("{max_kmh:.0}")),
    )
}

/// A visit checked out less than `min_ms` after its check-in (0: no minimum). A check-out not
/// after the check-in is the timing rule's own `check_out_before_check_in`.
fn too_short(visit: &Visit, min_ms: i64) -> Option<Finding> {
    let (check_in, check_out) = (visit.check_in.as_ref()?, visit.check_out.as_ref()?);
    let length_ms = check_out.at.millis().saturating_sub(check_in.at.millis());
    if min_ms == 0 || length_ms <= 0 || length_ms >= min_ms {
        return None;
    }
    let (minutes, min_minutes) = (length_ms as f64 / 60_000.0, min_ms as f64 / 60_000.0);
    Some(
        Finding::new(
            RuleId::VisitTiming,
            Severity::Flag,
            VISIT_TOO_SHORT,
            format!(
                "the visit lasted {minutes:.1} min, less than the {min_minutes:.0} min minimum"
            ),
        )
        .field("check_out")
        .input("check_in_at", check_in.at)
        .input("check_out_at", check_out.at)
        .input("minutes", format!("{minutes:.1}"))
        .input("min_minutes", format!("{min_minutes:.0}")),
    )
}
