//! The document store: CRDT documents (snapshot + changes), the per-tenant feed that pulls
//! page through, and the query projections (`visits`, `orders`).
//!
//! The sync engine (`crate::sync`) does the merging; this trait only persists and reads back.
//! Invariants every implementation keeps (the conformance tests in
//! `server/tests/documents_store.rs` check them):
//!
//! * [`DocumentStore::commit_push`] is one transaction: either every document of the request is
//!   written (changes, projection, feed entry) or none is.
//! * Each write of a document takes the next feed seq of its tenant, in commit order, so a
//!   puller that has seen seq N has seen every write with a seq <= N.
//! * A change hash is stored at most once per document.
//! * A stored change records when the server stored it (`received_at`, the time of the
//!   transaction that stored it); a replayed hash keeps its first time.
//! * Compaction never loses a change: the snapshot is committed before the folded changes are
//!   deleted, in a second transaction.

use fieldsync_shared::document::DocKind;
use fieldsync_shared::protocol::Cursor;
use fieldsync_shared::values::{
    Date, DeviceId, DocId, Money, StoreId, TenantId, Timestamp, UserId,
};

use super::verdicts::FindingRecord;
use super::StoreResult;

/// A document as stored: the latest snapshot and the changes stored after it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    pub id: DocId,
    pub kind: DocKind,
    /// Bumped by every write; the optimistic-concurrency token for [`DocumentStore::commit_push`].
    pub version: i64,
    /// `Automerge::save()` bytes, `None` until the first compaction.
    pub snapshot: Option<Vec<u8>>,
    /// Feed seq up to which changes are folded into `snapshot` (0 without a snapshot).
    pub snapshot_seq: i64,
    /// Feed seq of the latest write.
    pub last_seq: i64,
    /// Raw changes stored with a seq > `snapshot_seq`, in the order they were stored.
    pub changes: Vec<Vec<u8>>,
}

/// What a load found for one id. "Absent" and "someone else's" are told apart so the sync engine
/// can refuse to write the latter, but the device is never told which one it was.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadedDocument {
    Absent,
    /// The id exists under another tenant.
    OtherTenant,
    Found(StoredDocument),
}

/// The version a write expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The document must not exist yet.
    New,
    /// The document must still be at this version.
    Existing(i64),
}

/// One change to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChange {
    /// The Automerge change hash.
    pub hash: [u8; 32],
    /// `Change::raw_bytes()` as the device (or the server) made them.
    pub bytes: Vec<u8>,
    /// Who sent it: stored as the change's device and user (pulls skip a device's own).
    pub origin: ChangeOrigin,
}

/// Who a stored change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOrigin {
    /// The pushing device ([`PushCommit::device_id`], [`PushCommit::user_id`]).
    Device,
    /// The server itself (a compensating change): stored with the nil device and user ids, so
    /// that the pull of the pushing device does not skip it as that device's own.
    Server,
}

impl ChangeOrigin {
    /// The (device id, user id) columns of a change of this origin in `commit`.
    pub fn sender(self, commit: &PushCommit) -> (DeviceId, UserId) {
        match self {
            ChangeOrigin::Device => (commit.device_id, commit.user_id),
            ChangeOrigin::Server => (DeviceId(uuid::Uuid::nil()), UserId(uuid::Uuid::nil())),
        }
    }
}

/// The query projection of a visit: the columns queries filter on plus the hydrated JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitProjection {
    pub store_id: StoreId,
    pub person_id: UserId,
    pub planned_date: Date,
    /// `VisitStatus::as_str()`.
    pub status: &'static str,
    /// `serde_json` of the hydrated `Visit`.
    pub document_json: String,
}

impl VisitProjection {
    /// The photos the visit references (`visit.photos`: each key and each entry's `sha256`),
    /// as canonical lower-case hex, sorted and without duplicates. Read from `document_json`
    /// (the hydrated visit), so the stores can keep `photo_refs` in step with the projection
    /// in the same transaction. Values that are not SHA-256s are skipped.
    pub fn photo_hashes(&self) -> Vec<String> {
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(&self.document_json) else {
            return Vec::new();
        };
        let Some(photos) = doc.get("photos").and_then(|p| p.as_object()) else {
            return Vec::new();
        };
        let mut out = std::collections::BTreeSet::new();
        for (key, entry) in photos {
            let inner = entry.get("sha256").and_then(|v| v.as_str());
            for candidate in std::iter::once(key.as_str()).chain(inner) {
                if let Ok(sha) = fieldsync_shared::Sha256::parse(candidate) {
                    out.insert(sha.to_hex());
                }
            }
        }
        out.into_iter().collect()
    }
}

/// The query projection of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderProjection {
    pub store_id: StoreId,
    pub person_id: UserId,
    pub order_date: Date,
    /// `OrderStatus::as_str()`.
    pub status: &'static str,
    /// The order number as generated on the device.
    pub number: String,
    /// What the order adds to the achieved sales and volume when it is a sale
    /// (`rules::sales::sale_amount`, `sale_units`).
    pub amount: Money,
    pub units: i64,
    /// The day the store asked for, and the day it was delivered once recorded: what the
    /// monthly report's on-time delivery counts.
    pub requested_delivery: Date,
    pub delivered_on: Option<Date>,
    /// `serde_json` of the hydrated `Order`.
    pub document_json: String,
}

/// The query projection of a weekly plan, with its entries (what the visit-frequency report
/// counts as planned). A plan has no store: read scopes judge it by its owner alone.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanProjection {
    pub person_id: UserId,
    /// ISO week, `2026-W50`.
    pub week: String,
    /// The week's Monday.
    pub week_start: Date,
    /// `PlanStatus::as_str()`.
    pub status: &'static str,
    pub entries: Vec<PlanEntryRow>,
    /// `serde_json` of the hydrated `Plan`.
    pub document_json: String,
}

/// One entry of a plan as projected.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanEntryRow {
    pub store_id: StoreId,
    pub day: Date,
    pub seq: u32,
    /// `EntryReason::as_str()`.
    pub reason: &'static str,
    pub pinned: bool,
}

/// The query projection of an expense. Read scopes judge it by its owner alone; `store_id` is
/// the store it was for, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpenseProjection {
    pub person_id: UserId,
    pub store_id: Option<StoreId>,
    pub date: Date,
    /// `ExpenseType::as_str()`.
    pub expense_type: &'static str,
    pub amount: fieldsync_shared::values::Money,
    /// `ExpenseStatus::as_str()`.
    pub status: &'static str,
    /// `Approver::as_str()`, while one is named.
    pub approver: Option<&'static str>,
    /// The receipt photo's SHA-256 (lower-case hex), kept in `photo_refs` like a visit's photos.
    pub receipt: Option<String>,
    /// `serde_json` of the hydrated `Expense`.
    pub document_json: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    Visit(VisitProjection),
    Order(OrderProjection),
    Plan(PlanProjection),
    Expense(ExpenseProjection),
}

impl Projection {
    pub fn kind(&self) -> DocKind {
        match self {
            Projection::Visit(_) => DocKind::Visit,
            Projection::Order(_) => DocKind::Order,
            Projection::Plan(_) => DocKind::Plan,
            Projection::Expense(_) => DocKind::Expense,
        }
    }
}

/// One document's part of a push.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentWrite {
    pub doc_id: DocId,
    pub kind: DocKind,
    pub expected: ExpectedVersion,
    /// Changes the loaded document did not have (never empty: replays are not written).
    pub changes: Vec<NewChange>,
    /// Projection of the document after the changes.
    pub projection: Projection,
    /// The document's heads after the changes (signed into the pulls' receipts).
    pub heads: Vec<[u8; 32]>,
}

/// Everything one sync request writes, committed in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct PushCommit {
    pub tenant_id: TenantId,
    /// The device that sent the changes (pulls of that device skip them).
    pub device_id: DeviceId,
    pub user_id: UserId,
    pub at: Timestamp,
    pub documents: Vec<DocumentWrite>,
    /// The findings of the server's verdicts on these documents, stored in the same
    /// transaction (docs/verdicts.md).
    pub findings: Vec<FindingRecord>,
}

/// What the commit wrote for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedDocument {
    pub doc_id: DocId,
    /// The feed seq of this write.
    pub seq: i64,
    /// Changes actually inserted (hashes already stored are skipped).
    pub inserted_changes: u64,
    /// Changes stored beyond the snapshot after this write (drives auto-compaction).
    pub changes_since_snapshot: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    Committed(Vec<CommittedDocument>),
    /// Another write changed these documents since they were loaded; nothing was written.
    VersionConflict(Vec<DocId>),
}

/// When the server stored one change (`GET /v1/documents/{id}/history` shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeReceipt {
    /// The Automerge change hash.
    pub hash: [u8; 32],
    /// Server time of the transaction that stored the change; `None` for changes stored before
    /// the server recorded it (migration 0007).
    pub received_at: Option<Timestamp>,
}

/// One stored write in a tenant's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub seq: i64,
    /// With `seq`, the cursor a pull page ending at this entry hands out.
    pub mark: i64,
    pub doc_id: DocId,
    pub kind: DocKind,
}

impl FeedEntry {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            seq: self.seq,
            mark: self.mark,
        }
    }
}

/// What a puller lacks of one document.
#[derive(Debug, Clone, PartialEq)]
pub enum PullData {
    /// Changes stored after the cursor, minus the requesting device's own.
    Changes(Vec<Vec<u8>>),
    /// Compaction folded changes after the cursor into the snapshot: the whole document
    /// (snapshot first, then every change stored after it).
    Whole(Vec<Vec<u8>>),
}

/// What a puller lacks of one document, and the document's heads as of its last write.
#[derive(Debug, Clone, PartialEq)]
pub struct PulledDocument {
    pub data: PullData,
    /// Empty when unknown (a document not written since heads were recorded).
    pub heads: Vec<[u8; 32]>,
}

impl PullData {
    pub fn into_parts(self) -> Vec<Vec<u8>> {
        match self {
            PullData::Changes(parts) | PullData::Whole(parts) => parts,
        }
    }
}

/// A compacted document to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Compaction {
    pub doc_id: DocId,
    /// The version the snapshot was computed from.
    pub expected_version: i64,
    /// `Automerge::save()` of the document loaded at `expected_version`.
    pub snapshot: Vec<u8>,
    /// The `last_seq` of that load: every change with a seq <= it is in `snapshot`.
    pub covers_seq: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactionOutcome {
    /// Snapshot stored and `removed_changes` folded changes deleted.
    Compacted { removed_changes: u64 },
    /// The document changed since it was loaded (or is gone): nothing was written.
    Stale,
}

/// Keyset position in a projection listing: newest date first, then id descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectionKey {
    pub date: Date,
    pub doc_id: DocId,
}

/// Filters of a projection listing (`GET /v1/visits`, `/v1/orders`). Dates are inclusive and
/// apply to the visit's planned date or the order's order date.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectionFilter {
    pub store_id: Option<StoreId>,
    pub person_id: Option<UserId>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Already parsed into the kind's status enum; its `as_str()`.
    pub status: Option<&'static str>,
    /// Return rows strictly after this key.
    pub after: Option<ProjectionKey>,
    pub limit: u32,
    /// Only documents the reader may see; `None`: the whole tenant.
    pub visible: Option<Visibility>,
}

/// The documents a reader may see (`crate::scope::ReadScope::visibility`): those whose store
/// is in `stores` or whose owner (`person_id`) is in `people`. Queries take
/// `Option<&Visibility>`, `None` meaning the whole tenant (no filter). The stores bind each
/// list once as a JSON array (SQLite `json_each`, PostgreSQL `jsonb_array_elements_text`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visibility {
    pub stores: Vec<StoreId>,
    pub people: Vec<UserId>,
}

impl Visibility {
    fn json<T: ToString>(ids: &[T]) -> String {
        serde_json::Value::from(ids.iter().map(ToString::to_string).collect::<Vec<_>>()).to_string()
    }

    /// The (stores, people) JSON arrays to bind; both `None` for the whole tenant.
    pub fn bind_pair(visible: Option<&Visibility>) -> (Option<String>, Option<String>) {
        match visible {
            Some(v) => (Some(Self::json(&v.stores)), Some(Self::json(&v.people))),
            None => (None, None),
        }
    }
}

/// A change of a device's read scope, as [`DocumentStore::scope_changes`] reads it. Each
/// field is a visibility (`None`: the whole tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeChange<'a> {
    /// Everything the device may hold: documents visible here but not under `target` are
    /// evicted.
    pub may_hold: Option<&'a Visibility>,
    /// What the device surely holds: documents visible under `target` but not here are
    /// delivered.
    pub surely_holds: Option<&'a Visibility>,
    /// The scope the device moves to.
    pub target: Option<&'a Visibility>,
}

/// One document a change of scope affects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeChangeItem {
    pub doc_id: DocId,
    pub kind: DocKind,
    /// `true`: newly visible (deliver it whole); `false`: no longer visible (evict it).
    pub gained: bool,
}

/// One row of a projection.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedDocument {
    pub doc_id: DocId,
    /// The document's store and owner: what read scopes judge it by.
    pub store_id: StoreId,
    pub person_id: UserId,
    /// Feed seq of the write that produced this projection.
    pub updated_seq: i64,
    /// Planned date (visit) or order date (order): the listing's sort key.
    pub date: Date,
    pub document_json: String,
}

impl ProjectedDocument {
    pub fn key(&self) -> ProjectionKey {
        ProjectionKey {
            date: self.date,
            doc_id: self.doc_id,
        }
    }
}

/// CRDT documents, changes, feed, projections.
#[async_trait::async_trait]
pub trait DocumentStore: Send + Sync {
    /// Loads documents by id for `tenant`, in one consistent read. One entry per id, in order.
    async fn load_documents(
        &self,
        tenant: TenantId,
        ids: &[DocId],
    ) -> StoreResult<Vec<(DocId, LoadedDocument)>>;

    /// Writes a whole push in one transaction (see [`PushCommit`]). Documents are written in
    /// the given order, each with its own feed seq. On a version conflict nothing is written.
    async fn commit_push(&self, commit: PushCommit) -> StoreResult<CommitOutcome>;

    /// Whether `cursor` names a position in this tenant's feed. `{seq: 0, mark: 0}` (the start)
    /// is always valid.
    async fn cursor_is_valid(&self, tenant: TenantId, cursor: Cursor) -> StoreResult<bool>;

    /// Up to `limit` feed entries of `tenant` with a seq > `after_seq`, by seq. Entries become
    /// visible in seq order: a reader that sees seq N also sees every seq below N.
    async fn feed_after(
        &self,
        tenant: TenantId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<FeedEntry>>;

    /// The cursor of the tenant's latest feed entry (the start cursor when the feed is empty).
    async fn feed_head(&self, tenant: TenantId) -> StoreResult<Cursor>;

    /// Up to `limit` feed entries of `tenant` with `after_seq < seq <= up_to_seq` whose
    /// document is `visible` (`None`: every entry), by seq. With `up_to_seq` read first from
    /// [`DocumentStore::feed_head`], the entries skipped as invisible up to it are final.
    async fn feed_visible(
        &self,
        tenant: TenantId,
        after_seq: i64,
        up_to_seq: i64,
        limit: u32,
        visible: Option<&Visibility>,
    ) -> StoreResult<Vec<FeedEntry>>;

    /// Up to `limit` documents of `tenant` with an id > `after` (all with `None`), by id, that
    /// `change` evicts (visible under `may_hold`, not under `target`) or delivers (visible
    /// under `target`, not under `surely_holds`).
    async fn scope_changes(
        &self,
        tenant: TenantId,
        change: ScopeChange<'_>,
        after: Option<DocId>,
        limit: u32,
    ) -> StoreResult<Vec<ScopeChangeItem>>;

    /// Whether a visit `visible` to the reader (`None`: any) references the photo
    /// (`photo_refs`) with a reference that grants access: one added by the photo's uploader,
    /// any while the photo is not stored yet, and those stored before adders were recorded.
    async fn photo_visible(
        &self,
        tenant: TenantId,
        sha256: &fieldsync_shared::Sha256,
        visible: Option<&Visibility>,
    ) -> StoreResult<bool>;

    /// What a puller at `after_seq` lacks of `doc_id`: the changes with a seq > `after_seq`
    /// not sent by `exclude_device`, or the whole document when the snapshot covers a seq
    /// > `after_seq`. `None` if the document is not this tenant's.
    async fn pull_data(
        &self,
        tenant: TenantId,
        doc_id: DocId,
        after_seq: i64,
        exclude_device: Option<DeviceId>,
    ) -> StoreResult<Option<PulledDocument>>;

    /// The receipt of every change of `doc_id` still stored as a change, in storage order.
    /// Changes folded into the snapshot by compaction have none. Empty if the document is
    /// absent or not this tenant's.
    async fn change_receipts(
        &self,
        tenant: TenantId,
        doc_id: DocId,
    ) -> StoreResult<Vec<ChangeReceipt>>;

    /// Stores `compaction.snapshot` (first transaction, with a version check), then deletes the
    /// changes it folds in (second transaction).
    async fn compact_document(
        &self,
        tenant: TenantId,
        compaction: Compaction,
    ) -> StoreResult<CompactionOutcome>;

    /// Lists projections of `kind` matching `filter`, newest date first.
    async fn list_projected(
        &self,
        tenant: TenantId,
        kind: DocKind,
        filter: &ProjectionFilter,
    ) -> StoreResult<Vec<ProjectedDocument>>;

    /// One projection of `kind` by id; `None` if absent or another tenant's.
    async fn get_projected(
        &self,
        tenant: TenantId,
        kind: DocKind,
        doc_id: DocId,
    ) -> StoreResult<Option<ProjectedDocument>>;
}
