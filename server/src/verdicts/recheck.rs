//! Re-evaluation when master data changes (docs/verdicts.md, "Re-evaluation"): after a credit
//! import puts a customer on hold or changes its allowance, its open orders are judged again
//! with the server's new data (the same [`judge::judge`] as at submission) and what the credit
//! rule now finds is flagged. Never a hold: the orders were accepted, and a supervisor decides.
//! The job that runs this in the background is `admin::csv_import::credit_recheck`.

use fieldsync_shared::document::AnyDocument;
use fieldsync_shared::order::Order;
use fieldsync_shared::org::Role;
use fieldsync_shared::rules::{RuleId, Severity};
use fieldsync_shared::values::Timestamp;

use super::cross_device::{Elsewhere, OpenOrders};
use super::judge::{self, Judgement};
use crate::store::verdicts::{FindingOutcome, FindingRecord, FindingSource, RuleData};

/// Why the findings of a re-check were computed (their `rechecked` input).
pub const AFTER_CREDIT_IMPORT: &str = "credit snapshot import";

/// The flags of a re-check of `order`, one of the store's open orders `open` (every rep's),
/// with the server's current `data` and its author's role (`submitter`): the credit rule's
/// findings that hold or need approval (`credit_combined` too), each flagged, except those the
/// order already carries at this data version (`already`: its stored findings).
pub fn credit_flags(
    order: &Order,
    open: &[Order],
    data: &RuleData,
    already: &[FindingRecord],
    submitter: Role,
    now: Timestamp,
) -> Judgement {
    let elsewhere = Elsewhere::from(OpenOrders::split(order, open.iter().cloned()));
    let doc = AnyDocument::Order(order.clone());
    let judged = judge::judge(None, &doc, data, &elsewhere, submitter, now);
    let findings = judged
        .findings
        .into_iter()
        .filter(|j| {
            j.source != FindingSource::DeviceBasis
                && j.finding.rule == RuleId::Credit
                && j.finding.severity != Severity::Flag
        })
        .filter(|j| {
            !already.iter().any(|f| {
                f.code == j.finding.code
                    && f.data_version == j.data_version
                    && f.outcome != FindingOutcome::Noted
            })
        })
        .map(|mut j| {
            j.outcome = FindingOutcome::Flagged;
            j.finding = j.finding.input("rechecked", AFTER_CREDIT_IMPORT);
            j
        })
        .collect();
    Judgement {
        findings,
        held: None,
    }
}
