//! Conformance tests of [`DocumentStore`], written as generic functions over the trait so that
//! every implementation runs the same suite (`store_suite!` at the end instantiates it for
//! SQLite and PostgreSQL; the PostgreSQL half needs `FIELDSYNC_TEST_DATABASE_URL`, which
//! `scripts/with-postgres.sh` sets).
//! Documents are real Automerge visits; the sync engine's push, pull and compaction drive the
//! store where a test is about their interplay.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::{ActorId, AutoCommit, Automerge, Change, ChangeHash};
use fieldsync_server::auth::receipts::ReceiptKey;
use fieldsync_server::scope::ReadScope;
use fieldsync_server::store::deliveries::DeliveryCount;
use fieldsync_server::store::documents::{
    ChangeOrigin, CommitOutcome, CompactionOutcome, DocumentStore, DocumentWrite, ExpectedVersion,
    LoadedDocument, NewChange, OrderProjection, Projection, ProjectionFilter, ProjectionKey,
    PullData, PushCommit, StoredDocument, VisitProjection,
};
use fieldsync_server::store::{DeliveryStore, DirectoryStore, ExpenseStore, Store, VerdictStore};
use fieldsync_server::sync::compaction::compact;
use fieldsync_server::sync::merge::open_stored;
use fieldsync_server::sync::pull::{pull, START};
use fieldsync_server::sync::push::{push, PushContext};
use fieldsync_shared::document::{hydrate_visit, new_document, reconcile_visit, DocKind};
use fieldsync_shared::protocol::{Cursor, DocPush, PullPage, PullRequest, PushResult};
use fieldsync_shared::values::{Date, DeviceId, DocId, StoreId, TenantId, Timestamp, UserId};
use fieldsync_shared::visit::{Visit, VisitStatus};

mod support;

// ---------------------------------------------------------------------------------------------
// Test data: devices editing visits.

/// A device: its id and its Automerge documents.
struct Device {
    id: DeviceId,
    actor: ActorId,
    docs: HashMap<DocId, AutoCommit>,
}

impl Device {
    fn new() -> Self {
        Device {
            id: DeviceId::new_random(),
            actor: ActorId::random(),
            docs: HashMap::new(),
        }
    }

    /// Starts a visit and returns its id.
    fn start_visit(&mut self, date: &str) -> DocId {
        let id = DocId::new_random();
        let visit = Visit::new(
            id,
            StoreId::new_random(),
            UserId::new_random(),
            Date::parse(date).unwrap(),
        );
        let mut doc = new_document(self.actor.clone());
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
        self.docs.insert(id, doc);
        id
    }

    /// Starts a visit of `person` at `store` and returns its id.
    fn start_visit_at(&mut self, date: &str, store: StoreId, person: UserId) -> DocId {
        let id = DocId::new_random();
        let visit = Visit::new(id, store, person, Date::parse(date).unwrap());
        let mut doc = new_document(self.actor.clone());
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
        self.docs.insert(id, doc);
        id
    }

    /// Drops the local copies the page evicts, as the device SDK does.
    fn evict(&mut self, page: &PullPage) {
        for id in &page.evict {
            self.docs.remove(id);
        }
    }

    fn holds(&self) -> std::collections::BTreeSet<DocId> {
        self.docs.keys().copied().collect()
    }

    /// One more change on the visit (a note appended).
    fn edit(&mut self, id: DocId, note: &str) {
        let doc = self.docs.get_mut(&id).expect("device has the document");
        let mut visit = hydrate_visit(doc).unwrap();
        let text = format!("{}{note}", visit.notes.as_str());
        visit.notes = autosurgeon::Text::with_value(text);
        visit.status = VisitStatus::InProgress;
        reconcile_visit(doc, &visit).unwrap();
        doc.commit();
    }

    fn changes(&mut self, id: DocId) -> Vec<Vec<u8>> {
        let doc = self.docs.get_mut(&id).expect("device has the document");
        doc.get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect()
    }

    fn heads(&mut self, id: DocId) -> Vec<ChangeHash> {
        self.docs
            .get_mut(&id)
            .expect("device has the document")
            .get_heads()
    }

    /// Applies a pull page the way the device SDK does (`load_incremental` on each part).
    fn apply(&mut self, page: &PullPage) {
        for payload in &page.docs {
            let doc = self
                .docs
                .entry(payload.doc_id)
                .or_insert_with(|| new_document(self.actor.clone()));
            for part in &payload.data {
                doc.load_incremental(part).unwrap();
            }
        }
    }

    fn push_all(&mut self, ids: &[DocId]) -> Vec<DocPush> {
        ids.iter()
            .map(|id| DocPush {
                doc_id: *id,
                kind: "visit".into(),
                changes: self.changes(*id).into_iter().map(Into::into).collect(),
                receipt: None,
            })
            .collect()
    }
}

/// A read scope of the whole tenant (an administrator's).
fn everything() -> ReadScope {
    let me = UserId::new_random();
    ReadScope {
        whole_tenant: true,
        stores: Default::default(),
        people: [me].into(),
        org: fieldsync_shared::org::OrgView::solo(me, fieldsync_shared::master::Role::Admin),
    }
}

/// The device pushing as `owner` (a rep who sees the whole tenant): the write policies let
/// the owner of a visit create and edit it.
fn ctx(tenant: TenantId, device: &Device, owner: UserId) -> PushContext {
    let mut scope = everything();
    scope.people = [owner].into();
    scope.org = fieldsync_shared::org::OrgView::solo(owner, fieldsync_shared::master::Role::Rep);
    PushContext {
        tenant_id: tenant,
        user_id: owner,
        device_id: device.id,
        actor: device.actor.clone(),
        scope: Arc::new(scope),
        limits: Default::default(),
        cross_device: Default::default(),
        receipts: receipt_key(),
    }
}

/// The receipt key of these tests' server.
fn receipt_key() -> ReceiptKey {
    ReceiptKey::derive(b"the documents store tests' signing key")
}

/// Pushes `ids`, each document as its owner (one push per owner), and returns the outcomes in
/// the order of `ids`.
async fn push_docs<S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore>(
    store: &S,
    tenant: TenantId,
    device: &mut Device,
    ids: &[DocId],
) -> Vec<PushResult> {
    let mut by_owner: Vec<(UserId, Vec<DocId>)> = Vec::new();
    for id in ids {
        let owner = hydrate_visit(&device.docs[id]).unwrap().person_id;
        match by_owner.iter_mut().find(|(o, _)| *o == owner) {
            Some((_, group)) => group.push(*id),
            None => by_owner.push((owner, vec![*id])),
        }
    }
    // Documents are created only for stores of the master data; these tests make up theirs.
    let stores: Vec<StoreId> = ids
        .iter()
        .map(|id| hydrate_visit(&device.docs[id]).unwrap().store_id)
        .collect();
    add_stores(store, tenant, &stores).await;
    let mut results = HashMap::new();
    for (owner, group) in by_owner {
        let docs = device.push_all(&group);
        let report = push(store, &ctx(tenant, device, owner), docs)
            .await
            .expect("push");
        for o in report.outcomes {
            results.insert(o.doc_id, o.result);
        }
    }
    ids.iter().map(|id| results.remove(id).unwrap()).collect()
}

/// Adds `ids` to `tenant`'s master data (again: an upsert by id). A store id that is another
/// tenant's stays theirs (store ids are unique across tenants); such a push is refused as
/// `document_unavailable` before its store is looked at.
async fn add_stores<S: DirectoryStore>(store: &S, tenant: TenantId, ids: &[StoreId]) {
    use fieldsync_shared::master::{Channel, Grade, Store as MasterStore};
    use fieldsync_shared::values::{Position, StoreCode};
    for id in ids {
        let shop = MasterStore {
            id: *id,
            code: StoreCode::parse(&id.as_uuid().simple().to_string()).unwrap(),
            name: "Test store".into(),
            channel: Channel::Nka,
            grade: Grade::A,
            address: "1 Test Street".into(),
            location: Position::new(30.58, 114.27).unwrap(),
            geofence_radius_m: 150,
            delivery_lead_days: 2,
            monthly_potential: None,
            chain: None,
        };
        let _ = store.upsert_stores(tenant, &[shop]).await;
    }
}

async fn load_one<S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore>(
    store: &S,
    tenant: TenantId,
    id: DocId,
) -> LoadedDocument {
    let mut loaded = store.load_documents(tenant, &[id]).await.expect("load");
    assert_eq!(loaded.len(), 1);
    loaded.remove(0).1
}

async fn load_found<S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore>(
    store: &S,
    tenant: TenantId,
    id: DocId,
) -> StoredDocument {
    match load_one(store, tenant, id).await {
        LoadedDocument::Found(doc) => doc,
        other => panic!("expected the document, got {other:?}"),
    }
}

async fn server_doc<S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore>(
    store: &S,
    tenant: TenantId,
    id: DocId,
) -> Automerge {
    open_stored(&load_found(store, tenant, id).await).expect("stored document loads")
}

async fn feed_len<S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore>(
    store: &S,
    tenant: TenantId,
) -> usize {
    store
        .feed_after(tenant, 0, 10_000)
        .await
        .expect("feed")
        .len()
}

fn visit_write(id: DocId, expected: ExpectedVersion, changes: &[Vec<u8>]) -> DocumentWrite {
    DocumentWrite {
        doc_id: id,
        kind: DocKind::Visit,
        expected,
        changes: changes
            .iter()
            .map(|b| NewChange {
                hash: Change::from_bytes(b.clone()).unwrap().hash().0,
                bytes: b.clone(),
                origin: ChangeOrigin::Device,
            })
            .collect(),
        projection: Projection::Visit(VisitProjection {
            store_id: StoreId::new_random(),
            person_id: UserId::new_random(),
            planned_date: Date::parse("2026-11-22").unwrap(),
            status: "planned",
            document_json: format!("{{\"id\":\"{id}\"}}"),
        }),
        heads: changes
            .last()
            .map(|b| vec![Change::from_bytes(b.clone()).unwrap().hash().0])
            .unwrap_or_default(),
    }
}

fn commit_of(tenant: TenantId, device: DeviceId, documents: Vec<DocumentWrite>) -> PushCommit {
    PushCommit {
        tenant_id: tenant,
        device_id: device,
        user_id: UserId::new_random(),
        at: Timestamp(1_700_000_000_000),
        documents,
        findings: Vec::new(),
    }
}

/// Pulls pages until `more` is false; returns the pages.
async fn pull_all<S: Store>(
    store: &S,
    tenant: TenantId,
    device: &mut Device,
    mut cursor: Option<Cursor>,
    max_bytes: u32,
) -> (Vec<PullPage>, Cursor) {
    let mut pages = Vec::new();
    loop {
        let page = pull(
            store,
            tenant,
            device.id,
            &everything(),
            &PullRequest { cursor, max_bytes },
            u32::MAX,
            &receipt_key(),
        )
        .await
        .expect("pull");
        assert!(
            !page.reset,
            "a cursor handed out by the server must stay valid"
        );
        device.apply(&page);
        cursor = Some(page.cursor);
        let more = page.more;
        pages.push(page);
        if !more {
            break;
        }
        assert!(pages.len() < 1000, "pull does not terminate");
    }
    (pages, cursor.unwrap_or(START))
}

// ---------------------------------------------------------------------------------------------
// The suite.

pub async fn commit_and_load_round_trip<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore,
>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    let mut dev = Device::new();
    let id = dev.start_visit("2026-11-22");
    dev.edit(id, "first");
    let changes = dev.changes(id);

    let outcome = store
        .commit_push(commit_of(
            tenant,
            dev.id,
            vec![visit_write(id, ExpectedVersion::New, &changes)],
        ))
        .await
        .unwrap();
    let CommitOutcome::Committed(committed) = outcome else {
        panic!("expected a commit, got {outcome:?}");
    };
    assert_eq!(committed.len(), 1);
    assert_eq!(committed[0].inserted_changes, 2);
    assert_eq!(committed[0].changes_since_snapshot, 2);

    let stored = load_found(store, tenant, id).await;
    assert_eq!(stored.kind, DocKind::Visit);
    assert_eq!(stored.version, 1);
    assert_eq!(stored.last_seq, committed[0].seq);
    assert_eq!(stored.snapshot, None);
    assert_eq!(stored.changes, changes, "bytes come back as sent, in order");
    assert_eq!(open_stored(&stored).unwrap().get_heads(), dev.heads(id));

    assert_eq!(
        load_one(store, other, id).await,
        LoadedDocument::OtherTenant
    );
    assert_eq!(
        load_one(store, tenant, DocId::new_random()).await,
        LoadedDocument::Absent
    );

    let projected = store
        .get_projected(tenant, DocKind::Visit, id)
        .await
        .unwrap()
        .expect("projection");
    assert_eq!(projected.updated_seq, committed[0].seq);
    assert_eq!(projected.document_json, format!("{{\"id\":\"{id}\"}}"));
    assert_eq!(
        store
            .get_projected(other, DocKind::Visit, id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .get_projected(tenant, DocKind::Order, id)
            .await
            .unwrap(),
        None
    );
}

pub async fn each_write_gets_its_own_feed_seq<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore,
>(
    store: &S,
    tenant: TenantId,
) {
    let mut dev = Device::new();
    let a = dev.start_visit("2026-11-22");
    let b = dev.start_visit("2026-11-23");
    let before = feed_len(store, tenant).await;
    let outcome = store
        .commit_push(commit_of(
            tenant,
            dev.id,
            vec![
                visit_write(a, ExpectedVersion::New, &dev.changes(a)),
                visit_write(b, ExpectedVersion::New, &dev.changes(b)),
            ],
        ))
        .await
        .unwrap();
    let CommitOutcome::Committed(c) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(c[1].seq, c[0].seq + 1, "consecutive seqs in request order");
    let feed = store.feed_after(tenant, c[0].seq - 1, 10).await.unwrap();
    assert_eq!(feed.len(), 2);
    assert_eq!((feed[0].doc_id, feed[1].doc_id), (a, b));
    assert_eq!(feed_len(store, tenant).await, before + 2);
}

pub async fn replay_stores_nothing_and_appends_no_feed_entry<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore,
>(
    store: &S,
    tenant: TenantId,
) {
    let mut dev = Device::new();
    let id = dev.start_visit("2026-11-22");
    dev.edit(id, "a");
    assert_eq!(
        push_docs(store, tenant, &mut dev, &[id]).await,
        vec![PushResult::stored(2)]
    );
    let feed = feed_len(store, tenant).await;
    let version = load_found(store, tenant, id).await.version;

    assert_eq!(
        push_docs(store, tenant, &mut dev, &[id]).await,
        vec![PushResult::stored(0)]
    );
    assert_eq!(
        feed_len(store, tenant).await,
        feed,
        "a replay appends no feed entry"
    );
    let after = load_found(store, tenant, id).await;
    assert_eq!(after.version, version, "a replay writes nothing");
    assert_eq!(after.changes.len(), 2);

    // A replay mixed with one new change stores exactly that change.
    dev.edit(id, "b");
    assert_eq!(
        push_docs(store, tenant, &mut dev, &[id]).await,
        vec![PushResult::stored(1)]
    );
    assert_eq!(feed_len(store, tenant).await, feed + 1);
}

pub async fn version_conflict_is_detected_and_writes_nothing<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore,
>(
    store: &S,
    tenant: TenantId,
) {
    let mut dev = Device::new();
    let id = dev.start_visit("2026-11-22");
    let first = dev.changes(id);
    let c = store
        .commit_push(commit_of(
            tenant,
            dev.id,
            vec![visit_write(id, ExpectedVersion::New, &first)],
        ))
        .await
        .unwrap();
    assert!(matches!(c, CommitOutcome::Committed(_)));
    let feed = feed_len(store, tenant).await;

    dev.edit(id, "x");
    let second = dev.changes(id)[1..].to_vec();
    let fresh = dev.start_visit("2026-11-24");
    // Stale version for `id`, plus a valid new document in the same request.
    let outcome = store
        .commit_push(commit_of(
            tenant,
            dev.id,
            vec![
                visit_write(fresh, ExpectedVersion::New, &dev.changes(fresh)),
                visit_write(id, ExpectedVersion::Existing(0), &second),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(outcome, CommitOutcome::VersionConflict(vec![id]));
    assert_eq!(
        load_one(store, tenant, fresh).await,
        LoadedDocument::Absent,
        "all or nothing"
    );
    assert_eq!(load_found(store, tenant, id).await.changes, first);
    assert_eq!(feed_len(store, tenant).await, feed);

    // Creating a document that exists is a conflict too.
    let outcome = store
        .commit_push(commit_of(
            tenant,
            dev.id,
            vec![visit_write(id, ExpectedVersion::New, &second)],
        ))
        .await
        .unwrap();
    assert_eq!(outcome, CommitOutcome::VersionConflict(vec![id]));

    // The right version goes through.
    let outcome = store
        .commit_push(commit_of(
            tenant,
            dev.id,
            vec![visit_write(id, ExpectedVersion::Existing(1), &second)],
        ))
        .await
        .unwrap();
    assert!(
        matches!(outcome, CommitOutcome::Committed(_)),
        "{outcome:?}"
    );
    assert_eq!(load_found(store, tenant, id).await.version, 2);
}

pub async fn cursor_validation<S: Store>(store: &S, tenant: TenantId, other: TenantId) {
    assert!(
        store.cursor_is_valid(tenant, START).await.unwrap(),
        "the start is always valid"
    );
    let mut dev = Device::new();
    let id = dev.start_visit("2026-11-22");
    push_docs(store, tenant, &mut dev, &[id]).await;
    let entry = store
        .feed_after(tenant, 0, 10_000)
        .await
        .unwrap()
        .pop()
        .expect("a feed entry");
    let cursor = entry.cursor();
    assert!(store.cursor_is_valid(tenant, cursor).await.unwrap());
    let wrong_mark = Cursor {
        mark: cursor.mark.wrapping_add(1),
        ..cursor
    };
    assert!(!store.cursor_is_valid(tenant, wrong_mark).await.unwrap());
    let beyond = Cursor {
        seq: cursor.seq + 1000,
        ..cursor
    };
    assert!(!store.cursor_is_valid(tenant, beyond).await.unwrap());
    assert!(
        !store.cursor_is_valid(other, cursor).await.unwrap(),
        "cursors are per tenant"
    );
    assert!(!store
        .cursor_is_valid(tenant, Cursor { seq: 0, mark: 5 })
        .await
        .unwrap());

    // The pull answers an unknown cursor with a reset.
    let page = pull(
        store,
        tenant,
        dev.id,
        &everything(),
        &PullRequest {
            cursor: Some(wrong_mark),
            max_bytes: 1 << 20,
        },
        u32::MAX,
        &receipt_key(),
    )
    .await
    .unwrap();
    assert!(page.reset);
    assert!(page.docs.is_empty());
    assert_eq!(page.cursor, START);
}

pub async fn pull_pages_never_skip_a_change<S: Store>(store: &S, tenant: TenantId) {
    let mut writer = Device::new();
    let mut reader = Device::new();
    let ids: Vec<DocId> = (0..5)
        .map(|i| writer.start_visit(&format!("2026-11-{:02}", i + 1)))
        .collect();
    // Interleaved writes: every document has several feed entries.
    for round in 0..3 {
        for id in &ids {
            writer.edit(*id, &format!("r{round}"));
            push_docs(store, tenant, &mut writer, &[*id]).await;
        }
    }

    // One document per page (max_bytes 1), with writes landing between pages.
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = pull(
            store,
            tenant,
            reader.id,
            &everything(),
            &PullRequest {
                cursor,
                max_bytes: 1,
            },
            u32::MAX,
            &receipt_key(),
        )
        .await
        .unwrap();
        assert!(!page.reset);
        assert!(
            page.docs.len() <= 1,
            "a page holds one document when it is over budget"
        );
        reader.apply(&page);
        cursor = Some(page.cursor);
        pages += 1;
        if pages <= 4 {
            let id = ids[(pages * 3) % ids.len()];
            writer.edit(id, "between pages");
            push_docs(store, tenant, &mut writer, &[id]).await;
        }
        if !page.more {
            break;
        }
        assert!(pages < 200, "pull does not terminate");
    }
    assert!(pages > 1, "the budget forced several pages");
    for id in &ids {
        let server = server_doc(store, tenant, *id).await;
        assert_eq!(
            reader.heads(*id),
            server.get_heads(),
            "reader has every change of {id}"
        );
    }
    // Nothing more to pull from the final cursor.
    let page = pull(
        store,
        tenant,
        reader.id,
        &everything(),
        &PullRequest {
            cursor,
            max_bytes: 1 << 20,
        },
        u32::MAX,
        &receipt_key(),
    )
    .await
    .unwrap();
    assert!(page.docs.is_empty() && !page.more);
}

pub async fn pull_excludes_the_requesting_devices_changes<S: Store>(store: &S, tenant: TenantId) {
    let mut a = Device::new();
    let mut b = Device::new();
    // Both devices start from the feed's current end.
    let (_, cursor) = pull_all(store, tenant, &mut b, None, 1 << 20).await;
    let id = a.start_visit("2026-11-22");
    push_docs(store, tenant, &mut a, &[id]).await;

    let page = pull(
        store,
        tenant,
        a.id,
        &everything(),
        &PullRequest {
            cursor: Some(cursor),
            max_bytes: 1 << 20,
        },
        u32::MAX,
        &receipt_key(),
    )
    .await
    .unwrap();
    assert!(page.docs.is_empty(), "the sender already has its changes");
    assert!(
        page.cursor.seq > cursor.seq,
        "the cursor still moves past them"
    );

    let page = pull(
        store,
        tenant,
        b.id,
        &everything(),
        &PullRequest {
            cursor: Some(cursor),
            max_bytes: 1 << 20,
        },
        u32::MAX,
        &receipt_key(),
    )
    .await
    .unwrap();
    assert_eq!(page.docs.len(), 1, "another device gets them");
    assert_eq!(page.docs[0].doc_id, id);

    // Without a cursor (a device that lost its state) the sender gets its own changes back.
    let mut fresh_a = Device {
        id: a.id,
        actor: ActorId::random(),
        docs: HashMap::new(),
    };
    pull_all(store, tenant, &mut fresh_a, None, 1 << 20).await;
    assert_eq!(fresh_a.heads(id), a.heads(id));
}

/// A rep's or supervisor's scope: these stores and these people's documents.
fn scope_of(stores: &[StoreId], people: &[UserId]) -> ReadScope {
    ReadScope {
        whole_tenant: false,
        stores: stores.iter().copied().collect(),
        people: people.iter().copied().collect(),
        org: fieldsync_shared::org::OrgView::solo(people[0], fieldsync_shared::master::Role::Rep),
    }
}

/// One pull of `device` under `scope`.
async fn pull_scoped<S: Store>(
    store: &S,
    tenant: TenantId,
    device: &Device,
    scope: &ReadScope,
    cursor: Option<Cursor>,
    max_bytes: u32,
) -> PullPage {
    let page = pull(
        store,
        tenant,
        device.id,
        scope,
        &PullRequest { cursor, max_bytes },
        u32::MAX,
        &receipt_key(),
    )
    .await
    .expect("pull");
    assert!(!page.reset, "cursors handed out stay valid");
    page
}

/// Pulls (applying pages and evictions) until `more` is false; returns the final cursor.
async fn pull_scoped_all<S: Store>(
    store: &S,
    tenant: TenantId,
    device: &mut Device,
    scope: &ReadScope,
    mut cursor: Option<Cursor>,
    max_bytes: u32,
) -> Cursor {
    for _ in 0..200 {
        let page = pull_scoped(store, tenant, device, scope, cursor, max_bytes).await;
        device.apply(&page);
        device.evict(&page);
        cursor = Some(page.cursor);
        if !page.more {
            return page.cursor;
        }
    }
    panic!("pull does not terminate");
}

pub async fn scoped_pull_delivers_only_visible_documents<S: Store>(store: &S, tenant: TenantId) {
    let mut writer = Device::new();
    let (mine, theirs) = (StoreId::new_random(), StoreId::new_random());
    let (me, colleague, stranger) = (
        UserId::new_random(),
        UserId::new_random(),
        UserId::new_random(),
    );
    let at_my_store = writer.start_visit_at("2026-11-01", mine, colleague);
    let my_own = writer.start_visit_at("2026-11-02", theirs, me);
    let not_mine = writer.start_visit_at("2026-11-03", theirs, stranger);
    // Interleaved entries, most of them invisible to the reader.
    for round in 0..3 {
        for id in [not_mine, at_my_store, not_mine, my_own] {
            writer.edit(id, &format!("r{round}"));
            push_docs(store, tenant, &mut writer, &[id]).await;
        }
    }
    let scope = scope_of(&[mine], &[me]);

    // One document per page: every visible document arrives, nothing else.
    let mut reader = Device::new();
    let cursor = pull_scoped_all(store, tenant, &mut reader, &scope, None, 1).await;
    assert_eq!(reader.holds(), [at_my_store, my_own].into());
    for id in [at_my_store, my_own] {
        assert_eq!(
            reader.heads(id),
            server_doc(store, tenant, id).await.get_heads()
        );
    }
    let head = store.feed_head(tenant).await.unwrap();
    assert_eq!(
        cursor, head,
        "invisible entries up to the head advance the cursor"
    );

    // Invisible writes move the cursor with an empty page.
    writer.edit(not_mine, "elsewhere");
    push_docs(store, tenant, &mut writer, &[not_mine]).await;
    let page = pull_scoped(store, tenant, &reader, &scope, Some(cursor), 1 << 20).await;
    assert!(page.docs.is_empty() && page.evict.is_empty() && !page.more);
    assert_eq!(page.cursor, store.feed_head(tenant).await.unwrap());
    let cursor = page.cursor;

    // A visible write arrives.
    writer.edit(at_my_store, "here");
    push_docs(store, tenant, &mut writer, &[at_my_store]).await;
    let page = pull_scoped(store, tenant, &reader, &scope, Some(cursor), 1 << 20).await;
    let ids: Vec<DocId> = page.docs.iter().map(|d| d.doc_id).collect();
    assert_eq!(ids, vec![at_my_store]);

    // The filter itself, as the store applies it.
    let everything = store
        .feed_visible(tenant, 0, head.seq, 1000, None)
        .await
        .unwrap();
    let visible = scope.visibility();
    let filtered = store
        .feed_visible(tenant, 0, head.seq, 1000, visible.as_ref())
        .await
        .unwrap();
    assert_eq!(everything.len(), 12);
    assert!(filtered.iter().all(|e| e.doc_id != not_mine));
    assert_eq!(filtered.len(), 6);
}

pub async fn scope_change_evicts_and_delivers<S: Store>(store: &S, tenant: TenantId) {
    let mut writer = Device::new();
    let (s1, s2) = (StoreId::new_random(), StoreId::new_random());
    let (me, other1, other2) = (
        UserId::new_random(),
        UserId::new_random(),
        UserId::new_random(),
    );
    let leaves = writer.start_visit_at("2026-11-01", s1, other1);
    let arrives = writer.start_visit_at("2026-11-02", s2, other2);
    let arrives_too = writer.start_visit_at("2026-11-03", s2, other1);
    let own = writer.start_visit_at("2026-11-04", s1, me);
    let all = [leaves, arrives, arrives_too, own];
    push_docs(store, tenant, &mut writer, &all).await;
    for id in all {
        writer.edit(id, "more");
    }
    push_docs(store, tenant, &mut writer, &all).await;

    let mut reader = Device::new();
    let before = scope_of(&[s1], &[me]);
    let cursor = pull_scoped_all(store, tenant, &mut reader, &before, None, 1 << 20).await;
    assert_eq!(reader.holds(), [leaves, own].into());

    // Store s1 leaves the reader's territory, s2 joins it.
    let after = scope_of(&[s2], &[me]);
    let page = pull_scoped(store, tenant, &reader, &after, Some(cursor), 1 << 20).await;
    assert_eq!(
        page.evict,
        vec![leaves],
        "own documents never leave the scope"
    );
    let mut delivered: Vec<DocId> = page.docs.iter().map(|d| d.doc_id).collect();
    delivered.sort();
    let mut expected = vec![arrives, arrives_too];
    expected.sort();
    assert_eq!(
        delivered, expected,
        "gained documents arrive whatever the cursor"
    );
    assert!(page.more);
    assert_eq!(page.cursor.seq, cursor.seq, "the feed position is kept");
    assert_ne!(page.cursor, cursor);

    // The response is lost: the same cursor gets the same change again.
    let again = pull_scoped(store, tenant, &reader, &after, Some(cursor), 1 << 20).await;
    assert_eq!(again.evict, page.evict);
    assert_eq!(again.docs.len(), 2);
    assert_ne!(again.cursor, page.cursor);

    // Applied: the next pull continues with the feed, and the change is recorded.
    reader.apply(&again);
    reader.evict(&again);
    let next = pull_scoped(store, tenant, &reader, &after, Some(again.cursor), 1 << 20).await;
    assert!(next.evict.is_empty() && next.docs.is_empty() && !next.more);
    assert_eq!(reader.holds(), [arrives, arrives_too, own].into());
    for id in [arrives, arrives_too, own] {
        assert_eq!(
            reader.heads(id),
            server_doc(store, tenant, id).await.get_heads(),
            "whole documents"
        );
    }
    // That page was lost too: the change page's cursor still continues the feed.
    let lost = pull_scoped(store, tenant, &reader, &after, Some(again.cursor), 1 << 20).await;
    assert!(lost.evict.is_empty() && lost.docs.is_empty() && !lost.more);
    let cursor = lost.cursor;
    let recorded = store
        .device_scope(tenant, reader.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.fingerprint, after.sets().fingerprint());
    assert_eq!(recorded.stores, vec![s2]);

    // Settled: writes to the evicted document no longer arrive, the new ones do.
    writer.edit(leaves, "gone");
    writer.edit(arrives, "here");
    push_docs(store, tenant, &mut writer, &[leaves, arrives]).await;
    let page = pull_scoped(store, tenant, &reader, &after, Some(cursor), 1 << 20).await;
    let ids: Vec<DocId> = page.docs.iter().map(|d| d.doc_id).collect();
    assert_eq!(ids, vec![arrives]);
    assert!(page.evict.is_empty());
}

pub async fn scope_change_pages_and_survives_another_change<S: Store>(store: &S, tenant: TenantId) {
    let mut writer = Device::new();
    let (s1, s2, s3) = (
        StoreId::new_random(),
        StoreId::new_random(),
        StoreId::new_random(),
    );
    let (me, other) = (UserId::new_random(), UserId::new_random());
    let at = |w: &mut Device, store: StoreId, n: usize| -> Vec<DocId> {
        (0..n)
            .map(|i| w.start_visit_at(&format!("2026-10-{:02}", i + 1), store, other))
            .collect()
    };
    let at_s1 = at(&mut writer, s1, 3);
    let at_s2 = at(&mut writer, s2, 3);
    let at_s3 = at(&mut writer, s3, 3);
    let all: Vec<DocId> = [&at_s1[..], &at_s2[..], &at_s3[..]].concat();
    push_docs(store, tenant, &mut writer, &all).await;

    let mut reader = Device::new();
    let first = scope_of(&[s1], &[me]);
    let cursor = pull_scoped_all(store, tenant, &mut reader, &first, None, 1 << 20).await;
    assert_eq!(reader.holds(), at_s1.iter().copied().collect());

    // s1 -> s2, one document per page; two pages in, the scope moves again (s2 -> s3).
    let second = scope_of(&[s2], &[me]);
    let mut cursor = Some(cursor);
    for _ in 0..2 {
        let page = pull_scoped(store, tenant, &reader, &second, cursor, 1).await;
        assert!(page.more);
        assert_eq!(page.docs.len() + page.evict.len(), 1, "one document a page");
        reader.apply(&page);
        reader.evict(&page);
        cursor = Some(page.cursor);
    }
    let third = scope_of(&[s3], &[me]);
    let end = pull_scoped_all(store, tenant, &mut reader, &third, cursor, 1).await;
    assert_eq!(
        reader.holds(),
        at_s3.iter().copied().collect(),
        "nothing of s1 or s2 is left, everything of s3 arrived"
    );
    assert_eq!(end, store.feed_head(tenant).await.unwrap());
    let recorded = store
        .device_scope(tenant, reader.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.fingerprint, third.sets().fingerprint());
}

pub async fn compaction_keeps_every_change<S: Store>(store: &S, tenant: TenantId) {
    let mut dev = Device::new();
    let mut reader = Device::new();
    let id = dev.start_visit("2026-11-22");
    push_docs(store, tenant, &mut dev, &[id]).await;
    // The reader pulls once, early: its cursor is before the changes compaction will fold.
    let (_, early_cursor) = pull_all(store, tenant, &mut reader, None, 1 << 20).await;
    for i in 0..6 {
        dev.edit(id, &format!("货架{i}"));
        push_docs(store, tenant, &mut dev, &[id]).await;
    }
    let before = server_doc(store, tenant, id).await;
    let before_visit = hydrate_visit(&before).unwrap();

    let outcome = compact(store, tenant, id).await.unwrap();
    assert_eq!(outcome, CompactionOutcome::Compacted { removed_changes: 7 });
    let stored = load_found(store, tenant, id).await;
    assert!(stored.snapshot.is_some());
    assert_eq!(stored.snapshot_seq, stored.last_seq);
    assert!(stored.changes.is_empty(), "folded changes are deleted");
    let after = open_stored(&stored).unwrap();
    assert_eq!(after.get_heads(), before.get_heads());
    assert_eq!(hydrate_visit(&after).unwrap(), before_visit);

    // A puller whose cursor predates the snapshot gets the whole document.
    let data = store
        .pull_data(tenant, id, early_cursor.seq, Some(reader.id))
        .await
        .unwrap();
    assert!(
        matches!(&data, Some(d) if matches!(d.data, PullData::Whole(_))),
        "{data:?}"
    );
    pull_all(store, tenant, &mut reader, Some(early_cursor), 1 << 20).await;
    assert_eq!(reader.heads(id), before.get_heads());

    // Pushing the whole history again after compaction is still a replay.
    assert_eq!(
        push_docs(store, tenant, &mut dev, &[id]).await,
        vec![PushResult::stored(0)]
    );
    // A compaction computed from an old version is refused, not applied.
    dev.edit(id, "later");
    push_docs(store, tenant, &mut dev, &[id]).await;
    let fresh = load_found(store, tenant, id).await;
    let stale = store
        .compact_document(
            tenant,
            fieldsync_server::store::documents::Compaction {
                doc_id: id,
                expected_version: fresh.version - 1,
                snapshot: before.save(),
                covers_seq: fresh.last_seq,
            },
        )
        .await
        .unwrap();
    assert_eq!(stale, CompactionOutcome::Stale);
    assert_eq!(
        server_doc(store, tenant, id).await.get_heads(),
        dev.heads(id)
    );
}

pub async fn compaction_during_concurrent_pushes_loses_nothing<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore + 'static,
>(
    store: Arc<S>,
    tenant: TenantId,
) {
    let mut dev = Device::new();
    let id = dev.start_visit("2026-11-22");
    push_docs(store.as_ref(), tenant, &mut dev, &[id]).await;

    let compactor = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut compacted = 0;
            for _ in 0..15 {
                if let CompactionOutcome::Compacted { .. } =
                    compact(store.as_ref(), tenant, id).await.unwrap()
                {
                    compacted += 1;
                }
                tokio::task::yield_now().await;
            }
            compacted
        })
    };
    for i in 0..15 {
        dev.edit(id, &format!("c{i}"));
        let outcome = push_docs(store.as_ref(), tenant, &mut dev, &[id]).await;
        assert_eq!(outcome, vec![PushResult::stored(1)]);
    }
    let compacted = compactor.await.unwrap();
    assert!(compacted > 0, "some compactions ran");
    compact(store.as_ref(), tenant, id).await.unwrap();

    let server = server_doc(store.as_ref(), tenant, id).await;
    assert_eq!(server.get_heads(), dev.heads(id));
    for change in dev.changes(id) {
        let hash = Change::from_bytes(change).unwrap().hash();
        assert!(
            server.get_change_meta_by_hash(&hash).is_some(),
            "change {hash} survived"
        );
    }
}

/// Writers of one tenant commit concurrently while a reader follows the feed: the reader must
/// see seqs appear without gaps (a seq visible before a smaller one that commits later would be
/// skipped by every puller past it).
pub async fn concurrent_pushes_keep_the_feed_in_commit_order<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore + 'static,
>(
    store: Arc<S>,
    tenant: TenantId,
) {
    const WRITERS: usize = 4;
    const PUSHES: usize = 12;
    let start = store
        .feed_after(tenant, 0, 100_000)
        .await
        .unwrap()
        .last()
        .map_or(0, |e| e.seq);
    // Prepare every push up front (Automerge work off the clock), 1 or 2 documents each.
    let mut total = 0;
    let mut plans = Vec::new();
    for w in 0..WRITERS {
        let mut dev = Device::new();
        let mut commits = Vec::new();
        for p in 0..PUSHES {
            let docs: Vec<DocumentWrite> = (0..1 + (w + p) % 2)
                .map(|_| {
                    let id = dev.start_visit("2026-11-22");
                    visit_write(id, ExpectedVersion::New, &dev.changes(id))
                })
                .collect();
            total += docs.len();
            commits.push(commit_of(tenant, dev.id, docs));
        }
        plans.push(commits);
    }

    let reader = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut last = start;
            let mut seen = 0;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while seen < total {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the feed stalled at {last}"
                );
                for entry in store.feed_after(tenant, last, 1000).await.unwrap() {
                    assert_eq!(
                        entry.seq,
                        last + 1,
                        "seq {} became visible before seq {}",
                        entry.seq,
                        last + 1
                    );
                    last = entry.seq;
                    seen += 1;
                }
                tokio::task::yield_now().await;
            }
            seen
        })
    };
    let writers: Vec<_> = plans
        .into_iter()
        .map(|commits| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for commit in commits {
                    let outcome = store.commit_push(commit).await.unwrap();
                    assert!(
                        matches!(outcome, CommitOutcome::Committed(_)),
                        "{outcome:?}"
                    );
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(reader.await.unwrap(), total);
}

pub async fn projections_filter_and_page<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore + DeliveryStore,
>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    let store_a = StoreId::new_random();
    let person = UserId::new_random();
    let device = DeviceId::new_random();
    let mut writes = Vec::new();
    let mut ids = Vec::new();
    for day in 1..=6 {
        let id = DocId::new_random();
        ids.push(id);
        writes.push(DocumentWrite {
            doc_id: id,
            kind: DocKind::Order,
            expected: ExpectedVersion::New,
            changes: vec![NewChange {
                hash: [day as u8; 32],
                bytes: vec![day as u8],
                origin: ChangeOrigin::Device,
            }],
            projection: Projection::Order(OrderProjection {
                store_id: if day % 2 == 0 {
                    store_a
                } else {
                    StoreId::new_random()
                },
                person_id: person,
                order_date: Date::parse(&format!("2026-03-{day:02}")).unwrap(),
                status: if day <= 3 { "draft" } else { "submitted" },
                number: format!("R001-26030{day}-K7QD-01"),
                amount: fieldsync_shared::Money(100 * day as i64),
                units: day as i64,
                requested_delivery: Date::parse(&format!("2026-03-{:02}", day + 2)).unwrap(),
                // Day 4's on its requested day, day 5's two days late, day 6's not recorded.
                delivered_on: match day {
                    4 => Some(Date::parse("2026-03-06").unwrap()),
                    5 => Some(Date::parse("2026-03-09").unwrap()),
                    _ => None,
                },
                document_json: format!("{{\"day\":{day}}}"),
            }),
            heads: Vec::new(),
        });
    }
    let outcome = store
        .commit_push(commit_of(tenant, device, writes))
        .await
        .unwrap();
    assert!(matches!(outcome, CommitOutcome::Committed(_)));

    // The monthly report's on-time delivery, counted from the projection: the submitted
    // orders due 2026-03-04..=08 (days 4, 5, 6; day 2's, due on the 4th, is a draft).
    let counts = store
        .delivery_counts(
            tenant,
            &[person, UserId::new_random()],
            Date::parse("2026-03-04").unwrap(),
            Date::parse("2026-03-08").unwrap(),
            &["submitted", "approved"],
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        vec![DeliveryCount {
            person_id: person,
            due: 3,
            on_time: 1,
            late: 1
        }]
    );
    let elsewhere = store
        .delivery_counts(
            other,
            &[person],
            Date::parse("2026-03-01").unwrap(),
            Date::parse("2026-03-31").unwrap(),
            &["submitted", "draft"],
        )
        .await
        .unwrap();
    assert_eq!(elsewhere, vec![], "another tenant's");

    let list = |filter: ProjectionFilter| async move {
        store
            .list_projected(tenant, DocKind::Order, &filter)
            .await
            .unwrap()
    };
    let all = list(ProjectionFilter {
        person_id: Some(person),
        limit: 100,
        ..Default::default()
    })
    .await;
    let days: Vec<String> = all.iter().map(|r| r.date.to_string()).collect();
    assert_eq!(
        days,
        [
            "2026-03-06",
            "2026-03-05",
            "2026-03-04",
            "2026-03-03",
            "2026-03-02",
            "2026-03-01"
        ]
    );

    let by_store = list(ProjectionFilter {
        store_id: Some(store_a),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(by_store.len(), 3);
    let ranged = list(ProjectionFilter {
        person_id: Some(person),
        from: Some(Date::parse("2026-03-02").unwrap()),
        to: Some(Date::parse("2026-03-04").unwrap()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(ranged.len(), 3, "date bounds are inclusive");
    let submitted = list(ProjectionFilter {
        person_id: Some(person),
        status: Some("submitted"),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(submitted.len(), 3);

    // Keyset pages of 4 then 2 cover everything once.
    let first = list(ProjectionFilter {
        person_id: Some(person),
        limit: 4,
        ..Default::default()
    })
    .await;
    assert_eq!(first.len(), 4);
    let after: Option<ProjectionKey> = first.last().map(|r| r.key());
    let second = list(ProjectionFilter {
        person_id: Some(person),
        limit: 4,
        after,
        ..Default::default()
    })
    .await;
    let mut seen: Vec<DocId> = first
        .iter()
        .chain(second.iter())
        .map(|r| r.doc_id)
        .collect();
    seen.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected);

    let none = store
        .list_projected(
            other,
            DocKind::Order,
            &ProjectionFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(none.is_empty(), "another tenant sees nothing");
    assert!(store
        .list_projected(
            tenant,
            DocKind::Visit,
            &ProjectionFilter {
                person_id: Some(person),
                limit: 100,
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_empty());
}

/// Keyset pages of the listing, two rows a page, over orders of which five share one day: every
/// order exactly once, newest day first and by id descending within a day, with and without a
/// person filter (which picks another index).
pub async fn projection_pages_over_one_day_never_skip_or_repeat<S: DocumentStore>(
    store: &S,
    tenant: TenantId,
) {
    let person = UserId::new_random();
    let device = DeviceId::new_random();
    let mut expected = Vec::new();
    let mut writes = Vec::new();
    for (n, day) in [
        "2026-04-02",
        "2026-04-02",
        "2026-04-01",
        "2026-04-02",
        "2026-04-03",
        "2026-04-02",
        "2026-04-02",
    ]
    .into_iter()
    .enumerate()
    {
        let id = DocId::new_random();
        let date = Date::parse(day).unwrap();
        expected.push((date, id));
        writes.push(DocumentWrite {
            doc_id: id,
            kind: DocKind::Order,
            expected: ExpectedVersion::New,
            changes: vec![NewChange {
                hash: [n as u8 + 100; 32],
                bytes: vec![n as u8],
                origin: ChangeOrigin::Device,
            }],
            projection: Projection::Order(OrderProjection {
                store_id: StoreId::new_random(),
                person_id: person,
                order_date: date,
                status: "submitted",
                number: format!("R001-260402-PAGE-0{n}"),
                amount: fieldsync_shared::Money(100),
                units: 1,
                requested_delivery: date,
                delivered_on: None,
                document_json: "{}".to_owned(),
            }),
            heads: Vec::new(),
        });
    }
    let outcome = store
        .commit_push(commit_of(tenant, device, writes))
        .await
        .unwrap();
    assert!(matches!(outcome, CommitOutcome::Committed(_)));
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<DocId> = expected.into_iter().map(|(_, id)| id).collect();

    for person_id in [None, Some(person)] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .list_projected(
                    tenant,
                    DocKind::Order,
                    &ProjectionFilter {
                        person_id,
                        after,
                        limit: 2,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert!(page.len() <= 2);
            seen.extend(page.iter().map(|r| r.doc_id));
            match page.last() {
                Some(last) if page.len() == 2 => after = Some(last.key()),
                _ => break,
            }
        }
        assert_eq!(seen, expected, "person filter {person_id:?}");
    }
}

/// A server change (compensation) written with a device's push is stored under the nil device,
/// so the pull of that device, which skips its own changes, still delivers it.
pub async fn server_changes_reach_the_pushing_device<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore,
>(
    store: &S,
    tenant: TenantId,
) {
    let mut dev = Device::new();
    let id = dev.start_visit("2026-11-22");
    let created = dev.changes(id);
    dev.edit(id, "late");
    let edited = dev.changes(id);
    let mut write = visit_write(id, ExpectedVersion::New, &edited);
    // Stands in for the server's compensation: any change the device did not send.
    let mut server_doc = new_document(fieldsync_shared::document::server_actor());
    server_doc
        .apply_changes(
            created
                .iter()
                .map(|b| Change::from_bytes(b.clone()).unwrap()),
        )
        .unwrap();
    let mut visit = hydrate_visit(&server_doc).unwrap();
    visit.status = VisitStatus::Rejected;
    reconcile_visit(&mut server_doc, &visit).unwrap();
    let server_hash = server_doc.commit().unwrap();
    let server_change = server_doc.get_change_by_hash(&server_hash).unwrap();
    write.changes.push(NewChange {
        hash: server_hash.0,
        bytes: server_change.raw_bytes().to_vec(),
        origin: ChangeOrigin::Server,
    });
    write.heads = vec![server_hash.0];
    let outcome = store
        .commit_push(commit_of(tenant, dev.id, vec![write]))
        .await
        .unwrap();
    assert!(
        matches!(outcome, CommitOutcome::Committed(_)),
        "{outcome:?}"
    );

    // The pushing device gets exactly the server's change back; another device gets all.
    let mine = store
        .pull_data(tenant, id, 0, Some(dev.id))
        .await
        .unwrap()
        .expect("document");
    assert_eq!(
        mine.data,
        PullData::Changes(vec![server_change.raw_bytes().to_vec()])
    );
    // The heads are stored with the write, for the pull's receipt.
    assert_eq!(mine.heads, vec![server_change.hash().0]);
    let theirs = store
        .pull_data(tenant, id, 0, Some(DeviceId::new_random()))
        .await
        .unwrap()
        .expect("document")
        .data
        .into_parts();
    assert_eq!(theirs.len(), edited.len() + 1);
}

pub async fn push_refuses_another_tenants_document<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore,
>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    let mut dev = Device::new();
    let id = dev.start_visit("2026-11-22");
    push_docs(store, tenant, &mut dev, &[id]).await;
    dev.edit(id, "intruder");
    let outcome = push_docs(store, other, &mut dev, &[id]).await;
    assert!(
        matches!(&outcome[0], PushResult::Refused { reason, .. } if reason == "document_unavailable"),
        "{outcome:?}"
    );
    assert_eq!(
        load_found(store, tenant, id).await.changes.len(),
        1,
        "nothing stored"
    );
}

/// Each stored change records when the server stored it, within the push that sent it; a
/// replayed change keeps its first time; another tenant reads none. Returns the document.
pub async fn changes_record_when_the_server_stored_them<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore,
>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) -> DocId {
    let mut dev = Device::new();
    let id = dev.start_visit("2026-11-22");
    let before = Timestamp::now();
    push_docs(store, tenant, &mut dev, &[id]).await;
    let after_first = Timestamp::now();
    dev.edit(id, "second");
    // The whole history again: the first change is a replay, only the edit is stored.
    push_docs(store, tenant, &mut dev, &[id]).await;
    let after_second = Timestamp::now();

    let receipts = store.change_receipts(tenant, id).await.unwrap();
    let hashes: Vec<[u8; 32]> = receipts.iter().map(|r| r.hash).collect();
    let sent: Vec<[u8; 32]> = dev
        .changes(id)
        .into_iter()
        .map(|b| Change::from_bytes(b).unwrap().hash().0)
        .collect();
    assert_eq!(hashes, sent, "one receipt per change, in storage order");
    let first = receipts[0].received_at.expect("first change: received_at");
    let second = receipts[1].received_at.expect("second change: received_at");
    assert!(
        before <= first && first <= after_first,
        "{before:?} <= {first:?} <= {after_first:?}"
    );
    assert!(
        after_first <= second && second <= after_second,
        "the replay kept the first time; the edit has its own"
    );
    assert!(
        store.change_receipts(other, id).await.unwrap().is_empty(),
        "another tenant's document"
    );
    assert!(store
        .change_receipts(tenant, DocId::new_random())
        .await
        .unwrap()
        .is_empty());
    id
}

/// After [`changes_record_when_the_server_stored_them`] and the document's `received_at`
/// cleared with SQL (as for changes stored before migration 0007): the changes are still
/// listed, their receive time unknown.
pub async fn changes_stored_before_receive_times_have_none<
    S: DocumentStore + DirectoryStore + VerdictStore + ExpenseStore,
>(
    store: &S,
    tenant: TenantId,
    id: DocId,
) {
    let receipts = store.change_receipts(tenant, id).await.unwrap();
    assert_eq!(receipts.len(), 2);
    assert!(
        receipts.iter().all(|r| r.received_at.is_none()),
        "{receipts:?}"
    );
}

/// Receive times on each engine; rows from before migration 0007 are made with SQL.
mod change_receipts {
    const FORGET: &str = "UPDATE doc_changes SET received_at = NULL WHERE doc_id = $1";

    #[tokio::test]
    async fn sqlite() {
        let f = crate::support::sqlite().await;
        let id =
            super::changes_record_when_the_server_stored_them(&f.store, f.tenant, f.other).await;
        sqlx::query(FORGET)
            .bind(id.to_string())
            .execute(f.store.pool())
            .await
            .unwrap();
        super::changes_stored_before_receive_times_have_none(&f.store, f.tenant, id).await;
        f.finish().await;
    }

    #[tokio::test]
    async fn postgres() {
        let f = crate::support::postgres().await;
        let id =
            super::changes_record_when_the_server_stored_them(&f.store, f.tenant, f.other).await;
        sqlx::query(FORGET)
            .bind(id.to_string())
            .execute(f.store.pool())
            .await
            .unwrap();
        super::changes_stored_before_receive_times_have_none(&f.store, f.tenant, id).await;
        f.finish().await;
    }
}

// ---------------------------------------------------------------------------------------------
// The suite on every engine: `sqlite::<test>` and `postgres::<test>`.

/// Competitor sightings are projected with their visit and counted per store and week of the
/// visit's planned date (docs/competitors.md); an edit of the visit replaces its rows.
async fn competitor_sightings_are_counted_per_store_and_week<S: Store>(
    store: &S,
    tenant: TenantId,
) {
    use fieldsync_server::store::competitors::WeeklySightings;
    use fieldsync_shared::visit::competitors::sighting_from;
    use fieldsync_shared::visit::{SightingId, SightingInput};

    let mut device = Device::new();
    let (owner, shop, elsewhere) = (
        UserId::new_random(),
        StoreId::new_random(),
        StoreId::new_random(),
    );
    // A Monday, the Sunday of that week, the next Monday; and another store that week.
    let monday = device.start_visit_at("2026-12-07", shop, owner);
    let sunday = device.start_visit_at("2026-12-13", shop, owner);
    let next = device.start_visit_at("2026-12-14", shop, owner);
    let other = device.start_visit_at("2026-12-08", elsewhere, owner);
    let mut add = |id: DocId, promotion: Option<&str>, display: Option<&str>| {
        let doc = device.docs.get_mut(&id).unwrap();
        let mut visit = hydrate_visit(doc).unwrap();
        let input = SightingInput {
            competitor: "PepsiCo".into(),
            promotion: promotion.map(Into::into),
            display: display.map(Into::into),
            ..Default::default()
        };
        let s = sighting_from(
            &visit,
            &input,
            SightingId::new_random(),
            owner,
            "rep",
            Timestamp(1),
        )
        .unwrap();
        let key = s.id;
        visit.put_competitor_sighting(s).unwrap();
        reconcile_visit(doc, &visit).unwrap();
        doc.commit();
        key
    };
    let first = add(monday, Some("buy 2 get 1"), Some("endcap"));
    add(monday, None, None);
    add(sunday, None, Some("floor_stand"));
    add(next, None, None);
    add(other, None, None);
    let ids = [monday, sunday, next, other];
    for r in push_docs(store, tenant, &mut device, &ids).await {
        assert!(matches!(r, PushResult::Stored { .. }), "{r:?}");
    }
    let week = |d: &str| Date::parse(d).unwrap();
    let counts =
        |shop: StoreId, week_start: &str, n: u64, promotion: u64, display: u64| WeeklySightings {
            store_id: shop,
            week_start: week(week_start),
            sightings: n,
            with_promotion: promotion,
            with_display: display,
        };
    assert_eq!(
        store
            .weekly_sightings(tenant, &[shop], week("2026-12-07"), week("2026-12-14"))
            .await
            .unwrap(),
        [
            counts(shop, "2026-12-07", 3, 1, 2),
            counts(shop, "2026-12-14", 1, 0, 0)
        ]
    );
    assert_eq!(
        store
            .weekly_sightings(tenant, &[elsewhere], week("2026-12-07"), week("2026-12-07"))
            .await
            .unwrap(),
        [counts(elsewhere, "2026-12-07", 1, 0, 0)]
    );

    // The sighting with the promotion is removed: the visit's rows are replaced.
    let doc = device.docs.get_mut(&monday).unwrap();
    let mut visit = hydrate_visit(doc).unwrap();
    visit.remove_competitor_sighting(first, owner).unwrap();
    reconcile_visit(doc, &visit).unwrap();
    doc.commit();
    let r = push_docs(store, tenant, &mut device, &[monday]).await;
    assert!(matches!(r[0], PushResult::Stored { .. }), "{r:?}");
    assert_eq!(
        store
            .weekly_sightings(tenant, &[shop], week("2026-12-07"), week("2026-12-07"))
            .await
            .unwrap(),
        [counts(shop, "2026-12-07", 2, 0, 1)]
    );
}

macro_rules! store_suite {
    ($engine:ident) => {
        mod $engine {
            use std::sync::Arc;

            async fn fixture() -> crate::support::Fixture<
                impl crate::support::TestStore + super::Store + Clone + 'static,
            > {
                crate::support::$engine().await
            }

            #[tokio::test]
            async fn competitor_sightings_are_counted_per_store_and_week() {
                let f = fixture().await;
                super::competitor_sightings_are_counted_per_store_and_week(&f.store, f.tenant)
                    .await;
                f.finish().await;
            }

            #[tokio::test]
            async fn commit_and_load_round_trip() {
                let f = fixture().await;
                super::commit_and_load_round_trip(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn each_write_gets_its_own_feed_seq() {
                let f = fixture().await;
                super::each_write_gets_its_own_feed_seq(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn replay_stores_nothing_and_appends_no_feed_entry() {
                let f = fixture().await;
                super::replay_stores_nothing_and_appends_no_feed_entry(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn version_conflict_is_detected_and_writes_nothing() {
                let f = fixture().await;
                super::version_conflict_is_detected_and_writes_nothing(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn cursor_validation() {
                let f = fixture().await;
                super::cursor_validation(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn pull_pages_never_skip_a_change() {
                let f = fixture().await;
                super::pull_pages_never_skip_a_change(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn pull_excludes_the_requesting_devices_changes() {
                let f = fixture().await;
                super::pull_excludes_the_requesting_devices_changes(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn scoped_pull_delivers_only_visible_documents() {
                let f = fixture().await;
                super::scoped_pull_delivers_only_visible_documents(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn scope_change_evicts_and_delivers() {
                let f = fixture().await;
                super::scope_change_evicts_and_delivers(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn scope_change_pages_and_survives_another_change() {
                let f = fixture().await;
                super::scope_change_pages_and_survives_another_change(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn compaction_keeps_every_change() {
                let f = fixture().await;
                super::compaction_keeps_every_change(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn compaction_during_concurrent_pushes_loses_nothing() {
                let f = fixture().await;
                super::compaction_during_concurrent_pushes_loses_nothing(
                    Arc::new(f.store.clone()),
                    f.tenant,
                )
                .await;
                f.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_pushes_keep_the_feed_in_commit_order() {
                let f = fixture().await;
                super::concurrent_pushes_keep_the_feed_in_commit_order(
                    Arc::new(f.store.clone()),
                    f.tenant,
                )
                .await;
                f.finish().await;
            }

            #[tokio::test]
            async fn projections_filter_and_page() {
                let f = fixture().await;
                super::projections_filter_and_page(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn projection_pages_over_one_day_never_skip_or_repeat() {
                let f = fixture().await;
                super::projection_pages_over_one_day_never_skip_or_repeat(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn server_changes_reach_the_pushing_device() {
                let f = fixture().await;
                super::server_changes_reach_the_pushing_device(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn push_refuses_another_tenants_document() {
                let f = fixture().await;
                super::push_refuses_another_tenants_document(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }
        }
    };
}

store_suite!(sqlite);
store_suite!(postgres);
