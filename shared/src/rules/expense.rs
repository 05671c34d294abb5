//! Expense pre-approval: who must approve an expense before it counts as accepted. Two checks,
//! one call ([`evaluate_expense`]) made by the phone at submission and by the server on the
//! submitted document (`server/src/verdicts/judge.rs`):
//!
//! 1. **Tier.** An expense above what the submitter's role may incur alone (the tenant's
//!    `ApprovalTiers::expense_amount`) needs the lowest role whose tier covers it: the
//!    supervisor, or the manager above the supervisor's limit. Code
//!    `expense_amount_needs_approval`.
//! 2. **Budget tied to achieved sales.** A person's expenses of a calendar month may total
//!    `base + ratio × achieved`, where `achieved` is the total of their orders of that month
//!    that are submitted or approved ([`achieved_sales`], the same figure as the target
//!    achievement's actual); spending grows with the sales it earns. The tenant sets `base` and `ratio` ([`ExpenseBudget`], default 1,000.00 + 3 %).
//!    An expense that takes the month's spending ([`month_spent`]: submitted, waiting and
//!    approved expenses) above that needs the role above the submitter. Code
//!    `expense_over_budget`.
//!
//! Both findings are NeedsApproval: the expense goes to `pending_approval` naming the higher
//! of the approvers ([`submitted_status`]). An amount that is not positive blocks.

use super::sales::saturating_add;
pub use super::sales::{achieved_sales, month_of};
use super::{Finding, RuleId, Severity, Verdict};
pub use crate::expense::ExpenseBudget;
use crate::expense::{Approver, Expense, ExpenseStatus};
use crate::org::Role;
use crate::tiers::ApprovalTiers;
use crate::values::{Date, Money, Timestamp, UserId};

/// The figures of the expense's month the budget check uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpenseData {
    /// The submitter's achieved sales in the month ([`achieved_sales`]).
    pub achieved: Money,
    /// The submitter's other expenses of the month that count ([`month_spent`]).
    pub spent: Money,
    pub budget: ExpenseBudget,
}

/// What `judged`'s person had spent in its month when `judged` was submitted at `at`: their
/// other expenses of the month that count against the budget and were submitted before `at`
/// (one without a submission time counts). So an expense is judged alike whenever, and
/// wherever, it is judged: later submissions never count against an earlier one.
pub fn month_spent<'a>(
    expenses: impl IntoIterator<Item = &'a Expense>,
    judged: &Expense,
    at: Timestamp,
) -> Money {
    budget_expenses(expenses, judged.person_id, judged.date)
        .filter(|e| e.id != judged.id)
        .filter(|e| e.submitted_at.is_none_or(|t| t < at))
        .map(|e| e.amount)
        .fold(Money::ZERO, saturating_add)
}

/// `person`'s expenses that count against the budget of `date`'s month: dated in it and
/// submitted, waiting for approval or approved.
fn budget_expenses<'a>(
    expenses: impl IntoIterator<Item = &'a Expense>,
    person: UserId,
    date: Date,
) -> impl Iterator<Item = &'a Expense> {
    let (first, last) = month_of(date);
    expenses
        .into_iter()
        .filter(move |e| e.person_id == person && e.date >= first && e.date <= last)
        .filter(|e| e.counts_against_budget())
}

/// What `person` spent in `date`'s month as the budget counts it: the total of all their
/// expenses that count against it (the monthly report's expense figure).
pub fn month_expenses<'a>(
    expenses: impl IntoIterator<Item = &'a Expense>,
    person: UserId,
    date: Date,
) -> Money {
    budget_expenses(expenses, person, date)
        .map(|e| e.amount)
        .fold(Money::ZERO, saturating_add)
}

/// The approver of what `role` may not do alone: the role above it.
fn above(role: Role) -> Approver {
    match role {
        Role::Rep | Role::Merchandiser => Approver::Supervisor,
        Role::Supervisor | Role::Manager | Role::Admin => Approver::Manager,
    }
}

/// Every check of an expense being submitted by a person of `role`.
pub fn evaluate_expense(
    expense: &Expense,
    role: Role,
    tiers: &ApprovalTiers,
    data: &ExpenseData,
) -> Verdict {
    let amount = expense.amount;
    if amount <= Money::ZERO {
        return Verdict::from_findings(vec![Finding::new(
            RuleId::Expense,
            Severity::Block,
            "expense_amount_not_positive",
            format!("an expense must be of a positive amount, not {amount}"),
        )
        .field("amount")
        .input("amount", amount)]);
    }
    let mut findings = Vec::new();
    let limits = &tiers.expense_amount;
    if !limits.allows(role, amount) {
        let limit = limits
            .of(role)
            .map_or("none".to_string(), |m| m.to_string());
        // Beyond every limit: the manager decides.
        let approver = limits
            .approver(amount)
            .and_then(Approver::of_role)
            .unwrap_or(Approver::Manager);
        findings.push(
            Finding::new(
                RuleId::Expense,
                Severity::NeedsApproval,
                "expense_amount_needs_approval",
                format!(
                    "an expense of {amount} is above the {limit} a {} may spend alone: {approver} approval",
                    role.as_str()
                ),
            )
            .field("amount")
            .input("amount", amount)
            .input("role", role.as_str())
            .input("limit", limit)
            .input("approver", approver),
        );
    }
    let allowance = data.budget.allowance(data.achieved);
    let after = saturating_add(data.spent, amount);
    if after > allowance {
        let approver = above(role);
        let (first, _) = month_of(expense.date);
        findings.push(
            Finding::new(
                RuleId::Expense,
                Severity::NeedsApproval,
                "expense_over_budget",
                format!(
                    "this expense takes the month's spending to {after}, above the budget of {allowance} \
                     ({} + {} bp of {} achieved sales): {approver} approval",
                    data.budget.base, data.budget.ratio_bp, data.achieved
                ),
            )
            .field("amount")
            .input("month", &first.to_string()[..7])
            .input("amount", amount)
            .input("spent", data.spent)
            .input("achieved", data.achieved)
            .input("base", data.budget.base)
            .input("ratio_bp", data.budget.ratio_bp)
            .input("budget", allowance)
            .input("approver", approver),
        );
    }
    Verdict::from_findings(findings)
}

/// The status an expense is submitted in after `verdict`, with the approver it names
/// (`None`: blocked, not submittable).
pub fn submitted_status(verdict: &Verdict) -> Option<(ExpenseStatus, Option<Approver>)> {
    if verdict.is_blocked() {
        return None;
    }
    let approver = verdict
        .findings
        .iter()
        .filter(|f| f.rule == RuleId::Expense && f.severity == Severity::NeedsApproval)
        .filter_map(|f| f.inputs.get("approver"))
        .filter_map(|a| Approver::parse(a).ok())
        .max();
    Some(match approver {
        Some(a) => (ExpenseStatus::PendingApproval, Some(a)),
        None => (ExpenseStatus::Submitted, None),
    })
}

#[cfg(test)]
mod tests;
