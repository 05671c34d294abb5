//! The device's SQLite schema: versioned with `PRAGMA user_version`, migrated in code when the
//! database is opened. WAL so readers never wait for the writer; `synchronous=FULL` so a
//! committed edit survives a power cut (a phone dying before sync must not lose work).

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::Result;

/// Migrations, in order; `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // v1
    "
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
    ",
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

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

/// Applies the migrations the database has not seen yet, each in its own transaction together
/// with the version bump, so a crash leaves the database at a well-defined version.
pub fn migrate(conn: &Connection) -> Result<()> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(crate::DeviceError::Storage(format!(
            "the device database has schema version {current}, newer than this app ({SCHEMA_VERSION}); update the app"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let to = i + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {to}; COMMIT;"
        ))
        .inspect_err(|_| {
            let _ = conn.execute_batch("ROLLBACK");
        })?;
    }
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
        assert!(matches!(open(&path), Err(crate::DeviceError::Storage(_))));
    }
}
