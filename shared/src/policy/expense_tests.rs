//! The expense policy: who records, submits, approves and rejects, and the compensation of
//! what it refuses.

use super::expense::EXPENSE_FIELDS;
use super::field::FieldMembers;
use super::tests::{assert_compensation, codes_of, editor};
use super::*;
use crate::document::AnyDocument;
use crate::expense::{
    Approver, Expense, ExpenseDecision, ExpenseReview, ExpenseStatus, ExpenseType,
};
use crate::org::{Editor, Relation, Role};
use crate::values::{Date, Money, ShortText, Timestamp, UserId};
use ExpenseStatus as S;
use Relation::*;
use Role::*;

fn expense_in(status: ExpenseStatus, approver: Option<Approver>) -> Expense {
    let mut e = Expense::new(
        UserId::new_random(),
        ExpenseType::DisplayFee,
        Money(50_000),
        Date::parse("2026-12-07").unwrap(),
        Timestamp(1_000),
    );
    e.status = status;
    e.approver = approver;
    if status != S::Draft {
        e.submitted_at = Some(Timestamp(2_000));
    }
    e
}

fn decide(ed: &Editor, e: &Expense, status: ExpenseStatus, comment: &str) -> Expense {
    let mut after = e.clone();
    after.status = status;
    after.review = Some(ExpenseReview {
        decision: if status == S::Approved {
            ExpenseDecision::Approved
        } else {
            ExpenseDecision::Rejected
        },
        comment: (!comment.is_empty()).then(|| ShortText::parse(comment).unwrap()),
        by: ed.user_id,
        at: Timestamp(3_000),
    });
    after
}

#[test]
fn people_record_and_submit_their_own_expenses() {
    let draft = expense_in(S::Draft, None);
    for role in [Rep, Merchandiser, Supervisor, Manager] {
        let ed = editor(role, Author, draft.person_id);
        assert!(check_expense(&ed, None, &draft).is_empty(), "{role:?}");
    }
    let admin = editor(Admin, Author, draft.person_id);
    assert_eq!(
        codes_of(&check_expense(&admin, None, &draft)),
        [codes::NOT_ALLOWED_TO_CREATE]
    );
    let sup = editor(Supervisor, TeamSupervisor, draft.person_id);
    assert_eq!(
        codes_of(&check_expense(&sup, None, &draft)),
        [codes::NOT_ALLOWED_TO_CREATE]
    );
    // Recorded and submitted offline before the first sync.
    let rep = editor(Rep, Author, draft.person_id);
    let pending = expense_in(S::PendingApproval, Some(Approver::Supervisor));
    assert!(check_expense(&rep, None, &pending).is_empty());
    let approved = expense_in(S::Approved, None);
    assert_eq!(
        codes_of(&check_expense(&rep, None, &approved)),
        [codes::STATUS_TRANSITION_NOT_ALLOWED]
    );

    let mut submitted = draft.clone();
    submitted.status = S::PendingApproval;
    submitted.approver = Some(Approver::Supervisor);
    submitted.submitted_at = Some(Timestamp(2_000));
    submitted.amount = Money(60_000);
    assert!(check_expense(&rep, Some(&draft), &submitted).is_empty());

    // Once submitted, the amount is fixed, and the submission too.
    let mut changed = submitted.clone();
    changed.amount = Money(1);
    changed.approver = None;
    assert_eq!(
        codes_of(&check_expense(&rep, Some(&submitted), &changed)),
        [codes::EXPENSE_SUBMITTED, codes::SUBMITTED_AT_FIXED]
    );
}

#[test]
fn a_rep_cannot_approve_and_the_named_approver_decides() {
    let for_sup = expense_in(S::PendingApproval, Some(Approver::Supervisor));
    let for_mgr = expense_in(S::PendingApproval, Some(Approver::Manager));

    // The rep approving their own expense.
    let rep = editor(Rep, Author, for_sup.person_id);
    let refused = check_expense(
        &rep,
        Some(&for_sup),
        &decide(&rep, &for_sup, S::Approved, ""),
    );
    assert_eq!(
        codes_of(&refused),
        [codes::STATUS_TRANSITION_NOT_ALLOWED, codes::NOT_REVIEWER]
    );
    // A colleague rep.
    let colleague = editor(Rep, Colleague, for_sup.person_id);
    assert!(!check_expense(
        &colleague,
        Some(&for_sup),
        &decide(&colleague, &for_sup, S::Approved, "")
    )
    .is_empty());

    // The supervisor approves what names a supervisor, not what names the manager.
    let sup = editor(Supervisor, TeamSupervisor, for_sup.person_id);
    assert!(check_expense(
        &sup,
        Some(&for_sup),
        &decide(&sup, &for_sup, S::Approved, "")
    )
    .is_empty());
    assert_eq!(
        codes_of(&check_expense(
            &sup,
            Some(&for_mgr),
            &decide(&sup, &for_mgr, S::Approved, "")
        )),
        [codes::APPROVER_REQUIRED, codes::APPROVER_REQUIRED]
    );
    // The manager decides both.
    let mgr = editor(Manager, RegionManager, for_mgr.person_id);
    assert!(check_expense(
        &mgr,
        Some(&for_mgr),
        &decide(&mgr, &for_mgr, S::Approved, "")
    )
    .is_empty());
    assert!(check_expense(
        &mgr,
        Some(&for_sup),
        &decide(&mgr, &for_sup, S::Approved, "")
    )
    .is_empty());
    // Rejecting needs a comment.
    assert_eq!(
        codes_of(&check_expense(
            &mgr,
            Some(&for_mgr),
            &decide(&mgr, &for_mgr, S::Rejected, "")
        )),
        [codes::COMMENT_REQUIRED, codes::COMMENT_REQUIRED]
    );
    assert!(check_expense(
        &mgr,
        Some(&for_mgr),
        &decide(&mgr, &for_mgr, S::Rejected, "no receipt")
    )
    .is_empty());
    // A submitted expense (within tier and budget) needs no decision.
    let submitted = expense_in(S::Submitted, None);
    assert_eq!(
        codes_of(&check_expense(
            &mgr,
            Some(&submitted),
            &decide(&mgr, &submitted, S::Approved, "")
        )),
        [codes::STATUS_TRANSITION_NOT_ALLOWED, codes::NOT_REVIEWER]
    );
    // Nobody but the author changes the amount.
    let mut edited = for_sup.clone();
    edited.amount = Money(1);
    assert_eq!(
        codes_of(&check_expense(&sup, Some(&for_sup), &edited)),
        [codes::NOT_AUTHOR]
    );
}

#[test]
fn refused_effects_are_put_back_exactly() {
    let before = expense_in(S::PendingApproval, Some(Approver::Manager));
    let sup = editor(Supervisor, TeamSupervisor, before.person_id);
    let mut after = decide(&sup, &before, S::Approved, "");
    after.description = Some(ShortText::parse("lunch").unwrap());
    let differs = |f, a: &AnyDocument, b: &AnyDocument| match (a, b) {
        (AnyDocument::Expense(a), AnyDocument::Expense(b)) => Expense::differs(f, a, b),
        _ => true,
    };
    assert_compensation(
        &sup,
        &AnyDocument::Expense(before.clone()),
        &AnyDocument::Expense(after),
        differs,
        &EXPENSE_FIELDS,
        "supervisor approving a manager's expense",
    );
}
