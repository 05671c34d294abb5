//! The rep's weekly report: for one rep and ISO week, the visits planned, done and unplanned,
//! the orders and their amount, what the rep's audits found (stale stock, out of stock, shelf
//! price below the floor), and the open issues: work of the week still waiting for someone.
//!
//! * **planned**: the entries of the rep's plan for the week.
//! * **done**: the rep's visits dated in the week that were completed (checked out, submitted
//!   or approved, or rejected and so reviewed); **planned_done**: those of them at a store of
//!   the plan; **unplanned**: the others.
//! * **orders**: the rep's orders dated in the week, neither draft nor cancelled, with the sum
//!   of their totals (`amount`, minor units).
//! * **findings**: per code, the audit lines of the week's visits that found it: `stale_stock`
//!   (the freshness rule), `out_of_stock` (not on the shelf), `shelf_price_below_floor` (the
//!   shelf price under the product's floor price).
//! * **open issues**: visits of the week not yet submitted or sent back (rejected), and orders
//!   waiting for approval or rejected.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::master::Product;
use crate::order::{Order, OrderStatus};
use crate::plan::{IsoWeek, Plan};
use crate::rules::freshness;
use crate::values::{Date, DocId, Money, Sku, StoreId, UserId};
use crate::visit::{Visit, VisitStatus};

/// Code of an audit line whose product was not on the shelf.
pub const OUT_OF_STOCK: &str = "out_of_stock";
/// Code of an audit line whose shelf price is below the product's floor price.
pub const SHELF_PRICE_BELOW_FLOOR: &str = "shelf_price_below_floor";
/// Code of the freshness rule's finding.
pub const STALE_STOCK: &str = "stale_stock";

/// One rep's week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepWeekly {
    pub week: IsoWeek,
    pub person_id: UserId,
    pub planned: u32,
    pub done: u32,
    pub planned_done: u32,
    pub unplanned: u32,
    pub orders: u32,
    /// Sum of the orders' totals, in minor units.
    pub amount: Money,
    /// Audit lines per finding code, by code.
    pub findings: BTreeMap<String, u32>,
    /// By date, then kind.
    pub open_issues: Vec<OpenIssue>,
}

/// Work of the week still waiting for someone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OpenIssue {
    pub date: Date,
    /// `visit_not_submitted`, `visit_rejected`, `order_pending_approval` or `order_rejected`.
    pub kind: String,
    pub doc_id: DocId,
    pub store_id: StoreId,
}

/// What one rep's week is computed from: their plan for the week (if any), and their visits
/// and orders (others' and other weeks' are ignored).
pub struct WeekInputs<'a> {
    pub week: IsoWeek,
    pub person: UserId,
    pub plan: Option<&'a Plan>,
    pub visits: &'a [Visit],
    pub orders: &'a [Order],
    pub products: &'a HashMap<Sku, Product>,
}

/// The statuses of a visit done (what the reports count as a visit made).
pub const DONE: [VisitStatus; 4] = [
    VisitStatus::CheckedOut,
    VisitStatus::Submitted,
    VisitStatus::Approved,
    VisitStatus::Rejected,
];

/// The rep's weekly report.
pub fn rep_weekly(inputs: &WeekInputs<'_>) -> RepWeekly {
    let (monday, sunday) = (inputs.week.monday(), inputs.week.sunday());
    let in_week = |d: Date| d >= monday && d <= sunday;
    let plan = inputs
        .plan
        .filter(|p| p.person_id == inputs.person && p.week == inputs.week);
    let plan_stores: BTreeSet<StoreId> = plan
        .map(|p| p.entries.values().map(|e| e.store_id).collect())
        .unwrap_or_default();
    let visits: Vec<&Visit> = inputs
        .visits
        .iter()
        .filter(|v| v.person_id == inputs.person && in_week(v.planned_date))
        .collect();
    let done: Vec<&&Visit> = visits.iter().filter(|v| DONE.contains(&v.status)).collect();
    let planned_done = done
        .iter()
        .filter(|v| plan_stores.contains(&v.store_id))
        .count() as u32;
    let mut findings: BTreeMap<String, u32> = BTreeMap::new();
    let mut open_issues = Vec::new();
    for v in &visits {
        for line in v.audit.values() {
            for code in line_findings(line, inputs.products.get(&line.sku), v.planned_date) {
                *findings.entry(code.to_string()).or_default() += 1;
            }
        }
        let kind = match v.status {
            VisitStatus::Planned | VisitStatus::InProgress | VisitStatus::CheckedOut => {
                Some("visit_not_submitted")
            }
            VisitStatus::Rejected => Some("visit_rejected"),
            VisitStatus::Submitted | VisitStatus::Approved => None,
        };
        if let Some(kind) = kind {
            open_issues.push(OpenIssue {
                date: v.planned_date,
                kind: kind.to_string(),
                doc_id: v.id,
                store_id: v.store_id,
            });
        }
    }
    let orders: Vec<&Order> = inputs
        .orders
        .iter()
        .filter(|o| o.person_id == inputs.person && in_week(o.order_date))
        .filter(|o| !matches!(o.status, OrderStatus::Draft | OrderStatus::Cancelled))
        .collect();
    let amount = orders
        .iter()
        .filter_map(|o| o.total())
        .fold(Money::ZERO, |sum, t| sum.checked_add(t).unwrap_or(sum));
    for o in &orders {
        let kind = match o.status {
            OrderStatus::PendingApproval => "order_pending_approval",
            OrderStatus::Rejected => "order_rejected",
            _ => continue,
        };
        open_issues.push(OpenIssue {
            date: o.order_date,
            kind: kind.to_string(),
            doc_id: o.id,
            store_id: o.store_id,
        });
    }
    open_issues.sort();
    RepWeekly {
        week: inputs.week,
        person_id: inputs.person,
        planned: plan_stores.len() as u32,
        done: done.len() as u32,
        planned_done,
        unplanned: done.len() as u32 - planned_done,
        orders: orders.len() as u32,
        amount,
        findings,
        open_issues,
    }
}

/// The codes an audit line found, on `audit_date`, with its product's master data (without
/// it, only out of stock).
pub fn line_findings(
    line: &crate::visit::AuditLine,
    product: Option<&Product>,
    audit_date: Date,
) -> Vec<&'static str> {
    let mut codes = Vec::new();
    if !line.on_shelf {
        codes.push(OUT_OF_STOCK);
    }
    if let Some(product) = product {
        if !freshness::check_line(line, product, audit_date)
            .findings
            .is_empty()
        {
            codes.push(STALE_STOCK);
        }
        if line.shelf_price.is_some_and(|p| p < product.floor_price) {
            codes.push(SHELF_PRICE_BELOW_FLOOR);
        }
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{audit_line, date, money, order, order_line, product, visit};

    /// 2026-W47 (Monday 11-16) of one rep: a plan of two stores; a planned visit done with a
    /// stale, an out-of-stock and an under-floor line; an unplanned visit done; a visit still
    /// in progress; a visit of the week before. Orders: one submitted, one waiting for
    /// approval, a draft, and another rep's.
    #[test]
    fn a_week_with_known_answers() {
        let week = IsoWeek::new(2026, 47).unwrap();
        let rep = UserId::new_random();
        let (a, b, c) = (
            StoreId::new_random(),
            StoreId::new_random(),
            StoreId::new_random(),
        );
        let mut plan = Plan::new(rep, week);
        plan.add_entry(a, date("2026-11-16"), 1).unwrap();
        plan.add_entry(b, date("2026-11-17"), 1).unwrap();
        let at = |store, day: &str, status| {
            let mut v = visit();
            (v.store_id, v.person_id, v.planned_date, v.status) = (store, rep, date(day), status);
            v
        };
        let mut planned = at(a, "2026-11-16", VisitStatus::Submitted);
        let mut stale = audit_line("COLA-330", "MAIN-SHELF", 4, rep);
        stale.oldest_production_date = Some(date("2026-06-01"));
        let mut cheap = audit_line("COLA-330", "ENDCAP-1", 2, rep);
        cheap.shelf_price = Some(money("2.50"));
        let empty = audit_line("COLA-330", "ENDCAP-2", 0, rep);
        for line in [stale, cheap, empty] {
            planned.audit.insert(line.key(), line);
        }
        let unplanned = at(c, "2026-11-18", VisitStatus::Approved);
        let open = at(b, "2026-11-19", VisitStatus::InProgress);
        let before = at(b, "2026-11-13", VisitStatus::Submitted);
        let visits = [planned, unplanned, open.clone(), before];
        let with = |status, day: &str, lines: &[(u32, &str)]| {
            let mut o = order();
            (o.person_id, o.order_date, o.status) = (rep, date(day), status);
            for (i, (qty, price)) in lines.iter().enumerate() {
                let l = order_line(&format!("SKU-{i}"), *qty, price);
                o.lines.insert(l.sku.to_string(), l);
            }
            o
        };
        let pending = with(OrderStatus::PendingApproval, "2026-11-18", &[(10, "3.00")]);
        let mut others = with(OrderStatus::Submitted, "2026-11-17", &[(24, "4.00")]);
        others.person_id = UserId::new_random();
        let orders = [
            with(
                OrderStatus::Submitted,
                "2026-11-16",
                &[(24, "4.00"), (12, "2.50")],
            ),
            pending.clone(),
            with(OrderStatus::Draft, "2026-11-17", &[(1, "9.00")]),
            others,
        ];
        let products = HashMap::from([(product().sku, product())]);
        let report = rep_weekly(&WeekInputs {
            week,
            person: rep,
            plan: Some(&plan),
            visits: &visits,
            orders: &orders,
            products: &products,
        });
        assert_eq!(
            (
                report.planned,
                report.done,
                report.planned_done,
                report.unplanned
            ),
            (2, 2, 1, 1)
        );
        // 24 x 4.00 + 12 x 2.50 + 10 x 3.00
        assert_eq!((report.orders, report.amount), (2, money("156.00")));
        assert_eq!(
            report.findings,
            BTreeMap::from([
                (OUT_OF_STOCK.to_string(), 1),
                (SHELF_PRICE_BELOW_FLOOR.to_string(), 1),
                (STALE_STOCK.to_string(), 1),
            ])
        );
        assert_eq!(
            report.open_issues,
            [
                OpenIssue {
                    date: date("2026-11-18"),
                    kind: "order_pending_approval".into(),
                    doc_id: pending.id,
                    store_id: pending.store_id,
                },
                OpenIssue {
                    date: date("2026-11-19"),
                    kind: "visit_not_submitted".into(),
                    doc_id: open.id,
                    store_id: b,
                },
            ]
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["week"], "2026-W47");
        assert_eq!(serde_json::from_value::<RepWeekly>(json).unwrap(), report);
    }
}
