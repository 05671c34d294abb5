//! [`DocumentStore`](super::DocumentStore) for both engines: documents, changes, the feed,
//! projections.
//!
//! Both engines run the same SQL (`$N` placeholders work on SQLite too: sqlx binds `$N` to
//! the N-th argument), so the two implementations are one macro body, `document_store!`,
//! instantiated in `sqlite/documents.rs` and `postgres/documents.rs`. What really differs is
//! provided by each engine's store, named and explained once there:
//!
//! * `doc_begin_write()`: the transaction of a write (SQLite takes its one write lock up
//!   front; PostgreSQL runs READ COMMITTED and locks rows).
//! * `doc_begin_read()`: a consistent read over several statements (SQLite's deferred
//!   transaction is a WAL snapshot; PostgreSQL needs REPEATABLE READ READ ONLY).
//! * `doc_insert_changes()`: appending a document's changes (one `UNNEST` statement of arrays
//!   on PostgreSQL, which SQLite lacks: one statement per change there).
//! * `doc_announce_feed()`: telling other instances about the commit (PostgreSQL `pg_notify`
//!   in the transaction; a no-op on SQLite, whose only instance publishes itself).
//!
//! and, inside the SQL, [`json_list!`](super::sql_fragments::json_list): how a JSON array bound
//! as text becomes a list of values.

use super::{StoreError, StoreResult};

/// A random non-zero feed mark (zero is reserved for the start cursor).
pub(crate) fn random_mark() -> StoreResult<i64> {
    loop {
        let m = getrandom::u64()
            .map_err(|e| StoreError::Unavailable(format!("random source: {e}")))?
            as i64;
        if m != 0 {
            return Ok(m);
        }
    }
}

/// Implements [`DocumentStore`](super::DocumentStore) for `$store`, where `$db` is the
/// engine's [`sqlx::Database`] and `$engine` (`sqlite` or `postgres`) picks the
/// [`json_list!`](super::sql_fragments::json_list) form. `$store` provides `doc_begin_write`, `doc_begin_read`,
/// `doc_insert_changes` and `doc_announce_feed` (module docs).
macro_rules! document_store {
    ($store:ty, $db:ty, $engine:ident) => {
        use fieldsync_shared::document::DocKind;
        use fieldsync_shared::protocol::Cursor;
        use fieldsync_shared::values::{DeviceId, DocId, TenantId, Timestamp, UserId};

        use $crate::store::documents::{
            ChangeReceipt, CommitOutcome, CommittedDocument, Compaction, CompactionOutcome,
            DocumentStore, DocumentWrite, ExpectedVersion, FeedEntry, LoadedDocument,
            ProjectedDocument, Projection, ProjectionFilter, PullData, PulledDocument, PushCommit, ScopeChange,
            ScopeChangeItem, StoredDocument, Visibility,
        };
        use $crate::store::documents_rows::{
            feed_entry_from_row, join_heads, parse_kind, projected_from_row, scope_item_from_row,
            split_heads, FeedRow, ProjectedRow, ScopeChangeRow,
        };
        use $crate::store::documents_sql::random_mark;
        use $crate::store::sql_fragments::{json_list, list_projected_sql};
        use $crate::store::expenses_sql::expenses_as_projection;
        use $crate::store::plans_sql::{plan_no_store, plans_as_projection};
        use $crate::store::{StoreError, StoreResult};

        type Tx = sqlx::Transaction<'static, $db>;

        #[async_trait::async_trait]
        impl DocumentStore for $store {
            #[tracing::instrument(skip(self, ids), fields(%tenant, docs = ids.len()))]
            async fn load_documents(
                &self,
                tenant: TenantId,
                ids: &[DocId],
            ) -> StoreResult<Vec<(DocId, LoadedDocument)>> {
                // One snapshot: every document, and each with its changes, from the same state
                // (a compaction committing in between must not hide changes).
                let mut tx = self.doc_begin_read().await?;
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
                if commit.documents.is_empty() {
                    return Ok(CommitOutcome::Committed(Vec::new()));
                }
                let mut tx = self.doc_begin_write().await?;
                // First statement of the transaction: the tenant's writers queue here, and the
                // whole block of seqs is taken at once (see the engines' module docs).
                let count = i64::try_from(commit.documents.len())
                    .map_err(|_| StoreError::Corrupt("too many documents in one push".into()))?;
                let first_seq = reserve_feed_seqs(&mut tx, commit.tenant_id, count).await?;
                // Read once the tenant's write lock is held: the time the changes are stored,
                // the same for every change of the push (they become durable together).
                let received_at = Timestamp::now();
                let mut conflicts = Vec::new();
                let mut committed = Vec::with_capacity(commit.documents.len());
                for (seq, doc) in (first_seq..).zip(&commit.documents) {
                    if !bump_document(&mut tx, &commit, doc, seq).await? {
                        conflicts.push(doc.doc_id);
                        continue;
                    }
                    if !conflicts.is_empty() {
                        // Rolled back below anyway; keep checking versions to report every
                        // conflict.
                        continue;
                    }
                    let inserted =
                        <$store>::doc_insert_changes(&mut tx, &commit, doc, seq, received_at)
                            .await?;
                    upsert_projection(&mut tx, commit.tenant_id, commit.user_id, doc, seq).await?;
                    append_feed(&mut tx, commit.tenant_id, doc.doc_id, seq).await?;
                    let changes_since_snapshot =
                        count_changes_since_snapshot(&mut tx, doc.doc_id).await?;
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
                // The verdicts' findings on these documents are durable with them: a crash
                // after the commit cannot lose one, and none outlives a rolled-back push.
                $crate::store::verdicts_sql::$engine::insert_findings_in(
                    &mut tx,
                    commit.tenant_id,
                    &commit.findings,
                )
                .await?;
                <$store>::doc_announce_feed(&mut tx, commit.tenant_id, first_seq + count - 1)
                    .await?;
                tx.commit().await?;
                Ok(CommitOutcome::Committed(committed))
            }

            #[tracing::instrument(skip(self), fields(%tenant))]
            async fn cursor_is_valid(&self, tenant: TenantId, cursor: Cursor) -> StoreResult<bool> {
                if cursor.seq == 0 && cursor.mark == 0 {
                    return Ok(true);
                }
                let found: Option<i64> = sqlx::query_scalar(
                    "SELECT seq FROM feed WHERE tenant_id = $1 AND seq = $2 AND mark = $3",
                )
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
                // One statement, one snapshot: if it sees seq N it sees every committed seq
                // below N, and no seq below N can still be uncommitted (engines' module docs).
                let rows: Vec<FeedRow> = sqlx::query_as(
                    "SELECT f.seq, f.mark, f.doc_id, d.kind
                     FROM feed f JOIN documents d ON d.id = f.doc_id
                     WHERE f.tenant_id = $1 AND f.seq > $2
                     ORDER BY f.seq
                     LIMIT $3",
                )
                .bind(tenant.to_string())
                .bind(after_seq)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.into_iter().map(feed_entry_from_row).collect()
            }

            #[tracing::instrument(skip(self), fields(%tenant))]
            async fn feed_head(&self, tenant: TenantId) -> StoreResult<Cursor> {
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT seq, mark FROM feed WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
                )
                .bind(tenant.to_string())
                .fetch_optional(self.pool())
                .await?;
                Ok(row.map_or(Cursor { seq: 0, mark: 0 }, |(seq, mark)| Cursor {
                    seq,
                    mark,
                }))
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
                // The scope lists are bound once each; both engines evaluate the uncorrelated
                // list subqueries once per statement. Each entry's document is judged by its
                // projection.
                let (stores, people) = Visibility::bind_pair(visible);
                let rows: Vec<FeedRow> = sqlx::query_as(concat!(
                    "SELECT f.seq, f.mark, f.doc_id, d.kind
                     FROM feed f JOIN documents d ON d.id = f.doc_id
                     WHERE f.tenant_id = $1 AND f.seq > $2 AND f.seq <= $3
                       AND ($4 IS NULL
                            OR EXISTS (SELECT 1 FROM visits v WHERE v.doc_id = f.doc_id
                                 AND (v.store_id IN ", json_list!($engine, "$4"), "
                                      OR v.person_id IN ", json_list!($engine, "$5"), "))
                            OR EXISTS (SELECT 1 FROM orders o WHERE o.doc_id = f.doc_id
                                 AND (o.store_id IN ", json_list!($engine, "$4"), "
                                      OR o.person_id IN ", json_list!($engine, "$5"), "))
                            OR EXISTS (SELECT 1 FROM plans p WHERE p.doc_id = f.doc_id
                                 AND p.person_id IN ", json_list!($engine, "$5"), ")
                            OR EXISTS (SELECT 1 FROM expenses e WHERE e.doc_id = f.doc_id
                                 AND e.person_id IN ", json_list!($engine, "$5"), "))
                     ORDER BY f.seq
                     LIMIT $6"
                ))
                .bind(tenant.to_string())
                .bind(after_seq)
                .bind(up_to_seq)
                .bind(stores)
                .bind(people)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.into_iter().map(feed_entry_from_row).collect()
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
                let rows: Vec<ScopeChangeRow> = sqlx::query_as(concat!(
                    "SELECT doc_id, kind, gained FROM (
                         SELECT d.doc_id, d.kind,
                             ($2 IS NULL OR d.store_id IN ", json_list!($engine, "$2"), "
                              OR d.person_id IN ", json_list!($engine, "$3"), ") AS held,
                             ($4 IS NULL OR d.store_id IN ", json_list!($engine, "$4"), "
                              OR d.person_id IN ", json_list!($engine, "$5"), ") AS sure,
                             ($6 IS NULL OR d.store_id IN ", json_list!($engine, "$6"), "
                              OR d.person_id IN ", json_list!($engine, "$7"), ") AS gained
                         FROM (SELECT doc_id, CAST('visit' AS TEXT) AS kind, store_id, person_id
                                 FROM visits WHERE tenant_id = $1
                               UNION ALL
                               SELECT doc_id, CAST('order' AS TEXT) AS kind, store_id, person_id
                                 FROM orders WHERE tenant_id = $1
                               UNION ALL
                               SELECT doc_id, CAST('plan' AS TEXT) AS kind, ", plan_no_store!(), " AS store_id, person_id
                                 FROM plans WHERE tenant_id = $1
                               UNION ALL
                               SELECT doc_id, CAST('expense' AS TEXT) AS kind, ", plan_no_store!(), " AS store_id, person_id
                                 FROM expenses WHERE tenant_id = $1) d
                         WHERE $8 IS NULL OR d.doc_id > $8
                     ) x
                     WHERE (held AND NOT gained) OR (gained AND NOT sure)
                     ORDER BY doc_id
                     LIMIT $9"
                ))
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
                rows.into_iter().map(scope_item_from_row).collect()
            }

            #[tracing::instrument(skip(self, visible), fields(%tenant, %sha256))]
            async fn photo_visible(
                &self,
                tenant: TenantId,
                sha256: &fieldsync_shared::Sha256,
                visible: Option<&Visibility>,
            ) -> StoreResult<bool> {
                let (stores, people) = Visibility::bind_pair(visible);
                let found: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT r.doc_id FROM photo_refs r
                     JOIN (SELECT doc_id, store_id, person_id FROM visits
                           UNION ALL
                           SELECT doc_id, ", plan_no_store!(), ", person_id FROM expenses) v
                       ON v.doc_id = r.doc_id
                     WHERE r.tenant_id = $1 AND r.sha256 = $2
                       AND (r.added_by IS NULL OR r.added_by = COALESCE(
                            (SELECT p.uploaded_by FROM photos p
                             WHERE p.tenant_id = r.tenant_id AND p.sha256 = r.sha256),
                            r.added_by))
                       AND ($3 IS NULL OR v.store_id IN ", json_list!($engine, "$3"), "
                            OR v.person_id IN ", json_list!($engine, "$4"), ")
                     LIMIT 1"
                ))
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
            ) -> StoreResult<Option<PulledDocument>> {
                // One snapshot: a compaction between the two reads must not hide changes.
                let mut tx = self.doc_begin_read().await?;
                let row: Option<(Option<Vec<u8>>, i64, Option<Vec<u8>>)> = sqlx::query_as(
                    "SELECT snapshot, snapshot_seq, heads FROM documents
                     WHERE id = $1 AND tenant_id = $2",
                )
                .bind(doc_id.to_string())
                .bind(tenant.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let Some((snapshot, snapshot_seq, heads)) = row else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                let data = match snapshot {
                    // The changes after the cursor are (partly) only in the snapshot: send it
                    // all.
                    Some(snapshot) if snapshot_seq > after_seq => {
                        let mut parts = vec![snapshot];
                        parts.extend(changes_after(&mut tx, doc_id, snapshot_seq).await?);
                        PullData::Whole(parts)
                    }
                    _ => {
                        let changes: Vec<Vec<u8>> = sqlx::query_scalar(
                            "SELECT bytes FROM doc_changes
                             WHERE doc_id = $1 AND seq > $2 AND ($3 IS NULL OR device_id <> $3)
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
                Ok(Some(PulledDocument {
                    data,
                    heads: split_heads(heads.as_deref()),
                }))
            }

            #[tracing::instrument(skip(self), fields(%tenant, %doc_id))]
            async fn change_receipts(
                &self,
                tenant: TenantId,
                doc_id: DocId,
            ) -> StoreResult<Vec<ChangeReceipt>> {
                let rows: Vec<(Vec<u8>, Option<i64>)> = sqlx::query_as(
                    "SELECT c.hash, c.received_at
                     FROM doc_changes c JOIN documents d ON d.id = c.doc_id
                     WHERE c.doc_id = $1 AND d.tenant_id = $2
                     ORDER BY c.id",
                )
                .bind(doc_id.to_string())
                .bind(tenant.to_string())
                .fetch_all(self.pool())
                .await?;
                rows.into_iter()
                    .map(|(hash, received_at)| {
                        Ok(ChangeReceipt {
                            hash: <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| {
                                StoreError::Corrupt(format!(
                                    "doc_changes.hash of {doc_id}: {} bytes",
                                    hash.len()
                                ))
                            })?,
                            received_at: received_at.map(Timestamp),
                        })
                    })
                    .collect()
            }

            #[tracing::instrument(skip(self, compaction), fields(%tenant, doc_id = %compaction.doc_id))]
            async fn compact_document(
                &self,
                tenant: TenantId,
                compaction: Compaction,
            ) -> StoreResult<CompactionOutcome> {
                let doc_id = compaction.doc_id.to_string();

                // Transaction 1: the new snapshot, only if the document is still what was
                // saved. A push of the document in flight holds the row (or the database):
                // this update waits for it, then re-checks the version and finds it changed.
                let mut tx = self.doc_begin_write().await?;
                let stored = sqlx::query(
                    "UPDATE documents SET snapshot = $1, snapshot_seq = $2
                     WHERE id = $3 AND tenant_id = $4 AND version = $5 AND last_seq = $2",
                )
                .bind(&compaction.snapshot)
                .bind(compaction.covers_seq)
                .bind(&doc_id)
                .bind(tenant.to_string())
                .bind(compaction.expected_version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if stored != 1 {
                    tx.rollback().await?;
                    return Ok(CompactionOutcome::Stale);
                }
                tx.commit().await?;

                // Transaction 2, only after the snapshot is durable: drop the changes it folds
                // in. A crash before this leaves redundant changes, never missing ones.
                let mut tx = self.doc_begin_write().await?;
                let removed = sqlx::query(
                    "DELETE FROM doc_changes
                     WHERE doc_id = $1 AND seq <= (SELECT snapshot_seq FROM documents WHERE id = $1)",
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
                let sql = match kind {
                    DocKind::Visit => list_projected_sql!($engine, "visits", "planned_date"),
                    DocKind::Order => list_projected_sql!($engine, "orders", "order_date"),
                    DocKind::Plan => list_projected_sql!($engine, plans_as_projection!(), "week_start"),
                    DocKind::Expense => list_projected_sql!($engine, expenses_as_projection!(), "expense_date"),
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
                        "SELECT doc_id, store_id, person_id, updated_seq, planned_date, document
                         FROM visits WHERE doc_id = $1 AND tenant_id = $2"
                    }
                    DocKind::Order => {
                        "SELECT doc_id, store_id, person_id, updated_seq, order_date, document
                         FROM orders WHERE doc_id = $1 AND tenant_id = $2"
                    }
                    DocKind::Plan => concat!(
                        "SELECT doc_id, store_id, person_id, updated_seq, week_start, document
                         FROM ", plans_as_projection!(), " WHERE doc_id = $1 AND tenant_id = $2"
                    ),
                    DocKind::Expense => concat!(
                        "SELECT doc_id, store_id, person_id, updated_seq, expense_date, document
                         FROM ", expenses_as_projection!(), " WHERE doc_id = $1 AND tenant_id = $2"
                    ),
                };
                let row: Option<ProjectedRow> = sqlx::query_as(sql)
                    .bind(doc_id.to_string())
                    .bind(tenant.to_string())
                    .fetch_optional(self.pool())
                    .await?;
                row.map(projected_from_row).transpose()
            }
        }

        /// `documents` columns: tenant_id, kind, version, snapshot, snapshot_seq, last_seq.
        type DocumentRow = (String, String, i64, Option<Vec<u8>>, i64, i64);

        async fn load_one(tx: &mut Tx, tenant: TenantId, id: DocId) -> StoreResult<LoadedDocument> {
            let row: Option<DocumentRow> = sqlx::query_as(
                "SELECT tenant_id, kind, version, snapshot, snapshot_seq, last_seq
                 FROM documents WHERE id = $1",
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
            tx: &mut Tx,
            doc_id: DocId,
            after_seq: i64,
        ) -> StoreResult<Vec<Vec<u8>>> {
            Ok(sqlx::query_scalar(
                "SELECT bytes FROM doc_changes WHERE doc_id = $1 AND seq > $2 ORDER BY id",
            )
            .bind(doc_id.to_string())
            .bind(after_seq)
            .fetch_all(&mut **tx)
            .await?)
        }

        /// Takes `count` consecutive feed seqs of the tenant and returns the first. The row
        /// update is held until the transaction ends: it orders the tenant's writers.
        async fn reserve_feed_seqs(tx: &mut Tx, tenant: TenantId, count: i64) -> StoreResult<i64> {
            let last: Option<i64> = sqlx::query_scalar(
                "UPDATE tenants SET feed_seq = feed_seq + $2 WHERE id = $1 RETURNING feed_seq",
            )
            .bind(tenant.to_string())
            .bind(count)
            .fetch_optional(&mut **tx)
            .await?;
            let last = last.ok_or(StoreError::NotFound("tenant"))?;
            Ok(last - count + 1)
        }

        /// Creates the document or bumps its version; `false` if the expected version did not
        /// hold.
        async fn bump_document(
            tx: &mut Tx,
            commit: &PushCommit,
            doc: &DocumentWrite,
            seq: i64,
        ) -> StoreResult<bool> {
            let at = commit.at.millis();
            let rows = match doc.expected {
                // Another tenant's document with this id also conflicts (nothing is inserted).
                ExpectedVersion::New => sqlx::query(
                    "INSERT INTO documents
                         (id, tenant_id, kind, version, snapshot, snapshot_seq, last_seq, created_at, updated_at, heads)
                     VALUES ($1, $2, $3, 1, NULL, 0, $4, $5, $5, $6)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(doc.doc_id.to_string())
                .bind(commit.tenant_id.to_string())
                .bind(doc.kind.as_str())
                .bind(seq)
                .bind(at)
                .bind(join_heads(&doc.heads))
                .execute(&mut **tx)
                .await?
                .rows_affected(),
                // On PostgreSQL (READ COMMITTED), if a compaction holds the row this waits for
                // it and re-checks the version on the row it committed.
                ExpectedVersion::Existing(version) => sqlx::query(
                    "UPDATE documents SET version = version + 1, last_seq = $1, updated_at = $2, heads = $7
                     WHERE id = $3 AND tenant_id = $4 AND kind = $5 AND version = $6",
                )
                .bind(seq)
                .bind(at)
                .bind(doc.doc_id.to_string())
                .bind(commit.tenant_id.to_string())
                .bind(doc.kind.as_str())
                .bind(version)
                .bind(join_heads(&doc.heads))
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            };
            Ok(rows == 1)
        }

        async fn upsert_projection(
            tx: &mut Tx,
            tenant: TenantId,
            pusher: UserId,
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
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
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
                    replace_photo_refs(tx, tenant, pusher, doc.doc_id, &v.photo_hashes()).await?;
                    replace_sightings(tx, tenant, doc.doc_id, v).await?;
                }
                Projection::Order(o) => {
                    sqlx::query(
                        "INSERT INTO orders
                             (doc_id, tenant_id, store_id, person_id, order_date, status, number, updated_seq, document,
                              amount, units, requested_delivery, delivered_on)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                         ON CONFLICT (doc_id) DO UPDATE SET
                             store_id = excluded.store_id,
                             person_id = excluded.person_id,
                             order_date = excluded.order_date,
                             status = excluded.status,
                             number = excluded.number,
                             updated_seq = excluded.updated_seq,
                             document = excluded.document,
                             amount = excluded.amount,
                             units = excluded.units,
                             requested_delivery = excluded.requested_delivery,
                             delivered_on = excluded.delivered_on",
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
                    .bind(o.amount.0)
                    .bind(o.units)
                    .bind(o.requested_delivery.to_string())
                    .bind(o.delivered_on.map(|d| d.to_string()))
                    .execute(&mut **tx)
                    .await?;
                }
                Projection::Plan(p) => upsert_plan(tx, tenant, doc.doc_id, p, seq).await?,
                Projection::Expense(e) => {
                    upsert_expense(tx, tenant, doc.doc_id, e, seq).await?;
                    let receipt: Vec<String> = e.receipt.iter().cloned().collect();
                    replace_photo_refs(tx, tenant, pusher, doc.doc_id, &receipt).await?;
                }
            }
            Ok(())
        }

        $crate::store::plans_sql::plan_projection_writes!();
        $crate::store::competitors_sql::competitor_projection_writes!();
        $crate::store::expenses_sql::expense_projection_writes!();

        /// Makes `photo_refs` of the document exactly `hashes` (the visit's current photos).
        /// References it already had keep their adder; new ones are `pusher`'s.
        async fn replace_photo_refs(
            tx: &mut Tx,
            tenant: TenantId,
            pusher: UserId,
            doc_id: DocId,
            hashes: &[String],
        ) -> StoreResult<()> {
            let list = serde_json::Value::from(hashes.to_vec()).to_string();
            sqlx::query(concat!(
                "DELETE FROM photo_refs WHERE doc_id = $1
                 AND sha256 NOT IN ", json_list!($engine, "$2")
            ))
            .bind(doc_id.to_string())
            .bind(&list)
            .execute(&mut **tx)
            .await?;
            if hashes.is_empty() {
                return Ok(());
            }
            // `WHERE true`: SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
            sqlx::query(concat!(
                "INSERT INTO photo_refs (tenant_id, doc_id, sha256, added_by)
                 SELECT $1, $2, l.value, $4 FROM ", json_list!($engine, "$3"), " AS l
                 WHERE true
                 ON CONFLICT DO NOTHING"
            ))
            .bind(tenant.to_string())
            .bind(doc_id.to_string())
            .bind(&list)
            .bind(pusher.to_string())
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        async fn append_feed(
            tx: &mut Tx,
            tenant: TenantId,
            doc_id: DocId,
            seq: i64,
        ) -> StoreResult<()> {
            sqlx::query("INSERT INTO feed (tenant_id, seq, doc_id, mark) VALUES ($1, $2, $3, $4)")
                .bind(tenant.to_string())
                .bind(seq)
                .bind(doc_id.to_string())
                .bind(random_mark()?)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        async fn count_changes_since_snapshot(tx: &mut Tx, doc_id: DocId) -> StoreResult<u64> {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM doc_changes
                 WHERE doc_id = $1 AND seq > (SELECT snapshot_seq FROM documents WHERE id = $1)",
            )
            .bind(doc_id.to_string())
            .fetch_one(&mut **tx)
            .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        }
    };
}

pub(crate) use document_store;
