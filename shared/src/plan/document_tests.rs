//! The plan document's edits: what the rep does to a generated week.

use super::*;
use crate::testkit::date;
use crate::values::{Date, StoreId, Timestamp, UserId};

fn week() -> IsoWeek {
    IsoWeek::parse("2026-W50").unwrap()
}

fn id(n: u8) -> StoreId {
    StoreId(uuid::Uuid::from_bytes([n; 16]))
}

/// A plan with stores 1-3 on Monday in that order, as the planner would leave it.
fn monday_plan() -> Plan {
    let mut plan = Plan::new(UserId::new_random(), week());
    let entries = (1..=3u8)
        .map(|n| PlanEntry {
            store_id: id(n),
            day: week().monday(),
            seq: u32::from(n),
            reason: EntryReason::Due,
            pinned: false,
        })
        .collect();
    plan.apply(entries, Vec::new(), Timestamp(1_000));
    plan
}

fn day(plan: &Plan, day: Date) -> Vec<(u8, u32, bool)> {
    plan.ordered_entries()
        .iter()
        .filter(|e| e.day == day)
        .map(|e| (e.store_id.0.as_bytes()[0], e.seq, e.pinned))
        .collect()
}

#[test]
fn moving_within_a_day_renumbers_it_and_pins_the_entry() {
    let mut plan = monday_plan();
    plan.move_entry(id(3), date("2026-12-07"), 1).unwrap();
    assert_eq!(
        day(&plan, date("2026-12-07")),
        [(3, 1, true), (1, 2, false), (2, 3, false)]
    );
    plan.remove_entry(id(3)).unwrap();
    assert_eq!(
        day(&plan, date("2026-12-07")),
        [(1, 1, false), (2, 2, false)]
    );
}

#[test]
fn moving_to_another_day_closes_the_gap_it_leaves() {
    let mut plan = monday_plan();
    plan.move_entry(id(1), date("2026-12-09"), 5).unwrap();
    assert_eq!(
        day(&plan, date("2026-12-07")),
        [(2, 1, false), (3, 2, false)]
    );
    assert_eq!(day(&plan, date("2026-12-09")), [(1, 1, true)]);
}

#[test]
fn added_and_removed_stores_are_remembered() {
    let mut plan = monday_plan();
    plan.add_entry(id(9), date("2026-12-07"), 2).unwrap();
    assert_eq!(
        day(&plan, date("2026-12-07")),
        [(1, 1, false), (9, 2, true), (2, 3, false), (3, 4, false)]
    );
    assert_eq!(plan.entries[&id(9).to_string()].reason, EntryReason::Manual);
    assert_eq!(
        plan.add_entry(id(9), date("2026-12-08"), 1),
        Err(PlanEditError::AlreadyPlanned(id(9)))
    );
    assert_eq!(
        plan.add_entry(id(8), date("2026-12-14"), 1),
        Err(PlanEditError::OutsideWeek {
            day: date("2026-12-14"),
            week: week()
        })
    );
    assert_eq!(
        plan.remove_entry(id(7)),
        Err(PlanEditError::NotPlanned(id(7)))
    );
    plan.remove_entry(id(2)).unwrap();
    assert_eq!(plan.removed_stores(), [id(2)].into_iter().collect());
    // Adding a removed store back takes it off the removed list.
    plan.add_entry(id(2), date("2026-12-08"), 1).unwrap();
    assert!(plan.removed_stores().is_empty());
    assert_eq!(plan.pinned().len(), 2);
}

#[test]
fn a_plans_id_is_its_person_and_week() {
    let rep = UserId::new_random();
    assert_eq!(Plan::doc_id(rep, week()), Plan::new(rep, week()).id);
    assert_ne!(Plan::doc_id(rep, week()), Plan::doc_id(rep, week().next()));
    assert_ne!(
        Plan::doc_id(rep, week()),
        Plan::doc_id(UserId::new_random(), week())
    );
}
