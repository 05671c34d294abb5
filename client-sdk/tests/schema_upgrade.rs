//! Schema versioning: a store created by the v1 app and upgraded is the same as a store created
//! by this version, and keeps its data (photos queued before the upgrade are still queued).

mod common;

use std::path::Path;

use fieldsync_client::{Device, PhotoState, ThumbnailState, SCHEMA_VERSION};
use rusqlite::Connection;

/// `sqlite_master` without SQLite's own objects: (type, name, table, normalised DDL).
fn schema_of(conn: &Connection) -> Vec<(String, String, String, String)> {
    let mut stmt = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_master
             WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            normalise(&r.get::<_, Option<String>>(3)?.unwrap_or_default()),
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// DDL without comments, quotes around names or layout: `CREATE TABLE "photos" (\n  a  TEXT`
/// and `CREATE TABLE photos (a TEXT` compare equal.
fn normalise(sql: &str) -> String {
    let without_comments: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    without_comments
        .replace('"', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
}

/// A column as `PRAGMA table_info` describes it: name, type, not null, default, pk.
type Column = (String, String, bool, Option<String>, i64);

/// Every table's columns as SQLite understands them.
fn columns_of(conn: &Connection) -> Vec<(String, Vec<Column>)> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            let cols = conn
                .prepare(&format!("PRAGMA table_info({t})"))
                .unwrap()
                .query_map([], |r| {
                    Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            (t, cols)
        })
        .collect()
}

fn user_version(conn: &Connection) -> u32 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

fn open_db(dir: &Path) -> Connection {
    Connection::open(dir.join("device.db")).unwrap()
}

#[test]
fn the_current_schema_is_version_5() {
    assert_eq!(SCHEMA_VERSION, 5);
}

#[test]
fn an_upgraded_store_equals_a_fresh_one() {
    let upgraded = tempfile::tempdir().unwrap();
    drop(common::create_v1_database(upgraded.path()));
    assert_eq!(user_version(&open_db(upgraded.path())), 1);
    drop(Device::open(upgraded.path()).unwrap());

    let fresh = tempfile::tempdir().unwrap();
    drop(Device::open(fresh.path()).unwrap());

    let (a, b) = (open_db(upgraded.path()), open_db(fresh.path()));
    assert_eq!(user_version(&a), SCHEMA_VERSION);
    assert_eq!(user_version(&b), SCHEMA_VERSION);
    let (schema_a, schema_b) = (schema_of(&a), schema_of(&b));
    assert_eq!(schema_a, schema_b);
    // Not vacuous: the v2 queue is there, and nothing of the rebuild is left behind.
    assert!(schema_b.iter().any(|(_, name, _, sql)| name == "photos"
        && sql.contains("upload_id TEXT")
        && sql.contains("'uploading'")));
    assert!(schema_b
        .iter()
        .any(|(kind, name, ..)| kind == "index" && name == "photos_queue"));
    assert!(!schema_a.iter().any(|(_, name, ..)| name == "photos_v1"));
    // v3: the refused edits the server reported.
    assert!(schema_a
        .iter()
        .any(|(kind, name, ..)| kind == "table" && name == "refused_edits"));
    assert!(schema_a
        .iter()
        .any(|(kind, name, ..)| kind == "index" && name == "refused_edits_doc"));
    // v4: the thumbnail state of each photo, and the rendered thumbnail until it is sent.
    assert!(schema_a.iter().any(|(_, name, _, sql)| name == "photos"
        && sql.contains("thumbnail TEXT NOT NULL DEFAULT 'pending'")
        && sql.contains("thumbnail_jpeg BLOB")));
    // v5: the server's receipt of each document.
    assert!(schema_a
        .iter()
        .any(|(_, name, _, sql)| name == "documents" && sql.contains("receipt BLOB")));
    assert_eq!(columns_of(&a), columns_of(&b));
    let mode: String = a
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // Opening again changes nothing.
    drop(Device::open(upgraded.path()).unwrap());
    assert_eq!(schema_of(&open_db(upgraded.path())), schema_b);
}

#[test]
fn a_v1_store_keeps_its_data_and_its_photo_queue() {
    let dir = tempfile::tempdir().unwrap();
    let device_id = "0b8a4c8e-35c8-4d0e-9a55-3a1f7c6e0d01";
    let doc_id = "0b8a4c8e-35c8-4d0e-9a55-3a1f7c6e0d02";
    let (queued, uploaded) = {
        let conn = common::create_v1_database(dir.path());
        conn.execute_batch(&format!(
            "INSERT INTO meta (key, value) VALUES ('device_id', '{device_id}');
             INSERT INTO meta (key, value) VALUES ('actor_id', '00112233445566778899aabbccddeeff');
             INSERT INTO meta (key, value) VALUES ('pull_cursor', '{{\"seq\":4,\"mark\":1}}');
             INSERT INTO documents (doc_id, kind, data, heads, synced_heads, updated_at)
                 VALUES ('{doc_id}', 'visit', x'00', x'', x'', 1);"
        ))
        .unwrap();
        let queued =
            common::v1_queue_photo(dir.path(), &conn, &common::jpeg_bytes(3000, 1), "pending");
        let uploaded =
            common::v1_queue_photo(dir.path(), &conn, &common::jpeg_bytes(2000, 2), "uploaded");
        (queued, uploaded)
    };

    let device = Device::open(dir.path()).unwrap();
    assert_eq!(device.device_id().to_string(), device_id);
    let ids: Vec<String> = device
        .document_ids(None)
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(ids, vec![doc_id.to_string()]);

    // The photo pending before the upgrade is still queued; the uploaded one is still done.
    let pending = device.pending().unwrap();
    assert_eq!((pending.photos, pending.photos_failed), (1, 0));
    let photos = device.photo_uploads().unwrap();
    let state_of = |sha| photos.iter().find(|p| p.sha256 == sha).map(|p| p.state);
    assert_eq!(state_of(queued), Some(PhotoState::Pending));
    assert_eq!(state_of(uploaded), Some(PhotoState::Uploaded));
    let q = photos.iter().find(|p| p.sha256 == queued).unwrap();
    assert_eq!(
        (q.size_bytes, q.content_type.as_str()),
        (3000, "image/jpeg")
    );
    assert_eq!(
        (q.upload_id.clone(), q.parts_done.clone(), q.attempts),
        (None, vec![], 0)
    );
    // Thumbnails first: the queued photo's thumbnail is still to send; the uploaded one needs
    // none.
    let thumbnail_of = |sha| photos.iter().find(|p| p.sha256 == sha).map(|p| p.thumbnail);
    assert_eq!(thumbnail_of(queued), Some(ThumbnailState::Pending));
    assert_eq!(thumbnail_of(uploaded), Some(ThumbnailState::Unavailable));
    assert!(device.photo_path(&queued).unwrap().unwrap().exists());

    let conn = open_db(dir.path());
    let cursor: String = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'pull_cursor'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cursor, "{\"seq\":4,\"mark\":1}");
    let added_at: i64 = conn
        .query_row(
            "SELECT added_at FROM photos WHERE sha256 = ?1",
            [queued.to_hex()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(added_at, 1_700_000_000_000);
}
