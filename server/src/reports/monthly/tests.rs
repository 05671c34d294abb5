//! The monthly report's figures worked out by hand.

use super::*;
use fieldsync_shared::values::Date;

fn uid(n: u8) -> UserId {
    UserId(Uuid::from_bytes([n; 16]))
}
fn sid(n: u8) -> StoreId {
    StoreId(Uuid::from_bytes([n; 16]))
}
fn fact(date: &str, person: u8, store: u8) -> SaleFact {
    SaleFact {
        order_date: Date::parse(date).unwrap(),
        person_id: uid(person),
        store_id: sid(store),
    }
}

#[test]
fn new_and_dormant_stores_are_counted_once_for_one_person() {
    let month = [
        // Store 1: first sale ever, by person 1 before person 2.
        fact("2026-11-03", 2, 1),
        fact("2026-11-02", 1, 1),
        // Store 2: sold before the month: not new.
        fact("2026-11-05", 1, 2),
    ];
    let before = [
        fact("2026-10-01", 1, 2),
        // Store 3: latest sale by person 2, none this month: dormant for person 2.
        fact("2026-08-10", 1, 3),
        fact("2026-09-10", 2, 3),
    ];
    let sold_before: HashSet<StoreId> = [sid(2)].into();
    let (new, dormant) = store_counts(&month, &before, &sold_before);
    assert_eq!(new, HashMap::from([(uid(1), 1)]));
    assert_eq!(dormant, HashMap::from([(uid(2), 1)]));
}

fn figures(sales: i64, target: i64, expenses: i64) -> Figures {
    Figures {
        sales: Money(sales),
        volume: sales / 100,
        target: Money(target),
        target_volume: target / 100,
        expenses: Money(expenses),
        deliveries: Default::default(),
    }
}

#[test]
fn teams_sum_their_reps_and_ratios_are_of_the_sums() {
    let team = Uuid::from_bytes([9; 16]);
    let people = [
        Person {
            id: uid(1),
            name: "A".into(),
            team: Some((team, "T".into())),
        },
        Person {
            id: uid(2),
            name: "B".into(),
            team: Some((team, "T".into())),
        },
        Person {
            id: uid(3),
            name: "Idle".into(),
            team: None,
        },
    ];
    let a = RepMonths {
        this: figures(50_000, 40_000, 5_000),
        last_month: figures(10_000, 0, 0),
        ..Default::default()
    };
    let b = RepMonths {
        this: figures(10_000, 40_000, 0),
        new_stores: 2,
        ..Default::default()
    };
    let sum = a.plus(b);
    assert_eq!(sum.this.achievement_bp(), Some(7_500));
    assert_eq!(sum.this.expense_ratio_bp(), Some(833));
    assert_eq!(sum.last_month.achievement_bp(), None);
    assert_eq!(sum.new_stores, 2);
    // Nobody with figures: no rows but a zero total.
    let empty = MonthData::default();
    let r = report(&Inputs {
        people: &people,
        months: [&empty, &empty, &empty],
        new_stores: &HashMap::new(),
        dormant_stores: &HashMap::from([(uid(1), 1)]),
    });
    assert_eq!(r.reps.len(), 1, "only A has a figure: {r:?}");
    assert_eq!(r.teams.len(), 1);
    assert_eq!(r.teams[0].dormant_stores, 1);
    assert_eq!(r.total.dormant_stores, 1);
    assert_eq!(r.total.achievement_bp, None);
    let csv = csv(&r);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv
        .lines()
        .nth(3)
        .unwrap()
        .starts_with("total,,Total 合计,,,0.00,0,0.00,0,,,0,1,0.00,,0.00,,,0.00,,"));
    assert!(
        csv.lines().nth(3).unwrap().ends_with(",0,0,0,0,,,"),
        "{csv}"
    );
}
