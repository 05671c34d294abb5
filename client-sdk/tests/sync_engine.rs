//! The sync engine against a scripted in-process HTTP server: outcomes (`Stored`,
//! `MissingDeps`, `Refused`), pull pages, `reset`, gzip, and photo uploads. The real server is
//! exercised by the workspace's end-to-end tests; this one makes the rare answers happen.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use automerge::{AutoCommit, Change};
use fieldsync_client::{Device, DocKind, Money, PaymentMethod, Timestamp};
use fieldsync_shared::master::{Channel, Grade, MasterDataPage, Product, Role, Store, UserProfile};
use fieldsync_shared::protocol::{
    self, Cursor, DocOutcome, DocPayload, PullPage, PushResult, SyncRequest, SyncResponse,
    PROTOCOL_VERSION,
};
use fieldsync_shared::{DocId, PersonCode, Position, Sku, StoreCode, StoreId, TenantId, UserId};
use serde_bytes::ByteBuf;

/// What the fake server does next and what it saw.
#[derive(Default)]
struct State {
    docs: HashMap<DocId, AutoCommit>,
    requests: Vec<SyncRequest>,
    /// Answer MissingDeps to the next push of these documents (once each).
    missing_deps: Vec<DocId>,
    /// Answer Refused to every push of these documents.
    refuse: Vec<DocId>,
    /// Answer the next sync's pull with `reset`.
    reset_next: bool,
    /// Documents to hand out in the next pull page (saved bytes).
    to_pull: Vec<(DocId, DocKind, Vec<u8>)>,
    photos: HashMap<String, Vec<u8>>,
    gzipped_requests: u32,
    seq: i64,
}

struct FakeServer {
    url: String,
    state: Arc<Mutex<State>>,
}

fn store_id() -> StoreId {
    StoreId::parse("0b8a4c8e-35c8-4d0e-9a55-3a1f7c6e0001").unwrap()
}

fn profile() -> UserProfile {
    UserProfile {
        id: UserId::parse("0b8a4c8e-35c8-4d0e-9a55-3a1f7c6e00ff").unwrap(),
        tenant_id: TenantId::parse("0b8a4c8e-35c8-4d0e-9a55-3a1f7c6e00aa").unwrap(),
        username: "rep1".into(),
        display_name: "Rep One".into(),
        role: Role::Rep,
        code: PersonCode::parse("R001").unwrap(),
    }
}

fn master() -> MasterDataPage {
    MasterDataPage {
        version: 7,
        stores: vec![Store {
            id: store_id(),
            code: StoreCode::parse("NKA-001").unwrap(),
            name: "Store".into(),
            channel: Channel::Nka,
            grade: Grade::A,
            address: "Street 1".into(),
            location: Position::new(30.0, 114.0).unwrap(),
            geofence_radius_m: 100,
            delivery_lead_days: 1,
        }],
        products: vec![Product {
            sku: Sku::parse("COLA-330").unwrap(),
            name: "Cola".into(),
            case_pack: 1,
            sold_by_case: false,
            shelf_life_days: 300,
            list_price: Money(350),
            floor_price: Money(300),
        }],
        credit: vec![],
        generated_at: Timestamp::now(),
    }
}

impl FakeServer {
    fn start() -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        FakeServer { url, state }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let (status, content_type, bytes) = handle(method, path, &headers, body, state);
        let mut out = stream.try_clone().unwrap();
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            if method == "HEAD" { 0 } else { bytes.len() }
        );
        out.write_all(head.as_bytes()).unwrap();
        if method != "HEAD" {
            out.write_all(&bytes).unwrap();
        }
        out.flush().unwrap();
    }
}

fn json(status: u16, v: serde_json::Value) -> (u16, &'static str, Vec<u8>) {
    (status, "application/json", v.to_string().into_bytes())
}

fn handle(
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: Vec<u8>,
    state: &Mutex<State>,
) -> (u16, &'static str, Vec<u8>) {
    if path == "/v1/auth/login" {
        return json(
            200,
            serde_json::json!({"access_token": "t0k3n", "token_type": "Bearer", "expires_in": 3600, "user": profile()}),
        );
    }
    if headers.get("authorization").map(String::as_str) != Some("Bearer t0k3n") {
        return json(
            401,
            serde_json::json!({"reason": "unauthorized", "message": "no"}),
        );
    }
    let mut st = state.lock().unwrap();
    if path.starts_with("/v1/master") {
        return json(200, serde_json::to_value(master()).unwrap());
    }
    if let Some(sha) = path.strip_prefix("/v1/photos/") {
        return match method {
            "HEAD" if st.photos.contains_key(sha) => (200, "text/plain", vec![]),
            "HEAD" => (404, "text/plain", vec![]),
            "PUT" => {
                st.photos.insert(sha.to_string(), body);
                json(
                    201,
                    serde_json::json!({"sha256": sha, "already_stored": false}),
                )
            }
            _ => (405, "text/plain", vec![]),
        };
    }
    assert_eq!(path, "/v1/sync");
    let body = if headers.get("content-encoding").map(String::as_str) == Some("gzip") {
        st.gzipped_requests += 1;
        protocol::gunzip(&body, 64 << 20).unwrap()
    } else {
        body
    };
    let req: SyncRequest = protocol::decode(&body).unwrap();
    let mut outcomes = Vec::new();
    for push in &req.push {
        let result = if st.refuse.contains(&push.doc_id) {
            PushResult::Refused {
                reason: "schema_violation".into(),
                message: "refused by the test".into(),
            }
        } else if let Some(i) = st.missing_deps.iter().position(|d| *d == push.doc_id) {
            st.missing_deps.remove(i);
            PushResult::MissingDeps
        } else {
            let doc = st.docs.entry(push.doc_id).or_default();
            let changes: Vec<Change> = push
                .changes
                .iter()
                .map(|c| Change::from_bytes(c.to_vec()).unwrap())
                .collect();
            let before = doc.get_heads();
            doc.apply_changes(changes.clone()).unwrap();
            // Changes whose dependencies are absent are queued by Automerge: report them.
            if doc.get_missing_deps(&[]).is_empty() {
                PushResult::Stored {
                    new_changes: if before == doc.get_heads() {
                        0
                    } else {
                        changes.len() as u32
                    },
                }
            } else {
                PushResult::MissingDeps
            }
        };
        outcomes.push(DocOutcome {
            doc_id: push.doc_id,
            result,
        });
    }
    st.seq += 1;
    let reset = std::mem::take(&mut st.reset_next);
    let docs = std::mem::take(&mut st.to_pull)
        .into_iter()
        .map(|(doc_id, kind, data)| DocPayload {
            doc_id,
            kind,
            data: vec![ByteBuf::from(data)],
        })
        .collect();
    let resp = SyncResponse {
        protocol: PROTOCOL_VERSION,
        outcomes,
        pull: Some(PullPage {
            docs,
            cursor: Cursor {
                seq: st.seq,
                mark: 1,
            },
            more: false,
            reset,
        }),
    };
    st.requests.push(req);
    (
        200,
        "application/vnd.fieldsync.sync+cbor",
        protocol::encode(&resp),
    )
}

fn device(server: &FakeServer) -> (tempfile::TempDir, Device) {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::open(dir.path()).unwrap();
    device.login(&server.url, "demo", "rep1", "pw").unwrap();
    (dir, device)
}

#[test]
fn pushes_pending_changes_once_and_pulls_master_data() {
    let server = FakeServer::start();
    let (_dir, dev) = device(&server);
    let report = dev.sync().unwrap();
    assert_eq!(report.rounds, 1);
    assert_eq!(dev.stores().unwrap().len(), 1, "master data arrived");

    let visit = dev
        .start_visit(store_id(), Timestamp::now().utc_date())
        .unwrap();
    dev.append_note(visit, "hello").unwrap();
    assert_eq!(dev.pending().unwrap().changes, 2);
    let report = dev.sync().unwrap();
    assert_eq!((report.docs_pushed, report.changes_pushed), (1, 2));
    assert_eq!(dev.pending().unwrap().documents, 0);

    // The server holds exactly the device's document.
    let saved = server.state().docs.get_mut(&visit).unwrap().save();
    let mut theirs = AutoCommit::load(&saved).unwrap();
    let mut heads = theirs.get_heads();
    heads.sort();
    assert_eq!(heads, dev.document_heads(visit).unwrap());

    // Only the new change is sent next time.
    dev.append_note(visit, "again").unwrap();
    let report = dev.sync().unwrap();
    assert_eq!(report.changes_pushed, 1);
    let last = server.state().requests.last().cloned().unwrap();
    assert_eq!(last.push[0].changes.len(), 1);
    assert!(
        last.pull.unwrap().cursor.is_some(),
        "the cursor is sent back"
    );
}

#[test]
fn missing_deps_resends_the_whole_history() {
    let server = FakeServer::start();
    let (_dir, dev) = device(&server);
    dev.sync().unwrap();
    let visit = dev
        .start_visit(store_id(), Timestamp::now().utc_date())
        .unwrap();
    dev.sync().unwrap();
    dev.append_note(visit, "one").unwrap();
    // The server "lost" the document: the next push cannot be applied.
    server.state().docs.remove(&visit);
    let report = dev.sync().unwrap();
    assert_eq!(report.docs_pushed, 1);
    assert!(report.rounds >= 2, "{report:?}");
    let requests = server.state().requests.clone();
    let sizes: Vec<usize> = requests
        .iter()
        .flat_map(|r| r.push.iter().map(|p| p.changes.len()))
        .collect();
    assert_eq!(
        &sizes[sizes.len() - 2..],
        &[1, 2],
        "one change, then the whole history: {sizes:?}"
    );
    assert_eq!(dev.pending().unwrap().documents, 0);
}

#[test]
fn a_refused_document_is_reported_and_kept() {
    let server = FakeServer::start();
    let (_dir, dev) = device(&server);
    dev.sync().unwrap();
    let visit = dev
        .start_visit(store_id(), Timestamp::now().utc_date())
        .unwrap();
    let (order, _) = dev
        .create_order(
            store_id(),
            Timestamp::now().utc_date().add_days(2),
            PaymentMethod::Cash,
            None,
        )
        .unwrap();
    server.state().refuse.push(visit);
    let report = dev.sync().unwrap();
    assert_eq!(report.refused.len(), 1);
    assert_eq!(report.refused[0].doc_id, visit);
    assert_eq!(report.refused[0].reason, "schema_violation");
    assert_eq!(report.docs_pushed, 1, "the order still went through");
    assert!(
        dev.visit(visit).is_ok(),
        "refused work is kept on the device"
    );
    let pending = dev.pending().unwrap();
    assert_eq!(pending.documents, 1);
    assert_eq!(pending.docs[0].doc_id, visit);
    assert!(server.state().docs.contains_key(&order));
}

#[test]
fn reset_pushes_everything_again() {
    let server = FakeServer::start();
    let (_dir, dev) = device(&server);
    let visit = dev
        .start_visit(store_id(), Timestamp::now().utc_date())
        .ok();
    assert!(visit.is_none(), "no master data before the first sync");
    dev.sync().unwrap();
    let visit = dev
        .start_visit(store_id(), Timestamp::now().utc_date())
        .unwrap();
    dev.sync().unwrap();
    // The server is restored from a backup that predates the visit.
    {
        let mut st = server.state();
        st.docs.clear();
        st.reset_next = true;
    }
    let report = dev.sync().unwrap();
    assert!(report.reset);
    assert!(
        server.state().docs.contains_key(&visit),
        "the visit was pushed again"
    );
    let last = server.state().requests.last().cloned().unwrap();
    assert!(
        last.pull.unwrap().cursor.is_none(),
        "after a reset the device pulls from the start"
    );
    assert_eq!(last.push.len(), 1, "and pushes its whole history");
    assert_eq!(dev.pending().unwrap().documents, 0);
}

#[test]
fn pulled_documents_are_stored_and_acknowledged() {
    let server = FakeServer::start();
    let (_dir, dev) = device(&server);
    dev.sync().unwrap();
    // Another device's visit arrives through the pull.
    let other_dir = tempfile::tempdir().unwrap();
    let other = Device::open(other_dir.path()).unwrap();
    other.import_master(&master()).unwrap();
    other.import_profile(&profile()).unwrap();
    let visit = other
        .start_visit(store_id(), Timestamp::now().utc_date())
        .unwrap();
    other.append_note(visit, "from the other device").unwrap();
    server
        .state()
        .to_pull
        .push((visit, DocKind::Visit, other.document_save(visit).unwrap()));
    let report = dev.sync().unwrap();
    assert_eq!(report.docs_received, 1);
    assert_eq!(
        dev.visit(visit).unwrap().notes.as_str(),
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
}

#[test]
fn big_requests_are_gzipped_and_photos_uploaded_once() {
    let server = FakeServer::start();
    let (dir, dev) = device(&server);
    dev.sync().unwrap();
    let visit = dev
        .start_visit(store_id(), Timestamp::now().utc_date())
        .unwrap();
    dev.append_note(visit, &"a long note ".repeat(300)).unwrap();
    let file = dir.path().join("p.png");
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(std::iter::repeat_n(7u8, 5000));
    std::fs::write(&file, &bytes).unwrap();
    let sha = dev.attach_photo(visit, &file, None).unwrap();
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1);
    assert!(server.state().gzipped_requests >= 1);
    assert_eq!(server.state().photos.get(&sha.to_hex()), Some(&bytes));
    assert_eq!(dev.pending().unwrap().photos, 0);
    assert_eq!(dev.sync().unwrap().photos_uploaded, 0);
}

#[test]
fn a_rejected_token_is_unauthorized_and_keeps_work() {
    let server = FakeServer::start();
    let (dir, dev) = device(&server);
    dev.sync().unwrap();
    let visit = dev
        .start_visit(store_id(), Timestamp::now().utc_date())
        .unwrap();
    drop(dev);
    let conn = rusqlite::Connection::open(dir.path().join("device.db")).unwrap();
    conn.execute(
        "UPDATE meta SET value = 'expired' WHERE key = 'access_token'",
        [],
    )
    .unwrap();
    drop(conn);
    let dev = Device::open(dir.path()).unwrap();
    assert!(matches!(
        dev.sync(),
        Err(fieldsync_client::DeviceError::Unauthorized)
    ));
    assert!(dev.visit(visit).is_ok());
    dev.login(&server.url, "demo", "rep1", "pw").unwrap();
    dev.sync().unwrap();
    assert_eq!(dev.pending().unwrap().documents, 0);
}
