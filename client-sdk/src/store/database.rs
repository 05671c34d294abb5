//! The device database as one value: the data directory, the single SQLite connection behind a
//! mutex (SQLite has one writer anyway) and the installation's identity read from it. Every
//! layer above works through a `&Database`; none holds the connection across network I/O.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use automerge::ActorId;
use fieldsync_shared::DeviceId;
use rusqlite::Connection;

use super::meta::{keys, meta_get, meta_set};
use super::open_documents::OpenDocuments;
use crate::error::{DeviceError, Result};
use crate::schema;

/// Name of the database file inside the device directory.
const DB_FILE: &str = "device.db";

pub struct Database {
    dir: PathBuf,
    conn: Mutex<Connection>,
    /// Documents kept open between edits. Taken and put back only by a caller holding `conn`.
    open: Mutex<OpenDocuments>,
    device_id: DeviceId,
    actor: ActorId,
}

impl Database {
    /// Opens the database in `dir` (created if needed). The device id and the Automerge actor
    /// id are generated once, when the database is created, and never change: a new database
    /// (a reinstall) is a new device and a new actor.
    pub fn open(dir: &Path) -> Result<Database> {
        std::fs::create_dir_all(dir)?;
        let mut conn = schema::open(&dir.join(DB_FILE))?;
        let tx = conn.transaction()?;
        let device_id = match meta_get(&tx, keys::DEVICE_ID)? {
            Some(id) => DeviceId::parse(&id)?,
            None => {
                let id = DeviceId::new_random();
                meta_set(&tx, keys::DEVICE_ID, &id.to_string())?;
                id
            }
        };
        let actor = match meta_get(&tx, keys::ACTOR_ID)? {
            Some(hex) => ActorId::try_from(hex.as_str())
                .map_err(|e| DeviceError::Storage(format!("corrupt actor id {hex:?}: {e}")))?,
            None => {
                let actor = ActorId::random();
                meta_set(&tx, keys::ACTOR_ID, &actor.to_hex_string())?;
                actor
            }
        };
        tx.commit()?;
        Ok(Database {
            dir: dir.to_path_buf(),
            conn: Mutex::new(conn),
            open: Mutex::new(OpenDocuments::default()),
            device_id,
            actor,
        })
    }

    /// The data directory (photo files are relative to it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn device_id(&self) -> DeviceId {
        self.device_id
    }

    /// The Automerge actor of every change this device makes.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// The connection. A panic while it was held cannot leave a half-written SQLite
    /// transaction behind (it rolls back on drop), so a poisoned lock is safe to take over.
    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The documents kept open between edits. Lock it only while holding [`Self::lock`]: the
    /// open documents are checked against the rows that connection reads.
    pub fn open_documents(&self) -> MutexGuard<'_, OpenDocuments> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}
