//! `credit` files: one row a store's credit snapshot, replacing the store's previous one. The
//! customers whose credit changed ([`changes_credit`]) are queued for a re-check of their open
//! orders ([`credit_recheck`](super::credit_recheck)) in the transaction that stores the
//! snapshots.

use std::collections::{BTreeMap, HashMap};

use fieldsync_shared::master::CreditSnapshot;
use fieldsync_shared::{Date, StoreCode, StoreId, TenantId, Timestamp};

use super::cells::parse_money;
use super::credit_recheck::changes_credit;
use super::pipeline::{first_seen, Columns, Errors, ImportError, NewRows, Row, RowImport, Upserts};
use crate::store::organisation::ImportCounts;
use crate::store::Store as DataStore;

pub const COLUMNS: Columns = Columns {
    required: &[
        "store_code",
        "credit_limit",
        "receivables",
        "overdue",
        "as_of",
    ],
    optional: &[],
};

/// The checked snapshots.
#[derive(Default)]
pub(super) struct CreditRows {
    upserts: Upserts<CreditSnapshot>,
}

#[async_trait::async_trait]
impl RowImport for CreditRows {
    async fn check(
        store: &dyn DataStore,
        tenant: TenantId,
        rows: &[Row],
        _new: &dyn NewRows,
        errors: &mut Errors,
    ) -> Result<Self, ImportError> {
        let page = store.master_page(tenant, 0).await?;
        let before: HashMap<StoreId, CreditSnapshot> =
            page.credit.into_iter().map(|c| (c.store_id, c)).collect();
        let stores: HashMap<StoreCode, StoreId> =
            page.stores.into_iter().map(|s| (s.code, s.id)).collect();
        let mut seen = BTreeMap::new();
        let mut out = CreditRows::default();
        for r in rows {
            let store_id = r.parse(errors, "store_code", |s| {
                let code = StoreCode::parse(s).map_err(|e| e.to_string())?;
                stores
                    .get(&code)
                    .copied()
                    .ok_or_else(|| format!("no store with code {code}: import the stores first"))
            });
            let limit = r.parse(errors, "credit_limit", parse_money);
            let receivables = r.parse(errors, "receivables", parse_money);
            let overdue = r.parse(errors, "overdue", parse_money);
            let as_of = r.parse(errors, "as_of", Date::parse);
            if let (Some(rec), Some(ov)) = (receivables, overdue) {
                if ov > rec {
                    errors.add(r.n, "overdue", "higher than receivables");
                }
            }
            if let Some(id) = store_id {
                if !first_seen(&mut seen, errors, id, r.n, "store_code") {
                    continue;
                }
            }
            let (Some(store_id), Some(credit_limit), Some(receivables), Some(overdue), Some(as_of)) =
                (store_id, limit, receivables, overdue, as_of)
            else {
                continue;
            };
            let snapshot = CreditSnapshot {
                store_id,
                credit_limit,
                receivables,
                overdue,
                as_of,
            };
            out.upserts.push(snapshot, before.contains_key(&store_id));
        }
        Ok(out)
    }

    async fn write(
        self,
        store: &dyn DataStore,
        tenant: TenantId,
    ) -> Result<ImportCounts, ImportError> {
        // The re-checks are queued with the snapshots, which they read, in one transaction:
        // nothing is answered before both are durable. The background job flags the orders.
        store
            .import_credit(tenant, &self.upserts.rows, changes_credit, Timestamp::now())
            .await?;
        Ok(self.upserts.counts)
    }
}
