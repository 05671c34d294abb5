//! The monthly report's figures worked out by hand.

use super::*;

fn uid(n: u8) -> UserId {
    UserId(Uuid::from_bytes([n; 16]))
}
fn kept(person: u8, amount: i128, units: i128) -> PersonSales {
    PersonSales {
        person_id: uid(person),
        orders: 1,
        amount,
        units,
    }
}

/// The kept sums and the orders read from their documents add up per person; a sum beyond
/// the money type reports the largest amount, as the shared rule's saturating sum does.
#[test]
fn sales_add_the_kept_sums_and_the_unkept_orders_and_saturate() {
    let unkept = [
        Sale {
            person_id: uid(1),
            amount: Money(250),
            units: 3,
        },
        Sale {
            person_id: uid(3),
            amount: Money(100),
            units: 1,
        },
    ];
    let near = i128::from(i64::MAX - 10);
    let kept = [kept(1, 1_000, 10), kept(2, 2 * near, 2 * near)];
    let sales = person_sales(&kept, &unkept);
    assert_eq!(
        sales[&uid(1)],
        SalesSum {
            amount: 1_250,
            units: 13
        }
    );
    assert_eq!(
        sales[&uid(3)],
        SalesSum {
            amount: 100,
            units: 1
        }
    );
    let month = Period::parse("2026-11").unwrap();
    let data = MonthData {
        month: Some(month),
        sales,
        ..Default::default()
    };
    let f = super::figures(&data, &[], uid(1));
    assert_eq!((f.sales, f.volume), (Money(1_250), 13));
    let f = super::figures(&data, &[], uid(2));
    assert_eq!((f.sales, f.volume), (Money(i64::MAX), i64::MAX));
    let f = super::figures(&data, &[], uid(4));
    assert_eq!((f.sales, f.volume), (Money::ZERO, 0));
}

#[test]
fn store_counts_are_looked_up_per_person() {
    let counts = [
        StoreCounts {
            person_id: uid(1),
            new_stores: 2,
            dormant_stores: 0,
        },
        StoreCounts {
            person_id: uid(2),
            new_stores: 0,
            dormant_stores: 1,
        },
    ];
    let (new, dormant) = store_counts(&counts);
    assert_eq!(new, HashMap::from([(uid(1), 2)]));
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
