//! Competitor sightings (docs/competitors.md): two replicas adding sightings at once both keep
//! theirs, in one order; an older app that does not know the field edits and merges the visit
//! without destroying them; a visit written before sightings existed gets the map from the
//! server only; what a sighting may hold; who may change which sighting (write policy).

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ReadDoc, ROOT};
use autosurgeon::{Hydrate, Reconcile, Text};
use fieldsync_shared::document::{hydrate_visit, new_document, reconcile_visit, server_actor};
use fieldsync_shared::evaluation::{RulesBasis, ShownFinding};
use fieldsync_shared::master::Role;
use fieldsync_shared::org::{Editor, Relation};
use fieldsync_shared::policy::{check_visit, codes, Field};
use fieldsync_shared::values::{Date, DocId, Sha256, StoreId, Timestamp, UserId};
use fieldsync_shared::visit::competitors::{sighting_from, SightingProblem};
use fieldsync_shared::visit::{
    AuditLine, CompetitorDisplay, CompetitorSighting, GeoStamp, NoteEntry, PhotoRef, Review,
    SightingId, SightingInput, StepRecord, Visit, VisitStatus,
};

fn actor(n: u8) -> ActorId {
    ActorId::from([n; 16])
}

fn edit(doc: &mut AutoCommit, f: impl FnOnce(&mut Visit)) {
    let mut visit = hydrate_visit(doc).unwrap();
    f(&mut visit);
    reconcile_visit(doc, &visit).unwrap();
    doc.commit();
}

fn input(competitor: &str) -> SightingInput {
    SightingInput {
        competitor: competitor.into(),
        seen: Some("Pepsi 330ml can".into()),
        shelf_price: Some(fieldsync_shared::Money(250)),
        promotion: Some("buy 2 get 1".into()),
        display: Some("endcap".into()),
        photos: Vec::new(),
        note: "next to our endcap".into(),
    }
}

fn sighting(visit: &Visit, by: UserId, at: i64, competitor: &str) -> CompetitorSighting {
    sighting_from(
        visit,
        &input(competitor),
        SightingId::new_random(),
        by,
        "someone",
        Timestamp(at),
    )
    .unwrap()
}

fn new_visit(owner: UserId) -> Visit {
    Visit::new(
        DocId::new_random(),
        StoreId::new_random(),
        owner,
        Date::parse("2026-12-07").unwrap(),
    )
}

fn document(visit: &Visit) -> AutoCommit {
    let mut doc = new_document(actor(1));
    reconcile_visit(&mut doc, visit).unwrap();
    doc.commit();
    doc
}

#[test]
fn sightings_added_at_once_are_both_kept_in_one_order() {
    let (rep, merch) = (UserId::new_random(), UserId::new_random());
    let mut doc = document(&new_visit(rep));
    let mut a = doc.fork().with_actor(actor(2));
    let mut b = doc.fork().with_actor(actor(3));
    edit(&mut a, |v| {
        let s = sighting(v, rep, 2_000, "PepsiCo");
        v.put_competitor_sighting(s).unwrap()
    });
    edit(&mut b, |v| {
        let s = sighting(v, merch, 1_000, "Nongfu Spring");
        v.put_competitor_sighting(s).unwrap()
    });
    a.merge(&mut b.clone()).unwrap();
    b.merge(&mut a.clone()).unwrap();
    let (va, vb) = (hydrate_visit(&a).unwrap(), hydrate_visit(&b).unwrap());
    assert_eq!(va, vb);
    let shown: Vec<(String, UserId)> = va
        .competitor_sightings_in_order()
        .into_iter()
        .map(|s| (s.competitor.as_str().to_string(), s.by))
        .collect();
    assert_eq!(
        shown,
        [
            ("Nongfu Spring".to_string(), merch),
            ("PepsiCo".to_string(), rep)
        ],
        "both kept, by time, whatever the merge order"
    );
}

/// The visit as an app before competitor sightings (schema 1) reads and writes it: every
/// field but `competitor_sightings`.
#[derive(Debug, Clone, Reconcile, Hydrate)]
struct OlderVisit {
    schema: u64,
    id: DocId,
    store_id: StoreId,
    person_id: UserId,
    planned_date: Date,
    status: VisitStatus,
    check_in: Option<GeoStamp>,
    check_out: Option<GeoStamp>,
    steps: BTreeMap<String, StepRecord>,
    audit: BTreeMap<String, AuditLine>,
    photos: BTreeMap<String, PhotoRef>,
    notes: Text,
    #[autosurgeon(missing = "Option::default")]
    note_entries: Option<Vec<NoteEntry>>,
    review: Option<Review>,
    #[autosurgeon(missing = "Option::default")]
    evaluated_against: Option<RulesBasis>,
    #[autosurgeon(missing = "Vec::new")]
    findings: Vec<ShownFinding>,
    #[autosurgeon(missing = "Option::default")]
    plan_id: Option<DocId>,
}

#[test]
fn an_older_app_editing_the_visit_keeps_the_sightings() {
    let (rep, merch) = (UserId::new_random(), UserId::new_random());
    let mut doc = document(&new_visit(rep));
    edit(&mut doc, |v| {
        let s = sighting(v, merch, 1_000, "PepsiCo");
        v.put_competitor_sighting(s).unwrap()
    });
    let mut newer = doc.fork().with_actor(actor(2));
    let mut older = doc.fork().with_actor(actor(3));

    // The older app checks in, adds a note and a step, and writes its whole struct back.
    let mut v: OlderVisit = autosurgeon::hydrate(&older).unwrap();
    v.status = VisitStatus::InProgress;
    v.note_entries.as_mut().unwrap().push(NoteEntry {
        by: rep,
        by_name: "rep".into(),
        at: Timestamp(3_000),
        text: "manager away".into(),
    });
    autosurgeon::reconcile(&mut older, &v).unwrap();
    older.commit();
    assert!(
        older.get(ROOT, "competitor_sightings").unwrap().is_some(),
        "the older app's write leaves the field it does not know"
    );
    // Meanwhile a newer app adds a sighting.
    edit(&mut newer, |v| {
        let s = sighting(v, merch, 2_000, "Nongfu Spring");
        v.put_competitor_sighting(s).unwrap()
    });
    older.merge(&mut newer.clone()).unwrap();
    newer.merge(&mut older.clone()).unwrap();
    let merged = hydrate_visit(&older).unwrap();
    assert_eq!(merged, hydrate_visit(&newer).unwrap());
    assert_eq!(merged.status, VisitStatus::InProgress);
    assert_eq!(merged.notes_in_order().len(), 1);
    let names: Vec<String> = merged
        .competitor_sightings_in_order()
        .iter()
        .map(|s| s.competitor.as_str().to_string())
        .collect();
    assert_eq!(names, ["PepsiCo", "Nongfu Spring"]);
}

/// A visit as an app before sightings wrote it: no `competitor_sightings` key.
fn schema_1_visit(owner: UserId) -> AutoCommit {
    let mut visit = new_visit(owner);
    visit.schema = 1;
    visit.competitor_sightings = None;
    let doc = document(&visit);
    assert!(doc.get(ROOT, "competitor_sightings").unwrap().is_none());
    doc
}

#[test]
fn a_schema_1_visit_gets_the_map_from_the_server_only() {
    let (rep, merch) = (UserId::new_random(), UserId::new_random());
    let mut doc = schema_1_visit(rep);
    let mut visit = hydrate_visit(&doc).unwrap();
    assert_eq!(visit.competitor_sightings, None);
    assert!(visit.competitor_sightings_in_order().is_empty());
    // Nothing can be added until the map is there, and an edit does not create it.
    let s = sighting(&visit, merch, 1_000, "PepsiCo");
    assert_eq!(
        visit.put_competitor_sighting(s),
        Err(SightingProblem::NoList)
    );
    edit(&mut doc, |v| v.status = VisitStatus::InProgress);
    assert!(doc.get(ROOT, "competitor_sightings").unwrap().is_none());

    // The server adds the map once; from then on both phones' sightings are kept.
    let mut server = doc.fork().with_actor(server_actor());
    edit(&mut server, |v| {
        v.competitor_sightings = Some(BTreeMap::new())
    });
    let mut a = server.fork().with_actor(actor(2));
    let mut b = server.fork().with_actor(actor(3));
    edit(&mut a, |v| {
        let s = sighting(v, rep, 2_000, "PepsiCo");
        v.put_competitor_sighting(s).unwrap()
    });
    edit(&mut b, |v| {
        let s = sighting(v, merch, 1_000, "Nongfu Spring");
        v.put_competitor_sighting(s).unwrap()
    });
    a.merge(&mut b).unwrap();
    visit = hydrate_visit(&a).unwrap();
    assert_eq!(visit.competitor_sightings_in_order().len(), 2);
}

#[test]
fn a_sighting_under_a_key_not_its_id_is_a_schema_error() {
    let rep = UserId::new_random();
    let mut visit = new_visit(rep);
    let s = sighting(&visit, rep, 1_000, "PepsiCo");
    visit
        .competitor_sightings
        .as_mut()
        .unwrap()
        .insert(SightingId::new_random().to_string(), s);
    let err = hydrate_visit(&document(&visit)).unwrap_err();
    assert!(err.to_string().contains("competitor_sightings"), "{err}");
}

#[test]
fn what_a_sighting_may_hold() {
    let rep = UserId::new_random();
    let mut visit = new_visit(rep);
    let photo = Sha256::parse(&"ab".repeat(32)).unwrap();
    let parse = |visit: &Visit, i: &SightingInput| {
        sighting_from(visit, i, SightingId::new_random(), rep, "rep", Timestamp(1))
    };
    let field_of = |r: Result<CompetitorSighting, _>| match r {
        Err(fieldsync_shared::ParseError { field, .. }) => field,
        Ok(s) => panic!("accepted {s:?}"),
    };
    assert_eq!(field_of(parse(&visit, &input("  "))), "competitor");
    assert_eq!(
        field_of(parse(&visit, &input(&"x".repeat(101)))),
        "competitor"
    );
    let mut i = input("PepsiCo");
    i.shelf_price = Some(fieldsync_shared::Money(-1));
    assert_eq!(field_of(parse(&visit, &i)), "shelf price");
    let mut i = input("PepsiCo");
    i.display = Some("window".into());
    assert_eq!(field_of(parse(&visit, &i)), "display");
    let mut i = input("PepsiCo");
    i.photos = vec![photo.to_hex()];
    assert_eq!(
        field_of(parse(&visit, &i)),
        "photos",
        "not a photo of the visit"
    );

    visit.photos.insert(
        photo.to_hex(),
        PhotoRef {
            sha256: photo,
            size_bytes: 10,
            content_type: "image/jpeg".into(),
            step: None,
            taken_at: Timestamp(1),
            taken_by: rep,
            position: None,
            capture: None,
        },
    );
    i.seen = Some("  ".into());
    let s = parse(&visit, &i).unwrap();
    assert_eq!(s.photos, [photo]);
    assert_eq!(s.seen, None, "blank is none");
    assert_eq!(s.display, Some(CompetitorDisplay::Endcap));
}

fn editor(user: UserId, relation: Relation) -> Editor {
    Editor {
        user_id: user,
        role: Role::Merchandiser,
        relation,
    }
}

fn refusals(editor: &Editor, before: &Visit, after: &Visit) -> Vec<(Field, String)> {
    check_visit(editor, Some(before), after)
        .into_iter()
        .map(|r| (r.field, r.code))
        .collect()
}

#[test]
fn who_may_change_which_sighting() {
    let (rep, merch, other) = (
        UserId::new_random(),
        UserId::new_random(),
        UserId::new_random(),
    );
    let mut before = new_visit(rep);
    before.status = VisitStatus::InProgress;
    let mine = sighting(&before, rep, 1_000, "PepsiCo");
    before.put_competitor_sighting(mine.clone()).unwrap();
    let add = |v: &Visit, by: UserId| {
        let mut after = v.clone();
        let s = sighting(v, by, 2_000, "Nongfu Spring");
        after
            .competitor_sightings
            .as_mut()
            .unwrap()
            .insert(s.id.to_string(), s);
        after
    };
    let ok: Vec<(Field, String)> = Vec::new();
    // The people working the visit add their own.
    assert_eq!(
        refusals(&editor(rep, Relation::Author), &before, &add(&before, rep)),
        ok
    );
    assert_eq!(
        refusals(
            &editor(merch, Relation::Colleague),
            &before,
            &add(&before, merch)
        ),
        ok
    );
    let s = |code: &str| vec![(Field::CompetitorSightings, code.to_string())];
    // Not under someone else's name, and not someone else's sighting.
    assert_eq!(
        refusals(
            &editor(merch, Relation::Colleague),
            &before,
            &add(&before, rep)
        ),
        s(codes::NOT_ENTRY_AUTHOR)
    );
    let mut removed = before.clone();
    removed.remove_competitor_sighting(mine.id, rep).unwrap();
    assert_eq!(
        refusals(&editor(rep, Relation::Author), &before, &removed),
        ok
    );
    assert_eq!(
        refusals(&editor(merch, Relation::Colleague), &before, &removed),
        s(codes::NOT_ENTRY_AUTHOR)
    );
    // Nobody else, and not once submitted.
    assert_eq!(
        refusals(
            &editor(other, Relation::Other),
            &before,
            &add(&before, other)
        ),
        s(codes::NOT_AUTHOR_OR_COLLEAGUE)
    );
    let mut submitted = before.clone();
    submitted.status = VisitStatus::Submitted;
    let mut after = add(&before, rep);
    after.status = VisitStatus::Submitted;
    assert_eq!(
        refusals(&editor(rep, Relation::Author), &submitted, &after),
        s(codes::VISIT_SUBMITTED)
    );
    // The map of an older visit is the server's to add.
    let mut older = before.clone();
    older.competitor_sightings = None;
    assert_eq!(
        refusals(&editor(rep, Relation::Author), &older, &add(&before, rep)),
        s(codes::NOT_ALLOWED_TO_CREATE)
    );
}
