//! Promotion and display compliance (docs/promotions.md): the promotions running at a store on
//! the visit's date against what the visit checked of them. Compliance counts an `in_place`
//! check 1, `partly` one half, `not_in_place` and no check 0. Every finding is a Flag
//! (information for the supervisor, never a block):
//!
//! * `promotion_not_checked`: a promotion running at the store the visit did not check;
//! * `promotion_not_in_place`: checked and not in place, with the evidence photos;
//! * `promotion_price_mismatch`: a price cut whose shelf price seen (the check's, or the
//!   `shelf_price` of an audit line of one of its SKUs) is above the promotion price.

use std::collections::BTreeMap;

use super::{Finding, RuleId, Severity, Verdict};
use crate::master::{Promotion, Store};
use crate::promotion::{CheckStatus, PromotionCheck};
use crate::values::{Date, Money};
use crate::visit::AuditLine;

pub const NOT_CHECKED: &str = "promotion_not_checked";
pub const NOT_IN_PLACE: &str = "promotion_not_in_place";
pub const PRICE_MISMATCH: &str = "promotion_price_mismatch";

/// The promotions of `store` running on `day`, by code.
pub fn active_at(store: &Store, day: Date, promotions: &[Promotion]) -> Vec<Promotion> {
    let mut active: Vec<Promotion> = promotions
        .iter()
        .filter(|p| p.active_on(day) && p.scope.level_for(store).is_some())
        .cloned()
        .collect();
    active.sort_by(|a, b| a.code.cmp(&b.code));
    active.dedup_by(|a, b| a.code == b.code);
    active
}

/// The highest shelf price seen for a promotion, and where: `check` or an audit line's key.
fn highest_price_seen(
    promotion: &Promotion,
    check: Option<&PromotionCheck>,
    audit: &BTreeMap<String, AuditLine>,
) -> Option<(Money, String)> {
    let from_check = check
        .and_then(|c| c.seen_price)
        .map(|p| (p, "check".to_string()));
    let from_audit = audit.iter().filter_map(|(key, line)| {
        (promotion.skus.contains(&line.sku))
            .then_some(line.shelf_price)
            .flatten()
            .map(|p| (p, key.clone()))
    });
    // The highest; among equal prices the check's, then the first line by key.
    from_check
        .into_iter()
        .chain(from_audit)
        .fold(None, |best: Option<(Money, String)>, seen| match best {
            Some(b) if b.0 >= seen.0 => Some(b),
            _ => Some(seen),
        })
}

/// One running promotion and what the visit recorded of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionStatus {
    pub promotion: Promotion,
    pub check: Option<PromotionCheck>,
}

/// The running promotions against one visit.
#[derive(Debug, Clone, PartialEq)]
pub struct Compliance {
    /// Every running promotion, by code.
    pub items: Vec<PromotionStatus>,
    /// Compliance in basis points (in place 1, partly 1/2, else 0; over the running
    /// promotions, rounded down); `None` when none runs.
    pub compliance_bp: Option<u32>,
    pub verdict: Verdict,
}

/// Judges the visit's `checks` (keyed by promotion code) and `audit` against the promotions
/// `active` at its store on its date ([`active_at`]).
pub fn check(
    active: &[Promotion],
    checks: &BTreeMap<String, PromotionCheck>,
    audit: &BTreeMap<String, AuditLine>,
) -> Compliance {
    let items: Vec<PromotionStatus> = active
        .iter()
        .map(|p| PromotionStatus {
            promotion: p.clone(),
            check: checks.get(p.code.as_str()).cloned(),
        })
        .collect();
    // Halves: in place 2, partly 1.
    let halves: u64 = items
        .iter()
        .map(|i| match i.check.as_ref().map(|c| c.status) {
            Some(CheckStatus::InPlace) => 2,
            Some(CheckStatus::Partly) => 1,
            Some(CheckStatus::NotInPlace) | None => 0,
        })
        .sum();
    let running = items.len() as u64;
    let compliance_bp = (running > 0).then(|| (halves * 10_000 / (2 * running)) as u32);
    let bp = compliance_bp.unwrap_or(0);

    let mut findings = Vec::new();
    for item in &items {
        let p = &item.promotion;
        let finding = |code: &str, message: String| {
            Finding::new(RuleId::Promotion, Severity::Flag, code, message)
                .field(format!("promotions.{}", p.code))
                .input("promotion", &p.code)
                .input("mechanic", p.mechanic)
                .input("compliance_bp", bp)
        };
        match &item.check {
            None => findings.push(finding(
                NOT_CHECKED,
                format!(
                    "{} ({}) runs at the store until {} and was not checked",
                    p.code, p.title, p.to
                ),
            )),
            Some(c) if c.status == CheckStatus::NotInPlace => {
                let photos: Vec<String> = c.photos.iter().map(|h| h.to_string()).collect();
                findings.push(
                    finding(
                        NOT_IN_PLACE,
                        format!(
                            "{} ({}) is not in place ({} evidence photo(s))",
                            p.code,
                            p.title,
                            photos.len()
                        ),
                    )
                    .input("photos", photos.join(","))
                    .input("checked_by", c.by)
                    .input("checked_at", c.at.0),
                );
            }
            Some(_) => {}
        }
        let Some(price) = p.promotion_price else {
            continue;
        };
        if let Some((seen, source)) = highest_price_seen(p, item.check.as_ref(), audit) {
            if seen > price {
                findings.push(
                    Finding::new(
                        RuleId::Promotion,
                        Severity::Flag,
                        PRICE_MISMATCH,
                        format!(
                            "{} ({}): the shelf shows {seen}, above the promotion price {price}",
                            p.code, p.title
                        ),
                    )
                    .field(format!("promotions.{}.price", p.code))
                    .input("promotion", &p.code)
                    .input("promotion_price", price.minor())
                    .input("seen_price", seen.minor())
                    .input("seen_in", source),
                );
            }
        }
    }
    Compliance {
        items,
        compliance_bp,
        verdict: Verdict::from_findings(findings),
    }
}

#[cfg(test)]
mod tests;
