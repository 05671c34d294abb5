//! [`DocumentStore`](crate::store::DocumentStore) on PostgreSQL: the shared SQL of
//! [`documents_sql`](crate::store::documents_sql) plus what PostgreSQL does its own way.
//!
//! **Feed order.** A push takes its block of feed seqs first thing in its transaction, once:
//! `UPDATE tenants SET feed_seq = feed_seq + n WHERE id = $1 RETURNING feed_seq`. That update
//! locks the tenant row until the transaction ends, so a second push of the same tenant waits
//! at its own update until the first has committed (or rolled back), and then reads the
//! counter the first left (READ COMMITTED re-reads the updated row). PostgreSQL makes a
//! transaction visible before it releases its locks, so whenever a push holds seq N, every
//! smaller seq of its tenant is already committed or was rolled back: a reader that sees seq N
//! sees every seq below it, which is the invariant pulls rely on. Taking the lock at the start
//! rather than per document means a push never waits on the tenant row while holding document
//! rows, so pushes cannot deadlock on each other; pushes of different tenants do not wait at
//! all. The price is that one tenant's pushes commit one at a time, as they do on SQLite.
//!
//! **Reads** that must be consistent (a document and its changes, a pull) run in
//! `REPEATABLE READ READ ONLY` transactions: one snapshot, and no serialization failures.

use sqlx::{Postgres, Transaction};

use super::PgStore;

/// One snapshot for several reads; read-only snapshots never fail with serialization errors.
pub(super) const BEGIN_SNAPSHOT_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

impl PgStore {
    /// A READ COMMITTED write transaction: rows are locked as they are written, and the tenant
    /// row by the first statement of a push (module docs).
    async fn doc_begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool().begin().await?)
    }

    /// A consistent read over several statements.
    async fn doc_begin_read(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool().begin_with(BEGIN_SNAPSHOT_READ).await?)
    }

    /// Appends the document's new changes in one statement, in the given order; a hash
    /// already stored is skipped and keeps its first receive time.
    async fn doc_insert_changes(
        tx: &mut Transaction<'static, Postgres>,
        commit: &PushCommit,
        doc: &DocumentWrite,
        seq: i64,
        received_at: Timestamp,
    ) -> StoreResult<u64> {
        if doc.changes.is_empty() {
            return Ok(0);
        }
        let hashes: Vec<&[u8]> = doc.changes.iter().map(|c| &c.hash[..]).collect();
        let bytes: Vec<&[u8]> = doc.changes.iter().map(|c| c.bytes.as_slice()).collect();
        let (devices, users): (Vec<String>, Vec<String>) = doc
            .changes
            .iter()
            .map(|c| {
                let (device, user) = c.origin.sender(commit);
                (device.to_string(), user.to_string())
            })
            .unzip();
        // The identity column `id` is the storage order: the rows are inserted in array order
        // (ORDER BY ord), so ids follow the order the device sent.
        let inserted = sqlx::query(
            "INSERT INTO doc_changes (doc_id, hash, bytes, seq, device_id, user_id, received_at)
             SELECT $1, c.hash, c.bytes, $4, c.device_id, c.user_id, $7
             FROM UNNEST($2::bytea[], $3::bytea[], $5::text[], $6::text[])
                  WITH ORDINALITY AS c(hash, bytes, device_id, user_id, ord)
             ORDER BY c.ord
             ON CONFLICT (doc_id, hash) DO NOTHING",
        )
        .bind(doc.doc_id.to_string())
        .bind(hashes)
        .bind(bytes)
        .bind(seq)
        .bind(devices)
        .bind(users)
        .bind(received_at.millis())
        .execute(&mut **tx)
        .await?
        .rows_affected();
        Ok(inserted)
    }

    /// `pg_notify` of the feed event channel (`crate::feed_events`): `<tenant>:<last seq>`,
    /// delivered to every instance's listener at commit, never for a rollback.
    async fn doc_announce_feed(
        tx: &mut Transaction<'static, Postgres>,
        tenant: TenantId,
        last_seq: i64,
    ) -> StoreResult<()> {
        let event = crate::feed_events::FeedEvent {
            tenant,
            seq: last_seq,
        };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::feed_events::CHANNEL)
            .bind(event.payload())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

crate::store::documents_sql::document_store!(PgStore, Postgres, postgres);
