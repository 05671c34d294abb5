//! Rule 5: credit. Block submission when the customer's overdue amount > 0, or when
//! receivables + open orders + this order > limit, using the dated credit snapshot. A stale
//! snapshot (older than `max_age_days`) sends the order to approval instead of blocking.

use super::{Finding, RuleId, Severity, Verdict};
use crate::master::CreditSnapshot;
use crate::values::{Date, Money};

#[derive(Debug, Clone, PartialEq)]
pub struct CreditCheck<'a> {
    /// `None`: no snapshot known for the store -> needs approval (`credit_unknown`).
    pub snapshot: Option<&'a CreditSnapshot>,
    /// Other open (submitted, not yet invoiced) orders of the store.
    pub open_orders: Money,
    pub this_order: Money,
    pub today: Date,
    pub max_age_days: u32,
}

/// Findings: Block `overdue_receivables` / `credit_limit_exceeded` when the snapshot is fresh;
/// NeedsApproval `credit_snapshot_stale` (with what it would have said) when it is stale;
/// NeedsApproval `credit_unknown` without a snapshot. Cash orders should not be checked at all
/// (the caller decides).
///
/// A snapshot is fresh when `as_of >= today - max_age_days` (a snapshot dated in the future
/// counts as fresh). Exposure exactly at the limit is allowed.
pub fn check_order(input: &CreditCheck<'_>) -> Verdict {
    let Some(snap) = input.snapshot else {
        return Verdict::from_findings(vec![Finding::new(
            RuleId::Credit,
            Severity::NeedsApproval,
            "credit_unknown",
            "no credit data for this store; a supervisor must approve",
        )
        .input("open_orders", input.open_orders)
        .input("this_order", input.this_order)
        .input("today", input.today)]);
    };
    // Overflow cannot be a real exposure; treat it as over any limit.
    let exposure = snap
        .receivables
        .checked_add(input.open_orders)
        .and_then(|m| m.checked_add(input.this_order));
    let over_limit = exposure.is_none_or(|e| e > snap.credit_limit);
    let overdue = snap.overdue > Money::ZERO;
    let with_inputs = |f: Finding| {
        f.input("credit_limit", snap.credit_limit)
            .input("receivables", snap.receivables)
            .input("overdue", snap.overdue)
            .input("open_orders", input.open_orders)
            .input("this_order", input.this_order)
            .input(
                "exposure",
                exposure.map_or("overflow".to_string(), |e| e.to_string()),
            )
            .input("as_of", snap.as_of)
            .input("today", input.today)
            .input("max_age_days", input.max_age_days)
    };

    let fresh = snap.as_of >= input.today.add_days(-i64::from(input.max_age_days));
    if !fresh {
        let mut would: Vec<&str> = Vec::new();
        if overdue {
            would.push("overdue_receivables");
        }
        if over_limit {
            would.push("credit_limit_exceeded");
        }
        let would = if would.is_empty() {
            "none".to_string()
        } else {
            would.join(",")
        };
        let age = snap.as_of.days_until(input.today);
        return Verdict::from_findings(vec![with_inputs(Finding::new(
            RuleId::Credit,
            Severity::NeedsApproval,
            "credit_snapshot_stale",
            format!(
                "credit data is {age} days old (as of {}); a supervisor must approve",
                snap.as_of
            ),
        ))
        .input("age_days", age)
        .input("would_have_found", would)]);
    }

    let mut findings = Vec::new();
    if overdue {
        findings.push(with_inputs(Finding::new(
            RuleId::Credit,
            Severity::Block,
            "overdue_receivables",
            format!(
                "the store has {} overdue; no new credit orders",
                snap.overdue
            ),
        )));
    }
    if over_limit {
        findings.push(with_inputs(Finding::new(
            RuleId::Credit,
            Severity::Block,
            "credit_limit_exceeded",
            format!(
                "receivables + open orders + this order exceed the credit limit {}",
                snap.credit_limit
            ),
        )));
    }
    Verdict::from_findings(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleId, Severity};
    use crate::testkit::{credit, date, money};

    fn check(snapshot: Option<&CreditSnapshot>, open: &str, this: &str) -> Verdict {
        check_order(&CreditCheck {
            snapshot,
            open_orders: money(open),
            this_order: money(this),
            today: date("2026-11-22"),
            max_age_days: 7,
        })
    }

    fn codes(v: &Verdict) -> Vec<(&str, Severity)> {
        v.findings
            .iter()
            .map(|f| (f.code.as_str(), f.severity))
            .collect()
    }

    #[test]
    fn within_limit_and_nothing_overdue_passes() {
        let snap = credit("1000.00", "400.00", "0", "2026-11-22");
        assert!(check(Some(&snap), "300.00", "299.99").findings.is_empty());
        // Exactly at the limit is allowed.
        assert!(check(Some(&snap), "300.00", "300.00").findings.is_empty());
    }

    #[test]
    fn one_cent_over_the_limit_blocks() {
        let snap = credit("1000.00", "400.00", "0", "2026-11-22");
        let v = check(Some(&snap), "300.00", "300.01");
        assert_eq!(codes(&v), [("credit_limit_exceeded", Severity::Block)]);
        let f = &v.findings[0];
        assert_eq!(f.rule, RuleId::Credit);
        assert_eq!(f.inputs["exposure"], "1000.01");
        assert_eq!(f.inputs["credit_limit"], "1000.00");
        assert_eq!(f.inputs["receivables"], "400.00");
        assert_eq!(f.inputs["open_orders"], "300.00");
        assert_eq!(f.inputs["this_order"], "300.01");
        assert_eq!(f.inputs["as_of"], "2026-11-22");
    }

    #[test]
    fn any_overdue_amount_blocks() {
        let snap = credit("1000.00", "400.00", "0.01", "2026-11-22");
        let v = check(Some(&snap), "0", "1.00");
        assert_eq!(codes(&v), [("overdue_receivables", Severity::Block)]);
        assert_eq!(v.findings[0].inputs["overdue"], "0.01");
        let both = check(Some(&snap), "0", "900.00");
        assert_eq!(
            codes(&both),
            [
                ("overdue_receivables", Severity::Block),
                ("credit_limit_exceeded", Severity::Block)
            ]
        );
    }

    #[test]
    fn overflowing_exposure_counts_as_over_the_limit() {
        let mut snap = credit("1000.00", "0", "0", "2026-11-22");
        snap.receivables = Money(i64::MAX);
        let v = check(Some(&snap), "0", "0.01");
        assert_eq!(codes(&v), [("credit_limit_exceeded", Severity::Block)]);
        assert_eq!(v.findings[0].inputs["exposure"], "overflow");
    }

    #[test]
    fn snapshot_age_boundary() {
        // today 2026-11-22, max age 7: as of 2026-11-15 is still fresh.
        let fresh = credit("1000.00", "0", "5.00", "2026-11-15");
        assert_eq!(
            codes(&check(Some(&fresh), "0", "1.00")),
            [("overdue_receivables", Severity::Block)]
        );
        let stale = credit("1000.00", "0", "5.00", "2026-11-14");
        let v = check(Some(&stale), "0", "1.00");
        assert_eq!(
            codes(&v),
            [("credit_snapshot_stale", Severity::NeedsApproval)]
        );
        assert!(!v.is_blocked() && v.needs_approval());
        assert_eq!(v.findings[0].inputs["age_days"], "8");
        assert_eq!(
            v.findings[0].inputs["would_have_found"],
            "overdue_receivables"
        );
    }

    #[test]
    fn stale_snapshot_needs_approval_even_when_it_would_pass() {
        let stale = credit("1000.00", "0", "0", "2026-01-01");
        let v = check(Some(&stale), "0", "1.00");
        assert_eq!(
            codes(&v),
            [("credit_snapshot_stale", Severity::NeedsApproval)]
        );
        assert_eq!(v.findings[0].inputs["would_have_found"], "none");
        let v = check(Some(&stale), "0", "2000.00");
        assert_eq!(
            v.findings[0].inputs["would_have_found"],
            "credit_limit_exceeded"
        );
    }

    #[test]
    fn snapshot_dated_in_the_future_is_fresh() {
        let future = credit("1000.00", "0", "0", "2026-12-01");
        assert!(check(Some(&future), "0", "1.00").findings.is_empty());
    }

    #[test]
    fn no_snapshot_needs_approval() {
        let v = check(None, "0", "1.00");
        assert_eq!(codes(&v), [("credit_unknown", Severity::NeedsApproval)]);
        assert_eq!(v.findings[0].inputs["this_order"], "1.00");
    }
}
