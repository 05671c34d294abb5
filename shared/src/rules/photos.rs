//! Rule 3: photos are taken during the visit, at the store, and content-addressed (SHA-256), so
//! a photo reused from another visit is recognised.
//!
//! Two times are checked: when the photo was attached (`taken_at`, the phone's clock) and when
//! the camera says it was taken (`capture`, its EXIF, read by the phone when attaching). A
//! gallery photo from last month attached during the visit passes the first and fails the
//! second.

use super::{Finding, RuleId, Severity, Verdict};
use crate::master::Store;
use crate::values::{Position, Sha256, Timestamp};
use crate::visit::{PhotoCapture, PhotoRef, Visit};

/// Slack around the check-in/check-out interval for the attach time.
pub const PHOTO_GRACE_MS: i64 = 5 * 60 * 1000;
/// Slack around the check-in/check-out interval for the EXIF capture time (camera clocks
/// drift, and a photo may be taken while walking in).
pub const CAPTURE_GRACE_MS: i64 = 10 * 60 * 1000;
/// Extra slack when the EXIF time has no zone: any UTC offset (-12:00 .. +14:00).
pub const UNKNOWN_ZONE_MS: i64 = 14 * 60 * 60 * 1000;
/// Metres beyond the store's geofence radius within which the EXIF position still counts as
/// at the store (camera GPS fixes are coarse, and record no accuracy).
pub const CAPTURE_DISTANCE_SLACK_M: f64 = 100.0;

/// The tolerances of the photo rule, the same on the phone and on the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhotoTolerance {
    /// Slack for the attach time (`photo_outside_visit`).
    pub attach_grace_ms: i64,
    /// Slack for the capture time (`photo_taken_outside_visit`).
    pub capture_grace_ms: i64,
    /// Added to `capture_grace_ms` when the capture time's zone is unknown.
    pub unknown_zone_ms: i64,
    /// Added to the geofence radius for the capture position.
    pub capture_distance_slack_m: f64,
}

impl Default for PhotoTolerance {
    fn default() -> Self {
        PhotoTolerance {
            attach_grace_ms: PHOTO_GRACE_MS,
            capture_grace_ms: CAPTURE_GRACE_MS,
            unknown_zone_ms: UNKNOWN_ZONE_MS,
            capture_distance_slack_m: CAPTURE_DISTANCE_SLACK_M,
        }
    }
}

/// Flag findings of one photo of `visit` at `store`:
/// * `photo_outside_visit`: attached before check-in or after check-out (with
///   `attach_grace_ms` slack);
/// * `photo_taken_outside_visit`: the EXIF capture time is outside check-in .. check-out (with
///   `capture_grace_ms` slack, plus `unknown_zone_ms` without a zone; field
///   `photos.<sha>.capture.at`), or the EXIF position is farther from the store than its
///   geofence radius plus `capture_distance_slack_m` (field `photos.<sha>.capture.position`);
/// * `photo_capture_time_unknown`: the phone read the photo and it records no capture time (a
///   screenshot, an edited or stripped file: the supervisor cannot tell when it was taken);
/// * `photo_reused`: `known_elsewhere` (hashes already seen on other visits) has it.
///
/// A visit without check-in has no "during", so its photos are outside it; a visit not yet
/// checked out has no upper bound. Exactly the slack early or late is still inside. A photo
/// whose EXIF was not read (older apps: `capture` is `None`) is judged on its attach time only.
pub fn check_photo(
    visit: &Visit,
    photo: &PhotoRef,
    store: &Store,
    known_elsewhere: &[Sha256],
    tolerance: PhotoTolerance,
) -> Verdict {
    let mut findings = Vec::new();
    let field = format!("photos.{}", photo.sha256);
    let window = Window::of(visit);
    if window.excludes(photo.taken_at, tolerance.attach_grace_ms) {
        findings.push(
            window
                .finding(
                    "photo_outside_visit",
                    "photo was not taken between check-in and check-out",
                )
                .field(field.clone())
                .input("taken_at", photo.taken_at)
                .input("grace_ms", tolerance.attach_grace_ms),
        );
    }
    if let Some(capture) = &photo.capture {
        findings.extend(check_capture(capture, &window, store, &field, tolerance));
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

/// The capture time and place against the visit's window and the store's geofence.
fn check_capture(
    capture: &PhotoCapture,
    window: &Window,
    store: &Store,
    field: &str,
    tolerance: PhotoTolerance,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    match capture.at {
        None => findings.push(
            Finding::new(
                RuleId::Photos,
                Severity::Flag,
                "photo_capture_time_unknown",
                "the photo records no capture time (a screenshot, an edited or stripped file)",
            )
            .field(format!("{field}.capture.at")),
        ),
        Some(at) => {
            let grace = if capture.zone_known {
                tolerance.capture_grace_ms
            } else {
                tolerance
                    .capture_grace_ms
                    .saturating_add(tolerance.unknown_zone_ms)
            };
            if window.excludes(at, grace) {
                findings.push(
                    window
                        .finding(
                            "photo_taken_outside_visit",
                            "the camera says the photo was taken outside the visit",
                        )
                        .field(format!("{field}.capture.at"))
                        .input("captured_at", at)
                        .input("zone_known", capture.zone_known)
                        .input("grace_ms", grace),
                );
            }
        }
    }
    if let Some(position) = capture.position {
        if let Some(finding) = outside_store(position, store, tolerance) {
            findings.push(finding.field(format!("{field}.capture.position")));
        }
    }
    findings
}

/// `photo_taken_outside_visit` if `position` is beyond the store's geofence plus the slack.
fn outside_store(position: Position, store: &Store, tolerance: PhotoTolerance) -> Option<Finding> {
    let distance = store.location.distance_m(&position);
    let allowed = f64::from(store.geofence_radius_m) + tolerance.capture_distance_slack_m.max(0.0);
    (distance > allowed).then(|| {
        Finding::new(
            RuleId::Photos,
            Severity::Flag,
            "photo_taken_outside_visit",
            format!(
                "the camera says the photo was taken {distance:.0} m from the store, more than \
                 the {allowed:.0} m allowed"
            ),
        )
        .input("distance_m", format!("{distance:.1}"))
        .input("radius_m", store.geofence_radius_m)
        .input("lat", position.lat())
        .input("lon", position.lon())
    })
}

/// A visit's check-in .. check-out interval.
struct Window {
    check_in: Option<Timestamp>,
    check_out: Option<Timestamp>,
}

impl Window {
    fn of(visit: &Visit) -> Window {
        Window {
            check_in: visit.check_in.as_ref().map(|s| s.at),
            check_out: visit.check_out.as_ref().map(|s| s.at),
        }
    }

    /// `at` is before check-in or after check-out by more than `grace_ms` (no check-in: always).
    fn excludes(&self, at: Timestamp, grace_ms: i64) -> bool {
        let at = at.millis();
        let too_early = self
            .check_in
            .is_none_or(|t| at < t.millis().saturating_sub(grace_ms));
        let too_late = self
            .check_out
            .is_some_and(|t| at > t.millis().saturating_add(grace_ms));
        too_early || too_late
    }

    /// A Flag finding of the photo rule with the window as inputs.
    fn finding(&self, code: &str, message: &str) -> Finding {
        let show = |t: Option<Timestamp>| t.map_or("none".to_string(), |t| t.to_string());
        Finding::new(RuleId::Photos, Severity::Flag, code, message)
            .input("check_in_at", show(self.check_in))
            .input("check_out_at", show(self.check_out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleId, Severity};
    use crate::testkit::{photo, pos, stamp, store, visit, STORE_LAT, STORE_LON};

    const GRACE: i64 = 60_000;
    const HOUR: i64 = 3_600_000;

    fn tolerance(grace: i64) -> PhotoTolerance {
        PhotoTolerance {
            attach_grace_ms: grace,
            ..PhotoTolerance::default()
        }
    }

    fn check(v: &Visit, p: &PhotoRef, elsewhere: &[Sha256], grace: i64) -> Verdict {
        check_photo(v, p, &store(), elsewhere, tolerance(grace))
    }

    /// Checked in at 1_000_000, checked out at 2_000_000.
    fn visit_between() -> Visit {
        let mut v = visit();
        v.check_in = Some(stamp(1_000_000, pos(STORE_LAT, STORE_LON)));
        v.check_out = Some(stamp(2_000_000, pos(STORE_LAT, STORE_LON)));
        v
    }

    fn codes_of(verdict: Verdict) -> Vec<String> {
        verdict.findings.into_iter().map(|f| f.code).collect()
    }

    fn codes_at(v: &Visit, taken_at: i64) -> Vec<String> {
        let p = photo(b"img", taken_at, v.person_id);
        codes_of(check(v, &p, &[], GRACE))
    }

    /// A photo attached at 1_500_000 whose EXIF says `capture`.
    fn captured(v: &Visit, capture: PhotoCapture) -> Vec<Finding> {
        let mut p = photo(b"img", 1_500_000, v.person_id);
        p.capture = Some(capture);
        check(v, &p, &[], GRACE).findings
    }

    fn at(millis: i64, zone_known: bool) -> PhotoCapture {
        PhotoCapture {
            at: Some(Timestamp(millis)),
            zone_known,
            position: None,
        }
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
        let f = &check(&v, &p, &[], GRACE).findings[0];
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
        assert!(check(&v, &p, &[other], GRACE).findings.is_empty());
        let found = check(&v, &p, &[other, p.sha256], GRACE);
        assert_eq!(found.findings.len(), 1);
        assert_eq!(found.findings[0].code, "photo_reused");
        assert_eq!(found.findings[0].inputs["sha256"], p.sha256.to_hex());
        assert!(!found.is_blocked());
    }

    #[test]
    fn extreme_grace_does_not_overflow() {
        let v = visit_between();
        let late = photo(b"img", i64::MAX, v.person_id);
        assert!(check(&v, &late, &[], i64::MAX).findings.is_empty());
        let early = photo(b"img", i64::MIN, v.person_id);
        assert_eq!(check(&v, &early, &[], i64::MAX).findings.len(), 1);
        let mut far = photo(b"img", 1_500_000, v.person_id);
        far.capture = Some(at(i64::MAX, false));
        let extreme = PhotoTolerance {
            capture_grace_ms: i64::MAX,
            ..tolerance(GRACE)
        };
        assert!(check_photo(&v, &far, &store(), &[], extreme)
            .findings
            .is_empty());
    }

    #[test]
    fn captured_during_the_visit_at_the_store_passes() {
        let v = visit_between();
        for millis in [
            1_000_000 - CAPTURE_GRACE_MS,
            1_500_000,
            2_000_000 + CAPTURE_GRACE_MS,
        ] {
            let mut capture = at(millis, true);
            capture.position = Some(pos(STORE_LAT, STORE_LON));
            assert!(captured(&v, capture).is_empty(), "{millis}");
        }
    }

    #[test]
    fn a_gallery_photo_from_last_month_is_flagged_though_attached_during_the_visit() {
        let v = visit_between();
        let last_month = 1_000_000 - 30 * 24 * HOUR;
        for zone_known in [true, false] {
            let found = captured(&v, at(last_month, zone_known));
            assert_eq!(found.len(), 1, "{found:?}");
            let f = &found[0];
            assert_eq!(f.code, "photo_taken_outside_visit");
            assert_eq!((f.rule, f.severity), (RuleId::Photos, Severity::Flag));
            assert!(f.field.as_deref().unwrap().ends_with(".capture.at"));
            assert_eq!(f.inputs["captured_at"], Timestamp(last_month).to_string());
            assert_eq!(f.inputs["zone_known"], zone_known.to_string());
        }
    }

    #[test]
    fn the_capture_slack_is_exact_and_widens_without_a_zone() {
        let v = visit_between();
        let just_outside = 1_000_000 - CAPTURE_GRACE_MS - 1;
        assert_eq!(captured(&v, at(just_outside, true)).len(), 1);
        // A wall-clock time of an unknown zone may be off by any UTC offset.
        assert!(captured(&v, at(just_outside, false)).is_empty());
        assert!(captured(&v, at(1_000_000 - CAPTURE_GRACE_MS - 14 * HOUR, false)).is_empty());
        assert_eq!(
            captured(&v, at(1_000_000 - CAPTURE_GRACE_MS - 14 * HOUR - 1, false)).len(),
            1
        );
    }

    #[test]
    fn a_capture_position_away_from_the_store_is_flagged() {
        let v = visit_between();
        let s = store();
        // 1 km north: beyond 100 m radius + 100 m slack.
        let away = pos(STORE_LAT + 1_000.0 / 111_320.0, STORE_LON);
        let near = pos(STORE_LAT + 150.0 / 111_320.0, STORE_LON);
        let mut capture = at(1_500_000, true);
        capture.position = Some(near);
        assert!(captured(&v, capture.clone()).is_empty());
        capture.position = Some(away);
        let found = captured(&v, capture);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, "photo_taken_outside_visit");
        assert!(found[0]
            .field
            .as_deref()
            .unwrap()
            .ends_with(".capture.position"));
        assert_eq!(found[0].inputs["radius_m"], s.geofence_radius_m.to_string());
    }

    #[test]
    fn no_capture_time_is_noted_and_an_unread_photo_is_judged_on_its_attach_time() {
        let v = visit_between();
        let found = captured(
            &v,
            PhotoCapture {
                at: None,
                zone_known: false,
                position: None,
            },
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "photo_capture_time_unknown");
        assert_eq!(found[0].severity, Severity::Flag);
        // Photos of older apps (EXIF not read) have no capture finding.
        assert!(codes_at(&v, 1_500_000).is_empty());
    }
}
