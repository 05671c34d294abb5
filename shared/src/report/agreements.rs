//! The annual agreement self-check (docs/agreements.md): an agreement's terms against what the
//! year's visits of its stores recorded by a day. Pure; the server's report runs it.
//!
//! What counts (visits done, as the reports count them: checked out, submitted, approved or
//! rejected after review; dated from 1 January to the day):
//!
//! * **listing**: the listed SKUs on the shelf (the must-carry rule's "present",
//!   [`assortment::check`]) at each store's latest audit; recorded is the mean number of listed
//!   SKUs seen per audited store. Expected is every listed SKU from the first day (a listing is
//!   not earned pro rata).
//! * **display_weeks**: ISO weeks in which an `endcap` or `floor_stand` promotion running at
//!   one of the stores was checked `in_place` (1) or `partly` (1/2) on a visit; the best check
//!   of the week counts, once however many stores showed it.
//! * **shelf_position_weeks**: the same with `shelf_position` promotions.
//! * **promotions**: distinct `price_cut` and `gift` promotions running at one of the stores
//!   checked `in_place` at least once.
//!
//! Each mechanic feeds one term. Weeks and promotions are expected pro rata of the year: agreed
//! × days elapsed (1 January to the day, both included) / days of the year. Status: `met`
//! (recorded reaches agreed), `on_track` (reaches expected), `behind`, or `not_recorded` (no
//! visit recorded anything the term counts: no audit, no check of such a promotion). The fee
//! at risk is the fee's share of the shortfall: fee × (expected − recorded) / agreed, rounded
//! down, zero when recorded reaches expected (a term not recorded has everything expected so
//! far at risk).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::rep_weekly::DONE;
use crate::agreement::Agreement;
use crate::master::{Mechanic, Promotion, Store};
use crate::plan::IsoWeek;
use crate::promotion::CheckStatus;
use crate::rules::assortment::{self, RangeItem};
use crate::rules::promotion;
use crate::values::{string_enum, Date, Money};
use crate::visit::Visit;

string_enum!(
    /// One kind of term of an agreement.
    Term, "agreement term" {
        Listing = "listing",
        DisplayWeeks = "display_weeks",
        ShelfPositionWeeks = "shelf_position_weeks",
        Promotions = "promotions",
    }
);

string_enum!(
    /// How a term stands on the day of the check.
    TermStatus, "agreement term status" {
        Met = "met",
        OnTrack = "on_track",
        Behind = "behind",
        NotRecorded = "not_recorded",
    }
);

/// One term on the day of the check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermProgress {
    pub term: Term,
    /// SKUs, weeks or promotions agreed.
    pub agreed: u32,
    /// Recorded so far, in the same unit (two decimals; weeks may be halves, listing is a mean
    /// over the audited stores).
    pub recorded: f64,
    /// Expected by the day, in the same unit (two decimals).
    pub expected: f64,
    /// recorded / agreed and expected / agreed, basis points rounded down (recorded may pass
    /// 10 000).
    pub recorded_bp: u32,
    pub expected_bp: u32,
    pub status: TermStatus,
    /// The term's fee (0 when none was agreed) and its share at risk (minor units).
    pub fee: Money,
    pub fee_at_risk: Money,
}

/// An agreement on the day of the check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementCheck {
    pub day: Date,
    /// Days of the year elapsed by the day (1 January included) and the year's days.
    pub days_elapsed: u32,
    pub days_in_year: u32,
    /// The agreement's stores among those given, and those with an audit in the period.
    pub stores: u32,
    pub stores_audited: u32,
    /// Visits done at the stores in the period.
    pub visits: u32,
    /// The agreed terms, in [`Term::ALL`] order.
    pub terms: Vec<TermProgress>,
    pub fee: Money,
    pub fee_at_risk: Money,
}

/// The stores of `stores` the agreement's scope names.
pub fn stores_of<'a>(agreement: &Agreement, stores: &'a [Store]) -> Vec<&'a Store> {
    stores
        .iter()
        .filter(|s| agreement.scope.level_for(s).is_some())
        .collect()
}

/// The days of `year` and how many of them have passed by `day` (both ends included; 0 before
/// the year, all after it).
pub fn elapsed(year: i32, day: Date) -> (u32, u32) {
    let first = chrono::NaiveDate::from_ymd_opt(year, 1, 1).expect("a valid year");
    let days = if first.leap_year() { 366 } else { 365 };
    let passed = Date::from_naive(first).days_until(day) + 1;
    (passed.clamp(0, days) as u32, days as u32)
}

/// A term from exact integer units: `agreed_units`, `recorded_units` and `expected_units` in
/// one common unit, `agreed` in the term's own; `evidence`: the visits recorded something the
/// term counts.
fn progress(
    term: Term,
    agreed: u32,
    agreed_units: u128,
    recorded_units: u128,
    expected_units: u128,
    fee: Option<Money>,
    evidence: bool,
) -> TermProgress {
    let status = if !evidence {
        TermStatus::NotRecorded
    } else if recorded_units >= agreed_units {
        TermStatus::Met
    } else if recorded_units >= expected_units {
        TermStatus::OnTrack
    } else {
        TermStatus::Behind
    };
    let fee = fee.unwrap_or(Money::ZERO);
    let shortfall = expected_units.saturating_sub(recorded_units);
    let at_risk = (fee.0.max(0) as u128)
        .saturating_mul(shortfall)
        .checked_div(agreed_units)
        .unwrap_or(0);
    let in_unit = |units: u128| {
        if agreed_units == 0 {
            return 0.0;
        }
        let hundredths = u128::from(agreed) * units * 100 / agreed_units;
        hundredths as f64 / 100.0
    };
    let bp = |units: u128| {
        if agreed_units == 0 {
            return 0;
        }
        (units * 10_000 / agreed_units).min(u128::from(u32::MAX)) as u32
    };
    TermProgress {
        term,
        agreed,
        recorded: in_unit(recorded_units),
        expected: in_unit(expected_units),
        recorded_bp: bp(recorded_units),
        expected_bp: bp(expected_units),
        status,
        fee,
        fee_at_risk: Money(at_risk.min(i64::MAX as u128) as i64),
    }
}

/// Checks `agreement` on `day` against `visits` of `stores` (those not of its scope, not done
/// or dated outside 1 January..=day of its year are ignored), with the tenant's `promotions`
/// (the checks of a visit count for the promotions running at its store on its date).
pub fn check(
    agreement: &Agreement,
    stores: &[Store],
    visits: &[Visit],
    promotions: &[Promotion],
    day: Date,
) -> AgreementCheck {
    let (e, d) = elapsed(agreement.year, day);
    let (e, d) = (u128::from(e), u128::from(d));
    let first = Date::from_naive(
        chrono::NaiveDate::from_ymd_opt(agreement.year, 1, 1).expect("a valid year"),
    );
    let last = first.add_days(d as i64 - 1).min(day);
    let ours = stores_of(agreement, stores);
    let done: Vec<(&Store, &Visit)> = visits
        .iter()
        .filter(|v| DONE.contains(&v.status) && v.planned_date >= first && v.planned_date <= last)
        .filter_map(|v| ours.iter().find(|s| s.id == v.store_id).map(|s| (*s, v)))
        .collect();

    // Listing: each store's latest audit (as the store-opportunity report picks a week's).
    let range: Vec<RangeItem> = agreement
        .listed_skus
        .iter()
        .map(|sku| RangeItem {
            sku: sku.clone(),
            safety_stock: None,
        })
        .collect();
    let mut latest: BTreeMap<_, &Visit> = BTreeMap::new();
    for (store, v) in done.iter().filter(|(_, v)| !v.audit.is_empty()) {
        let key = |v: &Visit| (v.planned_date, v.check_out.as_ref().map(|c| c.at), v.id);
        let entry = latest.entry(store.id).or_insert(v);
        if key(v) > key(entry) {
            *entry = v;
        }
    }
    let present: u128 = latest
        .values()
        .map(|v| u128::from(assortment::check(&range, &v.audit).present))
        .sum();

    // Weeks (in halves) per mechanic group, and the in-place promotions.
    let mut best: BTreeMap<(u8, IsoWeek), u128> = BTreeMap::new();
    let mut checked = [false; 3];
    let mut in_place: BTreeSet<&str> = BTreeSet::new();
    let running: Vec<(&Visit, Vec<Promotion>)> = done
        .iter()
        .map(|(s, v)| (*v, promotion::active_at(s, v.planned_date, promotions)))
        .collect();
    for (v, active) in &running {
        let Some(checks) = v.promotion_checks.as_ref() else {
            continue;
        };
        for p in active {
            let Some(c) = checks.get(p.code.as_str()) else {
                continue;
            };
            let group = match p.mechanic {
                Mechanic::Endcap | Mechanic::FloorStand => 0,
                Mechanic::ShelfPosition => 1,
                Mechanic::PriceCut | Mechanic::Gift => 2,
            };
            checked[group] = true;
            if group == 2 {
                if c.status == CheckStatus::InPlace {
                    in_place.insert(p.code.as_str());
                }
                continue;
            }
            let halves = match c.status {
                CheckStatus::InPlace => 2,
                CheckStatus::Partly => 1,
                CheckStatus::NotInPlace => 0,
            };
            let week = best
                .entry((group as u8, IsoWeek::of(v.planned_date)))
                .or_insert(0);
            *week = (*week).max(halves);
        }
    }
    let halves = |group: u8| -> u128 {
        best.iter()
            .filter(|((g, _), _)| *g == group)
            .map(|(_, h)| *h)
            .sum()
    };

    let mut terms = Vec::new();
    if !agreement.listed_skus.is_empty() {
        let n = agreement.listed_skus.len() as u128;
        let whole = n * latest.len() as u128;
        // Without an audit nothing is seen: the whole list is short (one store's worth).
        let (agreed_units, recorded) = if latest.is_empty() {
            (n, 0)
        } else {
            (whole, present)
        };
        terms.push(progress(
            Term::Listing,
            n as u32,
            agreed_units,
            recorded,
            agreed_units,
            agreement.listing_fee,
            !latest.is_empty(),
        ));
    }
    let weeks = |term: Term, agreed: Option<u32>, fee: Option<Money>, group: u8| {
        agreed.filter(|w| *w > 0).map(|w| {
            let w128 = u128::from(w);
            progress(
                term,
                w,
                2 * w128 * d,
                halves(group) * d,
                2 * w128 * e,
                fee,
                checked[group as usize],
            )
        })
    };
    terms.extend(weeks(
        Term::DisplayWeeks,
        agreement.display_weeks,
        agreement.display_fee,
        0,
    ));
    terms.extend(weeks(
        Term::ShelfPositionWeeks,
        agreement.shelf_position_weeks,
        agreement.shelf_position_fee,
        1,
    ));
    if let Some(p) = agreement.promotions.filter(|p| *p > 0) {
        let p128 = u128::from(p);
        terms.push(progress(
            Term::Promotions,
            p,
            p128 * d,
            in_place.len() as u128 * d,
            p128 * e,
            agreement.promotion_fee,
            checked[2],
        ));
    }
    let sum = |f: fn(&TermProgress) -> Money| {
        Money(terms.iter().fold(0i64, |s, t| s.saturating_add(f(t).0)))
    };
    AgreementCheck {
        day,
        days_elapsed: e as u32,
        days_in_year: d as u32,
        stores: ours.len() as u32,
        stores_audited: latest.len() as u32,
        visits: done.len() as u32,
        fee: sum(|t| t.fee),
        fee_at_risk: sum(|t| t.fee_at_risk),
        terms,
    }
}

#[cfg(test)]
mod tests;
