//! Expenses on the phone: record one offline (type, amount, day, the store or visit it was
//! for, a description), attach its receipt photo (queued for upload like a visit's photos),
//! submit it, and, for a supervisor or manager, approve or reject a team member's. Submitting
//! runs the expense rule (`rules::expense::evaluate_expense`, the call the server makes too)
//! against the tenant's tiers and budget from master data and this device's own orders and
//! expenses of the month; every edit goes through the write policy (`edits::edit`).

use std::path::Path;

use fieldsync_shared::expense::{
    Expense, ExpenseDecision, ExpenseReview, ExpenseStatus, ExpenseType,
};
use fieldsync_shared::order::Order;
use fieldsync_shared::rules::expense::{self, ExpenseData};
use fieldsync_shared::rules::{submission, Verdict};
use fieldsync_shared::values::{
    Date, DocId, Money, ParseError, Sha256, ShortText, StoreId, Timestamp,
};
use fieldsync_shared::visit::PhotoRef;
use fieldsync_shared::DocKind;

use super::photos::{read_photo, store_photo_bytes};
use super::Device;
use crate::edits;
use crate::error::{DeviceError, Result};
use crate::photo_capture;
use crate::send_queue;
use crate::store;

/// What the rep records of a new expense.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExpense {
    pub expense_type: ExpenseType,
    pub amount: Money,
    /// The day it was spent.
    pub date: Date,
    pub store_id: Option<StoreId>,
    pub visit_id: Option<DocId>,
    pub description: Option<String>,
}

impl Device {
    /// Records a draft expense of the signed-in user. The store and visit, if given, must be
    /// on this device.
    pub fn record_expense(&self, new: NewExpense) -> Result<DocId> {
        let mut conn = self.db.lock();
        let profile = store::require_profile(&conn)?;
        if let Some(s) = new.store_id {
            store::store(&conn, s)?.ok_or_else(|| DeviceError::not_found("store", s))?;
        }
        if let Some(v) = new.visit_id {
            edits::load_row(&conn, v, DocKind::Visit)?;
        }
        let mut expense = Expense::new(
            profile.id,
            new.expense_type,
            new.amount,
            new.date,
            Timestamp::now(),
        );
        expense.store_id = new.store_id;
        expense.visit_id = new.visit_id;
        expense.description = new
            .description
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(ShortText::parse)
            .transpose()?;
        if expense.amount <= Money::ZERO {
            return Err(ParseError::new("amount", "an expense is of a positive amount").into());
        }
        edits::authorize(&conn, &profile, None, &expense)?;
        let mut doc = fieldsync_shared::document::new_document(self.db.actor().clone());
        edits::commit(
            &mut conn,
            expense.id,
            DocKind::Expense,
            &mut doc,
            "record expense",
            |_, doc| {
                Ok(fieldsync_shared::document::reconcile_expense(
                    doc, &expense,
                )?)
            },
        )?;
        Ok(expense.id)
    }

    /// Attaches the receipt photo to a draft expense (replacing an earlier one): the bytes are
    /// kept in the device's photo folder and queued for upload, the expense references them by
    /// SHA-256. Returns the hash.
    pub fn attach_receipt(&self, expense: DocId, file: &Path) -> Result<Sha256> {
        let photo = read_photo(file)?;
        let sha = photo.sha256;
        let taken_at = Timestamp::now();
        let capture = photo_capture::read(&photo.bytes);
        // Refuse before copying bytes when the write policy refuses the receipt.
        let me = store::require_profile(&self.db.lock())?.id;
        let receipt = PhotoRef {
            sha256: sha,
            size_bytes: photo.bytes.len() as u64,
            content_type: photo.content_type.to_string(),
            step: None,
            taken_at,
            taken_by: me,
            position: None,
            capture: Some(capture),
        };
        let mut probe: Expense = edits::read(&self.db, expense)?;
        let before = probe.clone();
        probe.receipt = Some(receipt.clone());
        {
            let conn = self.db.lock();
            let profile = store::require_profile(&conn)?;
            edits::authorize(&conn, &profile, Some(&before), &probe)?;
        }
        let row = store_photo_bytes(&self.db, &photo)?;
        edits::edit(
            &self.db,
            expense,
            "attach receipt",
            |_, _, e: &mut Expense| {
                e.receipt = Some(receipt);
                Ok(())
            },
            |tx| send_queue::enqueue(tx, &row),
        )?;
        Ok(sha)
    }

    /// Submits a draft expense. The expense rule decides where it goes: within the
    /// submitter's tier and the month's budget, `submitted`; above either, `pending_approval`
    /// naming the approver (supervisor, or manager above the supervisor's tier). A Block
    /// finding (an amount that is not positive) refuses it. The expense records what it was
    /// judged against and the findings shown.
    pub fn submit_expense(&self, expense: DocId) -> Result<Verdict> {
        let orders: Vec<Order> = edits::read_all(&self.db)?;
        let expenses: Vec<Expense> = edits::read_all(&self.db)?;
        edits::edit(
            &self.db,
            expense,
            "submit expense",
            |conn, profile, e: &mut Expense| {
                if e.status != ExpenseStatus::Draft {
                    return Err(DeviceError::wrong_state(format!(
                        "expense {} is already {}",
                        e.id, e.status
                    )));
                }
                // Strictly after this device's earlier submissions, so that every judge
                // orders them alike (`month_spent` counts what was submitted before).
                let latest = expenses.iter().filter_map(|x| x.submitted_at).max();
                let now = Timestamp(
                    Timestamp::now()
                        .millis()
                        .max(latest.map_or(i64::MIN, |t| t.millis().saturating_add(1))),
                );
                let data = ExpenseData {
                    achieved: expense::achieved_sales(&orders, e.person_id, e.date),
                    spent: expense::month_spent(&expenses, e, now),
                    budget: store::expense_budget(conn)?,
                };
                let verdict = expense::evaluate_expense(
                    e,
                    profile.role,
                    &store::approval_tiers(conn)?,
                    &data,
                );
                edits::refuse_if_blocked(&verdict)?;
                let (status, approver) = expense::submitted_status(&verdict)
                    .ok_or_else(|| DeviceError::wrong_state("the expense cannot be submitted"))?;
                e.status = status;
                e.approver = approver;
                e.submitted_at = Some(now);
                e.evaluated_against =
                    Some(submission::basis(store::master_version(conn)?, now, None));
                e.findings.extend(submission::shown(&verdict, now));
                Ok(verdict)
            },
            |_| Ok(()),
        )
    }

    /// Approves an expense waiting for the signed-in user's approval (their team member's,
    /// naming their role or one below).
    pub fn approve_expense(&self, expense: DocId, comment: Option<&str>) -> Result<()> {
        self.decide_expense(expense, ExpenseDecision::Approved, comment)
    }

    /// Rejects an expense waiting for the signed-in user's approval; the comment is required.
    pub fn reject_expense(&self, expense: DocId, comment: &str) -> Result<()> {
        self.decide_expense(expense, ExpenseDecision::Rejected, Some(comment))
    }

    pub fn expense(&self, id: DocId) -> Result<Expense> {
        edits::read(&self.db, id)
    }

    /// Every expense on this device (own and, for a supervisor or manager, their people's),
    /// newest day first.
    pub fn expenses(&self) -> Result<Vec<Expense>> {
        let mut expenses: Vec<Expense> = edits::read_all(&self.db)?;
        expenses.sort_by(|a, b| b.date.cmp(&a.date).then(a.id.cmp(&b.id)));
        Ok(expenses)
    }

    fn decide_expense(
        &self,
        expense: DocId,
        decision: ExpenseDecision,
        comment: Option<&str>,
    ) -> Result<()> {
        let comment = comment
            .filter(|c| !c.trim().is_empty())
            .map(ShortText::parse)
            .transpose()?;
        edits::edit(
            &self.db,
            expense,
            "decide expense",
            move |_, profile, e: &mut Expense| {
                if e.status != ExpenseStatus::PendingApproval {
                    return Err(DeviceError::wrong_state(format!(
                        "expense {} is {}, not waiting for approval",
                        e.id, e.status
                    )));
                }
                e.status = match decision {
                    ExpenseDecision::Approved => ExpenseStatus::Approved,
                    ExpenseDecision::Rejected => ExpenseStatus::Rejected,
                };
                e.review = Some(ExpenseReview {
                    decision,
                    comment,
                    by: profile.id,
                    at: Timestamp::now(),
                });
                Ok(())
            },
            |_| Ok(()),
        )
    }
}
