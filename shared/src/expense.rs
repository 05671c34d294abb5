//! The expense document: recorded offline by a rep (travel, entertainment, a display fee paid
//! to a store, other), with its amount, date, the store or visit it was for and a receipt
//! photo, then submitted. The expense rule (`rules::expense`) decides at submission whether
//! the submitter's tier and the month's budget cover it (`submitted`) or who must approve it
//! first (`pending_approval`, naming the approver); that approver approves or rejects it
//! (`policy::check_expense`). Merged by Automerge like visits and orders.
//!
//! [`ExpenseBudget`] is the tenant's monthly budget setting the rule applies, delivered to the
//! phones with master data.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::evaluation::{RulesBasis, ShownFinding};
use crate::org::Role;
use crate::values::{
    string_enum, Date, DocId, Money, ParseError, ShortText, StoreId, Timestamp, UserId,
};
use crate::visit::PhotoRef;

/// Version of the expense document schema, stored in the document.
pub const EXPENSE_SCHEMA_VERSION: u64 = 1;

string_enum!(
    /// What the money was spent on.
    ExpenseType, "expense type" {
        Travel = "travel",
        Entertainment = "entertainment",
        /// A fee paid to a store for a display (end cap, stack, shelf position).
        DisplayFee = "display_fee",
        Other = "other",
    }
);

string_enum!(
    /// Lifecycle of an expense.
    ExpenseStatus, "expense status" {
        /// Being recorded by the rep.
        Draft = "draft",
        /// Within the rep's tier and the month's budget: accepted as submitted.
        Submitted = "submitted",
        /// Waiting for the approver the expense names.
        PendingApproval = "pending_approval",
        Approved = "approved",
        Rejected = "rejected",
    }
);

string_enum!(
    /// Who must approve an expense: the lowest role whose tier covers it, at least the role
    /// above the submitter for an expense over the month's budget. Ordered lowest first.
    Approver, "expense approver" {
        Supervisor = "supervisor",
        Manager = "manager",
    }
);

string_enum!(
    ExpenseDecision, "expense decision" {
        Approved = "approved",
        Rejected = "rejected",
    }
);

impl Approver {
    /// The approver a role stands for (`None`: a role that approves nothing).
    pub fn of_role(role: Role) -> Option<Approver> {
        match role {
            Role::Supervisor => Some(Approver::Supervisor),
            Role::Manager | Role::Admin => Some(Approver::Manager),
            Role::Rep | Role::Merchandiser => None,
        }
    }

    /// `role` may approve what this approver is named for (a manager may stand in for a
    /// supervisor, never the other way round).
    pub fn is_covered_by(self, role: Role) -> bool {
        Approver::of_role(role).is_some_and(|held| held >= self)
    }
}

/// The approver's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct ExpenseReview {
    pub decision: ExpenseDecision,
    pub comment: Option<ShortText>,
    pub by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Expense {
    pub schema: u64,
    pub id: DocId,
    /// The person who spent the money.
    pub person_id: UserId,
    pub expense_type: ExpenseType,
    /// What was spent, in the tenant's currency (minor units); positive.
    pub amount: Money,
    /// The day the money was spent: the month whose budget it counts against.
    pub date: Date,
    /// The store it was spent for (a display fee, entertaining a buyer), if any.
    pub store_id: Option<StoreId>,
    /// The visit during which it was spent, if any.
    pub visit_id: Option<DocId>,
    pub description: Option<ShortText>,
    /// The receipt photo, through the photo pipeline like a visit's photos.
    pub receipt: Option<PhotoRef>,
    pub status: ExpenseStatus,
    pub created_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    /// Who must approve it, set with `pending_approval` by the expense rule.
    pub approver: Option<Approver>,
    /// The master data and figures the phone judged the expense against at submission.
    pub evaluated_against: Option<RulesBasis>,
    /// The findings the phone showed the rep, oldest first.
    pub findings: Vec<ShownFinding>,
    pub review: Option<ExpenseReview>,
}

crate::changed_fields::changed_fields! {
    Expense {
        schema, id, person_id, expense_type, amount, date, store_id, visit_id, description,
        receipt, status, created_at, submitted_at, approver, evaluated_against, findings, review,
    }
}

impl Expense {
    /// A new draft of `person`'s.
    pub fn new(
        person_id: UserId,
        expense_type: ExpenseType,
        amount: Money,
        date: Date,
        created_at: Timestamp,
    ) -> Self {
        Expense {
            schema: EXPENSE_SCHEMA_VERSION,
            id: DocId::new_random(),
            person_id,
            expense_type,
            amount,
            date,
            store_id: None,
            visit_id: None,
            description: None,
            receipt: None,
            status: ExpenseStatus::Draft,
            created_at,
            submitted_at: None,
            approver: None,
            evaluated_against: None,
            findings: Vec::new(),
            review: None,
        }
    }

    /// The expense counts against its month's budget: submitted, waiting or approved.
    pub fn counts_against_budget(&self) -> bool {
        matches!(
            self.status,
            ExpenseStatus::Submitted | ExpenseStatus::PendingApproval | ExpenseStatus::Approved
        )
    }
}

/// A tenant's monthly expense budget per person: `base + achieved × ratio_bp / 10,000`, where
/// `achieved` is the person's achieved sales of the month (`rules::expense::achieved_sales`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpenseBudget {
    /// What a person may spend in a month with no sales.
    pub base: Money,
    /// What each unit of achieved sales adds, in basis points (300: 3 %).
    pub ratio_bp: u32,
}

impl Default for ExpenseBudget {
    /// 1,000.00 a month plus 3 % of achieved sales.
    fn default() -> Self {
        ExpenseBudget {
            base: Money(100_000),
            ratio_bp: 300,
        }
    }
}

impl ExpenseBudget {
    /// What may be spent in a month with `achieved` sales (saturating).
    pub fn allowance(&self, achieved: Money) -> Money {
        let earned = i128::from(achieved.0.max(0)) * i128::from(self.ratio_bp) / 10_000;
        let total = i128::from(self.base.0) + earned;
        Money(i64::try_from(total).unwrap_or(i64::MAX))
    }

    /// A base that is not negative and a ratio of at most 100 %.
    pub fn validate(&self) -> Result<(), ParseError> {
        if self.base < Money::ZERO {
            return Err(ParseError::new("expense budget", "base: negative"));
        }
        if self.ratio_bp > 10_000 {
            return Err(ParseError::new(
                "expense budget",
                "ratio_bp: above 10000 (100 %)",
            ));
        }
        Ok(())
    }
}
