//! Malformed, mistyped, oversized and unknown input is refused with a 4xx and a
//! machine-readable reason, and nothing of it is stored.

use fieldsync_e2e::{DeviceToken, TestServer};
use fieldsync_shared::protocol::{self, SyncRequest, SYNC_CONTENT_TYPE};

use crate::replay::{post_sync, visit_push_request};

fn reason(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "error body is JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    });
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a human message: {v}"
    );
    v["reason"].as_str().expect("reason").to_string()
}

fn assert_nothing_stored(server: &TestServer, token: &str) {
    let visits = server.get_json(token, "/v1/visits");
    assert_eq!(visits["items"], serde_json::json!([]), "no visit stored");
    let orders = server.get_json(token, "/v1/orders");
    assert_eq!(orders["items"], serde_json::json!([]), "no order stored");
}

/// A valid request of `device` (a new visit of its user).
fn valid_request(server: &TestServer, device: &DeviceToken) -> SyncRequest {
    let token = &device.token;
    let me = server.get_json(token, "/v1/me");
    let master = server.get_json(token, "/v1/master?since=0");
    let (_, req) = visit_push_request(
        device,
        fieldsync_shared::StoreId::parse(master["stores"][0]["id"].as_str().unwrap()).unwrap(),
        fieldsync_shared::UserId::parse(me["id"].as_str().unwrap()).unwrap(),
    );
    req
}

#[test]
fn malformed_bytes_are_refused() {
    let server = TestServer::start();
    let device = server.device_token("rep1");
    let token = device.token.clone();
    let (status, body) = post_sync(
        &server,
        &token,
        SYNC_CONTENT_TYPE,
        b"\xff\x00 definitely not CBOR",
    );
    assert_eq!(status, 400);
    assert_eq!(reason(&body), "malformed_body");

    // A valid message followed by trailing garbage is malformed too.
    let mut bytes = protocol::encode(&valid_request(&server, &device));
    bytes.extend_from_slice(b"trailing");
    let (status, body) = post_sync(&server, &token, SYNC_CONTENT_TYPE, &bytes);
    assert_eq!(status, 400);
    assert_eq!(reason(&body), "malformed_body");
    assert_nothing_stored(&server, &token);
}

#[test]
fn wrong_content_type_is_refused() {
    let server = TestServer::start();
    let device = server.device_token("rep1");
    let token = device.token.clone();
    let bytes = protocol::encode(&valid_request(&server, &device));
    let (status, body) = post_sync(&server, &token, "application/json", &bytes);
    assert_eq!(status, 415);
    assert_eq!(reason(&body), "unsupported_media_type");
    assert_nothing_stored(&server, &token);
}

#[test]
fn unsupported_content_encoding_is_refused() {
    let server = TestServer::start();
    let device = server.device_token("rep1");
    let token = device.token.clone();
    let bytes = protocol::encode(&valid_request(&server, &device));
    // The protocol decodes gzip and identity only; anything else is named as an encoding
    // problem, not a media type problem, so a client knows which header to fix.
    for encoding in ["br", "zstd"] {
        let mut resp = fieldsync_e2e::http()
            .post(&format!("{}/v1/sync", server.url))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", SYNC_CONTENT_TYPE)
            .header("Content-Encoding", encoding)
            .send(&bytes[..])
            .expect("request");
        assert_eq!(resp.status(), 415, "{encoding}");
        let body = resp.body_mut().read_to_vec().unwrap();
        assert_eq!(reason(&body), "unsupported_content_encoding", "{encoding}");
    }
    assert_nothing_stored(&server, &token);
}

#[test]
fn oversized_body_is_refused() {
    use std::io::{Read, Write};
    let server = TestServer::start();
    let token = server.token("rep1");
    let limit = fieldsync_shared::protocol::Limits::default().max_body_bytes;
    // Declare a body over the limit and send only its first bytes: the server answers from the
    // declared length, before receiving (let alone storing) anything.
    let addr = server.url.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        conn,
        "POST /v1/sync HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {SYNC_CONTENT_TYPE}\r\nContent-Length: {}\r\n\r\n",
        limit + 1024
    )
    .unwrap();
    conn.write_all(&[0u8; 1024]).unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the JSON body is complete (the server may keep the connection open).
    while !response.ends_with(b"}") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    let body = &text[text.find("\r\n\r\n").expect("headers end") + 4..];
    assert_eq!(reason(body.as_bytes()), "body_too_large");
    assert_nothing_stored(&server, &token);
}

#[test]
fn gzip_bomb_is_refused() {
    let server = TestServer::start();
    let token = server.token("rep1");
    // 64 MiB of zeros compresses to ~64 KiB: small on the wire, over the decoded limit.
    let bomb = protocol::gzip(&vec![0u8; 64 * 1024 * 1024]);
    let mut resp = fieldsync_e2e::http()
        .post(&format!("{}/v1/sync", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", SYNC_CONTENT_TYPE)
        .header("Content-Encoding", "gzip")
        .send(&bomb[..])
        .expect("request");
    assert_eq!(resp.status(), 413);
    let body = resp.body_mut().read_to_vec().unwrap();
    assert_eq!(reason(&body), "limit_exceeded");
    assert_nothing_stored(&server, &token);
}

#[test]
fn unknown_document_kind_refuses_the_whole_request() {
    let server = TestServer::start();
    let device = server.device_token("rep1");
    let token = device.token.clone();
    let mut req = valid_request(&server, &device);
    // A second, well-formed document of a kind this server does not know: the request is
    // refused as a whole, so the valid visit in it is not stored either.
    let mut unknown = req.push[0].clone();
    unknown.doc_id = fieldsync_shared::DocId::new_random();
    unknown.kind = "expense_claim".into();
    req.push.push(unknown);
    let (status, body) = post_sync(&server, &token, SYNC_CONTENT_TYPE, &protocol::encode(&req));
    assert_eq!(status, 422);
    assert_eq!(reason(&body), "unknown_document_kind");
    assert_nothing_stored(&server, &token);
}

#[test]
fn unsupported_protocol_version_is_refused() {
    let server = TestServer::start();
    let device = server.device_token("rep1");
    let token = device.token.clone();
    let mut req = valid_request(&server, &device);
    req.protocol = 99;
    let (status, body) = post_sync(&server, &token, SYNC_CONTENT_TYPE, &protocol::encode(&req));
    assert_eq!(status, 400);
    assert_eq!(reason(&body), "unsupported_protocol_version");
    assert_nothing_stored(&server, &token);
}

#[test]
fn changes_that_are_not_automerge_are_refused_per_document() {
    let server = TestServer::start();
    let device = server.device_token("rep1");
    let token = device.token.clone();
    let mut req = valid_request(&server, &device);
    req.push[0].changes = vec![serde_bytes::ByteBuf::from(
        b"not an automerge change".to_vec(),
    )];
    let (status, body) = post_sync(&server, &token, SYNC_CONTENT_TYPE, &protocol::encode(&req));
    // Either the whole request is refused or the document gets a Refused outcome; in both cases
    // the answer says why and nothing is stored.
    if status == 200 {
        let resp: fieldsync_shared::protocol::SyncResponse = protocol::decode(&body).unwrap();
        assert!(
            matches!(
                resp.outcomes[0].result,
                fieldsync_shared::protocol::PushResult::Refused { .. }
            ),
            "{:?}",
            resp.outcomes
        );
    } else {
        assert!((400..500).contains(&status), "4xx, got {status}");
        assert!(!reason(&body).is_empty());
    }
    assert_nothing_stored(&server, &token);
}

#[test]
fn sync_without_a_token_is_unauthorized() {
    let server = TestServer::start();
    let resp = fieldsync_e2e::http()
        .post(&format!("{}/v1/sync", server.url))
        .header("Content-Type", SYNC_CONTENT_TYPE)
        .send(&b""[..])
        .expect("request");
    assert_eq!(resp.status(), 401);
}

#[test]
fn a_visit_for_a_store_outside_the_master_data_is_refused() {
    let server = TestServer::start();
    let device = server.device_token("rep1");
    let token = device.token.clone();
    let me = server.get_json(&token, "/v1/me");
    let me = fieldsync_shared::UserId::parse(me["id"].as_str().unwrap()).unwrap();
    let unknown = fieldsync_shared::StoreId::new_random();
    let (doc_id, mut req) = visit_push_request(&device, unknown, me);
    req.pull = None;
    let (status, body) = post_sync(&server, &token, SYNC_CONTENT_TYPE, &protocol::encode(&req));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let resp: protocol::SyncResponse = protocol::decode(&body).unwrap();
    assert_eq!(resp.outcomes[0].doc_id, doc_id);
    match &resp.outcomes[0].result {
        protocol::PushResult::Refused { reason, message } => {
            assert_eq!(reason, "forbidden");
            assert!(message.starts_with("identity: "), "{message}");
            assert!(message.contains(&unknown.to_string()), "{message}");
        }
        other => panic!("a visit for an unknown store was not refused: {other:?}"),
    }
    assert_nothing_stored(&server, &token);

    // A store of the master data is fine.
    let (status, body) = post_sync(
        &server,
        &token,
        SYNC_CONTENT_TYPE,
        &protocol::encode(&valid_request(&server, &device)),
    );
    assert_eq!(status, 200);
    let resp: protocol::SyncResponse = protocol::decode(&body).unwrap();
    assert_eq!(resp.outcomes[0].result, protocol::PushResult::stored(1));
}
