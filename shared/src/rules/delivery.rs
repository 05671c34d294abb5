//! Rule 7: requested delivery date not before the order date plus the lead time.

use super::{Finding, RuleId, Severity, Verdict};
use crate::values::Date;

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
}
