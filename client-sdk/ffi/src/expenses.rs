//! Expenses for apps: record one offline, attach its receipt, submit it (the expense rule
//! decides whether it waits for approval, and whose), approve or reject a team member's. Thin
//! wrappers over `fieldsync_client::Device`'s expense operations (docs/expenses.md).

use fieldsync_client as client;
use fieldsync_shared::expense as shared_expense;
use fieldsync_shared::{Date, Money, ParseError, StoreId};

use crate::device::{doc_id, FieldsyncDevice};
use crate::error::{findings, FieldsyncError, Finding, Result};
use crate::findings::RecordedFinding;
use crate::mirror::mirror_enum;

mirror_enum!(
    /// What the money was spent on.
    ExpenseType = shared_expense::ExpenseType { Travel, Entertainment, DisplayFee, Other }
);

mirror_enum!(
    /// Lifecycle of an expense: draft -> submitted, or draft -> pending approval -> approved
    /// or rejected.
    ExpenseStatus = shared_expense::ExpenseStatus {
        Draft,
        Submitted,
        PendingApproval,
        Approved,
        Rejected,
    }
);

mirror_enum!(
    /// Who must decide an expense waiting for approval.
    ExpenseApprover = shared_expense::Approver { Supervisor, Manager }
);

/// A new expense as the app records it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ExpenseInput {
    pub expense_type: ExpenseType,
    /// Minor units (cents); positive.
    pub amount_minor: i64,
    /// The day spent, `YYYY-MM-DD`.
    pub date: String,
    #[uniffi(default = None)]
    pub store_id: Option<String>,
    #[uniffi(default = None)]
    pub visit_id: Option<String>,
    #[uniffi(default = None)]
    pub description: Option<String>,
}

impl ExpenseInput {
    fn parse(self) -> Result<client::NewExpense> {
        let store_id = self
            .store_id
            .map(|s| StoreId::parse(s.trim()))
            .transpose()
            .map_err(|e| ParseError::new("store_id", e.reason))?;
        let visit_id = self.visit_id.map(|v| doc_id("visit_id", &v)).transpose()?;
        Ok(client::NewExpense {
            expense_type: self.expense_type.into(),
            amount: Money(self.amount_minor),
            date: Date::parse(self.date.trim()).map_err(|e| ParseError::new("date", e.reason))?,
            store_id,
            visit_id,
            description: self.description,
        })
    }
}

/// An expense as the app shows it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Expense {
    pub id: String,
    pub person_id: String,
    pub expense_type: ExpenseType,
    pub amount_minor: i64,
    pub date: String,
    pub store_id: Option<String>,
    pub visit_id: Option<String>,
    pub description: Option<String>,
    /// The receipt photo's SHA-256 (hex), if attached.
    pub receipt_sha256: Option<String>,
    pub status: ExpenseStatus,
    /// Who must decide it while it waits for approval.
    pub approver: Option<ExpenseApprover>,
    pub submitted_at_ms: Option<i64>,
    /// The approver's comment, if any.
    pub review_comment: Option<String>,
    /// The findings the author's phone showed at submission, oldest first.
    pub findings: Vec<RecordedFinding>,
}

impl From<client::Expense> for Expense {
    fn from(e: client::Expense) -> Self {
        Expense {
            id: e.id.to_string(),
            person_id: e.person_id.to_string(),
            expense_type: e.expense_type.into(),
            amount_minor: e.amount.minor(),
            date: e.date.to_string(),
            store_id: e.store_id.map(|s| s.to_string()),
            visit_id: e.visit_id.map(|v| v.to_string()),
            description: e.description.map(|d| d.as_str().to_string()),
            receipt_sha256: e.receipt.map(|r| r.sha256.to_hex()),
            status: e.status.into(),
            approver: e.approver.map(Into::into),
            submitted_at_ms: e.submitted_at.map(|t| t.millis()),
            review_comment: e
                .review
                .and_then(|r| r.comment)
                .map(|c| c.as_str().to_string()),
            findings: e.findings.into_iter().map(RecordedFinding::from).collect(),
        }
    }
}

#[uniffi::export]
impl FieldsyncDevice {
    /// Records a draft expense of the signed-in user (offline). Returns it.
    pub fn record_expense(&self, input: ExpenseInput) -> Result<Expense> {
        let id = self.device.record_expense(input.parse()?)?;
        Ok(self.device.expense(id)?.into())
    }

    /// Attaches the receipt photo (JPEG, PNG, WebP, HEIC) to a draft expense: the bytes are
    /// copied into the device and queued for upload. Returns the photo's SHA-256 (hex).
    pub fn attach_receipt(&self, expense_id: String, file_path: String) -> Result<String> {
        let id = doc_id("expense_id", &expense_id)?;
        Ok(self
            .device
            .attach_receipt(id, std::path::Path::new(&file_path))?
            .to_hex())
    }

    /// Submits a draft expense. Returns the expense rule's findings: none, it is `submitted`;
    /// `expense_amount_needs_approval` or `expense_over_budget`, it waits for the approver it
    /// names. A blocking finding refuses it (`Blocked`).
    pub fn submit_expense(&self, expense_id: String) -> Result<Vec<Finding>> {
        let id = doc_id("expense_id", &expense_id)?;
        Ok(findings(self.device.submit_expense(id)?))
    }

    /// Approves a team member's expense that waits for this user's role.
    #[uniffi::method(default(comment = None))]
    pub fn approve_expense(&self, expense_id: String, comment: Option<String>) -> Result<()> {
        let id = doc_id("expense_id", &expense_id)?;
        Ok(self.device.approve_expense(id, comment.as_deref())?)
    }

    /// Rejects a team member's expense; a blank comment is `Invalid` (field `comment`).
    pub fn reject_expense(&self, expense_id: String, comment: String) -> Result<()> {
        if comment.trim().is_empty() {
            return Err(FieldsyncError::required("comment"));
        }
        let id = doc_id("expense_id", &expense_id)?;
        Ok(self.device.reject_expense(id, &comment)?)
    }

    pub fn expense(&self, expense_id: String) -> Result<Expense> {
        Ok(self
            .device
            .expense(doc_id("expense_id", &expense_id)?)?
            .into())
    }

    /// Every expense on this device (own and, for a supervisor or manager, their people's),
    /// newest day first.
    pub fn expenses(&self) -> Result<Vec<Expense>> {
        Ok(self
            .device
            .expenses()?
            .into_iter()
            .map(Expense::from)
            .collect())
    }
}
