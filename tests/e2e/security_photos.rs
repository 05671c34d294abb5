//! Knowing a photo's SHA-256 grants nothing (docs/read-scopes.md, "Photos"): rep2 names
//! rep1's photos in a visit of their own — a photo of rep1's visit, one rep1 uploaded and never
//! referenced, and one rep1 uploads only after rep2's push — and can read none of them, on
//! any photo route; rep1, their supervisor, and rep2 with a photo of their own still read
//! theirs. Storage keeps one object per photo and tenant.

use fieldsync_e2e::process::PgDatabase;
use fieldsync_e2e::{http, photo_bytes, png_bytes, write_file, TestDevice, TestServer};
use fieldsync_server::config::Secret;
use fieldsync_shared::document::DocKind;
use fieldsync_shared::protocol::PushResult;
use fieldsync_shared::visit::PhotoRef;
use fieldsync_shared::{Sha256, Timestamp};

use crate::write_policies::{copy_for, edit_visit, push_raw};

#[test]
fn a_known_hash_grants_no_photo_sqlite() {
    a_known_hash_grants_no_photo(false);
}

#[test]
fn a_known_hash_grants_no_photo_postgres() {
    a_known_hash_grants_no_photo(true);
}

/// Status and body of a GET (or HEAD) of a photo route.
fn get(server: &TestServer, token: &str, method: &str, path: &str) -> (u16, Vec<u8>) {
    let url = format!("{}{path}", server.url);
    let auth = format!("Bearer {token}");
    let req = match method {
        "HEAD" => http().head(&url).header("Authorization", &auth).call(),
        _ => http().get(&url).header("Authorization", &auth).call(),
    };
    let mut resp = req.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_vec().unwrap_or_default())
}

/// Every way to read a photo.
const READS: &[(&str, &str)] = &[
    ("GET", ""),
    ("HEAD", ""),
    ("GET", "/url"),
    ("GET", "/thumbnail"),
];

fn assert_unreadable(server: &TestServer, token: &str, sha: Sha256, what: &str) {
    for (method, suffix) in READS {
        let (status, _) = get(server, token, method, &format!("/v1/photos/{sha}{suffix}"));
        assert_eq!(status, 404, "{method} {suffix} of {what}");
    }
}

/// Uploads `bytes` with the one-shot PUT as `token`; the status.
fn put_photo(server: &TestServer, token: &str, bytes: &[u8]) -> u16 {
    let sha = Sha256::digest(bytes);
    http()
        .put(&format!("{}/v1/photos/{sha}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "image/png")
        .send(bytes)
        .unwrap()
        .status()
        .as_u16()
}

fn a_known_hash_grants_no_photo(postgres: bool) {
    let db = postgres.then(PgDatabase::create);
    let server = TestServer::start_with(|c| {
        if let Some(db) = &db {
            c.database_url = Some(Secret::new(db.url()));
        }
    });
    let today = Timestamp::now().utc_date();
    let rep1_token = server.token("rep1");

    // rep1: a visit with a photo, synced (the photo uploaded); a photo uploaded and never
    // referenced.
    let rep1 = TestDevice::login(&server, "rep1");
    let store1 = rep1.store_by_code("NKA-001").unwrap();
    let visit1 = rep1.start_visit(store1.id, today).unwrap();
    let shelf = png_bytes(80, 60, 3);
    let in_visit = rep1
        .attach_photo(
            visit1,
            &write_file(rep1.dir.path(), "shelf.png", &shelf),
            None,
        )
        .unwrap();
    rep1.sync().unwrap();
    let loose = png_bytes(40, 40, 11);
    assert_eq!(put_photo(&server, &rep1_token, &loose), 201);
    let loose_sha = Sha256::digest(&loose);
    // Not uploaded yet when rep2 names it.
    let later = photo_bytes(5000, 77);
    let later_sha = Sha256::digest(&later);

    // rep2: a visit of their own, then a raw device naming the three hashes in it.
    let rep2 = TestDevice::login(&server, "rep2");
    let store2 = rep2.store_by_code("LKA-001").unwrap();
    let visit2 = rep2.start_visit(store2.id, today).unwrap();
    rep2.sync().unwrap();
    let raw = server.device_token("rep2");
    let rep2_id = rep2.profile().unwrap().unwrap().id;
    let mut doc = copy_for(&rep2, visit2, &raw.actor);
    let changes = edit_visit(&mut doc, |v| {
        for sha in [in_visit, loose_sha, later_sha] {
            v.photos.insert(
                sha.to_hex(),
                PhotoRef {
                    sha256: sha,
                    size_bytes: 1,
                    content_type: "image/png".into(),
                    step: None,
                    taken_at: Timestamp::now(),
                    taken_by: rep2_id,
                    position: None,
                    capture: None,
                },
            );
        }
    });
    let resp = push_raw(&server, &raw, visit2, DocKind::Visit, changes);
    assert!(
        matches!(resp.outcomes[0].result, PushResult::Stored { .. }),
        "{:?}",
        resp.outcomes[0].result
    );
    assert_eq!(put_photo(&server, &rep1_token, &later), 201);

    for (sha, what) in [
        (in_visit, "a photo of rep1's visit"),
        (loose_sha, "a photo rep1 never referenced"),
        (later_sha, "a photo rep1 uploaded after rep2 named it"),
    ] {
        assert_unreadable(&server, &raw.token, sha, what);
        assert_unreadable(&server, &server.token("rep2"), sha, what);
    }
    // Bytes rep2 sends for a photo they cannot see are verified and stored once: the answer
    // is the one for a photo the server did not have, and it still grants nothing.
    assert_eq!(put_photo(&server, &raw.token, &shelf), 200);
    assert_unreadable(&server, &raw.token, in_visit, "a photo rep2 re-sent");

    // The honest paths: rep1 reads all of theirs byte for byte, the supervisor reads the
    // visit's photo, rep2 reads a photo of their own.
    for (sha, bytes) in [(in_visit, &shelf), (loose_sha, &loose), (later_sha, &later)] {
        let (status, body) = get(&server, &rep1_token, "GET", &format!("/v1/photos/{sha}"));
        assert_eq!((status, body.len()), (200, bytes.len()));
        assert_eq!(&body, bytes);
    }
    let sup = server.token("sup1");
    let (status, body) = get(&server, &sup, "GET", &format!("/v1/photos/{in_visit}"));
    assert_eq!((status, body), (200, shelf.clone()));
    let (status, _) = get(
        &server,
        &sup,
        "GET",
        &format!("/v1/photos/{in_visit}/thumbnail"),
    );
    assert_eq!(status, 200);
    let own = png_bytes(50, 50, 21);
    let own_sha = rep2
        .attach_photo(visit2, &write_file(rep2.dir.path(), "own.png", &own), None)
        .unwrap();
    rep2.sync().unwrap();
    let (status, body) = get(
        &server,
        &server.token("rep2"),
        "GET",
        &format!("/v1/photos/{own_sha}"),
    );
    assert_eq!((status, body), (200, own));

    // One object in storage for the photo both sent.
    let blobs = server.data_dir.path().join("blobs");
    let copies = walk(&blobs)
        .into_iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()) == Some(in_visit.to_hex().as_str()))
        .filter(|p| p.to_string_lossy().contains("/photos/"))
        .count();
    assert_eq!(copies, 1);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
