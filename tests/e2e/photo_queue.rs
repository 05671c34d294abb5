//! The device's photo queue against the real server (docs/photo-uploads.md): declare, single or
//! multipart, through the server (local blob store) or with presigned requests straight to the
//! object store (the S3 store on the Garage that `scripts/with-garage.sh` starts; those tests
//! fail, never skip, without it), `complete`.
//!
//! A [`FaultProxy`] sits between the device and the server (to log what the device sends and to
//! break the network on cue), and between the server and Garage for the presigned tests (the
//! server's S3 endpoint is the proxy, so the presigned URLs lead through it too).

use fieldsync_client::{Device, PhotoState, PhotoUpload};
use fieldsync_e2e::proxy::{Fault, FaultProxy, SeenRequest};
use fieldsync_e2e::{
    http, photo_bytes, png_bytes, test_s3_endpoint, use_test_s3, write_file, TestDevice, TestServer,
};
use fieldsync_server::config::Config;
use fieldsync_shared::{DocId, Sha256, Timestamp};

#[path = "../../client-sdk/tests/common/mod.rs"]
mod v1_app;

/// Multipart settings of the local-store tests: photos above 8 KiB in parts of 4 KiB.
const THRESHOLD: u64 = 8 * 1024;
const PART: u64 = 4 * 1024;
const MIB: usize = 1024 * 1024;

/// Small multipart settings; no background clean-up (tests run it themselves).
fn local_store(config: &mut Config) {
    config.photos.multipart_threshold_bytes = THRESHOLD;
    config.photos.part_bytes = PART;
    config.photos.gc_interval_secs = 0;
}

/// The S3 store on Garage, reached through `garage` (a proxy in front of it); parts of 5 MiB
/// (S3's minimum), photos above 5 MiB in parts, up to 24 MiB.
fn s3_store(config: &mut Config, garage: &FaultProxy) {
    use_test_s3(config);
    config.blobs.s3_endpoint = Some(garage.url.clone());
    config.max_photo_bytes = 24 * MIB as u64;
    config.photos.multipart_threshold_bytes = 5 * MIB as u64;
    config.photos.part_bytes = 5 * MIB as u64;
    config.photos.gc_interval_secs = 0;
}

/// A proxy in front of Garage.
fn garage_proxy() -> FaultProxy {
    FaultProxy::start(&test_s3_endpoint())
}

/// rep1's device, logged in through `proxy`, after its first sync, with a visit started.
fn device_with_visit(proxy: &FaultProxy) -> (TestDevice, DocId) {
    let dev = TestDevice::login_via(&proxy.url, "rep1");
    let visit = start_visit(&dev);
    (dev, visit)
}

fn start_visit(dev: &Device) -> DocId {
    let store = dev.stores().expect("stores").remove(0);
    dev.start_visit(store.id, Timestamp::now().utc_date())
        .expect("start visit")
}

/// Writes `bytes` to a file of the device's folder and attaches it to `visit`.
fn attach(dev: &TestDevice, visit: DocId, bytes: &[u8]) -> Sha256 {
    let sha = Sha256::digest(bytes);
    let file = write_file(dev.dir.path(), &format!("{sha}.jpg"), bytes);
    dev.attach_photo(visit, &file, None).expect("attach photo")
}

fn photo_state(dev: &Device, sha: Sha256) -> PhotoUpload {
    dev.photo_uploads()
        .expect("photo queue")
        .into_iter()
        .find(|p| p.sha256 == sha)
        .expect("photo in the queue")
}

/// The photo requests among `requests`, as "declare <sha>", "status <id>", "ask <id> <n>" (where
/// to send part n), "part <id> <n>", "content <id>", "complete <id>".
fn photo_log(requests: &[SeenRequest]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.path().starts_with("/v1/photos/"))
        .map(|r| {
            let segs: Vec<&str> = r
                .path()
                .trim_start_matches("/v1/photos/uploads")
                .split('/')
                .filter(|s| !s.is_empty())
                .collect();
            match (r.method.as_str(), segs.as_slice()) {
                ("POST", []) => {
                    let body: serde_json::Value =
                        serde_json::from_slice(&r.body).expect("declaration JSON");
                    format!("declare {}", body["sha256"].as_str().unwrap_or("?"))
                }
                ("GET", [id]) => format!("status {id}"),
                ("GET", [id, "parts", n]) => format!("ask {id} {n}"),
                ("PUT", [id, "parts", n]) => format!("part {id} {n}"),
                ("PUT", [id, "content"]) => format!("content {id}"),
                ("POST", [id, "complete"]) => format!("complete {id}"),
                _ => format!("{} {}", r.method, r.path()),
            }
        })
        .collect()
}

/// A part PUT to the server (`PUT /v1/photos/uploads/{id}/parts/{n}`).
fn is_part_to_server(r: &SeenRequest) -> bool {
    r.is("PUT", "/v1/photos/uploads/") && r.path().contains("/parts/")
}

/// A part PUT to the object store (a presigned `UploadPart`).
fn is_part_to_store(r: &SeenRequest) -> bool {
    r.method == "PUT" && r.query("partNumber").is_some()
}

/// Whether the server holds the photo (`HEAD /v1/photos/{sha}`).
fn server_has(server: &TestServer, token: &str, sha: Sha256) -> bool {
    let resp = http()
        .head(&format!("{}/v1/photos/{sha}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("HEAD photo");
    match resp.status().as_u16() {
        200 => true,
        404 => false,
        other => panic!("HEAD /v1/photos/{sha}: {other}"),
    }
}

/// GETs `path` from the server with the token; a `307` (to a presigned GET on the object
/// store) is followed without it, as docs/photo-uploads.md says. Status and body.
fn download(server: &TestServer, token: &str, path: &str) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut resp = agent
        .get(&format!("{}{path}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    if resp.status() == 307 {
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("Location of the 307")
            .to_string();
        resp = agent
            .get(&location)
            .call()
            .unwrap_or_else(|e| panic!("GET {location}: {e}"));
    }
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * MIB as u64)
        .read_to_vec()
        .expect("body");
    (status, body)
}

/// The photo's bytes as the server serves them.
fn served_photo(server: &TestServer, token: &str, sha: Sha256) -> Vec<u8> {
    let (status, body) = download(server, token, &format!("/v1/photos/{sha}"));
    assert_eq!(status, 200, "GET /v1/photos/{sha}");
    body
}

fn bytes_received(server: &TestServer) -> f64 {
    server.metric("photo_upload_bytes_received_total")
}

// ---------------------------------------------------------------------------------------------
// 1. Nothing the server already has is sent again.

#[test]
fn a_photo_another_device_uploaded_is_only_declared() {
    let server = TestServer::start_with(local_store);
    let proxy = FaultProxy::start(&server.url);
    let bytes = photo_bytes(4000, 1);

    // The rep's other phone (same tenant) uploaded the photo already.
    let other = TestDevice::login(&server, "rep2");
    let other_visit = start_visit(&other);
    let sha = attach(&other, other_visit, &bytes);
    assert_eq!(other.sync().unwrap().photos_uploaded, 1);
    let received = bytes_received(&server);
    assert_eq!(
        received,
        bytes.len() as f64,
        "sent once, through the server"
    );

    let (dev, visit) = device_with_visit(&proxy);
    assert_eq!(attach(&dev, visit, &bytes), sha);
    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    assert_eq!(
        photo_log(&proxy.requests_since(mark)),
        vec![format!("declare {sha}")],
        "declared, nothing sent"
    );
    assert_eq!(bytes_received(&server), received, "no byte sent again");
    let p = photo_state(&dev, sha);
    assert_eq!((p.state, p.attempts), (PhotoState::Uploaded, 0));
    assert!(
        dev.photo_path(&sha).unwrap().unwrap().exists(),
        "the file stays on the device"
    );
}

/// Found by the simulation (seed 110267): another person's upload of the same bytes that lost
/// its connection half-way used to answer `409 upload_in_progress` until that phone came back.
#[test]
fn a_half_finished_upload_of_the_same_photo_by_another_person_does_not_block_this_one() {
    let server = TestServer::start_with(local_store);
    let other_proxy = FaultProxy::start(&server.url);
    // 10 KiB: parts of 4, 4 and 2 KiB; the other phone loses its connection after part 1.
    let bytes = photo_bytes(10 * 1024, 5);
    let other = TestDevice::login_via(&other_proxy.url, "merch1");
    let other_visit = start_visit(&other);
    let sha = attach(&other, other_visit, &bytes);
    other_proxy.cut_from(2, is_part_to_server);
    other.sync().unwrap();
    let half = photo_state(&other, sha);
    assert_eq!(half.parts_done, vec![1], "{half:?}");
    let other_upload = half.upload_id.expect("an open upload");

    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    assert_eq!(attach(&dev, visit, &bytes), sha);
    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    let sent = photo_log(&proxy.requests_since(mark));
    let own = sent
        .iter()
        .find_map(|s| s.strip_prefix("complete "))
        .expect("completed its own upload")
        .to_string();
    assert_ne!(own, other_upload, "an upload of its own: {sent:?}");
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Uploaded);
    let token = server.token("rep1");
    assert_eq!(served_photo(&server, &token, sha), bytes);

    // The other phone comes back: its upload closes as stored, nothing more is sent.
    other_proxy.clear_faults();
    let received = bytes_received(&server);
    let report = other.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    assert_eq!(photo_state(&other, sha).state, PhotoState::Uploaded);
    assert!(
        bytes_received(&server) <= received + 4.0 * 1024.0,
        "at most the part in flight is sent again"
    );
    let token = server.token("merch1");
    let status = server.get_json(&token, &format!("/v1/photos/uploads/{other_upload}"));
    assert_eq!(status["status"], "stored", "{status}");
}

// ---------------------------------------------------------------------------------------------
// 2. A single upload goes straight to the object store.

#[test]
fn a_single_upload_goes_to_the_object_store_with_a_presigned_request() {
    let garage = garage_proxy();
    let server = TestServer::start_with(|c| s3_store(c, &garage));
    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    let bytes = png_bytes(640, 480, 2);
    assert!(bytes.len() < 5 * MIB);
    let sha = attach(&dev, visit, &bytes);

    let (mark, store_mark) = (proxy.mark(), garage.mark());
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Uploaded);

    // The device sent the thumbnail first (a real PNG decodes), then declared and completed
    // through the server; the bytes went to the store.
    let sent = photo_log(&proxy.requests_since(mark));
    assert_eq!(sent.len(), 3, "thumbnail, declare, complete: {sent:?}");
    assert_eq!(sent[0], format!("PUT /v1/photos/{sha}/thumbnail"));
    assert_eq!(sent[1], format!("declare {sha}"));
    assert!(sent[2].starts_with("complete "), "{sent:?}");
    assert_eq!(
        bytes_received(&server),
        0.0,
        "no photo byte through the server"
    );
    let puts: Vec<SeenRequest> = garage
        .requests_since(store_mark)
        .into_iter()
        .filter(|r| r.method == "PUT" && r.body == bytes)
        .collect();
    assert_eq!(puts.len(), 1, "one presigned PUT with the photo");
    assert!(
        puts[0].header("authorization").is_none(),
        "no credentials of ours at the object store"
    );
    assert!(
        puts[0].query("X-Amz-Signature").is_some(),
        "a presigned request: {}",
        puts[0].target
    );
    assert!(
        puts[0].header("x-amz-checksum-sha256").is_some(),
        "the store checks the bytes against the signed checksum"
    );

    // Stored, downloadable, with a thumbnail.
    let token = server.token("sup1");
    assert!(server_has(&server, &token, sha));
    assert_eq!(served_photo(&server, &token, sha), bytes);
    let (status, thumb) = download(&server, &token, &format!("/v1/photos/{sha}/thumbnail"));
    assert_eq!(status, 200, "thumbnail");
    let thumb = image::load_from_memory_with_format(&thumb, image::ImageFormat::Jpeg)
        .expect("the thumbnail is a JPEG");
    assert_eq!((thumb.width(), thumb.height()), (256, 192));
}

// ---------------------------------------------------------------------------------------------
// 3. Multipart uploads resume after a lost connection and an app restart.

/// The connection drops while the third part is sent. Documents still sync; the parts the
/// server acknowledged survive the app being closed; after a restart only the missing parts
/// are sent, to the same upload.
fn multipart_resumes(s3: bool) {
    let garage = s3.then(garage_proxy);
    let server = TestServer::start_with(|c| match &garage {
        Some(g) => s3_store(c, g),
        None => local_store(c),
    });
    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    // Local: 18 KiB in parts of 4 KiB (5 parts). S3: 11 MiB in parts of 5 MiB (3 parts).
    let (bytes, part, parts) = if s3 {
        (photo_bytes(11 * MIB, 3), 5 * MIB, 3)
    } else {
        (photo_bytes(18 * 1024, 3), PART as usize, 5)
    };
    let sha = attach(&dev, visit, &bytes);
    // Where the parts go: the store (presigned) or the server.
    let part_proxy = garage.as_ref().unwrap_or(&proxy);
    let is_part = if s3 {
        is_part_to_store
    } else {
        is_part_to_server
    };
    part_proxy.cut_from(3, is_part);

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
    assert!(report.docs_pushed >= 1, "{report:?}");
    let pending = dev.pending().unwrap();
    assert_eq!((pending.documents, pending.photos), (0, 1));
    let half = photo_state(&dev, sha);
    assert_eq!(half.state, PhotoState::Uploading);
    assert_eq!(
        (half.parts, half.parts_done.clone()),
        (Some(parts), vec![1, 2])
    );
    assert!(half.attempts >= 1 && half.last_error.is_some(), "{half:?}");
    let upload_id = half.upload_id.clone().unwrap();
    let cut: Vec<SeenRequest> = part_proxy
        .requests()
        .into_iter()
        .filter(|r| r.fault == Some(Fault::Cut))
        .collect();
    assert!(!cut.is_empty(), "the third part was cut");

    // The app is killed and started again; the connection is back.
    let TestDevice { device, dir } = dev;
    drop(device);
    part_proxy.clear_faults();
    let dev = Device::open(dir.path()).unwrap();
    let reopened = photo_state(&dev, sha);
    assert_eq!(reopened.upload_id.as_deref(), Some(upload_id.as_str()));
    assert_eq!(reopened.parts_done, vec![1, 2]);
    let token = server.token("rep1");
    let status = server.get_json(&token, &format!("/v1/photos/uploads/{upload_id}"));
    assert_eq!(status["status"], "uploading", "{status}");
    assert_eq!(
        status["stored_parts"],
        serde_json::json!([1, 2]),
        "{status}"
    );

    let received = bytes_received(&server);
    let (mark, part_mark) = (proxy.mark(), part_proxy.mark());
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);

    // Only the missing parts were sent, to the same upload.
    let sent = photo_log(&proxy.requests_since(mark));
    let mut expected = vec![format!("declare {sha}"), format!("status {upload_id}")];
    for n in 3..=parts {
        expected.push(format!("ask {upload_id} {n}"));
        if !s3 {
            expected.push(format!("part {upload_id} {n}"));
        }
    }
    expected.push(format!("complete {upload_id}"));
    assert_eq!(sent, expected);
    let part_puts: Vec<SeenRequest> = part_proxy
        .requests_since(part_mark)
        .into_iter()
        .filter(is_part)
        .collect();
    let numbers: Vec<String> = part_puts
        .iter()
        .map(|r| {
            if s3 {
                r.query("partNumber").unwrap().to_string()
            } else {
                r.path().rsplit('/').next().unwrap().to_string()
            }
        })
        .collect();
    let missing: Vec<String> = (3..=parts).map(|n| n.to_string()).collect();
    assert_eq!(numbers, missing, "only the missing parts");
    let missing_bytes = bytes.len() - 2 * part;
    assert_eq!(
        part_puts.iter().map(|r| r.body.len()).sum::<usize>(),
        missing_bytes
    );
    if s3 {
        assert!(part_puts
            .iter()
            .all(|r| r.header("authorization").is_none()));
        assert_eq!(bytes_received(&server), 0.0, "no byte through the server");
    } else {
        assert_eq!(bytes_received(&server) - received, missing_bytes as f64);
    }

    assert_eq!(served_photo(&server, &token, sha), bytes);
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Uploaded);
    assert!(dev.photo_path(&sha).unwrap().unwrap().exists());
    assert!(dev.pending().unwrap().is_empty());
}

#[test]
fn a_multipart_upload_through_the_server_resumes_after_a_lost_connection_and_a_restart() {
    multipart_resumes(false);
}

#[test]
fn a_presigned_multipart_upload_resumes_after_a_lost_connection_and_a_restart() {
    multipart_resumes(true);
}

// ---------------------------------------------------------------------------------------------
// 4. An upload the server's clean-up aborted starts over.

#[test]
fn an_upload_the_server_aborted_starts_over_under_a_new_id() {
    let server = TestServer::start_with(local_store);
    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    // 10 KiB: parts of 4, 4 and 2 KiB.
    let bytes = photo_bytes(10 * 1024, 4);
    let sha = attach(&dev, visit, &bytes);
    proxy.cut_from(2, is_part_to_server);
    dev.sync().unwrap();
    let old = photo_state(&dev, sha);
    assert_eq!(old.parts_done, vec![1]);
    let old_id = old.upload_id.unwrap();
    proxy.clear_faults();

    // The clean-up runs once the upload is older than FIELDSYNC_UPLOAD_MAX_AGE_SECS.
    let max_age_ms = server.config().photos.upload_max_age_secs as i64 * 1000;
    let gc = server.run_photo_gc_at(Timestamp(Timestamp::now().millis() + max_age_ms + 60_000));
    assert_eq!(
        (gc.expired_uploads, gc.aborted_multipart, gc.errors),
        (1, 1, 0),
        "{gc:?}"
    );
    let token = server.token("rep1");
    let status = server.get_json(&token, &format!("/v1/photos/uploads/{old_id}"));
    assert_eq!(status["status"], "expired", "{status}");

    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    let sent = photo_log(&proxy.requests_since(mark));
    let new_id = sent
        .iter()
        .find_map(|s| s.strip_prefix("complete "))
        .expect("completed")
        .to_string();
    assert_ne!(new_id, old_id);
    let id = &new_id;
    assert_eq!(
        sent,
        vec![
            format!("declare {sha}"),
            format!("status {id}"),
            format!("ask {id} 1"),
            format!("part {id} 1"),
            format!("ask {id} 2"),
            format!("part {id} 2"),
            format!("ask {id} 3"),
            format!("part {id} 3"),
            format!("complete {id}"),
        ]
    );
    assert_eq!(served_photo(&server, &token, sha), bytes);
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Uploaded);
}

// ---------------------------------------------------------------------------------------------
// 5. Bad bytes are never sent, and fail the photo once.

#[test]
fn a_corrupted_local_file_is_not_sent_and_attaching_the_photo_again_repairs_it() {
    let server = TestServer::start_with(local_store);
    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    let bytes = photo_bytes(2500, 6);
    let sha = attach(&dev, visit, &bytes);
    let stored = dev.photo_path(&sha).unwrap().unwrap();
    let mut damaged = bytes.clone();
    damaged[100] ^= 0xFF;
    std::fs::write(&stored, &damaged).unwrap();

    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert!(
        report.warnings.iter().any(|w| w.contains("corrupt")),
        "{:?}",
        report.warnings
    );
    assert_eq!(
        photo_log(&proxy.requests_since(mark)),
        Vec::<String>::new(),
        "nothing declared"
    );
    assert_eq!(dev.pending().unwrap().documents, 0, "documents synced");
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Failed);
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        damaged,
        "the file is kept as it is"
    );
    let token = server.token("rep1");
    assert!(!server_has(&server, &token, sha));

    // The user attaches the original again: the file is rewritten and the photo queued.
    assert_eq!(attach(&dev, visit, &bytes), sha);
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Pending);
    assert_eq!(std::fs::read(&stored).unwrap(), bytes);
    assert_eq!(dev.sync().unwrap().photos_uploaded, 1);
    assert_eq!(served_photo(&server, &token, sha), bytes);
}

#[test]
fn a_photo_corrupted_on_the_way_fails_once_and_keeps_its_file() {
    let server = TestServer::start_with(local_store);
    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    let bytes = photo_bytes(2500, 5);
    let sha = attach(&dev, visit, &bytes);
    // A broken middlebox flips a byte of the photo on its way to the server.
    proxy.corrupt_nth(1, |r| {
        r.is("PUT", "/v1/photos/uploads/") && r.path().ends_with("/content")
    });

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
    assert_eq!(dev.pending().unwrap().documents, 0, "documents synced");
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Failed);
    let pending = dev.pending().unwrap();
    assert_eq!((pending.photos, pending.photos_failed), (0, 1));
    assert!(dev.photo_path(&sha).unwrap().unwrap().exists());
    let token = server.token("rep1");
    assert!(!server_has(&server, &token, sha), "nothing stored");

    // Not retried by the next sync...
    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert!(photo_log(&proxy.requests_since(mark)).is_empty());
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // ...until the app asks.
    assert_eq!(dev.retry_failed_photos().unwrap(), 1);
    assert_eq!(dev.sync().unwrap().photos_uploaded, 1);
    assert_eq!(served_photo(&server, &token, sha), bytes);
    assert!(dev.pending().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// 6. Photos wait while the server cannot take them; documents do not.

#[test]
fn photos_stay_queued_while_the_photo_endpoints_answer_503() {
    let server = TestServer::start_with(local_store);
    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    let a = attach(&dev, visit, &photo_bytes(1500, 7));
    let b = attach(&dev, visit, &photo_bytes(1600, 8));
    proxy.respond_with(503, |r| r.path().starts_with("/v1/photos/"));

    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 0);
    // Each photo was tried (a 5xx is not a lost connection) and stays queued.
    assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
    assert!(report.warnings.iter().all(|w| w.contains("stays queued")));
    assert!(report.docs_pushed >= 1, "{report:?}");
    let pending = dev.pending().unwrap();
    assert_eq!((pending.documents, pending.photos), (0, 2));
    for sha in [a, b] {
        let p = photo_state(&dev, sha);
        assert_eq!((p.state, p.attempts), (PhotoState::Pending, 1));
        assert!(p.last_error.unwrap().contains("503"));
    }

    proxy.clear_faults();
    assert_eq!(dev.sync().unwrap().photos_uploaded, 2);
    assert!(dev.pending().unwrap().is_empty());
    let token = server.token("rep1");
    assert!(server_has(&server, &token, a) && server_has(&server, &token, b));
}

#[test]
fn photos_stay_queued_while_the_server_is_unreachable_for_them() {
    let server = TestServer::start_with(local_store);
    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    let a = attach(&dev, visit, &photo_bytes(1500, 9));
    let b = attach(&dev, visit, &photo_bytes(1600, 10));
    proxy.cut_from(1, |r| r.path().starts_with("/v1/photos/"));

    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 0);
    // The first lost connection pauses the photo phase for this sync.
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("photo uploads paused, 2 photo(s) stay queued"),
        "{:?}",
        report.warnings
    );
    assert!(report.docs_pushed >= 1, "{report:?}");
    let pending = dev.pending().unwrap();
    assert_eq!((pending.documents, pending.photos), (0, 2));
    let token = server.token("rep1");
    assert!(!server_has(&server, &token, a));

    proxy.clear_faults();
    assert_eq!(dev.sync().unwrap().photos_uploaded, 2);
    assert!(dev.pending().unwrap().is_empty());
    assert!(server_has(&server, &token, a) && server_has(&server, &token, b));
}

// ---------------------------------------------------------------------------------------------
// 7. Compression, nothing sent twice, photos of the v1 app.

#[test]
fn big_requests_are_gzipped_and_photos_uploaded_once() {
    let server = TestServer::start_with(local_store);
    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    dev.append_note(visit, &"a long note ".repeat(300)).unwrap();
    let bytes = photo_bytes(5000, 11);
    let sha = attach(&dev, visit, &bytes);

    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    let sent = proxy.requests_since(mark);
    assert!(
        sent.iter()
            .any(|r| r.is("POST", "/v1/sync") && r.header("content-encoding") == Some("gzip")),
        "the sync request went gzipped"
    );
    let log = photo_log(&sent);
    assert_eq!(log.len(), 3, "declare, content, complete: {log:?}");
    assert!(log[1].starts_with("content ") && log[2].starts_with("complete "));
    assert_eq!(bytes_received(&server), bytes.len() as f64);
    let token = server.token("sup1");
    assert_eq!(served_photo(&server, &token, sha), bytes);
    let served = server.get_json(&token, &format!("/v1/visits/{visit}"));
    assert!(
        served.to_string().contains("a long note a long note"),
        "the note arrived: {served}"
    );
    assert!(dev.pending().unwrap().is_empty());

    // Nothing is sent again.
    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert_eq!((report.photos_uploaded, report.changes_pushed), (0, 0));
    let again = proxy.requests_since(mark);
    assert!(photo_log(&again).is_empty(), "{:?}", photo_log(&again));
    for r in again.iter().filter(|r| r.is("POST", "/v1/sync")) {
        let req =
            fieldsync_shared::protocol::decode::<fieldsync_shared::protocol::SyncRequest>(&r.body)
                .expect("a small sync request is sent plain");
        assert!(req.push.is_empty(), "nothing pushed again: {req:?}");
    }
    assert_eq!(bytes_received(&server), bytes.len() as f64);
}

#[test]
fn photos_queued_by_a_v1_app_are_uploaded_after_the_upgrade() {
    let server = TestServer::start_with(local_store);
    let dir = tempfile::tempdir().unwrap();
    let bytes = v1_app::jpeg_bytes(2200, 9);
    let sha = {
        let conn = v1_app::create_v1_database(dir.path());
        v1_app::v1_queue_photo(dir.path(), &conn, &bytes, "pending")
    };
    let dev = Device::open(dir.path()).unwrap();
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Pending);
    dev.login(
        &server.url,
        fieldsync_e2e::DEMO_TENANT,
        "rep1",
        fieldsync_e2e::DEMO_PASSWORD,
    )
    .unwrap();
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    let token = server.token("rep1");
    assert_eq!(served_photo(&server, &token, sha), bytes);
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Uploaded);
}

// ---------------------------------------------------------------------------------------------
// 8. One photo per hash; answers lost after the server stored something.

#[test]
fn the_same_photo_on_two_visits_is_queued_and_uploaded_once() {
    let server = TestServer::start_with(local_store);
    let proxy = FaultProxy::start(&server.url);
    let (dev, first) = device_with_visit(&proxy);
    let second = start_visit(&dev);
    let bytes = photo_bytes(3000, 12);
    let sha = attach(&dev, first, &bytes);
    // Attached again, to another visit and to the same one, from another file.
    let copy = write_file(dev.dir.path(), "copy-of-the-photo.jpg", &bytes);
    assert_eq!(dev.attach_photo(second, &copy, None).unwrap(), sha);
    assert_eq!(dev.attach_photo(first, &copy, None).unwrap(), sha);
    assert_eq!(dev.photo_uploads().unwrap().len(), 1, "one queue entry");
    assert_eq!(dev.pending().unwrap().photos, 1);

    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    let log = photo_log(&proxy.requests_since(mark));
    assert_eq!(
        log.iter().filter(|l| l.starts_with("declare ")).count(),
        1,
        "{log:?}"
    );
    assert_eq!(bytes_received(&server), bytes.len() as f64, "sent once");
    for visit in [first, second] {
        assert_eq!(dev.visit(visit).unwrap().photos.len(), 1);
    }
    let token = server.token("sup1");
    assert_eq!(served_photo(&server, &token, sha), bytes);
}

/// The server stored the photo, but the answer to `complete` never arrived: the device does not
/// count the photo as stored, keeps the file and the queue entry; the next sync only declares
/// it (the server says `stored`) and sends no byte again.
#[test]
fn a_photo_whose_completion_answer_was_lost_is_kept_and_only_declared_again() {
    let server = TestServer::start_with(local_store);
    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    let bytes = photo_bytes(3000, 13);
    let sha = attach(&dev, visit, &bytes);
    proxy.fault_nth(Fault::DropResponse, 1, Some(1), |r| {
        r.is("POST", "/v1/photos/uploads/") && r.path().ends_with("/complete")
    });

    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 0, "{report:?}");
    let token = server.token("rep1");
    assert!(server_has(&server, &token, sha), "the server did store it");
    let p = photo_state(&dev, sha);
    assert_ne!(p.state, PhotoState::Uploaded, "{p:?}");
    assert_eq!(dev.pending().unwrap().photos, 1);
    assert_eq!(
        std::fs::read(dev.photo_path(&sha).unwrap().unwrap()).unwrap(),
        bytes,
        "the file stays until the server's confirmation arrives"
    );

    let received = bytes_received(&server);
    let mark = proxy.mark();
    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 1, "{:?}", report.warnings);
    assert_eq!(
        photo_log(&proxy.requests_since(mark)),
        vec![format!("declare {sha}")]
    );
    assert_eq!(bytes_received(&server), received, "no byte sent again");
    assert_eq!(photo_state(&dev, sha).state, PhotoState::Uploaded);
    assert!(dev.pending().unwrap().is_empty());
}

/// The server stored part 2 but its answer was cut: the device does not know, and asks. The
/// next sync sends parts 3 to 5 only.
#[test]
fn a_part_stored_whose_answer_was_cut_is_not_sent_again() {
    let server = TestServer::start_with(local_store);
    let proxy = FaultProxy::start(&server.url);
    let (dev, visit) = device_with_visit(&proxy);
    let bytes = photo_bytes(18 * 1024, 14);
    let sha = attach(&dev, visit, &bytes);
    proxy.fault_nth(Fault::CutResponseBody, 2, Some(1), is_part_to_server);

    let report = dev.sync().unwrap();
    assert_eq!(report.photos_uploaded, 0);
    let half = photo_state(&dev, sha);
    assert_eq!(half.parts_done, vec![1], "only part 1 was acknowledged");
    let upload_id = half.upload_id.unwrap();
    let token = server.token("rep1");
    let status = server.get_json(&token, &format!("/v1/photos/uploads/{upload_id}"));
    assert_eq!(
        status["stored_parts"],
        serde_json::json!([1, 2]),
        "{status}"
    );

    let mark = proxy.mark();
    assert_eq!(dev.sync().unwrap().photos_uploaded, 1);
    let parts: Vec<String> = proxy
        .requests_since(mark)
        .iter()
        .filter(|r| is_part_to_server(r))
        .map(|r| r.path().rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(parts, vec!["3", "4", "5"]);
    assert_eq!(served_photo(&server, &token, sha), bytes);
}
