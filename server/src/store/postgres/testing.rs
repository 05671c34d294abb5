//! Scratch databases for tests: each test gets its own fresh database in the PostgreSQL server
//! named by `FIELDSYNC_TEST_DATABASE_URL`, so tests are isolated and run in parallel.
//!
//! `scripts/with-postgres.sh` starts a private server and sets that variable; `scripts/test.sh`
//! runs the whole suite through it. Without it, PostgreSQL tests fail (they never skip).

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};

/// The environment variable naming the test server: a URL of a role allowed to create
/// databases, e.g. `postgres://fieldsync:pw@127.0.0.1:54321/postgres`.
pub const TEST_DATABASE_URL_ENV: &str = "FIELDSYNC_TEST_DATABASE_URL";

/// A database created for one test; [`ScratchDatabase::drop_database`] removes it.
#[derive(Debug)]
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates `fs_test_<random>` on the server named by `FIELDSYNC_TEST_DATABASE_URL`.
    /// The error says how to provide a server when the variable is unset.
    pub async fn create() -> Result<ScratchDatabase, String> {
        let admin_url = std::env::var(TEST_DATABASE_URL_ENV).map_err(|_| {
            format!(
                "{TEST_DATABASE_URL_ENV} is not set: PostgreSQL tests need a server. Run them \
                 through scripts/test.sh, or as `scripts/with-postgres.sh cargo test ...`, which \
                 starts a private PostgreSQL and sets it"
            )
        })?;
        Self::create_on(&admin_url).await
    }

    /// Creates `fs_test_<random>` on the server at `admin_url`.
    pub async fn create_on(admin_url: &str) -> Result<ScratchDatabase, String> {
        let suffix = getrandom::u64().map_err(|e| format!("random source: {e}"))?;
        let name = format!("fs_test_{suffix:016x}");
        let mut conn = PgConnection::connect(admin_url).await.map_err(|e| {
            format!("cannot connect to the test PostgreSQL ({TEST_DATABASE_URL_ENV}): {e}")
        })?;
        // Like most production databases, sort text by a natural-language collation (ICU
        // en-US ignores punctuation at first), so tests catch queries whose order would differ
        // from SQLite's byte order. Servers without ICU (or before 15) get their default.
        let icu = format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
             LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        );
        if conn.execute(AssertSqlSafe(icu)).await.is_err() {
            conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
        }
        let _ = conn.close().await;
        let url = with_database(admin_url, &name)?;
        Ok(ScratchDatabase {
            admin_url: admin_url.to_string(),
            name,
            url,
        })
    }

    /// The URL of the new database (same server, role and parameters as the admin URL).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database, disconnecting whoever is still connected.
    pub async fn drop_database(self) -> Result<(), String> {
        let mut conn = PgConnection::connect(&self.admin_url)
            .await
            .map_err(|e| format!("cannot connect to the test PostgreSQL: {e}"))?;
        conn.execute(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .await
        .map_err(|e| format!("DROP DATABASE {}: {e}", self.name))?;
        let _ = conn.close().await;
        Ok(())
    }
}

/// `url` with its database (the path) replaced by `database`; the query string is kept.
pub fn with_database(url: &str, database: &str) -> Result<String, String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base
        .find("://")
        .ok_or_else(|| "the test database URL has no scheme".to_string())?
        + 3;
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5/postgres", "x").unwrap(),
            "postgres://u:p@127.0.0.1:5/x"
        );
        assert_eq!(
            with_database("postgresql://u@h:5?sslmode=disable", "x").unwrap(),
            "postgresql://u@h:5/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h/db?a=b&c=d", "x").unwrap(),
            "postgres://u@h/x?a=b&c=d"
        );
        assert!(with_database("nonsense", "x").is_err());
    }
}
