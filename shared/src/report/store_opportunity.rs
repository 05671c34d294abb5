//! The key-account store opportunity report: per KA store (channel NKA, RKA or LKA) and ISO
//! week, what the week's last audit saw of our products on the shelf, and the store's orders
//! against its potential (docs/reports.md).
//!
//! * **Own and competitor SKUs**: an audit line is ours when its SKU is in the product
//!   catalogue; a line of a SKU not in it is a competitor's (the phone records both, the
//!   catalogue holds only ours: the rules that need a product skip the others the same way).
//! * **The week's audit**: the last completed visit of the store dated in the week (checked
//!   out, submitted, approved or rejected after review, as the weekly report counts a visit
//!   done) that has audit lines; by date, then check-out time, then id.
//! * **shelf_share_bp**: own facings on the shelf / all facings on the shelf, in basis points,
//!   only when the audit has competitor lines (without them the share says nothing).
//! * **out_of_stock_bp**: own lines not on the shelf / own lines (a competitor's empty shelf
//!   is not our stock-out).
//! * **distribution_bp**: the assortment rule's numeric distribution of the audit
//!   ([`assortment::check`]), `None` for a store without a must-carry range.
//! * **Trend**: own facings of the first and the last week with an audit, and the
//!   least-squares slope of own facings per week over the weeks with one.
//! * **promotion_compliance_bp** and **display_compliance_bp**: the promotion rule's
//!   compliance of the week's audit visit ([`promotion::check`] over the agreements running at
//!   the store on the visit's date and the visit's checks), promotions (price cut, gift) and
//!   displays ([`Mechanic::is_display`]: endcap, floor stand, shelf position) apart, since
//!   a KA manager pays for each separately; `None` when none of the kind ran. The store's
//!   figures are the mean of its weeks'.
//! * **success_score_bp**: the picture-of-success rule's score of the week's audit visit
//!   ([`success::check`] over the store's picture, [`success::picture_for`], and the visit's
//!   scores: a point not scored counts 0, as on the phone); `None` when the store has no
//!   picture. The store's figure is the mean of its weeks'. Pictures have no history: the
//!   current one judges every week.
//! * **Chains** ([`chain_opportunity`]): the stores of one chain (or of none) summed or
//!   averaged per week: facings and sightings summed, every ratio the mean of the audited
//!   stores' figures (each store counts once, whatever its size).
//! * **competitor_sightings**: competitor sightings recorded on the store's completed visits
//!   dated in the week (all of them, not only the audit's), and their total per store.
//! * **Orders vs potential**: the store's orders dated in the weeks that are sales
//!   ([`sales::SALE_STATUSES`]), against the potential of the weeks: `monthly_potential` × 12
//!   months × days / 365, rounded down.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::master::{AssortmentRow, Channel, Mechanic, Product, Promotion, Store, SuccessPicture};
use crate::order::Order;
use crate::plan::IsoWeek;
use crate::report::rep_weekly::DONE;
use crate::report::shelf;
use crate::rules::{assortment, promotion, sales, success};
use crate::values::{Date, DocId, Money, Sku, StoreId};
use crate::visit::Visit;

/// Is `channel` a key account's?
pub fn is_key_account(channel: Channel) -> bool {
    matches!(channel, Channel::Nka | Channel::Rka | Channel::Lka)
}

/// One store's week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpportunityWeek {
    pub week: IsoWeek,
    /// The visit whose audit the figures are of; `None`: no audit that week (then every
    /// figure is `None`).
    pub visit_id: Option<DocId>,
    pub visit_date: Option<Date>,
    pub own_facings: Option<u32>,
    pub all_facings: Option<u32>,
    pub shelf_share_bp: Option<u32>,
    pub out_of_stock_bp: Option<u32>,
    pub distribution_bp: Option<u32>,
    /// Compliance of the promotions (price cut, gift) running at the store that day, as the
    /// visit checked them.
    pub promotion_compliance_bp: Option<u32>,
    /// Compliance of the displays (endcap, floor stand, shelf position) running that day.
    #[serde(default)]
    pub display_compliance_bp: Option<u32>,
    /// Competitor sightings recorded on the store's completed visits of the week.
    pub competitor_sightings: u32,
    /// The picture-of-success score of the week's audit visit; `None`: no audit, or the store
    /// has no picture.
    #[serde(default)]
    pub success_score_bp: Option<u32>,
}

/// One store over the weeks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreOpportunity {
    pub store_id: StoreId,
    pub weeks: Vec<OpportunityWeek>,
    /// Own facings of the first and the last week with an audit.
    pub first_facings: Option<u32>,
    pub last_facings: Option<u32>,
    /// Own facings gained per week (least squares over the weeks with an audit; `None` with
    /// fewer than two), rounded to two decimals.
    pub facings_slope: Option<f64>,
    /// Orders of the store dated in the weeks that are sales, and their total (minor units).
    pub orders: u32,
    pub order_amount: Money,
    /// The potential of the weeks (minor units); `None` when the store has none.
    pub potential: Option<Money>,
    /// `order_amount / potential` in basis points, rounded down; `None` without a potential.
    pub potential_bp: Option<u32>,
    /// Competitor sightings of the weeks.
    pub competitor_sightings: u32,
    /// Promotion compliance: the mean of the weeks' figures, rounded down; `None` when no
    /// audited week had a promotion running.
    pub promotion_compliance_bp: Option<u32>,
    /// Display compliance, the same way.
    #[serde(default)]
    pub display_compliance_bp: Option<u32>,
    /// Picture-of-success score: the mean of the weeks' scores, rounded down; `None` when no
    /// audited week has one.
    #[serde(default)]
    pub success_score_bp: Option<u32>,
}

/// What the report is computed from.
pub struct OpportunityInputs<'a> {
    pub weeks: &'a [IsoWeek],
    pub store: &'a Store,
    /// The tenant's must-carry range (all rows: [`assortment::range_of`] picks the store's).
    pub range: &'a [AssortmentRow],
    /// The tenant's promotions and display agreements ([`promotion::active_at`] picks the
    /// store's of a day).
    pub promotions: &'a [Promotion],
    /// The tenant's pictures of success ([`success::picture_for`] picks the store's).
    pub success_pictures: &'a [SuccessPicture],
    /// The product catalogue: what is ours.
    pub products: &'a HashMap<Sku, Product>,
    /// Visits and orders (others' stores and dates are ignored).
    pub visits: &'a [Visit],
    pub orders: &'a [Order],
}

/// The compliance of the agreements of one kind (displays or not) running at `store` on the
/// visit's day, as the visit checked them; `None` when none of the kind ran.
pub fn compliance_of_kind(
    store: &Store,
    visit: &Visit,
    promotions: &[Promotion],
    display: bool,
) -> Option<u32> {
    let running: Vec<Promotion> = promotion::active_at(store, visit.planned_date, promotions)
        .into_iter()
        .filter(|p| Mechanic::is_display(p.mechanic) == display)
        .collect();
    promotion::check(
        &running,
        visit
            .promotion_checks
            .as_ref()
            .unwrap_or(&Default::default()),
        &visit.audit,
    )
    .compliance_bp
}

/// The picture-of-success score of `visit` at `store` (the rule's), `None` without a picture.
pub fn success_score_of(store: &Store, visit: &Visit, pictures: &[SuccessPicture]) -> Option<u32> {
    success::check(
        success::picture_for(store, pictures),
        visit.success_scores.as_ref().unwrap_or(&Default::default()),
    )
    .score_bp
}

/// Our audit lines not on the shelf, against our lines (`ours` tells our SKUs): a
/// competitor's empty shelf is not our stock-out.
pub fn out_of_stock_bp(visit: &Visit, ours: impl Fn(&Sku) -> bool) -> Option<u32> {
    let (mut lines, mut out) = (0u64, 0u64);
    for line in visit.audit.values().filter(|l| ours(&l.sku)) {
        lines += 1;
        out += u64::from(!line.on_shelf);
    }
    bp(out, lines)
}

fn bp(part: u64, whole: u64) -> Option<u32> {
    (whole > 0).then(|| (part.saturating_mul(10_000) / whole).min(u64::from(u32::MAX)) as u32)
}

/// The figures of one store.
pub fn store_opportunity(inputs: &OpportunityInputs<'_>) -> StoreOpportunity {
    let store = inputs.store;
    let range = assortment::range_of(store, inputs.range);
    let weeks: Vec<OpportunityWeek> = inputs
        .weeks
        .iter()
        .map(|&week| {
            let (monday, sunday) = (week.monday(), week.sunday());
            let done: Vec<&Visit> = inputs
                .visits
                .iter()
                .filter(|v| v.store_id == store.id && DONE.contains(&v.status))
                .filter(|v| v.planned_date >= monday && v.planned_date <= sunday)
                .collect();
            let competitor_sightings = done
                .iter()
                .map(|v| {
                    v.competitor_sightings
                        .as_ref()
                        .map_or(0, |s| s.len() as u32)
                })
                .sum();
            let audit = done
                .into_iter()
                .filter(|v| shelf::is_audit(v))
                .max_by_key(|v| shelf::audit_order(v));
            let Some(v) = audit else {
                return OpportunityWeek {
                    week,
                    visit_id: None,
                    visit_date: None,
                    own_facings: None,
                    all_facings: None,
                    shelf_share_bp: None,
                    out_of_stock_bp: None,
                    distribution_bp: None,
                    promotion_compliance_bp: None,
                    display_compliance_bp: None,
                    competitor_sightings,
                    success_score_bp: None,
                };
            };
            let ours = |sku: &Sku| inputs.products.contains_key(sku);
            let (mut own, mut all) = (0u64, 0u64);
            let mut competitor = false;
            for line in v.audit.values() {
                let facings = if line.on_shelf { line.facings } else { 0 };
                all += u64::from(facings);
                if ours(&line.sku) {
                    own += u64::from(facings);
                } else {
                    competitor = true;
                }
            }
            let clamp = |n: u64| n.min(u64::from(u32::MAX)) as u32;
            OpportunityWeek {
                week,
                visit_id: Some(v.id),
                visit_date: Some(v.planned_date),
                own_facings: Some(clamp(own)),
                all_facings: Some(clamp(all)),
                shelf_share_bp: if competitor { bp(own, all) } else { None },
                out_of_stock_bp: out_of_stock_bp(v, ours),
                distribution_bp: assortment::check(&range, &v.audit).distribution_bp,
                promotion_compliance_bp: compliance_of_kind(store, v, inputs.promotions, false),
                display_compliance_bp: compliance_of_kind(store, v, inputs.promotions, true),
                competitor_sightings,
                success_score_bp: success_score_of(store, v, inputs.success_pictures),
            }
        })
        .collect();
    let audited: Vec<(f64, f64)> = weeks
        .iter()
        .enumerate()
        .filter_map(|(i, w)| w.own_facings.map(|f| (i as f64, f64::from(f))))
        .collect();
    let facings_slope = slope(&audited).map(|s| (s * 100.0).round() / 100.0);
    let period = inputs.weeks.first().zip(inputs.weeks.last());
    let in_period =
        |d: Date| period.is_some_and(|(first, last)| d >= first.monday() && d <= last.sunday());
    let sales: Vec<&Order> = inputs
        .orders
        .iter()
        .filter(|o| o.store_id == store.id && in_period(o.order_date))
        .filter(|o| sales::SALE_STATUSES.contains(&o.status))
        .collect();
    let order_amount = sales::sum_amounts(sales.iter().map(|o| sales::sale_amount(o)));
    let days = inputs.weeks.len() as i128 * 7;
    let potential = store
        .monthly_potential
        .map(|m| Money((i128::from(m.0) * 12 * days / 365).clamp(0, i128::from(i64::MAX)) as i64));
    let potential_bp = potential.and_then(|p| bp(order_amount.0.max(0) as u64, p.0 as u64));
    StoreOpportunity {
        store_id: store.id,
        first_facings: weeks.iter().find_map(|w| w.own_facings),
        last_facings: weeks.iter().rev().find_map(|w| w.own_facings),
        facings_slope,
        orders: sales.len() as u32,
        order_amount,
        potential,
        potential_bp,
        promotion_compliance_bp: mean(weeks.iter().filter_map(|w| w.promotion_compliance_bp)),
        display_compliance_bp: mean(weeks.iter().filter_map(|w| w.display_compliance_bp)),
        success_score_bp: mean(weeks.iter().filter_map(|w| w.success_score_bp)),
        competitor_sightings: weeks.iter().map(|w| w.competitor_sightings).sum(),
        weeks,
    }
}

/// One chain's week: its stores' figures of the week together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainWeek {
    pub week: IsoWeek,
    /// Stores of the chain with an audit that week.
    pub audited_stores: u32,
    /// Facings summed over the audited stores.
    pub own_facings: Option<u32>,
    pub all_facings: Option<u32>,
    /// Means of the audited stores' figures (stores without the figure left out).
    pub out_of_stock_bp: Option<u32>,
    pub distribution_bp: Option<u32>,
    pub promotion_compliance_bp: Option<u32>,
    pub display_compliance_bp: Option<u32>,
    pub success_score_bp: Option<u32>,
    /// Sightings summed over every store of the chain.
    pub competitor_sightings: u32,
}

/// One chain (or the stores of no chain, `chain: None`) over the weeks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainOpportunity {
    pub chain: Option<String>,
    pub stores: u32,
    pub weeks: Vec<ChainWeek>,
    pub orders: u32,
    pub order_amount: Money,
    /// The potential of the stores that have one; `None` when none has.
    pub potential: Option<Money>,
    /// `order_amount` of the stores with a potential against it, in basis points.
    pub potential_bp: Option<u32>,
    /// Means over the weeks of the chain's weekly figures.
    pub distribution_bp: Option<u32>,
    pub out_of_stock_bp: Option<u32>,
    pub promotion_compliance_bp: Option<u32>,
    pub display_compliance_bp: Option<u32>,
    pub success_score_bp: Option<u32>,
    pub competitor_sightings: u32,
}

/// The stores' figures per chain (`stores` pairs each store's chain with its figures, all
/// over the same weeks), chains by name, the stores of no chain last.
pub fn chain_opportunity(stores: &[(Option<&str>, &StoreOpportunity)]) -> Vec<ChainOpportunity> {
    let mut chains: Vec<Option<&str>> = stores.iter().map(|(c, _)| *c).collect();
    chains.sort_by_key(|c| (c.is_none(), *c));
    chains.dedup();
    chains
        .into_iter()
        .map(|chain| {
            let members: Vec<&StoreOpportunity> = stores
                .iter()
                .filter(|(c, _)| *c == chain)
                .map(|(_, s)| *s)
                .collect();
            let week_count = members.first().map_or(0, |s| s.weeks.len());
            let weeks: Vec<ChainWeek> = (0..week_count)
                .map(|i| {
                    let of_week: Vec<&OpportunityWeek> =
                        members.iter().filter_map(|s| s.weeks.get(i)).collect();
                    let audited: Vec<&&OpportunityWeek> =
                        of_week.iter().filter(|w| w.visit_id.is_some()).collect();
                    let sum = |f: fn(&OpportunityWeek) -> Option<u32>| {
                        let values: Vec<u32> = audited.iter().filter_map(|w| f(w)).collect();
                        (!values.is_empty())
                            .then(|| values.iter().fold(0u32, |a, b| a.saturating_add(*b)))
                    };
                    let avg = |f: fn(&OpportunityWeek) -> Option<u32>| {
                        mean(audited.iter().filter_map(|w| f(w)))
                    };
                    ChainWeek {
                        // Every chain has a member, and every member the same weeks.
                        week: members[0].weeks[i].week,
                        audited_stores: audited.len() as u32,
                        own_facings: sum(|w| w.own_facings),
                        all_facings: sum(|w| w.all_facings),
                        out_of_stock_bp: avg(|w| w.out_of_stock_bp),
                        distribution_bp: avg(|w| w.distribution_bp),
                        promotion_compliance_bp: avg(|w| w.promotion_compliance_bp),
                        display_compliance_bp: avg(|w| w.display_compliance_bp),
                        success_score_bp: avg(|w| w.success_score_bp),
                        competitor_sightings: of_week.iter().map(|w| w.competitor_sightings).sum(),
                    }
                })
                .collect();
            let with_potential: Vec<&&StoreOpportunity> =
                members.iter().filter(|s| s.potential.is_some()).collect();
            let potential = (!with_potential.is_empty())
                .then(|| sales::sum_amounts(with_potential.iter().filter_map(|s| s.potential)));
            let ordered_with_potential =
                sales::sum_amounts(with_potential.iter().map(|s| s.order_amount));
            ChainOpportunity {
                chain: chain.map(str::to_string),
                stores: members.len() as u32,
                orders: members.iter().map(|s| s.orders).sum(),
                order_amount: sales::sum_amounts(members.iter().map(|s| s.order_amount)),
                potential,
                potential_bp: potential
                    .and_then(|p| bp(ordered_with_potential.0.max(0) as u64, p.0.max(0) as u64)),
                distribution_bp: mean(weeks.iter().filter_map(|w| w.distribution_bp)),
                out_of_stock_bp: mean(weeks.iter().filter_map(|w| w.out_of_stock_bp)),
                promotion_compliance_bp: mean(
                    weeks.iter().filter_map(|w| w.promotion_compliance_bp),
                ),
                display_compliance_bp: mean(weeks.iter().filter_map(|w| w.display_compliance_bp)),
                success_score_bp: mean(weeks.iter().filter_map(|w| w.success_score_bp)),
                competitor_sightings: weeks.iter().map(|w| w.competitor_sightings).sum(),
                weeks,
            }
        })
        .collect()
}

/// The mean of `values`, rounded down; `None` when there are none.
fn mean(values: impl Iterator<Item = u32>) -> Option<u32> {
    let (sum, n) = values.fold((0u64, 0u64), |(s, n), v| (s + u64::from(v), n + 1));
    (n > 0).then(|| (sum / n) as u32)
}

/// The least-squares slope of `points` (x, y); `None` with fewer than two distinct x.
fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master::AssortmentScope;
    use crate::order::OrderStatus;
    use crate::testkit::{audit_line, date, money, order, order_line, product, sku, store, visit};
    use crate::visit::VisitStatus;

    fn audited(store: StoreId, day: &str, lines: &[(&str, u32, bool)]) -> Visit {
        let mut v = visit();
        v.store_id = store;
        v.planned_date = date(day);
        v.status = VisitStatus::Submitted;
        for (i, (code, facings, on_shelf)) in lines.iter().enumerate() {
            let mut l = audit_line(code, &format!("MAIN-{i}"), *facings, v.person_id);
            l.on_shelf = *on_shelf;
            l.facings = if *on_shelf { *facings } else { 0 };
            v.audit.insert(l.key(), l);
        }
        v
    }

    /// Three weeks of one NKA store: week 1 an audit with a competitor, week 2 none, week 3
    /// two audits (the later counts) without a competitor; one order a sale, one a draft.
    #[test]
    fn three_weeks_with_known_answers() {
        let weeks = [
            IsoWeek::new(2026, 45).unwrap(),
            IsoWeek::new(2026, 46).unwrap(),
            IsoWeek::new(2026, 47).unwrap(),
        ];
        let mut shop = store();
        shop.monthly_potential = Some(money("10000.00"));
        let products: HashMap<Sku, Product> = ["COLA-330", "TEA-500"]
            .iter()
            .map(|s| {
                let mut p = product();
                p.sku = sku(s);
                (p.sku.clone(), p)
            })
            .collect();
        let range = vec![
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
        let mut w1 = audited(
            shop.id,
            "2026-11-03",
            &[
                ("COLA-330", 6, true),
                ("TEA-500", 0, false),
                ("RIVAL-1", 10, true),
            ],
        );
        // Two agreements of the channel run all November; week 1's visit found one in place
        // (5 000 bp), week 3's checked none (0): the store's figure is their mean.
        let promotion = |code: &str| Promotion {
            code: crate::values::PromotionCode::parse(code).unwrap(),
            title: code.into(),
            from: date("2026-11-01"),
            to: date("2026-11-30"),
            scope: AssortmentScope::Channel(Channel::Nka),
            skus: vec![sku("COLA-330")],
            mechanic: crate::master::Mechanic::Endcap,
            promotion_price: None,
            fee: None,
        };
        let mut cut = promotion("CUT");
        cut.mechanic = Mechanic::PriceCut;
        cut.promotion_price = Some(money("4.00"));
        let promotions = [promotion("ENDCAP"), promotion("STAND"), cut];
        w1.promotion_checks.as_mut().unwrap().insert(
            "ENDCAP".into(),
            crate::promotion::PromotionCheck {
                status: crate::promotion::CheckStatus::InPlace,
                photos: Vec::new(),
                seen_price: None,
                note: None,
                by: w1.person_id,
                at: crate::values::Timestamp(1),
            },
        );
        let mut open = audited(shop.id, "2026-11-05", &[("COLA-330", 40, true)]);
        open.status = VisitStatus::InProgress;
        let mut early = audited(shop.id, "2026-11-16", &[("COLA-330", 2, true)]);
        // Sightings count on every completed visit of the week, not only the audit's; not on
        // a visit still in progress.
        let sighting = |v: &Visit| crate::visit::CompetitorSighting {
            id: crate::visit::SightingId::new_random(),
            competitor: crate::values::ShortText::parse("PepsiCo").unwrap(),
            seen: None,
            shelf_price: None,
            promotion: None,
            display: None,
            photos: Vec::new(),
            note: String::new(),
            by: v.person_id,
            by_name: "merch".into(),
            at: crate::values::Timestamp(1),
        };
        for v in [&mut early, &mut open] {
            let s = sighting(v);
            let map = v.competitor_sightings.as_mut().unwrap();
            map.insert(s.id.to_string(), s);
        }
        let w3 = audited(
            shop.id,
            "2026-11-19",
            &[("COLA-330", 8, true), ("TEA-500", 4, true)],
        );
        let elsewhere = audited(
            StoreId::new_random(),
            "2026-11-19",
            &[("COLA-330", 99, true)],
        );
        let mut sale = order();
        sale.store_id = shop.id;
        sale.order_date = date("2026-11-10");
        sale.status = OrderStatus::Submitted;
        sale.lines
            .insert("1".into(), order_line("COLA-330", 100, "5.00"));
        let mut draft = sale.clone();
        draft.id = DocId::new_random();
        draft.status = OrderStatus::Draft;
        let r = store_opportunity(&OpportunityInputs {
            weeks: &weeks,
            store: &shop,
            range: &range,
            promotions: &promotions,
            success_pictures: &[],
            products: &products,
            visits: &[w1.clone(), open, early, w3.clone(), elsewhere],
            orders: &[sale, draft],
        });
        let w = &r.weeks;
        assert_eq!(w[0].visit_id, Some(w1.id));
        assert_eq!((w[0].own_facings, w[0].all_facings), (Some(6), Some(16)));
        assert_eq!(w[0].shelf_share_bp, Some(3750), "6 of 16 facings");
        assert_eq!(w[0].out_of_stock_bp, Some(5000), "one of two own lines");
        assert_eq!(w[0].distribution_bp, Some(5000));
        assert_eq!(w[1].visit_id, None, "the in-progress visit is no audit");
        assert_eq!(w[2].visit_id, Some(w3.id), "the week's last audit");
        assert_eq!(w[2].shelf_share_bp, None, "no competitor in the audit");
        assert_eq!(w[2].out_of_stock_bp, Some(0));
        assert_eq!(w[2].distribution_bp, Some(10_000));
        assert_eq!((r.first_facings, r.last_facings), (Some(6), Some(12)));
        assert_eq!(r.facings_slope, Some(3.0), "6 at week 0, 12 at week 2");
        assert_eq!((r.orders, r.order_amount), (1, money("500.00")));
        // 10 000.00 a month, 21 days: 10 000 * 12 * 21 / 365 = 6 904.10
        assert_eq!(r.potential, Some(money("6904.10")));
        assert_eq!(r.potential_bp, Some(724), "500 of 6904.10");
        assert_eq!(
            w[0].display_compliance_bp,
            Some(5000),
            "one of two displays in place"
        );
        assert_eq!(w[1].display_compliance_bp, None);
        assert_eq!(w[2].display_compliance_bp, Some(0), "none checked");
        assert_eq!(r.display_compliance_bp, Some(2500));
        // The price cut is a promotion of its own kind: never checked.
        assert_eq!(
            (w[0].promotion_compliance_bp, w[2].promotion_compliance_bp),
            (Some(0), Some(0))
        );
        assert_eq!(r.promotion_compliance_bp, Some(0));
        let sightings: Vec<u32> = w.iter().map(|w| w.competitor_sightings).collect();
        assert_eq!(
            sightings,
            [0, 0, 1],
            "the early visit's, not the open one's"
        );
        assert_eq!(r.competitor_sightings, 1);
    }

    /// Two stores of one chain and one of none, over two weeks, with hand-worked sums and
    /// means.
    #[test]
    fn chains_sum_facings_and_average_ratios_of_audited_stores() {
        let weeks = [
            IsoWeek::new(2026, 45).unwrap(),
            IsoWeek::new(2026, 46).unwrap(),
        ];
        let week = |w: usize, audit: Option<(u32, u32, u32)>, sightings: u32| OpportunityWeek {
            week: weeks[w],
            visit_id: audit.map(|_| DocId::new_random()),
            visit_date: audit.map(|_| weeks[w].monday()),
            own_facings: audit.map(|a| a.0),
            all_facings: audit.map(|a| a.0 * 2),
            shelf_share_bp: audit.map(|_| 5000),
            out_of_stock_bp: audit.map(|a| a.1),
            distribution_bp: audit.map(|a| a.2),
            promotion_compliance_bp: None,
            display_compliance_bp: audit.map(|a| if a.2 == 10_000 { 10_000 } else { 0 }),
            competitor_sightings: sightings,
            success_score_bp: audit.map(|a| a.0 * 100),
        };
        let store =
            |weeks: Vec<OpportunityWeek>, amount: &str, potential: Option<&str>| StoreOpportunity {
                store_id: StoreId::new_random(),
                weeks,
                first_facings: None,
                last_facings: None,
                facings_slope: None,
                orders: 1,
                order_amount: money(amount),
                potential: potential.map(money),
                potential_bp: None,
                competitor_sightings: 0,
                promotion_compliance_bp: None,
                display_compliance_bp: None,
                success_score_bp: None,
            };
        // Week 1: both audited; week 2: only the first, the second's sighting still counts.
        let a = store(
            vec![
                week(0, Some((10, 0, 10_000)), 1),
                week(1, Some((12, 2000, 8000)), 0),
            ],
            "300.00",
            Some("1000.00"),
        );
        let b = store(
            vec![week(0, Some((4, 5000, 5000)), 2), week(1, None, 3)],
            "200.00",
            None,
        );
        let lone = store(vec![week(0, None, 0), week(1, None, 0)], "0.00", None);
        let chains =
            chain_opportunity(&[(None, &lone), (Some("Walmart"), &a), (Some("Walmart"), &b)]);
        assert_eq!(chains.len(), 2);
        let (walmart, none) = (&chains[0], &chains[1]);
        assert_eq!(
            (walmart.chain.as_deref(), walmart.stores),
            (Some("Walmart"), 2)
        );
        assert_eq!(
            (none.chain.as_deref(), none.stores),
            (None, 1),
            "no chain last"
        );
        let w = &walmart.weeks;
        assert_eq!((w[0].audited_stores, w[1].audited_stores), (2, 1));
        assert_eq!((w[0].own_facings, w[0].all_facings), (Some(14), Some(28)));
        assert_eq!(w[0].out_of_stock_bp, Some(2500), "mean of 0 and 5000");
        assert_eq!(w[0].distribution_bp, Some(7500));
        assert_eq!(w[0].display_compliance_bp, Some(5000));
        assert_eq!(w[0].promotion_compliance_bp, None, "no promotion ran");
        assert_eq!(w[0].success_score_bp, Some(700), "mean of 1000 and 400");
        assert_eq!(
            (w[1].distribution_bp, w[1].out_of_stock_bp),
            (Some(8000), Some(2000))
        );
        assert_eq!(
            (w[0].competitor_sightings, w[1].competitor_sightings),
            (3, 3),
            "sightings of every store, audited or not"
        );
        assert_eq!(walmart.distribution_bp, Some(7750), "mean of the weeks");
        assert_eq!(walmart.competitor_sightings, 6);
        assert_eq!((walmart.orders, walmart.order_amount), (2, money("500.00")));
        // Only the store with a potential is set against it: 300 of 1000.
        assert_eq!(
            (walmart.potential, walmart.potential_bp),
            (Some(money("1000.00")), Some(3000))
        );
        assert_eq!(none.weeks[0].own_facings, None);
        assert_eq!((none.potential, none.distribution_bp), (None, None));
    }

    /// The picture of success per week: the week's audit visit's score by the shared rule
    /// (weights 3 and 1: met and not scored 7 500; partly and met 6 250), the store's the
    /// mean (6 875); a week without an audit has none; another store's picture counts not.
    #[test]
    fn the_picture_of_success_score_per_week_is_the_rules() {
        use crate::master::{PointKind, SuccessPoint};
        use crate::success::{ScoreStatus, SuccessScore};
        use crate::values::{PictureCode, PointCode, Timestamp, UserId};
        let weeks = [
            IsoWeek::new(2026, 45).unwrap(),
            IsoWeek::new(2026, 46).unwrap(),
            IsoWeek::new(2026, 47).unwrap(),
        ];
        let shop = store();
        let point = |code: &str, weight| SuccessPoint {
            code: PointCode::parse(code).unwrap(),
            label: code.into(),
            kind: PointKind::Other,
            weight,
            sku: None,
        };
        let picture = |code: &str, scope| SuccessPicture {
            code: PictureCode::parse(code).unwrap(),
            title: code.into(),
            scope,
            points: vec![point("A", 3), point("B", 1)],
            reference_photos: Vec::new(),
        };
        let pictures = [
            picture("OWN", AssortmentScope::Store(shop.id)),
            picture("OTHER", AssortmentScope::Store(StoreId::new_random())),
        ];
        let scored = |v: &mut Visit, scores: &[(&str, ScoreStatus)]| {
            for (code, status) in scores {
                v.success_scores.as_mut().unwrap().insert(
                    code.to_string(),
                    SuccessScore {
                        status: *status,
                        photos: Vec::new(),
                        note: None,
                        by: UserId::new_random(),
                        at: Timestamp(1),
                    },
                );
            }
        };
        let mut w1 = audited(shop.id, "2026-11-03", &[("COLA-330", 4, true)]);
        scored(&mut w1, &[("A", ScoreStatus::Met)]);
        let mut w3 = audited(shop.id, "2026-11-17", &[("COLA-330", 4, true)]);
        scored(
            &mut w3,
            &[("A", ScoreStatus::Partly), ("B", ScoreStatus::Met)],
        );
        let (products, visits) = (HashMap::new(), [w1, w3]);
        let inputs = |pictures| OpportunityInputs {
            weeks: &weeks,
            store: &shop,
            range: &[],
            promotions: &[],
            success_pictures: pictures,
            products: &products,
            visits: &visits,
            orders: &[],
        };
        let r = store_opportunity(&inputs(&pictures));
        let by_week: Vec<Option<u32>> = r.weeks.iter().map(|w| w.success_score_bp).collect();
        assert_eq!(by_week, [Some(7_500), None, Some(6_250)]);
        assert_eq!(r.success_score_bp, Some(6_875));
        // Only another store's picture: none.
        let r = store_opportunity(&inputs(&pictures[1..]));
        assert_eq!(r.success_score_bp, None);
    }

    #[test]
    fn a_store_without_audits_or_potential_has_no_figures() {
        let shop = store();
        let weeks = [IsoWeek::new(2026, 45).unwrap()];
        let r = store_opportunity(&OpportunityInputs {
            weeks: &weeks,
            store: &shop,
            range: &[],
            promotions: &[],
            success_pictures: &[],
            products: &HashMap::new(),
            visits: &[],
            orders: &[],
        });
        assert_eq!(r.weeks[0].own_facings, None);
        assert_eq!((r.first_facings, r.facings_slope), (None, None));
        assert_eq!((r.potential, r.potential_bp), (None, None));
        assert!(is_key_account(Channel::Lka) && !is_key_account(Channel::Other));
    }
}
