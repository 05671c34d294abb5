use std::collections::BTreeMap;

use fieldsync_shared::order::{
    OrderLine, OrderNumber, OrderStatus, PaymentMethod, ORDER_SCHEMA_VERSION,
};
use fieldsync_shared::values::{
    Date, DeviceId, DocId, Money, PersonCode, Position, Sku, StoreId, Timestamp, UserId,
};
use fieldsync_shared::visit::{GeoStamp, Visit};

use super::duplicates::{flag_duplicates, ORDER_DUPLICATE};
use super::photos::{add_evidence, PHOTO_REUSED};
use super::travel::{flag_visit, IMPOSSIBLE_TRAVEL, OVERLAPPING_VISIT, VISIT_TOO_SHORT};
use super::*;
use crate::verdicts::judge::Judgement;

/// 2026-11-22T12:00Z.
const NOON: i64 = 1_795_348_800_000;
const MINUTE: i64 = 60_000;

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn order(store: StoreId, quantity: u32, delivery: &str) -> Order {
    let sku = Sku::parse("COLA-330").unwrap();
    Order {
        schema: ORDER_SCHEMA_VERSION,
        id: DocId::new_random(),
        number: OrderNumber::generate(
            &PersonCode::parse("R001").unwrap(),
            date("2026-11-22"),
            &DeviceId::new_random(),
            1,
        ),
        store_id: store,
        person_id: UserId::new_random(),
        visit_id: None,
        order_date: date("2026-11-22"),
        requested_delivery: date(delivery),
        payment: PaymentMethod::Credit,
        status: OrderStatus::Submitted,
        lines: BTreeMap::from([(
            sku.to_string(),
            OrderLine {
                sku,
                quantity,
                unit_price: Money(380),
            },
        )]),
        notes: autosurgeon::Text::with_value(""),
        created_at: Timestamp(NOON),
        submitted_at: Some(Timestamp(NOON)),
        evaluated_against: None,
        findings: Vec::new(),
        delivery: None,
    }
}

fn codes(j: &Judgement) -> Vec<&str> {
    j.findings.iter().map(|f| f.finding.code.as_str()).collect()
}

#[test]
fn the_same_lines_and_delivery_for_the_same_store_are_flagged_once_per_order() {
    let store = StoreId::new_random();
    let first = order(store, 24, "2026-11-25");
    let retried = order(store, 24, "2026-11-25");
    let others = [
        first.clone(),
        order(store, 48, "2026-11-25"),
        order(store, 24, "2026-11-26"),
        order(StoreId::new_random(), 24, "2026-11-25"),
        retried.clone(),
    ];
    let mut j = Judgement::default();
    flag_duplicates(&retried, &others, &mut j);
    assert_eq!(codes(&j), [ORDER_DUPLICATE]);
    let f = &j.findings[0];
    assert_eq!(f.check, Some(ORDER_DUPLICATE));
    assert_eq!(
        (f.source, f.outcome),
        (FindingSource::Server, FindingOutcome::Flagged)
    );
    assert_eq!(f.finding.inputs["other_order"], first.id.to_string());
    assert_eq!(f.finding.inputs["other_status"], "submitted");
    assert!(j.held.is_none(), "a duplicate is never held");
}

/// A visit of `person` at `store` on 2026-11-22, checked in at `at` at `(lat, lon)` and out
/// `minutes` later.
fn visit_at(
    person: UserId,
    store: StoreId,
    at: i64,
    (lat, lon): (f64, f64),
    minutes: i64,
) -> Visit {
    let mut v = Visit::new(DocId::new_random(), store, person, date("2026-11-22"));
    let stamp = |at| GeoStamp {
        at: Timestamp(at),
        position: Position::new(lat, lon).unwrap(),
        accuracy_m: 10.0,
        mocked: false,
    };
    v.check_in = Some(stamp(at));
    v.check_out = Some(stamp(at + minutes * MINUTE));
    v
}

const SHANGHAI: (f64, f64) = (31.2304, 121.4737);
/// About 12 km from SHANGHAI.
const PUDONG: (f64, f64) = (31.2304, 121.6000);

#[test]
fn consecutive_check_ins_faster_than_the_bound_are_flagged_with_distance_and_speed() {
    let person = UserId::new_random();
    let earlier = visit_at(
        person,
        StoreId::new_random(),
        NOON - 60 * MINUTE,
        SHANGHAI,
        20,
    );
    // 12 km in 5 minutes from the earlier check-in: about 144 km/h.
    let fast = visit_at(
        person,
        StoreId::new_random(),
        NOON - 55 * MINUTE,
        PUDONG,
        20,
    );
    let mut j = Judgement::default();
    let limits = Limits::default();
    flag_visit(
        &fast,
        std::slice::from_ref(&earlier),
        &limits,
        Timestamp(NOON),
        &mut j,
    );
    assert!(codes(&j).contains(&IMPOSSIBLE_TRAVEL), "{:?}", codes(&j));
    let f = &j.findings[0].finding;
    assert_eq!(f.inputs["other_visit"], earlier.id.to_string());
    assert_eq!(f.inputs["distance_km"], "12.0");
    assert_eq!(f.inputs["minutes"], "5.0");
    assert_eq!(f.inputs["max_speed_kmh"], "120");
    assert!(f.inputs["speed_kmh"].parse::<f64>().unwrap() > 120.0);

    // The same move in an hour is honest travel; a higher bound lets the fast one pass.
    let slow = visit_at(person, StoreId::new_random(), NOON, PUDONG, 20);
    let mut j = Judgement::default();
    flag_visit(
        &slow,
        std::slice::from_ref(&earlier),
        &limits,
        Timestamp(NOON),
        &mut j,
    );
    assert!(codes(&j).is_empty(), "{:?}", codes(&j));
    let generous = Limits {
        max_travel_kmh: 200.0,
        ..limits
    };
    let mut j = Judgement::default();
    flag_visit(
        &fast,
        std::slice::from_ref(&earlier),
        &generous,
        Timestamp(NOON),
        &mut j,
    );
    assert_eq!(codes(&j), [OVERLAPPING_VISIT]);

    // Two check-ins at one store (GPS noise below a kilometre) are no travel, however quick.
    let same_place = visit_at(
        person,
        StoreId::new_random(),
        NOON - 39 * MINUTE,
        SHANGHAI,
        10,
    );
    let mut j = Judgement::default();
    flag_visit(
        &same_place,
        std::slice::from_ref(&earlier),
        &limits,
        Timestamp(NOON),
        &mut j,
    );
    assert!(!codes(&j).contains(&IMPOSSIBLE_TRAVEL));
}

#[test]
fn short_and_overlapping_visits_are_flagged_not_held() {
    let person = UserId::new_random();
    let short = visit_at(person, StoreId::new_random(), NOON, SHANGHAI, 2);
    let mut j = Judgement::default();
    flag_visit(&short, &[], &Limits::default(), Timestamp(NOON), &mut j);
    assert_eq!(codes(&j), [VISIT_TOO_SHORT]);
    assert_eq!(j.findings[0].finding.inputs["minutes"], "2.0");
    assert_eq!(j.findings[0].finding.inputs["min_minutes"], "5");
    let no_minimum = Limits {
        min_visit_ms: 0,
        ..Limits::default()
    };
    let mut j = Judgement::default();
    flag_visit(&short, &[], &no_minimum, Timestamp(NOON), &mut j);
    assert!(codes(&j).is_empty());

    // Two visits at once at the same place (no travel), from the visit timing rule.
    let first = visit_at(person, StoreId::new_random(), NOON, SHANGHAI, 30);
    let second = visit_at(
        person,
        StoreId::new_random(),
        NOON + 10 * MINUTE,
        SHANGHAI,
        30,
    );
    let mut j = Judgement::default();
    flag_visit(
        &second,
        std::slice::from_ref(&first),
        &Limits::default(),
        Timestamp(NOON),
        &mut j,
    );
    assert_eq!(codes(&j), [OVERLAPPING_VISIT]);
    let f = &j.findings[0];
    assert_eq!(f.outcome, FindingOutcome::Flagged);
    assert_eq!(f.check, Some(OVERLAPPING_VISIT));
    assert_eq!(f.finding.inputs["other_visit"], first.id.to_string());
    assert!(j.held.is_none());
}

#[test]
fn a_photo_on_another_store_or_day_is_reused_with_the_earlier_visit_as_evidence() {
    let person = UserId::new_random();
    let store = StoreId::new_random();
    let visit = visit_at(person, store, NOON, SHANGHAI, 30);
    let sha = Sha256::digest(b"shelf");
    let use_on = |store, d: &str| PhotoUse {
        sha256: sha,
        visit: DocId::new_random(),
        store_id: store,
        person_id: UserId::new_random(),
        date: date(d),
    };
    let same_store_same_day = use_on(store, "2026-11-22");
    let elsewhere = Elsewhere {
        photo_uses: vec![same_store_same_day],
        ..Elsewhere::default()
    };
    assert!(elsewhere.reused_photos(&visit).is_empty());

    let earlier_day = use_on(store, "2026-11-20");
    let other_store = use_on(StoreId::new_random(), "2026-11-22");
    let elsewhere = Elsewhere {
        photo_uses: vec![earlier_day, same_store_same_day, other_store],
        ..Elsewhere::default()
    };
    assert_eq!(elsewhere.reused_photos(&visit), [sha]);

    // The photo rule's finding, as the server's evaluation makes it.
    let rule = fieldsync_shared::rules::Finding::new(
        fieldsync_shared::rules::RuleId::Photos,
        fieldsync_shared::rules::Severity::Flag,
        PHOTO_REUSED,
        "the same photo was already used on another visit",
    )
    .input("sha256", sha);
    let mut j = Judgement {
        findings: vec![Judged {
            source: FindingSource::ServerData,
            check: None,
            finding: rule,
            outcome: FindingOutcome::Flagged,
            data_version: Some(3),
        }],
        held: None,
    };
    add_evidence(&visit, &elsewhere.photo_uses, &mut j);
    let f = &j.findings[0];
    assert_eq!(
        (f.source, f.check),
        (FindingSource::Server, Some(PHOTO_REUSED))
    );
    assert_eq!(
        f.finding.inputs["other_visit"],
        earlier_day.visit.to_string()
    );
    assert_eq!(f.finding.inputs["other_date"], "2026-11-20");
    assert_eq!(f.finding.inputs["other_store"], store.to_string());
    assert_eq!(
        f.finding.inputs["other_person"],
        earlier_day.person_id.to_string()
    );
    assert_eq!(
        f.finding.inputs["other_visits"],
        format!("{},{}", earlier_day.visit, other_store.visit)
    );
}
