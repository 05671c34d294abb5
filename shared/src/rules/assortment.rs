//! Must-carry range (docs/assortment.md): which SKUs a store must have on its shelf, and what
//! a visit's shelf audit says of them. Numeric distribution is the share of the range present
//! on the shelf; every SKU of the range not present is a Flag finding `assortment_missing`
//! (information for the supervisor, never a block).
//!
//! Present means at least one audit line of the SKU (any location) recorded on the shelf with
//! at least one facing: no line, zero facings and "not on shelf" are all missing.

use std::collections::BTreeMap;

use super::{Finding, RuleId, Severity, Verdict};
use crate::master::{AssortmentRow, Store};
use crate::values::Sku;
use crate::visit::AuditLine;

/// The finding's code.
pub const MISSING: &str = "assortment_missing";

/// One SKU of a store's range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeItem {
    pub sku: Sku,
    pub safety_stock: Option<u32>,
}

/// The range of `store`: the rows naming it, the rows of its chain in its channel and the rows
/// of its channel, one item per SKU, by SKU. A SKU in several takes the safety stock of the
/// most specific row (store, then chain, then channel).
pub fn range_of(store: &Store, rows: &[AssortmentRow]) -> Vec<RangeItem> {
    // (specificity, safety stock) per SKU: 2 store, 1 chain and channel, 0 channel.
    let mut range: BTreeMap<&Sku, (u8, Option<u32>)> = BTreeMap::new();
    for row in rows {
        let Some(level) = row.scope.level_for(store) else {
            continue;
        };
        let entry = range.entry(&row.sku).or_insert((level, row.safety_stock));
        if level > entry.0 {
            *entry = (level, row.safety_stock);
        }
    }
    range
        .into_iter()
        .map(|(sku, (_, safety_stock))| RangeItem {
            sku: sku.clone(),
            safety_stock,
        })
        .collect()
}

/// What the audit shows of one SKU of the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShelfStatus {
    pub sku: Sku,
    pub safety_stock: Option<u32>,
    /// Facings of the SKU's lines recorded on the shelf, every location together.
    pub facings: u32,
    /// At least one facing on the shelf.
    pub on_shelf: bool,
}

/// The range against one visit's audit.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeCheck {
    /// Every SKU of the range, by SKU.
    pub items: Vec<ShelfStatus>,
    /// SKUs of the range present.
    pub present: u32,
    /// Numeric distribution in basis points (present * 10 000 / range, rounded down);
    /// `None` when the store has no range.
    pub distribution_bp: Option<u32>,
    /// One `assortment_missing` Flag per SKU not present.
    pub verdict: Verdict,
}

/// Checks `range` against the audit lines of a visit (keyed `SKU@LOCATION`, as in the visit).
pub fn check(range: &[RangeItem], audit: &BTreeMap<String, AuditLine>) -> RangeCheck {
    let mut items = Vec::with_capacity(range.len());
    for item in range {
        let facings = audit
            .values()
            .filter(|l| l.sku == item.sku && l.on_shelf)
            .fold(0u32, |sum, l| sum.saturating_add(l.facings));
        items.push(ShelfStatus {
            sku: item.sku.clone(),
            safety_stock: item.safety_stock,
            facings,
            on_shelf: facings > 0,
        });
    }
    let expected = items.len() as u64;
    let present = items.iter().filter(|i| i.on_shelf).count() as u64;
    let distribution_bp = (expected > 0).then(|| (present * 10_000 / expected) as u32);
    let findings = items
        .iter()
        .filter(|i| !i.on_shelf)
        .map(|i| {
            let lines = audit.values().filter(|l| l.sku == i.sku).count();
            Finding::new(
                RuleId::Assortment,
                Severity::Flag,
                MISSING,
                format!(
                    "{} is in the store's must-carry range but not on the shelf \
                     ({present} of {expected} present)",
                    i.sku
                ),
            )
            .field(format!("assortment.{}", i.sku))
            .input("sku", &i.sku)
            .input("audit_lines", lines)
            .input("range_size", expected)
            .input("present", present)
            .input("distribution_bp", distribution_bp.unwrap_or(0))
        })
        .collect();
    RangeCheck {
        items,
        present: present as u32,
        distribution_bp,
        verdict: Verdict::from_findings(findings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master::{AssortmentScope, Channel};
    use crate::testkit::{audit_line, sku, store};
    use crate::values::{StoreId, UserId};

    fn row(scope: AssortmentScope, code: &str, safety: Option<u32>) -> AssortmentRow {
        AssortmentRow {
            scope,
            sku: sku(code),
            safety_stock: safety,
        }
    }

    fn audit(lines: &[(&str, &str, u32, bool)]) -> BTreeMap<String, AuditLine> {
        let by = UserId::new_random();
        lines
            .iter()
            .map(|(s, loc, facings, on_shelf)| {
                let mut l = audit_line(s, loc, *facings, by);
                l.on_shelf = *on_shelf;
                (l.key(), l)
            })
            .collect()
    }

    fn items(range: &[RangeItem]) -> Vec<(&str, Option<u32>)> {
        range
            .iter()
            .map(|i| (i.sku.as_str(), i.safety_stock))
            .collect()
    }

    fn chain(name: &str, channel: Channel) -> AssortmentScope {
        AssortmentScope::Chain {
            chain: name.into(),
            channel,
        }
    }

    #[test]
    fn a_stores_range_is_its_rows_its_chains_and_its_channels() {
        let shop = Store {
            chain: Some("Walmart".into()),
            ..store() // NKA
        };
        let other = StoreId::new_random();
        let rows = [
            row(AssortmentScope::Channel(Channel::Nka), "TEA-500", Some(6)),
            row(AssortmentScope::Channel(Channel::Nka), "COLA-330", Some(12)),
            row(chain("Walmart", Channel::Nka), "COLA-330", Some(24)),
            row(chain("Walmart", Channel::Nka), "TEA-500", Some(8)),
            row(chain("Walmart", Channel::Nka), "COLA-500", None),
            row(AssortmentScope::Store(shop.id), "COLA-330", Some(48)),
            row(AssortmentScope::Store(shop.id), "WATER-550", None),
            // Not this store's: another channel, another chain, the chain in another
            // channel, another store.
            row(AssortmentScope::Channel(Channel::Lka), "JUICE-1L", None),
            row(chain("Carrefour", Channel::Nka), "MILK-1L", None),
            row(chain("Walmart", Channel::Rka), "MILK-250", None),
            row(AssortmentScope::Store(other), "BEER-500", None),
        ];
        // The most specific row's safety stock: store, then chain, then channel, whatever the
        // order of the rows.
        let mut reversed = rows.clone();
        reversed.reverse();
        for rows in [&rows[..], &reversed[..]] {
            assert_eq!(
                items(&range_of(&shop, rows)),
                [
                    ("COLA-330", Some(48)),
                    ("COLA-500", None),
                    ("TEA-500", Some(8)),
                    ("WATER-550", None)
                ]
            );
        }
        assert!(range_of(&shop, &rows[7..]).is_empty());
        // A store without a chain: its own rows and its channel's.
        let plain = Store {
            chain: None,
            ..shop.clone()
        };
        assert_eq!(
            items(&range_of(&plain, &rows)),
            [
                ("COLA-330", Some(48)),
                ("TEA-500", Some(6)),
                ("WATER-550", None)
            ]
        );
    }

    fn range(codes: &[&str]) -> Vec<RangeItem> {
        codes
            .iter()
            .map(|c| RangeItem {
                sku: sku(c),
                safety_stock: None,
            })
            .collect()
    }

    #[test]
    fn distribution_is_the_share_of_the_range_present() {
        // Range of 3: COLA on two shelves (4 + 2 facings), TEA recorded with 0 facings,
        // WATER recorded as not on shelf, JUICE (not in the range) present.
        let r = range(&["COLA-330", "TEA-500", "WATER-550"]);
        let a = audit(&[
            ("COLA-330", "MAIN-SHELF", 4, true),
            ("COLA-330", "END-CAP", 2, true),
            ("TEA-500", "MAIN-SHELF", 0, false),
            ("WATER-550", "MAIN-SHELF", 3, false),
            ("JUICE-1L", "MAIN-SHELF", 5, true),
        ]);
        let c = check(&r, &a);
        assert_eq!(c.present, 1);
        assert_eq!(c.distribution_bp, Some(3_333)); // 1 / 3, rounded down
        assert_eq!(
            c.items
                .iter()
                .map(|i| (i.sku.as_str(), i.facings, i.on_shelf))
                .collect::<Vec<_>>(),
            [
                ("COLA-330", 6, true),
                ("TEA-500", 0, false),
                ("WATER-550", 0, false)
            ]
        );
        let f: Vec<_> = c
            .verdict
            .findings
            .iter()
            .map(|f| (f.code.as_str(), f.severity, f.field.as_deref().unwrap()))
            .collect();
        assert_eq!(
            f,
            [
                (MISSING, Severity::Flag, "assortment.TEA-500"),
                (MISSING, Severity::Flag, "assortment.WATER-550")
            ]
        );
        let tea = &c.verdict.findings[0];
        assert_eq!(tea.rule, RuleId::Assortment);
        assert_eq!(tea.inputs["audit_lines"], "1");
        assert_eq!(tea.inputs["range_size"], "3");
        assert_eq!(tea.inputs["present"], "1");
        assert_eq!(tea.inputs["distribution_bp"], "3333");
        assert!(!c.verdict.is_blocked());
    }

    #[test]
    fn an_empty_audit_misses_the_whole_range_and_no_range_finds_nothing() {
        let c = check(&range(&["COLA-330", "TEA-500"]), &BTreeMap::new());
        assert_eq!((c.present, c.distribution_bp), (0, Some(0)));
        assert_eq!(c.verdict.findings.len(), 2);
        assert_eq!(c.verdict.findings[1].inputs["audit_lines"], "0");

        let none = check(&[], &audit(&[("COLA-330", "MAIN-SHELF", 4, true)]));
        assert_eq!((none.present, none.distribution_bp), (0, None));
        assert!(none.items.is_empty() && none.verdict.findings.is_empty());
    }

    #[test]
    fn a_full_shelf_is_ten_thousand_basis_points() {
        let r = range(&["COLA-330", "TEA-500"]);
        let a = audit(&[
            ("COLA-330", "MAIN-SHELF", 1, true),
            ("TEA-500", "COOLER", 2, true),
        ]);
        let c = check(&r, &a);
        assert_eq!((c.present, c.distribution_bp), (2, Some(10_000)));
        assert!(c.verdict.findings.is_empty());
    }
}
