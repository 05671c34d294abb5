//! Rule 7: requested delivery date not before the order date plus the lead time. And the
//! recorded delivery: which days it may be dated ([`check_delivered_on`], for the write policy)
//! and when it is on time ([`is_on_time`], for the monthly report).

use super::{Finding, RuleId, Severity, Verdict};
use crate::values::{Date, Timestamp};

/// Block finding `delivery_too_early` (field `requested_delivery`) when
/// `requested < order_date + lead_days`.
pub fn check_delivery_date(order_date: Date, requested: Date, lead_days: u32) -> Verdict {
    let earliest = order_date.add_days(i64::from(lead_days));
    if requested >= earliest {
        return Verdict::default();
    }
    Verdict::from_findings(vec![Finding::new(
        RuleId::DeliveryDate,
        Severity::Block,
        "delivery_too_early",
        format!("delivery cannot be requested before {earliest} ({lead_days} days lead time)"),
    )
    .field("requested_delivery")
    .input("order_date", order_date)
    .input("requested_delivery", requested)
    .input("lead_days", lead_days)
    .input("earliest_delivery", earliest)])
}

/// Why a delivery dated `delivered_on`, recorded at `recorded_at`, cannot belong to an order
/// dated `order_date`: goods are not delivered before they are ordered, nor recorded before
/// they arrive (the recording device's UTC date is its "today"). `None`: the date is possible.
pub fn check_delivered_on(
    order_date: Date,
    delivered_on: Date,
    recorded_at: Timestamp,
) -> Option<String> {
    let recorded_on = recorded_at.utc_date();
    if delivered_on < order_date {
        Some(format!(
            "a delivery on {delivered_on} is before the order date {order_date}"
        ))
    } else if delivered_on > recorded_on {
        Some(format!(
            "a delivery on {delivered_on} is in the future (recorded on {recorded_on})"
        ))
    } else {
        None
    }
}

/// A delivery is on time when the store received the goods on or before the day it asked
/// for; later is late. The monthly report's SQL counts by this rule
/// (`delivered_on <= requested_delivery`).
pub fn is_on_time(requested_delivery: Date, delivered_on: Date) -> bool {
    delivered_on <= requested_delivery
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleId, Severity};
    use crate::testkit::date;

    #[test]
    fn requested_date_against_order_date_plus_lead_time() {
        let order_date = date("2026-12-30");
        // Lead 3 days: earliest 2027-01-02.
        assert!(check_delivery_date(order_date, date("2027-01-03"), 3)
            .findings
            .is_empty());
        assert!(check_delivery_date(order_date, date("2027-01-02"), 3)
            .findings
            .is_empty());
        let v = check_delivery_date(order_date, date("2027-01-01"), 3);
        assert!(v.is_blocked());
        let f = &v.findings[0];
        assert_eq!(
            (f.rule, f.severity, f.code.as_str()),
            (RuleId::DeliveryDate, Severity::Block, "delivery_too_early")
        );
        assert_eq!(f.field.as_deref(), Some("requested_delivery"));
        assert_eq!(f.inputs["earliest_delivery"], "2027-01-02");
        assert_eq!(f.inputs["lead_days"], "3");
        assert_eq!(f.inputs["order_date"], "2026-12-30");
        assert_eq!(f.inputs["requested_delivery"], "2027-01-01");
    }

    #[test]
    fn zero_lead_time_allows_same_day_but_not_before() {
        let d = date("2026-11-22");
        assert!(check_delivery_date(d, d, 0).findings.is_empty());
        assert!(check_delivery_date(d, date("2026-11-21"), 0).is_blocked());
    }

    #[test]
    fn on_time_is_on_or_before_the_requested_day() {
        let requested = date("2026-11-25");
        assert!(is_on_time(requested, date("2026-11-20")));
        assert!(is_on_time(requested, requested));
        assert!(!is_on_time(requested, date("2026-11-26")));
    }

    #[test]
    fn delivered_on_between_the_order_date_and_the_day_it_is_recorded() {
        let order_date = date("2026-11-20");
        // 2026-11-25T23:30:00Z: the UTC date is the 25th.
        let recorded_at = Timestamp::parse("2026-11-25T23:30:00Z").unwrap();
        for ok in ["2026-11-20", "2026-11-23", "2026-11-25"] {
            assert_eq!(
                check_delivered_on(order_date, date(ok), recorded_at),
                None,
                "{ok}"
            );
        }
        let early = check_delivered_on(order_date, date("2026-11-19"), recorded_at).unwrap();
        assert!(
            early.contains("before the order date 2026-11-20"),
            "{early}"
        );
        let future = check_delivered_on(order_date, date("2026-11-26"), recorded_at).unwrap();
        assert!(future.contains("in the future"), "{future}");
        // The UTC date counts: 00:30 at +08:00 on the 26th is still the 25th in UTC.
        let east = Timestamp::parse("2026-11-26T00:30:00+08:00").unwrap();
        assert!(check_delivered_on(order_date, date("2026-11-26"), east).is_some());
    }
}
