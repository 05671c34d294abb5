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
//! * **promotion_compliance_bp**: the promotion rule's compliance of the week's audit visit
//!   ([`promotion::check`] over the promotions running at the store on the visit's date and
//!   the visit's checks), `None` when none ran; the store's figure is the mean of its weeks'.
//! * **competitor_sightings**: competitor sightings recorded on the store's completed visits
//!   dated in the week (all of them, not only the audit's), and their total per store.
//! * **Orders vs potential**: the store's orders dated in the weeks that are sales
//!   ([`sales::SALE_STATUSES`]), against the potential of the weeks: `monthly_potential` × 12
//!   months × days / 365, rounded down.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::master::{AssortmentRow, Channel, Product, Promotion, Store};
use crate::order::Order;
use crate::plan::IsoWeek;
use crate::report::rep_weekly::DONE;
use crate::rules::{assortment, promotion, sales};
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
    /// Compliance of the promotions running at the store that day, as the visit checked them.
    pub promotion_compliance_bp: Option<u32>,
    /// Competitor sightings recorded on the store's completed visits of the week.
    pub competitor_sightings: u32,
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
    /// Promotion and display compliance: the mean of the weeks' figures, rounded down;
    /// `None` when no audited week had a promotion running.
    pub promotion_compliance_bp: Option<u32>,
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
    /// The product catalogue: what is ours.
    pub products: &'a HashMap<Sku, Product>,
    /// Visits and orders (others' stores and dates are ignored).
    pub visits: &'a [Visit],
    pub orders: &'a [Order],
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
                .filter(|v| !v.audit.is_empty())
                .max_by_key(|v| (v.planned_date, v.check_out.as_ref().map(|c| c.at), v.id));
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
                    competitor_sightings,
                };
            };
            let ours = |sku: &Sku| inputs.products.contains_key(sku);
            let (mut own, mut all, mut own_lines, mut own_out) = (0u64, 0u64, 0u64, 0u64);
            let mut competitor = false;
            for line in v.audit.values() {
                let facings = if line.on_shelf { line.facings } else { 0 };
                all += u64::from(facings);
                if ours(&line.sku) {
                    own += u64::from(facings);
                    own_lines += 1;
                    own_out += u64::from(!line.on_shelf);
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
                out_of_stock_bp: bp(own_out, own_lines),
                distribution_bp: assortment::check(&range, &v.audit).distribution_bp,
                promotion_compliance_bp: promotion::check(
                    &promotion::active_at(store, v.planned_date, inputs.promotions),
                    v.promotion_checks.as_ref().unwrap_or(&Default::default()),
                    &v.audit,
                )
                .compliance_bp,
                competitor_sightings,
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
        competitor_sightings: weeks.iter().map(|w| w.competitor_sightings).sum(),
        weeks,
    }
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
        let promotions = [promotion("ENDCAP"), promotion("STAND")];
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
            w[0].promotion_compliance_bp,
            Some(5000),
            "one of two in place"
        );
        assert_eq!(w[1].promotion_compliance_bp, None);
        assert_eq!(w[2].promotion_compliance_bp, Some(0), "none checked");
        assert_eq!(r.promotion_compliance_bp, Some(2500));
        let sightings: Vec<u32> = w.iter().map(|w| w.competitor_sightings).collect();
        assert_eq!(
            sightings,
            [0, 0, 1],
            "the early visit's, not the open one's"
        );
        assert_eq!(r.competitor_sightings, 1);
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
