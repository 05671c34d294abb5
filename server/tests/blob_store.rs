//! Blob store conformance suite: generic functions over [`BlobStore`], each run against
//! [`LocalBlobStore`] (a temporary folder) and [`S3BlobStore`] (the Garage that
//! `scripts/with-garage.sh` starts and names in `FIELDSYNC_TEST_S3_*`; each test uses its own
//! random key prefix in the shared bucket). Without those variables the S3 tests fail with a
//! message saying so: they never skip.
//!
//! Multipart parts here are small; AWS S3 itself wants at least 5 MiB for every part but the
//! last (Garage and the local folder have no minimum).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use fieldsync_server::blobs::{
    BlobKey, BlobStore, LocalBlobStore, MultipartId, PresignedRequest, S3BlobStore, S3Settings,
    StoredPart,
};
use fieldsync_server::config::Secret;
use fieldsync_shared::{Sha256, TenantId};

const TTL: Duration = Duration::from_secs(300);

/// Whether the store under test hands out presigned requests (S3) or receives bytes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presigns {
    Yes,
    No,
}

fn photo_key(tenant: TenantId, bytes: &[u8]) -> (BlobKey, Sha256) {
    let sha = Sha256::digest(bytes);
    (BlobKey::photo(tenant, &sha), sha)
}

/// Distinct bytes for each call (so tests never share content addresses by accident).
fn random_bytes(len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    getrandom::fill(&mut b).unwrap();
    b
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

// -------------------------------------------------------------------------------------------
// Sending presigned requests (as a device would), with ureq on the blocking pool.

/// Sends `req` with `body`; returns the status and the response body.
async fn send_presigned(req: &PresignedRequest, body: Option<Vec<u8>>) -> (u16, Vec<u8>) {
    let req = req.clone();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut builder = ureq::http::Request::builder()
            .method(req.method.as_str())
            .uri(req.url.as_str());
        for (name, value) in &req.headers {
            // The HTTP client sets Content-Length from the body it actually sends: a body of
            // another length than the one signed is then refused by the store.
            if name.eq_ignore_ascii_case("content-length") {
                continue;
            }
            builder = builder.header(name.as_str(), value.as_str());
        }
        let result = match body {
            Some(body) => agent.run(builder.body(body).unwrap()),
            None => agent.run(builder.body(()).unwrap()),
        };
        let mut resp = result.expect("the presigned request reaches the store");
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_vec().unwrap_or_default();
        (status, body)
    })
    .await
    .unwrap()
}

/// Stores part `number` the way a device would: through a presigned request if the store
/// gives one, else through the server (`put_part`).
async fn upload_part<B: BlobStore>(
    store: &B,
    key: &BlobKey,
    upload: &MultipartId,
    number: u32,
    bytes: &[u8],
    presigns: Presigns,
) {
    let sha = Sha256::digest(bytes);
    let presigned = store
        .presign_part(key, upload, number, &sha, bytes.len() as u64, TTL)
        .await
        .unwrap();
    assert_eq!(presigned.is_some(), presigns == Presigns::Yes);
    match presigned {
        Some(req) => {
            assert_eq!(req.method, "PUT");
            let (status, body) = send_presigned(&req, Some(bytes.to_vec())).await;
            assert!(
                (200..300).contains(&status),
                "part {number}: {status} {}",
                String::from_utf8_lossy(&body)
            );
        }
        None => store
            .put_part(key, upload, number, Bytes::copy_from_slice(bytes))
            .await
            .unwrap(),
    }
}

// -------------------------------------------------------------------------------------------
// The suite.

async fn put_get_exists_size_delete<B: BlobStore>(store: &B, _: Presigns) {
    let bytes = random_bytes(1000);
    let (key, _) = photo_key(TenantId::new_random(), &bytes);
    assert!(!store.exists(&key).await.unwrap());
    assert_eq!(store.get(&key).await.unwrap(), None);
    assert_eq!(store.size(&key).await.unwrap(), None);

    store.put(&key, Bytes::from(bytes.clone())).await.unwrap();
    assert!(store.exists(&key).await.unwrap());
    assert_eq!(store.get(&key).await.unwrap().as_deref(), Some(&bytes[..]));
    assert_eq!(store.size(&key).await.unwrap(), Some(1000));

    store.delete(&key).await.unwrap();
    assert!(!store.exists(&key).await.unwrap());
    assert_eq!(store.get(&key).await.unwrap(), None);
    // Deleting an absent key is not an error.
    store.delete(&key).await.unwrap();
}

async fn empty_and_large_blobs<B: BlobStore>(store: &B, _: Presigns) {
    let empty = BlobKey::parse("misc/empty").unwrap();
    store.put(&empty, Bytes::new()).await.unwrap();
    assert_eq!(store.size(&empty).await.unwrap(), Some(0));
    assert_eq!(store.get(&empty).await.unwrap().as_deref(), Some(&b""[..]));

    let large = random_bytes(3 * 1024 * 1024 + 17);
    let (key, _) = photo_key(TenantId::new_random(), &large);
    store.put(&key, Bytes::from(large.clone())).await.unwrap();
    assert_eq!(store.size(&key).await.unwrap(), Some(large.len() as u64));
    assert!(store.get(&key).await.unwrap().unwrap() == large);
}

async fn put_twice_is_a_no_op<B: BlobStore>(store: &B, _: Presigns) {
    let bytes = random_bytes(64);
    let (key, _) = photo_key(TenantId::new_random(), &bytes);
    store.put(&key, Bytes::from(bytes.clone())).await.unwrap();
    store.put(&key, Bytes::from(bytes.clone())).await.unwrap();
    // Keys are content addresses: a second put does not even look at its bytes.
    store
        .put(&key, Bytes::from_static(b"something else"))
        .await
        .unwrap();
    assert_eq!(store.get(&key).await.unwrap().as_deref(), Some(&bytes[..]));
    assert_eq!(store.size(&key).await.unwrap(), Some(64));
}

async fn tenants_are_isolated<B: BlobStore>(store: &B, _: Presigns) {
    let bytes = random_bytes(100);
    let sha = Sha256::digest(&bytes);
    let (t1, t2) = (TenantId::new_random(), TenantId::new_random());
    let (k1, k2) = (BlobKey::photo(t1, &sha), BlobKey::photo(t2, &sha));
    assert_ne!(k1, k2);
    store.put(&k1, Bytes::from(bytes.clone())).await.unwrap();
    assert!(store.exists(&k1).await.unwrap());
    assert!(!store.exists(&k2).await.unwrap());
    assert_eq!(store.get(&k2).await.unwrap(), None);
    assert_eq!(store.size(&k2).await.unwrap(), None);
    // Deleting the other tenant's (absent) copy leaves this one alone.
    store.delete(&k2).await.unwrap();
    assert_eq!(store.get(&k1).await.unwrap().as_deref(), Some(&bytes[..]));
}

async fn multipart_assembles_the_parts_in_order<B: BlobStore>(store: &B, presigns: Presigns) {
    let parts = [random_bytes(1500), random_bytes(1500), random_bytes(700)];
    let whole: Vec<u8> = parts.concat();
    let (key, _) = photo_key(TenantId::new_random(), &whole);
    let upload = store.create_multipart(&key).await.unwrap();
    assert_eq!(store.list_parts(&key, &upload).await.unwrap(), vec![]);

    // Out of order, as a device that retries might send them.
    for number in [2u32, 1, 3] {
        let bytes = &parts[number as usize - 1];
        upload_part(store, &key, &upload, number, bytes, presigns).await;
    }
    assert_eq!(
        store.list_parts(&key, &upload).await.unwrap(),
        vec![
            StoredPart {
                number: 1,
                size: 1500
            },
            StoredPart {
                number: 2,
                size: 1500
            },
            StoredPart {
                number: 3,
                size: 700
            },
        ]
    );
    assert!(
        !store.exists(&key).await.unwrap(),
        "not visible before completion"
    );

    store.complete_multipart(&key, &upload, 3).await.unwrap();
    assert_eq!(store.size(&key).await.unwrap(), Some(whole.len() as u64));
    assert!(store.get(&key).await.unwrap().unwrap() == whole);
    // The upload is gone.
    assert!(store.list_parts(&key, &upload).await.is_err());
    let pending = store.list_multipart(now_millis() + 60_000).await.unwrap();
    assert!(!pending.iter().any(|p| p.id == upload));
}

async fn multipart_resumes_from_the_stored_parts<B: BlobStore>(store: &B, presigns: Presigns) {
    let parts = [random_bytes(1024), random_bytes(1024), random_bytes(10)];
    let whole: Vec<u8> = parts.concat();
    let (key, _) = photo_key(TenantId::new_random(), &whole);
    let upload = store.create_multipart(&key).await.unwrap();
    upload_part(store, &key, &upload, 1, &parts[0], presigns).await;
    upload_part(store, &key, &upload, 3, &parts[2], presigns).await;

    // A part is missing: completing fails and nothing is stored.
    assert!(store.complete_multipart(&key, &upload, 3).await.is_err());
    assert!(!store.exists(&key).await.unwrap());

    // The device comes back: the store tells what it has, the device sends the rest.
    let stored = store.list_parts(&key, &upload).await.unwrap();
    assert_eq!(
        stored,
        vec![
            StoredPart {
                number: 1,
                size: 1024
            },
            StoredPart {
                number: 3,
                size: 10
            }
        ]
    );
    for number in 1..=3u32 {
        if !stored.iter().any(|p| p.number == number) {
            upload_part(
                store,
                &key,
                &upload,
                number,
                &parts[number as usize - 1],
                presigns,
            )
            .await;
        }
    }
    // Sending a part again replaces it.
    upload_part(store, &key, &upload, 1, &parts[0], presigns).await;
    store.complete_multipart(&key, &upload, 3).await.unwrap();
    assert!(store.get(&key).await.unwrap().unwrap() == whole);
}

async fn multipart_abort_discards_the_upload<B: BlobStore>(store: &B, presigns: Presigns) {
    let part = random_bytes(500);
    let (key, _) = photo_key(TenantId::new_random(), &part);
    let upload = store.create_multipart(&key).await.unwrap();
    upload_part(store, &key, &upload, 1, &part, presigns).await;
    store.abort_multipart(&key, &upload).await.unwrap();
    // Aborting again, or an upload that never existed, is not an error.
    store.abort_multipart(&key, &upload).await.unwrap();
    store
        .abort_multipart(&key, &MultipartId("no-such-upload".into()))
        .await
        .unwrap();
    assert!(store.list_parts(&key, &upload).await.is_err());
    assert!(store.complete_multipart(&key, &upload, 1).await.is_err());
    assert!(!store.exists(&key).await.unwrap());
    let pending = store.list_multipart(now_millis() + 60_000).await.unwrap();
    assert!(!pending.iter().any(|p| p.id == upload));
}

async fn list_multipart_finds_old_unfinished_uploads<B: BlobStore>(store: &B, presigns: Presigns) {
    let before_start = now_millis() - 5_000;
    let part = random_bytes(300);
    let (key, _) = photo_key(TenantId::new_random(), &part);
    let upload = store.create_multipart(&key).await.unwrap();
    upload_part(store, &key, &upload, 1, &part, presigns).await;

    let pending = store.list_multipart(now_millis() + 60_000).await.unwrap();
    let found = pending
        .iter()
        .find(|p| p.id == upload)
        .expect("the unfinished upload is listed");
    assert_eq!(found.key, key);
    assert!(
        (before_start..=now_millis() + 5_000).contains(&found.started_at),
        "started_at {} is not about now",
        found.started_at
    );
    // Uploads started after `before` are not listed.
    let older = store.list_multipart(before_start).await.unwrap();
    assert!(!older.iter().any(|p| p.id == upload));

    store.abort_multipart(&key, &upload).await.unwrap();
}

async fn presigned_put_accepts_only_the_announced_bytes<B: BlobStore>(
    store: &B,
    presigns: Presigns,
) {
    let bytes = random_bytes(2048);
    let (key, sha) = photo_key(TenantId::new_random(), &bytes);
    let req = store
        .presign_put(&key, &sha, bytes.len() as u64, TTL)
        .await
        .unwrap();
    assert_eq!(req.is_some(), presigns == Presigns::Yes);
    let Some(req) = req else {
        // The server receives the bytes itself (and verifies them): nothing to presign.
        return;
    };
    assert_eq!(req.method, "PUT");
    assert!(req.expires_at > now_millis() + 200_000, "{req:?}");
    assert!(
        req.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("x-amz-checksum-sha256")),
        "the checksum is part of the request: {req:?}"
    );

    // Same length, other bytes: refused by the checksum.
    let mut wrong = bytes.clone();
    wrong[100] ^= 0xff;
    let (status, body) = send_presigned(&req, Some(wrong)).await;
    assert!(
        (400..500).contains(&status),
        "wrong bytes must be refused: {status} {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(store.size(&key).await.unwrap(), None);
    // Other length: refused by the signature (Content-Length is signed).
    let (status, _) = send_presigned(&req, Some(bytes[..1000].to_vec())).await;
    assert!((400..500).contains(&status), "short body: {status}");
    assert_eq!(store.size(&key).await.unwrap(), None);

    let (status, body) = send_presigned(&req, Some(bytes.clone())).await;
    assert!(
        (200..300).contains(&status),
        "{status} {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(store.size(&key).await.unwrap(), Some(bytes.len() as u64));
    assert_eq!(store.get(&key).await.unwrap().as_deref(), Some(&bytes[..]));
}

async fn presigned_part_accepts_only_the_announced_bytes<B: BlobStore>(
    store: &B,
    presigns: Presigns,
) {
    let part = random_bytes(1000);
    let (key, _) = photo_key(TenantId::new_random(), &part);
    let upload = store.create_multipart(&key).await.unwrap();
    let req = store
        .presign_part(&key, &upload, 1, &Sha256::digest(&part), 1000, TTL)
        .await
        .unwrap();
    assert_eq!(req.is_some(), presigns == Presigns::Yes);
    if let Some(req) = req {
        let mut wrong = part.clone();
        wrong[0] ^= 1;
        let (status, _) = send_presigned(&req, Some(wrong)).await;
        assert!((400..500).contains(&status), "wrong part bytes: {status}");
        assert_eq!(store.list_parts(&key, &upload).await.unwrap(), vec![]);
        let (status, _) = send_presigned(&req, Some(part.clone())).await;
        assert!((200..300).contains(&status), "{status}");
        assert_eq!(
            store.list_parts(&key, &upload).await.unwrap(),
            vec![StoredPart {
                number: 1,
                size: 1000
            }]
        );
    }
    store.abort_multipart(&key, &upload).await.unwrap();
}

async fn presigned_get_downloads<B: BlobStore>(store: &B, presigns: Presigns) {
    let bytes = random_bytes(4096);
    let (key, _) = photo_key(TenantId::new_random(), &bytes);
    store.put(&key, Bytes::from(bytes.clone())).await.unwrap();
    let req = store.presign_get(&key, TTL).await.unwrap();
    assert_eq!(req.is_some(), presigns == Presigns::Yes);
    let Some(req) = req else {
        return;
    };
    assert_eq!(req.method, "GET");
    let (status, body) = send_presigned(&req, None).await;
    assert_eq!(status, 200);
    assert!(body == bytes);

    let absent = BlobKey::parse("misc/absent").unwrap();
    let req = store.presign_get(&absent, TTL).await.unwrap().unwrap();
    let (status, _) = send_presigned(&req, None).await;
    assert_eq!(status, 404);
}

async fn invalid_multipart_requests_are_errors<B: BlobStore>(store: &B, _: Presigns) {
    let key = BlobKey::parse("misc/mp").unwrap();
    let upload = store.create_multipart(&key).await.unwrap();
    // No parts at all.
    assert!(store.complete_multipart(&key, &upload, 0).await.is_err());
    // Another key's upload, or an unknown one.
    let other = BlobKey::parse("misc/other").unwrap();
    assert!(store
        .put_part(&other, &upload, 1, Bytes::from_static(b"x"))
        .await
        .is_err());
    let unknown = MultipartId("0123456789abcdef0123456789abcdef".into());
    assert!(store
        .put_part(&key, &unknown, 1, Bytes::from_static(b"x"))
        .await
        .is_err());
    assert!(store.list_parts(&key, &unknown).await.is_err());
    store.abort_multipart(&key, &upload).await.unwrap();
}

// -------------------------------------------------------------------------------------------
// Fixtures and instantiation.

fn local() -> (LocalBlobStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::open(dir.path().join("blobs")).unwrap();
    (store, dir)
}

fn env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{name} is not set: the S3 blob store tests need a running Garage. Run them through \
             scripts/test.sh, or scripts/with-garage.sh cargo test -p fieldsync-server \
             (it installs and starts Garage and sets FIELDSYNC_TEST_S3_*)"
        ),
    }
}

/// The test settings (`FIELDSYNC_TEST_S3_*`) with a fresh random key prefix.
fn s3_settings() -> S3Settings {
    let mut prefix = [0u8; 8];
    getrandom::fill(&mut prefix).unwrap();
    S3Settings {
        bucket: env("FIELDSYNC_TEST_S3_BUCKET"),
        endpoint: Some(env("FIELDSYNC_TEST_S3_ENDPOINT")),
        region: env("FIELDSYNC_TEST_S3_REGION"),
        access_key_id: env("FIELDSYNC_TEST_S3_ACCESS_KEY_ID"),
        secret_access_key: Secret::new(env("FIELDSYNC_TEST_S3_SECRET_ACCESS_KEY")),
        path_style: true,
        timeout: Duration::from_secs(10),
        prefix: format!("test-{}/", hex::encode(prefix)),
    }
}

async fn s3() -> S3BlobStore {
    S3BlobStore::open(s3_settings())
        .await
        .expect("open the S3 store on the test Garage")
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    let (store, _dir) = super::local();
                    super::$name(&store, super::Presigns::No).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $name() {
                    let store = super::s3().await;
                    super::$name(&store, super::Presigns::Yes).await;
                }
            )*
        }
    };
}

conformance!(
    put_get_exists_size_delete,
    empty_and_large_blobs,
    put_twice_is_a_no_op,
    tenants_are_isolated,
    multipart_assembles_the_parts_in_order,
    multipart_resumes_from_the_stored_parts,
    multipart_abort_discards_the_upload,
    list_multipart_finds_old_unfinished_uploads,
    presigned_put_accepts_only_the_announced_bytes,
    presigned_part_accepts_only_the_announced_bytes,
    presigned_get_downloads,
    invalid_multipart_requests_are_errors,
);

// -------------------------------------------------------------------------------------------
// Implementation-specific checks.

#[tokio::test]
async fn local_multipart_leaves_no_files_behind() {
    let (store, _dir) = local();
    let key = BlobKey::parse("a/b").unwrap();
    let done = store.create_multipart(&key).await.unwrap();
    store
        .put_part(&key, &done, 1, Bytes::from_static(b"ab"))
        .await
        .unwrap();
    store.complete_multipart(&key, &done, 1).await.unwrap();
    let aborted = store.create_multipart(&key).await.unwrap();
    store
        .put_part(&key, &aborted, 1, Bytes::from_static(b"cd"))
        .await
        .unwrap();
    store.abort_multipart(&key, &aborted).await.unwrap();
    let multipart = store.root().join(".multipart");
    let left: Vec<_> = std::fs::read_dir(&multipart).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let blob_dir: Vec<_> = std::fs::read_dir(store.root().join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(blob_dir, vec!["b"], "no temporary files");
    // Upload ids are ours: a crafted id names no folder.
    for bad in ["../../etc", "..", "", "ABCDEF0123456789ABCDEF0123456789"] {
        let id = MultipartId(bad.into());
        assert!(store.list_parts(&key, &id).await.is_err());
        store.abort_multipart(&key, &id).await.unwrap();
    }
}

#[tokio::test]
async fn s3_open_fails_clearly_for_a_missing_bucket_or_wrong_keys() {
    let mut settings = s3_settings();
    settings.bucket = "no-such-bucket-fieldsync".into();
    let err = S3BlobStore::open(settings).await.unwrap_err().to_string();
    assert!(err.contains("does not exist"), "{err}");

    let mut settings = s3_settings();
    settings.secret_access_key = Secret::new("0".repeat(64));
    let err = S3BlobStore::open(settings).await.unwrap_err().to_string();
    assert!(err.contains("refuses these credentials"), "{err}");
    assert!(
        !err.contains(&"0".repeat(64)),
        "the secret is not shown: {err}"
    );
}

#[tokio::test]
async fn s3_unreachable_store_is_unavailable_quickly() {
    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = s3_settings();
    settings.endpoint = Some(format!("http://127.0.0.1:{port}"));
    let started = std::time::Instant::now();
    let err = S3BlobStore::open(settings).await.unwrap_err();
    assert!(
        matches!(err, fieldsync_server::blobs::BlobError::Unavailable(_)),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
