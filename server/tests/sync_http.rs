//! `POST /v1/sync` and the query endpoints through the real router (auth, limits, encoding),
//! on a fresh SQLite database per test. Requests go through `tower::ServiceExt::oneshot`.

use automerge::{ActorId, AutoCommit};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use fieldsync_server::config::{Config, Secret};
use fieldsync_server::routes::api_router;
use fieldsync_server::startup::Application;
use fieldsync_server::state::AppState;
use fieldsync_server::store::devices::DeviceRegistration;
use fieldsync_server::store::directory::Tenant;
use fieldsync_shared::document::{hydrate_visit, new_document, reconcile_visit};
use fieldsync_shared::master::{Channel, Grade, Role, Store, UserProfile};
use fieldsync_shared::protocol::{
    decode, encode, gunzip, gzip, DocPush, PullRequest, PushResult, SyncRequest, SyncResponse,
    PROTOCOL_VERSION, SYNC_CONTENT_TYPE,
};
use fieldsync_shared::values::{
    Date, DeviceId, DocId, PersonCode, Position, StoreCode, StoreId, TenantId, UserId,
};
use fieldsync_shared::visit::{Visit, VisitStatus};
use serde_json::Value;
use tower::ServiceExt;

struct TestApp {
    router: Router,
    state: AppState,
    _dir: tempfile::TempDir,
}

async fn spawn() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.jwt_secret = Some(Secret::new("sync-test-secret-sync-test-secret-0123456789"));
    let app = Application::build(config)
        .await
        .expect("application builds");
    let state = app.state().clone();
    TestApp {
        router: api_router(state.clone()),
        state,
        _dir: dir,
    }
}

/// A rep's registered device: the Bearer token issued to it, its id and its actor (the only
/// one whose new changes the server accepts from it).
struct Phone {
    profile: UserProfile,
    /// A store of the tenant's master data, for the documents this phone creates.
    store: StoreId,
    token: String,
    device_id: DeviceId,
    actor: ActorId,
}

impl TestApp {
    /// A new tenant with one rep signed in on one device.
    async fn tenant_with_rep(&self) -> (TenantId, Phone) {
        let tenant = Tenant {
            id: TenantId::new_random(),
            slug: format!("t-{}", TenantId::new_random()),
            name: "Test tenant".into(),
        };
        self.state.store.create_tenant(&tenant).await.unwrap();
        let profile = UserProfile {
            id: UserId::new_random(),
            tenant_id: tenant.id,
            username: "rep1".into(),
            display_name: "Rep One".into(),
            role: Role::Rep,
            code: PersonCode::parse("R001").unwrap(),
        };
        self.state
            .store
            .create_user(&profile, "unused")
            .await
            .unwrap();
        (tenant.id, self.another_device(&profile).await)
    }

    /// A new store in `tenant`'s master data.
    async fn new_store(&self, tenant: TenantId) -> StoreId {
        self.add_store(tenant, StoreId::new_random()).await
    }

    /// Store `id` added to `tenant`'s master data.
    async fn add_store(&self, tenant: TenantId, id: StoreId) -> StoreId {
        let code = format!("S{}", &StoreId::new_random().to_string()[..8]);
        let store = Store {
            id,
            code: StoreCode::parse(&code).unwrap(),
            name: "Test store".into(),
            channel: Channel::Nka,
            grade: Grade::A,
            address: "1 Test Street".into(),
            location: Position::new(30.58, 114.27).unwrap(),
            geofence_radius_m: 150,
            delivery_lead_days: 2,
            monthly_potential: None,
            chain: None,
        };
        self.state
            .store
            .upsert_stores(tenant, std::slice::from_ref(&store))
            .await
            .unwrap();
        store.id
    }

    /// `user` signed in on a newly registered device.
    async fn another_device(&self, user: &UserProfile) -> Phone {
        let registration = DeviceRegistration {
            id: DeviceId::new_random(),
            tenant_id: user.tenant_id,
            user_id: user.id,
            actor: ActorId::random(),
            name: "test phone".into(),
            platform: "test".into(),
        };
        let session =
            fieldsync_server::sessions::open_device_session(&self.state, user, &registration)
                .await
                .expect("device session");
        Phone {
            profile: user.clone(),
            store: self.new_store(user.tenant_id).await,
            token: session.access.token,
            device_id: registration.id,
            actor: registration.actor,
        }
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, body.to_vec())
    }

    async fn sync(&self, token: &str, request: &SyncRequest) -> SyncResponse {
        let req = Request::post("/v1/sync")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, SYNC_CONTENT_TYPE)
            .header(header::CONTENT_ENCODING, "gzip")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::from(gzip(&encode(request))))
            .unwrap();
        let (status, headers, body) = self.send(req).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        assert_eq!(headers[header::CONTENT_TYPE], SYNC_CONTENT_TYPE);
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        decode(&gunzip(&body, 64 << 20).unwrap()).unwrap()
    }

    async fn get_json(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let req = Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = self.send(req).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn raw_sync(
        &self,
        token: Option<&str>,
        content_type: &str,
        encoding: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut req = Request::post("/v1/sync").header(header::CONTENT_TYPE, content_type);
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(enc) = encoding {
            req = req.header(header::CONTENT_ENCODING, enc);
        }
        let (status, _, body) = self.send(req.body(Body::from(body)).unwrap()).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

/// A visit of the phone's user, created on the phone.
fn new_visit(phone: &Phone, store_id: StoreId, date: &str) -> (DocId, AutoCommit) {
    visit_by(phone.profile.id, phone.actor.clone(), store_id, date)
}

/// A visit of `owner` created under `actor`.
fn visit_by(owner: UserId, actor: ActorId, store_id: StoreId, date: &str) -> (DocId, AutoCommit) {
    let id = DocId::new_random();
    let visit = Visit::new(id, store_id, owner, Date::parse(date).unwrap());
    let mut doc = new_document(actor);
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    (id, doc)
}

fn push_of(id: DocId, doc: &mut AutoCommit) -> DocPush {
    DocPush {
        doc_id: id,
        kind: "visit".into(),
        changes: doc
            .get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec().into())
            .collect(),
        receipt: None,
    }
}

fn request(device: DeviceId, push: Vec<DocPush>, pull: Option<PullRequest>) -> SyncRequest {
    SyncRequest {
        protocol: PROTOCOL_VERSION,
        device_id: device,
        push,
        pull,
    }
}

#[tokio::test]
async fn push_then_pull_on_another_device_then_query() {
    let app = spawn().await;
    let (_, phone_session) = app.tenant_with_rep().await;
    let tablet_session = app.another_device(&phone_session.profile).await;
    let token = phone_session.token.clone();
    let phone = phone_session.device_id;
    let tablet = tablet_session.device_id;
    let store_id = phone_session.store;
    let (id, mut doc) = new_visit(&phone_session, store_id, "2026-11-22");

    let pull_all = || {
        Some(PullRequest {
            cursor: None,
            max_bytes: 1 << 20,
        })
    };
    let resp = app
        .sync(
            &token,
            &request(phone, vec![push_of(id, &mut doc)], pull_all()),
        )
        .await;
    assert_eq!(resp.outcomes.len(), 1);
    assert_eq!(resp.outcomes[0].result, PushResult::stored(1));
    let phone_cursor = resp.pull.expect("a pull page").cursor;

    // Replay: stored nothing new.
    let resp = app
        .sync(
            &token,
            &request(
                phone,
                vec![push_of(id, &mut doc)],
                Some(PullRequest {
                    cursor: Some(phone_cursor),
                    max_bytes: 1 << 20,
                }),
            ),
        )
        .await;
    assert_eq!(resp.outcomes[0].result, PushResult::stored(0));
    assert!(
        resp.pull.unwrap().docs.is_empty(),
        "nothing new for the phone"
    );

    // The tablet pulls the visit and sees the same document.
    let resp = app
        .sync(&tablet_session.token, &request(tablet, vec![], pull_all()))
        .await;
    let page = resp.pull.unwrap();
    assert_eq!(page.docs.len(), 1);
    let mut copy = new_document(ActorId::random());
    for part in &page.docs[0].data {
        copy.load_incremental(part).unwrap();
    }
    assert_eq!(hydrate_visit(&copy).unwrap(), hydrate_visit(&doc).unwrap());

    // The tablet edits, syncs; the phone pulls the edit.
    let mut visit = hydrate_visit(&copy).unwrap();
    visit.status = VisitStatus::InProgress;
    let mut tablet_doc = copy.with_actor(tablet_session.actor.clone());
    reconcile_visit(&mut tablet_doc, &visit).unwrap();
    tablet_doc.commit();
    let resp = app
        .sync(
            &tablet_session.token,
            &request(
                tablet,
                vec![push_of(id, &mut tablet_doc)],
                Some(PullRequest {
                    cursor: Some(page.cursor),
                    max_bytes: 1 << 20,
                }),
            ),
        )
        .await;
    assert_eq!(resp.outcomes[0].result, PushResult::stored(1));
    let resp = app
        .sync(
            &token,
            &request(
                phone,
                vec![],
                Some(PullRequest {
                    cursor: Some(phone_cursor),
                    max_bytes: 1 << 20,
                }),
            ),
        )
        .await;
    for part in &resp.pull.unwrap().docs[0].data {
        doc.load_incremental(part).unwrap();
    }
    assert_eq!(hydrate_visit(&doc).unwrap().status, VisitStatus::InProgress);

    // Queries see the merged document.
    let (status, list) = app
        .get_json(
            &token,
            &format!("/v1/visits?store_id={store_id}&status=in_progress"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], id.to_string());
    assert_eq!(list["items"][0]["document"]["status"], "in_progress");
    assert_eq!(list["next"], Value::Null);
    let (status, one) = app.get_json(&token, &format!("/v1/visits/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["document"]["store_id"], store_id.to_string());
    let (status, _) = app.get_json(&token, &format!("/v1/orders/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a visit is not an order");
}

#[tokio::test]
async fn another_tenant_neither_reads_nor_writes_the_document() {
    let app = spawn().await;
    let (_, a) = app.tenant_with_rep().await;
    let (_, b) = app.tenant_with_rep().await;
    let token_b = b.token.clone();
    let (id, mut doc) = new_visit(&a, a.store, "2026-11-22");
    app.sync(
        &a.token,
        &request(a.device_id, vec![push_of(id, &mut doc)], None),
    )
    .await;

    let (status, body) = app.get_json(&token_b, &format!("/v1/visits/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["reason"], "not_found");
    let (_, list) = app.get_json(&token_b, "/v1/visits").await;
    assert!(list["items"].as_array().unwrap().is_empty());

    let resp = app
        .sync(
            &token_b,
            &request(
                b.device_id,
                vec![push_of(id, &mut doc)],
                Some(PullRequest {
                    cursor: None,
                    max_bytes: 1 << 20,
                }),
            ),
        )
        .await;
    assert!(
        matches!(&resp.outcomes[0].result, PushResult::Refused { reason, .. } if reason == "document_unavailable")
    );
    assert!(
        resp.pull.unwrap().docs.is_empty(),
        "tenant B's feed is empty"
    );
}

#[tokio::test]
async fn bad_requests_are_refused_with_reasons() {
    let app = spawn().await;
    let (_, phone) = app.tenant_with_rep().await;
    let token = phone.token.clone();
    let body = encode(&request(phone.device_id, vec![], None));

    let (status, _) = app
        .raw_sync(None, SYNC_CONTENT_TYPE, None, body.clone())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, err) = app
        .raw_sync(Some(&token), "application/json", None, body.clone())
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(err["reason"], "unsupported_media_type");
    for encoding in ["br", "deflate", "gzip, br"] {
        let (status, err) = app
            .raw_sync(
                Some(&token),
                SYNC_CONTENT_TYPE,
                Some(encoding),
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{encoding}");
        assert_eq!(err["reason"], "unsupported_content_encoding", "{encoding}");
    }
    let (status, err) = app
        .raw_sync(Some(&token), SYNC_CONTENT_TYPE, None, b"not cbor".to_vec())
        .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_body"))
    );
    let (status, err) = app
        .raw_sync(Some(&token), SYNC_CONTENT_TYPE, Some("gzip"), body.clone())
        .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_body")),
        "not gzip"
    );

    let mut unknown_kind = request(phone.device_id, vec![], None);
    unknown_kind.push.push(DocPush {
        doc_id: DocId::new_random(),
        kind: "invoice".into(),
        changes: vec![],
        receipt: None,
    });
    let (status, err) = app
        .raw_sync(Some(&token), SYNC_CONTENT_TYPE, None, encode(&unknown_kind))
        .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unknown_document_kind")
        )
    );

    // A plain (identity) body and a plain response work too.
    let (status, _) = app
        .raw_sync(Some(&token), SYNC_CONTENT_TYPE, Some("identity"), body)
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, err) = app.get_json(&token, "/v1/orders?from=22-11-2026").await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    assert!(err["message"].as_str().unwrap().contains("from"));
    let (status, err) = app.get_json(&token, "/v1/visits/not-a-uuid").await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
}

#[tokio::test]
async fn missing_dependencies_are_reported_and_nothing_is_stored() {
    let app = spawn().await;
    let (_, phone) = app.tenant_with_rep().await;
    let token = phone.token.clone();
    let device = phone.device_id;
    let (id, mut doc) = new_visit(&phone, phone.store, "2026-11-22");
    let mut visit = hydrate_visit(&doc).unwrap();
    visit.status = VisitStatus::InProgress;
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    let mut partial = push_of(id, &mut doc);
    partial.changes.remove(0);

    let resp = app
        .sync(&token, &request(device, vec![partial], None))
        .await;
    assert_eq!(resp.outcomes[0].result, PushResult::MissingDeps);
    let (status, _) = app.get_json(&token, &format!("/v1/visits/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing stored");

    // The whole history goes through.
    let resp = app
        .sync(&token, &request(device, vec![push_of(id, &mut doc)], None))
        .await;
    assert_eq!(resp.outcomes[0].result, PushResult::stored(2));
}

#[tokio::test]
async fn a_document_with_many_changes_is_compacted_after_the_push() {
    use fieldsync_server::store::documents::LoadedDocument;
    use fieldsync_server::sync::compaction::AUTO_COMPACT_AFTER_CHANGES;

    let app = spawn().await;
    let (tenant, phone) = app.tenant_with_rep().await;
    let token = phone.token.clone();
    let (id, mut doc) = new_visit(&phone, phone.store, "2026-11-22");
    for i in 0..AUTO_COMPACT_AFTER_CHANGES {
        let mut visit = hydrate_visit(&doc).unwrap();
        visit.notes = autosurgeon::Text::with_value(format!("{}{}", visit.notes.as_str(), i % 10));
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
    }
    let pushed = push_of(id, &mut doc);
    let total = pushed.changes.len();
    assert!(total as u64 > AUTO_COMPACT_AFTER_CHANGES);
    let resp = app
        .sync(&token, &request(phone.device_id, vec![pushed], None))
        .await;
    assert_eq!(resp.outcomes[0].result, PushResult::stored(total as u32));

    // Compaction runs in the background after the response: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let loaded = app.state.store.load_documents(tenant, &[id]).await.unwrap();
        let LoadedDocument::Found(stored) = &loaded[0].1 else {
            panic!("document stored")
        };
        if stored.snapshot.is_some() {
            assert!(stored.changes.is_empty(), "folded changes deleted");
            let server = fieldsync_server::sync::merge::open_stored(stored).unwrap();
            assert_eq!(server.get_heads(), doc.get_heads());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no compaction happened"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn only_the_signed_in_device_syncs() {
    let app = spawn().await;
    let (_, phone) = app.tenant_with_rep().await;
    let body = encode(&request(phone.device_id, vec![], None));

    // A token issued without a device (administration tools).
    let no_device = app.state.tokens.issue(&phone.profile).unwrap().token;
    let (status, err) = app
        .raw_sync(Some(&no_device), SYNC_CONTENT_TYPE, None, body.clone())
        .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (StatusCode::FORBIDDEN, Some("device_required"))
    );

    // The device's token speaking for another device id.
    let other = encode(&request(DeviceId::new_random(), vec![], None));
    let (status, err) = app
        .raw_sync(Some(&phone.token), SYNC_CONTENT_TYPE, None, other)
        .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (StatusCode::FORBIDDEN, Some("device_mismatch"))
    );
    assert!(err["message"].as_str().unwrap().contains("device"));

    let (status, _) = app
        .raw_sync(Some(&phone.token), SYNC_CONTENT_TYPE, None, body)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn changes_authored_by_another_actor_are_refused_and_nothing_is_stored() {
    let app = spawn().await;
    let (_, phone) = app.tenant_with_rep().await;
    let tablet = app.another_device(&phone.profile).await;
    // The phone sends a visit made under the tablet's actor.
    let (id, mut doc) = visit_by(
        phone.profile.id,
        tablet.actor.clone(),
        phone.store,
        "2026-11-22",
    );
    let resp = app
        .sync(
            &phone.token,
            &request(phone.device_id, vec![push_of(id, &mut doc)], None),
        )
        .await;
    match &resp.outcomes[0].result {
        PushResult::Refused { reason, message } => {
            assert_eq!(reason, "foreign_actor");
            assert!(
                message.contains("nothing of this document was stored"),
                "{message}"
            );
        }
        other => panic!("expected foreign_actor, got {other:?}"),
    }
    let (status, _) = app
        .get_json(&phone.token, &format!("/v1/visits/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing stored");

    // The tablet itself may send them.
    let resp = app
        .sync(
            &tablet.token,
            &request(tablet.device_id, vec![push_of(id, &mut doc)], None),
        )
        .await;
    assert_eq!(resp.outcomes[0].result, PushResult::stored(1));
}

/// A new order of the phone's user for `store_id`, created on the phone.
fn new_order(phone: &Phone, store_id: StoreId) -> (DocId, AutoCommit) {
    use fieldsync_shared::order::{Order, OrderNumber, OrderStatus, PaymentMethod};
    let id = DocId::new_random();
    let date = Date::parse("2026-11-22").unwrap();
    let order = Order {
        schema: fieldsync_shared::order::ORDER_SCHEMA_VERSION,
        id,
        number: OrderNumber::generate(&phone.profile.code, date, &phone.device_id, 1),
        store_id,
        person_id: phone.profile.id,
        visit_id: None,
        order_date: date,
        requested_delivery: date.add_days(2),
        payment: PaymentMethod::Cash,
        status: OrderStatus::Draft,
        lines: Default::default(),
        notes: autosurgeon::Text::with_value(""),
        created_at: fieldsync_shared::values::Timestamp(1_700_000_000_000),
        submitted_at: None,
        evaluated_against: None,
        findings: Vec::new(),
        delivery: None,
    };
    let mut doc = new_document(phone.actor.clone());
    fieldsync_shared::document::reconcile_order(&mut doc, &order).unwrap();
    doc.commit();
    (id, doc)
}

#[tokio::test]
async fn documents_are_created_only_for_stores_of_the_master_data() {
    let app = spawn().await;
    let (_, phone) = app.tenant_with_rep().await;
    let (_, elsewhere) = app.tenant_with_rep().await;
    let unknown = StoreId::new_random();
    let (visit, mut visit_doc) = new_visit(&phone, unknown, "2026-11-22");
    let (order, mut order_doc) = new_order(&phone, unknown);
    // Another tenant's store is as unknown here as one that exists nowhere.
    let (theirs, mut theirs_doc) = new_visit(&phone, elsewhere.store, "2026-11-22");
    let (known, mut known_doc) = new_visit(&phone, phone.store, "2026-11-22");
    let resp = app
        .sync(
            &phone.token,
            &request(
                phone.device_id,
                vec![
                    push_of(visit, &mut visit_doc),
                    DocPush {
                        kind: "order".into(),
                        ..push_of(order, &mut order_doc)
                    },
                    push_of(theirs, &mut theirs_doc),
                    push_of(known, &mut known_doc),
                ],
                None,
            ),
        )
        .await;
    for (outcome, store) in resp.outcomes[..3]
        .iter()
        .zip([unknown, unknown, elsewhere.store])
    {
        match &outcome.result {
            PushResult::Refused { reason, message } => {
                assert_eq!(reason, "forbidden", "{message}");
                assert!(message.starts_with("identity: "), "{message}");
                assert!(message.contains(&store.to_string()), "{message}");
            }
            other => panic!("{}: {other:?}", outcome.doc_id),
        }
    }
    assert_eq!(resp.outcomes[3].result, PushResult::stored(1));
    for (id, path) in [(visit, "visits"), (order, "orders"), (theirs, "visits")] {
        let (status, _) = app
            .get_json(&phone.token, &format!("/v1/{path}/{id}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "nothing of {id} stored");
    }
    let (status, _) = app
        .get_json(&phone.token, &format!("/v1/visits/{known}"))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Once the store is in the master data, the same history goes through.
    app.add_store(phone.profile.tenant_id, unknown).await;
    let resp = app
        .sync(
            &phone.token,
            &request(phone.device_id, vec![push_of(visit, &mut visit_doc)], None),
        )
        .await;
    assert_eq!(resp.outcomes[0].result, PushResult::stored(1));
}
