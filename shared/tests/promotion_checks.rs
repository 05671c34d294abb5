//! The visit's `promotion_checks` map (schema 2) in the Automerge document: created with a new
//! visit, never by a device edit of a visit written before it (schema 1: the server adds it,
//! `server/src/sync/upgrade.rs`); kept by code that does not know it; checks of two
//! promotions made at once on two devices both kept.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ReadDoc, ROOT};
use autosurgeon::{Hydrate, Reconcile};
use fieldsync_shared::document::{hydrate_visit, new_document, reconcile_visit};
use fieldsync_shared::promotion::{CheckStatus, PromotionCheck};
use fieldsync_shared::values::{Date, DocId, Money, Sha256, StoreId, Timestamp, UserId};
use fieldsync_shared::visit::{AuditLine, StepRecord, Visit, VisitStatus, VISIT_SCHEMA_VERSION};

fn actor(n: u8) -> ActorId {
    ActorId::from([n; 16])
}

fn edit(doc: &mut AutoCommit, f: impl FnOnce(&mut Visit)) {
    let mut visit = hydrate_visit(doc).unwrap();
    f(&mut visit);
    reconcile_visit(doc, &visit).unwrap();
    doc.commit();
}

fn new_visit(schema_1: bool) -> AutoCommit {
    let mut doc = new_document(actor(1));
    let mut visit = Visit::new(
        DocId::new_random(),
        StoreId::new_random(),
        UserId::new_random(),
        Date::parse("2026-12-07").unwrap(),
    );
    if schema_1 {
        // As the current (schema 1) app writes it: no map.
        visit.schema = 1;
        visit.promotion_checks = None;
    }
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    doc
}

fn check(status: CheckStatus, at: i64) -> PromotionCheck {
    PromotionCheck {
        status,
        photos: vec![Sha256::digest(b"endcap")],
        seen_price: Some(Money(350)),
        note: None,
        by: UserId::new_random(),
        at: Timestamp(at),
    }
}

fn checks_of(doc: &AutoCommit) -> BTreeMap<String, PromotionCheck> {
    hydrate_visit(doc).unwrap().promotion_checks.expect("a map")
}

#[test]
fn a_new_visit_has_the_map_and_a_device_edit_of_an_older_one_never_creates_it() {
    const { assert!(VISIT_SCHEMA_VERSION >= 2) };
    let doc = new_visit(false);
    assert!(doc.get(ROOT, "promotion_checks").unwrap().is_some());
    assert_eq!(checks_of(&doc), BTreeMap::new());

    let mut older = new_visit(true);
    assert_eq!(hydrate_visit(&older).unwrap().promotion_checks, None);
    edit(&mut older, |v| v.status = VisitStatus::InProgress);
    assert!(older.get(ROOT, "promotion_checks").unwrap().is_none());
}

/// The part of a visit an app that does not know `promotion_checks` edits, through the same
/// typed reconcile as every app.
#[derive(Debug, Clone, Reconcile, Hydrate)]
struct OlderVisit {
    schema: u64,
    status: VisitStatus,
    steps: BTreeMap<String, StepRecord>,
    audit: BTreeMap<String, AuditLine>,
}

#[test]
fn code_that_does_not_know_the_map_keeps_it_when_it_edits_the_visit() {
    let mut doc = new_visit(false);
    edit(&mut doc, |v| {
        v.promotion_checks
            .as_mut()
            .unwrap()
            .insert("CNY-ENDCAP".into(), check(CheckStatus::NotInPlace, 5));
    });
    let before = checks_of(&doc);
    let mut older: OlderVisit = autosurgeon::hydrate(&doc).unwrap();
    older.status = VisitStatus::InProgress;
    older.audit.clear();
    autosurgeon::reconcile(&mut doc, &older).unwrap();
    doc.commit();
    let after = hydrate_visit(&doc).unwrap();
    assert_eq!(
        after.status,
        VisitStatus::InProgress,
        "the older app's edit"
    );
    assert_eq!(
        after.promotion_checks,
        Some(before),
        "the map it did not know"
    );
}

#[test]
fn checks_of_two_promotions_made_at_once_are_both_kept_and_a_recheck_replaces_one() {
    let mut doc = new_visit(false);
    let mut a = doc.fork().with_actor(actor(2));
    let mut b = doc.fork().with_actor(actor(3));
    let endcap = check(CheckStatus::NotInPlace, 10);
    let cut = check(CheckStatus::InPlace, 11);
    edit(&mut a, |v| {
        v.promotion_checks
            .as_mut()
            .unwrap()
            .insert("CNY-ENDCAP".into(), endcap.clone());
    });
    edit(&mut b, |v| {
        v.promotion_checks
            .as_mut()
            .unwrap()
            .insert("COLA-CUT".into(), cut.clone());
    });
    a.merge(&mut b.clone()).unwrap();
    b.merge(&mut a.clone()).unwrap();
    let merged = checks_of(&a);
    assert_eq!(merged, checks_of(&b));
    assert_eq!(
        merged,
        BTreeMap::from([
            ("CNY-ENDCAP".to_string(), endcap),
            ("COLA-CUT".to_string(), cut.clone())
        ])
    );

    // A re-check replaces the record whole: nothing of the first (its photo) stays.
    let recheck = PromotionCheck {
        photos: Vec::new(),
        seen_price: None,
        ..check(CheckStatus::InPlace, 20)
    };
    edit(&mut a, |v| {
        v.promotion_checks
            .as_mut()
            .unwrap()
            .insert("CNY-ENDCAP".into(), recheck.clone());
    });
    assert_eq!(checks_of(&a)["CNY-ENDCAP"], recheck);
    assert_eq!(checks_of(&a)["COLA-CUT"], cut);
}

#[test]
fn a_check_keyed_by_anything_but_its_code_is_refused() {
    let mut doc = new_visit(false);
    edit(&mut doc, |v| {
        v.promotion_checks
            .as_mut()
            .unwrap()
            .insert("not a code".into(), check(CheckStatus::InPlace, 1));
    });
    assert!(hydrate_visit(&doc).is_err());
}

/// Checks are edited like the audit: by the visit's owner or a colleague covering the store
/// while the visit is open; refused once submitted or approved, and to anyone else.
#[test]
fn checks_are_edited_like_the_audit() {
    use fieldsync_shared::org::{Editor, Relation, Role};
    use fieldsync_shared::policy::{check_visit, Field};
    let cases: &[(Role, Relation, VisitStatus, &[&str])] = &[
        (Role::Rep, Relation::Author, VisitStatus::InProgress, &[]),
        (
            Role::Merchandiser,
            Relation::Colleague,
            VisitStatus::CheckedOut,
            &[],
        ),
        (Role::Rep, Relation::Author, VisitStatus::Rejected, &[]),
        (
            Role::Supervisor,
            Relation::TeamSupervisor,
            VisitStatus::InProgress,
            &["not_author_or_colleague"],
        ),
        (
            Role::Admin,
            Relation::Other,
            VisitStatus::Planned,
            &["not_author_or_colleague"],
        ),
        (
            Role::Rep,
            Relation::Author,
            VisitStatus::Submitted,
            &["visit_submitted"],
        ),
        (
            Role::Merchandiser,
            Relation::Colleague,
            VisitStatus::Approved,
            &["visit_frozen"],
        ),
    ];
    for &(role, relation, status, expected) in cases {
        let mut before = hydrate_visit(&new_visit(false)).unwrap();
        before.status = status;
        let mut after = before.clone();
        after
            .promotion_checks
            .as_mut()
            .unwrap()
            .insert("CNY-ENDCAP".into(), check(CheckStatus::InPlace, 7));
        let editor = Editor {
            user_id: before.person_id,
            role,
            relation,
        };
        let refusals = check_visit(&editor, Some(&before), &after);
        let codes: Vec<&str> = refusals.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, expected, "{role:?} {relation:?} {status}");
        assert!(refusals.iter().all(|r| r.field == Field::Audit));
    }
}
