//! Conformance tests of [`VerdictStore`] (findings, and the reads verdicts need), generic over
//! the trait; `verdicts_suite!` at the end runs them on SQLite and PostgreSQL (the latter needs
//! `FIELDSYNC_TEST_DATABASE_URL`, which `scripts/with-postgres.sh` sets).

use std::collections::{BTreeMap, HashSet};

use automerge::Change;
use fieldsync_server::admin::csv_import::credit_recheck::changes_credit;
use fieldsync_server::store::documents::{
    ChangeOrigin, CommitOutcome, DocumentStore, DocumentWrite, ExpectedVersion, NewChange,
    Projection, PushCommit, VisitProjection,
};
use fieldsync_server::store::verdicts::{
    CreditRecheck, FindingKind, FindingOutcome, FindingRecord, FindingSource, PhotoUse,
};
use fieldsync_server::store::{DirectoryStore, StoreError, VerdictStore};
use fieldsync_shared::document::{new_document, reconcile_visit, DocKind};
use fieldsync_shared::master::{Channel, CreditSnapshot, Grade, Product, Store};
use fieldsync_shared::rules::Severity;
use fieldsync_shared::tiers::ApprovalTiers;
use fieldsync_shared::values::{
    Date, DeviceId, DocId, Money, Position, Sha256, Sku, StoreCode, StoreId, TenantId, Timestamp,
    UserId,
};
use fieldsync_shared::visit::{PhotoRef, Visit};

mod support;

fn shop() -> Store {
    Store {
        id: StoreId::new_random(),
        code: StoreCode::parse("NKA-001").unwrap(),
        name: "Walmart".into(),
        channel: Channel::Nka,
        grade: Grade::A,
        address: "1 Luoyu Rd".into(),
        location: Position::new(30.5, 114.2).unwrap(),
        geofence_radius_m: 200,
        delivery_lead_days: 3,
        monthly_potential: None,
        chain: None,
    }
}

fn product(sku: &str) -> Product {
    Product {
        sku: Sku::parse(sku).unwrap(),
        name: sku.into(),
        case_pack: 24,
        sold_by_case: true,
        shelf_life_days: 360,
        list_price: Money(300),
        floor_price: Money(255),
    }
}

fn finding(doc_id: DocId, code: &str, outcome: FindingOutcome) -> FindingRecord {
    FindingRecord {
        doc_id,
        doc_kind: DocKind::Order,
        doc_heads: vec!["ab".repeat(32)],
        kind: FindingKind::RuleVerdict,
        source: FindingSource::ServerData,
        rule: "credit".into(),
        rule_version: 1,
        severity: Severity::Block,
        code: code.into(),
        message: "the store has 100.00 overdue".into(),
        field: Some("lines.COLA-330.quantity".into()),
        inputs: BTreeMap::from([("overdue".to_string(), serde_json::json!("100.00"))]),
        data_version: Some(7),
        outcome,
        created_at: Timestamp(1_795_000_000_000),
    }
}

async fn rule_data_reads_rows_with_their_versions<S: DirectoryStore + VerdictStore>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    let s = shop();
    let v_store = store
        .upsert_stores(tenant, std::slice::from_ref(&s))
        .await
        .unwrap();
    let v_products = store
        .upsert_products(tenant, &[product("COLA-330"), product("TEA-500")])
        .await
        .unwrap();
    let snap = CreditSnapshot {
        store_id: s.id,
        credit_limit: Money(100_000),
        receivables: Money(5_000),
        overdue: Money(10_000),
        as_of: Date::parse("2026-11-20").unwrap(),
    };
    let v_credit = store
        .upsert_credit(tenant, std::slice::from_ref(&snap))
        .await
        .unwrap();
    let skus = [
        Sku::parse("COLA-330").unwrap(),
        Sku::parse("NOPE-1").unwrap(),
    ];
    let data = store.rule_data(tenant, s.id, &skus).await.unwrap();
    assert_eq!(data.master_version, v_credit);
    let got_store = data.store.expect("the store");
    assert_eq!((got_store.value, got_store.version), (s.clone(), v_store));
    assert_eq!(
        data.products.len(),
        1,
        "only the products asked for that exist"
    );
    assert_eq!(data.products[0].value, product("COLA-330"));
    assert_eq!(data.products[0].version, v_products);
    assert_eq!(data.approval, None, "no tiers set: the defaults");
    let credit = data.credit.expect("the credit snapshot");
    assert_eq!((credit.value, credit.version), (snap, v_credit));

    let mut tiers = ApprovalTiers::default();
    tiers.discount_bp.manager = Some(2500);
    let v_tiers = store.set_approval_tiers(tenant, &tiers).await.unwrap();
    let data = store.rule_data(tenant, s.id, &skus).await.unwrap();
    let approval = data.approval.as_ref().expect("the tenant's tiers");
    assert_eq!((approval.value, approval.version), (tiers, v_tiers));
    assert_eq!((data.tiers(), data.master_version), (tiers, v_tiers));

    // Another tenant sees none of it.
    let theirs = store.rule_data(other, s.id, &skus).await.unwrap();
    assert!(theirs.store.is_none() && theirs.products.is_empty() && theirs.credit.is_none());
    assert_eq!(theirs.approval, None);
}

async fn findings_are_per_document_and_flagged_by_code<S: VerdictStore>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    let (a, b, c) = (
        DocId::new_random(),
        DocId::new_random(),
        DocId::new_random(),
    );
    let rows = [
        finding(a, "overdue_receivables", FindingOutcome::Held),
        finding(a, "overdue_receivables", FindingOutcome::Noted),
        finding(b, "price_below_floor", FindingOutcome::Flagged),
        finding(c, "discount_beyond_authority", FindingOutcome::Noted),
    ];
    store.insert_findings(tenant, &rows).await.unwrap();
    store.insert_findings(tenant, &[]).await.unwrap();

    assert_eq!(store.findings_of(tenant, &[a]).await.unwrap(), rows[..2]);
    assert_eq!(store.findings_of(tenant, &[a, b, c]).await.unwrap(), rows);
    assert!(store.findings_of(other, &[a]).await.unwrap().is_empty());
    assert!(store.findings_of(tenant, &[]).await.unwrap().is_empty());

    let all = [a, b, c];
    assert_eq!(
        store.flagged_among(tenant, &all, None).await.unwrap(),
        HashSet::from([a, b]),
        "noted findings do not flag"
    );
    assert_eq!(
        store
            .flagged_among(tenant, &all, Some("price_below_floor"))
            .await
            .unwrap(),
        HashSet::from([b])
    );
    assert!(store
        .flagged_among(tenant, &all, Some("discount_beyond_authority"))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .flagged_among(other, &all, None)
        .await
        .unwrap()
        .is_empty());
}

/// A push creating one visit, with `findings` on it.
fn push_creating_a_visit(tenant: TenantId, findings: Vec<FindingRecord>) -> PushCommit {
    let id = findings[0].doc_id;
    let date = Date::parse("2026-11-22").unwrap();
    let visit = Visit::new(id, StoreId::new_random(), UserId::new_random(), date);
    push_creating(tenant, &visit, findings)
}

/// A push creating `visit` (its projection's JSON is the visit's), with `findings` on it.
fn push_creating(tenant: TenantId, visit: &Visit, findings: Vec<FindingRecord>) -> PushCommit {
    let (id, date) = (visit.id, visit.planned_date);
    let mut doc = new_document(automerge::ActorId::random());
    reconcile_visit(&mut doc, visit).unwrap();
    doc.commit();
    let bytes = doc.save();
    let changes = automerge::Automerge::load(&bytes)
        .unwrap()
        .get_changes(&[])
        .into_iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect::<Vec<_>>();
    PushCommit {
        tenant_id: tenant,
        device_id: DeviceId::new_random(),
        user_id: visit.person_id,
        at: Timestamp(1_795_000_000_000),
        documents: vec![DocumentWrite {
            doc_id: id,
            kind: DocKind::Visit,
            expected: ExpectedVersion::New,
            changes: changes
                .iter()
                .map(|b| NewChange {
                    hash: Change::from_bytes(b.clone()).unwrap().hash().0,
                    bytes: b.clone(),
                    origin: ChangeOrigin::Device,
                })
                .collect(),
            projection: Projection::Visit(VisitProjection {
                store_id: visit.store_id,
                person_id: visit.person_id,
                planned_date: date,
                status: "planned",
                document_json: serde_json::to_string(visit).unwrap(),
            }),
            heads: Vec::new(),
        }],
        findings,
    }
}

/// A push's findings are written in the push's own transaction: stored with its documents, and
/// gone with them when the push is rolled back (a version conflict).
async fn findings_commit_with_their_push<S: DocumentStore + VerdictStore>(
    store: &S,
    tenant: TenantId,
) {
    let id = DocId::new_random();
    let mut held = finding(id, "photos_missing", FindingOutcome::Held);
    held.doc_kind = DocKind::Visit;
    let outcome = store
        .commit_push(push_creating_a_visit(tenant, vec![held.clone()]))
        .await
        .unwrap();
    assert!(
        matches!(outcome, CommitOutcome::Committed(_)),
        "{outcome:?}"
    );
    assert_eq!(
        store.findings_of(tenant, &[id]).await.unwrap(),
        [held.clone()]
    );

    // The same creation again conflicts: nothing of it is written, its findings neither.
    let mut again = held.clone();
    again.code = "step_missing".into();
    let outcome = store
        .commit_push(push_creating_a_visit(tenant, vec![again]))
        .await
        .unwrap();
    assert_eq!(outcome, CommitOutcome::VersionConflict(vec![id]));
    assert_eq!(store.findings_of(tenant, &[id]).await.unwrap(), [held]);
}

/// The other visits of a visit's photos and of its person, from the projections.
async fn photo_uses_and_person_visits_read_the_projections<S: DocumentStore + VerdictStore>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    let person = UserId::new_random();
    let date = Date::parse("2026-11-22").unwrap();
    let mut visit = Visit::new(DocId::new_random(), StoreId::new_random(), person, date);
    let sha = Sha256::digest(b"shelf");
    visit.photos.insert(
        sha.to_hex(),
        PhotoRef {
            sha256: sha,
            size_bytes: 5,
            content_type: "image/jpeg".into(),
            step: None,
            taken_at: Timestamp(1_795_000_000_000),
            taken_by: person,
            position: None,
            capture: None,
        },
    );
    let outcome = store
        .commit_push(push_creating(tenant, &visit, Vec::new()))
        .await
        .unwrap();
    assert!(
        matches!(outcome, CommitOutcome::Committed(_)),
        "{outcome:?}"
    );

    let later = DocId::new_random();
    let uses = store.photo_uses(tenant, &[sha], later).await.unwrap();
    assert_eq!(
        uses,
        [PhotoUse {
            sha256: sha,
            visit: visit.id,
            store_id: visit.store_id,
            person_id: person,
            date,
        }]
    );
    assert!(store
        .photo_uses(tenant, &[sha], visit.id)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .photo_uses(other, &[sha], later)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .photo_uses(tenant, &[], later)
        .await
        .unwrap()
        .is_empty());

    let around = |from: &str, to: &str, except| {
        store.person_visits(
            tenant,
            person,
            Date::parse(from).unwrap(),
            Date::parse(to).unwrap(),
            except,
        )
    };
    let found = around("2026-11-21", "2026-11-23", later).await.unwrap();
    assert_eq!(found.len(), 1);
    let read: Visit = serde_json::from_str(&found[0]).unwrap();
    assert_eq!(read.id, visit.id);
    assert!(around("2026-11-23", "2026-11-24", later)
        .await
        .unwrap()
        .is_empty());
    assert!(around("2026-11-21", "2026-11-23", visit.id)
        .await
        .unwrap()
        .is_empty());
}

/// A credit import's queue: one waiting row per customer, each taken by one caller, taken
/// again after the lease unless finished.
async fn credit_rechecks_are_queued_once_and_taken_once<S: VerdictStore>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    let (a, b) = (StoreId::new_random(), StoreId::new_random());
    let pairs = |taken: Vec<CreditRecheck>| -> Vec<(TenantId, StoreId)> {
        taken.iter().map(|r| (r.tenant_id, r.store_id)).collect()
    };
    store
        .enqueue_credit_rechecks(tenant, &[a, b], Timestamp(1_000))
        .await
        .unwrap();
    // Already waiting: not queued twice.
    store
        .enqueue_credit_rechecks(tenant, &[a], Timestamp(2_000))
        .await
        .unwrap();
    store
        .enqueue_credit_rechecks(other, &[a], Timestamp(2_000))
        .await
        .unwrap();

    let first = store
        .claim_credit_rechecks(Timestamp(10_000), Timestamp(9_000), 2)
        .await
        .unwrap();
    assert_eq!(pairs(first.clone()), [(tenant, a), (tenant, b)]);
    let next = store
        .claim_credit_rechecks(Timestamp(10_001), Timestamp(9_001), 10)
        .await
        .unwrap();
    assert_eq!(
        pairs(next.clone()),
        [(other, a)],
        "taken ones are not taken twice"
    );
    store.finish_credit_recheck(first[0].id).await.unwrap();
    store.finish_credit_recheck(next[0].id).await.unwrap();
    assert!(store
        .claim_credit_rechecks(Timestamp(10_002), Timestamp(9_002), 10)
        .await
        .unwrap()
        .is_empty());
    // Past its lease, the unfinished one is taken again.
    let again = store
        .claim_credit_rechecks(Timestamp(20_000), Timestamp(15_000), 10)
        .await
        .unwrap();
    assert_eq!(pairs(again), [(tenant, b)]);
}

/// A credit import queues the re-checks of the customers whose credit it changes in the
/// transaction that stores the snapshots: both are stored, or neither.
async fn a_credit_import_queues_its_rechecks_with_its_snapshots<
    S: DirectoryStore + VerdictStore,
>(
    store: &S,
    tenant: TenantId,
) {
    let (s, t) = (shop(), StoreId::new_random());
    store
        .upsert_stores(tenant, std::slice::from_ref(&s))
        .await
        .unwrap();
    let snapshot = |overdue: i64, as_of: &str| CreditSnapshot {
        store_id: s.id,
        credit_limit: Money(100_000),
        receivables: Money(20_000),
        overdue: Money(overdue),
        as_of: Date::parse(as_of).unwrap(),
    };
    let mut clock = 0;
    let mut queued = || {
        clock += 10_000;
        async move {
            let taken = store
                .claim_credit_rechecks(Timestamp(clock), Timestamp(0), 10)
                .await
                .unwrap();
            for r in &taken {
                store.finish_credit_recheck(r.id).await.unwrap();
            }
            taken.iter().map(|r| r.store_id).collect::<Vec<_>>()
        }
    };
    let import = |rows: Vec<CreditSnapshot>| async move {
        store
            .import_credit(tenant, &rows, changes_credit, Timestamp(1))
            .await
    };
    // A first snapshot changes the credit; a new date alone does not.
    import(vec![snapshot(0, "2026-11-20")]).await.unwrap();
    assert_eq!(queued().await, [s.id]);
    import(vec![snapshot(0, "2026-11-21")]).await.unwrap();
    assert!(queued().await.is_empty());
    // On hold, in an import that fails (a store of no one's): neither the snapshot nor its
    // re-check is stored.
    let mut unknown = snapshot(0, "2026-11-22");
    unknown.store_id = t;
    let failed = import(vec![snapshot(5_000, "2026-11-22"), unknown]).await;
    assert!(matches!(failed, Err(StoreError::NotFound(_))), "{failed:?}");
    let data = store.rule_data(tenant, s.id, &[]).await.unwrap();
    assert_eq!(data.credit.unwrap().value, snapshot(0, "2026-11-21"));
    assert!(queued().await.is_empty());
    // The same import without the stranger: both.
    import(vec![snapshot(5_000, "2026-11-22")]).await.unwrap();
    let data = store.rule_data(tenant, s.id, &[]).await.unwrap();
    assert_eq!(data.credit.unwrap().value, snapshot(5_000, "2026-11-22"));
    assert_eq!(queued().await, [s.id]);
    // A plain upsert (not an import) queues nothing.
    store
        .upsert_credit(tenant, &[snapshot(0, "2026-11-23")])
        .await
        .unwrap();
    assert!(queued().await.is_empty());
}

macro_rules! verdicts_suite {
    ($engine:ident) => {
        mod $engine {
            async fn fixture() -> crate::support::Fixture<
                impl crate::support::TestStore
                    + super::DirectoryStore
                    + super::DocumentStore
                    + super::VerdictStore,
            > {
                crate::support::$engine().await
            }

            #[tokio::test]
            async fn rule_data_reads_rows_with_their_versions() {
                let f = fixture().await;
                super::rule_data_reads_rows_with_their_versions(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn photo_uses_and_person_visits_read_the_projections() {
                let f = fixture().await;
                super::photo_uses_and_person_visits_read_the_projections(
                    &f.store, f.tenant, f.other,
                )
                .await;
                f.finish().await;
            }

            #[tokio::test]
            async fn credit_rechecks_are_queued_once_and_taken_once() {
                let f = fixture().await;
                super::credit_rechecks_are_queued_once_and_taken_once(&f.store, f.tenant, f.other)
                    .await;
                f.finish().await;
            }

            #[tokio::test]
            async fn a_credit_import_queues_its_rechecks_with_its_snapshots() {
                let f = fixture().await;
                super::a_credit_import_queues_its_rechecks_with_its_snapshots(&f.store, f.tenant)
                    .await;
                f.finish().await;
            }

            #[tokio::test]
            async fn findings_commit_with_their_push() {
                let f = fixture().await;
                super::findings_commit_with_their_push(&f.store, f.tenant).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn findings_are_per_document_and_flagged_by_code() {
                let f = fixture().await;
                super::findings_are_per_document_and_flagged_by_code(&f.store, f.tenant, f.other)
                    .await;
                f.finish().await;
            }
        }
    };
}

verdicts_suite!(sqlite);
verdicts_suite!(postgres);
