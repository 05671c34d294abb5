//! Rule 7: approval tiers. An order whose total is above what its submitter's role may submit
//! alone needs approval, by the lowest role whose tier covers it (a supervisor, then a
//! manager). The discount tiers apply in the pricing rule (`RuleSettings::discount_authority`).
//! The tiers are the tenant's (`crate::tiers`), delivered to the phone with the master data,
//! so the phone and the server judge an order in the same call (`submission::evaluate_order`).

use super::{Finding, RuleId, Severity, Verdict};
use crate::org::Role;
use crate::tiers::ApprovalTiers;
use crate::values::Money;

/// NeedsApproval `order_amount_needs_approval` (field `total`) when the order's total is above
/// what `role` may submit alone; the finding names the approver (`supervisor`, `manager`, or
/// `none` when the total is beyond every limit). A total that overflows counts as beyond.
pub fn check_order_amount(total: Option<Money>, role: Role, tiers: &ApprovalTiers) -> Verdict {
    let total = total.unwrap_or(Money(i64::MAX));
    let limits = &tiers.order_amount;
    if limits.allows(role, total) {
        return Verdict::default();
    }
    let limit = limits
        .of(role)
        .map_or("none".to_string(), |m| m.to_string());
    let approver = limits.approver(total).map_or("none", |r| r.as_str());
    Verdict::from_findings(vec![Finding::new(
        RuleId::Approval,
        Severity::NeedsApproval,
        "order_amount_needs_approval",
        format!(
            "an order of {total} is above the {limit} a {} may submit alone: {approver} approval",
            role.as_str()
        ),
    )
    .field("total")
    .input("total", total)
    .input("role", role.as_str())
    .input("limit", limit)
    .input("approver", approver)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::{RoleLimits, LADDER};

    /// Orders: a rep alone up to 5,000.00, a supervisor up to 20,000.00, a manager any.
    fn tiers() -> ApprovalTiers {
        ApprovalTiers {
            discount_bp: RoleLimits::uniform(Some(1000)),
            order_amount: RoleLimits {
                rep: Some(Money(500_000)),
                supervisor: Some(Money(2_000_000)),
                manager: None,
            },
            expense_amount: RoleLimits::uniform(None),
        }
    }

    #[test]
    fn an_order_above_the_reps_amount_needs_a_supervisor_then_a_manager() {
        let t = tiers();
        let codes = |total: i64, role| check_order_amount(Some(Money(total)), role, &t);
        assert!(codes(500_000, Role::Rep).findings.is_empty());
        let supervisor = codes(500_001, Role::Rep);
        assert!(supervisor.needs_approval());
        let f = &supervisor.findings[0];
        assert_eq!(
            (f.rule, f.code.as_str()),
            (RuleId::Approval, "order_amount_needs_approval")
        );
        assert_eq!(f.inputs["approver"], "supervisor");
        assert_eq!(f.inputs["limit"], Money(500_000).to_string());
        assert_eq!(
            codes(2_000_001, Role::Rep).findings[0].inputs["approver"],
            "manager"
        );
        // A supervisor's own order within their tier goes through; a manager's always.
        assert!(codes(2_000_000, Role::Supervisor).findings.is_empty());
        assert!(codes(i64::MAX, Role::Manager).findings.is_empty());
        // An overflowing total is beyond every limit but the manager's (none).
        let overflow = check_order_amount(None, Role::Rep, &t);
        assert_eq!(overflow.findings[0].inputs["approver"], "manager");
    }

    #[test]
    fn the_default_is_ten_percent_for_everyone_and_no_amount_tier() {
        let t = ApprovalTiers::default();
        for role in LADDER {
            assert_eq!(t.discount_bp.of(role), Some(1000));
        }
        assert!(check_order_amount(Some(Money(i64::MAX)), Role::Rep, &t)
            .findings
            .is_empty());
        assert_eq!(t.validate(), Ok(()));
    }
}
