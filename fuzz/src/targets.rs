//! The fuzz targets: each takes the raw input bytes and panics when a promise breaks.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, Method, Request};
use serde_bytes::ByteBuf;

use fieldsync_shared::protocol::{
    decode, decode_request, encode, gunzip, DocPush, Limits, SyncRequest, SyncResponse,
    PROTOCOL_VERSION, SYNC_CONTENT_TYPE,
};
use fieldsync_shared::{DeviceId, DocId, DocKind};

use crate::harness::{harness, DEVICE_ID};

/// The CBOR sync request, plain and behind gzip: decoding never panics, a decompressed body
/// is never larger than the limit, and an accepted request re-encodes to the same request.
pub fn sync_request(data: &[u8]) {
    let limits = Limits::default();
    if let Ok(request) = decode_request(data, &limits) {
        let again = decode_request(&encode(&request), &limits)
            .expect("an accepted request re-encodes into an acceptable one");
        assert_eq!(
            again, request,
            "a request survives encode and decode unchanged"
        );
    }
    if let Ok(plain) = gunzip(data, limits.max_decoded_bytes) {
        assert!(plain.len() <= limits.max_decoded_bytes);
        let _ = decode_request(&plain, &limits);
    }
}

/// Documents the `sync_push` target writes to: a few fixed ids per kind, so that once the
/// fuzzer creates one, later inputs edit an existing document (the write policies' path).
pub fn push_doc_id(kind: DocKind, selector: u8) -> DocId {
    let kind_byte = match kind {
        DocKind::Visit => 0x1,
        _ => 0x2,
    };
    DocId::parse(&format!(
        "00000000-0000-4000-8000-0000000{kind_byte}000{}",
        selector % 4
    ))
    .expect("a valid id")
}

/// Encodes a `sync_push` input: kind byte, selector byte, then each change as a little-endian
/// u16 length and its bytes.
pub fn push_input(kind: DocKind, selector: u8, changes: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![u8::from(kind != DocKind::Visit), selector];
    for change in changes {
        let len = u16::try_from(change.len()).expect("a seed change fits in 64 KiB");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(change);
    }
    out
}

/// Automerge changes pushed by rep1's device through `POST /v1/sync`: whatever the bytes, the
/// answer is a sync response or a clear refusal, never a server error.
pub fn sync_push(data: &[u8]) {
    let [kind, selector, rest @ ..] = data else {
        return;
    };
    let kind = if kind % 2 == 0 {
        DocKind::Visit
    } else {
        DocKind::Order
    };
    let mut changes = Vec::new();
    let mut rest = rest;
    while let [a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*a, *b])).min(tail.len());
        changes.push(ByteBuf::from(tail[..len].to_vec()));
        rest = &tail[len..];
    }
    let request = SyncRequest {
        protocol: PROTOCOL_VERSION,
        device_id: DeviceId::parse(DEVICE_ID).expect("device id"),
        push: vec![DocPush {
            doc_id: push_doc_id(kind, *selector),
            kind: kind.as_str().to_string(),
            changes,
            receipt: None,
        }],
        pull: None,
    };
    let h = harness();
    let answer = h.call_checked(
        Request::post("/v1/sync")
            .header(header::CONTENT_TYPE, SYNC_CONTENT_TYPE)
            .header(header::AUTHORIZATION, format!("Bearer {}", h.rep_token))
            .body(Body::from(encode(&request)))
            .expect("request"),
    );
    if answer.status.is_success() {
        decode::<SyncResponse>(&answer.body).expect("a success answers a sync response");
    }
}

/// Uploads the `photo_upload` target works on, declared once per process.
struct Uploads {
    single: String,
    multipart: String,
}

fn uploads() -> &'static Uploads {
    static UPLOADS: OnceLock<Uploads> = OnceLock::new();
    UPLOADS.get_or_init(|| {
        let h = harness();
        let part = h.state().config.photos.part_bytes;
        let declare = |size: u64, sha: &str| {
            let answer = h.call_checked(json_request(
                Method::POST,
                "/v1/photos/uploads",
                &h.rep_token,
                format!(r#"{{"sha256":"{sha}","size_bytes":{size},"content_type":"image/jpeg"}}"#),
            ));
            let v: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
            v["upload_id"].as_str().expect("an upload").to_string()
        };
        Uploads {
            single: declare(1000, &"ab".repeat(32)),
            multipart: declare(part * 2 + 1, &"cd".repeat(32)),
        }
    })
}

fn json_request(method: Method, uri: &str, token: &str, body: String) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body))
        .expect("request")
}

fn bytes_request(method: Method, uri: &str, token: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "image/jpeg")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body))
        .expect("request")
}

/// Photo declarations, part lists, parts, whole photos and thumbnails from rep1's device. The
/// first byte picks the operation.
pub fn photo_upload(data: &[u8]) {
    let [op, rest @ ..] = data else {
        return;
    };
    let h = harness();
    let u = uploads();
    let text = String::from_utf8_lossy(rest).into_owned();
    let token = &h.rep_token;
    let request = match op % 6 {
        0 => json_request(Method::POST, "/v1/photos/uploads", token, text),
        1 => json_request(
            Method::POST,
            &format!("/v1/photos/uploads/{}/complete", u.single),
            token,
            text,
        ),
        2 => json_request(
            Method::POST,
            &format!("/v1/photos/uploads/{}/complete", u.multipart),
            token,
            text,
        ),
        3 => {
            let (n, body) = rest.split_first().map_or((0, &[][..]), |(n, b)| (*n, b));
            bytes_request(
                Method::PUT,
                &format!("/v1/photos/uploads/{}/parts/{}", u.multipart, n % 5),
                token,
                body.to_vec(),
            )
        }
        4 => bytes_request(
            Method::PUT,
            &format!("/v1/photos/uploads/{}/content", u.single),
            token,
            rest.to_vec(),
        ),
        _ => bytes_request(
            Method::PUT,
            &format!("/v1/photos/{}/thumbnail", "ab".repeat(32)),
            token,
            rest.to_vec(),
        ),
    };
    h.call_checked(request);
}

/// The import kinds, as `/v1/admin/import/{kind}` names them.
pub const IMPORT_KINDS: [&str; 10] = [
    "stores",
    "products",
    "credit",
    "territories",
    "users",
    "assortment",
    "promotions",
    "targets",
    "success-pictures",
    "agreements",
];

/// A CSV file of the kind the first byte picks, imported by the administrator.
pub fn csv_import(data: &[u8]) {
    let [kind, rest @ ..] = data else {
        return;
    };
    let kind = IMPORT_KINDS[usize::from(*kind) % IMPORT_KINDS.len()];
    let h = harness();
    h.call_checked(
        Request::post(format!("/v1/admin/import/{kind}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .header(header::AUTHORIZATION, format!("Bearer {}", h.admin_token))
            .body(Body::from(rest.to_vec()))
            .expect("request"),
    );
}

/// Access tokens in the verifier and as a bearer header, and refresh tokens at the exchange.
pub fn tokens(data: &[u8]) {
    let h = harness();
    let text = String::from_utf8_lossy(data);
    if let Ok(claims) = h.state().tokens.verify(&text) {
        // Only a token the server signed verifies.
        assert!(
            text == h.rep_token || text == h.admin_token,
            "a token the server never issued verified: {claims:?}"
        );
    }
    if let Ok(request) = Request::get("/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {text}"))
        .body(Body::empty())
    {
        h.call_checked(request);
    }
    let body = serde_json::json!({ "refresh_token": text }).to_string();
    // Never the real refresh token: exchanging it would end the rep's session for later inputs.
    if text != h.rep_refresh {
        h.call_checked(
            Request::post("/v1/auth/refresh")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .expect("request"),
        );
    }
}

/// The listings' query strings (the first byte picks the listing), as rep1.
pub fn query_filters(data: &[u8]) {
    let [which, rest @ ..] = data else {
        return;
    };
    let path = [
        "/v1/visits",
        "/v1/orders",
        "/v1/master",
        "/v1/admin/devices",
    ][usize::from(*which) % 4];
    let mut uri = format!("{path}?");
    for &b in rest {
        if b.is_ascii_alphanumeric() || b"-._~&=%+,:[]".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    let h = harness();
    let token = if path.starts_with("/v1/admin") {
        &h.admin_token
    } else {
        &h.rep_token
    };
    let Ok(request) = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
    else {
        return;
    };
    h.call_checked(request);
}

/// A fuzz target: the input bytes in, a panic when a promise breaks.
pub type Target = fn(&[u8]);

/// Every target by name.
pub const ALL: [(&str, Target); 6] = [
    ("sync_request", sync_request),
    ("sync_push", sync_push),
    ("photo_upload", photo_upload),
    ("csv_import", csv_import),
    ("tokens", tokens),
    ("query_filters", query_filters),
];
