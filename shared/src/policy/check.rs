//! The check of either document kind, and what the kinds' status rules share.

use std::fmt::Display;

use super::{check_expense, check_order, check_plan, check_visit, codes, Field, Refusal};
use crate::document::AnyDocument;
use crate::org::Editor;
use crate::values::UserId;

/// Any kind. `before` and `after` must be of the same kind.
pub fn check(editor: &Editor, before: Option<&AnyDocument>, after: &AnyDocument) -> Vec<Refusal> {
    match (before, after) {
        (None, AnyDocument::Visit(a)) => check_visit(editor, None, a),
        (Some(AnyDocument::Visit(b)), AnyDocument::Visit(a)) => check_visit(editor, Some(b), a),
        (None, AnyDocument::Order(a)) => check_order(editor, None, a),
        (Some(AnyDocument::Order(b)), AnyDocument::Order(a)) => check_order(editor, Some(b), a),
        (None, AnyDocument::Plan(a)) => check_plan(editor, None, a),
        (Some(AnyDocument::Plan(b)), AnyDocument::Plan(a)) => check_plan(editor, Some(b), a),
        (None, AnyDocument::Expense(a)) => check_expense(editor, None, a),
        (Some(AnyDocument::Expense(b)), AnyDocument::Expense(a)) => {
            check_expense(editor, Some(b), a)
        }
        _ => vec![Refusal::new(
            Field::Identity,
            codes::KIND_CHANGED,
            "a document cannot change kind",
        )],
    }
}

/// True when `to` can be reached from `from` through `edges` (zero or more moves).
pub(super) fn reachable<S: Copy + Eq>(edges: &[(S, S)], from: S, to: S) -> bool {
    let mut seen = vec![from];
    let mut next = 0;
    while next < seen.len() {
        if seen[next] == to {
            return true;
        }
        let at = seen[next];
        for &(a, b) in edges {
            if a == at && !seen.contains(&b) {
                seen.push(b);
            }
        }
        next += 1;
    }
    false
}

/// A reviewer's decision as the policies judge it.
pub(super) struct Decision<'a, D> {
    pub by: UserId,
    pub decision: D,
    pub comment: Option<&'a str>,
}

/// What is wrong with the review a reviewer's status move to `status` carries, if anything.
/// `review` is the new review (`None`: absent or unchanged by the move); it must be the
/// reviewer's own and say `expected`; `comment_required` is the message when the move sends
/// the work back and a comment must say why.
pub(super) fn review_problem<D: PartialEq + Display>(
    editor: &Editor,
    what: &str,
    status: impl Display,
    expected: D,
    review: Option<Decision<'_, D>>,
    comment_required: Option<&str>,
) -> Option<Refusal> {
    let Some(review) = review else {
        return Some(Refusal::new(
            Field::Status,
            codes::REVIEW_REQUIRED,
            format!("to mark this {what} {status} add your review"),
        ));
    };
    if review.by != editor.user_id || review.decision != expected {
        return Some(Refusal::new(
            Field::Review,
            codes::REVIEW_INVALID,
            format!("the review must be yours and say {expected}, as the {what} becomes {status}"),
        ));
    }
    let has_comment = review.comment.is_some_and(|c| !c.trim().is_empty());
    match comment_required {
        Some(message) if !has_comment => Some(Refusal::new(
            Field::Review,
            codes::COMMENT_REQUIRED,
            message,
        )),
        _ => None,
    }
}
