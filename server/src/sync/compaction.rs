//! Compaction: fold a document's stored changes into a new snapshot so loads stay fast.
//!
//! Runs after a push's commit, in the background; a failure is logged and never fails a sync.
//! The store writes the snapshot first and deletes the folded changes in a second transaction,
//! so a crash in between leaves redundant changes, never missing ones.

use std::sync::Arc;

use fieldsync_shared::values::{DocId, TenantId};

use automerge::ReadDoc;

use super::merge::open_stored;
use crate::store::documents::{Compaction, CompactionOutcome, DocumentStore, LoadedDocument};
use crate::store::StoreError;

/// A document with more changes than this beyond its snapshot is compacted after a push.
pub const AUTO_COMPACT_AFTER_CHANGES: u64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum CompactionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored document does not load: {0}")]
    Unreadable(String),
    #[error("stored document lacks dependencies of its own changes; not compacting")]
    Incomplete,
    #[error("compaction task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Compacts one document now. `Stale` if it is absent or changed while compacting (a later
/// push will trigger compaction again).
#[tracing::instrument(skip(store), fields(%tenant, %doc_id))]
pub async fn compact<S: DocumentStore + ?Sized>(
    store: &S,
    tenant: TenantId,
    doc_id: DocId,
) -> Result<CompactionOutcome, CompactionError> {
    let loaded = store.load_documents(tenant, &[doc_id]).await?;
    let Some((_, LoadedDocument::Found(stored))) = loaded.into_iter().next() else {
        return Ok(CompactionOutcome::Stale);
    };
    let (version, covers_seq) = (stored.version, stored.last_seq);
    let snapshot = tokio::task::spawn_blocking(move || {
        let doc = open_stored(&stored).map_err(CompactionError::Unreadable)?;
        // save() drops queued changes whose dependencies are absent: deleting those changes
        // afterwards would lose them.
        if !doc.get_missing_deps(&[]).is_empty() {
            return Err(CompactionError::Incomplete);
        }
        Ok(doc.save())
    })
    .await??;
    let outcome = store
        .compact_document(
            tenant,
            Compaction {
                doc_id,
                expected_version: version,
                snapshot,
                covers_seq,
            },
        )
        .await?;
    tracing::info!(?outcome, "compaction finished");
    Ok(outcome)
}

/// Compacts `docs` in a background task; errors are logged.
pub fn spawn_compactions<S: DocumentStore + ?Sized + 'static>(
    store: Arc<S>,
    tenant: TenantId,
    docs: Vec<DocId>,
) {
    if docs.is_empty() {
        return;
    }
    tokio::spawn(async move {
        for doc_id in docs {
            if let Err(e) = compact(store.as_ref(), tenant, doc_id).await {
                tracing::warn!(%tenant, %doc_id, error = %e, "compaction failed");
            }
        }
    });
}
