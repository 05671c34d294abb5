//! The device's SQLite schema: versioned with `PRAGMA user_version`, migrated in code when the
//! database is opened. WAL so readers never wait for the writer; `synchronous=FULL` so a
//! committed edit survives a power cut (a phone dying before sync must not lose work).
//!
//! A new database is created directly at the current version ([`CURRENT_SCHEMA`]); an older one
//! is brought there by [`UPGRADES`], one version at a time. The test
//! `tests/schema_upgrade.rs` keeps the two paths honest: a database created with the frozen v1
//! DDL and upgraded has exactly the schema of a fresh one, and keeps its rows.
//!
//! History:
//! * v1: meta, documents, master data (stores, products, credit), photos (pending | uploaded).
//! * v2: the photo queue keeps the state of its resumable upload (`docs/photo-uploads.md`):
//!   upload id, mode, part size and count, the parts the server confirmed, attempts and the
//!   last error; states pending | uploading | uploaded | failed.
//! * v3: `refused_edits`, the effects of this device's edits that the server's write policies
//!   refused and undid (`docs/write-policies.md`), kept so an app can show them later.
//! * v4: thumbnails first (`docs/device-sdk.md`): each photo's thumbnail state
//!   (pending | sent | none) and the rendered thumbnail until it is sent.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::Result;

/// The whole schema at [`SCHEMA_VERSION`]: what a new database is created with. Comments stay
/// outside the `CREATE` statements (SQLite keeps a statement's text in `sqlite_master`, and the
/// upgrade test compares that text).
const CURRENT_SCHEMA: &str = "
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
";

/// The v2 photo queue, shared by [`CURRENT_SCHEMA`] and the v1 -> v2 upgrade so both create the
/// very same table. path is relative to the device directory.
/// * state: pending (nothing sent yet, or the upload must be declared again), uploading (an
///   upload is open on the server: upload_id, mode, part_size, parts are known), uploaded (the
///   server confirmed the photo is stored), failed (the server found the bytes are not the
///   photo, or refused it for good; not retried until the app asks).
/// * parts_done: JSON array of the part numbers the server holds, written after each part.
/// * attempts / last_error: upload attempts that did not finish, and why the last one stopped.
const PHOTOS_V2: &str = "
    CREATE TABLE photos (
        sha256       TEXT PRIMARY KEY,
        path         TEXT NOT NULL,
        size_bytes   INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('pending', 'uploading', 'uploaded', 'failed')),
        added_at     INTEGER NOT NULL,
        upload_id    TEXT,
        mode         TEXT CHECK (mode IN ('single', 'multipart')),
        part_size    INTEGER,
        parts        INTEGER,
        parts_done   TEXT NOT NULL DEFAULT '[]',
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        updated_at   INTEGER NOT NULL
    );
    CREATE INDEX photos_queue ON photos (state, added_at);
";

/// v1 -> v2. SQLite cannot change a CHECK constraint in place, so the table is rebuilt: the old
/// one is renamed away first, so that the new one is created under its final name with exactly
/// the DDL of a fresh database.
const V1_TO_V2: &str = "
    ALTER TABLE photos RENAME TO photos_v1;
    {PHOTOS_V2}
    INSERT INTO photos (sha256, path, size_bytes, content_type, state, added_at, updated_at)
        SELECT sha256, path, size_bytes, content_type, state, added_at, added_at FROM photos_v1;
    DROP TABLE photos_v1;
";

/// The v3 table of refused edits, shared by a fresh database and the v2 -> v3 upgrade. One row
/// per refused effect the server reported (`PushResult::Stored.refused_edits`), newest last;
/// `at` is when this device learned of it (millis). Pruned to the newest rows on insert.
const REFUSED_EDITS_V3: &str = "
    CREATE TABLE refused_edits (
        id      INTEGER PRIMARY KEY,
        doc_id  TEXT NOT NULL,
        field   TEXT NOT NULL,
        code    TEXT NOT NULL,
        message TEXT NOT NULL,
        at      INTEGER NOT NULL
    );
    CREATE INDEX refused_edits_doc ON refused_edits (doc_id, id);
";

/// v2 -> v3: a new table only.
const V2_TO_V3: &str = "{REFUSED_EDITS_V3}";

/// The v4 thumbnail columns of the photo queue, shared by a fresh database and the v3 -> v4
/// upgrade (so both tables have the very same DDL).
/// * thumbnail: pending (to render and send before the photo), sent (the server has it), none
///   (nothing to send: the photo does not decode here, e.g. HEIC, the server refused the
///   thumbnail, or the photo was already uploaded when the app was updated).
/// * thumbnail_jpeg: the rendered thumbnail while it is not sent yet, so a photo is rendered
///   at most once however often sending fails; cleared once sent.
const PHOTO_THUMBNAILS_V4: &str = "
    ALTER TABLE photos ADD COLUMN thumbnail TEXT NOT NULL DEFAULT 'pending'
        CHECK (thumbnail IN ('pending', 'sent', 'none'));
    ALTER TABLE photos ADD COLUMN thumbnail_jpeg BLOB;
";

/// v3 -> v4: photos already uploaded need no thumbnail of ours.
const V3_TO_V4: &str = "
    {PHOTO_THUMBNAILS_V4}
    UPDATE photos SET thumbnail = 'none' WHERE state = 'uploaded';
";

/// The v5 receipt column of documents, shared by a fresh database and the v4 -> v5 upgrade:
/// the last receipt the server sent with the document (CBOR of `protocol::Receipt`), kept
/// across a cursor reset; NULL until one arrives.
const DOCUMENT_RECEIPTS_V5: &str = "
    ALTER TABLE documents ADD COLUMN receipt BLOB;
";

/// v4 -> v5: a new column only.
const V4_TO_V5: &str = "{DOCUMENT_RECEIPTS_V5}";

/// Upgrades, in order; `UPGRADES[i]` takes the schema from version `i + 1` to `i + 2`.
const UPGRADES: &[&str] = &[V1_TO_V2, V2_TO_V3, V3_TO_V4, V4_TO_V5];

/// The schema version this code writes.
pub const SCHEMA_VERSION: u32 = 1 + UPGRADES.len() as u32;

/// Opens (creating if needed) the database at `path` and brings its schema up to date.
pub fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    configure(&conn)?;
    migrate(&conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<()> {
    // journal_mode answers with a row, so it is queried rather than executed.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(())
}

/// Creates the schema (new database) or applies the upgrades the database has not seen yet,
/// each in its own transaction together with the version bump, so a crash leaves the database
/// at a well-defined version.
pub fn migrate(conn: &Connection) -> Result<()> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(crate::error::DeviceError::Storage(format!(
            "the device database has schema version {current}, newer than this app ({SCHEMA_VERSION}); update the app"
        )));
    }
    if current == 0 {
        let sql = format!(
            "{CURRENT_SCHEMA}{PHOTOS_V2}{REFUSED_EDITS_V3}{PHOTO_THUMBNAILS_V4}{DOCUMENT_RECEIPTS_V5}"
        );
        return run_step(conn, &sql, SCHEMA_VERSION);
    }
    for (i, sql) in UPGRADES.iter().enumerate().skip(current as usize - 1) {
        let sql = sql
            .replace("{PHOTOS_V2}", PHOTOS_V2)
            .replace("{REFUSED_EDITS_V3}", REFUSED_EDITS_V3)
            .replace("{PHOTO_THUMBNAILS_V4}", PHOTO_THUMBNAILS_V4)
            .replace("{DOCUMENT_RECEIPTS_V5}", DOCUMENT_RECEIPTS_V5);
        run_step(conn, &sql, i as u32 + 2)?;
    }
    Ok(())
}

fn run_step(conn: &Connection, sql: &str, to: u32) -> Result<()> {
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {to}; COMMIT;"
    ))
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_of(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn fresh_database_is_at_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("d.db")).unwrap();
        let v: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("d.db")).unwrap();
        let before = schema_of(&conn);
        migrate(&conn).unwrap();
        drop(conn);
        let conn = open(&dir.path().join("d.db")).unwrap();
        assert_eq!(schema_of(&conn), before);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let conn = open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
            .unwrap();
        drop(conn);
        assert!(matches!(
            open(&path),
            Err(crate::error::DeviceError::Storage(_))
        ));
    }
}
