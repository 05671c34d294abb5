use super::*;
use crate::master::{AssortmentScope, Channel};
use crate::promotion::PromotionCheck;
use crate::testkit::{audit_line, date, money, sku, store, visit};
use crate::values::{AgreementCode, PromotionCode, StoreCode, Timestamp};
use crate::visit::VisitStatus;

fn walmart(code: &str) -> Store {
    let mut s = store();
    s.code = StoreCode::parse(code).unwrap();
    s.chain = Some("Walmart".into());
    s
}

fn promo(code: &str, mechanic: Mechanic, scope: AssortmentScope) -> Promotion {
    Promotion {
        code: PromotionCode::parse(code).unwrap(),
        title: code.into(),
        from: date("2027-01-01"),
        to: date("2027-12-31"),
        scope,
        skus: vec![sku("COLA-330")],
        mechanic,
        promotion_price: (mechanic == Mechanic::PriceCut).then(|| money("2.50")),
        fee: None,
    }
}

/// A visit done at `store` on `day`: SKUs on the shelf (facings > 0) or not, and checks.
fn done(store: &Store, day: &str, shelf: &[(&str, u32)], checks: &[(&str, CheckStatus)]) -> Visit {
    let mut v = visit();
    v.store_id = store.id;
    v.planned_date = date(day);
    v.status = VisitStatus::Submitted;
    for (code, facings) in shelf {
        let l = audit_line(code, "MAIN", *facings, v.person_id);
        v.audit.insert(l.key(), l);
    }
    let map = v.promotion_checks.get_or_insert_with(Default::default);
    for (code, status) in checks {
        map.insert(
            (*code).into(),
            PromotionCheck {
                status: *status,
                photos: Vec::new(),
                seen_price: None,
                note: None,
                by: v.person_id,
                at: Timestamp(1),
            },
        );
    }
    v
}

fn agreement(scope: AssortmentScope) -> Agreement {
    Agreement {
        code: AgreementCode::parse("WALMART-2027").unwrap(),
        title: "Walmart 2027".into(),
        year: 2027,
        scope,
        listed_skus: vec![sku("COLA-330"), sku("JUICE-1L"), sku("TEA-500")],
        listing_fee: Some(money("3000.00")),
        display_weeks: Some(20),
        display_fee: Some(money("5200.00")),
        shelf_position_weeks: Some(10),
        shelf_position_fee: Some(money("1000.00")),
        promotions: Some(4),
        promotion_fee: Some(money("2000.00")),
    }
}

fn term(c: &AgreementCheck, t: Term) -> &TermProgress {
    c.terms.iter().find(|x| x.term == t).expect("the term")
}

#[test]
fn days_elapsed_count_both_ends_and_clamp_to_the_year() {
    assert_eq!(elapsed(2027, date("2027-01-01")), (1, 365));
    assert_eq!(elapsed(2027, date("2027-03-31")), (90, 365));
    assert_eq!(elapsed(2028, date("2028-12-31")), (366, 366), "leap year");
    assert_eq!(
        elapsed(2027, date("2026-12-31")),
        (0, 365),
        "before the year"
    );
    assert_eq!(elapsed(2027, date("2030-06-01")), (365, 365), "after it");
}

/// A Walmart NKA agreement checked on 31 March 2027 (90 of 365 days), worked by hand:
///
/// * listing, 3 SKUs, 3 000.00: store A's latest audit (1 March) shows COLA only (TEA at 0
///   facings, its earlier audit does not count), store B's shows all 3: 4 of 6, a mean of 2.0
///   SKUs, behind; at risk 3 000.00 × 2/6 = 1 000.00.
/// * display, 20 weeks, 5 200.00: W01 in place at A and partly at B (1), W05 partly (1/2),
///   W09 in place (1): 2.5 weeks against 20 × 90/365 = 4.93 expected, behind; at risk
///   520 000 × (3 600 − 1 825) / 14 600 = 63 219 (632.19).
/// * shelf position, 10 weeks, 1 000.00: nothing checked, not recorded; at risk
///   100 000 × 1 800 / 7 300 = 24 657 (246.57).
/// * promotions, 4, 2 000.00: CUT in place (twice: one promotion), GIFT not in place: 1
///   against 4 × 90/365 = 0.98 (rounded down), on track, nothing at risk.
///
/// Ignored: another chain's store and its in-place endcap, a visit in progress, a visit after
/// the day, a visit of the year before.
#[test]
fn a_chain_agreement_on_31_march_with_known_answers() {
    let (a, b) = (walmart("NKA-A"), walmart("NKA-B"));
    let mut other = walmart("NKA-X");
    other.chain = Some("Carrefour".into());
    let chain = AssortmentScope::Chain {
        chain: "Walmart".into(),
        channel: Channel::Nka,
    };
    let promotions = [
        promo("ENDCAP", Mechanic::Endcap, chain.clone()),
        promo(
            "STAND-X",
            Mechanic::FloorStand,
            AssortmentScope::Store(other.id),
        ),
        promo("CUT", Mechanic::PriceCut, chain.clone()),
        promo(
            "GIFT",
            Mechanic::Gift,
            AssortmentScope::Channel(Channel::Nka),
        ),
    ];
    use CheckStatus::*;
    let mut open = done(&a, "2027-03-02", &[("JUICE-1L", 5)], &[("ENDCAP", InPlace)]);
    open.status = VisitStatus::InProgress;
    let visits = [
        done(
            &a,
            "2027-01-10",
            &[("COLA-330", 4), ("TEA-500", 2)],
            &[("ENDCAP", InPlace)],
        ),
        done(&b, "2027-01-09", &[], &[("ENDCAP", Partly)]),
        done(
            &b,
            "2027-02-02",
            &[("COLA-330", 1), ("TEA-500", 1), ("JUICE-1L", 1)],
            &[("ENDCAP", Partly), ("GIFT", NotInPlace), ("CUT", InPlace)],
        ),
        done(
            &a,
            "2027-03-01",
            &[("COLA-330", 3), ("TEA-500", 0)],
            &[("ENDCAP", InPlace), ("CUT", InPlace)],
        ),
        done(
            &other,
            "2027-01-20",
            &[("COLA-330", 9)],
            &[("STAND-X", InPlace)],
        ),
        open,
        done(&a, "2027-04-01", &[("JUICE-1L", 5)], &[("ENDCAP", InPlace)]),
        done(&a, "2026-12-30", &[], &[("ENDCAP", InPlace)]),
    ];
    let c = check(
        &agreement(chain),
        &[a.clone(), b.clone(), other],
        &visits,
        &promotions,
        date("2027-03-31"),
    );
    assert_eq!((c.days_elapsed, c.days_in_year), (90, 365));
    assert_eq!((c.stores, c.stores_audited, c.visits), (2, 2, 4));

    let l = term(&c, Term::Listing);
    assert_eq!((l.agreed, l.recorded, l.expected), (3, 2.0, 3.0));
    assert_eq!((l.recorded_bp, l.expected_bp), (6666, 10_000));
    assert_eq!(l.status, TermStatus::Behind);
    assert_eq!(l.fee_at_risk, money("1000.00"));

    let d = term(&c, Term::DisplayWeeks);
    assert_eq!((d.agreed, d.recorded, d.expected), (20, 2.5, 4.93));
    assert_eq!((d.recorded_bp, d.expected_bp), (1250, 2465));
    assert_eq!(d.status, TermStatus::Behind);
    assert_eq!(d.fee_at_risk, money("632.19"));

    let s = term(&c, Term::ShelfPositionWeeks);
    assert_eq!((s.recorded, s.status), (0.0, TermStatus::NotRecorded));
    assert_eq!(s.fee_at_risk, money("246.57"));

    let p = term(&c, Term::Promotions);
    assert_eq!((p.agreed, p.recorded, p.expected), (4, 1.0, 0.98));
    assert_eq!(p.status, TermStatus::OnTrack);
    assert_eq!(p.fee_at_risk, Money::ZERO);

    let order: Vec<Term> = c.terms.iter().map(|t| t.term).collect();
    assert_eq!(order, Term::ALL);
    assert_eq!(c.fee, money("11200.00"));
    assert_eq!(c.fee_at_risk, money("1878.76"));
}

/// One store, only display weeks agreed: 2 weeks, both recorded in January, is met on any
/// later day; the terms not agreed are absent. Without any visit, the listing of another
/// agreement is not recorded and its whole fee is at risk.
#[test]
fn a_store_agreement_met_and_an_agreement_without_visits() {
    let shop = walmart("NKA-A");
    let scope = AssortmentScope::Store(shop.id);
    let mut one = agreement(scope.clone());
    one.listed_skus.clear();
    one.listing_fee = None;
    one.shelf_position_weeks = None;
    one.promotions = None;
    one.display_weeks = Some(2);
    let promotions = [promo("ENDCAP", Mechanic::Endcap, scope.clone())];
    let visits = [
        done(
            &shop,
            "2027-01-05",
            &[],
            &[("ENDCAP", CheckStatus::InPlace)],
        ),
        done(
            &shop,
            "2027-01-12",
            &[],
            &[("ENDCAP", CheckStatus::InPlace)],
        ),
    ];
    let c = check(
        &one,
        std::slice::from_ref(&shop),
        &visits,
        &promotions,
        date("2027-06-30"),
    );
    assert_eq!(c.terms.len(), 1);
    let d = &c.terms[0];
    assert_eq!(
        (d.term, d.status, d.recorded),
        (Term::DisplayWeeks, TermStatus::Met, 2.0)
    );
    assert_eq!((d.fee, d.fee_at_risk), (money("5200.00"), Money::ZERO));

    let c = check(&agreement(scope), &[shop], &[], &[], date("2027-12-31"));
    let l = term(&c, Term::Listing);
    assert_eq!((l.status, l.recorded), (TermStatus::NotRecorded, 0.0));
    assert_eq!(l.fee_at_risk, money("3000.00"));
    let d = term(&c, Term::DisplayWeeks);
    assert_eq!(
        d.fee_at_risk,
        money("5200.00"),
        "the whole year expected, none recorded"
    );
    assert_eq!(c.fee_at_risk, c.fee);
}

/// Before the year nothing is expected: a term not recorded has nothing at risk.
#[test]
fn nothing_is_at_risk_on_the_first_day() {
    let shop = walmart("NKA-A");
    let mut a = agreement(AssortmentScope::Store(shop.id));
    a.listed_skus.clear();
    let c = check(&a, &[shop], &[], &[], date("2026-12-31"));
    assert_eq!(c.days_elapsed, 0);
    assert!(c
        .terms
        .iter()
        .all(|t| t.fee_at_risk == Money::ZERO && t.expected == 0.0));
}
