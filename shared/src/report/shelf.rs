//! One store's shelf as recorded at a past visit (docs/reports.md, "The shelf at a past
//! visit"): the store's audited visit of a day — the last completed visit with audit lines
//! dated on or before it, the one the store-opportunity report takes for its week — with
//! what it recorded, set against the master data: our lines and competitors' apart, the
//! must-carry range with what was missing, the agreements running that day with their checks,
//! the picture of success as scored, stock counts, competitor sightings and photos.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::master::{
    AssortmentRow, Mechanic, PointKind, Product, Promotion, Store, SuccessPicture,
};
use crate::promotion::CheckStatus;
use crate::report::rep_weekly::DONE;
use crate::report::store_opportunity::{compliance_of_kind, out_of_stock_bp};
use crate::rules::{assortment, promotion, success};
use crate::success::ScoreStatus;
use crate::values::{Date, DocId, Money, Sha256, ShelfLocation, Sku, StoreId, Timestamp, UserId};
use crate::visit::{CompetitorSighting, Visit, VisitStatus};

/// Does `visit` count as an audit of its store: completed, with audit lines?
pub fn is_audit(visit: &Visit) -> bool {
    DONE.contains(&visit.status) && !visit.audit.is_empty()
}

/// The order among a store's audits: the later date, then the later check-out, then the id.
pub fn audit_order(visit: &Visit) -> (Date, Option<Timestamp>, DocId) {
    (
        visit.planned_date,
        visit.check_out.as_ref().map(|c| c.at),
        visit.id,
    )
}

/// The audit of `store` that stood on `day`: the last one dated on or before it.
pub fn audit_on(visits: &[Visit], store: StoreId, day: Date) -> Option<&Visit> {
    visits
        .iter()
        .filter(|v| v.store_id == store && v.planned_date <= day && is_audit(v))
        .max_by_key(|v| audit_order(v))
}

/// One audit line, with the product's name when the SKU is ours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShelfLine {
    pub sku: Sku,
    /// `None`: not in the catalogue (a competitor's SKU).
    pub product: Option<String>,
    pub location: ShelfLocation,
    pub facings: u32,
    pub on_shelf: bool,
    pub shelf_price: Option<Money>,
    pub oldest_production_date: Option<Date>,
    /// Units counted on the shelf and in the back room at that visit, if counted.
    pub shelf_units: Option<u32>,
    pub backroom_units: Option<u32>,
}

/// One SKU of the store's must-carry range on the visit's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedSku {
    pub sku: Sku,
    pub product: Option<String>,
    /// On the shelf somewhere in the store; `false`: missing or out of stock.
    pub on_shelf: bool,
    pub facings: u32,
}

/// One agreement running at the store on the visit's day, and what the visit found of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementSeen {
    pub code: String,
    pub title: String,
    pub mechanic: Mechanic,
    /// A display (endcap, floor stand, shelf position) rather than a promotion.
    pub display: bool,
    /// `None`: not checked.
    pub status: Option<CheckStatus>,
    pub promotion_price: Option<Money>,
    pub seen_price: Option<Money>,
    pub photos: Vec<Sha256>,
}

/// One point of the store's picture of success, and the visit's score of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSeen {
    pub code: String,
    pub label: String,
    pub kind: PointKind,
    pub weight: u32,
    /// `None`: not scored.
    pub status: Option<ScoreStatus>,
    pub photos: Vec<Sha256>,
}

/// The shelf as one visit recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShelfRecord {
    pub visit_id: DocId,
    pub visit_date: Date,
    pub status: VisitStatus,
    pub person_id: UserId,
    /// Our lines, then competitors', each by SKU and place.
    pub own_lines: Vec<ShelfLine>,
    pub competitor_lines: Vec<ShelfLine>,
    /// The must-carry range, by SKU; empty for a store without one.
    pub expected: Vec<ExpectedSku>,
    pub distribution_bp: Option<u32>,
    pub out_of_stock_bp: Option<u32>,
    pub agreements: Vec<AgreementSeen>,
    pub promotion_compliance_bp: Option<u32>,
    pub display_compliance_bp: Option<u32>,
    /// The store's picture of success (its title) and each point as scored, in the
    /// picture's order; the weighted score. `None` and empty: the store has no picture.
    pub success_picture: Option<String>,
    pub success_points: Vec<PointSeen>,
    pub success_score_bp: Option<u32>,
    /// In the order every replica shows them.
    pub competitor_sightings: Vec<CompetitorSighting>,
    /// The visit's photos, oldest first.
    pub photos: Vec<Sha256>,
}

/// The tenant's master data a shelf is set against.
pub struct ShelfMaster<'a> {
    pub range: &'a [AssortmentRow],
    pub promotions: &'a [Promotion],
    pub pictures: &'a [SuccessPicture],
    pub products: &'a HashMap<Sku, Product>,
}

/// What `visit` (an audit of `store`) recorded, against the tenant's range, agreements,
/// pictures of success and catalogue.
pub fn shelf_record(visit: &Visit, store: &Store, master: &ShelfMaster<'_>) -> ShelfRecord {
    let ShelfMaster {
        range,
        promotions,
        pictures,
        products,
    } = *master;
    let name = |sku: &Sku| products.get(sku).map(|p| p.name.clone());
    let counts = visit.stock_counts.as_ref();
    let (mut own_lines, mut competitor_lines) = (Vec::new(), Vec::new());
    for line in visit.audit.values() {
        let count = counts.and_then(|c| c.get(line.sku.as_str()));
        let shelf_line = ShelfLine {
            sku: line.sku.clone(),
            product: name(&line.sku),
            location: line.location.clone(),
            facings: line.facings,
            on_shelf: line.on_shelf,
            shelf_price: line.shelf_price,
            oldest_production_date: line.oldest_production_date,
            shelf_units: count.map(|c| c.shelf_units),
            backroom_units: count.map(|c| c.backroom_units),
        };
        if shelf_line.product.is_some() {
            own_lines.push(shelf_line);
        } else {
            competitor_lines.push(shelf_line);
        }
    }
    let range_check = assortment::check(&assortment::range_of(store, range), &visit.audit);
    let expected = range_check
        .items
        .iter()
        .map(|item| ExpectedSku {
            sku: item.sku.clone(),
            product: name(&item.sku),
            on_shelf: item.on_shelf,
            facings: item.facings,
        })
        .collect();
    let no_checks = Default::default();
    let checks = visit.promotion_checks.as_ref().unwrap_or(&no_checks);
    let agreements = promotion::active_at(store, visit.planned_date, promotions)
        .into_iter()
        .map(|p| {
            let check = checks.get(p.code.as_str());
            AgreementSeen {
                code: p.code.to_string(),
                title: p.title.clone(),
                mechanic: p.mechanic,
                display: p.mechanic.is_display(),
                status: check.map(|c| c.status),
                promotion_price: p.promotion_price,
                seen_price: check.and_then(|c| c.seen_price),
                photos: check.map(|c| c.photos.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let picture = success::picture_for(store, pictures);
    let scored = success::check(
        picture,
        visit.success_scores.as_ref().unwrap_or(&Default::default()),
    );
    let success_points = scored
        .items
        .iter()
        .map(|item| PointSeen {
            code: item.point.code.to_string(),
            label: item.point.label.clone(),
            kind: item.point.kind,
            weight: item.point.weight,
            status: item.score.as_ref().map(|s| s.status),
            photos: item
                .score
                .as_ref()
                .map(|s| s.photos.clone())
                .unwrap_or_default(),
        })
        .collect();
    let mut photos: Vec<_> = visit.photos.values().collect();
    photos.sort_by_key(|p| (p.taken_at, p.sha256));
    ShelfRecord {
        visit_id: visit.id,
        visit_date: visit.planned_date,
        status: visit.status,
        person_id: visit.person_id,
        own_lines,
        competitor_lines,
        expected,
        distribution_bp: range_check.distribution_bp,
        out_of_stock_bp: out_of_stock_bp(visit, |sku| products.contains_key(sku)),
        agreements,
        promotion_compliance_bp: compliance_of_kind(store, visit, promotions, false),
        display_compliance_bp: compliance_of_kind(store, visit, promotions, true),
        success_picture: picture.map(|p| p.title.clone()),
        success_points,
        success_score_bp: scored.score_bp,
        competitor_sightings: visit.competitor_sightings_in_order(),
        photos: photos.into_iter().map(|p| p.sha256).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master::{AssortmentScope, Channel};
    use crate::promotion::PromotionCheck;
    use crate::testkit::{audit_line, date, money, photo, product, sku, store, visit};
    use crate::values::PromotionCode;
    use crate::visit::StockCount;

    fn audited(store: StoreId, day: &str, status: VisitStatus) -> Visit {
        let mut v = visit();
        v.store_id = store;
        v.planned_date = date(day);
        v.status = status;
        let l = audit_line("COLA-330", "MAIN", 6, v.person_id);
        v.audit.insert(l.key(), l);
        v
    }

    #[test]
    fn the_audit_that_stood_on_a_day_is_the_last_completed_one_before_it() {
        let shop = store();
        let first = audited(shop.id, "2026-11-02", VisitStatus::Approved);
        let second = audited(shop.id, "2026-11-09", VisitStatus::Submitted);
        let open = audited(shop.id, "2026-11-10", VisitStatus::InProgress);
        let mut empty = audited(shop.id, "2026-11-11", VisitStatus::Submitted);
        empty.audit.clear();
        let elsewhere = audited(StoreId::new_random(), "2026-11-11", VisitStatus::Submitted);
        let visits = [first.clone(), second.clone(), open, empty, elsewhere];
        assert_eq!(audit_on(&visits, shop.id, date("2026-11-01")), None);
        assert_eq!(
            audit_on(&visits, shop.id, date("2026-11-08")).map(|v| v.id),
            Some(first.id)
        );
        assert_eq!(
            audit_on(&visits, shop.id, date("2026-11-30")).map(|v| v.id),
            Some(second.id),
            "neither the open visit nor the one without audit lines"
        );
    }

    /// One audit with our SKU, a competitor's and a stock count; a range of two of which one
    /// is missing; a display checked partly, a price cut not checked.
    #[test]
    fn a_shelf_record_with_known_answers() {
        let mut shop = store();
        shop.chain = Some("Walmart".into());
        let products: HashMap<Sku, Product> = [("COLA-330", "Cola 330 ml"), ("TEA-500", "Tea")]
            .iter()
            .map(|(code, name)| {
                let mut p = product();
                p.sku = sku(code);
                p.name = (*name).into();
                (p.sku.clone(), p)
            })
            .collect();
        let mut v = audited(shop.id, "2026-11-09", VisitStatus::Submitted);
        let rival = audit_line("RIVAL-1", "MAIN", 9, v.person_id);
        v.audit.insert(rival.key(), rival);
        v.stock_counts.as_mut().unwrap().insert(
            "COLA-330".into(),
            StockCount {
                sku: sku("COLA-330"),
                shelf_units: 30,
                backroom_units: 12,
                counted_by: v.person_id,
                counted_at: Timestamp(5),
            },
        );
        let shot = photo(b"endcap", 10, v.person_id);
        v.photos.insert(shot.sha256.to_hex(), shot.clone());
        let range = [
            AssortmentRow {
                scope: AssortmentScope::Channel(Channel::Nka),
                sku: sku("COLA-330"),
                safety_stock: None,
            },
            AssortmentRow {
                scope: AssortmentScope::Channel(Channel::Nka),
                sku: sku("TEA-500"),
                safety_stock: None,
            },
        ];
        let agreement = |code: &str, mechanic: Mechanic| Promotion {
            code: PromotionCode::parse(code).unwrap(),
            title: code.into(),
            from: date("2026-11-01"),
            to: date("2026-11-30"),
            scope: AssortmentScope::Chain {
                chain: "Walmart".into(),
                channel: Channel::Nka,
            },
            skus: vec![sku("COLA-330")],
            mechanic,
            promotion_price: (mechanic == Mechanic::PriceCut).then(|| money("3.50")),
            fee: None,
        };
        let mut later = agreement("LATER", Mechanic::Gift);
        later.from = date("2026-12-01");
        later.to = date("2026-12-31");
        let promotions = [
            agreement("ENDCAP", Mechanic::Endcap),
            agreement("CUT", Mechanic::PriceCut),
            later,
        ];
        v.promotion_checks.as_mut().unwrap().insert(
            "ENDCAP".into(),
            PromotionCheck {
                status: CheckStatus::Partly,
                photos: vec![shot.sha256],
                seen_price: None,
                note: None,
                by: v.person_id,
                at: Timestamp(11),
            },
        );

        let r = shelf_record(
            &v,
            &shop,
            &ShelfMaster {
                range: &range,
                promotions: &promotions,
                pictures: &[],
                products: &products,
            },
        );
        assert_eq!((r.visit_id, r.visit_date), (v.id, date("2026-11-09")));
        assert_eq!(r.own_lines.len(), 1);
        let cola = &r.own_lines[0];
        assert_eq!(cola.product.as_deref(), Some("Cola 330 ml"));
        assert_eq!(
            (cola.shelf_units, cola.backroom_units),
            (Some(30), Some(12))
        );
        assert_eq!(r.competitor_lines.len(), 1);
        assert_eq!(r.competitor_lines[0].sku, sku("RIVAL-1"));
        assert_eq!(r.competitor_lines[0].shelf_units, None);
        let expected: Vec<(String, bool)> = r
            .expected
            .iter()
            .map(|e| (e.sku.to_string(), e.on_shelf))
            .collect();
        assert_eq!(
            expected,
            [("COLA-330".into(), true), ("TEA-500".into(), false)]
        );
        assert_eq!(
            (r.distribution_bp, r.out_of_stock_bp),
            (Some(5000), Some(0))
        );
        let codes: Vec<&str> = r.agreements.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(
            codes.len(),
            2,
            "the December gift is not running: {codes:?}"
        );
        let endcap = r.agreements.iter().find(|a| a.code == "ENDCAP").unwrap();
        assert!(endcap.display);
        assert_eq!(endcap.status, Some(CheckStatus::Partly));
        assert_eq!(endcap.photos, vec![shot.sha256]);
        let cut = r.agreements.iter().find(|a| a.code == "CUT").unwrap();
        assert_eq!((cut.display, cut.status), (false, None));
        assert_eq!(cut.promotion_price, Some(money("3.50")));
        assert_eq!(r.display_compliance_bp, Some(5000), "partly: half");
        assert_eq!(r.promotion_compliance_bp, Some(0), "not checked");
        assert_eq!(r.photos, vec![shot.sha256]);
        assert_eq!((r.success_picture, r.success_score_bp), (None, None));
        assert!(r.success_points.is_empty());
    }
}
