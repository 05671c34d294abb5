//! Conformance tests of [`VerdictStore`] (findings, and the reads verdicts need), generic over
//! the trait; `verdicts_suite!` at the end runs them on SQLite and PostgreSQL (the latter needs
//! `FIELDSYNC_TEST_DATABASE_URL`, which `scripts/with-postgres.sh` sets).

use std::collections::{BTreeMap, HashSet};

use fieldsync_server::store::verdicts::{
    FindingKind, FindingOutcome, FindingRecord, FindingSource,
};
use fieldsync_server::store::{DirectoryStore, VerdictStore};
use fieldsync_shared::document::DocKind;
use fieldsync_shared::master::{Channel, CreditSnapshot, Grade, Product, Store};
use fieldsync_shared::rules::Severity;
use fieldsync_shared::values::{
    Date, DocId, Money, Position, Sku, StoreCode, StoreId, TenantId, Timestamp,
};

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
    let credit = data.credit.expect("the credit snapshot");
    assert_eq!((credit.value, credit.version), (snap, v_credit));

    // Another tenant sees none of it.
    let theirs = store.rule_data(other, s.id, &skus).await.unwrap();
    assert!(theirs.store.is_none() && theirs.products.is_empty() && theirs.credit.is_none());
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

macro_rules! verdicts_suite {
    ($engine:ident) => {
        mod $engine {
            async fn fixture() -> crate::support::Fixture<
                impl crate::support::TestStore + super::DirectoryStore + super::VerdictStore,
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
