//! Verdicts: the server runs the shared rules on every submission (docs/verdicts.md).
//!
//! When a push submits a visit or an order (or changes a submitted order), sync's push asks
//! this capability for a verdict before it commits:
//! 1. [`judge::is_submission`]: is this push a submission to judge? (pure, in the merge);
//! 2. [`judge_submission`]: read the master rows the document is judged against (with their
//!    versions) and what the server holds of other documents (the store's open orders, the
//!    visit's photos on other visits, its person's other visits), then [`judge::judge`]: evaluate with
//!    `shared::rules::submission` (the phone's own entry point) against the data the phone
//!    recorded it used and against the server's current data, and decide per finding
//!    ([`decision`]): held (sync undoes the submission with a change of the server's actor),
//!    flagged for the supervisor, or noted; and the cross-device flags ([`cross_device`]);
//!    an expense is judged by [`expense`] against its person's month;
//! 3. [`records`]: the findings with the document's heads, which sync's commit stores in the
//!    push's own transaction (`store::verdicts`), and [`push_findings`] for the device's push
//!    report.

pub mod cross_device;
pub mod decision;
pub mod expense;
pub mod judge;
pub mod recheck;

use fieldsync_shared::document::AnyDocument;
use fieldsync_shared::order::Order;
use fieldsync_shared::org::Role;
use fieldsync_shared::protocol::PushFinding;
use fieldsync_shared::values::{DocId, Sha256, Sku, TenantId, Timestamp, UserId};
use fieldsync_shared::visit::Visit;

use crate::http::ApiResult;
use crate::store::directory::DirectoryStore;
use crate::store::verdicts::{
    FindingKind, FindingOutcome, FindingRecord, FindingSource, VerdictStore,
};
use crate::store::{ExpenseStore, StoreResult};
pub use cross_device::{Elsewhere, Limits, OpenOrders};
pub use judge::{is_submission, Judged, Judgement};

/// Reads what `doc` is judged against, judges it (`judge::judge`) and adds the cross-device
/// flags (`cross_device`), with the tenant's `limits`; an expense with this push's orders and
/// expenses (`pushed`) counted in its month.
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn judge_submission<S: VerdictStore + DirectoryStore + ExpenseStore + ?Sized>(
    store: &S,
    tenant: TenantId,
    before: Option<&AnyDocument>,
    doc: &AnyDocument,
    limits: &Limits,
    pushed: &expense::Pushed,
) -> ApiResult<Judgement> {
    let (store_id, person, skus, elsewhere) = match doc {
        AnyDocument::Order(o) => {
            let skus: Vec<Sku> = o.lines.values().map(|l| l.sku.clone()).collect();
            (
                o.store_id,
                o.person_id,
                skus,
                elsewhere_of_order(store, tenant, o).await?,
            )
        }
        AnyDocument::Visit(v) => {
            let skus: Vec<Sku> = v.audit.values().map(|l| l.sku.clone()).collect();
            (
                v.store_id,
                v.person_id,
                skus,
                elsewhere_of_visit(store, tenant, v).await?,
            )
        }
        // No shared rule judges a plan.
        AnyDocument::Plan(_) => return Ok(Judgement::default()),
        // An expense is judged against the person's month, not a store's master rows.
        AnyDocument::Expense(e) => {
            let inputs = expense::expense_inputs(store, tenant, e, pushed).await?;
            return Ok(expense::judge_expense(e, &inputs));
        }
    };
    let data = store.rule_data(tenant, store_id, &skus).await?;
    let submitter = submitter_role(store, tenant, person).await?;
    let now = Timestamp::now();
    let mut judgement = judge::judge(before, doc, &data, &elsewhere, submitter, now);
    if data.store.is_some() {
        match doc {
            AnyDocument::Order(o) => {
                cross_device::duplicates::flag_duplicates(o, &elsewhere.open_orders, &mut judgement)
            }
            AnyDocument::Visit(v) => {
                cross_device::photos::add_evidence(v, &elsewhere.photo_uses, &mut judgement);
                cross_device::travel::flag_visit(
                    v,
                    &elsewhere.person_visits,
                    limits,
                    now,
                    &mut judgement,
                );
            }
            AnyDocument::Plan(_) | AnyDocument::Expense(_) => {}
        }
    }
    Ok(judgement)
}

/// The role of `person`, a document's author (only the author submits: the write policy):
/// whose approval tiers apply, as on their phone. Someone no longer in the directory is judged
/// with a rep's limits, the lowest.
pub async fn submitter_role<S: DirectoryStore + ?Sized>(
    store: &S,
    tenant: TenantId,
    person: UserId,
) -> StoreResult<Role> {
    Ok(store
        .find_user(tenant, person)
        .await?
        .map_or(Role::Rep, |u| u.role))
}

/// The store's other open orders, every rep's.
async fn elsewhere_of_order<S: VerdictStore + ?Sized>(
    store: &S,
    tenant: TenantId,
    order: &Order,
) -> ApiResult<Elsewhere> {
    let open: Vec<Order> = store
        .open_orders(tenant, order.store_id, order.id)
        .await?
        .iter()
        .filter_map(|json| serde_json::from_str::<Order>(json).ok())
        .collect();
    Ok(Elsewhere {
        open: OpenOrders::split(order, open.iter().cloned()),
        open_orders: open,
        ..Elsewhere::default()
    })
}

/// The visit's photos on other visits, and its person's visits of the day before to the day
/// after (consecutive check-ins cross midnight; a visit may be done a day off its plan).
async fn elsewhere_of_visit<S: VerdictStore + ?Sized>(
    store: &S,
    tenant: TenantId,
    visit: &Visit,
) -> ApiResult<Elsewhere> {
    let photos: Vec<Sha256> = visit.photos.values().map(|p| p.sha256).collect();
    let photo_uses = store.photo_uses(tenant, &photos, visit.id).await?;
    let person_visits = store
        .person_visits(
            tenant,
            visit.person_id,
            visit.planned_date.add_days(-1),
            visit.planned_date.add_days(1),
            visit.id,
        )
        .await?
        .iter()
        .filter_map(|json| serde_json::from_str::<Visit>(json).ok())
        .collect();
    Ok(Elsewhere {
        photo_uses,
        person_visits,
        ..Elsewhere::default()
    })
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
            rule: j.check.unwrap_or(j.finding.rule.as_str()).to_string(),
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
