//! The one entry point for judging a document being submitted: every rule that applies to an
//! order or a visit at submission, in one call, against a view of the master data. The phone
//! calls it before it commits a submission; the server calls it on the merged document with
//! the data the phone said it used and with its own current data. No rule is called one by one
//! anywhere else for a submission.

use std::collections::BTreeMap;

use super::approval;
use super::assortment::{self, RangeItem};
use super::credit::{self, CreditCheck};
use super::geofence::{self, GeofenceTolerance};
use super::photos::PhotoTolerance;
use super::pricing::{self, DiscountAuthority};
use super::promotion;
use super::success;
use super::visit_timing::{self, VisitRequirements};
use super::{delivery, freshness, photos, Finding, Verdict, RULES_VERSION};
use crate::evaluation::{CreditBasis, RulesBasis, ShownFinding};
use crate::master::{CreditSnapshot, Product, Store};
use crate::order::{Order, OrderStatus, PaymentMethod};
use crate::org::Role;
use crate::tiers::ApprovalTiers;
use crate::values::{Date, Money, Sha256, StoreId, Timestamp};
use crate::visit::Visit;

/// A credit snapshot older than this sends credit orders to approval instead of deciding.
pub const CREDIT_MAX_AGE_DAYS: u32 = 7;

/// The tunable parts of the rules, the same on the phone and on the server.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSettings {
    pub credit_max_age_days: u32,
    /// The tenant's approval tiers (discount and order amount limits per role).
    pub approval: ApprovalTiers,
    /// Whose limits apply: the person submitting.
    pub role: Role,
    pub visit: VisitRequirements,
    pub geofence: GeofenceTolerance,
    pub photos: PhotoTolerance,
}

impl RuleSettings {
    /// The default settings with a tenant's approval tiers, for a person of `role`.
    pub fn with_tiers(approval: ApprovalTiers, role: Role) -> Self {
        RuleSettings {
            approval,
            role,
            ..RuleSettings::default()
        }
    }

    /// The discount `role`'s limit allows without approval (no limit: any).
    pub fn discount_authority(&self) -> DiscountAuthority {
        DiscountAuthority {
            max_discount_bp: self.approval.discount_bp.of(self.role).unwrap_or(u32::MAX),
        }
    }
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            credit_max_age_days: CREDIT_MAX_AGE_DAYS,
            approval: ApprovalTiers::default(),
            role: Role::Rep,
            visit: VisitRequirements::default(),
            geofence: GeofenceTolerance::default(),
            photos: PhotoTolerance::default(),
        }
    }
}

/// The master data an order is judged against.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderData<'a> {
    /// The order's store (its delivery lead time).
    pub store: &'a Store,
    /// Products by SKU; a line whose SKU is missing is an unknown product.
    pub products: &'a BTreeMap<String, Product>,
    /// The store's credit snapshot, if any.
    pub credit: Option<&'a CreditSnapshot>,
    /// The store's other open orders, counted against its credit.
    pub open_orders: Money,
    /// The rules' "today" (credit snapshot age).
    pub today: Date,
}

/// Every rule of an order being submitted: pricing and case packs per line (the discount
/// against the submitter's tier), the order amount against the submitter's tier, the delivery
/// date, and credit for credit orders. Block findings refuse the submission; NeedsApproval
/// findings submit it as `pending_approval` ([`submitted_status`]).
pub fn evaluate_order(order: &Order, data: &OrderData<'_>, settings: &RuleSettings) -> Verdict {
    let mut verdict = Verdict::default();
    for line in order.lines.values() {
        let product = data.products.get(line.sku.as_str());
        verdict.extend(pricing::check_line(
            line,
            product,
            settings.discount_authority(),
        ));
    }
    verdict.extend(approval::check_order_amount(
        order.total(),
        settings.role,
        &settings.approval,
    ));
    verdict.extend(delivery::check_delivery_date(
        order.order_date,
        order.requested_delivery,
        data.store.delivery_lead_days,
    ));
    if order.payment == PaymentMethod::Credit {
        verdict.extend(credit::check_order(&CreditCheck {
            snapshot: data.credit,
            open_orders: data.open_orders,
            this_order: order.total().unwrap_or(Money(i64::MAX)),
            today: data.today,
            max_age_days: settings.credit_max_age_days,
        }));
    }
    verdict
}

/// The status an order is submitted in after `verdict` (`None`: blocked, not submittable).
pub fn submitted_status(verdict: &Verdict) -> Option<OrderStatus> {
    if verdict.is_blocked() {
        None
    } else if verdict.needs_approval() {
        Some(OrderStatus::PendingApproval)
    } else {
        Some(OrderStatus::Submitted)
    }
}

/// The master data a visit is judged against.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitData<'a> {
    /// The visit's store (its geofence).
    pub store: &'a Store,
    /// Products by SKU, for the freshness of audit lines (competitors' SKUs are absent).
    pub products: &'a BTreeMap<String, Product>,
    /// Photo hashes already used on other visits.
    pub photos_elsewhere: &'a [Sha256],
    /// The store's must-carry range (`assortment::range_of`); empty: none.
    pub range: &'a [RangeItem],
    /// The promotions running at the store on the visit's date (`promotion::active_at`).
    pub promotions: &'a [crate::master::Promotion],
    /// The store's picture of success (`success::picture_for`); `None`: none.
    pub success_picture: Option<&'a crate::master::SuccessPicture>,
}

/// Every rule of a visit being submitted: timing and requirements (Block), and the flags of
/// its check-in and check-out positions, its audit lines' freshness and its photos (attached
/// and, from their EXIF, taken during the visit at the store), the must-carry SKUs missing
/// from its shelf audit, the promotions not checked, not in place or above their price and
/// the points of the store's picture of success missed or not scored (flags).
pub fn evaluate_visit(visit: &Visit, data: &VisitData<'_>, settings: &RuleSettings) -> Verdict {
    let mut verdict = visit_timing::submit(visit, &settings.visit);
    for stamp in [&visit.check_in, &visit.check_out].into_iter().flatten() {
        verdict.extend(geofence::check_position(
            data.store,
            stamp,
            settings.geofence,
        ));
    }
    for line in visit.audit.values() {
        if let Some(product) = data.products.get(line.sku.as_str()) {
            verdict.extend(freshness::check_line(
                line,
                product,
                line.recorded_at.utc_date(),
            ));
        }
    }
    for photo in visit.photos.values() {
        verdict.extend(photos::check_photo(
            visit,
            photo,
            data.store,
            data.photos_elsewhere,
            settings.photos,
        ));
    }
    verdict.extend(assortment::check(data.range, &visit.audit).verdict);
    let no_checks = BTreeMap::new();
    let checks = visit.promotion_checks.as_ref().unwrap_or(&no_checks);
    verdict.extend(promotion::check(data.promotions, checks, &visit.audit).verdict);
    let no_scores = BTreeMap::new();
    let scores = visit.success_scores.as_ref().unwrap_or(&no_scores);
    verdict.extend(success::check(data.success_picture, scores).verdict);
    verdict
}

/// What the phone records in the document when it submits: the master version it held, when
/// it evaluated, and the credit snapshot (with the open orders) it used for a credit order.
pub fn basis(
    master_version: i64,
    evaluated_at: Timestamp,
    credit: Option<(&CreditSnapshot, Money)>,
) -> RulesBasis {
    RulesBasis {
        rules_version: u64::from(RULES_VERSION),
        master_version,
        evaluated_at,
        credit: credit.map(|(snap, open_orders)| CreditBasis {
            as_of: snap.as_of,
            credit_limit: snap.credit_limit,
            receivables: snap.receivables,
            overdue: snap.overdue,
            open_orders,
        }),
    }
}

/// The credit snapshot a recorded basis describes, for the store `store`.
pub fn recorded_snapshot(credit: &CreditBasis, store: StoreId) -> CreditSnapshot {
    CreditSnapshot {
        store_id: store,
        credit_limit: credit.credit_limit,
        receivables: credit.receivables,
        overdue: credit.overdue,
        as_of: credit.as_of,
    }
}

/// The findings of `verdict` as the document keeps them (what the rep was shown, at `at`).
pub fn shown(verdict: &Verdict, at: Timestamp) -> Vec<ShownFinding> {
    verdict
        .findings
        .iter()
        .map(|f| shown_finding(f, at))
        .collect()
}

fn shown_finding(f: &Finding, at: Timestamp) -> ShownFinding {
    ShownFinding {
        rule: f.rule.as_str().to_string(),
        rule_version: u64::from(f.rule_version),
        severity: f.severity.as_str().to_string(),
        code: f.code.clone(),
        message: f.message.clone(),
        field: f.field.clone(),
        at,
    }
}

#[cfg(test)]
mod tests;
