//! [`DirectoryStore`](crate::store::DirectoryStore) for SQLite: the shared SQL of
//! [`directory_sql`](crate::store::directory_sql) plus how `master_page` reads.

use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};

use super::SqliteStore;

impl SqliteStore {
    /// One read transaction: a consistent snapshot of the master counter and the rows
    /// (master upserts take SQLite's write lock with the counter).
    async fn dir_begin_snapshot(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.pool().begin().await?)
    }
}

crate::store::directory_sql::directory_store!(SqliteStore, Sqlite, SqliteRow, sqlite);
