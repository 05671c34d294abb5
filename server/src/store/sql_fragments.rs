//! SQL fragments the stores of both engines share, spliced into their queries at compile time
//! (`concat!`): never SQL built from values at run time.

/// A subquery of the elements of the JSON array of strings bound at placeholder `$p` (text),
/// one row per element in column `value`. `($engine, "$4")`, engine `sqlite` or `postgres`.
/// Read scopes bind each id list once this way (`Visibility::bind_pair`) instead of building
/// SQL with one placeholder per id.
#[rustfmt::skip] // keeps each engine's fragment on one line
macro_rules! json_list {
    (sqlite, $p:literal) => {
        concat!("(SELECT value FROM json_each(", $p, "))")
    };
    (postgres, $p:literal) => {
        concat!("(SELECT value FROM jsonb_array_elements_text(", $p, "::jsonb))")
    };
}

pub(crate) use json_list;

/// The projection listing of one kind: the same query over `visits` (by planned date) and
/// `orders` (by order date). Binds: $1 tenant, $2 store, $3 person, $4 from, $5 to, $6 status,
/// $7 $8 the key to start after (date, id), $9 limit, $10 $11 visibility (stores, people).
/// The tenant + date order is served by `<table>_tenant_date (tenant_id, date, doc_id)`, and
/// the key to start after is a row comparison so that it bounds that index: page n starts
/// where page n - 1 ended instead of re-reading the rows before it (an `OR` of the date and the
/// id is a filter both planners apply row by row). Without a key it compares with `('~', '')`,
/// above every ISO date.
#[rustfmt::skip] // keeps the SQL readable: rustfmt would put each concat! piece on its own line
macro_rules! list_projected_sql {
    ($engine:ident, $table:expr, $date:literal) => {
        concat!(
            "SELECT doc_id, store_id, person_id, updated_seq, ", $date, ", document FROM ", $table, "
             WHERE tenant_id = $1
               AND ($2 IS NULL OR store_id = $2)
               AND ($3 IS NULL OR person_id = $3)
               AND ($4 IS NULL OR ", $date, " >= $4)
               AND ($5 IS NULL OR ", $date, " <= $5)
               AND ($6 IS NULL OR status = $6)
               AND (", $date, ", doc_id) < (COALESCE($7, '~'), COALESCE($8, ''))
               AND ($10 IS NULL OR store_id IN ", $crate::store::sql_fragments::json_list!($engine, "$10"), "
                    OR person_id IN ", $crate::store::sql_fragments::json_list!($engine, "$11"), ")
             ORDER BY ", $date, " DESC, doc_id DESC
             LIMIT $9"
        )
    };
}

pub(crate) use list_projected_sql;

/// Returns `Err(StoreError::NotFound("store"))` from the enclosing function unless `$store`
/// (anything bound as text: the id) is one of `$tenant`'s stores, read through `$exec` (the
/// write's transaction, so the check and the write see the same stores). Master-data imports
/// that name stores by id run it for every row.
macro_rules! ensure_tenant_store {
    ($exec:expr, $tenant:expr, $store:expr) => {{
        let known: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM stores WHERE tenant_id = $1 AND id = $2")
                .bind($tenant.to_string())
                .bind($store)
                .fetch_optional($exec)
                .await?;
        if known.is_none() {
            return Err($crate::store::StoreError::NotFound("store"));
        }
    }};
}

pub(crate) use ensure_tenant_store;
