//! The sync engine against a scripted in-process HTTP server: outcomes (`Stored`,
//! `MissingDeps`, `Refused`), pull pages, `reset`, gzip, and photo uploads. The real server is
//! exercised by the workspace's end-to-end tests; this one makes the rare answers happen.
//!
//! Photos follow `docs/photo-uploads.md`: declare, single or multipart, presigned requests to a
//! separate fake object store (no token allowed there) or to the server, `complete`.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use automerge::{AutoCommit, Change};
use fieldsync_client::{Device, DocKind, Money, PaymentMethod, PhotoState, Timestamp};
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
    gzipped_requests: u32,
    seq: i64,
    /// Photos stored (confirmed by `complete`), by hex hash.
    photos: HashMap<String, Vec<u8>>,
    uploads: HashMap<String, FakeUpload>,
    upload_seq: u32,
    /// Hand out presigned requests to the fake object store (else `put: null`).
    presign: bool,
    /// Photos above this size are uploaded in parts of `part_size` bytes.
    multipart_threshold: Option<u64>,
    part_size: u64,
    /// While set, a connection sending this part number is dropped without an answer.
    cut_part: Option<u32>,
    /// Answer declarations with this status (e.g. 503).
    declare_status: Option<u16>,
    /// The next `complete` finds the stored bytes are not the photo.
    corrupt_next_complete: bool,
    /// Photo requests seen, in order: "declare <sha>", "part <id> <n>", "content <id>",
    /// "complete <id>" (parts and content sent to either the server or the object store).
    photo_log: Vec<String>,
    /// Requests that reached the object store carrying an Authorization header.
    store_saw_token: u32,
    store_url: String,
}

struct FakeUpload {
    sha256: String,
    size: u64,
    multipart: bool,
    part_size: u64,
    parts: u32,
    stored_parts: BTreeMap<u32, Vec<u8>>,
    content: Option<Vec<u8>>,
    status: &'static str,
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
        let state = Arc::new(Mutex::new(State::default()));
        let url = listen(&state, false);
        let store_url = listen(&state, true);
        state.lock().unwrap().store_url = store_url;
        FakeServer { url, state }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

/// Serves the API (or, with `object_store`, the fake object store) on a new port; its URL.
fn listen(state: &Arc<Mutex<State>>, object_store: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shared = state.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let state = shared.clone();
            std::thread::spawn(move || serve(stream, &state, object_store));
        }
    });
    url
}

fn serve(stream: TcpStream, state: &Mutex<State>, object_store: bool) {
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
        let answer = if object_store {
            handle_object_store(method, path, &headers, body, state)
        } else {
            handle(method, path, &headers, body, state)
        };
        // No answer: the connection is lost mid-request.
        let Some((status, content_type, bytes)) = answer else {
            return;
        };
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

type Answer = (u16, &'static str, Vec<u8>);

fn json(status: u16, v: serde_json::Value) -> Answer {
    (status, "application/json", v.to_string().into_bytes())
}

fn error(status: u16, reason: &str) -> Answer {
    json(
        status,
        serde_json::json!({"reason": reason, "message": format!("{reason} (fake server)")}),
    )
}

fn hex_sha(bytes: &[u8]) -> String {
    fieldsync_shared::Sha256::digest(bytes).to_hex()
}

/// A presigned request to the fake object store, "signed" with the checksum of the bytes it
/// accepts.
fn presigned(st: &State, id: &str, what: &str, sha: &str) -> serde_json::Value {
    serde_json::json!({
        "method": "PUT",
        "url": format!("{}/bucket/{id}/{what}", st.store_url),
        "headers": [["x-fake-checksum-sha256", sha], ["x-fake-signature", "signed"]],
        "expires_at": Timestamp::now().millis() + 600_000,
    })
}

/// The fake object store: checks the signed checksum, refuses tokens, stores the bytes.
fn handle_object_store(
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: Vec<u8>,
    state: &Mutex<State>,
) -> Option<Answer> {
    let mut st = state.lock().unwrap();
    if headers.contains_key("authorization") {
        st.store_saw_token += 1;
        return Some(error(400, "credentials_not_allowed"));
    }
    let rest = path.strip_prefix("/bucket/").expect("object store path");
    let (id, what) = rest.split_once('/').unwrap();
    if method != "PUT" || headers.get("x-fake-signature").map(String::as_str) != Some("signed") {
        return Some(error(403, "signature_does_not_match"));
    }
    if headers.get("x-fake-checksum-sha256") != Some(&hex_sha(&body)) {
        return Some(error(400, "bad_digest"));
    }
    store_upload_bytes(&mut st, id, what, body)
}

/// Records a part (`what` = its number) or the whole content of an upload.
fn store_upload_bytes(st: &mut State, id: &str, what: &str, body: Vec<u8>) -> Option<Answer> {
    if st.uploads.get(id).is_some_and(|u| u.status != "uploading") {
        return Some(error(409, "upload_closed"));
    }
    if let Ok(n) = what.parse::<u32>() {
        if st.cut_part == Some(n) {
            return None;
        }
        st.photo_log.push(format!("part {id} {n}"));
        let Some(up) = st.uploads.get_mut(id) else {
            return Some(error(404, "upload_not_found"));
        };
        up.stored_parts.insert(n, body);
    } else {
        st.photo_log.push(format!("content {id}"));
        let Some(up) = st.uploads.get_mut(id) else {
            return Some(error(404, "upload_not_found"));
        };
        up.content = Some(body);
    }
    Some(json(200, serde_json::json!({})))
}

/// `docs/photo-uploads.md`, in memory.
fn handle_photos(
    method: &str,
    path: &str,
    query: &str,
    body: Vec<u8>,
    st: &mut State,
) -> Option<Answer> {
    let rest = path.strip_prefix("/v1/photos/uploads").unwrap();
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    Some(match (method, segs.as_slice()) {
        ("POST", []) => {
            let req: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let sha = req["sha256"].as_str().unwrap().to_string();
            let size = req["size_bytes"].as_u64().unwrap();
            st.photo_log.push(format!("declare {sha}"));
            if let Some(status) = st.declare_status {
                return Some(error(status, "unavailable"));
            }
            if st.photos.contains_key(&sha) {
                return Some(json(
                    200,
                    serde_json::json!({"status": "stored", "sha256": sha}),
                ));
            }
            let open = st
                .uploads
                .iter()
                .find(|(_, u)| u.sha256 == sha && u.status == "uploading")
                .map(|(id, _)| id.clone());
            let id = match open {
                Some(id) => id,
                None => {
                    st.upload_seq += 1;
                    let id = format!("00000000-0000-4000-8000-{:012}", st.upload_seq);
                    let multipart = st.multipart_threshold.is_some_and(|t| size > t);
                    let part_size = if multipart { st.part_size } else { size };
                    st.uploads.insert(
                        id.clone(),
                        FakeUpload {
                            sha256: sha.clone(),
                            size,
                            multipart,
                            part_size,
                            parts: if multipart {
                                size.div_ceil(part_size) as u32
                            } else {
                                1
                            },
                            stored_parts: BTreeMap::new(),
                            content: None,
                            status: "uploading",
                        },
                    );
                    id
                }
            };
            let up = &st.uploads[&id];
            let put = if st.presign && !up.multipart {
                presigned(st, &id, "content", &sha)
            } else {
                serde_json::Value::Null
            };
            json(
                201,
                serde_json::json!({
                    "status": "upload", "upload_id": id, "sha256": sha, "size_bytes": size,
                    "content_type": req["content_type"],
                    "mode": if up.multipart { "multipart" } else { "single" },
                    "put": put, "part_size": up.part_size, "parts": up.parts,
                }),
            )
        }
        ("GET", [id]) => match st.uploads.get(*id) {
            None => error(404, "upload_not_found"),
            Some(up) => json(
                200,
                serde_json::json!({
                    "upload_id": id, "status": up.status,
                    "mode": if up.multipart { "multipart" } else { "single" },
                    "parts": up.parts, "part_size": up.part_size,
                    "stored_parts": up.stored_parts.keys().collect::<Vec<_>>(),
                }),
            ),
        },
        ("GET", [id, "parts", n]) => {
            let n: u32 = n.parse().unwrap();
            let Some(up) = st.uploads.get(*id) else {
                return Some(error(404, "upload_not_found"));
            };
            let params: HashMap<&str, &str> = query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            let expected = up.part_size.min(up.size - u64::from(n - 1) * up.part_size);
            if params.get("size") != Some(&expected.to_string().as_str()) || n > up.parts {
                return Some(error(400, "invalid_part"));
            }
            let sha = params["sha256"].to_string();
            let put = if st.presign {
                presigned(st, id, &n.to_string(), &sha)
            } else {
                serde_json::Value::Null
            };
            json(200, serde_json::json!({ "put": put }))
        }
        ("PUT", [id, "parts", n]) => {
            let params: HashMap<&str, &str> = query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            if params
                .get("sha256")
                .is_some_and(|sha| *sha != hex_sha(&body))
            {
                return Some(error(422, "checksum_mismatch"));
            }
            return store_upload_bytes(st, id, n, body);
        }
        ("PUT", [id, "content"]) => return store_upload_bytes(st, id, "content", body),
        ("POST", [id, "complete"]) => {
            st.photo_log.push(format!("complete {id}"));
            let corrupt = std::mem::take(&mut st.corrupt_next_complete);
            let Some(up) = st.uploads.get_mut(*id) else {
                return Some(error(404, "upload_not_found"));
            };
            match up.status {
                "uploading" => {}
                "stored" => {
                    return Some(json(
                        200,
                        serde_json::json!({"status": "stored", "sha256": up.sha256, "thumbnail": false}),
                    ))
                }
                _ => return Some(error(409, "upload_closed")),
            }
            let bytes = if up.multipart {
                if (1..=up.parts).any(|n| !up.stored_parts.contains_key(&n)) {
                    return Some(error(409, "upload_incomplete"));
                }
                up.stored_parts
                    .values()
                    .flatten()
                    .copied()
                    .collect::<Vec<u8>>()
            } else {
                match &up.content {
                    Some(c) => c.clone(),
                    None => return Some(error(409, "upload_incomplete")),
                }
            };
            if corrupt || hex_sha(&bytes) != up.sha256 || bytes.len() as u64 != up.size {
                up.status = "failed";
                return Some(error(422, "checksum_mismatch"));
            }
            up.status = "stored";
            let sha = up.sha256.clone();
            st.photos.insert(sha.clone(), bytes);
            json(
                200,
                serde_json::json!({"status": "stored", "sha256": sha, "thumbnail": false}),
            )
        }
        _ => (405, "text/plain", vec![]),
    })
}

fn handle(
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: Vec<u8>,
    state: &Mutex<State>,
) -> Option<Answer> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    if path == "/v1/auth/login" {
        return Some(json(
            200,
            serde_json::json!({"access_token": "t0k3n", "token_type": "Bearer", "expires_in": 3600, "user": profile()}),
        ));
    }
    if headers.get("authorization").map(String::as_str) != Some("Bearer t0k3n") {
        return Some(json(
            401,
            serde_json::json!({"reason": "unauthorized", "message": "no"}),
        ));
    }
    let mut st = state.lock().unwrap();
    if path.starts_with("/v1/master") {
        return Some(json(200, serde_json::to_value(master()).unwrap()));
    }
    if path.starts_with("/v1/photos/uploads") {
        return handle_photos(method, path, query, body, &mut st);
    }
    if let Some(sha) = path.strip_prefix("/v1/photos/") {
        return Some(match method {
            "HEAD" if st.photos.contains_key(sha) => (200, "text/plain", vec![]),
            "HEAD" => (404, "text/plain", vec![]),
            _ => (405, "text/plain", vec![]),
        });
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
    Some((
        200,
        "application/vnd.fieldsync.sync+cbor",
        protocol::encode(&resp),
    ))
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
    let sent = log(&server);
    assert_eq!(sent.len(), 3, "declare, content, complete: {sent:?}");
    assert_eq!(dev.sync().unwrap().photos_uploaded, 0);
    assert_eq!(log(&server), sent, "nothing sent again");
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

// ---------------------------------------------------------------------------------------------
// photo uploads (docs/photo-uploads.md)

fn log(server: &FakeServer) -> Vec<String> {
    server.state().photo_log.clone()
}

/// A device with a visit, after a first sync (master data).
fn device_with_visit(server: &FakeServer) -> (tempfile::TempDir, Device, DocId) {
    let (dir, dev) = device(server);
    dev.sync().unwrap();
    let visit = dev
        .start_visit(store_id(), Timestamp::now().utc_date())
        .unwrap();
    (dir, dev, visit)
}

fn attach(
    dev: &Device,
    dir: &std::path::Path,
    visit: DocId,
    bytes: &[u8],
) -> fieldsync_shared::Sha256 {
    let file = dir.join(format!("{}.jpg", hex_sha(bytes)));
    std::fs::write(&file, bytes).unwrap();
    dev.attach_photo(visit, &file, None).unwrap()
}

fn photo_state(dev: &Device, sha: fieldsync_shared::Sha256) -> fieldsync_client::PhotoUpload {
    dev.photo_uploads()
        .unwrap()
        .into_iter()
        .find(|p| p.sha256 == sha)
        .expect("photo in the queue")
}

#[test]
fn a_photo_the_server_already_has_is_not_sent() {
    let server = FakeServer::start();
    let (dir, dev, visit) = device_with_visit(&server);
    let bytes = common::jpeg_bytes(4000, 1);
    server.state().photos.insert(hex_sha(&bytes), bytes.clone());
    let sha = attach(&dev, dir.path(), visit, &bytes);
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1);
    assert_eq!(log(&server), vec![format!("declare {sha}")]);
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Uploaded);
    assert!(
        dev.photo_path(&sha).unwrap().unwrap().exists(),
        "the file stays on the device"
    );
}

#[test]
fn a_single_upload_goes_to_the_object_store_without_the_token() {
    let server = FakeServer::start();
    server.state().presign = true;
    let (dir, dev, visit) = device_with_visit(&server);
    let bytes = common::jpeg_bytes(6000, 2);
    let sha = attach(&dev, dir.path(), visit, &bytes);
    assert_eq!(dev.sync().unwrap().photos_uploaded, 1);
    let st = server.state();
    assert_eq!(st.photos.get(&sha.to_hex()), Some(&bytes));
    assert_eq!(st.store_saw_token, 0);
    let id = st.uploads.keys().next().unwrap().clone();
    assert_eq!(
        st.photo_log,
        vec![
            format!("declare {sha}"),
            format!("content {id}"),
            format!("complete {id}")
        ]
    );
}

/// A 5-part photo; the connection drops while part 3 is sent. Documents still sync; the parts
/// acknowledged before survive the app being closed; after a restart only parts 3..5 are sent,
/// to the same upload.
fn multipart_resumes(presign: bool) {
    let server = FakeServer::start();
    {
        let mut st = server.state();
        st.presign = presign;
        st.multipart_threshold = Some(1000);
        st.part_size = 1024;
        st.cut_part = Some(3);
    }
    let (dir, dev, visit) = device_with_visit(&server);
    let bytes = common::jpeg_bytes(5000, 3);
    let sha = attach(&dev, dir.path(), visit, &bytes);

    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 0);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("photo uploads paused")),
        "{:?}",
        report.warnings
    );
    // The photo did not hold back the documents.
    assert!(report.docs_pushed >= 1);
    let pending = dev.pending().unwrap();
    assert_eq!((pending.documents, pending.photos), (0, 1));
    let half = photo_state(&dev, sha);
    assert_eq!(half.state, PhotoState::Uploading);
    assert_eq!((half.parts, half.parts_done.clone()), (Some(5), vec![1, 2]));
    assert!(half.attempts >= 1 && half.last_error.is_some());
    let upload_id = half.upload_id.clone().unwrap();

    // The app is killed and started again; the connection is back.
    drop(dev);
    server.state().cut_part = None;
    let dev = Device::open(dir.path()).unwrap();
    let reopened = photo_state(&dev, sha);
    assert_eq!(reopened.upload_id.as_deref(), Some(upload_id.as_str()));
    assert_eq!(reopened.parts_done, vec![1, 2]);

    let before = log(&server).len();
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    let resumed: Vec<String> = log(&server)[before..].to_vec();
    assert_eq!(
        resumed,
        vec![
            format!("declare {sha}"),
            format!("part {upload_id} 3"),
            format!("part {upload_id} 4"),
            format!("part {upload_id} 5"),
            format!("complete {upload_id}"),
        ]
    );
    let st = server.state();
    assert_eq!(st.photos.get(&sha.to_hex()), Some(&bytes));
    assert_eq!(st.store_saw_token, 0);
    drop(st);
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Uploaded);
    assert!(dev.photo_path(&sha).unwrap().unwrap().exists());
    assert!(dev.pending().unwrap().is_empty());
}

#[test]
fn a_multipart_upload_to_the_server_resumes_after_a_lost_connection_and_a_restart() {
    multipart_resumes(false);
}

#[test]
fn a_presigned_multipart_upload_resumes_after_a_lost_connection_and_a_restart() {
    multipart_resumes(true);
}

#[test]
fn an_upload_the_server_dropped_starts_over() {
    let server = FakeServer::start();
    {
        let mut st = server.state();
        st.multipart_threshold = Some(1000);
        st.part_size = 1024;
        st.cut_part = Some(2);
    }
    let (dir, dev, visit) = device_with_visit(&server);
    let bytes = common::jpeg_bytes(3000, 4);
    let sha = attach(&dev, dir.path(), visit, &bytes);
    dev.sync().unwrap();
    let old_id = photo_state(&dev, sha).upload_id.unwrap();
    assert_eq!(photo_state(&dev, sha).parts_done, vec![1]);
    // The server's clean-up aborts the stale upload.
    {
        let mut st = server.state();
        st.uploads.clear();
        st.cut_part = None;
    }
    let before = log(&server).len();
    assert_eq!(dev.sync().unwrap().photos_uploaded, 1);
    let new_id = server.state().uploads.keys().next().unwrap().clone();
    assert_ne!(new_id, old_id);
    assert_eq!(
        log(&server)[before..].to_vec(),
        vec![
            format!("declare {sha}"),
            format!("part {new_id} 1"),
            format!("part {new_id} 2"),
            format!("part {new_id} 3"),
            format!("complete {new_id}"),
        ]
    );
    assert_eq!(server.state().photos.get(&sha.to_hex()), Some(&bytes));
}

#[test]
fn a_checksum_mismatch_fails_the_photo_once_and_keeps_its_file() {
    let server = FakeServer::start();
    server.state().corrupt_next_complete = true;
    let (dir, dev, visit) = device_with_visit(&server);
    let bytes = common::jpeg_bytes(2500, 5);
    let sha = attach(&dev, dir.path(), visit, &bytes);

    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 0);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains(&sha.to_hex()) && w.contains("checksum_mismatch")),
        "{:?}",
        report.warnings
    );
    assert_eq!(
        dev.pending().unwrap().documents,
        0,
        "documents synced anyway"
    );
    let failed = photo_state(&dev, sha);
    assert_eq!(failed.state, PhotoState::Failed);
    let pending = dev.pending().unwrap();
    assert_eq!((pending.photos, pending.photos_failed), (0, 1));
    assert!(dev.photo_path(&sha).unwrap().unwrap().exists());

    // Not retried by the next sync...
    let before = log(&server).len();
    let report = dev.sync().unwrap();
    assert_eq!(log(&server).len(), before);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // ...until the app asks.
    assert_eq!(dev.retry_failed_photos().unwrap(), 1);
    assert_eq!(dev.sync().unwrap().photos_uploaded, 1);
    assert_eq!(server.state().photos.get(&sha.to_hex()), Some(&bytes));
}

#[test]
fn a_corrupted_local_file_is_not_sent_and_attaching_the_photo_again_repairs_it() {
    let server = FakeServer::start();
    let (dir, dev, visit) = device_with_visit(&server);
    let bytes = common::jpeg_bytes(2500, 6);
    let sha = attach(&dev, dir.path(), visit, &bytes);
    let stored = dev.photo_path(&sha).unwrap().unwrap();
    let mut damaged = bytes.clone();
    damaged[100] ^= 0xFF;
    std::fs::write(&stored, &damaged).unwrap();

    let report = dev.sync().unwrap();
    assert!(
        report.warnings.iter().any(|w| w.contains("corrupt")),
        "{:?}",
        report.warnings
    );
    assert!(log(&server).is_empty(), "nothing declared");
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Failed);
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        damaged,
        "the file is kept as it is"
    );

    // The user attaches the original again: the file is rewritten and the photo queued.
    assert_eq!(attach(&dev, dir.path(), visit, &bytes), sha);
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Pending);
    assert_eq!(std::fs::read(&stored).unwrap(), bytes);
    assert_eq!(dev.sync().unwrap().photos_uploaded, 1);
    assert_eq!(server.state().photos.get(&sha.to_hex()), Some(&bytes));
}

#[test]
fn a_server_error_on_photos_does_not_block_documents() {
    let server = FakeServer::start();
    server.state().declare_status = Some(503);
    let (dir, dev, visit) = device_with_visit(&server);
    let a = attach(&dev, dir.path(), visit, &common::jpeg_bytes(1500, 7));
    let b = attach(&dev, dir.path(), visit, &common::jpeg_bytes(1600, 8));
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 0);
    // Each photo was tried (a 5xx is not a lost connection) and stays queued.
    assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
    assert!(report.warnings.iter().all(|w| w.contains("stays queued")));
    assert!(report.docs_pushed >= 1);
    let pending = dev.pending().unwrap();
    assert_eq!((pending.documents, pending.photos), (0, 2));
    for sha in [a, b] {
        let p = photo_state(&dev, sha);
        assert_eq!((p.state, p.attempts), (PhotoState::Pending, 1));
        assert!(p.last_error.unwrap().contains("503"));
    }
    server.state().declare_status = None;
    assert_eq!(dev.sync().unwrap().photos_uploaded, 2);
    assert!(dev.pending().unwrap().is_empty());
}

#[test]
fn photos_queued_by_a_v1_app_are_uploaded_after_the_upgrade() {
    let server = FakeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bytes = common::jpeg_bytes(2200, 9);
    let sha = {
        let conn = common::create_v1_database(dir.path());
        common::v1_queue_photo(dir.path(), &conn, &bytes, "pending")
    };
    let dev = Device::open(dir.path()).unwrap();
    dev.login(&server.url, "demo", "rep1", "pw").unwrap();
    assert_eq!(dev.sync().unwrap().photos_uploaded, 1);
    assert_eq!(server.state().photos.get(&sha.to_hex()), Some(&bytes));
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Uploaded);
}
