//! A restored server taking back, on a receipt of its own, changes of other installations that
//! a device resends after a cursor reset (`crate::auth::receipts`).

use super::*;

/// The rep's phone after a reinstall: same user and scope, a new actor.
fn reinstalled(rep: &Person) -> Person {
    let mut phone = Person::rep(3);
    phone.user = rep.user;
    phone.scope = rep.scope.clone();
    phone
}

/// Merges `pushed` into a server that lost the document, as `person`, with a receipt
/// vouching for `heads`.
fn merge_vouched(
    person: &Person,
    id: DocId,
    pushed: &[Vec<u8>],
    heads: &[automerge::ChangeHash],
) -> MergeVerdict {
    let pusher = Pusher {
        vouched_heads: heads,
        ..person.pusher()
    };
    merge_document(id, DocKind::Visit, pushed, &LoadedDocument::Absent, pusher)
}

/// A visit the rep submitted on their old phone and the supervisor approved: its history and
/// the document.
fn approved_visit(rep: &Person, sup: &Person) -> (DocId, AutoCommit) {
    let (id, mut doc) = rep.new_visit();
    submit(&mut doc);
    let mut approved = sup.fork(&mut doc);
    edit(&mut approved, |v| {
        v.status = VisitStatus::Approved;
        v.review = Some(Review {
            decision: ReviewDecision::Approved,
            comment: None,
            by: sup.user,
            at: Timestamp(1_700_000_500_000),
        });
    });
    (id, approved)
}

#[test]
fn others_changes_come_back_only_with_a_receipt_for_them() {
    let rep = Person::rep(1);
    let sup = Person::supervisor_of(2, &[rep.user]);
    let (id, mut server_had) = approved_visit(&rep, &sup);
    let history = all_changes(&mut server_had);
    let phone = reinstalled(&rep);

    // Without a receipt the old phone's and the supervisor's changes are foreign.
    let verdict = phone.merge(id, &history, &LoadedDocument::Absent);
    assert_eq!(refused_reason(&verdict), reasons::FOREIGN_ACTOR);

    // With the receipt of the heads the server held, all of it is taken back as it was.
    let heads = server_had.get_heads();
    let (changes, projection, refused) = written(merge_vouched(&phone, id, &history, &heads));
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(changes.len(), history.len());
    assert!(changes.iter().all(|c| c.origin == ChangeOrigin::Device));
    match projection {
        Projection::Visit(p) => assert_eq!(p.status, "approved"),
        other => panic!("{other:?}"),
    }

    // A receipt for an older state vouches for that state only: the approval is foreign.
    let submitted_heads = heads_without_last(&mut server_had);
    let verdict = merge_vouched(&phone, id, &history, &submitted_heads);
    assert_eq!(refused_reason(&verdict), reasons::FOREIGN_ACTOR);
}

#[test]
fn the_devices_own_changes_are_judged_against_the_state_taken_back() {
    let rep = Person::rep(1);
    let sup = Person::supervisor_of(2, &[rep.user]);
    let (id, mut server_had) = approved_visit(&rep, &sup);
    let heads = server_had.get_heads();
    let phone = reinstalled(&rep);

    // The reinstalled phone adds a note to the approved visit (it did not know better): the
    // approval is taken back as it was, the note is refused and undone.
    let mut edited = phone.fork(&mut server_had);
    edit(&mut edited, |v| v.notes.update("late note"));
    let pushed = all_changes(&mut edited);
    let (changes, projection, refused) = written(merge_vouched(&phone, id, &pushed, &heads));
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        (refused[0].field.as_str(), refused[0].code.as_str()),
        ("notes", "visit_frozen")
    );
    assert_eq!(changes.last().map(|c| c.origin), Some(ChangeOrigin::Server));
    match projection {
        Projection::Visit(p) => assert_eq!(p.status, "approved"),
        other => panic!("{other:?}"),
    }

    // A change under the supervisor's actor beyond the receipt is still a forgery.
    let mut forged = edited.fork().with_actor(sup.actor.clone());
    edit(&mut forged, |v| v.status = VisitStatus::Rejected);
    let verdict = merge_vouched(&phone, id, &all_changes(&mut forged), &heads);
    assert_eq!(refused_reason(&verdict), reasons::FOREIGN_ACTOR);
}

/// The heads of the document without its last change (its single head's dependencies).
fn heads_without_last(doc: &mut AutoCommit) -> Vec<automerge::ChangeHash> {
    let head = doc.get_heads()[0];
    doc.get_change_by_hash(&head).unwrap().deps().to_vec()
}
