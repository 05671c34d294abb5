//! Write policies enforced by the server: refused effects of a pushed batch are undone by a
//! compensating change of the server's, which reaches the pushing device with the pull; whole
//! documents are refused for foreign actors; only signed-in devices sync; and the history
//! endpoint shows who did what, the server's compensations included.

use automerge::{ActorId, AutoCommit, ChangeHash};
use fieldsync_client::{GeoFix, RefusedEditReport, Store, VisitStatus, VisitStep};
use fieldsync_e2e::{http, photo_file, DeviceToken, TestDevice, TestServer, DEMO_TENANT};
use fieldsync_shared::document::{hydrate_visit, load_document, reconcile_visit, DocKind};
use fieldsync_shared::master::{Role, UserProfile};
use fieldsync_shared::protocol::{
    self, DocPush, PushResult, SyncRequest, SyncResponse, PROTOCOL_VERSION, SYNC_CONTENT_TYPE,
};
use fieldsync_shared::visit::{Review, ReviewDecision, Visit};
use fieldsync_shared::{Date, DeviceId, DocId, PersonCode, TenantId, Timestamp, UserId};

use crate::replay::post_sync;

pub(crate) fn today() -> Date {
    Timestamp::now().utc_date()
}

pub(crate) fn at(store: &Store) -> GeoFix {
    GeoFix {
        lat: store.location.lat(),
        lon: store.location.lon(),
        accuracy_m: 8.0,
        mocked: false,
    }
}

/// The rep's first store (in rep1's and merch1's territories in the demo data).
pub(crate) fn first_store(device: &TestDevice) -> Store {
    device
        .stores()
        .expect("stores")
        .into_iter()
        .find(|s| s.code.as_str().starts_with("NKA-"))
        .expect("an NKA store in the rep's master data")
}

/// A visit the device's user started, checked in to, did completely, checked out of and
/// submitted (not synced).
pub(crate) fn submitted_visit(device: &TestDevice, store: &Store) -> DocId {
    let visit = device.start_visit(store.id, today()).expect("start visit");
    device
        .check_in(visit, at(store), Timestamp::now())
        .expect("check in");
    for step in VisitStep::ALL {
        device.record_step(visit, *step, None).expect("step");
    }
    device
        .attach_photo(
            visit,
            &photo_file(device.dir.path(), "shelf.jpg", 5),
            Some(VisitStep::Merchandise),
        )
        .expect("photo");
    device
        .check_out(visit, at(store), Timestamp::now())
        .expect("check out");
    device.submit_visit(visit).expect("submit");
    visit
}

/// The visit as the server holds it (the query projection's JSON).
pub(crate) fn server_visit(server: &TestServer, token: &str, id: DocId) -> serde_json::Value {
    server.get_json(token, &format!("/v1/visits/{id}"))["document"].clone()
}

/// A device's copy of `id`, to be edited by the raw-change device `editor` (its actor).
pub(crate) fn copy_for(owner: &TestDevice, id: DocId, editor: &ActorId) -> AutoCommit {
    load_document(&owner.document_save(id).expect("document bytes"))
        .expect("document loads")
        .with_actor(editor.clone())
}

/// Edits the visit through its typed struct, commits, and returns the new changes.
pub(crate) fn edit_visit(doc: &mut AutoCommit, f: impl FnOnce(&mut Visit)) -> Vec<Vec<u8>> {
    let heads: Vec<ChangeHash> = doc.get_heads();
    let mut visit = hydrate_visit(doc).expect("hydrate");
    f(&mut visit);
    reconcile_visit(doc, &visit).expect("reconcile");
    doc.commit();
    doc.get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// Pushes raw `changes` of one document as `device` (no pull); the response.
pub(crate) fn push_raw(
    server: &TestServer,
    device: &DeviceToken,
    id: DocId,
    kind: DocKind,
    changes: Vec<Vec<u8>>,
) -> SyncResponse {
    let req = SyncRequest {
        protocol: PROTOCOL_VERSION,
        device_id: device.device_id,
        push: vec![DocPush {
            doc_id: id,
            kind: kind.as_str().to_string(),
            changes: changes
                .into_iter()
                .map(serde_bytes::ByteBuf::from)
                .collect(),
            receipt: None,
        }],
        pull: None,
    };
    let (status, body) = post_sync(
        server,
        &device.token,
        SYNC_CONTENT_TYPE,
        &protocol::encode(&req),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    protocol::decode(&body).expect("sync response")
}

/// The rep submits and syncs; the supervisor approves on their device and syncs; meanwhile
/// the rep, offline with the visit still `submitted`, appends a note; then the rep syncs.
/// Returns the devices, the visit and the rep's report of that last sync.
struct Race {
    server: TestServer,
    rep: TestDevice,
    sup: TestDevice,
    visit: DocId,
    late_sync: fieldsync_client::SyncReport,
}

const LATE_NOTE: &str = "Promo display still missing.";

fn race() -> Race {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let sup = TestDevice::login(&server, "sup1");
    let store = first_store(&rep);
    let visit = submitted_visit(&rep, &store);
    rep.sync().expect("rep syncs the submitted visit");

    sup.sync().expect("supervisor pulls");
    assert_eq!(
        sup.visit(visit).expect("sup has it").status,
        VisitStatus::Submitted
    );
    sup.approve_visit(visit, Some("Good shelf work"))
        .expect("the supervisor approves");
    sup.sync().expect("supervisor syncs the approval");

    // Still `submitted` on the rep's phone: notes are editable then.
    assert_eq!(rep.visit(visit).unwrap().status, VisitStatus::Submitted);
    rep.append_note(visit, LATE_NOTE)
        .expect("allowed locally while submitted");
    let late_sync = rep.sync().expect("rep syncs the late note");
    Race {
        server,
        rep,
        sup,
        visit,
        late_sync,
    }
}

#[test]
fn a_note_racing_an_approval_is_undone_and_the_rep_is_told() {
    let Race {
        server,
        rep,
        sup,
        visit,
        late_sync,
    } = race();
    let token = server.token("sup1");

    // The server kept the approval and the notes as they were when approved.
    let stored = server_visit(&server, &token, visit);
    assert_eq!(stored["status"], "approved");
    let stored_visit: Visit = serde_json::from_value(stored.clone()).expect("visit JSON");
    assert!(
        !stored_visit.notes_text().contains(LATE_NOTE),
        "the late note is not in the approved visit: {stored}"
    );
    assert_eq!(stored["review"]["decision"], "approved");

    // The rep was told why, in the report and on the device.
    let refused: Vec<(&str, &str)> = late_sync
        .refused_edits
        .iter()
        .map(|r| (r.field.as_str(), r.code.as_str()))
        .collect();
    assert_eq!(refused, vec![("notes", "visit_frozen")], "{late_sync:?}");
    assert_eq!(late_sync.refused_edits[0].doc_id, visit);
    assert!(!late_sync.refused_edits[0].message.is_empty());
    assert!(late_sync.refused.is_empty(), "the document was stored");
    let kept: Vec<RefusedEditReport> = rep.refused_edits().expect("kept on the device");
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].doc_id, kept[0].code.as_str()),
        (visit, "visit_frozen")
    );

    // The compensation came with that sync; one more sync and the rep's copy is the server's.
    rep.sync().expect("one more sync");
    let on_rep = serde_json::to_value(rep.visit(visit).unwrap()).unwrap();
    assert_eq!(on_rep, server_visit(&server, &token, visit));
    assert_eq!(rep.visit(visit).unwrap().status, VisitStatus::Approved);
    // No sync loop: nothing left to push, and a further sync pushes nothing.
    assert_eq!(rep.pending().unwrap().documents, 0);
    let again = rep.sync().expect("further sync");
    assert_eq!(
        (again.changes_pushed, again.docs_pushed),
        (0, 0),
        "{again:?}"
    );
    assert!(again.refused_edits.is_empty());

    // The supervisor's device converges too.
    sup.sync().expect("sup syncs");
    assert_eq!(
        serde_json::to_value(sup.visit(visit).unwrap()).unwrap(),
        on_rep
    );
}

#[test]
fn a_merchandiser_approving_a_visit_keeps_only_the_allowed_part() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let store = first_store(&rep);
    let visit = submitted_visit(&rep, &store);
    rep.sync().expect("rep sync");

    // merch1 works the same store (a colleague): a note on a submitted visit is allowed, an
    // approval is not. Both in one change.
    let merch = server.device_token("merch1");
    let merch_id = UserId::parse(
        server.get_json(&merch.token, "/v1/me")["id"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut doc = copy_for(&rep, visit, &merch.actor);
    let changes = edit_visit(&mut doc, |v| {
        let notes = format!("{} Shelf restocked by merch.", v.notes.as_str());
        v.notes.update(notes);
        v.status = VisitStatus::Approved;
        v.review = Some(Review {
            decision: ReviewDecision::Approved,
            comment: None,
            by: merch_id,
            at: Timestamp::now(),
        });
    });
    assert_eq!(changes.len(), 1);
    let resp = push_raw(&server, &merch, visit, DocKind::Visit, changes);
    let PushResult::Stored {
        new_changes,
        refused_edits,
        ..
    } = &resp.outcomes[0].result
    else {
        panic!("expected Stored, got {:?}", resp.outcomes)
    };
    assert_eq!(*new_changes, 1, "the merchandiser's change is stored");
    let mut fields: Vec<&str> = refused_edits.iter().map(|r| r.field.as_str()).collect();
    fields.sort();
    assert_eq!(fields, vec!["review", "status"], "{refused_edits:?}");

    let stored = server_visit(&server, &server.token("sup1"), visit);
    assert_eq!(stored["status"], "submitted", "not approved");
    assert_eq!(stored["review"], serde_json::Value::Null);
    assert!(
        stored["notes"]
            .as_str()
            .unwrap()
            .contains("Shelf restocked by merch."),
        "the allowed part of the batch is kept: {stored}"
    );
}

#[test]
fn changes_under_another_actor_are_refused_and_nothing_is_stored() {
    let server = TestServer::start();
    let rep = server.device_token("rep1");
    let me = UserId::parse(
        server.get_json(&rep.token, "/v1/me")["id"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let master = server.get_json(&rep.token, "/v1/master?since=0");
    let store =
        fieldsync_shared::StoreId::parse(master["stores"][0]["id"].as_str().unwrap()).unwrap();
    let id = DocId::new_random();
    let mut doc = fieldsync_shared::document::new_document(ActorId::random());
    reconcile_visit(&mut doc, &Visit::new(id, store, me, today())).unwrap();
    doc.commit();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let resp = push_raw(&server, &rep, id, DocKind::Visit, changes);
    match &resp.outcomes[0].result {
        PushResult::Refused { reason, message } => {
            assert_eq!(reason, "foreign_actor");
            assert!(message.contains("authored by"), "{message}");
        }
        other => panic!("expected foreign_actor, got {other:?}"),
    }
    let resp = http()
        .get(&format!("{}/v1/visits/{id}", server.url))
        .header("Authorization", &format!("Bearer {}", rep.token))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 404, "nothing stored");
}

/// POSTs an empty sync request for `device_id` with `token`; status and reason.
fn empty_sync(server: &TestServer, token: &str, device_id: DeviceId) -> (u16, String) {
    let req = SyncRequest {
        protocol: PROTOCOL_VERSION,
        device_id,
        push: vec![],
        pull: None,
    };
    let (status, body) = post_sync(server, token, SYNC_CONTENT_TYPE, &protocol::encode(&req));
    let reason = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["reason"].as_str().map(String::from))
        .unwrap_or_default();
    (status, reason)
}

#[test]
fn only_a_signed_in_device_syncs_and_only_as_itself() {
    let server = TestServer::start();
    // A login without a device registration (administration tools).
    let mut resp = http()
        .post(&format!("{}/v1/auth/login", server.url))
        .send_json(serde_json::json!({
            "tenant": DEMO_TENANT, "username": "rep1", "password": fieldsync_e2e::DEMO_PASSWORD
        }))
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.body_mut().read_json().unwrap();
    let plain = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        empty_sync(&server, &plain, DeviceId::new_random()),
        (403, "device_required".to_string())
    );

    let device = server.device_token("rep1");
    assert_eq!(
        empty_sync(&server, &device.token, DeviceId::new_random()),
        (403, "device_mismatch".to_string())
    );
    assert_eq!(
        empty_sync(&server, &device.token, device.device_id),
        (200, String::new())
    );
}

/// GET the history page at `path_and_query`; status and body.
fn get_history(server: &TestServer, token: &str, path_and_query: &str) -> (u16, serde_json::Value) {
    let mut resp = http()
        .get(&format!("{}{path_and_query}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or_default())
}

#[test]
fn the_history_shows_the_rep_the_supervisor_and_the_server() {
    let before = Timestamp::now();
    let Race { server, visit, .. } = race();
    let after = Timestamp::now();
    let token = server.token("sup1");
    let path = format!("/v1/documents/{visit}/history");
    let (status, history) = get_history(&server, &token, &path);
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["kind"], "visit");
    let entries = history["entries"].as_array().unwrap();
    assert!(history["next"].is_null(), "one page");

    let by_user = |name: &str| -> Vec<&serde_json::Value> {
        entries.iter().filter(|e| e["username"] == name).collect()
    };
    let rep_entries = by_user("rep1");
    let sup_entries = by_user("sup1");
    assert!(
        !rep_entries.is_empty() && !sup_entries.is_empty(),
        "{history}"
    );
    assert!(rep_entries
        .iter()
        .all(|e| e["by"] == "device" && e["device_name"].is_string()));
    // The rep's creation comes first, in causal order.
    assert_eq!(entries[0]["username"], "rep1");
    assert!(entries[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "identity"));
    let approval = sup_entries
        .iter()
        .find(|e| {
            e["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "status")
        })
        .expect("the supervisor's approval");
    assert!(approval["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "review"));
    let late = rep_entries.last().unwrap();
    assert_eq!(late["fields"], serde_json::json!(["notes"]));
    assert_eq!(late["paths"], serde_json::json!(["note_entries"]));

    let server_entries: Vec<_> = entries.iter().filter(|e| e["by"] == "server").collect();
    assert_eq!(server_entries.len(), 1, "{history}");
    let compensation = server_entries[0];
    assert_eq!(
        compensation["message"],
        "fieldsync-server: refused notes (visit_frozen)"
    );
    assert_eq!(compensation["fields"], serde_json::json!(["notes"]));
    assert!(compensation["username"].is_null());
    assert_eq!(
        compensation,
        entries.last().unwrap(),
        "the compensation is the last change"
    );
    assert!(compensation["time"].as_i64().unwrap() > 0);

    // Next to its own time, each change says when the server stored it: during the pushes.
    let received = |e: &serde_json::Value| -> i64 {
        e["received_at"]
            .as_i64()
            .unwrap_or_else(|| panic!("received_at is set: {e}"))
    };
    for e in entries {
        let at = received(e);
        assert!(before.millis() <= at && at <= after.millis(), "{e}");
    }
    // Stored in push order: the rep's visit, the approval, then the late note together with
    // its compensation (one transaction, one receive time).
    assert!(received(&entries[0]) <= received(approval), "{history}");
    assert!(received(approval) <= received(late), "{history}");
    assert_eq!(received(late), received(compensation), "{history}");

    // Paging: two at a time walks the same entries.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = match &after {
            Some(a) => format!("{path}?limit=2&after={a}"),
            None => format!("{path}?limit=2"),
        };
        let (status, page) = get_history(&server, &token, &q);
        assert_eq!(status, 200, "{page}");
        paged.extend(
            page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["hash"].clone()),
        );
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    let all: Vec<_> = entries.iter().map(|e| e["hash"].clone()).collect();
    assert_eq!(paged, all);
    let (status, err) = get_history(&server, &token, &format!("{path}?after=00"));
    assert_eq!(
        (status, err["reason"].as_str()),
        (400, Some("invalid_query"))
    );

    // rep2 does not see rep1's store: 404, as for an absent document.
    let (status, err) = get_history(&server, &server.token("rep2"), &path);
    assert_eq!((status, err["reason"].as_str()), (404, Some("not_found")));
    let (status, _) = get_history(
        &server,
        &token,
        &format!("/v1/documents/{}/history", DocId::new_random()),
    );
    assert_eq!(status, 404);

    // Another tenant's user: 404 too.
    let other = other_tenant_token(&server);
    let (status, err) = get_history(&server, &other, &path);
    assert_eq!((status, err["reason"].as_str()), (404, Some("not_found")));
}

/// A supervisor of a second tenant, with a token issued directly by the server's key.
fn other_tenant_token(server: &TestServer) -> String {
    use fieldsync_server::store::directory::Tenant;
    let tenant = Tenant {
        id: TenantId::new_random(),
        slug: "other".into(),
        name: "Other tenant".into(),
    };
    let profile = UserProfile {
        id: UserId::new_random(),
        tenant_id: tenant.id,
        username: "sup1".into(),
        display_name: "Other supervisor".into(),
        role: Role::Supervisor,
        code: PersonCode::parse("S001").unwrap(),
    };
    let store = server.state().store.clone();
    server.block_on(async {
        store.create_tenant(&tenant).await.unwrap();
        store.create_user(&profile, "unused").await.unwrap();
    });
    server.state().tokens.issue(&profile).unwrap().token
}
