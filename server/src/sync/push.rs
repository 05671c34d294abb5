//! Push: load the pushed documents, merge the changes (off the async executor), and commit
//! every accepted document in one transaction. Outcomes are built only from what committed.

use std::collections::HashMap;
use std::sync::Arc;

use fieldsync_shared::document::DocKind;
use fieldsync_shared::protocol::{DocOutcome, DocPush, PushResult};
use fieldsync_shared::values::{DeviceId, DocId, TenantId, Timestamp, UserId};

use super::merge::{merge_document, MergeVerdict};
use crate::error::{ApiError, ApiResult};
use crate::store::documents::{
    CommitOutcome, CommittedDocument, DocumentStore, DocumentWrite, LoadedDocument, PushCommit,
};

/// How often a push is recomputed after losing an optimistic-concurrency race before the
/// device is told to come back later.
const MAX_ATTEMPTS: usize = 5;

/// Who is pushing.
#[derive(Debug, Clone, Copy)]
pub struct PushContext {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub device_id: DeviceId,
}

/// What a push did.
#[derive(Debug, Clone, Default)]
pub struct PushReport {
    /// One per pushed document, in request order.
    pub outcomes: Vec<DocOutcome>,
    /// The documents written by the commit.
    pub committed: Vec<CommittedDocument>,
}

impl PushReport {
    pub fn changes_stored(&self) -> u64 {
        self.committed.iter().map(|c| c.inserted_changes).sum()
    }
}

/// Merges and commits `docs`. Nothing is acknowledged unless the commit returned.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id, device = %ctx.device_id, docs = docs.len()))]
pub async fn push<S: DocumentStore + ?Sized>(
    store: &S,
    ctx: &PushContext,
    docs: Vec<DocPush>,
) -> ApiResult<PushReport> {
    if docs.is_empty() {
        return Ok(PushReport::default());
    }
    let docs = Arc::new(docs);
    let ids: Vec<DocId> = docs.iter().map(|d| d.doc_id).collect();
    for attempt in 1..=MAX_ATTEMPTS {
        let loaded = store.load_documents(ctx.tenant_id, &ids).await?;
        let verdicts = merge_off_executor(Arc::clone(&docs), loaded).await?;
        let (writes, decided) = split_verdicts(&docs, verdicts);
        if writes.is_empty() {
            return Ok(PushReport {
                outcomes: outcomes(&docs, decided, &[]),
                committed: Vec::new(),
            });
        }
        let commit = PushCommit {
            tenant_id: ctx.tenant_id,
            device_id: ctx.device_id,
            user_id: ctx.user_id,
            at: Timestamp::now(),
            documents: writes,
        };
        match store.commit_push(commit).await? {
            CommitOutcome::Committed(committed) => {
                return Ok(PushReport {
                    outcomes: outcomes(&docs, decided, &committed),
                    committed,
                });
            }
            CommitOutcome::VersionConflict(conflicts) => {
                tracing::info!(
                    attempt,
                    conflicts = conflicts.len(),
                    "version conflict; recomputing push"
                );
            }
        }
    }
    Err(ApiError::Unavailable {
        message: "the documents are being written by other requests; retry shortly".into(),
        retry_after_secs: 1,
    })
}

/// Runs the merges under `spawn_blocking`: loading and applying Automerge changes is CPU work.
async fn merge_off_executor(
    docs: Arc<Vec<DocPush>>,
    loaded: Vec<(DocId, LoadedDocument)>,
) -> ApiResult<Vec<MergeVerdict>> {
    tokio::task::spawn_blocking(move || {
        let mut loaded: HashMap<DocId, LoadedDocument> = loaded.into_iter().collect();
        docs.iter()
            .map(|d| {
                let stored = loaded.remove(&d.doc_id).unwrap_or(LoadedDocument::Absent);
                match DocKind::parse(&d.kind) {
                    Some(kind) => merge_document(d.doc_id, kind, &d.changes, &stored),
                    // decode_request refuses unknown kinds; kept total for safety.
                    None => MergeVerdict::Refused {
                        reason: "unknown_document_kind",
                        message: format!("unknown document kind {:?}", d.kind),
                    },
                }
            })
            .collect()
    })
    .await
    .map_err(ApiError::internal)
}

/// Splits verdicts into the writes to commit and the outcomes already decided (by doc id).
fn split_verdicts(
    docs: &[DocPush],
    verdicts: Vec<MergeVerdict>,
) -> (Vec<DocumentWrite>, HashMap<DocId, PushResult>) {
    let mut writes = Vec::new();
    let mut decided = HashMap::new();
    for (doc, verdict) in docs.iter().zip(verdicts) {
        let result = match verdict {
            MergeVerdict::Write {
                expected,
                changes,
                projection,
            } => {
                writes.push(DocumentWrite {
                    doc_id: doc.doc_id,
                    kind: projection.kind(),
                    expected,
                    changes,
                    projection,
                });
                continue;
            }
            MergeVerdict::Replay => PushResult::Stored {
                new_changes: 0,
                refused_edits: Vec::new(),
            },
            MergeVerdict::MissingDeps => PushResult::MissingDeps,
            MergeVerdict::Refused { reason, message } => PushResult::Refused {
                reason: reason.to_string(),
                message,
            },
        };
        decided.insert(doc.doc_id, result);
    }
    (writes, decided)
}

/// One outcome per pushed document, in request order.
fn outcomes(
    docs: &[DocPush],
    mut decided: HashMap<DocId, PushResult>,
    committed: &[CommittedDocument],
) -> Vec<DocOutcome> {
    let stored: HashMap<DocId, u64> = committed
        .iter()
        .map(|c| (c.doc_id, c.inserted_changes))
        .collect();
    docs.iter()
        .map(|d| {
            let result = match decided.remove(&d.doc_id) {
                Some(result) => result,
                None => PushResult::Stored {
                    new_changes: stored
                        .get(&d.doc_id)
                        .map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)),
                    refused_edits: Vec::new(),
                },
            };
            DocOutcome {
                doc_id: d.doc_id,
                result,
            }
        })
        .collect()
}
