//! Document limits (docs/security.md): a 4 KB push that unfolds into 2,000 nested maps under
//! an unknown field, or a note of 100 KB, is refused `document_over_limits` and nothing of it
//! is stored; the document's history stays cheap to read; a newer app's unknown fields within
//! the limits are stored and reach other devices. The device refuses an edit past the limits
//! before it commits.

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ObjType, ReadDoc, ROOT};
use fieldsync_e2e::process::PgDatabase;
use fieldsync_e2e::{http, TestDevice, TestServer};
use fieldsync_server::config::Secret;
use fieldsync_shared::document::{load_document, DocKind};
use fieldsync_shared::protocol::PushResult;
use fieldsync_shared::Timestamp;

use crate::merges::visit_from_an_older_app;
use crate::write_policies::{copy_for, push_raw};

#[test]
fn documents_past_the_limits_are_refused_sqlite() {
    documents_past_the_limits_are_refused(false);
}

#[test]
fn documents_past_the_limits_are_refused_postgres() {
    documents_past_the_limits_are_refused(true);
}

/// The changes `edit` makes to `doc`, committed.
fn changes(doc: &mut AutoCommit, edit: impl FnOnce(&mut AutoCommit)) -> Vec<Vec<u8>> {
    let heads: Vec<ChangeHash> = doc.get_heads();
    edit(doc);
    doc.commit();
    doc.get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

fn documents_past_the_limits_are_refused(postgres: bool) {
    let db = postgres.then(PgDatabase::create);
    let server = TestServer::start_with(|c| {
        if let Some(db) = &db {
            c.database_url = Some(Secret::new(db.url()));
        }
    });
    let rep1 = TestDevice::login(&server, "rep1");
    let store = rep1.store_by_code("NKA-001").unwrap();
    let visit = rep1
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    rep1.sync().unwrap();
    let raw = server.device_token("rep1");
    let token = server.token("rep1");

    // 2,000 nested maps under a field this version does not know.
    let mut doc = copy_for(&rep1, visit, &raw.actor);
    let deep = changes(&mut doc, |d| {
        let mut obj = d.put_object(ROOT, "x_future", ObjType::Map).unwrap();
        for _ in 0..2000 {
            obj = d.put_object(&obj, "n", ObjType::Map).unwrap();
        }
    });
    let bytes: usize = deep.iter().map(Vec::len).sum();
    assert!(bytes < 16 * 1024, "a small push: {bytes} bytes");
    let resp = push_raw(&server, &raw, visit, DocKind::Visit, deep);
    match &resp.outcomes[0].result {
        PushResult::Refused { reason, message } => {
            assert_eq!(reason, "document_over_limits");
            assert!(message.contains("nested deeper"), "{message}");
        }
        other => panic!("a deep document was not refused: {other:?}"),
    }
    assert!(server.metric("documents_refused_over_limits_total") >= 1.0);

    // A note of 100 KB.
    let mut doc = copy_for(&rep1, visit, &raw.actor);
    let long = changes(&mut doc, |d| {
        let notes = match d.get(ROOT, "notes").unwrap() {
            Some((_, id)) => id,
            None => d.put_object(ROOT, "notes", ObjType::Text).unwrap(),
        };
        d.splice_text(&notes, 0, 0, &"x".repeat(100 * 1024))
            .unwrap();
    });
    let resp = push_raw(&server, &raw, visit, DocKind::Visit, long);
    assert!(
        matches!(&resp.outcomes[0].result, PushResult::Refused { reason, message }
            if reason == "document_over_limits" && message.contains("notes")),
        "{:?}",
        resp.outcomes[0].result
    );

    // Nothing of either was stored; the history is read quickly.
    let started = Instant::now();
    let history = server.get_json(&token, &format!("/v1/documents/{visit}/history"));
    assert!(started.elapsed() < Duration::from_secs(2));
    let entries = history["entries"].as_array().unwrap();
    assert!(
        entries.iter().all(|e| e["paths"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| !p.as_str().unwrap().starts_with("x_future"))),
        "{history}"
    );

    // A newer app's unknown fields within the limits are kept and reach other devices.
    let mut doc = copy_for(&rep1, visit, &raw.actor);
    let newer = changes(&mut doc, |d| {
        let f = d.put_object(ROOT, "x_future", ObjType::Map).unwrap();
        let g = d.put_object(&f, "shelf_ai", ObjType::Map).unwrap();
        d.put(&g, "score", 87_i64).unwrap();
        d.put(&g, "model", "v2").unwrap();
    });
    let resp = push_raw(&server, &raw, visit, DocKind::Visit, newer);
    assert!(
        matches!(resp.outcomes[0].result, PushResult::Stored { .. }),
        "{:?}",
        resp.outcomes[0].result
    );
    let merch1 = TestDevice::login(&server, "merch1");
    merch1.sync().unwrap();
    let held = load_document(&merch1.document_save(visit).unwrap()).unwrap();
    let (_, future) = held.get(ROOT, "x_future").unwrap().expect("kept");
    let (_, ai) = held.get(&future, "shelf_ai").unwrap().expect("kept");
    let (score, _) = held.get(&ai, "score").unwrap().expect("kept");
    assert_eq!(score.as_i64(), Some(87));
    let (status, _) = {
        let resp = http()
            .get(&format!("{}/v1/documents/{visit}/history", server.url))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        (resp.status().as_u16(), ())
    };
    assert_eq!(status, 200);

    // The device enforces the same limits before it commits: the note that would take a
    // text past 64 KiB is refused and not saved; the visit still syncs. Notes are entries of
    // at most 10,000 characters each, so the text that can grow is the earlier notes of a
    // visit written before notes were entries, on a phone the server's list has not reached.
    let (visit, earlier) = visit_from_an_older_app(&server, &raw, &rep1, &store);
    rep1.receive_document(visit, DocKind::Visit, &earlier)
        .unwrap();
    let note = "x".repeat(10_000);
    let mut refused = None;
    for _ in 0..10 {
        if let Err(e) = rep1.append_note(visit, &note) {
            refused = Some(e.to_string());
            break;
        }
    }
    let refused = refused.expect("a note past the text limit is refused on the device");
    assert!(refused.contains("65536"), "{refused}");
    let notes = rep1.visit(visit).unwrap().notes_text().len();
    assert!(notes <= 65_536, "{notes}");
    rep1.sync().unwrap();
}
