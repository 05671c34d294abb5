//! The visit's `success_scores` map (schema 3, docs/picture-of-success.md) in the Automerge
//! document: created with a new visit, never by a device edit of a visit written before it
//! (schema 2: the server adds it, `server/src/sync/upgrade.rs`); kept by code that does not
//! know it (an app of schema 2); scores of two points made at once on two devices both kept.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ReadDoc, ROOT};
use autosurgeon::{Hydrate, Reconcile};
use fieldsync_shared::document::{hydrate_visit, new_document, reconcile_visit};
use fieldsync_shared::success::{ScoreStatus, SuccessScore};
use fieldsync_shared::values::{Date, DocId, Sha256, ShortText, StoreId, Timestamp, UserId};
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

fn new_visit(schema_2: bool) -> AutoCommit {
    let mut doc = new_document(actor(1));
    let mut visit = Visit::new(
        DocId::new_random(),
        StoreId::new_random(),
        UserId::new_random(),
        Date::parse("2026-12-07").unwrap(),
    );
    if schema_2 {
        // As the schema 2 app writes it: no map.
        visit.schema = 2;
        visit.success_scores = None;
    }
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    doc
}

fn score(status: ScoreStatus, at: i64) -> SuccessScore {
    SuccessScore {
        status,
        photos: vec![Sha256::digest(b"shelf")],
        note: Some(ShortText::parse("cola block broken").unwrap()),
        by: UserId::new_random(),
        at: Timestamp(at),
    }
}

fn scores_of(doc: &AutoCommit) -> BTreeMap<String, SuccessScore> {
    hydrate_visit(doc).unwrap().success_scores.expect("a map")
}

#[test]
fn a_new_visit_has_the_map_and_a_device_edit_of_an_older_one_never_creates_it() {
    assert_eq!(VISIT_SCHEMA_VERSION, 3);
    let doc = new_visit(false);
    assert!(doc.get(ROOT, "success_scores").unwrap().is_some());
    assert_eq!(scores_of(&doc), BTreeMap::new());

    let mut older = new_visit(true);
    assert_eq!(hydrate_visit(&older).unwrap().success_scores, None);
    edit(&mut older, |v| v.status = VisitStatus::InProgress);
    assert!(older.get(ROOT, "success_scores").unwrap().is_none());
}

/// The part of a visit an app of schema 2 (that does not know `success_scores`) edits, through the same
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
        v.success_scores
            .as_mut()
            .unwrap()
            .insert("COLA-BLOCK".into(), score(ScoreStatus::NotMet, 5));
    });
    let before = scores_of(&doc);
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
        after.success_scores,
        Some(before),
        "the map it did not know"
    );
}

#[test]
fn scores_of_two_points_made_at_once_are_both_kept_and_a_rescore_replaces_one() {
    let mut doc = new_visit(false);
    let mut a = doc.fork().with_actor(actor(2));
    let mut b = doc.fork().with_actor(actor(3));
    let block = score(ScoreStatus::NotMet, 10);
    let tags = score(ScoreStatus::Met, 11);
    edit(&mut a, |v| {
        v.success_scores
            .as_mut()
            .unwrap()
            .insert("COLA-BLOCK".into(), block.clone());
    });
    edit(&mut b, |v| {
        v.success_scores
            .as_mut()
            .unwrap()
            .insert("PRICE-TAGS".into(), tags.clone());
    });
    a.merge(&mut b.clone()).unwrap();
    b.merge(&mut a.clone()).unwrap();
    let merged = scores_of(&a);
    assert_eq!(merged, scores_of(&b));
    assert_eq!(
        merged,
        BTreeMap::from([
            ("COLA-BLOCK".to_string(), block),
            ("PRICE-TAGS".to_string(), tags.clone())
        ])
    );

    // A re-score replaces the record whole: nothing of the first (its photo, its note) stays.
    let rescore = SuccessScore {
        photos: Vec::new(),
        note: None,
        ..score(ScoreStatus::Met, 20)
    };
    edit(&mut a, |v| {
        v.success_scores
            .as_mut()
            .unwrap()
            .insert("COLA-BLOCK".into(), rescore.clone());
    });
    assert_eq!(scores_of(&a)["COLA-BLOCK"], rescore);
    assert_eq!(scores_of(&a)["PRICE-TAGS"], tags);
}

#[test]
fn a_score_keyed_by_anything_but_its_point_code_is_refused() {
    let mut doc = new_visit(false);
    edit(&mut doc, |v| {
        v.success_scores
            .as_mut()
            .unwrap()
            .insert("not a code".into(), score(ScoreStatus::Met, 1));
    });
    assert!(hydrate_visit(&doc).is_err());
}

/// Scores are edited like the audit: by the visit's owner or a colleague covering the store
/// while the visit is open; refused once submitted or approved, and to anyone else.
#[test]
fn scores_are_edited_like_the_audit() {
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
            .success_scores
            .as_mut()
            .unwrap()
            .insert("COLA-BLOCK".into(), score(ScoreStatus::Met, 7));
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
