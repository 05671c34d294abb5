//! Rule 4: freshness. Stock on shelf must not be older than one third of its shelf life:
//! oldest production date + shelf_life/3 >= audit date, else a finding.

use super::{Finding, RuleId, Severity, Verdict};
use crate::master::Product;
use crate::values::Date;
use crate::visit::AuditLine;

/// Flag finding `stale_stock` (field `audit.<key>.oldest_production_date`) when the line's
/// oldest production date plus a third of the product's shelf life (whole days, rounded down)
/// is before `audit_date`. A line without a production date yields nothing.
pub fn check_line(line: &AuditLine, product: &Product, audit_date: Date) -> Verdict {
    let Some(produced) = line.oldest_production_date else {
        return Verdict::default();
    };
    let max_age_days = product.shelf_life_days / 3;
    let limit = produced.add_days(i64::from(max_age_days));
    if limit >= audit_date {
        return Verdict::default();
    }
    let age_days = produced.days_until(audit_date);
    Verdict::from_findings(vec![Finding::new(
        RuleId::Freshness,
        Severity::Flag,
        "stale_stock",
        format!(
            "{} on {} is {age_days} days old, more than a third of its {} day shelf life",
            line.sku, line.location, product.shelf_life_days
        ),
    )
    .field(format!("audit.{}.oldest_production_date", line.key()))
    .input("oldest_production_date", produced)
    .input("shelf_life_days", product.shelf_life_days)
    .input("max_age_days", max_age_days)
    .input("age_days", age_days)
    .input("audit_date", audit_date)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleId, Severity};
    use crate::testkit::{audit_line, date, product};
    use crate::values::UserId;

    fn line_produced(d: Option<&str>) -> AuditLine {
        AuditLine {
            oldest_production_date: d.map(date),
            ..audit_line("COLA-330", "MAIN-SHELF", 4, UserId::new_random())
        }
    }

    #[test]
    fn a_third_of_shelf_life_is_the_limit() {
        let p = product(); // 270 days: 90 days allowed
        let line = line_produced(Some("2026-01-01"));
        assert!(check_line(&line, &p, date("2026-03-31"))
            .findings
            .is_empty()); // 89 days
        assert!(check_line(&line, &p, date("2026-04-01"))
            .findings
            .is_empty()); // 90 days
        let v = check_line(&line, &p, date("2026-04-02")); // 91 days
        let f = &v.findings[0];
        assert_eq!(
            (f.rule, f.severity, f.code.as_str()),
            (RuleId::Freshness, Severity::Flag, "stale_stock")
        );
        assert_eq!(
            f.field.as_deref(),
            Some("audit.COLA-330@MAIN-SHELF.oldest_production_date")
        );
        assert_eq!(f.inputs["max_age_days"], "90");
        assert_eq!(f.inputs["age_days"], "91");
        assert_eq!(f.inputs["shelf_life_days"], "270");
        assert_eq!(f.inputs["oldest_production_date"], "2026-01-01");
        assert_eq!(f.inputs["audit_date"], "2026-04-02");
    }

    #[test]
    fn a_third_is_rounded_down() {
        let p = Product {
            shelf_life_days: 11,
            ..product()
        }; // 3 days allowed
        let line = line_produced(Some("2026-01-01"));
        assert!(check_line(&line, &p, date("2026-01-04"))
            .findings
            .is_empty());
        assert_eq!(check_line(&line, &p, date("2026-01-05")).findings.len(), 1);
    }

    #[test]
    fn no_production_date_yields_nothing() {
        let line = line_produced(None);
        assert!(check_line(&line, &product(), date("2030-01-01"))
            .findings
            .is_empty());
    }
}
