//! The weekly visit planner: which stores a rep should visit in a week, on which day, in which
//! order. Pure; run the same on the phone (from its master data and visit history) and on the
//! server, and written into the plan document ([`crate::plan`]) with [`Plan::apply`].
//!
//! A store is due in the week when its last visit plus its grade's interval falls on or before
//! the week's Sunday (never visited: overdue). Days are filled in order: first the stores that
//! are due by that day (earliest due first), then, up to an even share of what is left, the
//! store nearest to the last one chosen, so that a day's stops lie close together. Each
//! day is then ordered into a route ([`route`]: nearest neighbour + 2-opt, length in km).
//!
//! Regeneration keeps the rep's own changes: entries the rep added or moved (pinned entries,
//! [`Plan::pinned`]) keep their day and place in the day and take up that day's capacity;
//! stores the rep removed ([`Plan::removed_stores`]) are not planned again.
//!
//! [`Plan::apply`]: crate::plan::Plan::apply
//! [`Plan::pinned`]: crate::plan::Plan::pinned
//! [`Plan::removed_stores`]: crate::plan::Plan::removed_stores

pub mod route;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use route::{path_length_km, plan_route};

use super::frequency::max_interval_days;
use crate::master::Grade;
use crate::plan::{EntryReason, IsoWeek, PlanDay, PlanEntry, WorkingDays};
use crate::values::{Date, Position, StoreId};

/// Days between two visits of a store, per grade; set per tenant. The default is the
/// frequency rule's (A 7, B 14, C 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitFrequency {
    pub a_days: u32,
    pub b_days: u32,
    pub c_days: u32,
}

impl VisitFrequency {
    pub fn interval_days(&self, grade: Grade) -> u32 {
        match grade {
            Grade::A => self.a_days,
            Grade::B => self.b_days,
            Grade::C => self.c_days,
        }
    }
    /// The date by which a store last visited on `last_visit` must be visited again
    /// (`None`: never visited, due now).
    pub fn next_due(&self, grade: Grade, last_visit: Option<Date>) -> Option<Date> {
        last_visit.map(|d| d.add_days(i64::from(self.interval_days(grade))))
    }
}

impl Default for VisitFrequency {
    fn default() -> Self {
        VisitFrequency {
            a_days: max_interval_days(Grade::A),
            b_days: max_interval_days(Grade::B),
            c_days: max_interval_days(Grade::C),
        }
    }
}

/// A store of the rep's territory as the planner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TerritoryStore {
    pub store_id: StoreId,
    pub grade: Grade,
    pub location: Position,
    /// The day of its last completed visit, by anyone.
    pub last_visit: Option<Date>,
}

/// Everything the planner needs; the same on the phone and on the server.
#[derive(Debug, Clone)]
pub struct PlanRequest<'a> {
    pub week: IsoWeek,
    pub stores: &'a [TerritoryStore],
    pub frequency: VisitFrequency,
    pub working_days: &'a WorkingDays,
    /// Most visits in one day (pinned entries included).
    pub daily_capacity: u32,
    /// Where each day starts (the rep's home or depot), when known.
    pub start: Option<Position>,
    /// Entries the rep added or moved (`pinned`), kept where the rep put them.
    pub pinned: &'a [PlanEntry],
    /// Stores the rep removed from this week's plan.
    pub removed: &'a BTreeSet<StoreId>,
}

/// The week's plan as generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedPlan {
    /// By day, then place in the day.
    pub entries: Vec<PlanEntry>,
    /// Every working day (and any day holding a pinned entry), in order, with its route.
    pub days: Vec<PlanDay>,
    /// Stores due in the week that found no room (capacity too small), earliest due first.
    pub unscheduled: Vec<StoreId>,
}

impl GeneratedPlan {
    pub fn total_km(&self) -> f64 {
        self.days.iter().map(|d| d.length_km).sum()
    }
}

/// A store due in the week, waiting for a day.
struct Candidate<'a> {
    store: &'a TerritoryStore,
    /// `None`: never visited.
    due: Option<Date>,
    reason: EntryReason,
}

/// Plans the week. Pure and deterministic: the same request gives the same plan.
pub fn generate(req: &PlanRequest<'_>) -> GeneratedPlan {
    let pinned_ids: BTreeSet<StoreId> = req.pinned.iter().map(|p| p.store_id).collect();
    let mut candidates = due_candidates(req, &pinned_ids);

    let mut pinned_by_day: BTreeMap<Date, Vec<&PlanEntry>> = BTreeMap::new();
    for p in req.pinned {
        pinned_by_day.entry(p.day).or_default().push(p);
    }
    let mut days: BTreeSet<Date> = req.working_days.dates(req.week).into_iter().collect();
    days.extend(pinned_by_day.keys().copied());
    let working: BTreeSet<Date> = req.working_days.dates(req.week).into_iter().collect();

    let locations: BTreeMap<StoreId, Position> = req
        .stores
        .iter()
        .map(|s| (s.store_id, s.location))
        .collect();
    let mut plan = GeneratedPlan {
        entries: Vec::new(),
        days: Vec::new(),
        unscheduled: Vec::new(),
    };
    let mut working_left = working.len();
    for day in days {
        let pinned = pinned_by_day.remove(&day).unwrap_or_default();
        let chosen = if working.contains(&day) {
            let room = (req.daily_capacity as usize).saturating_sub(pinned.len());
            let share = candidates.len().div_ceil(working_left.max(1));
            working_left -= 1;
            choose_for_day(&mut candidates, day, room, share)
        } else {
            Vec::new()
        };
        let (entries, route) = order_day(req.start, day, &pinned, chosen, &locations);
        plan.entries.extend(entries);
        plan.days.push(route);
    }
    plan.unscheduled = candidates.iter().map(|c| c.store.store_id).collect();
    plan
}

/// The stores due in the week, not removed or pinned by the rep, earliest due first (never
/// visited before any date), then by grade and id.
fn due_candidates<'a>(req: &PlanRequest<'a>, pinned: &BTreeSet<StoreId>) -> Vec<Candidate<'a>> {
    let (monday, sunday) = (req.week.monday(), req.week.sunday());
    let mut out: Vec<Candidate<'a>> = req
        .stores
        .iter()
        .filter(|s| !req.removed.contains(&s.store_id) && !pinned.contains(&s.store_id))
        .filter_map(|store| {
            let due = req.frequency.next_due(store.grade, store.last_visit);
            let reason = match due {
                None => EntryReason::Overdue,
                Some(d) if d > sunday => return None,
                Some(d) if d < monday => EntryReason::Overdue,
                Some(_) => EntryReason::Due,
            };
            Some(Candidate { store, due, reason })
        })
        .collect();
    out.sort_by_key(|c| (c.due, c.store.grade, c.store.store_id));
    out
}

/// Takes the day's stores out of `candidates`: every store due by `day` (up to `room`), then
/// (starting from the most urgent one when none was due) the store nearest to the last one
/// chosen, until the day holds `share` (up to `room`).
fn choose_for_day<'a>(
    candidates: &mut Vec<Candidate<'a>>,
    day: Date,
    room: usize,
    share: usize,
) -> Vec<Candidate<'a>> {
    let mut chosen = Vec::new();
    while chosen.len() < room
        && candidates
            .first()
            .is_some_and(|c| c.due.is_none_or(|d| d <= day))
    {
        chosen.push(candidates.remove(0));
    }
    while chosen.len() < room.min(share) && !candidates.is_empty() {
        // An empty day grows around its most urgent store.
        let k = match chosen.last() {
            None => 0,
            Some(c) => nearest(candidates, c.store.location),
        };
        chosen.push(candidates.remove(k));
    }
    chosen
}

fn nearest(candidates: &[Candidate], at: Position) -> usize {
    let mut best = (0, f64::INFINITY);
    for (k, c) in candidates.iter().enumerate() {
        let d = at.distance_m(&c.store.location);
        if d < best.1 {
            best = (k, d);
        }
    }
    best.0
}

/// The day's entries in route order: the chosen stores routed, the pinned ones at the place
/// the rep gave them (or at the end when that place is past the day's length).
fn order_day(
    start: Option<Position>,
    day: Date,
    pinned: &[&PlanEntry],
    chosen: Vec<Candidate>,
    locations: &BTreeMap<StoreId, Position>,
) -> (Vec<PlanEntry>, PlanDay) {
    let points: Vec<Position> = chosen.iter().map(|c| c.store.location).collect();
    let route = plan_route(start, &points);
    let mut routed = route.order.iter().map(|&i| PlanEntry {
        store_id: chosen[i].store.store_id,
        day,
        seq: 0,
        reason: chosen[i].reason,
        pinned: false,
    });
    let mut pinned: Vec<&PlanEntry> = pinned.to_vec();
    pinned.sort_by_key(|p| (p.seq, p.store_id));
    let total = pinned.len() + chosen.len();
    let mut entries = Vec::with_capacity(total);
    let mut pinned = pinned.into_iter().peekable();
    for place in 1..=total as u32 {
        let from_pinned = pinned.peek().is_some_and(|p| p.seq <= place);
        let next = if from_pinned {
            pinned.next().map(|p| pinned_entry(p, day))
        } else {
            routed
                .next()
                .or_else(|| pinned.next().map(|p| pinned_entry(p, day)))
        };
        // Together the two hold `total` entries, so neither runs dry early.
        let mut entry = next.expect("pinned and routed entries add up to the day's total");
        entry.seq = place;
        entries.push(entry);
    }
    let path: Vec<Position> = entries
        .iter()
        .filter_map(|e| locations.get(&e.store_id).copied())
        .collect();
    let length_km = path_length_km(start, &path);
    let route = PlanDay {
        day,
        stops: total as u32,
        length_km,
    };
    (entries, route)
}

fn pinned_entry(p: &PlanEntry, day: Date) -> PlanEntry {
    PlanEntry {
        store_id: p.store_id,
        day,
        seq: 0,
        reason: p.reason,
        pinned: true,
    }
}

#[cfg(test)]
mod tests;
