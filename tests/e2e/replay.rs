//! The protocol is idempotent: a device whose response was lost resends the same request, and
//! the server stores nothing new, appends nothing to its feed, and answers the same outcomes.

use automerge::AutoCommit;
use fieldsync_client::DeviceError;
use fieldsync_e2e::proxy::DroppingProxy;
use fieldsync_e2e::{http, DeviceToken, TestDevice, TestServer};
use fieldsync_shared::document::reconcile_visit;
use fieldsync_shared::order::PaymentMethod;
use fieldsync_shared::protocol::{
    self, DocPush, PullRequest, PushResult, SyncRequest, SyncResponse, PROTOCOL_VERSION,
    SYNC_CONTENT_TYPE,
};
use fieldsync_shared::visit::Visit;
use fieldsync_shared::{DocId, StoreId, Timestamp, UserId};

/// A request of `device` pushing a new visit's history, as the device would build it (its
/// changes authored by the device's actor).
pub fn visit_push_request(
    device: &DeviceToken,
    store: StoreId,
    person: UserId,
) -> (DocId, SyncRequest) {
    let doc_id = DocId::new_random();
    let mut doc = AutoCommit::new().with_actor(device.actor.clone());
    let visit = Visit::new(doc_id, store, person, Timestamp::now().utc_date());
    reconcile_visit(&mut doc, &visit).expect("reconcile");
    doc.commit();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| serde_bytes::ByteBuf::from(c.raw_bytes().to_vec()))
        .collect();
    let req = SyncRequest {
        protocol: PROTOCOL_VERSION,
        device_id: device.device_id,
        push: vec![DocPush {
            doc_id,
            kind: "visit".into(),
            changes,
            receipt: None,
        }],
        pull: Some(PullRequest {
            cursor: None,
            max_bytes: 1 << 20,
        }),
    };
    (doc_id, req)
}

/// POSTs raw bytes to /v1/sync; returns status and body.
pub fn post_sync(
    server: &TestServer,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut resp = http()
        .post(&format!("{}/v1/sync", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", content_type)
        .send(body)
        .expect("sync request");
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .expect("body");
    (status, body)
}

fn me(server: &TestServer, token: &str) -> UserId {
    let me = server.get_json(token, "/v1/me");
    UserId::parse(me["id"].as_str().expect("id")).expect("user id")
}

fn a_store(server: &TestServer, token: &str) -> StoreId {
    let master = server.get_json(token, "/v1/master?since=0");
    StoreId::parse(master["stores"][0]["id"].as_str().expect("store id")).expect("store id")
}

#[test]
fn replaying_a_sync_request_stores_nothing_new() {
    let server = TestServer::start();
    let device = server.device_token("rep1");
    let token = device.token.clone();
    let (doc_id, req) = visit_push_request(&device, a_store(&server, &token), me(&server, &token));
    let body = protocol::encode(&req);

    let (status, first) = post_sync(&server, &token, SYNC_CONTENT_TYPE, &body);
    assert_eq!(status, 200);
    let first: SyncResponse = protocol::decode(&first).expect("response");
    assert_eq!(first.outcomes.len(), 1);
    assert!(
        matches!(first.outcomes[0].result, PushResult::Stored { new_changes, .. } if new_changes > 0),
        "first push stores the changes: {:?}",
        first.outcomes
    );
    let after_first = server.get_json(&token, &format!("/v1/visits/{doc_id}"));

    // The response was "lost": the device sends exactly the same bytes again.
    let (status, second) = post_sync(&server, &token, SYNC_CONTENT_TYPE, &body);
    assert_eq!(status, 200);
    let second: SyncResponse = protocol::decode(&second).expect("response");
    assert_eq!(
        second.outcomes.len(),
        1,
        "every pushed document gets an outcome"
    );
    assert_eq!(second.outcomes[0].result, PushResult::stored(0));
    let after_second = server.get_json(&token, &format!("/v1/visits/{doc_id}"));
    assert_eq!(
        after_first, after_second,
        "the replay changed nothing, not even the feed position"
    );

    // The feed did not grow: pulling from the first response's cursor finds nothing new.
    let cursor = first.pull.expect("pull page").cursor;
    let (_, other_req) = visit_push_request(&device, a_store(&server, &token), me(&server, &token));
    let pull_only = SyncRequest {
        push: vec![],
        pull: Some(PullRequest {
            cursor: Some(cursor),
            max_bytes: 1 << 20,
        }),
        ..other_req
    };
    let (status, third) = post_sync(
        &server,
        &token,
        SYNC_CONTENT_TYPE,
        &protocol::encode(&pull_only),
    );
    assert_eq!(status, 200);
    let third: SyncResponse = protocol::decode(&third).expect("response");
    let page = third.pull.expect("pull page");
    assert!(!page.reset, "the cursor is still valid");
    assert!(
        page.docs.is_empty(),
        "nothing new after a replay: {:?}",
        page.docs
    );
}

#[test]
fn a_dropped_sync_response_is_retried_harmlessly() {
    let server = TestServer::start();
    let proxy = DroppingProxy::start(server.url.trim_start_matches("http://"));
    let rep = TestDevice::login_via(&proxy.url, "rep1");
    let store = rep.stores().unwrap()[0].clone();
    let visit = rep
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    let (order, number) = rep
        .create_order(
            store.id,
            Timestamp::now().utc_date().add_days(7),
            PaymentMethod::Cash,
            Some(visit),
        )
        .unwrap();
    let sku = rep.products().unwrap()[0].sku.clone();
    let qty = rep.products().unwrap()[0].case_pack * 2;
    rep.set_order_line(order, sku.as_str(), qty, None).unwrap();

    // The server commits, the answer never arrives: the device sees a network failure.
    proxy.drop_next_sync_responses(1);
    let err = rep.sync().expect_err("the response was dropped");
    assert!(
        matches!(err, DeviceError::Offline(_)),
        "a dropped response is 'offline': {err:?}"
    );
    assert_eq!(proxy.dropped(), 1);

    // The device simply syncs again: same changes sent, nothing duplicated.
    let report = rep.sync().expect("retry");
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(rep.pending().unwrap().documents, 0, "nothing left to push");

    let token = server.token("sup1");
    let visits = server.get_json(&token, "/v1/visits");
    assert_eq!(
        visits["items"].as_array().unwrap().len(),
        1,
        "exactly one visit stored"
    );
    let orders = server.get_json(&token, "/v1/orders");
    let orders = orders["items"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "exactly one order stored: {orders:?}");
    assert_eq!(orders[0]["document"]["number"], number.as_str());
    assert_eq!(
        orders[0]["document"]["lines"][sku.as_str()]["quantity"],
        serde_json::json!(qty),
        "the line was stored once, with its quantity"
    );
}
