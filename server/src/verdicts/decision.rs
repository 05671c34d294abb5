//! What the server does when its rules disagree with the phone, per rule (docs/verdicts.md):
//! where a held order lands, and the outcome of each finding.

use fieldsync_shared::order::OrderStatus;
use fieldsync_shared::rules::{Finding, Severity};

use crate::store::verdicts::FindingOutcome;

/// Codes whose order cannot be approved as it is: the rep must change it, so a held order goes
/// back to draft. Every other code that holds an order sends it to `pending_approval`, where a
/// supervisor decides (credit, price floor, discount authority, stale or missing credit data).
const BACK_TO_DRAFT: &[&str] = &[
    "quantity_zero",
    "quantity_not_case_multiple",
    "unknown_product",
    "delivery_too_early",
];

/// The status a held order lands in because of `finding`.
pub fn held_order_status(finding: &Finding) -> OrderStatus {
    if BACK_TO_DRAFT.contains(&finding.code.as_str()) {
        OrderStatus::Draft
    } else {
        OrderStatus::PendingApproval
    }
}

/// The stricter of two landing statuses (draft before pending approval).
pub fn stricter(a: OrderStatus, b: OrderStatus) -> OrderStatus {
    if a == OrderStatus::Draft || b == OrderStatus::Draft {
        OrderStatus::Draft
    } else {
        b
    }
}

/// What the phone's own evaluation says about a finding of the server's current data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneView {
    /// The document records no basis (an older app, or a client that skips the rules): the
    /// server's rules decide.
    Unrecorded,
    /// The server cannot rebuild the data the phone used for this rule (the master rows changed
    /// since the phone's version): the phone gets the benefit of the doubt.
    NotReconstructable,
    /// Rebuilt from the phone's basis, the rule finds the same code: the phone should have
    /// held the document itself.
    FoundToo,
    /// Rebuilt from the phone's basis, the rule does not find it: the phone was right on its
    /// own (older) data.
    NotFound,
}

/// The outcome of a server finding on a submitted order (`status`: as pushed).
pub fn order_outcome(finding: &Finding, status: OrderStatus, phone: PhoneView) -> FindingOutcome {
    match finding.severity {
        Severity::Flag => FindingOutcome::Flagged,
        // The phone already sent it to a supervisor.
        Severity::NeedsApproval if status == OrderStatus::PendingApproval => FindingOutcome::Noted,
        Severity::NeedsApproval | Severity::Block => match phone {
            PhoneView::Unrecorded | PhoneView::FoundToo => FindingOutcome::Held,
            PhoneView::NotReconstructable | PhoneView::NotFound => FindingOutcome::Flagged,
        },
    }
}

/// The outcome of a server finding on a submitted visit: what blocks a submission (timing,
/// missing steps or photos) is held whatever the phone said, for it depends on no master
/// data the phone could have had older; everything else is a flag for the supervisor.
pub fn visit_outcome(finding: &Finding) -> FindingOutcome {
    match finding.severity {
        Severity::Block => FindingOutcome::Held,
        Severity::NeedsApproval | Severity::Flag => FindingOutcome::Flagged,
    }
}

#[cfg(test)]
mod tests {
    use fieldsync_shared::rules::RuleId;

    use super::*;

    fn finding(code: &str, severity: Severity) -> Finding {
        Finding::new(RuleId::Pricing, severity, code, "m")
    }

    #[test]
    fn broken_orders_go_back_to_draft_the_rest_to_approval() {
        let case = finding("quantity_not_case_multiple", Severity::Block);
        let floor = finding("price_below_floor", Severity::Block);
        let overdue = finding("overdue_receivables", Severity::Block);
        assert_eq!(held_order_status(&case), OrderStatus::Draft);
        assert_eq!(held_order_status(&floor), OrderStatus::PendingApproval);
        assert_eq!(held_order_status(&overdue), OrderStatus::PendingApproval);
        assert_eq!(
            stricter(OrderStatus::PendingApproval, OrderStatus::Draft),
            OrderStatus::Draft
        );
        assert_eq!(
            stricter(OrderStatus::PendingApproval, OrderStatus::PendingApproval),
            OrderStatus::PendingApproval
        );
    }

    #[test]
    fn an_honest_phone_on_older_data_is_flagged_never_held() {
        let overdue = finding("overdue_receivables", Severity::Block);
        let submitted = OrderStatus::Submitted;
        use FindingOutcome::*;
        assert_eq!(
            order_outcome(&overdue, submitted, PhoneView::Unrecorded),
            Held
        );
        assert_eq!(
            order_outcome(&overdue, submitted, PhoneView::FoundToo),
            Held
        );
        assert_eq!(
            order_outcome(&overdue, submitted, PhoneView::NotFound),
            Flagged
        );
        assert_eq!(
            order_outcome(&overdue, submitted, PhoneView::NotReconstructable),
            Flagged
        );
    }

    #[test]
    fn approval_the_phone_already_asked_for_is_noted() {
        let discount = finding("discount_beyond_authority", Severity::NeedsApproval);
        assert_eq!(
            order_outcome(
                &discount,
                OrderStatus::PendingApproval,
                PhoneView::Unrecorded
            ),
            FindingOutcome::Noted
        );
        assert_eq!(
            order_outcome(&discount, OrderStatus::Submitted, PhoneView::Unrecorded),
            FindingOutcome::Held
        );
    }
}
