//! Push: load the pushed documents, merge the changes (off the async executor), and commit
//! every accepted document in one transaction. Outcomes are built only from what committed.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::ActorId;
use fieldsync_shared::document::{AnyDocument, DocKind};
use fieldsync_shared::limits::DocumentLimits;
use fieldsync_shared::policy::{Field, Refusal};
use fieldsync_shared::protocol::{DocOutcome, DocPush, PushResult, RefusedEdit};
use fieldsync_shared::values::{DeviceId, DocId, StoreId, TenantId, Timestamp, UserId};

use super::merge::{merge_document, new_change, reasons, MergeVerdict, Pusher, Submission};
use super::policy::{refusal_message, server_change, NO_STORE, UNKNOWN_STORE};
use super::projection::project;
use crate::auth::receipts::ReceiptKey;
use crate::http::{ApiError, ApiResult};
use crate::scope::ReadScope;
use crate::store::directory::DirectoryStore;
use crate::store::documents::{
    ChangeOrigin, CommitOutcome, CommittedDocument, DocumentStore, DocumentWrite, ExpectedVersion,
    LoadedDocument, Projection, PushCommit,
};
use crate::store::verdicts::{FindingOutcome, FindingRecord, VerdictStore};
use crate::store::ExpenseStore;
use crate::verdicts::{self, Judgement};

/// How often a push is recomputed after losing an optimistic-concurrency race before the
/// device is told to come back later.
const MAX_ATTEMPTS: usize = 5;

/// Who is pushing.
#[derive(Debug, Clone)]
pub struct PushContext {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// The authenticated device (equal to the request's `device_id`).
    pub device_id: DeviceId,
    /// The Automerge actor bound to that device.
    pub actor: ActorId,
    /// What the principal may see and its place in the organisation, loaded once per request.
    pub scope: Arc<ReadScope>,
    /// The shape every pushed document must keep.
    pub limits: DocumentLimits,
    /// The tenant's bounds of the verdicts' cross-device checks.
    pub cross_device: verdicts::Limits,
    /// Verifies the receipts pushes carry (`crate::auth::receipts`).
    pub receipts: ReceiptKey,
}

/// What a push did.
#[derive(Debug, Clone, Default)]
pub struct PushReport {
    /// One per pushed document, in request order.
    pub outcomes: Vec<DocOutcome>,
    /// The documents written by the commit.
    pub committed: Vec<CommittedDocument>,
    /// The findings of the server's verdicts on the committed submissions (stored with them).
    pub findings: Vec<FindingRecord>,
}

impl PushReport {
    pub fn changes_stored(&self) -> u64 {
        self.committed.iter().map(|c| c.inserted_changes).sum()
    }
}

/// Merges and commits `docs`. Nothing is acknowledged unless the commit returned.
#[tracing::instrument(skip_all, fields(tenant = %ctx.tenant_id, device = %ctx.device_id, docs = docs.len()))]
pub async fn push<S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore + ?Sized>(
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
        let verdicts = merge_off_executor(ctx, Arc::clone(&docs), loaded).await?;
        let mut split = split_verdicts(&docs, verdicts);
        refuse_unknown_stores(store, ctx.tenant_id, &mut split).await?;
        let judged = judge_submissions(store, ctx, &mut split).await?;
        let Split {
            writes,
            decided,
            refused_edits,
            ..
        } = split;
        if writes.is_empty() {
            return Ok(PushReport {
                outcomes: outcomes(&docs, decided, refused_edits, &HashMap::new(), &[], &judged),
                committed: Vec::new(),
                findings: Vec::new(),
            });
        }
        let compensations = server_changes(&writes);
        let at = Timestamp::now();
        let findings = finding_records(&ids, &judged, at);
        let commit = PushCommit {
            tenant_id: ctx.tenant_id,
            device_id: ctx.device_id,
            user_id: ctx.user_id,
            at,
            documents: writes,
            findings: findings.clone(),
        };
        match store.commit_push(commit).await? {
            CommitOutcome::Committed(committed) => {
                return Ok(PushReport {
                    outcomes: outcomes(
                        &docs,
                        decided,
                        refused_edits,
                        &compensations,
                        &committed,
                        &judged,
                    ),
                    committed,
                    findings,
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
    ctx: &PushContext,
    docs: Arc<Vec<DocPush>>,
    loaded: Vec<(DocId, LoadedDocument)>,
) -> ApiResult<Vec<MergeVerdict>> {
    let actor = ctx.actor.clone();
    let scope = Arc::clone(&ctx.scope);
    let limits = ctx.limits;
    let (tenant, receipts) = (ctx.tenant_id, ctx.receipts.clone());
    tokio::task::spawn_blocking(move || {
        let mut loaded: HashMap<DocId, LoadedDocument> = loaded.into_iter().collect();
        docs.iter()
            .map(|d| {
                let stored = loaded.remove(&d.doc_id).unwrap_or(LoadedDocument::Absent);
                let vouched_heads = d
                    .receipt
                    .as_ref()
                    .and_then(|r| receipts.verify(tenant, d.doc_id, r))
                    .unwrap_or_default();
                let pusher = Pusher {
                    actor: &actor,
                    scope: &scope,
                    limits: &limits,
                    vouched_heads: &vouched_heads,
                };
                match DocKind::parse(&d.kind) {
                    Some(kind) => merge_document(d.doc_id, kind, &d.changes, &stored, pusher),
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

/// The verdicts of a push, sorted: what to write, what is already decided, and the refused
/// edits of the writes (reported with their `Stored` outcome).
struct Split {
    writes: Vec<DocumentWrite>,
    decided: HashMap<DocId, PushResult>,
    refused_edits: HashMap<DocId, Vec<RefusedEdit>>,
    /// The writes that submit their document, for the server's verdict.
    submissions: HashMap<DocId, Box<Submission>>,
}

/// Splits verdicts into the writes to commit and the outcomes already decided (by doc id).
fn split_verdicts(docs: &[DocPush], verdicts: Vec<MergeVerdict>) -> Split {
    let mut split = Split {
        writes: Vec::new(),
        decided: HashMap::new(),
        refused_edits: HashMap::new(),
        submissions: HashMap::new(),
    };
    for (doc, verdict) in docs.iter().zip(verdicts) {
        let result = match verdict {
            MergeVerdict::Write {
                expected,
                changes,
                projection,
                heads,
                refused_edits,
                submission,
            } => {
                if let Some(submission) = submission {
                    split.submissions.insert(doc.doc_id, submission);
                }
                split.writes.push(DocumentWrite {
                    doc_id: doc.doc_id,
                    kind: projection.kind(),
                    expected,
                    changes,
                    projection,
                    heads,
                });
                split.refused_edits.insert(doc.doc_id, refused_edits);
                continue;
            }
            MergeVerdict::Replay { refused_edits } => PushResult::Stored {
                new_changes: 0,
                refused_edits,
                findings: Vec::new(),
            },
            MergeVerdict::MissingDeps => PushResult::MissingDeps,
            MergeVerdict::Refused { reason, message } => PushResult::Refused {
                reason: reason.to_string(),
                message,
            },
        };
        split.decided.insert(doc.doc_id, result);
    }
    split
}

/// A document may only be created for a store of the tenant's master data: a visit or an
/// order of a store no one can look up would sit in every listing without a name. Checked
/// after the merge, which is pure, because the store id is known only once the document
/// hydrates. Documents that exist already keep their store (identity never changes); a plan
/// has no store.
async fn refuse_unknown_stores<S: DirectoryStore + ?Sized>(
    store: &S,
    tenant: TenantId,
    split: &mut Split,
) -> ApiResult<()> {
    let created: Vec<StoreId> = split
        .writes
        .iter()
        .filter(|w| w.expected == ExpectedVersion::New)
        .filter_map(|w| projected_store(&w.projection))
        .collect();
    if created.is_empty() {
        return Ok(());
    }
    let known = store.known_stores(tenant, &created).await?;
    let (keep, unknown): (Vec<_>, Vec<_>) = std::mem::take(&mut split.writes)
        .into_iter()
        .partition(|w| {
            w.expected != ExpectedVersion::New
                || projected_store(&w.projection).is_none_or(|s| known.contains(&s))
        });
    split.writes = keep;
    for write in unknown {
        let refusal = Refusal {
            field: Field::Identity,
            code: UNKNOWN_STORE.to_string(),
            message: format!(
                "store {} is not one of this company's stores; choose a store from the list",
                projected_store(&write.projection).unwrap_or(NO_STORE)
            ),
        };
        tracing::info!(doc_id = %write.doc_id, code = UNKNOWN_STORE, "creation refused");
        split.refused_edits.remove(&write.doc_id);
        split.decided.insert(
            write.doc_id,
            PushResult::Refused {
                reason: reasons::FORBIDDEN.to_string(),
                message: refusal_message(&[refusal]),
            },
        );
    }
    Ok(())
}

fn projected_store(projection: &Projection) -> Option<StoreId> {
    match projection {
        Projection::Visit(v) => Some(v.store_id),
        Projection::Order(o) => Some(o.store_id),
        Projection::Plan(_) | Projection::Expense(_) => None,
    }
}

/// How many of each write's changes are the server's own (compensations).
fn server_changes(writes: &[DocumentWrite]) -> HashMap<DocId, u64> {
    writes
        .iter()
        .map(|w| {
            let n = w
                .changes
                .iter()
                .filter(|c| c.origin == ChangeOrigin::Server)
                .count();
            (w.doc_id, n as u64)
        })
        .collect()
}

/// One outcome per pushed document, in request order. `new_changes` counts the device's
/// changes the commit inserted, not the server's compensation.
fn outcomes(
    docs: &[DocPush],
    mut decided: HashMap<DocId, PushResult>,
    mut refused_edits: HashMap<DocId, Vec<RefusedEdit>>,
    server_changes: &HashMap<DocId, u64>,
    committed: &[CommittedDocument],
    judged: &HashMap<DocId, JudgedWrite>,
) -> Vec<DocOutcome> {
    let stored: HashMap<DocId, u64> = committed
        .iter()
        .map(|c| {
            let server = server_changes.get(&c.doc_id).copied().unwrap_or(0);
            (c.doc_id, c.inserted_changes.saturating_sub(server))
        })
        .collect();
    docs.iter()
        .map(|d| {
            let result = match decided.remove(&d.doc_id) {
                Some(result) => result,
                None => PushResult::Stored {
                    new_changes: stored
                        .get(&d.doc_id)
                        .map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)),
                    refused_edits: refused_edits.remove(&d.doc_id).unwrap_or_default(),
                    findings: judged
                        .get(&d.doc_id)
                        .map(|j| verdicts::push_findings(&j.judgement))
                        .unwrap_or_default(),
                },
            };
            DocOutcome {
                doc_id: d.doc_id,
                result,
            }
        })
        .collect()
}

/// A write the server judged: its verdict, and the document and heads it was judged at
/// (after the hold, if any).
struct JudgedWrite {
    judgement: Judgement,
    document: AnyDocument,
    heads: Vec<String>,
}

/// The server's verdict on every write that submits its document (`verdicts`). A hold is
/// written into the document as a change of the server's actor, after the device's changes and
/// any compensation, and the write's projection follows it.
async fn judge_submissions<S: VerdictStore + DirectoryStore + ExpenseStore + ?Sized>(
    store: &S,
    ctx: &PushContext,
    split: &mut Split,
) -> ApiResult<HashMap<DocId, JudgedWrite>> {
    let mut judged = HashMap::new();
    let pushed = verdicts::expense::Pushed::of(split.writes.iter().map(|w| &w.projection));
    for write in &mut split.writes {
        let Some(mut submission) = split.submissions.remove(&write.doc_id) else {
            continue;
        };
        let judgement = verdicts::judge_submission(
            store,
            ctx.tenant_id,
            submission.before.as_ref(),
            &submission.document,
            &ctx.cross_device,
            &pushed,
        )
        .await?;
        let mut document = submission.document.clone();
        if let Some(held) = &judgement.held {
            if let Some((change, after)) = hold(&mut submission, held, &judgement)? {
                write
                    .changes
                    .push(new_change(&change, ChangeOrigin::Server));
                write.projection = project(&after).map_err(ApiError::internal)?;
                write.heads = submission.doc.get_heads().iter().map(|h| h.0).collect();
                document = after;
            }
        }
        let heads = submission
            .doc
            .get_heads()
            .iter()
            .map(ToString::to_string)
            .collect();
        judged.insert(
            write.doc_id,
            JudgedWrite {
                judgement,
                document,
                heads,
            },
        );
    }
    Ok(judged)
}

/// Writes the held state into the submission's document; the change and the result.
fn hold(
    submission: &mut Submission,
    held: &AnyDocument,
    judgement: &Judgement,
) -> ApiResult<Option<(automerge::Change, AnyDocument)>> {
    let codes: Vec<&str> = judgement
        .findings
        .iter()
        .filter(|j| j.outcome == FindingOutcome::Held)
        .map(|j| j.finding.code.as_str())
        .collect();
    let message = format!("{HOLD_PREFIX}{}", codes.join(", "));
    server_change(
        &mut submission.doc,
        &submission.document,
        held.clone(),
        message,
    )
    .map_err(ApiError::internal)
}

/// How the message of a hold (the server undoing a submission its rules refuse) starts.
pub const HOLD_PREFIX: &str = "fieldsync-server: held by the rules: ";

/// The findings of the judged writes, in request order, to store with them. A push commits
/// all its writes or none, so every judged write's findings go into the commit.
fn finding_records(
    ids: &[DocId],
    judged: &HashMap<DocId, JudgedWrite>,
    at: Timestamp,
) -> Vec<FindingRecord> {
    ids.iter()
        .filter_map(|id| Some((*id, judged.get(id)?)))
        .flat_map(|(doc_id, j)| {
            verdicts::records(doc_id, &j.document, j.heads.clone(), &j.judgement, at)
        })
        .collect()
}
