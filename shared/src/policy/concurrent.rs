//! Two decisions on one document made concurrently: a supervisor approves on the phone and
//! rejects on the laptop, both offline, or two supervisors decide the same order. Automerge
//! keeps both `status` values and shows one by its own tie-break (operation ids), which knows
//! nothing of which decision the server stored first. The rule: the decision stored first
//! stands, the later one is not kept and its author is told. Only the server sees the conflict
//! (it needs the merged operations); this module says what follows from it.

use super::field::FieldMembers;
use super::{codes, Field, Refusal};
use crate::document::AnyDocument;

/// What becomes of a pushed decision that met a concurrent one already stored.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Overtaken {
    /// Fields where the later decision won Automerge's tie-break: put back as stored.
    pub undo: Vec<Refusal>,
    /// Fields where the stored decision already shows: nothing to undo, the author is told.
    pub tell: Vec<Refusal>,
}

/// The parts of a document that make up a decision: they stand or fall together.
fn decision_fields(doc: &AnyDocument) -> &'static [Field] {
    match doc {
        AnyDocument::Visit(_) | AnyDocument::Plan(_) | AnyDocument::Expense(_) => {
            &[Field::Status, Field::Review]
        }
        AnyDocument::Order(_) => &[Field::Status],
    }
}

/// The pushed decision in `after` (the merged document) came concurrently with the one
/// already stored in `before`.
pub fn overtaken(before: &AnyDocument, after: &AnyDocument) -> Overtaken {
    let mut out = Overtaken::default();
    for &field in decision_fields(after) {
        let refusal = Refusal::new(
            field,
            codes::DECIDED_CONCURRENTLY,
            "another decision on this document reached the server first and stands; this one \
             was not kept",
        );
        if differs(field, before, after) {
            out.undo.push(refusal);
        } else {
            out.tell.push(refusal);
        }
    }
    out
}

fn differs(field: Field, before: &AnyDocument, after: &AnyDocument) -> bool {
    match (before, after) {
        (AnyDocument::Visit(b), AnyDocument::Visit(a)) => FieldMembers::differs(field, b, a),
        (AnyDocument::Order(b), AnyDocument::Order(a)) => FieldMembers::differs(field, b, a),
        (AnyDocument::Plan(b), AnyDocument::Plan(a)) => FieldMembers::differs(field, b, a),
        (AnyDocument::Expense(b), AnyDocument::Expense(a)) => FieldMembers::differs(field, b, a),
        _ => true,
    }
}
