//! Notes merge as entries: two replicas adding a note at once both keep theirs, in one order
//! on every replica; a visit written before notes were entries is read, edited and merged
//! without any replica creating a second list.

use automerge::{ActorId, AutoCommit, ReadDoc, ROOT};
use fieldsync_shared::document::{hydrate_visit, new_document, reconcile_visit, server_actor};
use fieldsync_shared::values::{Date, DocId, StoreId, Timestamp, UserId};
use fieldsync_shared::visit::{NoteEntry, Visit, EARLIER_NOTES_AUTHOR};

fn actor(n: u8) -> ActorId {
    ActorId::from([n; 16])
}

fn note(by: UserId, at: i64, text: &str) -> NoteEntry {
    NoteEntry {
        by,
        by_name: format!("user {by}"),
        at: Timestamp(at),
        text: text.to_string(),
    }
}

fn edit(doc: &mut AutoCommit, f: impl FnOnce(&mut Visit)) {
    let mut visit = hydrate_visit(doc).unwrap();
    f(&mut visit);
    reconcile_visit(doc, &visit).unwrap();
    doc.commit();
}

fn fork(doc: &mut AutoCommit, n: u8) -> AutoCommit {
    doc.fork().with_actor(actor(n))
}

/// A visit as an app before notes were entries wrote it: no `note_entries` key.
fn visit_without_note_list(owner: UserId) -> AutoCommit {
    let mut doc = new_document(actor(1));
    let mut visit = Visit::new(
        DocId::new_random(),
        StoreId::new_random(),
        owner,
        Date::parse("2026-11-22").unwrap(),
    );
    visit.note_entries = None;
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    assert!(doc.get(ROOT, "note_entries").unwrap().is_none());
    doc
}

#[test]
fn notes_added_at_once_are_both_kept_in_one_order() {
    let (rep, merch) = (UserId::new_random(), UserId::new_random());
    let mut doc = new_document(actor(1));
    let visit = Visit::new(
        DocId::new_random(),
        StoreId::new_random(),
        rep,
        Date::parse("2026-11-22").unwrap(),
    );
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    let mut a = fork(&mut doc, 2);
    let mut b = fork(&mut doc, 3);
    edit(&mut a, |v| {
        v.add_note(note(rep, 2_000, "Store manager asks for more facings."))
    });
    edit(&mut b, |v| {
        v.add_note(note(merch, 1_000, "Endcap rebuilt to picture of success."))
    });
    a.merge(&mut b.clone()).unwrap();
    b.merge(&mut a.clone()).unwrap();
    let (va, vb) = (hydrate_visit(&a).unwrap(), hydrate_visit(&b).unwrap());
    assert_eq!(va, vb);
    let texts: Vec<String> = va.notes_in_order().into_iter().map(|n| n.text).collect();
    assert_eq!(
        texts,
        [
            "Endcap rebuilt to picture of success.",
            "Store manager asks for more facings."
        ],
        "by time, whatever the merge order"
    );
}

#[test]
fn an_older_visit_gets_no_list_from_a_device_edit() {
    let rep = UserId::new_random();
    let mut doc = visit_without_note_list(rep);
    let visit = hydrate_visit(&doc).unwrap();
    assert_eq!(visit.note_entries, None);
    // Any edit through the typed struct leaves the list to the server.
    edit(&mut doc, |v| {
        v.status = fieldsync_shared::visit::VisitStatus::InProgress
    });
    assert!(doc.get(ROOT, "note_entries").unwrap().is_none());
}

#[test]
fn notes_on_an_older_visit_are_lines_of_the_earlier_notes_until_the_server_adds_the_list() {
    let (rep, merch) = (UserId::new_random(), UserId::new_random());
    let mut doc = visit_without_note_list(rep);
    let mut a = fork(&mut doc, 2);
    let mut b = fork(&mut doc, 3);
    edit(&mut a, |v| {
        v.add_note(note(rep, 2_000, "picture of success"))
    });
    edit(&mut b, |v| {
        v.add_note(note(merch, 1_000, "Store manager asks"))
    });
    a.merge(&mut b.clone()).unwrap();
    let merged = hydrate_visit(&a).unwrap();
    assert!(a.get(ROOT, "note_entries").unwrap().is_none());
    let lines: Vec<&str> = merged.notes.as_str().lines().collect();
    assert_eq!(lines.len(), 2, "two lines, not one run-on: {lines:?}");
    assert!(lines.contains(&"picture of success") && lines.contains(&"Store manager asks"));
    let shown = merged.notes_in_order();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].by_name, EARLIER_NOTES_AUTHOR);

    // The server adds the list once; notes from then on are entries, after the earlier notes.
    let mut server = a.fork().with_actor(server_actor());
    edit(&mut server, |v| v.note_entries = Some(Vec::new()));
    b.merge(&mut server.clone()).unwrap();
    edit(&mut b, |v| {
        v.add_note(note(merch, 3_000, "backroom locked"))
    });
    a.merge(&mut b.clone()).unwrap();
    let shown = hydrate_visit(&a).unwrap().notes_in_order();
    let texts: Vec<&str> = shown.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert_eq!(shown[0].by_name, EARLIER_NOTES_AUTHOR);
    assert_eq!(texts[1], "backroom locked");
}
