//! Rule 6: prices and quantities. Quantity > 0 and a multiple of the case pack where the product
//! requires it; net price not below the price-list floor; discounts beyond the rep's authority
//! need approval.

use super::Verdict;
use crate::master::Product;
use crate::order::OrderLine;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiscountAuthority {
    /// Largest discount off list price the person may give without approval, basis points.
    pub max_discount_bp: u32,
}

impl Default for DiscountAuthority {
    /// 10 %.
    fn default() -> Self {
        DiscountAuthority { max_discount_bp: 1000 }
    }
}

/// Findings for one line (field `lines.<sku>.<quantity|unit_price>`): Block `quantity_zero`,
/// `quantity_not_case_multiple`, `price_below_floor`; NeedsApproval `discount_beyond_authority`;
/// Block `unknown_product` when `product` is `None`.
pub fn check_line(line: &OrderLine, product: Option<&Product>, authority: DiscountAuthority) -> Verdict {
    todo!("{line:?} {product:?} {authority:?}")
}
