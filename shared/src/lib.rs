//! Fieldsync's shared core: compiled into the server and, through the device SDK, into phones,
//! so that a rule is evaluated by the same code on both sides.
//!
//! * [`values`]: parsed newtypes (ids, SKU, money, coordinates, dates, hashes).
//! * [`org`]: roles, relations and the organisation as one user sees it.
//! * [`master`]: server-owned master data delivered read-only to devices.
//! * [`visit`], [`order`]: the Automerge documents devices edit offline.
//! * [`promotion`]: promotions and display agreements (master data) and a visit's checks of them.
//! * [`success`]: a visit's scores of the store's picture of success (master data).
//! * [`agreement`]: annual agreements with a chain or a store (master data); their self-check
//!   is [`report::agreements`].
//! * [`document`]: document kinds and the Automerge <-> typed struct bridge.
//! * [`evaluation`]: what a document records of the rules run on it (basis, shown findings).
//! * [`limits`]: bounds on a document's shape (depth, objects, operations, text, size).
//! * [`plan`]: the weekly visit plan document (its planner is [`rules::plan`]).
//! * [`expense`]: the expense document (its pre-approval rule is [`rules::expense`]).
//! * [`rules`]: the business rules of DOMAIN.md as pure functions returning typed findings.
//! * [`policy`]: write policies (who may change which field, in which status).
//! * [`protocol`]: the sync wire protocol (types, encoding, limits).
//! * [`thumbnail`]: the photo thumbnail rule (render, and check what a device sent).
//! * [`report`]: reports computed alike on the phone and the server (the rep's week).
//! * [`tiers`]: approval tiers, each role's limit (discounts, order amounts, expenses), per tenant.
//!
//! Nothing in this crate performs I/O.

pub mod agreement;
pub mod changed_fields;
pub mod document;
pub mod evaluation;
pub mod expense;
pub mod limits;
pub mod master;
pub mod order;
pub mod org;
pub mod plan;
pub mod policy;
pub mod promotion;
pub mod protocol;
pub mod report;
pub mod rules;
pub mod success;
pub mod thumbnail;
pub mod tiers;
pub mod values;
pub mod visit;

#[cfg(test)]
mod testkit;

pub use document::{DocKind, DocumentError};
pub use values::*;
