//! The business rules of DOMAIN.md ("Rules worth enforcing identically on the phone and on the
//! server"), as pure functions. Each rule has an id and a version; each finding records the
//! inputs it was computed from, so a supervisor (or an auditor) can see why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub mod approval;
pub mod assortment;
pub mod credit;
pub mod delivery;
pub mod expense;
pub mod frequency;
pub mod freshness;
pub mod geofence;
pub mod photos;
pub mod plan;
pub mod pricing;
pub mod promotion;
pub mod sales;
pub mod submission;
pub mod suggested_order;
pub mod visit_timing;

/// Version of the rule set as a whole; bumped whenever any rule's behaviour changes (2: photo
/// provenance from EXIF, approval tiers per role and amount; 3: the must-carry range; 4:
/// promotion and display compliance).
pub const RULES_VERSION: u32 = 4;

/// Which rule produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    Geofence,
    VisitTiming,
    Photos,
    Freshness,
    Credit,
    Pricing,
    DeliveryDate,
    VisitFrequency,
    Approval,
    /// Expense pre-approval: tiers and the month's budget.
    Expense,
    /// The store's must-carry range against the visit's shelf audit.
    Assortment,
    /// The promotions running at the store against the visit's checks and shelf prices.
    Promotion,
}

impl RuleId {
    pub fn as_str(&self) -> &'static str {
        match self {
            RuleId::Geofence => "geofence",
            RuleId::VisitTiming => "visit_timing",
            RuleId::Photos => "photos",
            RuleId::Freshness => "freshness",
            RuleId::Credit => "credit",
            RuleId::Pricing => "pricing",
            RuleId::DeliveryDate => "delivery_date",
            RuleId::VisitFrequency => "visit_frequency",
            RuleId::Approval => "approval",
            RuleId::Expense => "expense",
            RuleId::Assortment => "assortment",
            RuleId::Promotion => "promotion",
        }
    }
}

/// What a finding does to the action being attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Recorded for the supervisor; the action goes ahead.
    Flag,
    /// The action goes ahead but needs a supervisor's approval (e.g. order -> pending_approval).
    NeedsApproval,
    /// The action is refused.
    Block,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Flag => "flag",
            Severity::NeedsApproval => "needs_approval",
            Severity::Block => "block",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "flag" => Some(Severity::Flag),
            "needs_approval" => Some(Severity::NeedsApproval),
            "block" => Some(Severity::Block),
            _ => None,
        }
    }
}

/// One outcome of one rule. `code` is machine-readable (snake_case, stable), `message` is for
/// people, `inputs` are the values the rule used (as strings, for display and audit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: RuleId,
    pub rule_version: u32,
    pub severity: Severity,
    pub code: String,
    pub message: String,
    /// Which field of the document the finding is about, e.g. `lines.COLA-330.quantity`.
    pub field: Option<String>,
    pub inputs: BTreeMap<String, String>,
}

impl Finding {
    pub fn new(rule: RuleId, severity: Severity, code: &str, message: impl Into<String>) -> Self {
        Finding {
            rule,
            rule_version: RULES_VERSION,
            severity,
            code: code.to_string(),
            message: message.into(),
            field: None,
            inputs: BTreeMap::new(),
        }
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
    pub fn input(mut self, name: &str, value: impl ToString) -> Self {
        self.inputs.insert(name.to_string(), value.to_string());
        self
    }
}

/// Findings of one evaluation, with helpers to ask whether anything blocks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Verdict {
    pub findings: Vec<Finding>,
}

impl Verdict {
    pub fn from_findings(findings: Vec<Finding>) -> Self {
        Verdict { findings }
    }
    pub fn is_blocked(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Block)
    }
    pub fn needs_approval(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::NeedsApproval)
    }
    pub fn blocking(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Block)
    }
    pub fn extend(&mut self, other: Verdict) {
        self.findings.extend(other.findings);
    }
}
