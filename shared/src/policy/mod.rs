//! Write policies: who may change which part of a document, in which status.
//!
//! A policy sees (editor, document before, document after) and lists the effects it refuses.
//! The device runs it before committing a local edit (and refuses the edit with a typed error);
//! the server runs it on the effect of each pushed batch (stored document before the merge vs
//! after) and neutralises refused effects with a compensating change built by [`compensate`].
//! Both sides call the same functions, so a device and the server never disagree.
//!
//! Effects are judged per [`Field`]: a batch whose steps are allowed but whose review is not
//! keeps its steps and loses its review.

//! * [`field`]: the parts of a document policies speak about, and per document type which
//!   members each part stands for (one table gives both "did it change" and "put it back").
//! * [`visit`], [`order`], [`plan`], [`expense`]: the policy of each document kind (status moves,
//!   who may edit what).
//! * [`check`] and [`compensate`]: either kind, as the device and the server call them.
//! * [`overtaken`]: a decision that met a concurrent one the server stored first.
//! * [`Refusal`] and its stable [`codes`].
//!
//! Who the editor is ([`Editor`], [`Relation`], [`OrgView`]) is the organisation's business:
//! [`crate::org`].

mod check;
mod compensate;
mod concurrent;
mod expense;
mod field;
mod order;
mod plan;
mod refusal;
mod visit;

pub use check::check;
pub use compensate::compensate;
pub use concurrent::{overtaken, Overtaken};
pub use expense::check_expense;
pub use field::Field;
pub use order::check_order;
pub use plan::check_plan;
pub use refusal::{codes, Refusal};
pub use visit::check_visit;

#[cfg(test)]
mod expense_tests;
#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod tests;
