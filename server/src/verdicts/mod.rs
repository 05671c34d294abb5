//! Verdicts: the server runs the shared rules on every submission (docs/verdicts.md).
//!
//! When a push submits a visit or an order (or changes a submitted order), sync's push asks
//! this capability for a verdict before it commits:
//! 1. [`judge::is_submission`]: is this push a submission to judge? (pure, in the merge);
//! 2. [`judge_submission`]: read the master rows the document is judged against (with their
//!    versions) and the owner's open orders, then [`judge::judge`]: evaluate with
//!    `shared::rules::submission` (the phone's own entry point) against the data the phone
//!    recorded it used and against the server's current data, and decide per finding
//!    ([`decision`]): held (sync undoes the submission with a change of the server's actor),
//!    flagged for the supervisor, or noted;
//! 3. [`records`]: the findings with the document's heads, which sync's commit stores in the
//!    push's own transaction (`store::verdicts`), and [`push_findings`] for the device's push
//!    report.

pub mod cross_device;
pub mod decision;
pub mod judge;

use fieldsync_shared::document::AnyDocument;
use fieldsync_shared::order::Order;
use fieldsync_shared::protocol::PushFinding;
use fieldsync_shared::values::{DocId, Sku, TenantId, Timestamp};

use crate::http::ApiResult;
use crate::store::verdicts::{
    FindingKind, FindingOutcome, FindingRecord, FindingSource, VerdictStore,
};
pub use cross_device::OpenOrders;
pub use judge::{is_submission, Judged, Judgement};

/// Reads what `doc` is judged against and judges it (`judge::judge`).
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn judge_submission<S: VerdictStore + ?Sized>(
    store: &S,
    tenant: TenantId,
    before: Option<&AnyDocument>,
    doc: &AnyDocument,
) -> ApiResult<Judgement> {
    let (store_id, skus, open_orders) = match doc {
        AnyDocument::Order(o) => {
            let skus: Vec<Sku> = o.lines.values().map(|l| l.sku.clone()).collect();
            let open = store.open_orders(tenant, o.store_id, o.id).await?;
            let open = open
                .iter()
                .filter_map(|json| serde_json::from_str::<Order>(json).ok());
            (o.store_id, skus, OpenOrders::split(o, open))
        }
        AnyDocument::Visit(v) => {
            let skus: Vec<Sku> = v.audit.values().map(|l| l.sku.clone()).collect();
            (v.store_id, skus, OpenOrders::default())
        }
        // No shared rule judges a plan.
        AnyDocument::Plan(_) => return Ok(Judgement::default()),
    };
    let data = store.rule_data(tenant, store_id, &skus).await?;
    Ok(judge::judge(
        before,
        doc,
        &data,
        &open_orders,
        Timestamp::now(),
    ))
}

/// The rows to store for a judged document at `heads` (hex change hashes).
pub fn records(
    doc_id: DocId,
    doc: &AnyDocument,
    heads: Vec<String>,
    judgement: &Judgement,
    at: Timestamp,
) -> Vec<FindingRecord> {
    judgement
        .findings
        .iter()
        .map(|j| FindingRecord {
            doc_id,
            doc_kind: doc.kind(),
            doc_heads: heads.clone(),
            kind: match j.source {
                FindingSource::Server => FindingKind::CrossDevice,
                FindingSource::DeviceBasis | FindingSource::ServerData => FindingKind::RuleVerdict,
            },
            source: j.source,
            rule: j.finding.rule.as_str().to_string(),
            rule_version: j.finding.rule_version,
            severity: j.finding.severity,
            code: j.finding.code.clone(),
            message: j.finding.message.clone(),
            field: j.finding.field.clone(),
            inputs: j
                .finding
                .inputs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
                .collect(),
            data_version: j.data_version,
            outcome: j.outcome,
            created_at: at,
        })
        .collect()
}

/// What the device's push report carries: the findings the server acted on (held or flagged).
pub fn push_findings(judgement: &Judgement) -> Vec<PushFinding> {
    judgement
        .findings
        .iter()
        .filter(|j| j.outcome != FindingOutcome::Noted)
        .map(|j| PushFinding {
            code: j.finding.code.clone(),
            message: j.finding.message.clone(),
            field: j.finding.field.clone(),
            severity: j.finding.severity.as_str().to_string(),
            outcome: j.outcome.as_str().to_string(),
        })
        .collect()
}
