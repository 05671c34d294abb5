//! The suggested order (visit step 5): for every SKU of the store's range with a safety stock
//! and a stock count, what it takes to bring the store back to its safety stock. The phone runs
//! it offline to pre-fill the order the rep then edits; nothing is found or refused, so it is
//! a proposal, not a finding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::assortment::RangeItem;
use crate::master::Product;
use crate::values::Sku;
use crate::visit::StockCount;

/// One line of the suggested order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedLine {
    pub sku: Sku,
    /// Units agreed to be held.
    pub safety_stock: u32,
    /// Units counted on the shelf and in the back room.
    pub on_hand: u32,
    /// Units to order: the shortfall, rounded up to whole cases when the product is sold by
    /// the case (an order line of it must be a case multiple).
    pub quantity: u32,
}

/// The suggested lines, by SKU: SKUs of `range` with a safety stock, counted in `counts` (keyed
/// by SKU) below it. A SKU not counted gets no line (nobody knows what the store holds), nor
/// one at or above its safety stock. `product` looks up the catalogue (case pack).
pub fn suggest<'p>(
    range: &[RangeItem],
    counts: &BTreeMap<String, StockCount>,
    product: impl Fn(&Sku) -> Option<&'p Product>,
) -> Vec<SuggestedLine> {
    let mut lines = Vec::new();
    for item in range {
        let (Some(safety_stock), Some(count)) = (item.safety_stock, counts.get(item.sku.as_str()))
        else {
            continue;
        };
        let on_hand = count.on_hand();
        let shortfall = safety_stock.saturating_sub(on_hand);
        if shortfall == 0 {
            continue;
        }
        let quantity = match product(&item.sku) {
            Some(p) if p.sold_by_case && p.case_pack > 1 => {
                shortfall.div_ceil(p.case_pack).saturating_mul(p.case_pack)
            }
            _ => shortfall,
        };
        lines.push(SuggestedLine {
            sku: item.sku.clone(),
            safety_stock,
            on_hand,
            quantity,
        });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Money, Timestamp, UserId};

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn item(s: &str, safety_stock: Option<u32>) -> RangeItem {
        RangeItem {
            sku: sku(s),
            safety_stock,
        }
    }

    fn count(s: &str, shelf_units: u32, backroom_units: u32) -> (String, StockCount) {
        (
            s.to_string(),
            StockCount {
                sku: sku(s),
                shelf_units,
                backroom_units,
                counted_by: UserId(uuid::Uuid::nil()),
                counted_at: Timestamp(1),
            },
        )
    }

    fn product(s: &str, case_pack: u32, sold_by_case: bool) -> Product {
        Product {
            sku: sku(s),
            name: s.to_string(),
            case_pack,
            sold_by_case,
            shelf_life_days: 180,
            list_price: Money(300),
            floor_price: Money(250),
        }
    }

    #[test]
    fn the_shortfall_below_safety_stock_rounded_up_to_cases_when_sold_by_case() {
        let range = [
            item("COLA-330", Some(48)), // 10 + 5 on hand: 33 short, 24 a case: 48
            item("TEA-500", Some(12)),  // 4 on hand: 8 short, units
            item("WATER-1L", Some(6)),  // 6 on hand: nothing
            item("JUICE-1L", Some(20)), // not counted: no line
            item("SNACK-50", None),     // no safety stock: no line
        ];
        let counts = BTreeMap::from([
            count("COLA-330", 10, 5),
            count("TEA-500", 0, 4),
            count("WATER-1L", 2, 4),
            count("SNACK-50", 0, 0),
        ]);
        let catalogue = [product("COLA-330", 24, true), product("TEA-500", 12, false)];
        let lines = suggest(&range, &counts, |s| catalogue.iter().find(|p| p.sku == *s));
        assert_eq!(
            lines,
            vec![
                SuggestedLine {
                    sku: sku("COLA-330"),
                    safety_stock: 48,
                    on_hand: 15,
                    quantity: 48,
                },
                SuggestedLine {
                    sku: sku("TEA-500"),
                    safety_stock: 12,
                    on_hand: 4,
                    quantity: 8,
                },
            ]
        );
    }

    #[test]
    fn a_shortfall_of_exactly_whole_cases_is_not_rounded_further() {
        let range = [item("COLA-330", Some(30))];
        let counts = BTreeMap::from([count("COLA-330", 6, 0)]);
        let catalogue = [product("COLA-330", 24, true)];
        let lines = suggest(&range, &counts, |s| catalogue.iter().find(|p| p.sku == *s));
        assert_eq!(lines[0].quantity, 24);
        // A product outside the catalogue is suggested in units.
        let lines = suggest(&range, &counts, |_| None);
        assert_eq!(lines[0].quantity, 24);
        let range = [item("COLA-330", Some(31))];
        let lines = suggest(&range, &counts, |_| None);
        assert_eq!(lines[0].quantity, 25);
    }
}
