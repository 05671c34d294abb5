//! The device's sync engine against the real server: what it pushes (once), what it pulls, and
//! the server's rarer answers (`MissingDeps`, `Refused`, a pull `reset`, a rejected token).
//! A [`FaultProxy`] between device and server records the requests the device sends.

use fieldsync_client::{Device, DeviceError, DocKind, PaymentMethod};
use fieldsync_e2e::proxy::{FaultProxy, SeenRequest};
use fieldsync_e2e::{TestDevice, TestServer, DEMO_PASSWORD, DEMO_TENANT};
use fieldsync_shared::protocol::{self, SyncRequest};
use fieldsync_shared::{DocId, Timestamp};

/// The sync requests among `requests`, decoded (gzipped or not).
fn sync_requests(requests: &[SeenRequest]) -> Vec<SyncRequest> {
    requests
        .iter()
        .filter(|r| r.is("POST", "/v1/sync"))
        .map(|r| {
            let body = if r.header("content-encoding") == Some("gzip") {
                protocol::gunzip(&r.body, 64 << 20).expect("gunzip")
            } else {
                r.body.clone()
            };
            protocol::decode(&body).expect("a sync request")
        })
        .collect()
}

fn start_visit(dev: &Device) -> DocId {
    let store = dev.stores().expect("stores").remove(0);
    dev.start_visit(store.id, Timestamp::now().utc_date())
        .expect("start visit")
}

#[test]
fn pushes_pending_changes_once_and_pulls_master_data() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let dev = Device::open(dir.path()).unwrap();
    dev.login(&proxy.url, DEMO_TENANT, "rep1", DEMO_PASSWORD)
        .unwrap();
    let report = dev.sync().unwrap();
    assert_eq!(report.rounds, 1);
    assert!(!dev.stores().unwrap().is_empty(), "master data arrived");

    let visit = start_visit(&dev);
    dev.append_note(visit, "hello").unwrap();
    assert_eq!(dev.pending().unwrap().changes, 2);
    let report = dev.sync().unwrap();
    assert_eq!((report.docs_pushed, report.changes_pushed), (1, 2));
    assert_eq!(dev.pending().unwrap().documents, 0);

    // The server holds exactly the device's document: a new installation gets the same heads.
    let other = TestDevice::login(&server, "rep1");
    assert_eq!(
        other.document_heads(visit).unwrap(),
        dev.document_heads(visit).unwrap()
    );

    // Only the new change is sent next time, with the cursor of the last pull.
    dev.append_note(visit, "again").unwrap();
    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert_eq!(report.changes_pushed, 1);
    let sent = sync_requests(&proxy.requests_since(mark));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].push.len(), 1);
    assert_eq!(sent[0].push[0].changes.len(), 1);
    assert!(
        sent[0].pull.as_ref().unwrap().cursor.is_some(),
        "the cursor is sent back"
    );
}

/// The server is restored from a backup that lacks the device's last acknowledged change. The
/// device's next push builds on it (`MissingDeps`) and its cursor is unknown there (`reset`):
/// it pulls from the start and pushes its whole history.
#[test]
fn a_server_restored_from_a_backup_gets_the_whole_history_again() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(&server.url);
    let dev = TestDevice::login_via(&proxy.url, "rep1");
    let visit = start_visit(&dev);
    dev.sync().unwrap();
    let backup = server.backup();
    dev.append_note(visit, "one").unwrap();
    dev.sync().unwrap();

    // The same address now leads to the restored server (same signing key: the session holds).
    let restored = TestServer::start_in(backup);
    proxy.retarget(&restored.url);
    dev.append_note(visit, " two").unwrap();
    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert!(report.reset, "{report:?}");
    assert!(report.rounds >= 2, "{report:?}");
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(dev.pending().unwrap().documents, 0);

    let sent = sync_requests(&proxy.requests_since(mark));
    let sizes: Vec<usize> = sent
        .iter()
        .flat_map(|r| r.push.iter().map(|p| p.changes.len()))
        .collect();
    assert_eq!(
        &sizes[..2],
        &[1, 3],
        "one change, then the whole history: {sizes:?}"
    );
    assert!(sent[0].pull.as_ref().unwrap().cursor.is_some());
    assert!(
        sent[1].pull.as_ref().unwrap().cursor.is_none(),
        "after a reset the device pulls from the start"
    );

    // The restored server has everything.
    let fresh = TestDevice::login(&restored, "rep1");
    assert_eq!(
        fresh.document_heads(visit).unwrap(),
        dev.document_heads(visit).unwrap()
    );
    assert_eq!(fresh.visit(visit).unwrap(), dev.visit(visit).unwrap());
    assert!(fresh.visit(visit).unwrap().notes_text().contains("two"));
}

#[test]
fn a_document_the_server_refuses_is_reported_and_kept() {
    let server = TestServer::start();
    let dev = TestDevice::login(&server, "rep1");
    let store = dev.stores().unwrap().remove(0);
    let (order, _) = dev
        .create_order(
            store.id,
            Timestamp::now()
                .utc_date()
                .add_days(i64::from(store.delivery_lead_days) + 1),
            PaymentMethod::Cash,
            None,
        )
        .unwrap();
    // A copy of one of its visits stored under another id (its id field says otherwise),
    // written by this device's own actor (the server refuses changes of other actors before
    // reading them): the server refuses it as a schema violation.
    let visit = start_visit(&dev);
    let wrong = DocId::new_random();
    dev.receive_document(wrong, DocKind::Visit, &dev.document_save(visit).unwrap())
        .unwrap();

    let report = dev.sync().unwrap();
    assert_eq!(report.refused.len(), 1, "{:?}", report.refused);
    assert_eq!(report.refused[0].doc_id, wrong);
    assert_eq!(report.refused[0].reason, "schema_violation");
    assert_eq!(
        report.docs_pushed, 2,
        "the order and the visit still went through"
    );
    // Refused work is kept on the device, and still pending.
    assert!(dev.document_ids(None).unwrap().contains(&wrong));
    let pending = dev.pending().unwrap();
    assert_eq!(pending.documents, 1);
    assert_eq!(pending.docs[0].doc_id, wrong);
    let token = server.token("sup1");
    server.get_json(&token, &format!("/v1/orders/{order}"));
}

#[test]
fn pulled_documents_are_stored_and_acknowledged() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(&server.url);
    let dev = TestDevice::login_via(&proxy.url, "rep1");
    // The rep's other phone records a visit.
    let other = TestDevice::login(&server, "rep1");
    let visit = start_visit(&other);
    other.append_note(visit, "from the other device").unwrap();
    other.sync().unwrap();

    let report = dev.sync().unwrap();
    assert_eq!(report.docs_received, 1);
    assert_eq!(
        dev.visit(visit).unwrap().notes_text(),
        "from the other device"
    );
    assert_eq!(
        dev.pending().unwrap().documents,
        0,
        "what came from the server is not pushed back"
    );
    assert_eq!(
        dev.document_heads(visit).unwrap(),
        other.document_heads(visit).unwrap()
    );
    let mark = proxy.mark();
    dev.sync().unwrap();
    let sent = sync_requests(&proxy.requests_since(mark));
    assert!(sent.iter().all(|r| r.push.is_empty()), "{sent:?}");
}

#[test]
fn a_rejected_token_is_unauthorized_and_keeps_work() {
    let server = TestServer::start();
    let TestDevice { device, dir } = TestDevice::login(&server, "rep1");
    let visit = start_visit(&device);
    drop(device);
    let conn = rusqlite::Connection::open(dir.path().join("device.db")).unwrap();
    // Neither token is any good: the session cannot be refreshed either.
    conn.execute(
        "UPDATE meta SET value = 'expired' WHERE key IN ('access_token', 'refresh_token')",
        [],
    )
    .unwrap();
    drop(conn);
    let dev = Device::open(dir.path()).unwrap();
    assert!(matches!(dev.sync(), Err(DeviceError::Unauthorized)));
    assert!(dev.visit(visit).is_ok());
    assert_eq!(dev.pending().unwrap().documents, 1);
    dev.login(&server.url, DEMO_TENANT, "rep1", DEMO_PASSWORD)
        .unwrap();
    dev.sync().unwrap();
    assert_eq!(dev.pending().unwrap().documents, 0);
    let token = server.token("sup1");
    server.get_json(&token, &format!("/v1/visits/{visit}"));
}
