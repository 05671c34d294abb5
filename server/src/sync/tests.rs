//! Unit tests of the merge logic (access, actor and policy checks, compensations) and the
//! HTTP stages, with real Automerge documents.

use std::collections::HashSet;

use automerge::{transaction::Transactable, ActorId, AutoCommit, ROOT};
use axum::http::{header, HeaderMap, HeaderValue};
use fieldsync_shared::document::{
    hydrate_visit, new_document, reconcile_visit, server_actor, DocKind,
};
use fieldsync_shared::master::Role;
use fieldsync_shared::org::OrgView;
use fieldsync_shared::protocol::RefusedEdit;
use fieldsync_shared::values::{Date, DocId, ShortText, StoreId, Timestamp, UserId};
use fieldsync_shared::visit::{Review, ReviewDecision, StepRecord, Visit, VisitStatus, VisitStep};

use super::merge::{merge_document, open_stored, reasons, MergeVerdict, Pusher};
use super::*;
use crate::scope::ReadScope;
use crate::store::documents::{
    ChangeOrigin, ExpectedVersion, LoadedDocument, Projection, StoredDocument,
};

mod receipts;

/// One person with one device: their user id, role, device actor and what they see.
struct Person {
    user: UserId,
    actor: ActorId,
    scope: ReadScope,
    limits: fieldsync_shared::limits::DocumentLimits,
}

impl Person {
    /// A rep (or another role) whose scope is the whole tenant and who is related to nobody.
    fn new(actor: u8, role: Role) -> Person {
        let user = UserId::new_random();
        Person {
            user,
            actor: ActorId::from(vec![actor; 16]),
            scope: ReadScope {
                whole_tenant: true,
                stores: HashSet::new(),
                people: HashSet::from([user]),
                org: OrgView::solo(user, role),
            },
            limits: Default::default(),
        }
    }

    fn rep(actor: u8) -> Person {
        Person::new(actor, Role::Rep)
    }

    /// The supervisor of `members`.
    fn supervisor_of(actor: u8, members: &[UserId]) -> Person {
        let mut p = Person::new(actor, Role::Supervisor);
        p.scope.org.team_members = members.iter().copied().collect();
        p
    }

    /// Sees only `stores` and their own documents.
    fn limited_to(mut self, stores: &[StoreId]) -> Person {
        self.scope.whole_tenant = false;
        self.scope.stores = stores.iter().copied().collect();
        self
    }

    fn pusher(&self) -> Pusher<'_> {
        Pusher {
            actor: &self.actor,
            scope: &self.scope,
            limits: &self.limits,
            vouched_heads: &[],
        }
    }

    /// Merges `pushed` as this person's device.
    fn merge(&self, id: DocId, pushed: &[Vec<u8>], loaded: &LoadedDocument) -> MergeVerdict {
        merge_document(id, DocKind::Visit, pushed, loaded, self.pusher())
    }

    /// This person's copy of `doc` (a fork with their actor).
    fn fork(&self, doc: &mut AutoCommit) -> AutoCommit {
        doc.fork().with_actor(self.actor.clone())
    }

    /// A new visit owned by this person at a random store, committed as one change.
    fn new_visit(&self) -> (DocId, AutoCommit) {
        let id = DocId::new_random();
        let visit = Visit::new(
            id,
            StoreId::new_random(),
            self.user,
            Date::parse("2026-11-22").unwrap(),
        );
        let mut doc = new_document(self.actor.clone());
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
        (id, doc)
    }
}

/// Edits the visit through its typed struct and commits.
fn edit(doc: &mut AutoCommit, f: impl FnOnce(&mut Visit)) {
    let mut visit = hydrate_visit(doc).unwrap();
    f(&mut visit);
    reconcile_visit(doc, &visit).unwrap();
    doc.commit();
}

fn all_changes(doc: &mut AutoCommit) -> Vec<Vec<u8>> {
    doc.get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// Changes of `doc` that are not in `base`.
fn changes_since(doc: &mut AutoCommit, base: &[Vec<u8>]) -> Vec<Vec<u8>> {
    doc.get_changes(&base_heads(base))
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

fn stored(id: DocId, changes: Vec<Vec<u8>>) -> LoadedDocument {
    LoadedDocument::Found(StoredDocument {
        id,
        kind: DocKind::Visit,
        version: 3,
        snapshot: None,
        snapshot_seq: 0,
        last_seq: 7,
        changes,
    })
}

fn write_changes(verdict: &MergeVerdict) -> Vec<Vec<u8>> {
    match verdict {
        MergeVerdict::Write { changes, .. } => changes.iter().map(|c| c.bytes.clone()).collect(),
        other => panic!("expected a write, got {other:?}"),
    }
}

fn refused_reason(verdict: &MergeVerdict) -> &'static str {
    match verdict {
        MergeVerdict::Refused { reason, .. } => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The visit stored after `changes`.
fn visit_of(id: DocId, changes: Vec<Vec<u8>>) -> Visit {
    let doc = open_stored(&StoredDocument {
        id,
        kind: DocKind::Visit,
        version: 1,
        snapshot: None,
        snapshot_seq: 0,
        last_seq: 1,
        changes,
    })
    .unwrap();
    hydrate_visit(&doc).unwrap()
}

/// Moves an owner's visit to `submitted` the way its author does (in progress, checked out).
fn submit(doc: &mut AutoCommit) {
    for status in [
        VisitStatus::InProgress,
        VisitStatus::CheckedOut,
        VisitStatus::Submitted,
    ] {
        edit(doc, |v| v.status = status);
    }
}

#[test]
fn a_new_document_is_written_with_its_projection() {
    let rep = Person::rep(1);
    let (id, mut doc) = rep.new_visit();
    let changes = all_changes(&mut doc);
    let verdict = rep.merge(id, &changes, &LoadedDocument::Absent);
    match verdict {
        MergeVerdict::Write {
            expected,
            changes: written,
            projection: Projection::Visit(p),
            refused_edits,
            ..
        } => {
            assert_eq!(expected, ExpectedVersion::New);
            assert_eq!(written.len(), 1);
            assert_eq!(written[0].origin, ChangeOrigin::Device);
            assert!(refused_edits.is_empty());
            assert_eq!(p.status, VisitStatus::Planned.as_str());
            assert_eq!(p.planned_date, Date::parse("2026-11-22").unwrap());
            let json: serde_json::Value = serde_json::from_str(&p.document_json).unwrap();
            assert_eq!(json["id"], id.to_string());
        }
        other => panic!("expected a visit write, got {other:?}"),
    }
}

#[test]
fn pushing_stored_changes_again_is_a_replay() {
    let rep = Person::rep(1);
    let (id, mut doc) = rep.new_visit();
    let changes = all_changes(&mut doc);
    let verdict = rep.merge(id, &changes, &stored(id, changes.clone()));
    assert_eq!(
        verdict,
        MergeVerdict::Replay {
            refused_edits: Vec::new()
        }
    );
}

#[test]
fn only_changes_the_server_lacks_are_written() {
    let rep = Person::rep(1);
    let (id, mut doc) = rep.new_visit();
    let first = all_changes(&mut doc);
    edit(&mut doc, |v| v.status = VisitStatus::InProgress);
    let both = all_changes(&mut doc);
    assert_eq!(both.len(), 2);
    // Same change twice in one push counts once.
    let pushed = [both.clone(), vec![both[1].clone()]].concat();
    let verdict = rep.merge(id, &pushed, &stored(id, first));
    assert_eq!(write_changes(&verdict), vec![both[1].clone()]);
    match verdict {
        MergeVerdict::Write { expected, .. } => assert_eq!(expected, ExpectedVersion::Existing(3)),
        _ => unreachable!(),
    }
}

#[test]
fn a_change_without_its_dependencies_is_missing_deps() {
    let rep = Person::rep(1);
    let (id, mut doc) = rep.new_visit();
    edit(&mut doc, |v| v.status = VisitStatus::InProgress);
    let changes = all_changes(&mut doc);
    // The server never saw the first change.
    let verdict = rep.merge(id, &changes[1..], &LoadedDocument::Absent);
    assert_eq!(verdict, MergeVerdict::MissingDeps);
    // Also on top of an existing document that lacks the dependency.
    let (other_id, mut other) = rep.new_visit();
    let verdict = rep.merge(
        other_id,
        &changes[1..],
        &stored(other_id, all_changes(&mut other)),
    );
    assert_eq!(verdict, MergeVerdict::MissingDeps);
}

#[test]
fn a_document_that_does_not_hydrate_is_refused() {
    let rep = Person::rep(1);
    let id = DocId::new_random();
    let mut doc = new_document(rep.actor.clone());
    doc.put(ROOT, "hello", "world").unwrap();
    doc.commit();
    let verdict = rep.merge(id, &all_changes(&mut doc), &LoadedDocument::Absent);
    assert_eq!(refused_reason(&verdict), reasons::SCHEMA_VIOLATION);
}

#[test]
fn an_invalid_value_in_an_existing_document_is_refused() {
    let rep = Person::rep(1);
    let (id, mut doc) = rep.new_visit();
    let base = all_changes(&mut doc);
    doc.put(ROOT, "status", "teleported").unwrap();
    doc.commit();
    let changes = all_changes(&mut doc);
    let verdict = rep.merge(id, &changes, &stored(id, base));
    assert_eq!(refused_reason(&verdict), reasons::SCHEMA_VIOLATION);
}

#[test]
fn a_document_whose_id_field_differs_is_refused() {
    let rep = Person::rep(1);
    let (_, mut doc) = rep.new_visit();
    let verdict = rep.merge(
        DocId::new_random(),
        &all_changes(&mut doc),
        &LoadedDocument::Absent,
    );
    assert_eq!(refused_reason(&verdict), reasons::SCHEMA_VIOLATION);
}

#[test]
fn a_kind_mismatch_is_refused() {
    let rep = Person::rep(1);
    let (id, mut doc) = rep.new_visit();
    let changes = all_changes(&mut doc);
    let verdict = merge_document(
        id,
        DocKind::Order,
        &changes,
        &stored(id, changes.clone()),
        rep.pusher(),
    );
    assert_eq!(refused_reason(&verdict), reasons::KIND_MISMATCH);
}

#[test]
fn another_tenants_document_is_unavailable_without_saying_why() {
    let rep = Person::rep(1);
    let (id, mut doc) = rep.new_visit();
    let verdict = rep.merge(id, &all_changes(&mut doc), &LoadedDocument::OtherTenant);
    assert_eq!(refused_reason(&verdict), reasons::DOCUMENT_UNAVAILABLE);
    if let MergeVerdict::Refused { message, .. } = verdict {
        assert!(!message.contains("tenant"), "{message:?} leaks ownership");
    }
}

#[test]
fn bytes_that_are_not_a_change_are_refused() {
    let rep = Person::rep(1);
    let (id, mut doc) = rep.new_visit();
    let mut changes = all_changes(&mut doc);
    changes.push(b"definitely not automerge".to_vec());
    let verdict = rep.merge(id, &changes, &LoadedDocument::Absent);
    assert_eq!(refused_reason(&verdict), reasons::MALFORMED_CHANGE);
}

#[test]
fn concurrent_changes_of_two_devices_are_both_kept() {
    let rep = Person::rep(1);
    let (id, mut rep_doc) = rep.new_visit();
    let store = hydrate_visit(&rep_doc).unwrap().store_id;
    // A merchandiser whose territory covers the store: a colleague of the rep.
    let mut merch = Person::new(2, Role::Merchandiser);
    merch.scope.org.territory_stores.insert(store);
    let base = all_changes(&mut rep_doc);
    let mut merch_doc = merch.fork(&mut rep_doc);

    edit(&mut rep_doc, |v| v.status = VisitStatus::InProgress);
    edit(&mut merch_doc, |v| {
        v.steps.insert(
            VisitStep::Greet.as_str().to_string(),
            StepRecord {
                step: VisitStep::Greet,
                at: Timestamp(1_700_000_000_000),
                by: merch.user,
                skipped_reason: None,
            },
        );
    });

    // The rep syncs first, then the merchandiser, each pushing only their own new change.
    let rep_new = changes_since(&mut rep_doc, &base);
    let verdict = rep.merge(id, &rep_new, &stored(id, base.clone()));
    let after_rep = [base.clone(), write_changes(&verdict)].concat();

    // The merchandiser re-sends the rep's creation too (already stored: not "new", so the
    // foreign actor does not matter).
    let merch_all = all_changes(&mut merch_doc);
    let verdict = merch.merge(id, &merch_all, &stored(id, after_rep.clone()));
    let written = write_changes(&verdict);
    assert_eq!(written, changes_since(&mut merch_doc, &base));
    let after_both = [after_rep, written].concat();

    let merged = open_stored(&StoredDocument {
        id,
        kind: DocKind::Visit,
        version: 1,
        snapshot: None,
        snapshot_seq: 0,
        last_seq: 1,
        changes: after_both,
    })
    .unwrap();
    let visit = hydrate_visit(&merged).unwrap();
    assert_eq!(
        visit.status,
        VisitStatus::InProgress,
        "the rep's edit survived"
    );
    assert!(
        visit.steps.contains_key("greet"),
        "the merchandiser's edit survived"
    );
    assert_eq!(merged.get_heads().len(), 2, "two concurrent heads");
}

#[test]
fn a_new_change_by_another_actor_is_refused_and_nothing_is_written() {
    let rep = Person::rep(1);
    let (id, mut doc) = rep.new_visit();
    let base = all_changes(&mut doc);
    // The rep's own edit, then one made under a random actor, pushed together.
    edit(&mut doc, |v| v.status = VisitStatus::InProgress);
    let mut forged = doc.fork().with_actor(ActorId::random());
    edit(&mut forged, |v| v.status = VisitStatus::CheckedOut);
    let pushed = changes_since(&mut forged, &base);
    assert_eq!(pushed.len(), 2);
    let verdict = rep.merge(id, &pushed, &stored(id, base.clone()));
    assert_eq!(refused_reason(&verdict), reasons::FOREIGN_ACTOR);
    if let MergeVerdict::Refused { message, .. } = &verdict {
        assert!(message.contains("authored by"), "{message}");
    }
    // A creation by another actor is refused too.
    let (id2, mut other) = Person::rep(9).new_visit();
    let verdict = rep.merge(id2, &all_changes(&mut other), &LoadedDocument::Absent);
    assert_eq!(refused_reason(&verdict), reasons::FOREIGN_ACTOR);
}

#[test]
fn a_change_under_the_server_actor_is_never_accepted_from_a_device() {
    let rep = Person::rep(1);
    let (id, mut doc) = rep.new_visit();
    let base = all_changes(&mut doc);
    let mut forged = doc.fork().with_actor(server_actor());
    edit(&mut forged, |v| v.status = VisitStatus::InProgress);
    let pushed = changes_since(&mut forged, &base);
    let verdict = rep.merge(id, &pushed, &stored(id, base.clone()));
    assert_eq!(refused_reason(&verdict), reasons::FOREIGN_ACTOR);
    // Even a device that somehow had the server's actor bound to it.
    let mut impostor = Person::rep(1);
    impostor.user = rep.user;
    impostor.scope = rep.scope.clone();
    impostor.actor = server_actor();
    let verdict = impostor.merge(id, &pushed, &stored(id, base));
    assert_eq!(refused_reason(&verdict), reasons::FOREIGN_ACTOR);
}

#[test]
fn a_document_outside_the_read_scope_is_unavailable_like_another_tenants() {
    let owner = Person::rep(1);
    let (id, mut doc) = owner.new_visit();
    let base = all_changes(&mut doc);
    // Another rep who sees only some other store.
    let outsider = Person::rep(2).limited_to(&[StoreId::new_random()]);
    let mut theirs = outsider.fork(&mut doc);
    edit(&mut theirs, |v| v.status = VisitStatus::InProgress);
    let verdict = outsider.merge(
        id,
        &changes_since(&mut theirs, &base),
        &stored(id, base.clone()),
    );
    let other_tenant = outsider.merge(id, &base, &LoadedDocument::OtherTenant);
    assert_eq!(refused_reason(&verdict), reasons::DOCUMENT_UNAVAILABLE);
    assert_eq!(
        verdict, other_tenant,
        "same answer as for another tenant's id"
    );
    // Replaying what the server has does not tell them it exists either.
    let verdict = outsider.merge(id, &base, &stored(id, base.clone()));
    assert_eq!(refused_reason(&verdict), reasons::DOCUMENT_UNAVAILABLE);

    // A creation for a store and owner outside the scope.
    let mut foreign = new_document(outsider.actor.clone());
    let new_id = DocId::new_random();
    let visit = Visit::new(
        new_id,
        StoreId::new_random(),
        owner.user,
        Date::parse("2026-11-22").unwrap(),
    );
    reconcile_visit(&mut foreign, &visit).unwrap();
    foreign.commit();
    let verdict = outsider.merge(new_id, &all_changes(&mut foreign), &LoadedDocument::Absent);
    assert_eq!(verdict, other_tenant);

    // Inside the scope (their own store): fine.
    let mine = Person::rep(3);
    let (mine_id, mut mine_doc) = mine.new_visit();
    let store = hydrate_visit(&mine_doc).unwrap().store_id;
    let mine = mine.limited_to(&[store]);
    let verdict = mine.merge(
        mine_id,
        &all_changes(&mut mine_doc),
        &LoadedDocument::Absent,
    );
    assert!(matches!(verdict, MergeVerdict::Write { .. }), "{verdict:?}");
}

#[test]
fn a_creation_the_policy_refuses_is_forbidden_as_a_whole() {
    let rep = Person::rep(1);
    // A visit planned for somebody else: only its owner may create it.
    let id = DocId::new_random();
    let visit = Visit::new(
        id,
        StoreId::new_random(),
        UserId::new_random(),
        Date::parse("2026-11-22").unwrap(),
    );
    let mut doc = new_document(rep.actor.clone());
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    let verdict = rep.merge(id, &all_changes(&mut doc), &LoadedDocument::Absent);
    assert_eq!(refused_reason(&verdict), reasons::FORBIDDEN);
    if let MergeVerdict::Refused { message, .. } = &verdict {
        assert!(message.starts_with("identity:"), "{message}");
    }
}

/// The write verdict's parts.
fn written(
    verdict: MergeVerdict,
) -> (
    Vec<crate::store::documents::NewChange>,
    Projection,
    Vec<RefusedEdit>,
) {
    match verdict {
        MergeVerdict::Write {
            changes,
            projection,
            refused_edits,
            ..
        } => (changes, projection, refused_edits),
        other => panic!("expected a write, got {other:?}"),
    }
}

#[test]
fn a_late_note_on_an_approved_visit_is_stored_and_undone_by_the_server() {
    let rep = Person::rep(1);
    let sup = Person::supervisor_of(2, &[rep.user]);
    let (id, mut rep_doc) = rep.new_visit();
    edit(&mut rep_doc, |v| v.notes.update("shelf tidy"));
    submit(&mut rep_doc);
    let submitted = all_changes(&mut rep_doc);

    // The supervisor approves on their own copy; the server stores it.
    let mut sup_doc = sup.fork(&mut rep_doc);
    edit(&mut sup_doc, |v| {
        v.status = VisitStatus::Approved;
        v.review = Some(Review {
            decision: ReviewDecision::Approved,
            comment: None,
            by: sup.user,
            at: Timestamp(1_700_000_500_000),
        });
    });
    let verdict = sup.merge(
        id,
        &changes_since(&mut sup_doc, &submitted),
        &stored(id, submitted.clone()),
    );
    let (approval, _, refused) = written(verdict);
    assert!(refused.is_empty(), "{refused:?}");
    let approved: Vec<Vec<u8>> = [
        submitted.clone(),
        approval.iter().map(|c| c.bytes.clone()).collect(),
    ]
    .concat();

    // Meanwhile the rep, offline, appends to the notes of the submitted visit (allowed then).
    edit(&mut rep_doc, |v| {
        v.notes.update("shelf tidy; promo display missing")
    });
    let late = changes_since(&mut rep_doc, &submitted);
    let verdict = rep.merge(id, &late, &stored(id, approved.clone()));
    let (changes, projection, refused) = written(verdict);

    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        (refused[0].field.as_str(), refused[0].code.as_str()),
        ("notes", "visit_frozen")
    );
    // The rep's change is stored as theirs, followed by one compensation of the server's.
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].bytes, late[0]);
    assert_eq!(changes[0].origin, ChangeOrigin::Device);
    assert_eq!(changes[1].origin, ChangeOrigin::Server);
    let compensation = automerge::Change::from_bytes(changes[1].bytes.clone()).unwrap();
    assert_eq!(compensation.actor_id(), &server_actor());
    assert_eq!(
        compensation.message(),
        Some("fieldsync-server: refused notes (visit_frozen)")
    );
    match projection {
        Projection::Visit(p) => assert_eq!(p.status, "approved"),
        other => panic!("{other:?}"),
    }
    let server_visit = visit_of(
        id,
        [approved, changes.iter().map(|c| c.bytes.clone()).collect()].concat(),
    );
    assert_eq!(server_visit.status, VisitStatus::Approved);
    assert_eq!(server_visit.notes.as_str(), "shelf tidy");

    // The rep's device receives the compensation and ends with the server's visit.
    rep_doc
        .apply_changes(vec![
            automerge::Change::from_bytes(approval[0].bytes.clone()).unwrap(),
            compensation,
        ])
        .unwrap();
    assert_eq!(hydrate_visit(&rep_doc).unwrap(), server_visit);
}

#[test]
fn a_merchandiser_approving_a_visit_keeps_the_rest_of_the_batch() {
    let rep = Person::rep(1);
    let (id, mut rep_doc) = rep.new_visit();
    let store = hydrate_visit(&rep_doc).unwrap().store_id;
    submit(&mut rep_doc);
    edit(&mut rep_doc, |v| v.status = VisitStatus::Rejected);
    let base = all_changes(&mut rep_doc);

    let mut merch = Person::new(2, Role::Merchandiser);
    merch.scope.org.territory_stores.insert(store);
    let mut merch_doc = merch.fork(&mut rep_doc);
    // One change: a step (allowed for a colleague while rejected) and an approval (not).
    edit(&mut merch_doc, |v| {
        v.steps.insert(
            VisitStep::Greet.as_str().to_string(),
            StepRecord {
                step: VisitStep::Greet,
                at: Timestamp(1_700_000_000_000),
                by: merch.user,
                skipped_reason: None,
            },
        );
        v.status = VisitStatus::Approved;
        v.review = Some(Review {
            decision: ReviewDecision::Approved,
            comment: Some(ShortText::parse("looks fine").unwrap()),
            by: merch.user,
            at: Timestamp(1_700_000_500_000),
        });
    });
    let pushed = changes_since(&mut merch_doc, &base);
    let (changes, _, refused) = written(merch.merge(id, &pushed, &stored(id, base.clone())));
    let fields: Vec<&str> = refused.iter().map(|r| r.field.as_str()).collect();
    assert!(
        fields.contains(&"status") && fields.contains(&"review"),
        "{refused:?}"
    );
    assert!(!fields.contains(&"steps"), "{refused:?}");
    let visit = visit_of(
        id,
        [base, changes.iter().map(|c| c.bytes.clone()).collect()].concat(),
    );
    assert_eq!(visit.status, VisitStatus::Rejected);
    assert_eq!(visit.review, None);
    assert!(
        visit.steps.contains_key("greet"),
        "the allowed part is kept"
    );
}

#[test]
fn successive_compensations_of_one_document_get_their_own_numbers() {
    let rep = Person::rep(1);
    let sup = Person::supervisor_of(2, &[rep.user]);
    let (id, mut rep_doc) = rep.new_visit();
    submit(&mut rep_doc);
    let mut sup_doc = sup.fork(&mut rep_doc);
    edit(&mut sup_doc, |v| {
        v.status = VisitStatus::Approved;
        v.review = Some(Review {
            decision: ReviewDecision::Approved,
            comment: None,
            by: sup.user,
            at: Timestamp(1_700_000_500_000),
        });
    });
    let mut history = all_changes(&mut sup_doc);
    let mut rep_doc = rep.fork(&mut sup_doc);
    let mut seqs = Vec::new();
    for note in ["one", "one two"] {
        let before = history.clone();
        edit(&mut rep_doc, |v| v.notes.update(note));
        let pushed = changes_since(&mut rep_doc, &before);
        let (changes, _, refused) = written(rep.merge(id, &pushed, &stored(id, before)));
        assert_eq!(refused.len(), 1);
        let server = automerge::Change::from_bytes(changes[1].bytes.clone()).unwrap();
        seqs.push(server.seq());
        history.extend(changes.iter().map(|c| c.bytes.clone()));
        rep_doc.apply_changes(vec![server]).unwrap();
    }
    assert_eq!(seqs, vec![1, 2]);
    assert_eq!(visit_of(id, history).notes.as_str(), "");
}

fn base_heads(base: &[Vec<u8>]) -> Vec<automerge::ChangeHash> {
    base.iter()
        .map(|b| automerge::Change::from_bytes(b.clone()).unwrap().hash())
        .collect()
}

#[test]
fn content_type_must_be_the_sync_media_type() {
    let mut h = HeaderMap::new();
    assert!(check_content_type(&h).is_err(), "missing");
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    assert!(matches!(
        check_content_type(&h),
        Err(ApiError::UnsupportedMediaType(_))
    ));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.fieldsync.sync+cbor; v=1"),
    );
    assert!(check_content_type(&h).is_ok());
}

#[test]
fn content_encoding_is_gzip_or_identity() {
    let mut h = HeaderMap::new();
    assert_eq!(content_coding(&h).unwrap(), ContentCoding::Identity);
    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    assert_eq!(content_coding(&h).unwrap(), ContentCoding::Gzip);
    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
    let err = ApiError::from(content_coding(&h).unwrap_err());
    assert!(matches!(err, ApiError::UnsupportedContentEncoding(_)));
}

#[test]
fn gzip_responses_only_when_accepted() {
    let mut h = HeaderMap::new();
    assert!(!accepts_gzip(&h));
    h.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("br, gzip;q=0.8"),
    );
    assert!(accepts_gzip(&h));
    h.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("gzip;q=0, identity"),
    );
    assert!(!accepts_gzip(&h));
    h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("deflate"));
    assert!(!accepts_gzip(&h));
}

#[tokio::test]
async fn a_gzip_body_decodes_and_a_zip_bomb_is_refused() {
    use fieldsync_shared::protocol::{encode, gzip, SyncRequest};
    let request = SyncRequest {
        protocol: PROTOCOL_VERSION,
        device_id: fieldsync_shared::values::DeviceId::new_random(),
        push: vec![],
        pull: None,
    };
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    let body = bytes::Bytes::from(gzip(&encode(&request)));
    let decoded = decode_body(&h, body, Limits::default()).await.unwrap();
    assert_eq!(decoded, request);

    let limits = Limits {
        max_decoded_bytes: 1024,
        ..Limits::default()
    };
    let bomb = bytes::Bytes::from(gzip(&vec![0u8; 1 << 20]));
    let err = decode_body(&h, bomb, limits).await.unwrap_err();
    assert!(matches!(err, ApiError::TooLarge { .. }), "{err:?}");
}

#[test]
fn an_order_is_projected_with_its_number_and_lines() {
    use fieldsync_shared::document::reconcile_order;
    use fieldsync_shared::order::{Order, OrderLine, OrderNumber, OrderStatus, PaymentMethod};
    use fieldsync_shared::values::{DeviceId, Money, PersonCode, Sku};

    let rep = Person::rep(9);
    let id = DocId::new_random();
    let date = Date::parse("2026-11-22").unwrap();
    let number = OrderNumber::generate(
        &PersonCode::parse("R001").unwrap(),
        date,
        &DeviceId::new_random(),
        1,
    );
    let sku = Sku::parse("COLA-330").unwrap();
    let order = Order {
        schema: fieldsync_shared::order::ORDER_SCHEMA_VERSION,
        id,
        number: number.clone(),
        store_id: StoreId::new_random(),
        person_id: rep.user,
        visit_id: None,
        order_date: date,
        requested_delivery: date.add_days(2),
        payment: PaymentMethod::Cash,
        status: OrderStatus::Submitted,
        lines: [(
            sku.to_string(),
            OrderLine {
                sku,
                quantity: 24,
                unit_price: Money(250),
            },
        )]
        .into(),
        notes: autosurgeon::Text::with_value("送货前电话 call first"),
        created_at: Timestamp(1_700_000_000_000),
        submitted_at: Some(Timestamp(1_700_000_100_000)),
        evaluated_against: None,
        findings: Vec::new(),
        delivery: None,
    };
    let mut doc = new_document(rep.actor.clone());
    reconcile_order(&mut doc, &order).unwrap();
    doc.commit();

    let verdict = merge_document(
        id,
        DocKind::Order,
        &all_changes(&mut doc),
        &LoadedDocument::Absent,
        rep.pusher(),
    );
    match verdict {
        MergeVerdict::Write {
            projection: Projection::Order(p),
            ..
        } => {
            assert_eq!(p.number, number.as_str());
            assert_eq!(p.status, "submitted");
            assert_eq!(p.order_date, date);
            let json: serde_json::Value = serde_json::from_str(&p.document_json).unwrap();
            assert_eq!(json["lines"]["COLA-330"]["quantity"], 24);
            assert_eq!(json["notes"], "送货前电话 call first");
        }
        other => panic!("expected an order write, got {other:?}"),
    }
    // The same changes pushed as a visit are refused (they do not hydrate as one).
    let verdict = rep.merge(id, &all_changes(&mut doc), &LoadedDocument::Absent);
    assert_eq!(refused_reason(&verdict), reasons::SCHEMA_VIOLATION);
}

/// A plan's skeleton is the one change a device may send under an actor not its own, and only
/// byte for byte: the same actor with anything else in it is a foreign change.
#[test]
fn a_plan_skeleton_is_accepted_and_a_forged_one_refused() {
    use fieldsync_shared::document::{new_plan_document, reconcile_plan, PLAN_SKELETON_ACTOR};
    use fieldsync_shared::plan::{IsoWeek, Plan, PlanStatus};

    let rep = Person::rep(1);
    let week = IsoWeek::parse("2026-W50").unwrap();
    let id = Plan::doc_id(rep.user, week);
    let mut doc = new_plan_document(rep.user, week, rep.actor.clone()).unwrap();
    let mut plan = Plan::new(rep.user, week);
    plan.add_entry(StoreId::new_random(), week.monday(), 1)
        .unwrap();
    reconcile_plan(&mut doc, &plan).unwrap();
    doc.commit();
    let verdict = merge_document(
        id,
        DocKind::Plan,
        &all_changes(&mut doc),
        &LoadedDocument::Absent,
        rep.pusher(),
    );
    assert!(matches!(verdict, MergeVerdict::Write { .. }), "{verdict:?}");

    // The skeleton's actor with other content (here: a plan already approved).
    let mut forged = new_document(ActorId::from(PLAN_SKELETON_ACTOR));
    let mut approved = Plan::new(rep.user, week);
    approved.status = PlanStatus::Approved;
    reconcile_plan(&mut forged, &approved).unwrap();
    forged.commit();
    let verdict = merge_document(
        id,
        DocKind::Plan,
        &all_changes(&mut forged),
        &LoadedDocument::Absent,
        rep.pusher(),
    );
    assert_eq!(refused_reason(&verdict), reasons::FOREIGN_ACTOR);
    // And a visit has no skeleton: a change under that actor is foreign.
    let (visit_id, own) = rep.new_visit();
    let mut visit_doc = own.with_actor(ActorId::from(PLAN_SKELETON_ACTOR));
    edit(&mut visit_doc, |v| v.status = VisitStatus::InProgress);
    let verdict = rep.merge(
        visit_id,
        &all_changes(&mut visit_doc),
        &LoadedDocument::Absent,
    );
    assert_eq!(refused_reason(&verdict), reasons::FOREIGN_ACTOR);
}
