//! `GET /v1/documents/{id}/history`: the audit trail of one document. Every change in the
//! order the server stored them (a causal order), with who made it, when, its message, and
//! what it touched.
//!
//! * Who: the actor of the change. The server's own actor is `by: "server"` (compensations of
//!   refused edits; the refusal is in the message); an actor bound to a registered device of
//!   the tenant is `by: "device"` with the user and the device; any other actor (changes made
//!   before devices were registered) is `by: "unknown"`.
//! * When: `time`, the change's own timestamp, set by the clock of the device that made it
//!   (millis; the change records whole seconds), and `received_at`, when the server stored it
//!   (server clock, millis; the time of the transaction that made it durable). `received_at`
//!   is null when unknown: changes stored before the server recorded it, and changes that
//!   compaction folded into the document's snapshot.
//! * What: `paths`, the dotted paths the change wrote (`status`, `notes`,
//!   `audit.COLA-330@MAIN-SHELF.facings`; a path whose parent is listed is folded into it), from
//!   Automerge's diff between the change's dependencies and the change; and `fields`, the same
//!   as write-policy field names (`shared::policy::Field`).
//! * Verdicts: `findings`, the server's verdicts on a submission (docs/verdicts.md), listed
//!   on the change(s) whose hash is among the heads they were computed at.
//!
//! Bounded: documents past the document limits (`fieldsync_shared::limits`; only documents
//! stored before the limits were enforced can be) are refused 422 before any change is
//! described; at most [`MAX_LIMIT`] entries per page (default [`DEFAULT_LIMIT`]), and at most
//! [`MAX_PATHS`] paths per entry (`paths_truncated`). `next` is the hash of the page's last
//! change: pass it back as `after`. Storage order is append-only, so pages neither skip nor
//! repeat changes stored while a reader pages through.

use std::collections::{BTreeSet, HashMap, HashSet};

use automerge::{ActorId, AutoCommit, Change, ChangeHash, LoadOptions, Prop};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use fieldsync_shared::document::{server_actor, DocKind, TEXT_ENCODING};
use fieldsync_shared::limits::{self, DocumentLimits};
use fieldsync_shared::policy::Field;
use fieldsync_shared::values::{DeviceId, DocId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use crate::http::{ApiError, ApiResult, ErrorBody};
use crate::scope::named::{InScope, VisibleDocument};
use crate::state::AppState;
use crate::store::devices::ActorOwner;
use crate::store::documents::{ChangeReceipt, LoadedDocument, StoredDocument};
use crate::store::verdicts::FindingRecord;
use crate::sync::merge::{open_stored_editable, stored_bytes};

/// Entries per page when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest page; bigger `limit`s are clamped to it.
pub const MAX_LIMIT: usize = 200;
/// Paths listed per entry.
pub const MAX_PATHS: usize = 32;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/documents/{id}/history", get(history))
}

/// OpenAPI description of the history endpoint (merged into the served spec by `openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(history),
    components(schemas(History, HistoryEntry, ChangeAuthor, ErrorBody))
)]
pub struct HistoryApi;

/// Query parameters of a history page.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Page size, 1..=200 (clamped), default 50.
    limit: Option<String>,
    /// The `next` of the previous page (a change hash): entries after that change.
    after: Option<String>,
}

/// One page of a document's history.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct History {
    #[schema(value_type = String, format = Uuid)]
    pub doc_id: DocId,
    /// `visit` or `order`.
    pub kind: String,
    /// Changes in storage order (causal: a change comes after those it depends on).
    pub entries: Vec<HistoryEntry>,
    /// Hash of the last entry when more follow: pass it as `after`.
    pub next: Option<String>,
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAuthor {
    /// A registered device of the tenant (user and device fields are set).
    Device,
    /// The server: a compensating change that undid refused edits.
    Server,
    /// An actor not bound to any registered device.
    Unknown,
}

/// One change of the document.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// Automerge change hash (hex).
    pub hash: String,
    /// Automerge actor (hex) and the change's number for that actor.
    pub actor: String,
    pub seq: u64,
    pub by: ChangeAuthor,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub user_id: Option<UserId>,
    pub username: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub device_id: Option<DeviceId>,
    pub device_name: Option<String>,
    /// The change's timestamp (millis since the epoch), from the author's clock.
    #[schema(value_type = i64)]
    pub time: Timestamp,
    /// When the server stored the change (millis since the epoch, server clock): the time of
    /// the transaction that made it durable. Null when unknown (stored before the server
    /// recorded it, or folded into a snapshot by compaction).
    #[schema(value_type = Option<i64>)]
    pub received_at: Option<Timestamp>,
    pub message: Option<String>,
    /// Write-policy fields touched (`status`, `notes`, `audit`, `identity`, ...).
    pub fields: Vec<String>,
    /// Dotted paths written, e.g. `audit.COLA-330@MAIN-SHELF.facings`.
    pub paths: Vec<String>,
    /// More paths were written than listed.
    pub paths_truncated: bool,
    /// Hashes of the changes this one builds on.
    pub deps: Vec<String>,
    /// The server's verdicts computed at heads that include this change (docs/verdicts.md):
    /// the findings of a submission, next to the change that submitted or held it.
    #[schema(value_type = Vec<Object>)]
    #[serde(default)]
    pub findings: Vec<FindingRecord>,
}

/// The history of a visit or an order.
#[utoipa::path(
    get, path = "/v1/documents/{id}/history", tag = "queries",
    params(("id" = uuid::Uuid, Path, description = "document id (uuid)"), HistoryParams),
    responses(
        (status = 200, description = "one page of the document's changes, oldest first", body = History),
        (status = 400, description = "invalid_query: the id, limit or after does not parse; invalid_cursor: after is not a change of this document", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 404, description = "absent, another tenant's, or outside the caller's read scope", body = ErrorBody),
        (status = 422, description = "document_over_limits: the document is past the document limits (stored before they were enforced); its history is not read", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %doc.principal.tenant_id, user = %doc.principal.user_id, id = %doc.object.id))]
pub async fn history(
    State(state): State<AppState>,
    doc: InScope<VisibleDocument>,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> ApiResult<Json<History>> {
    let InScope { principal, object } = doc;
    let doc_id = object.id;
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let page = PageRequest::parse(&params)?;

    let loaded = state
        .store
        .load_documents(principal.tenant_id, &[doc_id])
        .await?;
    let Some((_, LoadedDocument::Found(stored))) = loaded.into_iter().next() else {
        return Err(ApiError::NotFound("document"));
    };
    let limits = state.config.documents.limits();
    let read = tokio::task::spawn_blocking(move || read_history(stored, &page, &limits))
        .await
        .map_err(ApiError::internal)??;

    let actors: Vec<ActorId> = read
        .changes
        .iter()
        .map(|c| c.actor.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let owners = state
        .store
        .actor_owners(principal.tenant_id, &actors)
        .await?;
    let received: HashMap<ChangeHash, Timestamp> = state
        .store
        .change_receipts(principal.tenant_id, doc_id)
        .await?
        .into_iter()
        .filter_map(|ChangeReceipt { hash, received_at }| Some((ChangeHash(hash), received_at?)))
        .collect();
    let mut findings_at: HashMap<String, Vec<FindingRecord>> = HashMap::new();
    for f in state
        .store
        .findings_of(principal.tenant_id, &[doc_id])
        .await?
    {
        for head in &f.doc_heads {
            findings_at.entry(head.clone()).or_default().push(f.clone());
        }
    }
    Ok(Json(History {
        doc_id,
        kind: read.kind.as_str().to_string(),
        entries: read
            .changes
            .into_iter()
            .map(|c| {
                let mut e = entry(c, &owners, &received);
                e.findings = findings_at.remove(&e.hash).unwrap_or_default();
                e
            })
            .collect(),
        next: read.next,
    }))
}

/// `limit` and `after`, parsed.
#[derive(Debug, Clone)]
struct PageRequest {
    limit: usize,
    after: Option<ChangeHash>,
}

impl PageRequest {
    fn parse(params: &HistoryParams) -> ApiResult<Self> {
        let limit = match &params.limit {
            None => DEFAULT_LIMIT,
            Some(l) => match l.trim().parse::<usize>() {
                Ok(n) if n >= 1 => n.min(MAX_LIMIT),
                _ => {
                    return Err(ApiError::bad_request(
                        "invalid_query",
                        format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                    ))
                }
            },
        };
        let after = match &params.after {
            None => None,
            Some(a) => Some(a.trim().parse::<ChangeHash>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_query",
                    "after must be a change hash (64 hex digits)",
                )
            })?),
        };
        Ok(PageRequest { limit, after })
    }
}

/// What one change says about itself, before its actor is resolved to a person.
#[derive(Debug, Clone)]
struct ChangeFacts {
    hash: ChangeHash,
    actor: ActorId,
    seq: u64,
    timestamp: i64,
    message: Option<String>,
    deps: Vec<ChangeHash>,
    paths: Vec<String>,
    paths_truncated: bool,
    fields: BTreeSet<Field>,
}

/// A page of the document's history read from its stored form.
struct HistoryRead {
    kind: DocKind,
    changes: Vec<ChangeFacts>,
    next: Option<String>,
}

/// Opens the document and describes the changes of the requested page (CPU work).
fn read_history(
    stored: StoredDocument,
    page: &PageRequest,
    limits: &DocumentLimits,
) -> ApiResult<HistoryRead> {
    let unreadable = |e: String| {
        tracing::error!(doc_id = %stored.id, error = %e, "stored document does not load");
        ApiError::internal(e)
    };
    let mut doc = open_stored_editable(&stored).map_err(unreadable)?;
    // Bounded work: a document stored before the limits existed may be past them, and
    // describing its changes could take any amount of time and memory.
    let ops = limits::count_ops(&doc.get_changes_meta(&[]));
    if let Err(over) = limits::check(&doc, ops, stored_bytes(&stored), limits) {
        tracing::warn!(doc_id = %stored.id, limit = over.limit(), "history of a document past the limits refused");
        return Err(ApiError::unprocessable(
            "document_over_limits",
            over.to_string(),
        ));
    }
    let order = storage_order(&stored).map_err(unreadable)?;
    let start = match page.after {
        None => 0,
        Some(after) => match order.iter().position(|h| *h == after) {
            Some(i) => i + 1,
            None => {
                return Err(ApiError::bad_request(
                    "invalid_cursor",
                    "after is not a change of this document",
                ))
            }
        },
    };
    let end = order.len().min(start + page.limit);
    let mut changes = Vec::with_capacity(end - start);
    for hash in &order[start..end] {
        let Some(change) = doc.get_change_by_hash(hash) else {
            return Err(unreadable(format!(
                "change {hash} is listed but not loaded"
            )));
        };
        changes.push(describe(&mut doc, stored.kind, &change));
    }
    let next = (end < order.len())
        .then(|| order[end - 1].to_string())
        .filter(|_| end > start);
    Ok(HistoryRead {
        kind: stored.kind,
        changes,
        next,
    })
}

/// Every change hash of the document in the order the server stored it: the changes folded
/// into the snapshot (in the snapshot's causal order), then the changes stored after it (in
/// storage order). New changes only ever append, so a page cursor stays valid.
fn storage_order(stored: &StoredDocument) -> Result<Vec<ChangeHash>, String> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    if let Some(snapshot) = &stored.snapshot {
        let mut snap = AutoCommit::load_with_options(
            snapshot,
            LoadOptions::new().text_encoding(TEXT_ENCODING),
        )
        .map_err(|e| format!("snapshot: {e}"))?;
        for c in snap.get_changes(&[]) {
            if seen.insert(c.hash()) {
                order.push(c.hash());
            }
        }
    }
    for bytes in &stored.changes {
        let hash = Change::from_bytes(bytes.clone())
            .map_err(|e| format!("stored change: {e}"))?
            .hash();
        // A compaction interrupted between its two transactions leaves folded changes behind.
        if seen.insert(hash) {
            order.push(hash);
        }
    }
    Ok(order)
}

/// The facts of one change, with the paths it wrote.
fn describe(doc: &mut AutoCommit, kind: DocKind, change: &Change) -> ChangeFacts {
    let patches = doc.diff(change.deps(), &[change.hash()]);
    let raw: Vec<Vec<String>> = patches.iter().map(patch_path).collect();
    let fields = raw
        .iter()
        .filter_map(|p| p.first())
        .filter_map(|key| field_of(kind, key))
        .collect();
    let mut paths = fold_paths(raw);
    let paths_truncated = paths.len() > MAX_PATHS;
    paths.truncate(MAX_PATHS);
    ChangeFacts {
        hash: change.hash(),
        actor: change.actor_id().clone(),
        seq: change.seq(),
        timestamp: change.timestamp(),
        message: change.message().map(str::to_string),
        deps: change.deps().to_vec(),
        paths,
        paths_truncated,
        fields,
    }
}

/// The path a patch wrote: its object's path plus the map key it put or deleted (sequence
/// positions such as text offsets are not part of the path).
fn patch_path(patch: &automerge::Patch) -> Vec<String> {
    use automerge::PatchAction;
    let mut path: Vec<String> = patch
        .path
        .iter()
        .map(|(_, prop)| match prop {
            Prop::Map(key) => key.clone(),
            Prop::Seq(i) => i.to_string(),
        })
        .collect();
    match &patch.action {
        PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => path.push(key.clone()),
        PatchAction::Increment {
            prop: Prop::Map(key),
            ..
        } => path.push(key.clone()),
        PatchAction::Conflict {
            prop: Prop::Map(key),
        } => path.push(key.clone()),
        _ => {}
    }
    path
}

/// Dotted, sorted, without duplicates, and without paths under a listed one (putting an audit
/// line lists `audit.<key>`, not each of its fields).
fn fold_paths(raw: Vec<Vec<String>>) -> Vec<String> {
    let all: BTreeSet<Vec<String>> = raw.into_iter().filter(|p| !p.is_empty()).collect();
    all.iter()
        .filter(|p| !(1..p.len()).any(|n| all.contains(&p[..n])))
        .map(|p| p.join("."))
        .collect()
}

/// The write-policy field a top-level key of a document belongs to (`None` for keys the
/// schema does not have).
pub fn field_of(kind: DocKind, key: &str) -> Option<Field> {
    Some(match (kind, key) {
        // The store an expense was for is one of its details, not its identity.
        (DocKind::Expense, "store_id") => Field::Details,
        (_, "schema" | "id" | "store_id" | "person_id") => Field::Identity,
        (DocKind::Visit, "planned_date") => Field::Identity,
        (DocKind::Order, "number" | "visit_id" | "order_date" | "created_at") => Field::Identity,
        (_, "status") => Field::Status,
        (_, "notes") => Field::Notes,
        (DocKind::Visit, "note_entries") => Field::Notes,
        (DocKind::Visit, "check_in") => Field::CheckIn,
        (DocKind::Visit, "check_out") => Field::CheckOut,
        (DocKind::Visit, "steps") => Field::Steps,
        (DocKind::Visit, "audit" | "promotion_checks" | "stock_counts" | "success_scores") => {
            Field::Audit
        }
        (DocKind::Visit, "photos") => Field::Photos,
        (DocKind::Visit, "competitor_sightings") => Field::CompetitorSightings,
        (DocKind::Visit, "review") => Field::Review,
        (DocKind::Order, "lines") => Field::Lines,
        (DocKind::Order, "payment" | "requested_delivery") => Field::Terms,
        (DocKind::Order, "delivery") => Field::Delivery,
        (DocKind::Order | DocKind::Plan, "submitted_at") => Field::SubmittedAt,
        (DocKind::Plan, "week") => Field::Identity,
        (DocKind::Plan, "entries" | "removed" | "days" | "generated_at") => Field::Entries,
        (DocKind::Plan | DocKind::Expense, "review") => Field::Review,
        (DocKind::Expense, "created_at") => Field::Identity,
        (DocKind::Expense, "expense_type" | "amount" | "date" | "visit_id" | "description") => {
            Field::Details
        }
        (DocKind::Expense, "receipt") => Field::Photos,
        (DocKind::Expense, "submitted_at" | "approver" | "evaluated_against" | "findings") => {
            Field::SubmittedAt
        }
        _ => return None,
    })
}

/// The entry for one change, its actor and receive time resolved.
fn entry(
    c: ChangeFacts,
    owners: &HashMap<ActorId, ActorOwner>,
    received: &HashMap<ChangeHash, Timestamp>,
) -> HistoryEntry {
    let owner = owners.get(&c.actor);
    let by = if c.actor == server_actor() {
        ChangeAuthor::Server
    } else if owner.is_some() {
        ChangeAuthor::Device
    } else {
        ChangeAuthor::Unknown
    };
    HistoryEntry {
        hash: c.hash.to_string(),
        actor: c.actor.to_hex_string(),
        seq: c.seq,
        by,
        user_id: owner.map(|o| o.user_id),
        username: owner.map(|o| o.username.clone()),
        device_id: owner.map(|o| o.device_id),
        device_name: owner.map(|o| o.device_name.clone()),
        // Devices and the server stamp changes in whole seconds.
        time: Timestamp(c.timestamp.saturating_mul(1000)),
        received_at: received.get(&c.hash).copied(),
        message: c.message,
        fields: c.fields.iter().map(|f| f.as_str().to_string()).collect(),
        paths: c.paths,
        paths_truncated: c.paths_truncated,
        deps: c.deps.iter().map(|h| h.to_string()).collect(),
        findings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fieldsync_shared::document::{hydrate_visit, new_document, reconcile_visit};
    use fieldsync_shared::values::{ShelfLocation, Sku, StoreId};
    use fieldsync_shared::visit::{AuditLine, Visit, VisitStatus};

    /// A visit created, then an audit line recorded, then a facings count corrected, then a
    /// note and a status move in one change.
    fn stored_visit() -> StoredDocument {
        let id = DocId::new_random();
        let owner = UserId::new_random();
        let mut doc = new_document(ActorId::from([7u8; 16]));
        let date = fieldsync_shared::values::Date::parse("2026-11-22").unwrap();
        let visit = Visit::new(id, StoreId::new_random(), owner, date);
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
        let line = AuditLine {
            sku: Sku::parse("COLA-330").unwrap(),
            location: ShelfLocation::parse("MAIN-SHELF").unwrap(),
            facings: 4,
            on_shelf: true,
            shelf_price: None,
            oldest_production_date: None,
            recorded_by: owner,
            recorded_at: Timestamp(1_700_000_000_000),
        };
        let commit = |doc: &mut automerge::AutoCommit, f: &dyn Fn(&mut Visit)| {
            let mut v = hydrate_visit(doc).unwrap();
            f(&mut v);
            reconcile_visit(doc, &v).unwrap();
            doc.commit_with(
                automerge::transaction::CommitOptions::default()
                    .with_message("edit")
                    .with_time(1_700_000_000),
            );
        };
        commit(&mut doc, &|v| {
            v.audit.insert(line.key(), line.clone());
        });
        commit(&mut doc, &|v| {
            v.audit.values_mut().for_each(|l| l.facings = 6)
        });
        commit(&mut doc, &|v| {
            v.notes.update("restocked");
            v.status = VisitStatus::InProgress;
        });
        StoredDocument {
            id,
            kind: DocKind::Visit,
            version: 1,
            snapshot: None,
            snapshot_seq: 0,
            last_seq: 4,
            changes: doc
                .get_changes(&[])
                .iter()
                .map(|c| c.raw_bytes().to_vec())
                .collect(),
        }
    }

    #[test]
    fn a_history_lists_what_each_change_touched_page_by_page() {
        let stored = stored_visit();
        let first = read_history(
            stored.clone(),
            &PageRequest {
                limit: 2,
                after: None,
            },
            &DocumentLimits::default(),
        )
        .unwrap();
        assert_eq!(first.changes.len(), 2);
        let next = first.next.clone().expect("more pages");
        assert!(first.changes[0].fields.contains(&Field::Identity));
        assert_eq!(
            first.changes[1].paths,
            vec!["audit.COLA-330@MAIN-SHELF".to_string()]
        );
        assert_eq!(first.changes[1].fields, BTreeSet::from([Field::Audit]));

        let second = read_history(
            stored.clone(),
            &PageRequest {
                limit: 2,
                after: Some(next.parse().unwrap()),
            },
            &DocumentLimits::default(),
        )
        .unwrap();
        assert_eq!(second.next, None, "last page");
        assert_eq!(
            second.changes[0].paths,
            vec!["audit.COLA-330@MAIN-SHELF.facings".to_string()]
        );
        assert_eq!(second.changes[1].paths, vec!["notes", "status"]);
        assert_eq!(
            second.changes[1].fields,
            BTreeSet::from([Field::Status, Field::Notes])
        );
        assert_eq!(second.changes[1].message.as_deref(), Some("edit"));
        assert_eq!(second.changes[1].timestamp, 1_700_000_000);

        let unknown = read_history(
            stored,
            &PageRequest {
                limit: 2,
                after: Some(ChangeHash([9; 32])),
            },
            &DocumentLimits::default(),
        );
        assert!(matches!(
            unknown,
            Err(ApiError::BadRequest {
                reason: "invalid_cursor",
                ..
            })
        ));
    }

    #[test]
    fn paths_under_a_listed_path_are_folded_into_it() {
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        let folded = fold_paths(vec![
            p("audit.COLA-330@MAIN-SHELF"),
            p("audit.COLA-330@MAIN-SHELF.facings"),
            p("status"),
            p("notes"),
            p("notes"),
            p("review.by"),
        ]);
        assert_eq!(
            folded,
            vec!["audit.COLA-330@MAIN-SHELF", "notes", "review.by", "status"]
        );
    }

    #[test]
    fn top_level_keys_map_to_policy_fields() {
        assert_eq!(field_of(DocKind::Visit, "audit"), Some(Field::Audit));
        assert_eq!(
            field_of(DocKind::Visit, "planned_date"),
            Some(Field::Identity)
        );
        assert_eq!(field_of(DocKind::Order, "payment"), Some(Field::Terms));
        assert_eq!(
            field_of(DocKind::Visit, "competitor_sightings"),
            Some(Field::CompetitorSightings)
        );
        assert_eq!(field_of(DocKind::Order, "audit"), None);
        assert_eq!(field_of(DocKind::Visit, "lines"), None);
    }
}
