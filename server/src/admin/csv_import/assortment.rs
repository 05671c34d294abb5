//! `assortment` files: the tenant's whole must-carry range (docs/assortment.md), one row a SKU
//! that must be on the shelf of one store (`store_code`), of every store of a chain in a
//! channel (`chain` and `channel`) or of every store of a channel (`channel`), with an optional
//! `safety_stock`. The file replaces the range as a whole: a
//! row left out is no longer expected (a file with the header alone empties the range).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use fieldsync_shared::master::{AssortmentRow, AssortmentScope};
use fieldsync_shared::values::Name;
use fieldsync_shared::{Sku, StoreCode, TenantId};

use super::cells::{parse_channel, parse_u32};
use super::pipeline::{first_seen, Columns, Errors, ImportError, NewRows, Row, RowImport, Upserts};
use super::stores::ids_by_code;
use crate::store::organisation::ImportCounts;
use crate::store::Store as DataStore;

pub const COLUMNS: Columns = Columns {
    required: &["sku"],
    optional: &["store_code", "chain", "channel", "safety_stock"],
};

/// The checked rows: the range to store.
#[derive(Default)]
pub(super) struct AssortmentRows {
    upserts: Upserts<AssortmentRow>,
}

/// The row's scope: its `store_code`, or its `channel` (with a `chain`: the chain's stores
/// in that channel).
pub(super) fn scope_of(
    r: &Row,
    errors: &mut Errors,
    stores: &std::collections::HashMap<StoreCode, fieldsync_shared::StoreId>,
) -> Option<AssortmentScope> {
    let store = r.opt("store_code").filter(|s| !s.is_empty());
    let chain = r.opt("chain").filter(|s| !s.is_empty());
    let channel = r.opt("channel").filter(|s| !s.is_empty());
    if store.is_some() && chain.is_some() {
        errors.add(
            r.n,
            "chain",
            "give a store_code or a chain, not both: a row is for one store or for a chain",
        );
        return None;
    }
    match (store, channel) {
        (Some(_), Some(_)) => {
            errors.add(
                r.n,
                "channel",
                "give a store_code or a channel, not both: a row is for one store or for a channel",
            );
            None
        }
        (None, None) if chain.is_some() => {
            errors.add(
                r.n,
                "channel",
                "a chain row names its channel too (nka, rka, lka, other)",
            );
            None
        }
        (None, None) => {
            errors.add(
                r.n,
                "store_code",
                "give a store_code (one store) or a channel (nka, rka, lka, other)",
            );
            None
        }
        (Some(_), None) => r
            .parse(errors, "store_code", |s| {
                let code = StoreCode::parse(s).map_err(|e| e.to_string())?;
                stores
                    .get(&code)
                    .copied()
                    .ok_or_else(|| format!("no store with code {code}: import the stores first"))
            })
            .map(AssortmentScope::Store),
        (None, Some(_)) => {
            let channel = r.parse(errors, "channel", parse_channel)?;
            match chain {
                None => Some(AssortmentScope::Channel(channel)),
                Some(_) => {
                    r.parse(errors, "chain", Name::parse)
                        .map(|chain| AssortmentScope::Chain {
                            chain: chain.as_str().to_string(),
                            channel,
                        })
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl RowImport for AssortmentRows {
    async fn check(
        store: &dyn DataStore,
        tenant: TenantId,
        rows: &[Row],
        _new: &dyn NewRows,
        errors: &mut Errors,
    ) -> Result<Self, ImportError> {
        let stores = ids_by_code(store, tenant).await?;
        let products: HashSet<Sku> = store
            .master_page(tenant, 0)
            .await?
            .products
            .into_iter()
            .map(|p| p.sku)
            .collect();
        let before: BTreeSet<(AssortmentScope, Sku)> = store
            .assortment(tenant)
            .await?
            .0
            .into_iter()
            .map(|r| (r.scope, r.sku))
            .collect();
        let mut seen = BTreeMap::new();
        let mut out = AssortmentRows::default();
        for r in rows {
            let scope = scope_of(r, errors, &stores);
            let sku = r.parse(errors, "sku", |s| {
                let sku = Sku::parse(s).map_err(|e| e.to_string())?;
                if products.contains(&sku) {
                    Ok(sku)
                } else {
                    Err(format!(
                        "no product with SKU {sku}: import the products first"
                    ))
                }
            });
            let safety_stock = match r.opt("safety_stock").filter(|s| !s.is_empty()) {
                Some(_) => match r.parse(errors, "safety_stock", parse_u32) {
                    Some(n) => Some(n),
                    None => continue,
                },
                None => None,
            };
            let (Some(scope), Some(sku)) = (scope, sku) else {
                continue;
            };
            let key = (scope.clone(), sku.clone());
            if !first_seen(&mut seen, errors, key.clone(), r.n, "sku") {
                continue;
            }
            out.upserts.push(
                AssortmentRow {
                    scope,
                    sku,
                    safety_stock,
                },
                before.contains(&key),
            );
        }
        Ok(out)
    }

    async fn write(
        self,
        store: &dyn DataStore,
        tenant: TenantId,
    ) -> Result<ImportCounts, ImportError> {
        store.replace_assortment(tenant, &self.upserts.rows).await?;
        Ok(self.upserts.counts)
    }
}
