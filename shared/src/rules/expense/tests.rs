use super::*;
use crate::expense::ExpenseType;
use crate::order::OrderStatus;
use crate::testkit::{date, money, order, order_line};
use crate::tiers::RoleLimits;
use crate::values::{Timestamp, UserId};

/// Expenses: a rep alone up to 200.00, a supervisor up to 1,000.00, a manager any.
fn tiers() -> ApprovalTiers {
    ApprovalTiers {
        expense_amount: RoleLimits {
            rep: Some(money("200.00")),
            supervisor: Some(money("1000.00")),
            manager: None,
        },
        ..ApprovalTiers::default()
    }
}

fn expense(amount: &str) -> Expense {
    Expense::new(
        UserId::new_random(),
        ExpenseType::Travel,
        money(amount),
        date("2026-12-07"),
        Timestamp(1_000),
    )
}

/// A month with room: 1,000.00 + 3 % of 50,000.00 = 2,500.00, nothing spent yet.
fn roomy() -> ExpenseData {
    ExpenseData {
        achieved: money("50000.00"),
        spent: Money::ZERO,
        budget: ExpenseBudget::default(),
    }
}

fn status(amount: &str, role: Role, data: &ExpenseData) -> (ExpenseStatus, Option<Approver>) {
    submitted_status(&evaluate_expense(&expense(amount), role, &tiers(), data)).unwrap()
}

#[test]
fn an_expense_above_the_reps_tier_goes_to_the_supervisor_then_the_manager() {
    let data = roomy();
    assert_eq!(
        status("200.00", Role::Rep, &data),
        (ExpenseStatus::Submitted, None)
    );
    assert_eq!(
        status("200.01", Role::Rep, &data),
        (ExpenseStatus::PendingApproval, Some(Approver::Supervisor))
    );
    assert_eq!(
        status("1000.01", Role::Rep, &data),
        (ExpenseStatus::PendingApproval, Some(Approver::Manager))
    );
    // A supervisor's own expense within their tier goes through.
    assert_eq!(
        status("1000.00", Role::Supervisor, &data),
        (ExpenseStatus::Submitted, None)
    );
    let verdict = evaluate_expense(&expense("300.00"), Role::Rep, &tiers(), &data);
    let f = &verdict.findings[0];
    assert_eq!(f.code, "expense_amount_needs_approval");
    assert_eq!(f.inputs["limit"], "200.00");
    assert_eq!(f.inputs["approver"], "supervisor");
}

#[test]
fn the_budget_grows_with_achieved_sales() {
    let budget = ExpenseBudget::default();
    assert_eq!(budget.allowance(Money::ZERO), money("1000.00"));
    assert_eq!(budget.allowance(money("50000.00")), money("2500.00"));
    assert_eq!(budget.allowance(money("-5.00")), money("1000.00"));
    assert_eq!(
        ExpenseBudget {
            base: Money(i64::MAX),
            ratio_bp: 10_000
        }
        .allowance(Money(i64::MAX)),
        Money(i64::MAX)
    );
    // 2,400.00 spent of 2,500.00: 100.00 fits, 100.01 does not.
    let data = ExpenseData {
        spent: money("2400.00"),
        ..roomy()
    };
    assert_eq!(
        status("100.00", Role::Rep, &data),
        (ExpenseStatus::Submitted, None)
    );
    let verdict = evaluate_expense(&expense("100.01"), Role::Rep, &tiers(), &data);
    assert_eq!(verdict.findings.len(), 1);
    let f = &verdict.findings[0];
    assert_eq!(f.code, "expense_over_budget");
    assert_eq!(f.inputs["budget"], "2500.00");
    assert_eq!(f.inputs["month"], "2026-12");
    assert_eq!(
        submitted_status(&verdict),
        Some((ExpenseStatus::PendingApproval, Some(Approver::Supervisor)))
    );
    // More sales, more room: 1,000.00 + 3 % of 60,000.00 = 2,800.00.
    let more = ExpenseData {
        achieved: money("60000.00"),
        ..data
    };
    assert_eq!(
        status("100.01", Role::Rep, &more),
        (ExpenseStatus::Submitted, None)
    );
}

#[test]
fn the_higher_approver_of_tier_and_budget_decides() {
    let broke = ExpenseData {
        achieved: Money::ZERO,
        spent: money("1000.00"),
        budget: ExpenseBudget::default(),
    };
    // Over budget and above the supervisor's tier: the manager.
    let verdict = evaluate_expense(&expense("1500.00"), Role::Rep, &tiers(), &broke);
    assert_eq!(verdict.findings.len(), 2);
    assert_eq!(
        submitted_status(&verdict),
        Some((ExpenseStatus::PendingApproval, Some(Approver::Manager)))
    );
    // A supervisor over budget needs the manager.
    assert_eq!(
        status("10.00", Role::Supervisor, &broke),
        (ExpenseStatus::PendingApproval, Some(Approver::Manager))
    );
}

#[test]
fn an_amount_that_is_not_positive_blocks() {
    let verdict = evaluate_expense(&expense("0.00"), Role::Rep, &tiers(), &roomy());
    assert!(verdict.is_blocked());
    assert_eq!(verdict.findings[0].code, "expense_amount_not_positive");
    assert_eq!(submitted_status(&verdict), None);
}

#[test]
fn achieved_sales_are_the_months_submitted_and_approved_orders() {
    let rep = UserId::new_random();
    let mk = |day: &str, status: OrderStatus, person: UserId| {
        let mut o = order();
        o.person_id = person;
        o.order_date = date(day);
        o.status = status;
        o.lines.clear();
        o.lines
            .insert("COLA-330".into(), order_line("COLA-330", 100, "10.00"));
        o
    };
    let orders = [
        mk("2026-12-01", OrderStatus::Submitted, rep),
        mk("2026-12-31", OrderStatus::Approved, rep),
        mk("2026-12-15", OrderStatus::PendingApproval, rep),
        mk("2026-12-15", OrderStatus::Cancelled, rep),
        mk("2026-11-30", OrderStatus::Submitted, rep),
        mk("2027-01-01", OrderStatus::Submitted, rep),
        mk("2026-12-10", OrderStatus::Submitted, UserId::new_random()),
    ];
    assert_eq!(
        achieved_sales(&orders, rep, date("2026-12-07")),
        money("2000.00")
    );
    // The same orders' units.
    assert_eq!(
        crate::rules::sales::achieved_volume(&orders, rep, date("2026-12-07")),
        200
    );
}

#[test]
fn the_months_spending_counts_what_is_submitted_waiting_or_approved() {
    let rep = UserId::new_random();
    let mk = |day: &str, amount: &str, status: ExpenseStatus| {
        let mut e = expense(amount);
        e.person_id = rep;
        e.date = date(day);
        e.status = status;
        e.submitted_at = Some(Timestamp(5_000));
        e
    };
    let judged = mk("2026-12-20", "999.00", ExpenseStatus::Draft);
    let mut later = mk("2026-12-06", "640.00", ExpenseStatus::Submitted);
    later.submitted_at = Some(Timestamp(9_000));
    let mut untimed = mk("2026-12-07", "1.00", ExpenseStatus::Submitted);
    untimed.submitted_at = None;
    let expenses = [
        mk("2026-12-01", "10.00", ExpenseStatus::Submitted),
        mk("2026-12-02", "20.00", ExpenseStatus::PendingApproval),
        mk("2026-12-03", "40.00", ExpenseStatus::Approved),
        mk("2026-12-04", "80.00", ExpenseStatus::Rejected),
        mk("2026-12-05", "160.00", ExpenseStatus::Draft),
        mk("2027-01-01", "320.00", ExpenseStatus::Submitted),
        later,
        untimed,
        judged.clone(),
    ];
    // Submitted before 9,000: not the later one.
    assert_eq!(
        month_spent(&expenses, &judged, Timestamp(9_000)),
        money("71.00")
    );
    assert_eq!(
        month_spent(&expenses, &judged, Timestamp(9_001)),
        money("711.00")
    );
    // The monthly report's figure: all of them that count, whenever submitted, the judged
    // draft not.
    assert_eq!(
        month_expenses(&expenses, rep, date("2026-12-31")),
        money("711.00")
    );
    assert_eq!(
        month_of(date("2026-02-14")),
        (date("2026-02-01"), date("2026-02-28"))
    );
    assert_eq!(
        month_of(date("2026-12-31")),
        (date("2026-12-01"), date("2026-12-31"))
    );
}

#[test]
fn budgets_validate() {
    assert!(ExpenseBudget::default().validate().is_ok());
    let negative = ExpenseBudget {
        base: money("-1.00"),
        ratio_bp: 0,
    };
    assert!(negative.validate().is_err());
    let too_much = ExpenseBudget {
        base: Money::ZERO,
        ratio_bp: 10_001,
    };
    assert!(too_much.validate().is_err());
}
