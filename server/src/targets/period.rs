//! The period of a target: a year (`2026`), a quarter (`2026-Q1`) or a month (`2026-03`).

use chrono::NaiveDate;
use fieldsync_shared::values::{Date, ParseError};

/// A parsed target period with its first and last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    text: String,
    start: Date,
    end: Date,
}

impl Period {
    pub fn parse(s: &str) -> Result<Period, ParseError> {
        let s = s.trim().to_ascii_uppercase();
        let err = || {
            ParseError::new(
                "period",
                format!("{s:?} is not a year (2026), a quarter (2026-Q1) or a month (2026-03)"),
            )
        };
        let (year, rest) = match s.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (s.as_str(), None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let year: i32 = year.parse().map_err(|_| err())?;
        let (first_month, months) = match rest {
            None => (1, 12),
            Some(q) if q.len() == 2 && q.starts_with('Q') => match &q[1..] {
                "1" => (1, 3),
                "2" => (4, 3),
                "3" => (7, 3),
                "4" => (10, 3),
                _ => return Err(err()),
            },
            Some(m) if m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()) => {
                match m.parse::<u32>() {
                    Ok(m @ 1..=12) => (m, 1),
                    _ => return Err(err()),
                }
            }
            Some(_) => return Err(err()),
        };
        let start = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or_else(err)?;
        let after = start
            .checked_add_months(chrono::Months::new(months))
            .ok_or_else(err)?;
        let end = after.pred_opt().ok_or_else(err)?;
        Ok(Period {
            text: s,
            start: Date::from_naive(start),
            end: Date::from_naive(end),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
    pub fn start(&self) -> Date {
        self.start
    }
    pub fn end(&self) -> Date {
        self.end
    }
    /// A calendar month (the periods achievement is reported for).
    pub fn is_month(&self) -> bool {
        self.text.len() == 7 && !self.text.contains('Q')
    }

    /// The calendar month `months` before this period's first day (`None` before year 0,
    /// which a period cannot name).
    pub fn month_before(&self, months: u32) -> Option<Period> {
        use chrono::Datelike;
        let first = self
            .start
            .naive()
            .checked_sub_months(chrono::Months::new(months))?;
        Period::parse(&format!("{:04}-{:02}", first.year(), first.month())).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(s: &str) -> (String, String) {
        let p = Period::parse(s).unwrap();
        (p.start().to_string(), p.end().to_string())
    }

    #[test]
    fn years_quarters_and_months_parse_to_their_days() {
        assert_eq!(days("2026"), ("2026-01-01".into(), "2026-12-31".into()));
        assert_eq!(days("2026-q4"), ("2026-10-01".into(), "2026-12-31".into()));
        assert_eq!(days("2028-02"), ("2028-02-01".into(), "2028-02-29".into()));
        assert_eq!(Period::parse(" 2026-q1 ").unwrap().as_str(), "2026-Q1");
        assert!(Period::parse("2026-03").unwrap().is_month());
        assert!(!Period::parse("2026-Q3").unwrap().is_month());
        let nov = Period::parse("2026-11").unwrap();
        assert_eq!(nov.month_before(1).unwrap().as_str(), "2026-10");
        assert_eq!(nov.month_before(12).unwrap().as_str(), "2025-11");
        assert_eq!(
            Period::parse("2026-01").unwrap().month_before(3).unwrap(),
            Period::parse("2025-10").unwrap()
        );
        assert!(Period::parse("0000-01").unwrap().month_before(1).is_none());
        for bad in [
            "26", "2026-Q5", "2026-13", "2026-00", "2026-3", "2026/03", "",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
