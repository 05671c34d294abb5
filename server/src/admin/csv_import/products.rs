//! `products` files: one row a product, upserted by its SKU.

use std::collections::{BTreeMap, HashSet};

use fieldsync_shared::master::Product;
use fieldsync_shared::{Sku, TenantId};

use super::cells::{parse_bool, parse_money, parse_u32};
use super::pipeline::{first_seen, Columns, Errors, ImportError, NewRows, Row, RowImport, Upserts};
use crate::store::organisation::ImportCounts;
use crate::store::Store as DataStore;
use fieldsync_shared::values::Name;

pub const COLUMNS: Columns = Columns {
    required: &[
        "sku",
        "name",
        "case_pack",
        "sold_by_case",
        "shelf_life_days",
        "list_price",
        "floor_price",
    ],
    optional: &[],
};

pub(super) type ProductRows = Upserts<Product>;

fn case_pack(s: &str) -> Result<u32, String> {
    match parse_u32(s)? {
        0 => Err("must be at least 1".to_string()),
        n => Ok(n),
    }
}

#[async_trait::async_trait]
impl RowImport for ProductRows {
    async fn check(
        store: &dyn DataStore,
        tenant: TenantId,
        rows: &[Row],
        _new: &dyn NewRows,
        errors: &mut Errors,
    ) -> Result<Self, ImportError> {
        let page = store.master_page(tenant, 0).await?;
        let existing: HashSet<Sku> = page.products.into_iter().map(|p| p.sku).collect();
        let mut seen = BTreeMap::new();
        let mut out = Upserts::default();
        for r in rows {
            let sku = r.parse(errors, "sku", Sku::parse);
            let name = r.parse(errors, "name", Name::parse);
            let case_pack = r.parse(errors, "case_pack", case_pack);
            let sold_by_case = r.parse(errors, "sold_by_case", parse_bool);
            let shelf_life = r.parse(errors, "shelf_life_days", parse_u32);
            let list = r.parse(errors, "list_price", parse_money);
            let floor = r.parse(errors, "floor_price", parse_money);
            if let (Some(list), Some(floor)) = (list, floor) {
                if floor > list {
                    errors.add(r.n, "floor_price", "higher than list_price");
                }
            }
            if let Some(s) = &sku {
                if !first_seen(&mut seen, errors, s.clone(), r.n, "sku") {
                    continue;
                }
            }
            let (Some(sku), Some(name), Some(case_pack), Some(sold_by_case), Some(shelf)) =
                (sku, name, case_pack, sold_by_case, shelf_life)
            else {
                continue;
            };
            let (Some(list_price), Some(floor_price)) = (list, floor) else {
                continue;
            };
            let existed = existing.contains(&sku);
            out.push(
                Product {
                    sku,
                    name: name.as_str().to_string(),
                    case_pack,
                    sold_by_case,
                    shelf_life_days: shelf,
                    list_price,
                    floor_price,
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
        store.upsert_products(tenant, &self.rows).await?;
        Ok(self.counts)
    }
}
