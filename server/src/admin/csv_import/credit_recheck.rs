//! The background job of re-evaluation (docs/verdicts.md, "Re-evaluation"): a credit import
//! queues each customer whose snapshot changed in a way the credit rule cares about
//! ([`changes_credit`]: put on hold, or another allowance) in `credit_rechecks`; this job, on
//! every instance, takes a few at a time and flags their open orders
//! (`verdicts::recheck::credit_flags`). Not inside the import request: the import answers at
//! once. Bounded: at most [`BATCH`] customers a round, a round every [`POLL`] while there is
//! nothing to do. A queued customer survives a restart; one taken by an instance that stopped
//! is taken again after [`LEASE`].

use std::collections::BTreeSet;
use std::time::Duration;

use fieldsync_shared::document::AnyDocument;
use fieldsync_shared::master::CreditSnapshot;
use fieldsync_shared::order::Order;
use fieldsync_shared::{DocId, Sku, StoreId, TenantId, Timestamp};
use tokio::task::JoinHandle;

use crate::state::AppState;
use crate::store::documents::LoadedDocument;
use crate::store::{StoreError, StoreResult};
use crate::sync::merge::open_stored;
use crate::verdicts;

/// How long the job sleeps when the queue is empty.
pub const POLL: Duration = Duration::from_secs(1);
/// Most customers re-checked in one round.
pub const BATCH: u32 = 16;
/// A customer taken this long ago and not done is taken again.
pub const LEASE: Duration = Duration::from_secs(60);

/// Whether a new snapshot changes what the credit rule decides: a first snapshot, another
/// overdue amount (on or off hold), or another allowance (limit minus receivables).
pub fn changes_credit(before: Option<&CreditSnapshot>, after: &CreditSnapshot) -> bool {
    let allowance = |c: &CreditSnapshot| c.credit_limit.0.checked_sub(c.receivables.0);
    before.is_none_or(|b| b.overdue != after.overdue || allowance(b) != allowance(after))
}

/// The running job; stops when dropped.
pub struct RecheckTask(JoinHandle<()>);

impl Drop for RecheckTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the job.
pub fn spawn(state: AppState) -> RecheckTask {
    RecheckTask(tokio::spawn(async move {
        loop {
            match run_once(&state).await {
                // A full batch: more may be waiting.
                Ok(done) if done == BATCH as usize => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "credit re-check round failed"),
            }
            tokio::time::sleep(POLL).await;
        }
    }))
}

/// One round: takes up to [`BATCH`] queued customers and re-checks each; how many were taken.
pub async fn run_once(state: &AppState) -> StoreResult<usize> {
    let now = Timestamp::now();
    let stale = Timestamp(now.millis() - LEASE.as_millis() as i64);
    let taken = state.store.claim_credit_rechecks(now, stale, BATCH).await?;
    for recheck in &taken {
        match recheck_store(state, recheck.tenant_id, recheck.store_id, now).await {
            Ok(flagged) => {
                tracing::info!(tenant = %recheck.tenant_id, store = %recheck.store_id, flagged, "credit re-checked");
                state.store.finish_credit_recheck(recheck.id).await?;
            }
            // Left taken: another round takes it again after the lease.
            Err(e) => {
                tracing::warn!(tenant = %recheck.tenant_id, store = %recheck.store_id, error = %e, "credit re-check failed")
            }
        }
    }
    Ok(taken.len())
}

/// Re-checks the open orders of one customer; how many findings were stored.
async fn recheck_store(
    state: &AppState,
    tenant: TenantId,
    store_id: StoreId,
    now: Timestamp,
) -> StoreResult<usize> {
    // No order has the nil id: every open order of the store.
    let open: Vec<Order> = state
        .store
        .open_orders(tenant, store_id, DocId(uuid::Uuid::nil()))
        .await?
        .iter()
        .filter_map(|json| serde_json::from_str::<Order>(json).ok())
        .collect();
    if open.is_empty() {
        return Ok(0);
    }
    let skus: Vec<Sku> = open
        .iter()
        .flat_map(|o| o.lines.values().map(|l| l.sku.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let data = state.store.rule_data(tenant, store_id, &skus).await?;
    let ids: Vec<DocId> = open.iter().map(|o| o.id).collect();
    let already = state.store.findings_of(tenant, &ids).await?;
    let mut records = Vec::new();
    for order in &open {
        let mine: Vec<_> = already
            .iter()
            .filter(|f| f.doc_id == order.id)
            .cloned()
            .collect();
        let submitter =
            verdicts::submitter_role(state.store.as_ref(), tenant, order.person_id).await?;
        let flags = verdicts::recheck::credit_flags(order, &open, &data, &mine, submitter, now);
        if flags.findings.is_empty() {
            continue;
        }
        let heads = heads_of(state, tenant, order.id).await?;
        let doc = AnyDocument::Order(order.clone());
        records.extend(verdicts::records(order.id, &doc, heads, &flags, now));
    }
    if records.is_empty() {
        return Ok(0);
    }
    state.store.insert_findings(tenant, &records).await?;
    for r in &records {
        state
            .metrics
            .record_finding(&r.code, r.severity.as_str(), r.source.as_str());
    }
    Ok(records.len())
}

/// The document's current heads (hex change hashes): what the findings were computed at.
async fn heads_of(state: &AppState, tenant: TenantId, id: DocId) -> StoreResult<Vec<String>> {
    match state.store.load_documents(tenant, &[id]).await?.pop() {
        Some((_, LoadedDocument::Found(stored))) => {
            let doc = open_stored(&stored).map_err(StoreError::Corrupt)?;
            Ok(doc.get_heads().iter().map(ToString::to_string).collect())
        }
        _ => Err(StoreError::NotFound("order")),
    }
}

#[cfg(test)]
mod tests {
    use fieldsync_shared::{Date, Money};

    use super::*;

    fn snapshot(limit: i64, receivables: i64, overdue: i64) -> CreditSnapshot {
        CreditSnapshot {
            store_id: StoreId::new_random(),
            credit_limit: Money(limit),
            receivables: Money(receivables),
            overdue: Money(overdue),
            as_of: Date::parse("2026-11-22").unwrap(),
        }
    }

    #[test]
    fn a_hold_or_another_allowance_changes_credit_a_new_date_does_not() {
        let before = snapshot(1_000, 200, 0);
        assert!(changes_credit(None, &before));
        assert!(changes_credit(Some(&before), &snapshot(1_000, 200, 50)));
        assert!(changes_credit(Some(&before), &snapshot(900, 200, 0)));
        assert!(changes_credit(Some(&before), &snapshot(1_000, 300, 0)));
        // Limit and receivables up by as much: the same allowance.
        assert!(!changes_credit(Some(&before), &snapshot(1_100, 300, 0)));
        let mut later = before.clone();
        later.as_of = Date::parse("2026-11-23").unwrap();
        assert!(!changes_credit(Some(&before), &later));
    }
}
