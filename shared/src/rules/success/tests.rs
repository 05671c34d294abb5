use super::*;
use crate::master::{AssortmentScope, Channel, PointKind, Store};
use crate::testkit::{sku, store};
use crate::values::{PictureCode, PointCode, Sha256, StoreId, Timestamp, UserId};

fn point(code: &str, weight: u32) -> SuccessPoint {
    SuccessPoint {
        code: PointCode::parse(code).unwrap(),
        label: format!("{code} label"),
        kind: PointKind::ShelfBlocking,
        weight,
        sku: None,
    }
}

fn picture(code: &str, scope: AssortmentScope, points: Vec<SuccessPoint>) -> SuccessPicture {
    SuccessPicture {
        code: PictureCode::parse(code).unwrap(),
        title: format!("{code} title"),
        scope,
        points,
        reference_photos: vec![Sha256::digest(b"reference")],
    }
}

fn scored(status: ScoreStatus, photos: &[&[u8]]) -> SuccessScore {
    SuccessScore {
        status,
        photos: photos.iter().map(|b| Sha256::digest(b)).collect(),
        note: None,
        by: UserId::new_random(),
        at: Timestamp(2_000),
    }
}

fn scores(list: &[(&str, SuccessScore)]) -> BTreeMap<String, SuccessScore> {
    list.iter()
        .map(|(code, s)| (code.to_string(), s.clone()))
        .collect()
}

fn codes(r: &SuccessResult) -> Vec<(&str, &str)> {
    r.verdict
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.field.as_deref().unwrap()))
        .collect()
}

#[test]
fn the_most_specific_picture_names_the_store() {
    let mut s = store();
    s.chain = Some("Walmart".into());
    let channel = picture(
        "NKA",
        AssortmentScope::Channel(Channel::Nka),
        vec![point("A", 1)],
    );
    let chain = picture(
        "WALMART",
        AssortmentScope::Chain {
            chain: "Walmart".into(),
            channel: Channel::Nka,
        },
        vec![point("A", 1)],
    );
    let own = picture("OWN", AssortmentScope::Store(s.id), vec![point("A", 1)]);
    let other_store = picture(
        "OTHER",
        AssortmentScope::Store(StoreId::new_random()),
        vec![point("A", 1)],
    );
    let other_chain = picture(
        "CARREFOUR",
        AssortmentScope::Chain {
            chain: "Carrefour".into(),
            channel: Channel::Nka,
        },
        vec![point("A", 1)],
    );
    let lka = picture(
        "LKA",
        AssortmentScope::Channel(Channel::Lka),
        vec![point("A", 1)],
    );
    let code_for =
        |s: &Store, all: &[SuccessPicture]| picture_for(s, all).map(|p| p.code.to_string());
    let code = |all: &[SuccessPicture]| code_for(&s, all);

    let all = [
        channel.clone(),
        chain.clone(),
        own.clone(),
        other_store.clone(),
        other_chain.clone(),
        lka.clone(),
    ];
    assert_eq!(code(&all).as_deref(), Some("OWN"));
    assert_eq!(code(&all[..2]).as_deref(), Some("WALMART"));
    assert_eq!(
        code(&[other_chain.clone(), channel.clone()]).as_deref(),
        Some("NKA")
    );
    assert_eq!(code(&[other_store, other_chain, lka]), None);
    // The store without a chain: its channel's.
    let mut no_chain = s.clone();
    no_chain.chain = None;
    assert_eq!(
        code_for(&no_chain, &[chain, channel]).as_deref(),
        Some("NKA")
    );
}

#[test]
fn the_score_weighs_met_partly_and_missed_points() {
    // Weights 50 met, 30 partly, 20 not met: (50 + 15) / 100 = 6 500 bp.
    let pic = picture(
        "P",
        AssortmentScope::Channel(Channel::Nka),
        vec![point("BLOCK", 50), point("EYE", 30), point("TAG", 20)],
    );
    let r = check(
        Some(&pic),
        &scores(&[
            ("BLOCK", scored(ScoreStatus::Met, &[])),
            ("EYE", scored(ScoreStatus::Partly, &[])),
            ("TAG", scored(ScoreStatus::NotMet, &[b"tag"])),
        ]),
    );
    assert_eq!(r.score_bp, Some(6_500));
    assert_eq!(codes(&r), vec![(POINT_MISSED, "success.TAG")]);
    let missed = &r.verdict.findings[0];
    assert_eq!(missed.severity, Severity::Flag);
    assert_eq!(missed.rule, RuleId::Success);
    assert_eq!(missed.inputs["photos"], Sha256::digest(b"tag").to_string());
    assert_eq!(missed.inputs["picture"], "P");
    assert_eq!(missed.inputs["weight"], "20");
    assert_eq!(missed.inputs["score_bp"], "6500");
    assert_eq!(missed.inputs["scored_at"], "2000");

    // Weights 3, 3, 1; one 3 partly, the others not scored: 1.5 / 7 = 2 142.8 -> 2 142 bp.
    let pic = picture(
        "Q",
        AssortmentScope::Channel(Channel::Nka),
        vec![point("A", 3), point("B", 3), point("C", 1)],
    );
    let r = check(
        Some(&pic),
        &scores(&[
            ("B", scored(ScoreStatus::Partly, &[])),
            // A score of a point the picture no longer has counts for nothing.
            ("GONE", scored(ScoreStatus::Met, &[])),
        ]),
    );
    assert_eq!(r.score_bp, Some(2_142));
    assert_eq!(
        codes(&r),
        vec![(NOT_SCORED, "success.A"), (NOT_SCORED, "success.C")]
    );
    assert_eq!(r.items.len(), 3);
    assert_eq!(
        r.items[1].score.as_ref().unwrap().status,
        ScoreStatus::Partly
    );

    // Everything met: 10 000, no finding.
    let all_met = scores(&[
        ("A", scored(ScoreStatus::Met, &[])),
        ("B", scored(ScoreStatus::Met, &[])),
        ("C", scored(ScoreStatus::Met, &[])),
    ]);
    let r = check(Some(&pic), &all_met);
    assert_eq!(r.score_bp, Some(10_000));
    assert!(r.verdict.findings.is_empty());

    // Nothing scored: 0, every point not scored.
    let r = check(Some(&pic), &BTreeMap::new());
    assert_eq!(r.score_bp, Some(0));
    assert_eq!(r.verdict.findings.len(), 3);
}

#[test]
fn no_picture_no_score_and_no_finding() {
    let r = check(None, &scores(&[("A", scored(ScoreStatus::NotMet, &[]))]));
    assert_eq!(r.score_bp, None);
    assert!(r.items.is_empty());
    assert!(r.verdict.findings.is_empty());
    // The eye-level SKU travels with the point.
    let mut p = point("EYE", 10);
    p.kind = PointKind::EyeLevel;
    p.sku = Some(sku("COLA-330"));
    let pic = picture("P", AssortmentScope::Channel(Channel::Nka), vec![p.clone()]);
    assert_eq!(check(Some(&pic), &BTreeMap::new()).items[0].point, p);
}

#[test]
fn the_submission_rules_include_the_picture() {
    use crate::rules::submission::{evaluate_visit, RuleSettings, VisitData};
    let s = store();
    let mut v = crate::testkit::complete_visit(1_000_000);
    v.store_id = s.id;
    let pic = picture(
        "P",
        AssortmentScope::Store(s.id),
        vec![point("A", 1), point("B", 1)],
    );
    v.success_scores
        .as_mut()
        .unwrap()
        .insert("A".into(), scored(ScoreStatus::NotMet, &[b"shelf"]));
    let products = BTreeMap::new();
    let data = VisitData {
        store: &s,
        products: &products,
        photos_elsewhere: &[],
        range: &[],
        promotions: &[],
        success_picture: Some(&pic),
    };
    let verdict = evaluate_visit(&v, &data, &RuleSettings::default());
    let success: Vec<&str> = verdict
        .findings
        .iter()
        .filter(|f| f.rule == RuleId::Success)
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(success, [POINT_MISSED, NOT_SCORED]);
}
