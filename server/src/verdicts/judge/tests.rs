use std::collections::BTreeMap;

use fieldsync_shared::master::{Channel, CreditSnapshot, Grade, Product, Store};
use fieldsync_shared::order::{OrderLine, OrderNumber, PaymentMethod, ORDER_SCHEMA_VERSION};
use fieldsync_shared::rules::submission;
use fieldsync_shared::values::{
    Date, DeviceId, DocId, PersonCode, Position, Sku, StoreCode, StoreId, UserId,
};

use super::*;
use crate::store::verdicts::Versioned;
use crate::verdicts::cross_device::OpenOrders;

/// 2026-11-22T12:00Z.
const NOW: Timestamp = Timestamp(1_795_348_800_000);

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn shop(id: StoreId) -> Store {
    Store {
        id,
        code: StoreCode::parse("NKA-0001").unwrap(),
        name: "Hypermarket".into(),
        channel: Channel::Nka,
        grade: Grade::A,
        address: "1 People's Square".into(),
        location: Position::new(31.2304, 121.4737).unwrap(),
        geofence_radius_m: 100,
        delivery_lead_days: 2,
        monthly_potential: None,
        chain: None,
    }
}

fn cola() -> Product {
    Product {
        sku: Sku::parse("COLA-330").unwrap(),
        name: "Cola".into(),
        case_pack: 24,
        sold_by_case: true,
        shelf_life_days: 270,
        list_price: Money(400),
        floor_price: Money(300),
    }
}

fn snapshot(store: StoreId, overdue: i64) -> CreditSnapshot {
    CreditSnapshot {
        store_id: store,
        credit_limit: Money(1_000_000),
        receivables: Money(0),
        overdue: Money(overdue),
        as_of: date("2026-11-21"),
    }
}

/// A submitted credit order of 24 x 3.80 on 2026-11-22, delivery 11-25.
fn order(quantity: u32, price: i64) -> Order {
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
        store_id: StoreId::new_random(),
        person_id: UserId::new_random(),
        visit_id: None,
        order_date: date("2026-11-22"),
        requested_delivery: date("2026-11-25"),
        payment: PaymentMethod::Credit,
        status: OrderStatus::Submitted,
        lines: BTreeMap::from([(
            sku.to_string(),
            OrderLine {
                sku,
                quantity,
                unit_price: Money(price),
            },
        )]),
        notes: autosurgeon::Text::with_value(""),
        created_at: NOW,
        submitted_at: Some(NOW),
        evaluated_against: None,
        findings: Vec::new(),
        delivery: None,
    }
}

/// Master data at version 10 (store and product at 5), with the given credit snapshot.
fn data(o: &Order, credit: CreditSnapshot, credit_version: i64) -> RuleData {
    RuleData {
        master_version: 10,
        store: Some(Versioned {
            value: shop(o.store_id),
            version: 5,
        }),
        products: vec![Versioned {
            value: cola(),
            version: 5,
        }],
        credit: Some(Versioned {
            value: credit,
            version: credit_version,
        }),
        approval: None,
        assortment: Vec::new(),
        promotions: Vec::new(),
        success_pictures: Vec::new(),
    }
}

fn outcomes(j: &Judgement, source: FindingSource) -> Vec<(&str, FindingOutcome)> {
    j.findings
        .iter()
        .filter(|f| f.source == source)
        .map(|f| (f.finding.code.as_str(), f.outcome))
        .collect()
}

fn judged(o: &Order, data: &RuleData) -> Judgement {
    judge(
        None,
        &AnyDocument::Order(o.clone()),
        data,
        &Elsewhere::default(),
        Role::Rep,
        NOW,
    )
}

fn held_status(j: &Judgement) -> Option<OrderStatus> {
    match &j.held {
        Some(AnyDocument::Order(o)) => Some(o.status),
        _ => None,
    }
}

#[test]
fn a_clean_submission_has_no_findings() {
    let o = order(24, 380);
    let j = judged(&o, &data(&o, snapshot(o.store_id, 0), 8));
    assert_eq!(j, Judgement::default());
}

#[test]
fn without_a_basis_the_server_rules_hold() {
    let o = order(24, 380);
    let j = judged(&o, &data(&o, snapshot(o.store_id, 500), 8));
    assert_eq!(
        outcomes(&j, FindingSource::ServerData),
        [("overdue_receivables", FindingOutcome::Held)]
    );
    assert_eq!(held_status(&j), Some(OrderStatus::PendingApproval));
    let f = &j.findings[0].finding;
    assert_eq!(f.inputs["device_basis"], "not recorded");
}

#[test]
fn a_broken_case_pack_goes_back_to_draft() {
    let o = order(5, 380);
    let j = judged(&o, &data(&o, snapshot(o.store_id, 0), 8));
    assert_eq!(
        outcomes(&j, FindingSource::ServerData),
        [("quantity_not_case_multiple", FindingOutcome::Held)]
    );
    let Some(AnyDocument::Order(held)) = &j.held else {
        panic!("held: {j:?}");
    };
    assert_eq!(held.status, OrderStatus::Draft);
    assert_eq!(held.submitted_at, None);
}

#[test]
fn an_honest_phone_with_an_older_credit_snapshot_is_flagged_not_held() {
    let mut o = order(24, 380);
    // The phone saw no overdue amount, at master version 7.
    let seen = snapshot(o.store_id, 0);
    o.evaluated_against = Some(submission::basis(7, NOW, Some((&seen, Money::ZERO))));
    // The server has since imported a snapshot with an overdue amount (version 9).
    let j = judged(&o, &data(&o, snapshot(o.store_id, 500), 9));
    assert_eq!(
        outcomes(&j, FindingSource::ServerData),
        [("overdue_receivables", FindingOutcome::Flagged)]
    );
    assert!(outcomes(&j, FindingSource::DeviceBasis).is_empty());
    assert_eq!(j.held, None);
    let f = &j.findings[0].finding;
    assert_eq!(f.inputs["device_basis"], "master version 7: reconstructed");
}

#[test]
fn a_phone_that_should_have_known_is_held() {
    let mut o = order(24, 380);
    let seen = snapshot(o.store_id, 500);
    o.evaluated_against = Some(submission::basis(9, NOW, Some((&seen, Money::ZERO))));
    let j = judged(&o, &data(&o, seen.clone(), 9));
    assert_eq!(
        outcomes(&j, FindingSource::ServerData),
        [("overdue_receivables", FindingOutcome::Held)]
    );
    assert_eq!(
        outcomes(&j, FindingSource::DeviceBasis),
        [("overdue_receivables", FindingOutcome::Noted)]
    );
    assert_eq!(held_status(&j), Some(OrderStatus::PendingApproval));
}

#[test]
fn a_price_floor_raised_after_the_phones_version_is_flagged() {
    let mut o = order(24, 320);
    let seen = snapshot(o.store_id, 0);
    o.evaluated_against = Some(submission::basis(4, NOW, Some((&seen, Money::ZERO))));
    // Product at version 5 > 4: the phone's price list cannot be rebuilt.
    let mut d = data(&o, seen, 3);
    d.products[0].value.floor_price = Money(350);
    let j = judged(&o, &d);
    assert_eq!(
        outcomes(&j, FindingSource::ServerData),
        [
            ("price_below_floor", FindingOutcome::Flagged),
            ("discount_beyond_authority", FindingOutcome::Flagged)
        ]
    );
    assert_eq!(j.held, None);
}

#[test]
fn approval_already_asked_for_is_only_noted() {
    let mut o = order(24, 340); // 15 % off list: beyond authority
    o.status = OrderStatus::PendingApproval;
    let j = judged(&o, &data(&o, snapshot(o.store_id, 0), 8));
    assert_eq!(
        outcomes(&j, FindingSource::ServerData),
        [("discount_beyond_authority", FindingOutcome::Noted)]
    );
    assert_eq!(j.held, None);
}

#[test]
fn only_submissions_are_judged() {
    let draft = {
        let mut o = order(24, 380);
        o.status = OrderStatus::Draft;
        AnyDocument::Order(o)
    };
    let submitted = AnyDocument::Order(order(24, 380));
    assert!(!is_submission(None, &draft));
    assert!(is_submission(None, &submitted));
    assert!(is_submission(Some(&draft), &submitted));
    // A notes edit of a submitted order, or a replayed state, is not judged again.
    let mut noted = submitted.clone();
    if let AnyDocument::Order(o) = &mut noted {
        o.notes = autosurgeon::Text::with_value("call first");
    }
    assert!(!is_submission(Some(&submitted), &noted));
    // A held order (pending approval) is not judged again until it changes.
    let mut pending = submitted.clone();
    if let AnyDocument::Order(o) = &mut pending {
        o.status = OrderStatus::PendingApproval;
    }
    assert!(!is_submission(Some(&pending), &pending));
}

#[test]
fn other_reps_open_orders_over_the_limit_hold_the_later_order_for_approval() {
    let o = order(24, 380);
    let credit = data(&o, tight(snapshot(o.store_id, 0)), 9);
    // Alone, the order fits the limit (91.20 of 150.00).
    assert!(judged(&o, &credit).findings.is_empty());
    let mut other = order(24, 380);
    other.store_id = o.store_id;
    let open = OpenOrders::split(&o, [other.clone()]);
    assert_eq!(open.others, [(other.id, Money(9_120))]);
    let j = judge(
        None,
        &AnyDocument::Order(o.clone()),
        &credit,
        &open.clone().into(),
        Role::Rep,
        NOW,
    );
    assert_eq!(
        outcomes(&j, FindingSource::Server),
        [("credit_combined", FindingOutcome::Held)]
    );
    assert_eq!(held_status(&j), Some(OrderStatus::PendingApproval));
    let evidence = &j.findings[0].finding.inputs;
    assert_eq!(evidence["other_orders"], other.id.to_string());

    // The owner's own orders are the phone's business: the credit rule itself holds them.
    let mut own = other;
    own.person_id = o.person_id;
    let j = judge(
        None,
        &AnyDocument::Order(o.clone()),
        &credit,
        &OpenOrders::split(&o, [own]).into(),
        Role::Rep,
        NOW,
    );
    assert!(outcomes(&j, FindingSource::Server).is_empty());
    assert_eq!(
        outcomes(&j, FindingSource::ServerData),
        [("credit_limit_exceeded", FindingOutcome::Held)]
    );

    // Already pending approval: flagged, nothing undone.
    let mut pending = o.clone();
    pending.status = OrderStatus::PendingApproval;
    let j = judge(
        None,
        &AnyDocument::Order(pending),
        &credit,
        &open.clone().into(),
        Role::Rep,
        NOW,
    );
    assert_eq!(
        outcomes(&j, FindingSource::Server),
        [("credit_combined", FindingOutcome::Flagged)]
    );
    assert_eq!(j.held, None);
}

#[test]
fn the_owners_order_from_another_phone_holds_the_later_one_too() {
    // The phone counted no open orders; the owner's other phone submitted one first.
    let mut o = order(24, 380);
    let seen = tight(snapshot(o.store_id, 0));
    o.evaluated_against = Some(submission::basis(9, NOW, Some((&seen, Money::ZERO))));
    let mut first = order(24, 380);
    first.store_id = o.store_id;
    first.person_id = o.person_id;
    let open = OpenOrders::split(&o, [first]);
    let j = judge(
        None,
        &AnyDocument::Order(o.clone()),
        &data(&o, seen, 9),
        &open.clone().into(),
        Role::Rep,
        NOW,
    );
    assert_eq!(
        outcomes(&j, FindingSource::Server),
        [("credit_combined", FindingOutcome::Held)]
    );
    assert_eq!(held_status(&j), Some(OrderStatus::PendingApproval));
}

/// A snapshot whose limit (150.00) fits one 91.20 order, not two.
fn tight(mut snapshot: CreditSnapshot) -> CreditSnapshot {
    snapshot.credit_limit = Money(15_000);
    snapshot
}

#[test]
fn a_recheck_flags_what_the_new_credit_data_finds_once() {
    use crate::verdicts::recheck::{credit_flags, AFTER_CREDIT_IMPORT};
    // A broken case pack too: a re-check after a credit import only speaks of credit.
    let o = order(5, 380);
    let on_hold = data(&o, snapshot(o.store_id, 500), 8);
    let j = credit_flags(&o, std::slice::from_ref(&o), &on_hold, &[], Role::Rep, NOW);
    assert_eq!(
        outcomes(&j, FindingSource::ServerData),
        [("overdue_receivables", FindingOutcome::Flagged)]
    );
    assert_eq!(
        j.held, None,
        "an accepted order is never held after the fact"
    );
    assert_eq!(
        j.findings[0].finding.inputs["rechecked"],
        AFTER_CREDIT_IMPORT
    );
    // Already flagged at this data version: nothing new.
    let stored =
        crate::verdicts::records(o.id, &AnyDocument::Order(o.clone()), Vec::new(), &j, NOW);
    let again = credit_flags(&o, &[], &on_hold, &stored, Role::Rep, NOW);
    assert!(again.findings.is_empty(), "{again:?}");
    // Nothing on clean data.
    let clean = data(&o, snapshot(o.store_id, 0), 9);
    assert!(credit_flags(&o, &[], &clean, &[], Role::Rep, NOW)
        .findings
        .is_empty());
}

/// Discounts: a rep 10 %, a supervisor 15 %, a manager 25 %; orders: a rep alone up to
/// 500.00, a supervisor up to 2,000.00, a manager any; written at master version `version`.
fn tiered(mut d: RuleData, version: i64) -> RuleData {
    use fieldsync_shared::tiers::{ApprovalTiers, RoleLimits};
    d.approval = Some(Versioned {
        value: ApprovalTiers {
            discount_bp: RoleLimits {
                rep: Some(1000),
                supervisor: Some(1500),
                manager: Some(2500),
            },
            order_amount: RoleLimits {
                rep: Some(Money(50_000)),
                supervisor: Some(Money(200_000)),
                manager: None,
            },
            expense_amount: RoleLimits::uniform(None),
        },
        version,
    });
    d
}

fn judged_as(o: &Order, data: &RuleData, submitter: Role) -> Judgement {
    let doc = AnyDocument::Order(o.clone());
    judge(None, &doc, data, &Elsewhere::default(), submitter, NOW)
}

#[test]
fn the_tenants_tiers_apply_with_the_submitters_role() {
    // 15 % off list (4.00): beyond a rep's 10 %, within a supervisor's 15 %.
    let o = order(24, 340);
    let d = tiered(data(&o, snapshot(o.store_id, 0), 8), 6);
    let rep = judged_as(&o, &d, Role::Rep);
    assert_eq!(
        outcomes(&rep, FindingSource::ServerData),
        [("discount_beyond_authority", FindingOutcome::Held)]
    );
    assert_eq!(held_status(&rep), Some(OrderStatus::PendingApproval));
    assert!(judged_as(&o, &d, Role::Supervisor).findings.is_empty());

    // 120 x 3.80 = 456.00 is a rep's; 144 x 3.80 = 547.20 needs a supervisor, 600 x 3.80 =
    // 2,280.00 a manager.
    assert!(judged_as(&order(120, 380), &d, Role::Rep)
        .findings
        .is_empty());
    for (quantity, approver) in [(144, "supervisor"), (600, "manager")] {
        let o = order(quantity, 380);
        let j = judged_as(&o, &d, Role::Rep);
        assert_eq!(
            outcomes(&j, FindingSource::ServerData),
            [("order_amount_needs_approval", FindingOutcome::Held)]
        );
        assert_eq!(j.findings[0].finding.inputs["approver"], approver);
        assert_eq!(held_status(&j), Some(OrderStatus::PendingApproval));
    }
    assert!(judged_as(&order(600, 380), &d, Role::Manager)
        .findings
        .is_empty());
}

#[test]
fn tiers_lowered_after_the_phones_version_are_flagged_not_held() {
    // The phone judged at master version 7 (12 % off list was within its tiers then); the
    // tenant's tiers were set at version 9.
    let mut o = order(24, 352);
    let seen = snapshot(o.store_id, 0);
    o.evaluated_against = Some(submission::basis(7, NOW, Some((&seen, Money::ZERO))));
    let j = judged(&o, &tiered(data(&o, seen.clone(), 3), 9));
    assert_eq!(
        outcomes(&j, FindingSource::ServerData),
        [("discount_beyond_authority", FindingOutcome::Flagged)]
    );
    assert_eq!(j.held, None);
    assert_eq!(
        j.findings[0].finding.inputs["device_basis"],
        "master version 7: not reconstructable (changed since)"
    );
    // A phone that had the tiers (version 9) should have known: held.
    o.evaluated_against = Some(submission::basis(9, NOW, Some((&seen, Money::ZERO))));
    let j = judged(&o, &tiered(data(&o, seen, 3), 9));
    assert_eq!(
        outcomes(&j, FindingSource::ServerData),
        [("discount_beyond_authority", FindingOutcome::Held)]
    );
}
