//! Rule 8: visit frequency compliance per store grade (A every 7 days, B 14, C 30).

use super::{Finding, RuleId, Severity, Verdict};
use crate::master::Grade;
use crate::values::Date;

/// Maximum days between two visits of a store of this grade.
pub fn max_interval_days(grade: Grade) -> u32 {
    match grade {
        Grade::A => 7,
        Grade::B => 14,
        Grade::C => 30,
    }
}

/// Flag finding `visit_overdue` when the store's last completed visit is more than
/// `max_interval_days(grade)` before `today`, or `never_visited` when there is none.
/// A visit exactly `max_interval_days` ago is still compliant.
pub fn check(grade: Grade, last_visit: Option<Date>, today: Date) -> Verdict {
    let max = max_interval_days(grade);
    let finding = match last_visit {
        None => Finding::new(
            RuleId::VisitFrequency,
            Severity::Flag,
            "never_visited",
            format!("grade {grade:?} store has never been visited"),
        ),
        Some(last) => {
            let days = last.days_until(today);
            if days <= i64::from(max) {
                return Verdict::default();
            }
            Finding::new(
                RuleId::VisitFrequency,
                Severity::Flag,
                "visit_overdue",
                format!("last visited {days} days ago; grade {grade:?} stores need a visit every {max} days"),
            )
            .input("last_visit", last)
            .input("days_since_last_visit", days)
        }
    };
    Verdict::from_findings(vec![finding
        .input("grade", format!("{grade:?}"))
        .input("max_interval_days", max)
        .input("today", today)])
}

/// Date by which the store must next be visited (`None`: never visited, due now).
pub fn next_due(grade: Grade, last_visit: Option<Date>) -> Option<Date> {
    last_visit.map(|d| d.add_days(max_interval_days(grade) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleId, Severity};
    use crate::testkit::date;

    #[test]
    fn grades_have_their_intervals() {
        assert_eq!(
            [Grade::A, Grade::B, Grade::C].map(max_interval_days),
            [7, 14, 30]
        );
    }

    #[test]
    fn exactly_the_interval_is_compliant_one_more_day_is_overdue() {
        let today = date("2026-11-22");
        for grade in [Grade::A, Grade::B, Grade::C] {
            let max = i64::from(max_interval_days(grade));
            assert!(check(grade, Some(today.add_days(-max + 1)), today)
                .findings
                .is_empty());
            assert!(check(grade, Some(today.add_days(-max)), today)
                .findings
                .is_empty());
            let v = check(grade, Some(today.add_days(-max - 1)), today);
            let f = &v.findings[0];
            assert_eq!(
                (f.rule, f.severity, f.code.as_str()),
                (RuleId::VisitFrequency, Severity::Flag, "visit_overdue")
            );
            assert_eq!(f.inputs["days_since_last_visit"], (max + 1).to_string());
            assert_eq!(f.inputs["max_interval_days"], max.to_string());
        }
    }

    #[test]
    fn visited_today_or_in_the_future_is_compliant() {
        let today = date("2026-11-22");
        assert!(check(Grade::A, Some(today), today).findings.is_empty());
        assert!(check(Grade::A, Some(today.add_days(3)), today)
            .findings
            .is_empty());
    }

    #[test]
    fn never_visited_is_flagged_and_due_now() {
        let v = check(Grade::B, None, date("2026-11-22"));
        assert_eq!(v.findings.len(), 1);
        assert_eq!(v.findings[0].code, "never_visited");
        assert_eq!(v.findings[0].severity, Severity::Flag);
        assert_eq!(v.findings[0].inputs["grade"], "B");
        assert_eq!(next_due(Grade::B, None), None);
        assert_eq!(
            next_due(Grade::B, Some(date("2026-11-22"))),
            Some(date("2026-12-06"))
        );
    }
}
