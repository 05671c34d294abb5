//! `promotions` files: the tenant's promotions and display agreements (docs/promotions.md), one
//! row a promotion: `code`, `title`, the period `from` and `to` (both included), the SKUs
//! (`skus`, separated by spaces or `;`), the `mechanic`, the `promotion_price` of a price cut
//! and the agreed `fee`, for one store (`store_code`), a chain's stores in a channel (`chain`
//! and `channel`) or every store of a channel (`channel`), as the must-carry range. The file
//! replaces the promotions as a whole: a promotion left out is gone (a file with the header
//! alone empties them).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use fieldsync_shared::master::{Mechanic, Promotion};
use fieldsync_shared::values::{Date, Name, PromotionCode};
use fieldsync_shared::{Sku, TenantId};

use super::assortment::scope_of;
use super::cells::parse_money;
use super::pipeline::{first_seen, Columns, Errors, ImportError, NewRows, Row, RowImport, Upserts};
use super::stores::ids_by_code;
use crate::store::organisation::ImportCounts;
use crate::store::Store as DataStore;

pub const COLUMNS: Columns = Columns {
    required: &["code", "title", "from", "to", "skus", "mechanic"],
    optional: &["store_code", "chain", "channel", "promotion_price", "fee"],
};

/// Most SKUs one promotion names.
const MAX_SKUS: usize = 100;

/// The checked rows: the promotions to store.
#[derive(Default)]
pub(super) struct PromotionRows {
    upserts: Upserts<Promotion>,
}

/// The row's SKUs: one or more known products, sorted, each once.
fn skus_of(cell: &str, products: &HashSet<Sku>) -> Result<Vec<Sku>, String> {
    let mut skus = BTreeSet::new();
    for part in cell.split([' ', ';']).filter(|s| !s.is_empty()) {
        let sku = Sku::parse(part).map_err(|e| e.to_string())?;
        if !products.contains(&sku) {
            return Err(format!(
                "no product with SKU {sku}: import the products first"
            ));
        }
        skus.insert(sku);
    }
    if skus.is_empty() {
        return Err("name one or more SKUs, separated by spaces or ;".into());
    }
    if skus.len() > MAX_SKUS {
        return Err(format!("more than {MAX_SKUS} SKUs"));
    }
    Ok(skus.into_iter().collect())
}

#[async_trait::async_trait]
impl RowImport for PromotionRows {
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
        let before: HashSet<PromotionCode> = store
            .promotions(tenant)
            .await?
            .0
            .into_iter()
            .map(|p| p.code)
            .collect();
        let mut seen = BTreeMap::new();
        let mut out = PromotionRows::default();
        for r in rows {
            let code = r.parse(errors, "code", PromotionCode::parse);
            let title = r.parse(errors, "title", Name::parse);
            let from = r.parse(errors, "from", Date::parse);
            let to = r.parse(errors, "to", Date::parse);
            let to = match (from, to) {
                (Some(from), Some(to)) if to < from => {
                    errors.add(r.n, "to", format!("{to} is before the first day {from}"));
                    None
                }
                _ => to,
            };
            let skus = r.parse(errors, "skus", |s| skus_of(s, &products));
            let mechanic = r.parse(errors, "mechanic", Mechanic::parse);
            let price = match r.opt("promotion_price").filter(|s| !s.is_empty()) {
                None if mechanic == Some(Mechanic::PriceCut) => {
                    errors.add(
                        r.n,
                        "promotion_price",
                        "a price_cut needs the promotion price (yuan, e.g. 3.50)",
                    );
                    continue;
                }
                None => None,
                Some(_) if mechanic.is_some_and(|m| m != Mechanic::PriceCut) => {
                    errors.add(
                        r.n,
                        "promotion_price",
                        "only a price_cut has a promotion price: leave the cell empty",
                    );
                    continue;
                }
                Some(_) => match r.parse(errors, "promotion_price", parse_money) {
                    Some(m) => Some(m),
                    None => continue,
                },
            };
            let fee = match r.opt("fee").filter(|s| !s.is_empty()) {
                None => None,
                Some(_) => match r.parse(errors, "fee", parse_money) {
                    Some(m) => Some(m),
                    None => continue,
                },
            };
            let scope = scope_of(r, errors, &stores);
            let (Some(code), Some(title), Some(from), Some(to), Some(skus), Some(mechanic)) =
                (code, title, from, to, skus, mechanic)
            else {
                continue;
            };
            let Some(scope) = scope else {
                continue;
            };
            if !first_seen(&mut seen, errors, code.clone(), r.n, "code") {
                continue;
            }
            let existed = before.contains(&code);
            out.upserts.push(
                Promotion {
                    code,
                    title: title.as_str().to_string(),
                    from,
                    to,
                    scope,
                    skus,
                    mechanic,
                    promotion_price: price,
                    fee,
                },
                existed,
            );
        }
        Ok(out)
    }

    async fn write(
        self,
        store: &dyn DataStore,
        tenant: TenantId,
    ) -> Result<ImportCounts, ImportError> {
        store.replace_promotions(tenant, &self.upserts.rows).await?;
        Ok(self.upserts.counts)
    }
}
