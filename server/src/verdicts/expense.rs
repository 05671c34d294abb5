//! The verdict on a submitted expense: the expense rule (`shared::rules::expense`, the call
//! the phone makes at submission) against the server's figures of the expense's month (the
//! person's orders and other expenses in the projections, the tenant's budget and tiers, the
//! person's role). An expense the phone put less strictly than the rule says (submitted
//! instead of waiting, or waiting for a supervisor where the manager must decide, or a client
//! that skipped the rule) is held where the rule puts it; one the rule blocks goes back to
//! draft.

use fieldsync_shared::expense::{Approver, Expense, ExpenseStatus};
use fieldsync_shared::order::Order;
use fieldsync_shared::org::Role;
use fieldsync_shared::rules::expense::{self, ExpenseData};
use fieldsync_shared::tiers::ApprovalTiers;
use fieldsync_shared::values::{DocId, TenantId, Timestamp};

use super::judge::{Judged, Judgement};
use crate::http::ApiResult;
use crate::store::documents::Projection;
use crate::store::verdicts::{FindingOutcome, FindingSource};
use crate::store::{DirectoryStore, ExpenseStore};

/// The orders and expenses of the push being judged, as merged: a phone that submitted an
/// order and then an expense offline sends both in one push, and the expense's month must
/// count that order (and the push's other expenses) before they are in the projections.
#[derive(Debug, Clone, Default)]
pub struct Pushed {
    orders: Vec<Order>,
    expenses: Vec<Expense>,
}

impl Pushed {
    pub fn of<'a>(projections: impl IntoIterator<Item = &'a Projection>) -> Pushed {
        let mut pushed = Pushed::default();
        for p in projections {
            match p {
                Projection::Order(o) => pushed
                    .orders
                    .extend(serde_json::from_str::<Order>(&o.document_json).ok()),
                Projection::Expense(e) => pushed
                    .expenses
                    .extend(serde_json::from_str::<Expense>(&e.document_json).ok()),
                Projection::Visit(_) | Projection::Plan(_) => {}
            }
        }
        pushed
    }
}

/// `stored` with the pushed version of each document in place of the stored one.
fn with_pushed<T: Clone>(stored: Vec<T>, pushed: &[T], id: impl Fn(&T) -> DocId) -> Vec<T> {
    let mut out: Vec<T> = stored
        .into_iter()
        .filter(|s| !pushed.iter().any(|p| id(p) == id(s)))
        .collect();
    out.extend(pushed.iter().cloned());
    out
}

/// Everything the expense rule needs of the server's data for `expense`.
pub struct ExpenseInputs {
    pub role: Role,
    pub tiers: ApprovalTiers,
    pub data: ExpenseData,
}

/// Reads the inputs of the rule for `expense`: its person's role, the tenant's budget and
/// tiers, and the person's achieved sales and other spending of the expense's month (the
/// projections' with this push's documents in place).
pub async fn expense_inputs<S: DirectoryStore + ExpenseStore + ?Sized>(
    store: &S,
    tenant: TenantId,
    expense: &Expense,
    pushed: &Pushed,
) -> ApiResult<ExpenseInputs> {
    let role = super::submitter_role(store, tenant, expense.person_id).await?;
    // None stored: the defaults, as on the phones.
    let tiers = store.approval_tiers(tenant).await?.unwrap_or_default();
    let budget = store.expense_budget(tenant).await?;
    let (first, last) = expense::month_of(expense.date);
    let month = store
        .person_month(tenant, expense.person_id, first, last)
        .await?;
    let orders: Vec<Order> = month
        .orders
        .iter()
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect();
    let orders = with_pushed(orders, &pushed.orders, |o| o.id);
    let expenses: Vec<Expense> = month
        .expenses
        .iter()
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect();
    let expenses = with_pushed(expenses, &pushed.expenses, |e| e.id);
    Ok(ExpenseInputs {
        role,
        tiers,
        data: ExpenseData {
            achieved: expense::achieved_sales(&orders, expense.person_id, expense.date),
            // A submission without a time (a client that skipped the rule) is judged after
            // everything else.
            spent: expense::month_spent(
                &expenses,
                expense,
                expense.submitted_at.unwrap_or(Timestamp(i64::MAX)),
            ),
            budget,
        },
    })
}

/// How strictly an expense is placed: submitted < waiting for a supervisor < waiting for the
/// manager; a draft (a blocked submission) is strictest.
fn strictness(status: ExpenseStatus, approver: Option<Approver>) -> u8 {
    match (status, approver) {
        (ExpenseStatus::Draft, _) => 3,
        (ExpenseStatus::PendingApproval, Some(Approver::Manager)) => 2,
        (ExpenseStatus::PendingApproval, _) => 1,
        _ => 0,
    }
}

/// The verdict on `expense` (as merged) with the server's `inputs`.
pub fn judge_expense(expense: &Expense, inputs: &ExpenseInputs) -> Judgement {
    let verdict = expense::evaluate_expense(expense, inputs.role, &inputs.tiers, &inputs.data);
    let (status, approver) =
        expense::submitted_status(&verdict).unwrap_or((ExpenseStatus::Draft, None));
    let held =
        (strictness(status, approver) > strictness(expense.status, expense.approver)).then(|| {
            let mut held = expense.clone();
            held.status = status;
            held.approver = approver;
            if status == ExpenseStatus::Draft {
                held.submitted_at = None;
            }
            fieldsync_shared::document::AnyDocument::Expense(held)
        });
    let outcome = if held.is_some() {
        FindingOutcome::Held
    } else {
        // The phone already put it where the rule does: kept, flagged for the approver.
        FindingOutcome::Flagged
    };
    let findings = verdict
        .findings
        .into_iter()
        .map(|finding| Judged {
            source: FindingSource::ServerData,
            check: None,
            finding,
            outcome,
            data_version: None,
        })
        .collect();
    Judgement { findings, held }
}

#[cfg(test)]
mod tests {
    use fieldsync_shared::document::AnyDocument;
    use fieldsync_shared::expense::{ExpenseBudget, ExpenseType};
    use fieldsync_shared::tiers::RoleLimits;
    use fieldsync_shared::values::{Date, Money, Timestamp, UserId};

    use super::*;

    fn inputs(spent: i64) -> ExpenseInputs {
        ExpenseInputs {
            role: Role::Rep,
            tiers: ApprovalTiers {
                expense_amount: RoleLimits {
                    rep: Some(Money(20_000)),
                    supervisor: Some(Money(100_000)),
                    manager: None,
                },
                ..ApprovalTiers::default()
            },
            data: ExpenseData {
                achieved: Money::ZERO,
                spent: Money(spent),
                budget: ExpenseBudget::default(),
            },
        }
    }

    fn submitted(amount: i64, status: ExpenseStatus, approver: Option<Approver>) -> Expense {
        let mut e = Expense::new(
            UserId::new_random(),
            ExpenseType::Entertainment,
            Money(amount),
            Date::parse("2026-12-07").unwrap(),
            Timestamp(1_000),
        );
        e.status = status;
        e.approver = approver;
        e.submitted_at = Some(Timestamp(2_000));
        e
    }

    fn held(j: &Judgement) -> Option<(ExpenseStatus, Option<Approver>)> {
        match &j.held {
            Some(AnyDocument::Expense(e)) => Some((e.status, e.approver)),
            _ => None,
        }
    }

    #[test]
    fn an_expense_submitted_past_the_rule_is_held_where_the_rule_puts_it() {
        // Above the supervisor's tier, sent as submitted by a client that skipped the rule.
        let j = judge_expense(
            &submitted(150_000, ExpenseStatus::Submitted, None),
            &inputs(0),
        );
        assert_eq!(
            held(&j),
            Some((ExpenseStatus::PendingApproval, Some(Approver::Manager)))
        );
        assert!(j.findings.iter().all(|f| f.outcome == FindingOutcome::Held));
        // Waiting for a supervisor where the manager must decide.
        let j = judge_expense(
            &submitted(
                150_000,
                ExpenseStatus::PendingApproval,
                Some(Approver::Supervisor),
            ),
            &inputs(0),
        );
        assert_eq!(
            held(&j),
            Some((ExpenseStatus::PendingApproval, Some(Approver::Manager)))
        );
        // Over the month's budget: the supervisor.
        let j = judge_expense(
            &submitted(100, ExpenseStatus::Submitted, None),
            &inputs(100_000),
        );
        assert_eq!(
            held(&j),
            Some((ExpenseStatus::PendingApproval, Some(Approver::Supervisor)))
        );
        assert_eq!(j.findings[0].finding.code, "expense_over_budget");
    }

    #[test]
    fn an_expense_the_phone_placed_as_the_rule_does_is_kept() {
        let j = judge_expense(
            &submitted(
                50_000,
                ExpenseStatus::PendingApproval,
                Some(Approver::Supervisor),
            ),
            &inputs(0),
        );
        assert_eq!(held(&j), None);
        assert_eq!(j.findings[0].outcome, FindingOutcome::Flagged);
        let j = judge_expense(&submitted(100, ExpenseStatus::Submitted, None), &inputs(0));
        assert_eq!(j, Judgement::default());
        // Stricter than the rule: kept as the phone put it.
        let j = judge_expense(
            &submitted(100, ExpenseStatus::PendingApproval, Some(Approver::Manager)),
            &inputs(0),
        );
        assert_eq!(held(&j), None);
    }

    #[test]
    fn a_blocked_expense_goes_back_to_draft() {
        let j = judge_expense(&submitted(0, ExpenseStatus::Submitted, None), &inputs(0));
        let Some(AnyDocument::Expense(e)) = &j.held else {
            panic!("not held: {j:?}");
        };
        assert_eq!((e.status, e.submitted_at), (ExpenseStatus::Draft, None));
    }
}
