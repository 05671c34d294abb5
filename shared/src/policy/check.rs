//! The check of either document kind, and what the kinds' status rules share.

use super::{check_expense, check_order, check_plan, check_visit, codes, Field, Refusal};
use crate::document::AnyDocument;
use crate::org::Editor;

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
