//! Rule 3: photos are taken during the visit and content-addressed (SHA-256), so a photo reused
//! from another visit is recognised.

use super::{Finding, RuleId, Severity, Verdict};
use crate::values::{Sha256, Timestamp};
use crate::visit::{PhotoRef, Visit};

/// Flag findings: `photo_outside_visit` if taken before check-in or after check-out (with
/// `grace_ms` slack); `photo_reused` if `known_elsewhere` contains the hash (hashes already seen
/// on other visits).
/// A visit without check-in has no "during", so its photos are outside it; a visit not yet
/// checked out has no upper bound. Exactly `grace_ms` early or late is still inside.
pub fn check_photo(
    visit: &Visit,
    photo: &PhotoRef,
    known_elsewhere: &[Sha256],
    grace_ms: i64,
) -> Verdict {
    let mut findings = Vec::new();
    let field = format!("photos.{}", photo.sha256);
    let taken = photo.taken_at.millis();
    let check_in = visit.check_in.as_ref().map(|s| s.at);
    let check_out = visit.check_out.as_ref().map(|s| s.at);
    let too_early = check_in.is_none_or(|t| taken < t.millis().saturating_sub(grace_ms));
    let too_late = check_out.is_some_and(|t| taken > t.millis().saturating_add(grace_ms));
    if too_early || too_late {
        let show = |t: Option<Timestamp>| t.map_or("none".to_string(), |t| t.to_string());
        findings.push(
            Finding::new(
                RuleId::Photos,
                Severity::Flag,
                "photo_outside_visit",
                "photo was not taken between check-in and check-out",
            )
            .field(field.clone())
            .input("taken_at", photo.taken_at)
            .input("check_in_at", show(check_in))
            .input("check_out_at", show(check_out))
            .input("grace_ms", grace_ms),
        );
    }
    if known_elsewhere.contains(&photo.sha256) {
        findings.push(
            Finding::new(
                RuleId::Photos,
                Severity::Flag,
                "photo_reused",
                "the same photo was already used on another visit",
            )
            .field(field)
            .input("sha256", photo.sha256),
        );
    }
    Verdict::from_findings(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleId, Severity};
    use crate::testkit::{photo, pos, stamp, visit, STORE_LAT, STORE_LON};

    const GRACE: i64 = 60_000;

    /// Checked in at 1_000_000, checked out at 2_000_000.
    fn visit_between() -> Visit {
        let mut v = visit();
        v.check_in = Some(stamp(1_000_000, pos(STORE_LAT, STORE_LON)));
        v.check_out = Some(stamp(2_000_000, pos(STORE_LAT, STORE_LON)));
        v
    }

    fn codes_at(v: &Visit, taken_at: i64) -> Vec<String> {
        let p = photo(b"img", taken_at, v.person_id);
        check_photo(v, &p, &[], GRACE)
            .findings
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn taken_during_the_visit_or_within_grace() {
        let v = visit_between();
        for at in [
            1_000_000 - GRACE,
            1_000_000,
            1_500_000,
            2_000_000,
            2_000_000 + GRACE,
        ] {
            assert!(codes_at(&v, at).is_empty(), "{at}");
        }
    }

    #[test]
    fn taken_beyond_grace_is_flagged() {
        let v = visit_between();
        assert_eq!(codes_at(&v, 1_000_000 - GRACE - 1), ["photo_outside_visit"]);
        assert_eq!(codes_at(&v, 2_000_000 + GRACE + 1), ["photo_outside_visit"]);
        let p = photo(b"img", 0, v.person_id);
        let f = &check_photo(&v, &p, &[], GRACE).findings[0];
        assert_eq!((f.rule, f.severity), (RuleId::Photos, Severity::Flag));
        assert_eq!(f.field, Some(format!("photos.{}", p.sha256)));
        assert_eq!(f.inputs["grace_ms"], GRACE.to_string());
        assert_eq!(f.inputs["check_in_at"], Timestamp(1_000_000).to_string());
    }

    #[test]
    fn open_visit_has_no_upper_bound_and_unchecked_in_visit_has_no_inside() {
        let mut v = visit_between();
        v.check_out = None;
        assert!(codes_at(&v, i64::MAX).is_empty());
        v.check_in = None;
        assert_eq!(codes_at(&v, 1_500_000), ["photo_outside_visit"]);
    }

    #[test]
    fn reused_photo_is_flagged() {
        let v = visit_between();
        let p = photo(b"img", 1_500_000, v.person_id);
        let other = Sha256::digest(b"other");
        assert!(check_photo(&v, &p, &[other], GRACE).findings.is_empty());
        let found = check_photo(&v, &p, &[other, p.sha256], GRACE);
        assert_eq!(found.findings.len(), 1);
        assert_eq!(found.findings[0].code, "photo_reused");
        assert_eq!(found.findings[0].inputs["sha256"], p.sha256.to_hex());
        assert!(!found.is_blocked());
    }

    #[test]
    fn extreme_grace_does_not_overflow() {
        let v = visit_between();
        let late = photo(b"img", i64::MAX, v.person_id);
        assert!(check_photo(&v, &late, &[], i64::MAX).findings.is_empty());
        let early = photo(b"img", i64::MIN, v.person_id);
        assert_eq!(check_photo(&v, &early, &[], i64::MAX).findings.len(), 1);
    }
}
