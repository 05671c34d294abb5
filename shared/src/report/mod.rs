//! Reports computed the same way on the phone (offline, from its own documents) and on the
//! server (from the documents its projections hold): pure functions over typed documents and
//! master data.
//!
//! * [`rep_weekly`]: the rep's weekly report (docs/reports.md).
//! * [`store_opportunity`]: the key-account store opportunity report.
//! * [`shelf`]: one store's shelf as recorded at a past visit.
//! * [`agreements`]: the annual agreement self-check (docs/agreements.md).

pub mod agreements;
pub mod rep_weekly;
pub mod shelf;
pub mod store_opportunity;
