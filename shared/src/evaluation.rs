//! What a document records about the rules evaluated on it: the data the phone judged it
//! against ([`RulesBasis`]) and the findings the phone showed the rep ([`ShownFinding`]).
//!
//! Both are optional parts of the visit and order schemas: documents written before they
//! existed hydrate with no basis ("unknown") and no findings.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::values::{Date, Money, Timestamp};

/// The master data the phone evaluated the rules against when it submitted the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct RulesBasis {
    /// `rules::RULES_VERSION` of the app that evaluated.
    pub rules_version: u64,
    /// The master data version the phone held (`MasterDataPage::version`): every master row
    /// with a version up to this one was as the phone saw it.
    pub master_version: i64,
    /// When the phone evaluated; its UTC date is the rules' "today".
    pub evaluated_at: Timestamp,
    /// The credit snapshot the phone used for a credit order (`None`: none, or not a credit
    /// order), with the open orders it counted.
    pub credit: Option<CreditBasis>,
}

/// A credit snapshot as the phone used it, so the credit rule can be replayed exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct CreditBasis {
    pub as_of: Date,
    pub credit_limit: Money,
    pub receivables: Money,
    pub overdue: Money,
    /// The store's other open orders the phone counted.
    pub open_orders: Money,
}

/// A finding the phone showed the rep (freshness, off-site, photo reuse, ...), kept in the
/// document so the server, the supervisor and the history see what the rep was told.
///
/// Rule, severity and code are kept as their wire strings, so a finding written by a newer app
/// (a rule this version does not know) still reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct ShownFinding {
    /// `rules::RuleId::as_str`.
    pub rule: String,
    pub rule_version: u64,
    /// `flag`, `needs_approval` or `block`.
    pub severity: String,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    /// When the phone showed it.
    pub at: Timestamp,
}
