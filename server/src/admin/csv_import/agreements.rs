//! `agreements` files: the tenant's annual agreements (docs/agreements.md), one row an
//! agreement: `code`, `title`, `year`, one store (`store_code`) or a chain's stores in a channel
//! (`chain` and `channel`), and its terms: `listed_skus` (separated by spaces or `;`) with the
//! `listing_fee`, `display_weeks` with the `display_fee`, `shelf_position_weeks` with the
//! `shelf_position_fee`, `promotions` with the `promotion_fee`. A file replaces the agreements
//! of every year it names: an agreement of such a year left out is gone.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use fieldsync_shared::agreement::{Agreement, MAX_YEAR, MIN_YEAR};
use fieldsync_shared::master::AssortmentScope;
use fieldsync_shared::values::{AgreementCode, Money, Name};
use fieldsync_shared::{Sku, TenantId};

use super::assortment::scope_of;
use super::cells::{parse_money, parse_u32};
use super::pipeline::{first_seen, Columns, Errors, ImportError, NewRows, Row, RowImport, Upserts};
use super::stores::ids_by_code;
use crate::store::organisation::ImportCounts;
use crate::store::Store as DataStore;

pub const COLUMNS: Columns = Columns {
    required: &["code", "title", "year"],
    optional: &[
        "store_code",
        "chain",
        "channel",
        "listed_skus",
        "listing_fee",
        "display_weeks",
        "display_fee",
        "shelf_position_weeks",
        "shelf_position_fee",
        "promotions",
        "promotion_fee",
    ],
};

/// Most SKUs one agreement lists.
const MAX_SKUS: usize = 200;
/// Most weeks of a term (an ISO year has 52 or 53).
const MAX_WEEKS: u32 = 53;
/// Most promotions agreed in a year.
const MAX_PROMOTIONS: u32 = 1000;

/// The checked rows: the agreements to store and the years they replace.
#[derive(Default)]
pub(super) struct AgreementRows {
    upserts: Upserts<Agreement>,
    years: BTreeSet<i32>,
}

fn parse_year(s: &str) -> Result<i32, String> {
    let year: i32 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a year such as 2027"))?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return Err(format!("{year} is not between {MIN_YEAR} and {MAX_YEAR}"));
    }
    Ok(year)
}

/// The listed SKUs: known products, sorted, each once; empty for none.
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
    if skus.len() > MAX_SKUS {
        return Err(format!("more than {MAX_SKUS} SKUs"));
    }
    Ok(skus.into_iter().collect())
}

/// An optional count between 1 and `max`; `Err(())` once refused (recorded in `errors`).
fn count(r: &Row, errors: &mut Errors, col: &str, max: u32) -> Result<Option<u32>, ()> {
    match r.opt(col).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(_) => r
            .parse(errors, col, |s| {
                let n = parse_u32(s)?;
                if n == 0 || n > max {
                    return Err(format!("{n} is not between 1 and {max}"));
                }
                Ok(n)
            })
            .map(Some)
            .ok_or(()),
    }
}

/// An optional fee (yuan, >= 0), refused without its term (`has_term` false).
fn fee(
    r: &Row,
    errors: &mut Errors,
    col: &str,
    term: &str,
    has_term: bool,
) -> Result<Option<Money>, ()> {
    match r.opt(col).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(_) if !has_term => {
            errors.add(r.n, col, format!("a fee without its term: fill {term} too"));
            Err(())
        }
        Some(_) => r.parse(errors, col, parse_money).map(Some).ok_or(()),
    }
}

#[async_trait::async_trait]
impl RowImport for AgreementRows {
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
        let mut out = AgreementRows::default();
        let mut before: BTreeMap<i32, HashSet<AgreementCode>> = BTreeMap::new();
        let mut seen = BTreeMap::new();
        for r in rows {
            let code = r.parse(errors, "code", AgreementCode::parse);
            let title = r.parse(errors, "title", Name::parse);
            let year = r.parse(errors, "year", parse_year);
            let skus = r.parse(errors, "listed_skus", |s| skus_of(s, &products));
            let display = count(r, errors, "display_weeks", MAX_WEEKS);
            let shelf = count(r, errors, "shelf_position_weeks", MAX_WEEKS);
            let promotions = count(r, errors, "promotions", MAX_PROMOTIONS);
            let listed = skus.as_ref().is_some_and(|s| !s.is_empty());
            let listing_fee = fee(r, errors, "listing_fee", "listed_skus", listed);
            let display_fee = fee(
                r,
                errors,
                "display_fee",
                "display_weeks",
                matches!(display, Ok(Some(_))),
            );
            let shelf_fee = fee(
                r,
                errors,
                "shelf_position_fee",
                "shelf_position_weeks",
                matches!(shelf, Ok(Some(_))),
            );
            let promotion_fee = fee(
                r,
                errors,
                "promotion_fee",
                "promotions",
                matches!(promotions, Ok(Some(_))),
            );
            let scope = scope_of(r, errors, &stores);
            if let Some(AssortmentScope::Channel(_)) = scope {
                errors.add(
                    r.n,
                    "chain",
                    "an agreement is with one store (store_code) or a chain (chain and channel), \
                     not a whole channel",
                );
                continue;
            }
            let (
                Some(code),
                Some(title),
                Some(year),
                Some(skus),
                Ok(display),
                Ok(shelf),
                Ok(promotions),
                Ok(listing_fee),
                Ok(display_fee),
                Ok(shelf_fee),
                Ok(promotion_fee),
                Some(scope),
            ) = (
                code,
                title,
                year,
                skus,
                display,
                shelf,
                promotions,
                listing_fee,
                display_fee,
                shelf_fee,
                promotion_fee,
                scope,
            )
            else {
                continue;
            };
            if skus.is_empty() && display.is_none() && shelf.is_none() && promotions.is_none() {
                errors.add(
                    r.n,
                    "listed_skus",
                    "an agreement has at least one term: listed_skus, display_weeks, \
                     shelf_position_weeks or promotions",
                );
                continue;
            }
            if !first_seen(&mut seen, errors, (year, code.clone()), r.n, "code") {
                continue;
            }
            if let std::collections::btree_map::Entry::Vacant(slot) = before.entry(year) {
                let codes = store.agreements(tenant, year).await?;
                slot.insert(codes.into_iter().map(|a| a.code).collect());
            }
            let existed = before.get(&year).is_some_and(|c| c.contains(&code));
            out.years.insert(year);
            out.upserts.push(
                Agreement {
                    code,
                    title: title.as_str().to_string(),
                    year,
                    scope,
                    listed_skus: skus,
                    listing_fee,
                    display_weeks: display,
                    display_fee,
                    shelf_position_weeks: shelf,
                    shelf_position_fee: shelf_fee,
                    promotions,
                    promotion_fee,
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
        let years: Vec<i32> = self.years.into_iter().collect();
        store
            .replace_agreements(tenant, &years, &self.upserts.rows)
            .await?;
        Ok(self.upserts.counts)
    }
}
