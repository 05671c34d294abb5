//! The parts of a document policies speak about ([`Field`]), and for each document type the
//! struct members every part stands for. Policies ask two things of a part: did it change
//! (the check) and put it back as it was (the compensation); both come from one table per type,
//! [`field_members!`], so a member added to a document is named once.

use serde::{Deserialize, Serialize};

/// The parts of a document policies speak about. Wire name: [`Field::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Fields fixed at creation: id, schema, owner, store, dates of record, order number.
    Identity,
    Status,
    CheckIn,
    CheckOut,
    Steps,
    Audit,
    Photos,
    Notes,
    /// A visit's competitor sightings.
    CompetitorSightings,
    Review,
    /// Order lines.
    Lines,
    /// Order payment method and requested delivery date.
    Terms,
    /// Order and plan `submitted_at`; an expense's submission record.
    SubmittedAt,
    /// Plan entries (with the stores the rep removed and the routes).
    Entries,
    /// What an expense is: type, amount, date, store and visit, description.
    Details,
    /// An order's recorded delivery.
    Delivery,
}

impl Field {
    pub fn as_str(&self) -> &'static str {
        match self {
            Field::Identity => "identity",
            Field::Status => "status",
            Field::CheckIn => "check_in",
            Field::CheckOut => "check_out",
            Field::Steps => "steps",
            Field::Audit => "audit",
            Field::Photos => "photos",
            Field::Notes => "notes",
            Field::CompetitorSightings => "competitor_sightings",
            Field::Review => "review",
            Field::Lines => "lines",
            Field::Terms => "terms",
            Field::SubmittedAt => "submitted_at",
            Field::Entries => "entries",
            Field::Details => "details",
            Field::Delivery => "delivery",
        }
    }
}

/// What policies need of a document type: per [`Field`], compare and restore its members.
pub(super) trait FieldMembers: Clone {
    /// The members `field` stands for differ between `a` and `b`.
    fn differs(field: Field, a: &Self, b: &Self) -> bool;
    /// Put the members `field` stands for back as they are in `before`.
    fn restore(field: Field, out: &mut Self, before: &Self);
}

/// Implements [`FieldMembers`] for a document type from its table: `Field => [members]`, and
/// `text(member)` for Automerge text, which is restored by splices ([`Text::update`]) so that
/// the compensation reconciles as edits of the merged text. Fields not listed are not part of
/// the type: they never differ and restore nothing.
///
/// [`Text::update`]: autosurgeon::Text::update
macro_rules! field_members {
    ($doc:ty { $($field:ident => [$($member:ident),*] $(text($text:ident))?;)* }) => {
        impl $crate::policy::field::FieldMembers for $doc {
            fn differs(field: Field, a: &Self, b: &Self) -> bool {
                match field {
                    $(Field::$field => {
                        false $(|| a.$member != b.$member)* $(|| a.$text != b.$text)?
                    })*
                    #[allow(unreachable_patterns)]
                    _ => false,
                }
            }
            fn restore(field: Field, out: &mut Self, before: &Self) {
                match field {
                    $(Field::$field => {
                        $(out.$member = ::std::clone::Clone::clone(&before.$member);)*
                        $(out.$text.update(before.$text.as_str());)?
                    })*
                    #[allow(unreachable_patterns)]
                    _ => {}
                }
            }
        }
    };
}
pub(super) use field_members;
