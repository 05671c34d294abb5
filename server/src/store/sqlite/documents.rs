//! [`DocumentStore`](crate::store::DocumentStore) on SQLite: the shared SQL of
//! [`documents_sql`](crate::store::documents_sql) plus what SQLite does its own way.
//!
//! Writes run in `BEGIN IMMEDIATE` transactions: SQLite has one writer, and taking the write lock
//! up front makes a second writer wait (busy timeout) instead of failing when it upgrades a read
//! lock. That one lock is also what keeps a tenant's feed in commit order. Reads that must be
//! consistent run in a deferred transaction (a WAL read snapshot).

use sqlx::{Sqlite, Transaction};

use super::SqliteStore;

impl SqliteStore {
    /// A write transaction holding SQLite's write lock from its first statement.
    async fn doc_begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.pool().begin_with("BEGIN IMMEDIATE").await?)
    }

    /// A read snapshot over several statements (WAL: readers never wait for the writer).
    async fn doc_begin_read(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.pool().begin().await?)
    }

    /// Appends the document's new changes in the given order, one statement each (SQLite has
    /// no arrays to bind; in-process statements are cheap); a hash already stored is skipped
    /// and keeps its first receive time.
    async fn doc_insert_changes(
        tx: &mut Transaction<'static, Sqlite>,
        commit: &PushCommit,
        doc: &DocumentWrite,
        seq: i64,
        received_at: Timestamp,
    ) -> StoreResult<u64> {
        let doc_id = doc.doc_id.to_string();
        let mut inserted = 0;
        for change in &doc.changes {
            let (device_id, user_id) = change.origin.sender(commit);
            inserted += sqlx::query(
                "INSERT INTO doc_changes (doc_id, hash, bytes, seq, device_id, user_id, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (doc_id, hash) DO NOTHING",
            )
            .bind(&doc_id)
            .bind(&change.hash[..])
            .bind(&change.bytes)
            .bind(seq)
            .bind(device_id.to_string())
            .bind(user_id.to_string())
            .bind(received_at.millis())
            .execute(&mut **tx)
            .await?
            .rows_affected();
        }
        Ok(inserted)
    }

    /// Nothing to announce: the only instance publishes its own commits
    /// (`FeedEvents::committed_locally`).
    async fn doc_announce_feed(
        _tx: &mut Transaction<'static, Sqlite>,
        _tenant: TenantId,
        _last_seq: i64,
    ) -> StoreResult<()> {
        Ok(())
    }
}

crate::store::documents_sql::document_store!(SqliteStore, Sqlite, sqlite);
