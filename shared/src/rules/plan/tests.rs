//! The planner against weeks worked out by hand.

use std::collections::BTreeSet;

use chrono::Weekday;

use super::route::path_length_km;
use super::*;
use crate::master::Grade;
use crate::plan::{EntryReason, IsoWeek, Plan, PlanEditError, PlanEntry, WorkingDays};
use crate::testkit::{date, pos};
use crate::values::{Date, Position, StoreId, Timestamp, UserId};

/// Week 2026-W50: Monday 2026-12-07 to Sunday 2026-12-13.
fn week() -> IsoWeek {
    IsoWeek::parse("2026-W50").unwrap()
}

fn id(n: u8) -> StoreId {
    StoreId(uuid::Uuid::from_bytes([n; 16]))
}

fn store(n: u8, grade: Grade, last: Option<&str>, at: Position) -> TerritoryStore {
    TerritoryStore {
        store_id: id(n),
        grade,
        location: at,
        last_visit: last.map(date),
    }
}

/// Stores 1-8 with known due dates in the week (east of 121.0° E, 0.01° apart).
fn territory() -> Vec<TerritoryStore> {
    let at = |k: u8| pos(31.0, 121.0 + f64::from(k) * 0.01);
    vec![
        store(1, Grade::A, Some("2026-12-01"), at(1)), // due 12-08: due
        store(2, Grade::A, Some("2026-11-20"), at(2)), // due 11-27: overdue
        store(3, Grade::B, Some("2026-11-30"), at(3)), // due 12-14: next week
        store(4, Grade::B, Some("2026-11-29"), at(4)), // due 12-13 (Sunday): due
        store(5, Grade::C, Some("2026-11-10"), at(5)), // due 12-10: due
        store(6, Grade::C, Some("2026-11-20"), at(6)), // due 12-20: not this week
        store(7, Grade::C, None, at(7)),               // never visited: overdue
        store(8, Grade::A, Some("2026-11-01"), at(8)), // overdue, but the rep removed it
    ]
}

fn request<'a>(
    stores: &'a [TerritoryStore],
    days: &'a WorkingDays,
    capacity: u32,
    pinned: &'a [PlanEntry],
    removed: &'a BTreeSet<StoreId>,
) -> PlanRequest<'a> {
    PlanRequest {
        week: week(),
        stores,
        frequency: VisitFrequency::default(),
        working_days: days,
        daily_capacity: capacity,
        start: Some(pos(31.0, 121.0)),
        pinned,
        removed,
    }
}

fn placed(plan: &GeneratedPlan) -> Vec<(u8, Date, u32, EntryReason)> {
    plan.entries
        .iter()
        .map(|e| (e.store_id.0.as_bytes()[0], e.day, e.seq, e.reason))
        .collect()
}

#[test]
fn due_and_overdue_stores_are_planned_by_their_due_day() {
    let stores = territory();
    let days = WorkingDays::default();
    let removed = BTreeSet::from([id(8)]);
    let plan = generate(&request(&stores, &days, 2, &[], &removed));
    use EntryReason::*;
    assert_eq!(
        placed(&plan),
        [
            // Monday: the never-visited and the overdue store, routed from the start (west).
            (2, date("2026-12-07"), 1, Overdue),
            (7, date("2026-12-07"), 2, Overdue),
            // Tuesday: store 1 falls due that day.
            (1, date("2026-12-08"), 1, Due),
            // Wednesday, Thursday: the rest, one a day (an even share).
            (5, date("2026-12-09"), 1, Due),
            (4, date("2026-12-10"), 1, Due),
        ]
    );
    assert!(plan.unscheduled.is_empty());
    assert_eq!(plan.days.len(), 5);
    assert_eq!(plan.days[4].stops, 0);
    // Monday: start (121.00) -> store 2 (121.02) -> store 7 (121.07): 0.07° of longitude at
    // 31° N, about 6.67 km.
    let monday = plan.days[0].length_km;
    assert!((monday - 6.675).abs() < 0.01, "{monday}");
}

#[test]
fn custom_frequencies_change_what_is_due() {
    let stores = territory();
    let days = WorkingDays::default();
    let removed = BTreeSet::from([id(8)]);
    let mut req = request(&stores, &days, 10, &[], &removed);
    // This tenant visits B stores weekly and C stores every 60 days.
    req.frequency = VisitFrequency {
        a_days: 7,
        b_days: 7,
        c_days: 60,
    };
    let plan = generate(&req);
    let ids: BTreeSet<u8> = plan
        .entries
        .iter()
        .map(|e| e.store_id.0.as_bytes()[0])
        .collect();
    assert_eq!(ids, BTreeSet::from([1, 2, 3, 4, 7]));
}

#[test]
fn stores_beyond_capacity_are_reported_unscheduled() {
    let stores = territory();
    let days = WorkingDays::new([Weekday::Mon]);
    let plan = generate(&request(&stores, &days, 3, &[], &BTreeSet::new()));
    assert_eq!(plan.entries.len(), 3);
    // Never visited first, then the most overdue (8 on 11-08, 2 on 11-27): all on Monday.
    let monday: BTreeSet<u8> = plan
        .entries
        .iter()
        .map(|e| e.store_id.0.as_bytes()[0])
        .collect();
    assert_eq!(monday, BTreeSet::from([2, 7, 8]));
    assert_eq!(plan.unscheduled, [id(1), id(5), id(4)]);
}

#[test]
fn a_days_route_is_shorter_than_the_due_order() {
    // Twelve stores scattered over a 10 km square, all overdue, one working day.
    let stores: Vec<TerritoryStore> = (0..12u8)
        .map(|k| {
            let (x, y) = ((k * 7) % 12, (k * 5) % 12);
            let at = pos(31.0 + f64::from(y) * 0.008, 121.0 + f64::from(x) * 0.009);
            store(k + 1, Grade::A, Some(&format!("2026-11-{:02}", k + 1)), at)
        })
        .collect();
    let days = WorkingDays::new([Weekday::Mon]);
    let plan = generate(&request(&stores, &days, 12, &[], &BTreeSet::new()));
    assert_eq!(plan.entries.len(), 12);
    let start = Some(pos(31.0, 121.0));
    let due_order: Vec<Position> = stores.iter().map(|s| s.location).collect();
    let naive = path_length_km(start, &due_order);
    assert!(
        plan.total_km() < naive * 0.6,
        "route {} km vs due order {naive} km",
        plan.total_km()
    );
    // The reported length is the length of the entries' order.
    let by_id = |e: &PlanEntry| stores.iter().find(|s| s.store_id == e.store_id).unwrap();
    let routed: Vec<Position> = plan.entries.iter().map(|e| by_id(e).location).collect();
    assert!((path_length_km(start, &routed) - plan.total_km()).abs() < 1e-9);
}

#[test]
fn regeneration_keeps_the_reps_changes() {
    let stores = territory();
    let days = WorkingDays::default();
    // The rep moved store 2 to Friday, added store 6 (not due) first on Monday, and removed
    // store 8.
    let pinned = [
        PlanEntry {
            store_id: id(2),
            day: date("2026-12-11"),
            seq: 1,
            reason: EntryReason::Overdue,
            pinned: true,
        },
        PlanEntry {
            store_id: id(6),
            day: date("2026-12-07"),
            seq: 1,
            reason: EntryReason::Manual,
            pinned: true,
        },
    ];
    let removed = BTreeSet::from([id(8)]);
    let plan = generate(&request(&stores, &days, 2, &pinned, &removed));
    use EntryReason::*;
    let mut got = placed(&plan);
    got.sort_by_key(|e| (e.1, e.2));
    assert_eq!(
        got,
        [
            // Monday: the rep's store 6 first, the never-visited store 7 in the one place left.
            (6, date("2026-12-07"), 1, Manual),
            (7, date("2026-12-07"), 2, Overdue),
            (1, date("2026-12-08"), 1, Due),
            (5, date("2026-12-09"), 1, Due),
            (4, date("2026-12-10"), 1, Due),
            // Friday: store 2 where the rep put it.
            (2, date("2026-12-11"), 1, Overdue),
        ]
    );
    let pinned_ids: Vec<_> = plan
        .entries
        .iter()
        .filter(|e| e.pinned)
        .map(|e| e.store_id)
        .collect();
    assert_eq!(pinned_ids, [id(6), id(2)]);
    // Regenerating again gives the same plan.
    assert_eq!(
        generate(&request(&stores, &days, 2, &pinned, &removed)),
        plan
    );
}

#[test]
fn a_pinned_place_past_the_days_end_goes_last() {
    let stores = territory();
    let days = WorkingDays::new([Weekday::Mon]);
    let pinned = [PlanEntry {
        store_id: id(3),
        day: date("2026-12-07"),
        seq: 9,
        reason: EntryReason::Manual,
        pinned: true,
    }];
    let removed = BTreeSet::from([id(8)]);
    let plan = generate(&request(&stores, &days, 3, &pinned, &removed));
    let seqs: Vec<(u8, u32)> = plan
        .entries
        .iter()
        .map(|e| (e.store_id.0.as_bytes()[0], e.seq))
        .collect();
    assert_eq!(seqs, [(2, 1), (7, 2), (3, 3)]);
}

// -----------------------------------------------------------------------------------------
// Regenerating a plan document
// -----------------------------------------------------------------------------------------

fn six_a_stores() -> Vec<TerritoryStore> {
    (0..6u8)
        .map(|k| TerritoryStore {
            store_id: StoreId(uuid::Uuid::from_bytes([k + 1; 16])),
            grade: Grade::A,
            location: pos(31.0, 121.0 + f64::from(k) * 0.01),
            last_visit: Some(date("2026-11-30")),
        })
        .collect()
}

/// Generates `plan`'s week from the stores, keeping what the rep did.
fn regenerate(plan: &mut Plan, stores: &[TerritoryStore]) {
    let days = WorkingDays::default();
    let (pinned, removed) = (plan.pinned(), plan.removed_stores());
    let generated = generate(&PlanRequest {
        week: plan.week,
        stores,
        frequency: VisitFrequency::default(),
        working_days: &days,
        daily_capacity: 3,
        start: None,
        pinned: &pinned,
        removed: &removed,
    });
    plan.apply(generated.entries, generated.days, Timestamp(1_000));
}

fn day_of(plan: &Plan, store: StoreId) -> (Date, u32, bool) {
    let e = &plan.entries[&store.to_string()];
    (e.day, e.seq, e.pinned)
}

#[test]
fn the_reps_move_add_and_remove_survive_regeneration() {
    let stores = six_a_stores();
    let ids: Vec<StoreId> = stores.iter().map(|s| s.store_id).collect();
    let mut plan = Plan::new(UserId::new_random(), week());
    regenerate(&mut plan, &stores[..5]);
    // All five A stores are due Monday 12-07: three Monday, two Tuesday.
    assert_eq!(plan.entries.len(), 5);
    assert_eq!(plan.days.len(), 5);

    plan.move_entry(ids[0], date("2026-12-11"), 1).unwrap();
    plan.remove_entry(ids[1]).unwrap();
    plan.add_entry(ids[5], date("2026-12-10"), 1).unwrap();
    assert_eq!(
        plan.add_entry(ids[5], date("2026-12-10"), 1),
        Err(PlanEditError::AlreadyPlanned(ids[5]))
    );
    assert!(matches!(
        plan.add_entry(ids[1], date("2026-12-14"), 1),
        Err(PlanEditError::OutsideWeek { .. })
    ));
    let edited = plan.clone();

    regenerate(&mut plan, &stores);
    assert_eq!(day_of(&plan, ids[0]), (date("2026-12-11"), 1, true));
    assert_eq!(day_of(&plan, ids[5]), (date("2026-12-10"), 1, true));
    assert_eq!(
        plan.entries[&ids[5].to_string()].reason,
        EntryReason::Manual
    );
    assert!(!plan.entries.contains_key(&ids[1].to_string()));
    assert_eq!(plan.removed_stores(), BTreeSet::from([ids[1]]));
    // The generated entries are the other three, on Monday.
    let generated: BTreeSet<StoreId> = plan
        .entries
        .values()
        .filter(|e| !e.pinned)
        .map(|e| e.store_id)
        .collect();
    assert_eq!(generated, BTreeSet::from([ids[2], ids[3], ids[4]]));
    assert_eq!(plan.pinned(), edited.pinned());
}
