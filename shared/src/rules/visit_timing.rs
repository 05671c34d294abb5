//! Rule 2: visit timing. Check-out after check-in; no overlapping visits for one person;
//! mandatory steps (and photos) done or skipped with a reason before check-out / submit.

use super::{Finding, RuleId, Severity, Verdict};
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
        VisitRequirements {
            mandatory_steps: VisitStep::ALL.to_vec(),
            min_photos: 1,
        }
    }
}

/// Block findings if the visit cannot be checked out at `at`: `not_checked_in`,
/// `check_out_before_check_in`, `already_checked_out`, `step_missing` (one per missing step,
/// field `steps.<name>`), `photos_missing`.
pub fn check_out(visit: &Visit, at: Timestamp, req: &VisitRequirements) -> Verdict {
    let mut findings = timing(visit, at);
    if let Some(out) = &visit.check_out {
        findings.push(
            block(
                "already_checked_out",
                format!("the visit was already checked out at {}", out.at),
            )
            .field("check_out")
            .input("check_out_at", out.at),
        );
    }
    findings.extend(requirements(visit, req));
    Verdict::from_findings(findings)
}

/// Block findings if the visit cannot be submitted: must be checked out (`not_checked_out`) and
/// satisfy the check-out requirements.
///
/// A check-out that is not after the check-in (possible after merging two devices' edits) is
/// reported as `check_out_before_check_in` here too.
pub fn submit(visit: &Visit, req: &VisitRequirements) -> Verdict {
    let mut findings = match &visit.check_out {
        Some(out) => timing(visit, out.at),
        None => vec![
            block("not_checked_out", "check out before submitting the visit").field("check_out"),
        ],
    };
    findings.extend(requirements(visit, req));
    Verdict::from_findings(findings)
}

/// Block finding `overlapping_visit` if `visit`'s [check-in, check-out or now] interval overlaps
/// any of `others` (the same person's other visits). Visits without check-in never overlap.
///
/// Intervals are half-open: a visit that starts at the very millisecond another ends does not
/// overlap it. Visits with the same id as `visit` are ignored (another replica of itself).
pub fn overlap(visit: &Visit, others: &[Visit], now: Timestamp) -> Verdict {
    let Some((start, end)) = interval(visit, now) else {
        return Verdict::default();
    };
    let findings = others
        .iter()
        .filter(|o| o.id != visit.id)
        .filter_map(|o| Some((o, interval(o, now)?)))
        .filter(|(_, (o_start, o_end))| start < *o_end && *o_start < end)
        .map(|(o, (o_start, o_end))| {
            block(
                "overlapping_visit",
                format!("overlaps visit {} ({o_start} to {o_end})", o.id),
            )
            .field("check_in")
            .input("start", start)
            .input("end", end)
            .input("other_visit", o.id)
            .input("other_start", o_start)
            .input("other_end", o_end)
        })
        .collect();
    Verdict::from_findings(findings)
}

/// [check-in, check-out or `now`] of a visit; `None` without check-in.
fn interval(visit: &Visit, now: Timestamp) -> Option<(Timestamp, Timestamp)> {
    let start = visit.check_in.as_ref()?.at;
    Some((start, visit.check_out.as_ref().map_or(now, |s| s.at)))
}

fn block(code: &str, message: impl Into<String>) -> Finding {
    Finding::new(RuleId::VisitTiming, Severity::Block, code, message)
}

/// Check-in present and strictly before the check-out time `at`.
fn timing(visit: &Visit, at: Timestamp) -> Vec<Finding> {
    match &visit.check_in {
        None => vec![block("not_checked_in", "the visit was never checked in").field("check_in")],
        Some(check_in) if at <= check_in.at => vec![block(
            "check_out_before_check_in",
            "check-out must be after check-in",
        )
        .field("check_out")
        .input("check_in_at", check_in.at)
        .input("check_out_at", at)],
        Some(_) => Vec::new(),
    }
}

/// Mandatory steps recorded (done, or skipped with a reason) and enough photos.
fn requirements(visit: &Visit, req: &VisitRequirements) -> Vec<Finding> {
    let mut findings: Vec<Finding> = req
        .mandatory_steps
        .iter()
        .filter(|step| {
            visit
                .steps
                .get(step.as_str())
                .is_none_or(|r| r.step != **step)
        })
        .map(|step| {
            block(
                "step_missing",
                format!("step {step} is neither done nor skipped with a reason"),
            )
            .field(format!("steps.{step}"))
            .input("step", step)
        })
        .collect();
    let photos = visit.photos.len();
    if photos < req.min_photos as usize {
        findings.push(
            block(
                "photos_missing",
                format!("{photos} of at least {} photos taken", req.min_photos),
            )
            .field("photos")
            .input("photos", photos)
            .input("min_photos", req.min_photos),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleId, Severity};
    use crate::testkit::{complete_visit, pos, stamp, step, visit, STORE_LAT, STORE_LON};
    use crate::visit::GeoStamp;

    fn here(at: i64) -> GeoStamp {
        stamp(at, pos(STORE_LAT, STORE_LON))
    }

    fn codes(v: &Verdict) -> Vec<&str> {
        v.findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn complete_visit_checks_out_strictly_after_check_in() {
        let v = complete_visit(1_000);
        let req = VisitRequirements::default();
        assert!(check_out(&v, Timestamp(1_001), &req).findings.is_empty());
        let at = check_out(&v, Timestamp(1_000), &req);
        assert_eq!(codes(&at), ["check_out_before_check_in"]);
        let f = &at.findings[0];
        assert_eq!((f.rule, f.severity), (RuleId::VisitTiming, Severity::Block));
        assert_eq!(f.inputs["check_in_at"], Timestamp(1_000).to_string());
        assert_eq!(
            codes(&check_out(&v, Timestamp(999), &req)),
            ["check_out_before_check_in"]
        );
    }

    #[test]
    fn cannot_check_out_without_check_in_or_twice() {
        let mut v = complete_visit(1_000);
        v.check_out = Some(here(2_000));
        assert_eq!(
            codes(&check_out(
                &v,
                Timestamp(3_000),
                &VisitRequirements::default()
            )),
            ["already_checked_out"]
        );
        v.check_in = None;
        v.check_out = None;
        let verdict = check_out(&v, Timestamp(3_000), &VisitRequirements::default());
        assert_eq!(codes(&verdict), ["not_checked_in"]);
        assert_eq!(verdict.findings[0].field.as_deref(), Some("check_in"));
    }

    #[test]
    fn each_missing_step_is_reported() {
        let mut v = complete_visit(1_000);
        v.steps.remove("greet");
        v.steps.remove("admin");
        let verdict = check_out(&v, Timestamp(2_000), &VisitRequirements::default());
        assert_eq!(codes(&verdict), ["step_missing", "step_missing"]);
        let fields: Vec<_> = verdict
            .findings
            .iter()
            .map(|f| f.field.as_deref().unwrap())
            .collect();
        assert_eq!(fields, ["steps.greet", "steps.admin"]);
        // Only mandatory steps count.
        let req = VisitRequirements {
            mandatory_steps: vec![VisitStep::Prepare, VisitStep::StoreCheck],
            min_photos: 1,
        };
        assert!(check_out(&v, Timestamp(2_000), &req).findings.is_empty());
    }

    #[test]
    fn a_step_skipped_with_a_reason_counts() {
        let mut v = complete_visit(1_000);
        let rec = step(VisitStep::PresentOrder, v.person_id, Some("buyer absent"));
        v.steps.insert("present_order".into(), rec);
        assert!(
            check_out(&v, Timestamp(2_000), &VisitRequirements::default())
                .findings
                .is_empty()
        );
    }

    #[test]
    fn a_step_record_under_the_wrong_key_does_not_count() {
        let mut v = complete_visit(1_000);
        let greet = v.steps.remove("greet").unwrap();
        v.steps.insert("admin".into(), greet);
        let verdict = check_out(&v, Timestamp(2_000), &VisitRequirements::default());
        assert_eq!(codes(&verdict), ["step_missing", "step_missing"]);
    }

    #[test]
    fn photo_count_boundary() {
        let v = complete_visit(1_000); // one photo
        let req = |min_photos| VisitRequirements {
            min_photos,
            ..VisitRequirements::default()
        };
        assert!(check_out(&v, Timestamp(2_000), &req(0)).findings.is_empty());
        assert!(check_out(&v, Timestamp(2_000), &req(1)).findings.is_empty());
        let verdict = check_out(&v, Timestamp(2_000), &req(2));
        assert_eq!(codes(&verdict), ["photos_missing"]);
        assert_eq!(verdict.findings[0].inputs["photos"], "1");
        assert_eq!(verdict.findings[0].inputs["min_photos"], "2");
    }

    #[test]
    fn submit_requires_check_out_and_the_same_requirements() {
        let req = VisitRequirements::default();
        let mut v = complete_visit(1_000);
        assert_eq!(codes(&submit(&v, &req)), ["not_checked_out"]);
        v.check_out = Some(here(2_000));
        assert!(submit(&v, &req).findings.is_empty());
        v.steps.remove("debrief");
        v.photos.clear();
        assert_eq!(codes(&submit(&v, &req)), ["step_missing", "photos_missing"]);
    }

    #[test]
    fn submit_refuses_a_check_out_not_after_check_in() {
        let mut v = complete_visit(1_000);
        v.check_out = Some(here(1_000));
        assert_eq!(
            codes(&submit(&v, &VisitRequirements::default())),
            ["check_out_before_check_in"]
        );
    }

    fn visit_between(check_in: i64, check_out: Option<i64>) -> Visit {
        let mut v = visit();
        v.check_in = Some(here(check_in));
        v.check_out = check_out.map(here);
        v
    }

    #[test]
    fn overlap_boundaries_are_half_open() {
        let now = Timestamp(100_000);
        let v = visit_between(1_000, Some(2_000));
        let before = visit_between(0, Some(1_000)); // touches the start
        let after = visit_between(2_000, Some(3_000)); // touches the end
        assert!(overlap(&v, &[before.clone(), after.clone()], now)
            .findings
            .is_empty());
        let into_start = visit_between(0, Some(1_001));
        let from_end = visit_between(1_999, Some(3_000));
        let inside = visit_between(1_200, Some(1_300));
        let verdict = overlap(
            &v,
            &[before, into_start.clone(), from_end, inside, after],
            now,
        );
        assert_eq!(codes(&verdict), ["overlapping_visit"; 3]);
        let f = &verdict.findings[0];
        assert_eq!(f.severity, Severity::Block);
        assert_eq!(f.inputs["other_visit"], into_start.id.to_string());
    }

    #[test]
    fn open_visits_extend_to_now() {
        let now = Timestamp(5_000);
        let open = visit_between(1_000, None);
        let later = visit_between(4_999, Some(6_000));
        assert_eq!(
            codes(&overlap(&open, std::slice::from_ref(&later), now)),
            ["overlapping_visit"]
        );
        assert!(overlap(&open, &[later], Timestamp(4_999))
            .findings
            .is_empty());
        let other_open = visit_between(2_000, None);
        assert_eq!(
            codes(&overlap(&open, &[other_open], now)),
            ["overlapping_visit"]
        );
    }

    #[test]
    fn itself_and_unchecked_in_visits_never_overlap() {
        let now = Timestamp(100_000);
        let v = visit_between(1_000, Some(2_000));
        let mut planned = visit();
        planned.check_out = Some(here(1_500)); // malformed but harmless: no check-in
        assert!(overlap(&v, &[v.clone(), planned.clone()], now)
            .findings
            .is_empty());
        assert!(overlap(&planned, std::slice::from_ref(&v), now)
            .findings
            .is_empty());
    }
}
