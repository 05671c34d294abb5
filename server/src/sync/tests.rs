//! Unit tests of the merge logic and the HTTP stages, with real Automerge documents.

use automerge::{transaction::Transactable, ActorId, AutoCommit, ROOT};
use axum::http::{header, HeaderMap, HeaderValue};
use fieldsync_shared::document::{hydrate_visit, new_document, reconcile_visit, DocKind};
use fieldsync_shared::values::{Date, DocId, StoreId, Timestamp, UserId};
use fieldsync_shared::visit::{StepRecord, Visit, VisitStatus, VisitStep};

use super::merge::{merge_document, open_stored, reasons, MergeVerdict};
use super::*;
use crate::store::documents::{ExpectedVersion, LoadedDocument, Projection, StoredDocument};

/// A device's copy of a new visit, committed as one change.
fn new_visit(actor: u8) -> (DocId, AutoCommit) {
    let id = DocId::new_random();
    let visit = Visit::new(
        id,
        StoreId::new_random(),
        UserId::new_random(),
        Date::parse("2026-11-22").unwrap(),
    );
    let mut doc = new_document(ActorId::from(vec![actor; 16]));
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    (id, doc)
}

/// A fork of `doc` for another device (its own actor).
fn fork_for(doc: &mut AutoCommit, actor: u8) -> AutoCommit {
    doc.fork().with_actor(ActorId::from(vec![actor; 16]))
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

#[test]
fn a_new_document_is_written_with_its_projection() {
    let (id, mut doc) = new_visit(1);
    let changes = all_changes(&mut doc);
    let verdict = merge_document(id, DocKind::Visit, &changes, &LoadedDocument::Absent);
    match verdict {
        MergeVerdict::Write {
            expected,
            changes: written,
            projection: Projection::Visit(p),
        } => {
            assert_eq!(expected, ExpectedVersion::New);
            assert_eq!(written.len(), 1);
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
    let (id, mut doc) = new_visit(1);
    let changes = all_changes(&mut doc);
    let verdict = merge_document(id, DocKind::Visit, &changes, &stored(id, changes.clone()));
    assert_eq!(verdict, MergeVerdict::Replay);
}

#[test]
fn only_changes_the_server_lacks_are_written() {
    let (id, mut doc) = new_visit(1);
    let first = all_changes(&mut doc);
    edit(&mut doc, |v| v.status = VisitStatus::InProgress);
    let both = all_changes(&mut doc);
    assert_eq!(both.len(), 2);
    // Same change twice in one push counts once.
    let pushed = [both.clone(), vec![both[1].clone()]].concat();
    let verdict = merge_document(id, DocKind::Visit, &pushed, &stored(id, first));
    assert_eq!(write_changes(&verdict), vec![both[1].clone()]);
    match verdict {
        MergeVerdict::Write { expected, .. } => assert_eq!(expected, ExpectedVersion::Existing(3)),
        _ => unreachable!(),
    }
}

#[test]
fn a_change_without_its_dependencies_is_missing_deps() {
    let (id, mut doc) = new_visit(1);
    edit(&mut doc, |v| v.status = VisitStatus::InProgress);
    let changes = all_changes(&mut doc);
    // The server never saw the first change.
    let verdict = merge_document(id, DocKind::Visit, &changes[1..], &LoadedDocument::Absent);
    assert_eq!(verdict, MergeVerdict::MissingDeps);
    // Also on top of an existing document that lacks the dependency.
    let (other_id, mut other) = new_visit(2);
    let verdict = merge_document(
        other_id,
        DocKind::Visit,
        &changes[1..],
        &stored(other_id, all_changes(&mut other)),
    );
    assert_eq!(verdict, MergeVerdict::MissingDeps);
}

#[test]
fn a_document_that_does_not_hydrate_is_refused() {
    let id = DocId::new_random();
    let mut doc = new_document(ActorId::random());
    doc.put(ROOT, "hello", "world").unwrap();
    doc.commit();
    let verdict = merge_document(
        id,
        DocKind::Visit,
        &all_changes(&mut doc),
        &LoadedDocument::Absent,
    );
    assert_eq!(refused_reason(&verdict), reasons::SCHEMA_VIOLATION);
}

#[test]
fn an_invalid_value_in_an_existing_document_is_refused() {
    let (id, mut doc) = new_visit(1);
    let base = all_changes(&mut doc);
    doc.put(ROOT, "status", "teleported").unwrap();
    doc.commit();
    let changes = all_changes(&mut doc);
    let verdict = merge_document(id, DocKind::Visit, &changes, &stored(id, base));
    assert_eq!(refused_reason(&verdict), reasons::SCHEMA_VIOLATION);
}

#[test]
fn a_document_whose_id_field_differs_is_refused() {
    let (_, mut doc) = new_visit(1);
    let verdict = merge_document(
        DocId::new_random(),
        DocKind::Visit,
        &all_changes(&mut doc),
        &LoadedDocument::Absent,
    );
    assert_eq!(refused_reason(&verdict), reasons::SCHEMA_VIOLATION);
}

#[test]
fn a_kind_mismatch_is_refused() {
    let (id, mut doc) = new_visit(1);
    let changes = all_changes(&mut doc);
    let verdict = merge_document(id, DocKind::Order, &changes, &stored(id, changes.clone()));
    assert_eq!(refused_reason(&verdict), reasons::KIND_MISMATCH);
}

#[test]
fn another_tenants_document_is_unavailable_without_saying_why() {
    let (id, mut doc) = new_visit(1);
    let verdict = merge_document(
        id,
        DocKind::Visit,
        &all_changes(&mut doc),
        &LoadedDocument::OtherTenant,
    );
    assert_eq!(refused_reason(&verdict), reasons::DOCUMENT_UNAVAILABLE);
    if let MergeVerdict::Refused { message, .. } = verdict {
        assert!(!message.contains("tenant"), "{message:?} leaks ownership");
    }
}

#[test]
fn bytes_that_are_not_a_change_are_refused() {
    let (id, mut doc) = new_visit(1);
    let mut changes = all_changes(&mut doc);
    changes.push(b"definitely not automerge".to_vec());
    let verdict = merge_document(id, DocKind::Visit, &changes, &LoadedDocument::Absent);
    assert_eq!(refused_reason(&verdict), reasons::MALFORMED_CHANGE);
}

#[test]
fn concurrent_changes_of_two_devices_are_both_kept() {
    let (id, mut rep) = new_visit(1);
    let base = all_changes(&mut rep);
    let mut merch = fork_for(&mut rep, 2);
    let by = UserId::new_random();

    edit(&mut rep, |v| v.status = VisitStatus::InProgress);
    edit(&mut merch, |v| {
        v.steps.insert(
            VisitStep::Greet.as_str().to_string(),
            StepRecord {
                step: VisitStep::Greet,
                at: Timestamp(1_700_000_000_000),
                by,
                skipped_reason: None,
            },
        );
    });

    // The rep syncs first, then the merchandiser, each pushing only their own new change.
    let rep_new = rep
        .get_changes(&base_heads(&base))
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect::<Vec<_>>();
    let verdict = merge_document(id, DocKind::Visit, &rep_new, &stored(id, base.clone()));
    let after_rep = [base.clone(), write_changes(&verdict)].concat();

    let merch_new = merch
        .get_changes(&base_heads(&base))
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect::<Vec<_>>();
    let verdict = merge_document(
        id,
        DocKind::Visit,
        &merch_new,
        &stored(id, after_rep.clone()),
    );
    let after_both = [after_rep, write_changes(&verdict)].concat();

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
    assert!(matches!(err, ApiError::UnsupportedMediaType(_)));
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
        person_id: UserId::new_random(),
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
    };
    let mut doc = new_document(ActorId::from(vec![9; 16]));
    reconcile_order(&mut doc, &order).unwrap();
    doc.commit();

    let verdict = merge_document(
        id,
        DocKind::Order,
        &all_changes(&mut doc),
        &LoadedDocument::Absent,
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
    let verdict = merge_document(
        id,
        DocKind::Visit,
        &all_changes(&mut doc),
        &LoadedDocument::Absent,
    );
    assert_eq!(refused_reason(&verdict), reasons::SCHEMA_VIOLATION);
}
