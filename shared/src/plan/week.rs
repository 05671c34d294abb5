//! The ISO week a plan covers (`2026-W50`), and the rep's working days in it.

use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::values::{crdt_as_string, Date, ParseError};

/// An ISO 8601 week: weeks start on Monday; week 1 holds the year's first Thursday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IsoWeek {
    year: i32,
    week: u32,
}

impl IsoWeek {
    /// `None` when the year has no such week (week 53 exists in some years only).
    pub fn new(year: i32, week: u32) -> Option<Self> {
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(|_| IsoWeek { year, week })
    }
    /// `YYYY-Www`, e.g. `2026-W50`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = || ParseError::new("ISO week", format!("{s:?} is not YYYY-Www, e.g. 2026-W50"));
        let (year, week) = s.trim().split_once("-W").ok_or_else(err)?;
        if year.len() != 4 || week.len() != 2 {
            return Err(err());
        }
        let year: i32 = year.parse().map_err(|_| err())?;
        let week: u32 = week.parse().map_err(|_| err())?;
        IsoWeek::new(year, week)
            .ok_or_else(|| ParseError::new("ISO week", format!("{year} has no week {week}")))
    }
    /// The week a date falls in.
    pub fn of(date: Date) -> Self {
        let w = date.naive().iso_week();
        IsoWeek {
            year: w.year(),
            week: w.week(),
        }
    }
    pub fn year(&self) -> i32 {
        self.year
    }
    pub fn week(&self) -> u32 {
        self.week
    }
    /// The date of `day` in this week.
    pub fn day(&self, day: Weekday) -> Date {
        let d = NaiveDate::from_isoywd_opt(self.year, self.week, day)
            .expect("an IsoWeek is always a valid week");
        Date::from_naive(d)
    }
    pub fn monday(&self) -> Date {
        self.day(Weekday::Mon)
    }
    pub fn sunday(&self) -> Date {
        self.day(Weekday::Sun)
    }
    /// The following week.
    pub fn next(&self) -> IsoWeek {
        IsoWeek::of(self.monday().add_days(7))
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}
impl TryFrom<String> for IsoWeek {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        IsoWeek::parse(&s)
    }
}
impl From<IsoWeek> for String {
    fn from(w: IsoWeek) -> String {
        w.to_string()
    }
}
crdt_as_string!(IsoWeek);

/// The days a rep works, Monday first. Default: Monday to Friday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingDays(Vec<Weekday>);

impl WorkingDays {
    /// Sorted Monday first, duplicates dropped.
    pub fn new(days: impl IntoIterator<Item = Weekday>) -> Self {
        let mut days: Vec<Weekday> = days.into_iter().collect();
        days.sort_by_key(|d| d.num_days_from_monday());
        days.dedup();
        WorkingDays(days)
    }
    pub fn days(&self) -> &[Weekday] {
        &self.0
    }
    /// The working dates of `week`, in order.
    pub fn dates(&self, week: IsoWeek) -> Vec<Date> {
        self.0.iter().map(|&d| week.day(d)).collect()
    }
}

impl Default for WorkingDays {
    fn default() -> Self {
        use Weekday::*;
        WorkingDays(vec![Mon, Tue, Wed, Thu, Fri])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::date;

    #[test]
    fn weeks_parse_print_and_know_their_days() {
        let w = IsoWeek::parse("2026-W50").unwrap();
        assert_eq!(w.to_string(), "2026-W50");
        assert_eq!(w.monday(), date("2026-12-07"));
        assert_eq!(w.sunday(), date("2026-12-13"));
        assert_eq!(IsoWeek::of(date("2026-12-13")), w);
        assert_eq!(w.next().to_string(), "2026-W51");
        // 2026-12-31 is a Thursday: week 53 of 2026; 2027 starts its week 1 on Jan 4.
        assert_eq!(IsoWeek::of(date("2026-12-31")).to_string(), "2026-W53");
        assert_eq!(
            IsoWeek::parse("2026-W53").unwrap().next().to_string(),
            "2027-W01"
        );
        assert!(IsoWeek::parse("2027-W53").is_err());
        assert!(IsoWeek::parse("2026-50").is_err());
        assert!(IsoWeek::parse("2026-W5").is_err());
    }

    #[test]
    fn working_days_give_the_weeks_dates() {
        let w = IsoWeek::parse("2026-W50").unwrap();
        let days = WorkingDays::new([Weekday::Wed, Weekday::Mon, Weekday::Wed]);
        assert_eq!(days.dates(w), [date("2026-12-07"), date("2026-12-09")]);
        assert_eq!(WorkingDays::default().dates(w).len(), 5);
    }
}
