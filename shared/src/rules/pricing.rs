//! Rule 6: prices and quantities. Quantity > 0 and a multiple of the case pack where the product
//! requires it; net price not below the price-list floor; discounts beyond the rep's authority
//! need approval.

use super::{Finding, RuleId, Severity, Verdict};
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
        DiscountAuthority {
            max_discount_bp: 1000,
        }
    }
}

/// Findings for one line (field `lines.<sku>.<quantity|unit_price>`): Block `quantity_zero`,
/// `quantity_not_case_multiple`, `price_below_floor`; NeedsApproval `discount_beyond_authority`;
/// Block `unknown_product` when `product` is `None`.
///
/// A discount exactly at the authority is allowed. A case pack of 0 (bad master data) does not
/// constrain the quantity.
pub fn check_line(
    line: &OrderLine,
    product: Option<&Product>,
    authority: DiscountAuthority,
) -> Verdict {
    let sku = &line.sku;
    let mut findings = Vec::new();
    if line.quantity == 0 {
        findings.push(
            Finding::new(
                RuleId::Pricing,
                Severity::Block,
                "quantity_zero",
                "quantity must be at least 1",
            )
            .field(format!("lines.{sku}.quantity"))
            .input("quantity", line.quantity),
        );
    }
    let Some(product) = product else {
        findings.push(
            Finding::new(
                RuleId::Pricing,
                Severity::Block,
                "unknown_product",
                format!("{sku} is not in the product list"),
            )
            .field(format!("lines.{sku}"))
            .input("sku", sku),
        );
        return Verdict::from_findings(findings);
    };
    if line.quantity != 0
        && product.sold_by_case
        && line
            .quantity
            .checked_rem(product.case_pack)
            .is_some_and(|r| r != 0)
    {
        findings.push(
            Finding::new(
                RuleId::Pricing,
                Severity::Block,
                "quantity_not_case_multiple",
                format!("{sku} is sold by the case of {}", product.case_pack),
            )
            .field(format!("lines.{sku}.quantity"))
            .input("quantity", line.quantity)
            .input("case_pack", product.case_pack),
        );
    }
    if line.unit_price < product.floor_price {
        findings.push(
            Finding::new(
                RuleId::Pricing,
                Severity::Block,
                "price_below_floor",
                format!(
                    "{} is below the floor price {}",
                    line.unit_price, product.floor_price
                ),
            )
            .field(format!("lines.{sku}.unit_price"))
            .input("unit_price", line.unit_price)
            .input("floor_price", product.floor_price),
        );
    }
    if let Some(discount_bp) = discount_beyond(line, product, authority) {
        findings.push(
            Finding::new(
                RuleId::Pricing,
                Severity::NeedsApproval,
                "discount_beyond_authority",
                format!(
                    "discount of {discount_bp} bp off {} exceeds the {} bp allowed",
                    product.list_price, authority.max_discount_bp
                ),
            )
            .field(format!("lines.{sku}.unit_price"))
            .input("unit_price", line.unit_price)
            .input("list_price", product.list_price)
            .input("discount_bp", discount_bp)
            .input("max_discount_bp", authority.max_discount_bp),
        );
    }
    Verdict::from_findings(findings)
}

/// The discount off list price in basis points (rounded up), if it exceeds the authority.
/// Compared exactly in integers, so 10.005 % against a 10 % authority does exceed it.
fn discount_beyond(
    line: &OrderLine,
    product: &Product,
    authority: DiscountAuthority,
) -> Option<i128> {
    let list = i128::from(product.list_price.minor());
    let discount = list - i128::from(line.unit_price.minor());
    if list <= 0
        || discount <= 0
        || discount * 10_000 <= i128::from(authority.max_discount_bp) * list
    {
        return None;
    }
    Some((discount * 10_000 + list - 1) / list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleId, Severity};
    use crate::testkit::{order_line, product};
    use crate::values::Money;

    /// Product: case of 24, list 4.00, floor 3.00; authority 10 % (3.60 is exactly 10 % off).
    fn check(quantity: u32, price: &str) -> Verdict {
        check_line(
            &order_line("COLA-330", quantity, price),
            Some(&product()),
            DiscountAuthority::default(),
        )
    }

    fn codes(v: &Verdict) -> Vec<(&str, Severity)> {
        v.findings
            .iter()
            .map(|f| (f.code.as_str(), f.severity))
            .collect()
    }

    #[test]
    fn valid_line_passes() {
        assert!(check(24, "4.00").findings.is_empty());
        assert!(check(48, "4.50").findings.is_empty()); // above list price is fine
    }

    #[test]
    fn zero_quantity_blocks() {
        let v = check(0, "4.00");
        assert_eq!(codes(&v), [("quantity_zero", Severity::Block)]);
        assert_eq!(
            v.findings[0].field.as_deref(),
            Some("lines.COLA-330.quantity")
        );
        assert_eq!(v.findings[0].rule, RuleId::Pricing);
    }

    #[test]
    fn case_multiple_boundaries() {
        assert_eq!(
            codes(&check(23, "4.00")),
            [("quantity_not_case_multiple", Severity::Block)]
        );
        assert_eq!(
            codes(&check(25, "4.00")),
            [("quantity_not_case_multiple", Severity::Block)]
        );
        assert!(check(24, "4.00").findings.is_empty());
        let v = check(1, "4.00");
        assert_eq!(v.findings[0].inputs["case_pack"], "24");
        assert_eq!(v.findings[0].inputs["quantity"], "1");
    }

    #[test]
    fn units_allowed_when_not_sold_by_case_or_case_pack_missing() {
        let line = order_line("COLA-330", 7, "4.00");
        let by_unit = Product {
            sold_by_case: false,
            ..product()
        };
        assert!(
            check_line(&line, Some(&by_unit), DiscountAuthority::default())
                .findings
                .is_empty()
        );
        let no_pack = Product {
            case_pack: 0,
            ..product()
        };
        assert!(
            check_line(&line, Some(&no_pack), DiscountAuthority::default())
                .findings
                .is_empty()
        );
    }

    #[test]
    fn floor_price_boundary() {
        // 3.00 is the floor; it is also 25 % off, beyond a 10 % authority.
        let generous = DiscountAuthority {
            max_discount_bp: 10_000,
        };
        let at = check_line(
            &order_line("COLA-330", 24, "3.00"),
            Some(&product()),
            generous,
        );
        assert!(at.findings.is_empty());
        let below = check_line(
            &order_line("COLA-330", 24, "2.99"),
            Some(&product()),
            generous,
        );
        assert_eq!(codes(&below), [("price_below_floor", Severity::Block)]);
        let f = &below.findings[0];
        assert_eq!(f.field.as_deref(), Some("lines.COLA-330.unit_price"));
        assert_eq!(
            (
                f.inputs["unit_price"].as_str(),
                f.inputs["floor_price"].as_str()
            ),
            ("2.99", "3.00")
        );
    }

    #[test]
    fn discount_authority_boundary() {
        assert!(check(24, "3.61").findings.is_empty()); // 9.75 %
        assert!(check(24, "3.60").findings.is_empty()); // exactly 10 %
        let v = check(24, "3.59"); // 10.25 %
        assert_eq!(
            codes(&v),
            [("discount_beyond_authority", Severity::NeedsApproval)]
        );
        assert!(v.needs_approval() && !v.is_blocked());
        let f = &v.findings[0];
        assert_eq!(f.inputs["discount_bp"], "1025");
        assert_eq!(f.inputs["max_discount_bp"], "1000");
        assert_eq!(f.inputs["list_price"], "4.00");
    }

    #[test]
    fn discount_is_compared_exactly_not_rounded() {
        // List 10.01, price 9.00: 1008.99 bp off. Truncating would call that 1008 bp.
        let p = Product {
            list_price: Money(1001),
            floor_price: Money(0),
            ..product()
        };
        let line = order_line("COLA-330", 24, "9.00");
        let strict = DiscountAuthority {
            max_discount_bp: 1008,
        };
        let v = check_line(&line, Some(&p), strict);
        assert_eq!(
            codes(&v),
            [("discount_beyond_authority", Severity::NeedsApproval)]
        );
        assert_eq!(v.findings[0].inputs["discount_bp"], "1009");
        let enough = DiscountAuthority {
            max_discount_bp: 1009,
        };
        assert!(check_line(&line, Some(&p), enough).findings.is_empty());
    }

    #[test]
    fn below_floor_and_beyond_authority_are_both_reported() {
        let v = check(24, "2.00");
        assert_eq!(
            codes(&v),
            [
                ("price_below_floor", Severity::Block),
                ("discount_beyond_authority", Severity::NeedsApproval)
            ]
        );
    }

    #[test]
    fn unknown_product_blocks() {
        let line = order_line("NOPE-1", 5, "1.00");
        let v = check_line(&line, None, DiscountAuthority::default());
        assert_eq!(codes(&v), [("unknown_product", Severity::Block)]);
        assert_eq!(v.findings[0].field.as_deref(), Some("lines.NOPE-1"));
        let zero = check_line(
            &order_line("NOPE-1", 0, "1.00"),
            None,
            DiscountAuthority::default(),
        );
        assert_eq!(
            codes(&zero),
            [
                ("quantity_zero", Severity::Block),
                ("unknown_product", Severity::Block)
            ]
        );
    }
}
