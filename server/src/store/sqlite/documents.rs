//! [`DocumentStore`] on SQLite.
//!
//! Writes run in `BEGIN IMMEDIATE` transactions: SQLite has one writer, and taking the write lock
//! up front makes a second writer wait (busy timeout) instead of failing when it upgrades a read
//! lock. Reads that must be consistent run in a deferred transaction (a WAL read snapshot).

use fieldsync_shared::document::DocKind;
use fieldsync_shared::protocol::Cursor;
use fieldsync_shared::values::{Date, DeviceId, DocId, TenantId};
use sqlx::{Sqlite, Transaction};

use super::SqliteStore;
use crate::store::documents::{
    CommitOutcome, CommittedDocument, Compaction, CompactionOutcome, DocumentStore, DocumentWrite,
    ExpectedVersion, FeedEntry, LoadedDocument, ProjectedDocument, Projection, ProjectionFilter,
    PullData, PushCommit, ScopeChange, ScopeChangeItem, StoredDocument, Visibility,
};
use crate::store::{StoreError, StoreResult};

const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

fn parse_doc_id(s: &str) -> StoreResult<DocId> {
    DocId::parse(s).map_err(|e| StoreError::Corrupt(format!("documents.id {s:?}: {e}")))
}

fn parse_kind(s: &str) -> StoreResult<DocKind> {
    DocKind::parse(s).ok_or_else(|| StoreError::Corrupt(format!("documents.kind {s:?}")))
}

fn parse_date(s: &str) -> StoreResult<Date> {
    Date::parse(s).map_err(|e| StoreError::Corrupt(format!("projection date {s:?}: {e}")))
}

/// A random non-zero feed mark (zero is reserved for the start cursor).
fn random_mark() -> StoreResult<i64> {
    loop {
        let m = getrandom::u64()
            .map_err(|e| StoreError::Unavailable(format!("random source: {e}")))?
            as i64;
        if m != 0 {
            return Ok(m);
        }
    }
}

#[async_trait::async_trait]
impl DocumentStore for SqliteStore {
    #[tracing::instrument(skip(self, ids), fields(%tenant, docs = ids.len()))]
    async fn load_documents(
        &self,
        tenant: TenantId,
        ids: &[DocId],
    ) -> StoreResult<Vec<(DocId, LoadedDocument)>> {
        // One read transaction: every document comes from the same snapshot.
        let mut tx = self.pool().begin().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let loaded = load_one(&mut tx, tenant, *id).await?;
            out.push((*id, loaded));
        }
        tx.rollback().await?;
        Ok(out)
    }

    #[tracing::instrument(skip(self, commit), fields(tenant = %commit.tenant_id, device = %commit.device_id, docs = commit.documents.len()))]
    async fn commit_push(&self, commit: PushCommit) -> StoreResult<CommitOutcome> {
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let mut conflicts = Vec::new();
        let mut committed = Vec::with_capacity(commit.documents.len());
        for doc in &commit.documents {
            let seq = next_feed_seq(&mut tx, commit.tenant_id).await?;
            if !bump_document(&mut tx, &commit, doc, seq).await? {
                conflicts.push(doc.doc_id);
                continue;
            }
            if !conflicts.is_empty() {
                // Rolled back below anyway; keep checking versions to report every conflict.
                continue;
            }
            let inserted = insert_changes(&mut tx, &commit, doc, seq).await?;
            upsert_projection(&mut tx, commit.tenant_id, doc, seq).await?;
            append_feed(&mut tx, commit.tenant_id, doc.doc_id, seq).await?;
            let changes_since_snapshot = count_changes_since_snapshot(&mut tx, doc.doc_id).await?;
            committed.push(CommittedDocument {
                doc_id: doc.doc_id,
                seq,
                inserted_changes: inserted,
                changes_since_snapshot,
            });
        }
        if !conflicts.is_empty() {
            tx.rollback().await?;
            return Ok(CommitOutcome::VersionConflict(conflicts));
        }
        tx.commit().await?;
        Ok(CommitOutcome::Committed(committed))
    }

    #[tracing::instrument(skip(self), fields(%tenant))]
    async fn cursor_is_valid(&self, tenant: TenantId, cursor: Cursor) -> StoreResult<bool> {
        if cursor.seq == 0 && cursor.mark == 0 {
            return Ok(true);
        }
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM feed WHERE tenant_id = ? AND seq = ? AND mark = ?")
                .bind(tenant.to_string())
                .bind(cursor.seq)
                .bind(cursor.mark)
                .fetch_optional(self.pool())
                .await?;
        Ok(found.is_some())
    }

    #[tracing::instrument(skip(self), fields(%tenant))]
    async fn feed_after(
        &self,
        tenant: TenantId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<FeedEntry>> {
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT f.seq, f.mark, f.doc_id, d.kind
             FROM feed f JOIN documents d ON d.id = f.doc_id
             WHERE f.tenant_id = ? AND f.seq > ?
             ORDER BY f.seq
             LIMIT ?",
        )
        .bind(tenant.to_string())
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(seq, mark, doc_id, kind)| {
                Ok(FeedEntry {
                    seq,
                    mark,
                    doc_id: parse_doc_id(&doc_id)?,
                    kind: parse_kind(&kind)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip(self), fields(%tenant))]
    async fn feed_head(&self, tenant: TenantId) -> StoreResult<Cursor> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT seq, mark FROM feed WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1",
        )
        .bind(tenant.to_string())
        .fetch_optional(self.pool())
        .await?;
        Ok(
            row.map_or(Cursor { seq: 0, mark: 0 }, |(seq, mark)| Cursor {
                seq,
                mark,
            }),
        )
    }

    #[tracing::instrument(skip(self, visible), fields(%tenant, scoped = visible.is_some()))]
    async fn feed_visible(
        &self,
        tenant: TenantId,
        after_seq: i64,
        up_to_seq: i64,
        limit: u32,
        visible: Option<&Visibility>,
    ) -> StoreResult<Vec<FeedEntry>> {
        // The scope lists are bound once each; SQLite evaluates the uncorrelated json_each
        // subqueries once per statement. Each entry's document is judged by its projection.
        let (stores, people) = Visibility::bind_pair(visible);
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT f.seq, f.mark, f.doc_id, d.kind
             FROM feed f JOIN documents d ON d.id = f.doc_id
             WHERE f.tenant_id = ?1 AND f.seq > ?2 AND f.seq <= ?3
               AND (?4 IS NULL
                    OR EXISTS (SELECT 1 FROM visits v WHERE v.doc_id = f.doc_id
                                 AND (v.store_id IN (SELECT value FROM json_each(?4))
                                      OR v.person_id IN (SELECT value FROM json_each(?5))))
                    OR EXISTS (SELECT 1 FROM orders o WHERE o.doc_id = f.doc_id
                                 AND (o.store_id IN (SELECT value FROM json_each(?4))
                                      OR o.person_id IN (SELECT value FROM json_each(?5)))))
             ORDER BY f.seq
             LIMIT ?6",
        )
        .bind(tenant.to_string())
        .bind(after_seq)
        .bind(up_to_seq)
        .bind(stores)
        .bind(people)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(seq, mark, doc_id, kind)| {
                Ok(FeedEntry {
                    seq,
                    mark,
                    doc_id: parse_doc_id(&doc_id)?,
                    kind: parse_kind(&kind)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip(self, change), fields(%tenant))]
    async fn scope_changes(
        &self,
        tenant: TenantId,
        change: ScopeChange<'_>,
        after: Option<DocId>,
        limit: u32,
    ) -> StoreResult<Vec<ScopeChangeItem>> {
        let (held_s, held_p) = Visibility::bind_pair(change.may_hold);
        let (sure_s, sure_p) = Visibility::bind_pair(change.surely_holds);
        let (target_s, target_p) = Visibility::bind_pair(change.target);
        let rows: Vec<(String, String, bool)> = sqlx::query_as(
            "SELECT doc_id, kind, gained FROM (
                 SELECT d.doc_id, d.kind,
                     (?2 IS NULL OR d.store_id IN (SELECT value FROM json_each(?2))
                      OR d.person_id IN (SELECT value FROM json_each(?3))) AS held,
                     (?4 IS NULL OR d.store_id IN (SELECT value FROM json_each(?4))
                      OR d.person_id IN (SELECT value FROM json_each(?5))) AS sure,
                     (?6 IS NULL OR d.store_id IN (SELECT value FROM json_each(?6))
                      OR d.person_id IN (SELECT value FROM json_each(?7))) AS gained
                 FROM (SELECT doc_id, 'visit' AS kind, store_id, person_id FROM visits
                        WHERE tenant_id = ?1
                       UNION ALL
                       SELECT doc_id, 'order' AS kind, store_id, person_id FROM orders
                        WHERE tenant_id = ?1) d
                 WHERE ?8 IS NULL OR d.doc_id > ?8
             )
             WHERE (held AND NOT gained) OR (gained AND NOT sure)
             ORDER BY doc_id
             LIMIT ?9",
        )
        .bind(tenant.to_string())
        .bind(held_s)
        .bind(held_p)
        .bind(sure_s)
        .bind(sure_p)
        .bind(target_s)
        .bind(target_p)
        .bind(after.map(|d| d.to_string()))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(doc_id, kind, gained)| {
                Ok(ScopeChangeItem {
                    doc_id: parse_doc_id(&doc_id)?,
                    kind: parse_kind(&kind)?,
                    gained,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip(self, visible), fields(%tenant, %sha256))]
    async fn photo_visible(
        &self,
        tenant: TenantId,
        sha256: &fieldsync_shared::Sha256,
        visible: Option<&Visibility>,
    ) -> StoreResult<bool> {
        let (stores, people) = Visibility::bind_pair(visible);
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM photo_refs r JOIN visits v ON v.doc_id = r.doc_id
             WHERE r.tenant_id = ?1 AND r.sha256 = ?2
               AND (?3 IS NULL OR v.store_id IN (SELECT value FROM json_each(?3))
                    OR v.person_id IN (SELECT value FROM json_each(?4)))
             LIMIT 1",
        )
        .bind(tenant.to_string())
        .bind(sha256.to_hex())
        .bind(stores)
        .bind(people)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    #[tracing::instrument(skip(self), fields(%tenant, %doc_id))]
    async fn pull_data(
        &self,
        tenant: TenantId,
        doc_id: DocId,
        after_seq: i64,
        exclude_device: Option<DeviceId>,
    ) -> StoreResult<Option<PullData>> {
        // One snapshot: a compaction between the two reads must not hide changes.
        let mut tx = self.pool().begin().await?;
        let row: Option<(Option<Vec<u8>>, i64)> = sqlx::query_as(
            "SELECT snapshot, snapshot_seq FROM documents WHERE id = ? AND tenant_id = ?",
        )
        .bind(doc_id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((snapshot, snapshot_seq)) = row else {
            return Ok(None);
        };
        let data = match snapshot {
            // The changes after the cursor are (partly) only in the snapshot: send it all.
            Some(snapshot) if snapshot_seq > after_seq => {
                let mut parts = vec![snapshot];
                parts.extend(changes_after(&mut tx, doc_id, snapshot_seq).await?);
                PullData::Whole(parts)
            }
            _ => {
                let changes: Vec<Vec<u8>> = sqlx::query_scalar(
                    "SELECT bytes FROM doc_changes
                     WHERE doc_id = ?1 AND seq > ?2 AND (?3 IS NULL OR device_id <> ?3)
                     ORDER BY id",
                )
                .bind(doc_id.to_string())
                .bind(after_seq)
                .bind(exclude_device.map(|d| d.to_string()))
                .fetch_all(&mut *tx)
                .await?;
                PullData::Changes(changes)
            }
        };
        tx.rollback().await?;
        Ok(Some(data))
    }

    #[tracing::instrument(skip(self, compaction), fields(%tenant, doc_id = %compaction.doc_id))]
    async fn compact_document(
        &self,
        tenant: TenantId,
        compaction: Compaction,
    ) -> StoreResult<CompactionOutcome> {
        let doc_id = compaction.doc_id.to_string();

        // Transaction 1: the new snapshot, only if the document is still what was saved.
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let stored = sqlx::query(
            "UPDATE documents SET snapshot = ?, snapshot_seq = ?
             WHERE id = ? AND tenant_id = ? AND version = ? AND last_seq = ?",
        )
        .bind(&compaction.snapshot)
        .bind(compaction.covers_seq)
        .bind(&doc_id)
        .bind(tenant.to_string())
        .bind(compaction.expected_version)
        .bind(compaction.covers_seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if stored != 1 {
            tx.rollback().await?;
            return Ok(CompactionOutcome::Stale);
        }
        tx.commit().await?;

        // Transaction 2, only after the snapshot is durable: drop the changes it folds in.
        // A crash before this leaves redundant changes, never missing ones.
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let removed = sqlx::query(
            "DELETE FROM doc_changes
             WHERE doc_id = ?1 AND seq <= (SELECT snapshot_seq FROM documents WHERE id = ?1)",
        )
        .bind(&doc_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(CompactionOutcome::Compacted {
            removed_changes: removed,
        })
    }

    #[tracing::instrument(skip(self, filter), fields(%tenant, kind = kind.as_str()))]
    async fn list_projected(
        &self,
        tenant: TenantId,
        kind: DocKind,
        filter: &ProjectionFilter,
    ) -> StoreResult<Vec<ProjectedDocument>> {
        // Same query over both tables; only the table and date column differ.
        let sql = match kind {
            DocKind::Visit => {
                "SELECT doc_id, store_id, person_id, updated_seq, planned_date, document FROM visits
                 WHERE tenant_id = ?1
                   AND (?2 IS NULL OR store_id = ?2)
                   AND (?3 IS NULL OR person_id = ?3)
                   AND (?4 IS NULL OR planned_date >= ?4)
                   AND (?5 IS NULL OR planned_date <= ?5)
                   AND (?6 IS NULL OR status = ?6)
                   AND (?7 IS NULL OR planned_date < ?7 OR (planned_date = ?7 AND doc_id < ?8))
                   AND (?10 IS NULL OR store_id IN (SELECT value FROM json_each(?10))
                        OR person_id IN (SELECT value FROM json_each(?11)))
                 ORDER BY planned_date DESC, doc_id DESC
                 LIMIT ?9"
            }
            DocKind::Order => {
                "SELECT doc_id, store_id, person_id, updated_seq, order_date, document FROM orders
                 WHERE tenant_id = ?1
                   AND (?2 IS NULL OR store_id = ?2)
                   AND (?3 IS NULL OR person_id = ?3)
                   AND (?4 IS NULL OR order_date >= ?4)
                   AND (?5 IS NULL OR order_date <= ?5)
                   AND (?6 IS NULL OR status = ?6)
                   AND (?7 IS NULL OR order_date < ?7 OR (order_date = ?7 AND doc_id < ?8))
                   AND (?10 IS NULL OR store_id IN (SELECT value FROM json_each(?10))
                        OR person_id IN (SELECT value FROM json_each(?11)))
                 ORDER BY order_date DESC, doc_id DESC
                 LIMIT ?9"
            }
        };
        let (stores, people) = Visibility::bind_pair(filter.visible.as_ref());
        let rows: Vec<ProjectedRow> = sqlx::query_as(sql)
            .bind(tenant.to_string())
            .bind(filter.store_id.map(|s| s.to_string()))
            .bind(filter.person_id.map(|p| p.to_string()))
            .bind(filter.from.map(|d| d.to_string()))
            .bind(filter.to.map(|d| d.to_string()))
            .bind(filter.status)
            .bind(filter.after.map(|k| k.date.to_string()))
            .bind(filter.after.map(|k| k.doc_id.to_string()))
            .bind(i64::from(filter.limit))
            .bind(stores)
            .bind(people)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(projected_from_row).collect()
    }

    #[tracing::instrument(skip(self), fields(%tenant, kind = kind.as_str(), %doc_id))]
    async fn get_projected(
        &self,
        tenant: TenantId,
        kind: DocKind,
        doc_id: DocId,
    ) -> StoreResult<Option<ProjectedDocument>> {
        let sql = match kind {
            DocKind::Visit => {
                "SELECT doc_id, store_id, person_id, updated_seq, planned_date, document FROM visits
                 WHERE doc_id = ? AND tenant_id = ?"
            }
            DocKind::Order => {
                "SELECT doc_id, store_id, person_id, updated_seq, order_date, document FROM orders
                 WHERE doc_id = ? AND tenant_id = ?"
            }
        };
        let row: Option<ProjectedRow> = sqlx::query_as(sql)
            .bind(doc_id.to_string())
            .bind(tenant.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.map(projected_from_row).transpose()
    }
}

/// A projection row: doc_id, store_id, person_id, updated_seq, date, document.
type ProjectedRow = (String, String, String, i64, String, String);

fn projected_from_row(
    (doc_id, store_id, person_id, updated_seq, date, document_json): ProjectedRow,
) -> StoreResult<ProjectedDocument> {
    let corrupt = |what: &str, e: fieldsync_shared::values::ParseError| {
        StoreError::Corrupt(format!("projection {what}: {e}"))
    };
    Ok(ProjectedDocument {
        doc_id: parse_doc_id(&doc_id)?,
        store_id: fieldsync_shared::values::StoreId::parse(&store_id)
            .map_err(|e| corrupt("store_id", e))?,
        person_id: fieldsync_shared::values::UserId::parse(&person_id)
            .map_err(|e| corrupt("person_id", e))?,
        updated_seq,
        date: parse_date(&date)?,
        document_json,
    })
}

/// `documents` columns: tenant_id, kind, version, snapshot, snapshot_seq, last_seq.
type DocumentRow = (String, String, i64, Option<Vec<u8>>, i64, i64);

async fn load_one(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: TenantId,
    id: DocId,
) -> StoreResult<LoadedDocument> {
    let row: Option<DocumentRow> = sqlx::query_as(
        "SELECT tenant_id, kind, version, snapshot, snapshot_seq, last_seq
         FROM documents WHERE id = ?",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((owner, kind, version, snapshot, snapshot_seq, last_seq)) = row else {
        return Ok(LoadedDocument::Absent);
    };
    let owner = TenantId::parse(&owner)
        .map_err(|e| StoreError::Corrupt(format!("documents.tenant_id {owner:?}: {e}")))?;
    if owner != tenant {
        return Ok(LoadedDocument::OtherTenant);
    }
    let changes = changes_after(tx, id, snapshot_seq).await?;
    Ok(LoadedDocument::Found(StoredDocument {
        id,
        kind: parse_kind(&kind)?,
        version,
        snapshot,
        snapshot_seq,
        last_seq,
        changes,
    }))
}

/// Changes of `doc_id` stored with a seq > `after_seq`, in storage order.
async fn changes_after(
    tx: &mut Transaction<'static, Sqlite>,
    doc_id: DocId,
    after_seq: i64,
) -> StoreResult<Vec<Vec<u8>>> {
    Ok(
        sqlx::query_scalar(
            "SELECT bytes FROM doc_changes WHERE doc_id = ? AND seq > ? ORDER BY id",
        )
        .bind(doc_id.to_string())
        .bind(after_seq)
        .fetch_all(&mut **tx)
        .await?,
    )
}

/// Takes the tenant's next feed seq. The row update also serialises the tenant's writers.
async fn next_feed_seq(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: TenantId,
) -> StoreResult<i64> {
    let seq: Option<i64> = sqlx::query_scalar(
        "UPDATE tenants SET feed_seq = feed_seq + 1 WHERE id = ? RETURNING feed_seq",
    )
    .bind(tenant.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    seq.ok_or(StoreError::NotFound("tenant"))
}

/// Creates the document or bumps its version; `false` if the expected version did not hold.
async fn bump_document(
    tx: &mut Transaction<'static, Sqlite>,
    commit: &PushCommit,
    doc: &DocumentWrite,
    seq: i64,
) -> StoreResult<bool> {
    let at = commit.at.millis();
    let rows = match doc.expected {
        ExpectedVersion::New => sqlx::query(
            "INSERT INTO documents
                 (id, tenant_id, kind, version, snapshot, snapshot_seq, last_seq, created_at, updated_at)
             VALUES (?1, ?2, ?3, 1, NULL, 0, ?4, ?5, ?5)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(doc.doc_id.to_string())
        .bind(commit.tenant_id.to_string())
        .bind(doc.kind.as_str())
        .bind(seq)
        .bind(at)
        .execute(&mut **tx)
        .await?
        .rows_affected(),
        ExpectedVersion::Existing(version) => sqlx::query(
            "UPDATE documents SET version = version + 1, last_seq = ?, updated_at = ?
             WHERE id = ? AND tenant_id = ? AND kind = ? AND version = ?",
        )
        .bind(seq)
        .bind(at)
        .bind(doc.doc_id.to_string())
        .bind(commit.tenant_id.to_string())
        .bind(doc.kind.as_str())
        .bind(version)
        .execute(&mut **tx)
        .await?
        .rows_affected(),
    };
    Ok(rows == 1)
}

/// Appends the document's new changes; a hash already stored is skipped.
async fn insert_changes(
    tx: &mut Transaction<'static, Sqlite>,
    commit: &PushCommit,
    doc: &DocumentWrite,
    seq: i64,
) -> StoreResult<u64> {
    let doc_id = doc.doc_id.to_string();
    let mut inserted = 0;
    for change in &doc.changes {
        let (device_id, user_id) = change.origin.sender(commit);
        inserted += sqlx::query(
            "INSERT INTO doc_changes (doc_id, hash, bytes, seq, device_id, user_id)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (doc_id, hash) DO NOTHING",
        )
        .bind(&doc_id)
        .bind(&change.hash[..])
        .bind(&change.bytes)
        .bind(seq)
        .bind(device_id.to_string())
        .bind(user_id.to_string())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}

async fn upsert_projection(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: TenantId,
    doc: &DocumentWrite,
    seq: i64,
) -> StoreResult<()> {
    if doc.projection.kind() != doc.kind {
        return Err(StoreError::Corrupt(format!(
            "projection of a {} written for a {}",
            doc.projection.kind().as_str(),
            doc.kind.as_str()
        )));
    }
    match &doc.projection {
        Projection::Visit(v) => {
            sqlx::query(
                "INSERT INTO visits
                     (doc_id, tenant_id, store_id, person_id, planned_date, status, updated_seq, document)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (doc_id) DO UPDATE SET
                     store_id = excluded.store_id,
                     person_id = excluded.person_id,
                     planned_date = excluded.planned_date,
                     status = excluded.status,
                     updated_seq = excluded.updated_seq,
                     document = excluded.document",
            )
            .bind(doc.doc_id.to_string())
            .bind(tenant.to_string())
            .bind(v.store_id.to_string())
            .bind(v.person_id.to_string())
            .bind(v.planned_date.to_string())
            .bind(v.status)
            .bind(seq)
            .bind(&v.document_json)
            .execute(&mut **tx)
            .await?;
            replace_photo_refs(tx, tenant, doc.doc_id, &v.photo_hashes()).await?;
        }
        Projection::Order(o) => {
            sqlx::query(
                "INSERT INTO orders
                     (doc_id, tenant_id, store_id, person_id, order_date, status, number, updated_seq, document)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (doc_id) DO UPDATE SET
                     store_id = excluded.store_id,
                     person_id = excluded.person_id,
                     order_date = excluded.order_date,
                     status = excluded.status,
                     number = excluded.number,
                     updated_seq = excluded.updated_seq,
                     document = excluded.document",
            )
            .bind(doc.doc_id.to_string())
            .bind(tenant.to_string())
            .bind(o.store_id.to_string())
            .bind(o.person_id.to_string())
            .bind(o.order_date.to_string())
            .bind(o.status)
            .bind(&o.number)
            .bind(seq)
            .bind(&o.document_json)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Makes `photo_refs` of the document exactly `hashes` (the visit's current photos).
async fn replace_photo_refs(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: TenantId,
    doc_id: DocId,
    hashes: &[String],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM photo_refs WHERE doc_id = ?")
        .bind(doc_id.to_string())
        .execute(&mut **tx)
        .await?;
    for sha in hashes {
        sqlx::query(
            "INSERT INTO photo_refs (tenant_id, doc_id, sha256) VALUES (?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant.to_string())
        .bind(doc_id.to_string())
        .bind(sha)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn append_feed(
    tx: &mut Transaction<'static, Sqlite>,
    tenant: TenantId,
    doc_id: DocId,
    seq: i64,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO feed (tenant_id, seq, doc_id, mark) VALUES (?, ?, ?, ?)")
        .bind(tenant.to_string())
        .bind(seq)
        .bind(doc_id.to_string())
        .bind(random_mark()?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn count_changes_since_snapshot(
    tx: &mut Transaction<'static, Sqlite>,
    doc_id: DocId,
) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM doc_changes
         WHERE doc_id = ?1 AND seq > (SELECT snapshot_seq FROM documents WHERE id = ?1)",
    )
    .bind(doc_id.to_string())
    .fetch_one(&mut **tx)
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}
