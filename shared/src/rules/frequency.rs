//! Rule 8: visit frequency compliance per store grade (A every 7 days, B 14, C 30).

use super::Verdict;
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
pub fn check(grade: Grade, last_visit: Option<Date>, today: Date) -> Verdict {
    todo!("{grade:?} {last_visit:?} {today}")
}

/// Date by which the store must next be visited (`None`: never visited, due now).
pub fn next_due(grade: Grade, last_visit: Option<Date>) -> Option<Date> {
    last_visit.map(|d| d.add_days(max_interval_days(grade) as i64))
}
