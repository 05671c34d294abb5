//! The compensation: a refused effect put back as it was.

use std::collections::BTreeSet;

use super::field::FieldMembers;
use super::{Field, Refusal};
use crate::document::AnyDocument;

/// `after` with every refused field put back as it was in `before`: what the server reconciles
/// into the merged document as its compensating change. Exactly the refused fields are put
/// back; fields whose fate is linked (a reviewer's status move and its review, an approver's
/// note and their move) are refused together by [`check`], so compensating never leaves half
/// of such a change. Notes are put back with [`Text::update`], i.e. as splices on a hydrated
/// text, so the compensation reconciles as edits of the merged text.
///
/// [`Text::update`]: autosurgeon::Text::update
pub fn compensate(before: &AnyDocument, after: &AnyDocument, refused: &[Refusal]) -> AnyDocument {
    let refused: BTreeSet<Field> = refused.iter().map(|r| r.field).collect();
    match (before, after) {
        (AnyDocument::Visit(b), AnyDocument::Visit(a)) => {
            AnyDocument::Visit(put_back(b, a, &refused))
        }
        (AnyDocument::Order(b), AnyDocument::Order(a)) => {
            AnyDocument::Order(put_back(b, a, &refused))
        }
        (AnyDocument::Plan(b), AnyDocument::Plan(a)) => AnyDocument::Plan(put_back(b, a, &refused)),
        (AnyDocument::Expense(b), AnyDocument::Expense(a)) => {
            AnyDocument::Expense(put_back(b, a, &refused))
        }
        // A change of kind is refused as a whole.
        _ => before.clone(),
    }
}

fn put_back<D: FieldMembers>(before: &D, after: &D, refused: &BTreeSet<Field>) -> D {
    let mut out = after.clone();
    for &field in refused {
        D::restore(field, &mut out, before);
    }
    out
}
