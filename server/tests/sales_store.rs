//! Conformance tests of [`SalesStore`] (what the monthly report reads), generic over the
//! trait; `sales_suite!` at the end runs them on SQLite and PostgreSQL (the latter needs
//! `FIELDSYNC_TEST_DATABASE_URL`, which `scripts/with-postgres.sh` sets). The orders are
//! written straight into the `orders` projection, so that a row can hold what only an order
//! projected before migration 0021 holds (no kept amount and units).

use fieldsync_server::store::postgres::PgStore;
use fieldsync_server::store::sales::{PersonSales, StoreCounts};
use fieldsync_server::store::sqlite::SqliteStore;
use fieldsync_server::store::SalesStore;
use fieldsync_shared::document::DocKind;
use fieldsync_shared::rules::sales::SALE_STATUSES;
use fieldsync_shared::values::{Date, StoreId, TenantId, UserId};
use uuid::Uuid;

mod support;

/// One row of the `orders` projection; `amount` and `units` `None`: projected before 0021.
struct Row {
    date: &'static str,
    person: u8,
    store: u8,
    status: &'static str,
    amount: Option<i64>,
    units: Option<i64>,
}

fn uid(n: u8) -> UserId {
    UserId(Uuid::from_bytes([n; 16]))
}
fn sid(n: u8) -> StoreId {
    StoreId(Uuid::from_bytes([n; 16]))
}
fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}
fn statuses() -> Vec<&'static str> {
    SALE_STATUSES.iter().map(|s| s.as_str()).collect()
}

trait RawOrders {
    /// Writes `row` (and its `documents` row) for `tenant`; its document is `{"n": n}`.
    async fn insert_order(&self, tenant: TenantId, n: usize, row: &Row);
}

macro_rules! raw_orders {
    ($store:ty) => {
        impl RawOrders for $store {
            async fn insert_order(&self, tenant: TenantId, n: usize, row: &Row) {
                let id = Uuid::new_v4().to_string();
                sqlx::query(
                    "INSERT INTO documents (id, tenant_id, kind, version, last_seq, created_at,
                                            updated_at)
                     VALUES ($1, $2, 'order', 1, 0, 0, 0)",
                )
                .bind(&id)
                .bind(tenant.to_string())
                .execute(self.pool())
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO orders (doc_id, tenant_id, store_id, person_id, order_date,
                                         status, number, updated_seq, amount, units, document)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10)",
                )
                .bind(&id)
                .bind(tenant.to_string())
                .bind(sid(row.store).to_string())
                .bind(uid(row.person).to_string())
                .bind(row.date)
                .bind(row.status)
                .bind(format!("N-{n}"))
                .bind(row.amount)
                .bind(row.units)
                .bind(format!("{{\"n\":{n}}}"))
                .execute(self.pool())
                .await
                .unwrap();
            }
        }
    };
}

raw_orders!(SqliteStore);
raw_orders!(PgStore);

const NEAR_MAX: i64 = i64::MAX - 1;

/// The month 2026-11 (dormant window from 2026-08-01) of persons 1 and 2, worked out by hand.
fn rows() -> Vec<Row> {
    let sale = |date, person, store, amount: i64, units: i64| Row {
        date,
        person,
        store,
        status: "submitted",
        amount: Some(amount),
        units: Some(units),
    };
    let with = |status, date, person, store| Row {
        date,
        person,
        store,
        status,
        amount: Some(1),
        units: Some(1),
    };
    vec![
        // Store 1: first sale ever on the month's first day, by 2 and 1: new for 1 (the
        // smaller id). Person 1's sales there add up past i64::MAX.
        sale("2026-11-01", 2, 1, 300, 3),
        sale("2026-11-01", 1, 1, 1_000, 10),
        sale("2026-11-02", 1, 1, NEAR_MAX, 5),
        Row {
            status: "approved",
            ..sale("2026-11-03", 1, 1, NEAR_MAX, 5)
        },
        // Store 2: sold on the month's last day, and before the dormant window: not new.
        sale("2026-11-30", 2, 2, 200, 2),
        sale("2026-07-31", 1, 2, 7, 1),
        // Store 3: latest sale the day before the month, by 1 and 2: dormant for 2 (the
        // larger id).
        sale("2026-10-31", 1, 3, 7, 1),
        sale("2026-10-31", 2, 3, 7, 1),
        // Store 4: sold on the dormant window's first day only: dormant for 1.
        sale("2026-08-01", 1, 4, 7, 1),
        // Store 5: sold the day before the window only: neither.
        sale("2026-07-31", 1, 5, 7, 1),
        // Store 6: an order waiting for approval in the month, a sale the day after it:
        // neither.
        with("pending_approval", "2026-11-15", 1, 6),
        sale("2026-12-01", 1, 6, 7, 1),
        // Store 7: a draft in the month, a sale in September: dormant for 1.
        with("draft", "2026-11-10", 2, 7),
        sale("2026-09-05", 1, 7, 7, 1),
        // Store 8: sold in the month and in September: neither.
        sale("2026-11-20", 2, 8, 50, 1),
        sale("2026-09-01", 1, 8, 7, 1),
        // Store 9: first sale ever, an order projected before the amounts were kept: new for
        // 2; its sale is read from its document, not summed.
        Row {
            amount: None,
            units: None,
            ..sale("2026-11-05", 2, 9, 0, 0)
        },
    ]
}

async fn seed<S: RawOrders>(store: &S, tenant: TenantId, other: TenantId) {
    for (n, row) in rows().iter().enumerate() {
        store.insert_order(tenant, n, row).await;
    }
    // Another tenant's first sale of a store and a big sale: never counted.
    let theirs = Row {
        date: "2026-11-10",
        person: 1,
        store: 10,
        status: "submitted",
        amount: Some(1_000_000),
        units: Some(1_000),
    };
    store.insert_order(other, 99, &theirs).await;
}

/// Sums per person from the kept columns, exact beyond i64; the people filter, the month's
/// first and last day, the sale statuses and the tenant bound them; the order without kept
/// amounts is left to the documents.
async fn people_sales_sum_the_kept_amounts_exactly<S: SalesStore + RawOrders>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    seed(store, tenant, other).await;
    let (first, last) = (date("2026-11-01"), date("2026-11-30"));
    let sales = store
        .people_sales(tenant, None, first, last, &statuses())
        .await
        .unwrap();
    let near = i128::from(NEAR_MAX);
    assert_eq!(
        sales,
        [
            PersonSales {
                person_id: uid(1),
                orders: 3,
                amount: 1_000 + 2 * near,
                units: 20,
            },
            PersonSales {
                person_id: uid(2),
                orders: 3,
                amount: 550,
                units: 6,
            },
        ]
    );
    let only = store
        .people_sales(tenant, Some(&[uid(2)]), first, last, &statuses())
        .await
        .unwrap();
    assert_eq!(only, sales[1..]);
    // The first day alone, and nobody's statuses.
    let day = store
        .people_sales(tenant, None, first, first, &statuses())
        .await
        .unwrap();
    assert_eq!(
        day.iter().map(|s| (s.amount, s.units)).collect::<Vec<_>>(),
        [(1_000, 10), (300, 3)]
    );
    let none = store
        .people_sales(tenant, None, first, last, &["cancelled"])
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");

    let docs = store
        .people_documents(tenant, None, first, last, &statuses(), 10)
        .await
        .unwrap();
    assert_eq!(docs.unkept_orders, [r#"{"n":16}"#]);
    assert!(docs.expenses.is_empty());
    let docs = store
        .people_documents(tenant, Some(&[uid(1)]), first, last, &statuses(), 10)
        .await
        .unwrap();
    assert!(docs.unkept_orders.is_empty());

    // The rep-weekly read: any status, by person then date, limited; nobody else's.
    let of = |people: Vec<UserId>, limit| async move {
        store
            .people_documents_of(tenant, DocKind::Order, &people, first, last, limit)
            .await
            .unwrap()
    };
    assert_eq!(
        of(vec![uid(2)], 10).await,
        [
            r#"{"n":0}"#,
            r#"{"n":16}"#,
            r#"{"n":12}"#,
            r#"{"n":14}"#,
            r#"{"n":4}"#
        ]
    );
    assert_eq!(of(vec![uid(2)], 2).await.len(), 2);
    assert_eq!(of(vec![uid(1), uid(2)], 100).await.len(), 9);
    assert!(store
        .people_documents_of(other, DocKind::Order, &[uid(2)], first, last, 10)
        .await
        .unwrap()
        .is_empty());
}

/// New and dormant stores at the boundaries of the month and of the dormant window, ties on a
/// day by person id, statuses that are no sale, another tenant's orders.
async fn new_and_dormant_stores_are_counted_per_person<S: SalesStore + RawOrders>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    seed(store, tenant, other).await;
    let counts = store
        .store_counts(
            tenant,
            date("2026-08-01"),
            date("2026-11-01"),
            date("2026-11-30"),
            &statuses(),
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        [
            StoreCounts {
                person_id: uid(1),
                new_stores: 1,
                dormant_stores: 2,
            },
            StoreCounts {
                person_id: uid(2),
                new_stores: 1,
                dormant_stores: 1,
            },
        ]
    );
    // December: store 6 is new (its sale on the 1st; the order of November was no sale),
    // the stores sold from September on and not in December are dormant.
    let december = store
        .store_counts(
            tenant,
            date("2026-09-01"),
            date("2026-12-01"),
            date("2026-12-31"),
            &statuses(),
        )
        .await
        .unwrap();
    assert_eq!(
        december,
        [
            StoreCounts {
                person_id: uid(1),
                new_stores: 1,
                // Store 3's tie goes to 2; 1 keeps store 7 (September) and store 1.
                dormant_stores: 2,
            },
            StoreCounts {
                person_id: uid(2),
                new_stores: 0,
                // Stores 2, 3, 8, 9.
                dormant_stores: 4,
            },
        ]
    );
    let theirs = store
        .store_counts(
            other,
            date("2026-08-01"),
            date("2026-11-01"),
            date("2026-11-30"),
            &statuses(),
        )
        .await
        .unwrap();
    assert_eq!(
        theirs,
        [StoreCounts {
            person_id: uid(1),
            new_stores: 1,
            dormant_stores: 0,
        }]
    );
}

macro_rules! sales_suite {
    ($engine:ident) => {
        mod $engine {
            #[tokio::test]
            async fn people_sales_sum_the_kept_amounts_exactly() {
                let f = crate::support::$engine().await;
                super::people_sales_sum_the_kept_amounts_exactly(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn new_and_dormant_stores_are_counted_per_person() {
                let f = crate::support::$engine().await;
                super::new_and_dormant_stores_are_counted_per_person(&f.store, f.tenant, f.other)
                    .await;
                f.finish().await;
            }
        }
    };
}

sales_suite!(sqlite);
sales_suite!(postgres);
