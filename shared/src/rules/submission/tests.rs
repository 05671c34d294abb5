use super::*;
use crate::rules::Severity;
use crate::testkit::{
    add_line, audit_line, complete_visit, credit, date, order, order_line, photo, pos, product,
    stamp, store,
};

fn products() -> BTreeMap<String, Product> {
    BTreeMap::from([("COLA-330".to_string(), product())])
}

fn codes(v: &Verdict) -> Vec<(&str, Severity)> {
    v.findings
        .iter()
        .map(|f| (f.code.as_str(), f.severity))
        .collect()
}

/// A credit order of 24 x 3.80 on 2026-11-22 for delivery on 11-25 (lead time 2 days).
fn credit_order() -> Order {
    let mut o = order();
    o.lines
        .insert("COLA-330".into(), order_line("COLA-330", 24, "3.80"));
    o
}

fn judge(o: &Order, snapshot: Option<&CreditSnapshot>) -> Verdict {
    judge_with(o, snapshot, &RuleSettings::default())
}

fn judge_with(o: &Order, snapshot: Option<&CreditSnapshot>, settings: &RuleSettings) -> Verdict {
    let shop = store();
    let products = products();
    evaluate_order(
        o,
        &OrderData {
            store: &shop,
            products: &products,
            credit: snapshot,
            open_orders: Money::ZERO,
            today: date("2026-11-22"),
        },
        settings,
    )
}

#[test]
fn a_clean_order_submits() {
    let snap = credit("1000.00", "0", "0", "2026-11-22");
    let v = judge(&credit_order(), Some(&snap));
    assert!(v.findings.is_empty(), "{v:?}");
    assert_eq!(submitted_status(&v), Some(OrderStatus::Submitted));
}

#[test]
fn every_order_rule_runs_in_one_call() {
    let mut o = credit_order();
    // Broken case pack and below the floor price, on one line.
    o.lines
        .insert("COLA-330".into(), order_line("COLA-330", 5, "2.00"));
    o.lines.insert("NOPE".into(), order_line("NOPE", 1, "1.00"));
    o.requested_delivery = date("2026-11-23");
    let overdue = credit("1000.00", "0", "5.00", "2026-11-22");
    let v = judge(&o, Some(&overdue));
    let found = codes(&v);
    for expected in [
        ("quantity_not_case_multiple", Severity::Block),
        ("price_below_floor", Severity::Block),
        ("discount_beyond_authority", Severity::NeedsApproval),
        ("unknown_product", Severity::Block),
        ("delivery_too_early", Severity::Block),
        ("overdue_receivables", Severity::Block),
    ] {
        assert!(
            found.contains(&expected),
            "{expected:?} missing in {found:?}"
        );
    }
    assert_eq!(submitted_status(&v), None);
}

#[test]
fn credit_is_judged_only_for_credit_orders() {
    let mut o = credit_order();
    o.payment = PaymentMethod::Cash;
    assert!(judge(&o, None).findings.is_empty());
    let v = judge(&credit_order(), None);
    assert_eq!(codes(&v), [("credit_unknown", Severity::NeedsApproval)]);
    assert_eq!(submitted_status(&v), Some(OrderStatus::PendingApproval));
}

#[test]
fn a_recorded_basis_replays_the_credit_rule_exactly() {
    let snap = credit("1000.00", "400.00", "0", "2026-11-20");
    let at = Timestamp(1_795_000_000_000);
    let recorded = basis(42, at, Some((&snap, money_of(300))));
    assert_eq!(recorded.master_version, 42);
    assert_eq!(recorded.rules_version, u64::from(RULES_VERSION));
    let credit = recorded.credit.as_ref().unwrap();
    let replayed = recorded_snapshot(credit, snap.store_id);
    assert_eq!(replayed, snap);
    assert_eq!(credit.open_orders, money_of(300));
    assert!(basis(1, at, None).credit.is_none());
}

fn money_of(units: i64) -> Money {
    Money(units * 100)
}

#[test]
fn a_visit_submission_blocks_on_timing_and_flags_the_rest() {
    let shop = store();
    let products = products();
    let mut v = complete_visit(1_000_000);
    v.store_id = shop.id;
    // Not checked out: blocked.
    let range = [
        crate::rules::assortment::RangeItem {
            sku: crate::testkit::sku("COLA-330"),
            safety_stock: None,
        },
        crate::rules::assortment::RangeItem {
            sku: crate::testkit::sku("TEA-500"),
            safety_stock: Some(12),
        },
    ];
    let data = VisitData {
        store: &shop,
        products: &products,
        photos_elsewhere: &[],
        range: &range,
        promotions: &[],
        success_picture: None,
    };
    let verdict = evaluate_visit(&v, &data, &RuleSettings::default());
    assert_eq!(
        codes(&verdict),
        [
            ("not_checked_out", Severity::Block),
            ("assortment_missing", Severity::Flag),
            ("assortment_missing", Severity::Flag)
        ]
    );

    // Checked out far from the store, with stale stock and a reused photo: flags only.
    v.check_out = Some(stamp(2_000_000, pos(31.3, 121.5)));
    let mut stale = audit_line("COLA-330", "MAIN-SHELF", 4, v.person_id);
    stale.oldest_production_date = Some(date("2020-01-01"));
    stale.recorded_at = Timestamp(1_795_000_000_000);
    add_line(&mut v, stale);
    let reused = photo(b"shelf", 1_000_001, v.person_id).sha256;
    let data = VisitData {
        photos_elsewhere: &[reused],
        ..data
    };
    let verdict = evaluate_visit(&v, &data, &RuleSettings::default());
    assert!(!verdict.is_blocked(), "{verdict:?}");
    let found = codes(&verdict);
    for expected in [
        ("outside_geofence", Severity::Flag),
        ("stale_stock", Severity::Flag),
        ("photo_reused", Severity::Flag),
        ("assortment_missing", Severity::Flag),
    ] {
        assert!(
            found.contains(&expected),
            "{expected:?} missing in {found:?}"
        );
    }
    // COLA-330 is on the shelf now: only TEA-500 is missing.
    let missing: Vec<_> = verdict
        .findings
        .iter()
        .filter(|f| f.code == "assortment_missing")
        .map(|f| f.field.as_deref().unwrap())
        .collect();
    assert_eq!(missing, ["assortment.TEA-500"]);
}

#[test]
fn shown_findings_keep_what_the_rep_was_told() {
    let v = judge(&credit_order(), None);
    let kept = shown(&v, Timestamp(5));
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].rule, "credit");
    assert_eq!(kept[0].severity, "needs_approval");
    assert_eq!(kept[0].code, "credit_unknown");
    assert_eq!(kept[0].at, Timestamp(5));
    assert_eq!(
        Severity::parse(&kept[0].severity),
        Some(Severity::NeedsApproval)
    );
}

/// Rep 10 %, supervisor 15 %, manager 25 %; orders: a rep alone up to 100.00, a supervisor up
/// to 500.00, a manager any.
fn tiered(role: Role) -> RuleSettings {
    use crate::tiers::RoleLimits;
    RuleSettings::with_tiers(
        ApprovalTiers {
            discount_bp: RoleLimits {
                rep: Some(1000),
                supervisor: Some(1500),
                manager: Some(2500),
            },
            order_amount: RoleLimits {
                rep: Some(Money(10_000)),
                supervisor: Some(Money(50_000)),
                manager: None,
            },
            expense_amount: RoleLimits::uniform(None),
        },
        role,
    )
}

/// A cash order of 24 x COLA-330 (list 4.00) at `price`.
fn cash_order_at(price: &str) -> Order {
    let mut o = order();
    o.payment = PaymentMethod::Cash;
    o.lines
        .insert("COLA-330".into(), order_line("COLA-330", 24, price));
    o
}

#[test]
fn discount_authority_follows_the_submitters_tier() {
    let eight = cash_order_at("3.68");
    let fifteen = cash_order_at("3.40");
    assert!(judge_with(&eight, None, &tiered(Role::Rep))
        .findings
        .is_empty());
    let rep = judge_with(&fifteen, None, &tiered(Role::Rep));
    assert_eq!(
        codes(&rep),
        [("discount_beyond_authority", Severity::NeedsApproval)]
    );
    assert_eq!(submitted_status(&rep), Some(OrderStatus::PendingApproval));
    // A supervisor's phone may give 15 %.
    assert!(judge_with(&fifteen, None, &tiered(Role::Supervisor))
        .findings
        .is_empty());
}

#[test]
fn an_order_above_the_supervisors_amount_needs_the_manager() {
    // 24 x 4.00 = 96.00: within the rep's 100.00.
    assert!(judge_with(&cash_order_at("4.00"), None, &tiered(Role::Rep))
        .findings
        .is_empty());
    let mut big = cash_order_at("4.00");
    big.lines
        .insert("COLA-330".into(), order_line("COLA-330", 240, "4.00"));
    // 960.00: above the supervisor's 500.00.
    for role in [Role::Rep, Role::Supervisor] {
        let v = judge_with(&big, None, &tiered(role));
        assert_eq!(
            codes(&v),
            [("order_amount_needs_approval", Severity::NeedsApproval)]
        );
        assert_eq!(v.findings[0].inputs["approver"], "manager");
    }
    assert!(judge_with(&big, None, &tiered(Role::Manager))
        .findings
        .is_empty());
}
