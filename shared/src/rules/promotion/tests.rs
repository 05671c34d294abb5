use super::*;
use crate::master::{AssortmentScope, Channel, Mechanic};
use crate::testkit::{audit_line, date, money, sku, store};
use crate::values::{PromotionCode, Sha256, StoreId, Timestamp, UserId};

fn promo(code: &str, scope: AssortmentScope, from: &str, to: &str) -> Promotion {
    Promotion {
        code: PromotionCode::parse(code).unwrap(),
        title: format!("{code} title"),
        from: date(from),
        to: date(to),
        scope,
        skus: vec![sku("COLA-330")],
        mechanic: Mechanic::Endcap,
        promotion_price: None,
        fee: None,
    }
}

fn price_cut(code: &str, price: &str) -> Promotion {
    Promotion {
        mechanic: Mechanic::PriceCut,
        promotion_price: Some(money(price)),
        skus: vec![sku("COLA-330"), sku("COLA-500")],
        ..promo(
            code,
            AssortmentScope::Channel(Channel::Nka),
            "2026-12-01",
            "2026-12-31",
        )
    }
}

fn checked(status: CheckStatus, photos: &[&[u8]], seen: Option<&str>) -> PromotionCheck {
    PromotionCheck {
        status,
        photos: photos.iter().map(|b| Sha256::digest(b)).collect(),
        seen_price: seen.map(money),
        note: None,
        by: UserId::new_random(),
        at: Timestamp(1_000),
    }
}

fn checks(list: &[(&str, PromotionCheck)]) -> BTreeMap<String, PromotionCheck> {
    list.iter()
        .map(|(code, c)| (code.to_string(), c.clone()))
        .collect()
}

fn codes(c: &Compliance) -> Vec<(&str, &str)> {
    c.verdict
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.field.as_deref().unwrap()))
        .collect()
}

#[test]
fn the_stores_promotions_running_on_the_day_by_code() {
    let shop = Store {
        chain: Some("Walmart".into()),
        ..store() // NKA
    };
    let walmart = AssortmentScope::Chain {
        chain: "Walmart".into(),
        channel: Channel::Nka,
    };
    let all = [
        promo(
            "Z-STORE",
            AssortmentScope::Store(shop.id),
            "2026-12-01",
            "2026-12-07",
        ),
        promo("A-CHAIN", walmart.clone(), "2026-12-07", "2026-12-20"),
        promo(
            "M-CHANNEL",
            AssortmentScope::Channel(Channel::Nka),
            "2026-11-01",
            "2027-01-31",
        ),
        // Not running on the 7th, or not this store's.
        promo(
            "ENDED",
            AssortmentScope::Store(shop.id),
            "2026-11-01",
            "2026-12-06",
        ),
        promo(
            "LATER",
            AssortmentScope::Store(shop.id),
            "2026-12-08",
            "2026-12-31",
        ),
        promo(
            "LKA",
            AssortmentScope::Channel(Channel::Lka),
            "2026-12-01",
            "2026-12-31",
        ),
        promo(
            "OTHER",
            AssortmentScope::Store(StoreId::new_random()),
            "2026-12-01",
            "2026-12-31",
        ),
    ];
    let on = |day: &str, s: &Store| -> Vec<String> {
        active_at(s, date(day), &all)
            .into_iter()
            .map(|p| p.code.to_string())
            .collect()
    };
    // Both ends of the period count.
    assert_eq!(on("2026-12-07", &shop), ["A-CHAIN", "M-CHANNEL", "Z-STORE"]);
    assert_eq!(on("2026-12-06", &shop), ["ENDED", "M-CHANNEL", "Z-STORE"]);
    assert_eq!(on("2026-12-08", &shop), ["A-CHAIN", "LATER", "M-CHANNEL"]);
    // A store of no chain does not run the chain's.
    let plain = Store {
        chain: None,
        ..shop.clone()
    };
    assert_eq!(on("2026-12-07", &plain), ["M-CHANNEL", "Z-STORE"]);
}

#[test]
fn compliance_counts_in_place_one_partly_a_half_and_not_checked_nothing() {
    let nka = AssortmentScope::Channel(Channel::Nka);
    let active = [
        promo("P1", nka.clone(), "2026-12-01", "2026-12-31"),
        promo("P2", nka.clone(), "2026-12-01", "2026-12-31"),
        promo("P3", nka.clone(), "2026-12-01", "2026-12-31"),
        promo("P4", nka, "2026-12-01", "2026-12-31"),
    ];
    let c = check(
        &active,
        &checks(&[
            ("P1", checked(CheckStatus::InPlace, &[], None)),
            ("P2", checked(CheckStatus::Partly, &[], None)),
            (
                "P3",
                checked(CheckStatus::NotInPlace, &[b"empty endcap"], None),
            ),
            // A check of a promotion not running: no concern of the rule.
            ("GONE", checked(CheckStatus::InPlace, &[], None)),
        ]),
        &BTreeMap::new(),
    );
    // (1 + 1/2 + 0 + 0) / 4 = 3/8 = 3 750 bp.
    assert_eq!(c.compliance_bp, Some(3_750));
    assert_eq!(c.items.len(), 4);
    assert!(c.items[3].check.is_none());
    assert_eq!(
        codes(&c),
        [
            (NOT_IN_PLACE, "promotions.P3"),
            (NOT_CHECKED, "promotions.P4")
        ]
    );
    let not_in_place = &c.verdict.findings[0];
    assert_eq!(not_in_place.rule, RuleId::Promotion);
    assert_eq!(not_in_place.severity, Severity::Flag);
    assert_eq!(
        not_in_place.inputs["photos"],
        Sha256::digest(b"empty endcap").to_string()
    );
    assert_eq!(not_in_place.inputs["compliance_bp"], "3750");
    assert_eq!(not_in_place.inputs["mechanic"], "endcap");
    assert!(!c.verdict.is_blocked());

    // Three in place of three, rounded: 10 000; one partly of three: 1/6 = 1 666.
    let three = &active[..3];
    let all_in = checks(&[
        ("P1", checked(CheckStatus::InPlace, &[], None)),
        ("P2", checked(CheckStatus::InPlace, &[], None)),
        ("P3", checked(CheckStatus::InPlace, &[], None)),
    ]);
    let c = check(three, &all_in, &BTreeMap::new());
    assert_eq!(
        (c.compliance_bp, c.verdict.findings.len()),
        (Some(10_000), 0)
    );
    let one_partly = checks(&[("P2", checked(CheckStatus::Partly, &[], None))]);
    assert_eq!(
        check(three, &one_partly, &BTreeMap::new()).compliance_bp,
        Some(1_666)
    );
    // Nothing running: no compliance, no findings.
    let none = check(&[], &all_in, &BTreeMap::new());
    assert_eq!((none.compliance_bp, none.verdict.findings.len()), (None, 0));
}

#[test]
fn a_shelf_price_above_the_promotion_price_is_a_mismatch() {
    let by = UserId::new_random();
    let line = |s: &str, loc: &str, price: Option<&str>| {
        let mut l = audit_line(s, loc, 3, by);
        l.shelf_price = price.map(money);
        (l.key(), l)
    };
    let cut = [price_cut("CUT", "3.50")];
    let in_place = |seen| checks(&[("CUT", checked(CheckStatus::InPlace, &[], seen))]);
    let mismatch = |c: &Compliance| -> Option<(String, String, String)> {
        c.verdict
            .findings
            .iter()
            .find(|f| f.code == PRICE_MISMATCH)
            .map(|f| {
                (
                    f.inputs["seen_price"].clone(),
                    f.inputs["seen_in"].clone(),
                    f.field.clone().unwrap(),
                )
            })
    };
    // The check saw 3.90 > 3.50.
    let c = check(&cut, &in_place(Some("3.90")), &BTreeMap::new());
    assert_eq!(
        mismatch(&c),
        Some(("390".into(), "check".into(), "promotions.CUT.price".into()))
    );
    assert_eq!(c.compliance_bp, Some(10_000), "the check's status stands");
    // At the promotion price, or below: no mismatch.
    assert_eq!(
        mismatch(&check(&cut, &in_place(Some("3.50")), &BTreeMap::new())),
        None
    );
    assert_eq!(
        mismatch(&check(&cut, &in_place(Some("2.99")), &BTreeMap::new())),
        None
    );

    // The audit: COLA-500 at 4.20 on the endcap (one of the promotion's SKUs), COLA-330 at the
    // price, TEA-500 (not the promotion's) far above; the highest of its SKUs is reported.
    let audit: BTreeMap<_, _> = [
        line("COLA-330", "MAIN-SHELF", Some("3.50")),
        line("COLA-500", "ENDCAP", Some("4.20")),
        line("COLA-500", "MAIN-SHELF", None),
        line("TEA-500", "MAIN-SHELF", Some("9.90")),
    ]
    .into_iter()
    .collect();
    let c = check(&cut, &in_place(Some("3.50")), &audit);
    assert_eq!(
        mismatch(&c),
        Some((
            "420".into(),
            "COLA-500@ENDCAP".into(),
            "promotions.CUT.price".into()
        ))
    );
    // Not even checked: the audit alone says it, next to the missing check.
    let c = check(&cut, &BTreeMap::new(), &audit);
    assert_eq!(
        codes(&c),
        [
            (NOT_CHECKED, "promotions.CUT"),
            (PRICE_MISMATCH, "promotions.CUT.price")
        ]
    );
    // A mechanic without a promotion price has no price to miss.
    let endcap = [promo(
        "END",
        AssortmentScope::Channel(Channel::Nka),
        "2026-12-01",
        "2026-12-31",
    )];
    let c = check(
        &endcap,
        &checks(&[("END", checked(CheckStatus::InPlace, &[], Some("99.00")))]),
        &audit,
    );
    assert!(c.verdict.findings.is_empty());
}
