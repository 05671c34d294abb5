//! Fixtures shared by the store conformance suites: one fresh store per test, on each engine.
//!
//! * SQLite: a database file in a new temporary folder.
//! * PostgreSQL: a new database (`fs_test_<random>`) on the server named by
//!   `FIELDSYNC_TEST_DATABASE_URL`, which `scripts/with-postgres.sh` starts and sets. Without
//!   it the PostgreSQL tests fail with a message saying so: they never skip.

#![allow(dead_code)] // each test binary uses part of this module

use fieldsync_server::store::directory::Tenant;
use fieldsync_server::store::postgres::testing::ScratchDatabase;
use fieldsync_server::store::postgres::{PgPoolSettings, PgStore};
use fieldsync_server::store::sqlite::SqliteStore;
use fieldsync_server::store::DirectoryStore;
use fieldsync_shared::values::TenantId;

/// What a test needs to release its store.
pub trait TestStore {
    fn close(&self) -> impl std::future::Future<Output = ()> + Send;
}

impl TestStore for SqliteStore {
    async fn close(&self) {
        self.pool().close().await;
    }
}

impl TestStore for PgStore {
    async fn close(&self) {
        PgStore::close(self).await;
    }
}

enum Scratch {
    Dir(tempfile::TempDir),
    Database(ScratchDatabase),
}

/// A fresh store with two tenants, `t1` (`tenant`) and `t2` (`other`).
pub struct Fixture<S> {
    pub store: S,
    pub tenant: TenantId,
    pub other: TenantId,
    scratch: Scratch,
}

impl<S: TestStore> Fixture<S> {
    /// Closes the store and drops its PostgreSQL database. A test that panics before this
    /// leaves its database behind; the test server is thrown away afterwards anyway.
    pub async fn finish(self) {
        self.store.close().await;
        match self.scratch {
            Scratch::Dir(_) => {}
            Scratch::Database(db) => db.drop_database().await.expect("drop the test database"),
        }
    }
}

pub async fn sqlite() -> Fixture<SqliteStore> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("fieldsync.db"))
        .await
        .expect("open the SQLite store");
    let tenant = create_tenant(&store, "t1").await;
    let other = create_tenant(&store, "t2").await;
    Fixture {
        store,
        tenant,
        other,
        scratch: Scratch::Dir(dir),
    }
}

/// A new empty database on the test server; panics with instructions if there is none.
pub async fn pg_database() -> ScratchDatabase {
    match ScratchDatabase::create().await {
        Ok(db) => db,
        Err(e) => panic!("{e}"),
    }
}

pub async fn postgres() -> Fixture<PgStore> {
    let db = pg_database().await;
    let settings = PgPoolSettings {
        max_connections: 8,
        ..PgPoolSettings::default()
    };
    let store = PgStore::open(db.url(), &settings)
        .await
        .expect("open the PostgreSQL store");
    let tenant = create_tenant(&store, "t1").await;
    let other = create_tenant(&store, "t2").await;
    Fixture {
        store,
        tenant,
        other,
        scratch: Scratch::Database(db),
    }
}

pub async fn create_tenant<S: DirectoryStore>(store: &S, slug: &str) -> TenantId {
    let tenant = Tenant {
        id: TenantId::new_random(),
        slug: slug.to_string(),
        name: format!("Tenant {slug}"),
    };
    store.create_tenant(&tenant).await.expect("create tenant");
    tenant.id
}
