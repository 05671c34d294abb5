//! [`DirectoryStore`](crate::store::DirectoryStore) for PostgreSQL: the shared SQL of
//! [`directory_sql`](crate::store::directory_sql) plus how `master_page` reads.

use sqlx::postgres::PgRow;
use sqlx::{Postgres, Transaction};

use super::documents::BEGIN_SNAPSHOT_READ;
use super::PgStore;

impl PgStore {
    /// A repeatable-read, read-only snapshot of the master counter and the rows: master
    /// upserts of a tenant commit one at a time (tenant row lock), so the rows seen are exactly
    /// those with a version <= the counter seen.
    async fn dir_begin_snapshot(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool().begin_with(BEGIN_SNAPSHOT_READ).await?)
    }
}

crate::store::directory_sql::directory_store!(PgStore, Postgres, PgRow, postgres);
