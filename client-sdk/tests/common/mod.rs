//! Shared by the test crates: the device database as schema v1 created it, frozen here so that
//! upgrades from it stay tested however the schema code changes.

#![allow(dead_code)]

use std::path::Path;

/// The v1 DDL, exactly as `schema.rs` ran it (before v2 added resumable photo uploads).
pub const SCHEMA_V1: &str = "
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    -- One row per Automerge document (visit or order).
    -- heads / synced_heads: concatenated 32-byte change hashes, sorted; a document has
    -- changes to push exactly when they differ.
    CREATE TABLE documents (
        doc_id       TEXT PRIMARY KEY,
        kind         TEXT NOT NULL,
        data         BLOB NOT NULL,
        heads        BLOB NOT NULL,
        synced_heads BLOB NOT NULL DEFAULT x'',
        updated_at   INTEGER NOT NULL
    );
    CREATE INDEX documents_kind ON documents (kind, updated_at);
    -- Master data, read-only copies of the server's rows as JSON.
    CREATE TABLE stores (
        id   TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        json TEXT NOT NULL
    );
    CREATE INDEX stores_code ON stores (code);
    CREATE TABLE products (
        sku  TEXT PRIMARY KEY,
        json TEXT NOT NULL
    );
    CREATE TABLE credit (
        store_id TEXT PRIMARY KEY,
        json     TEXT NOT NULL
    );
    -- Photo upload queue. path is relative to the device directory.
    CREATE TABLE photos (
        sha256       TEXT PRIMARY KEY,
        path         TEXT NOT NULL,
        size_bytes   INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('pending', 'uploaded')),
        added_at     INTEGER NOT NULL
    );
";

/// Creates `dir/device.db` as the v1 app did (WAL, the v1 tables, `user_version = 1`).
pub fn create_v1_database(dir: &Path) -> rusqlite::Connection {
    std::fs::create_dir_all(dir).unwrap();
    let conn = rusqlite::Connection::open(dir.join("device.db")).unwrap();
    let _mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {SCHEMA_V1}; PRAGMA user_version = 1; COMMIT;"
    ))
    .unwrap();
    conn
}

/// Queues a photo in a v1 database: writes its file under `photos/` and inserts the v1 row.
pub fn v1_queue_photo(
    dir: &Path,
    conn: &rusqlite::Connection,
    bytes: &[u8],
    state: &str,
) -> fieldsync_shared::Sha256 {
    let sha = fieldsync_shared::Sha256::digest(bytes);
    let hex = sha.to_hex();
    let relative = format!("photos/{}/{hex}.jpg", &hex[..2]);
    let path = dir.join(&relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    conn.execute(
        "INSERT INTO photos (sha256, path, size_bytes, content_type, state, added_at)
         VALUES (?1, ?2, ?3, 'image/jpeg', ?4, ?5)",
        rusqlite::params![
            hex,
            relative,
            bytes.len() as i64,
            state,
            1_700_000_000_000i64
        ],
    )
    .unwrap();
    sha
}

/// JPEG-looking bytes of `len` bytes, distinct per `seed`.
pub fn jpeg_bytes(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..len.saturating_sub(4)).map(|i| {
        (i as u32)
            .wrapping_mul(2_654_435_761)
            .rotate_left(u32::from(seed % 31))
            .to_le_bytes()[1]
            ^ seed
    }));
    bytes
}
