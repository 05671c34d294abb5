//! Master data as the server sent it: the stores in the user's read scope, the product
//! catalogue, and each store's credit snapshot, each row kept as its JSON; the must-carry
//! range, the promotions and the pictures of success as one JSON value each (the server sends
//! them whole).

use fieldsync_shared::expense::ExpenseBudget;
use fieldsync_shared::master::{
    AssortmentRow, CreditSnapshot, MasterDataPage, Product, Promotion, Store, SuccessPicture,
};
use fieldsync_shared::org::OrgView;
use fieldsync_shared::tiers::ApprovalTiers;
use fieldsync_shared::{Sku, StoreId};
use rusqlite::{params, params_from_iter, Connection};
use serde::de::DeserializeOwned;

use super::meta::{keys, master_version, meta_delete, meta_json, meta_set};
use crate::error::{DeviceError, Result};

/// Upserts the rows of a master data page and remembers its version.
pub fn import_page(conn: &Connection, page: &MasterDataPage) -> Result<()> {
    if page.stores_complete {
        // Every store of the user's scope is listed: the others left it.
        let keep: Vec<StoreId> = page.stores.iter().map(|s| s.id).collect();
        retain_stores(conn, &keep)?;
    }
    for s in &page.stores {
        upsert_store(conn, s)?;
    }
    for p in &page.products {
        upsert_product(conn, p)?;
    }
    for c in &page.credit {
        upsert_credit(conn, c)?;
    }
    if page.version > master_version(conn)? {
        meta_set(conn, keys::MASTER_VERSION, &page.version.to_string())?;
    }
    // Every page carries the current org view; a server that sends none leaves the device on
    // the signed-in user alone (see `Device::org_view`), never on a stale team.
    match &page.org {
        Some(org) => meta_set(conn, keys::ORG_VIEW, &serde_json::to_string(org)?)?,
        None => meta_delete(conn, keys::ORG_VIEW)?,
    }
    // The tiers too: a server that sends none has none (the defaults apply).
    match &page.approval_tiers {
        Some(tiers) => meta_set(conn, keys::APPROVAL_TIERS, &serde_json::to_string(tiers)?)?,
        None => meta_delete(conn, keys::APPROVAL_TIERS)?,
    }
    match &page.expense_budget {
        Some(budget) => meta_set(conn, keys::EXPENSE_BUDGET, &serde_json::to_string(budget)?)?,
        None => meta_delete(conn, keys::EXPENSE_BUDGET)?,
    }
    // The range comes whole or not at all: `None` leaves the one held.
    if let Some(rows) = &page.assortment {
        meta_set(conn, keys::ASSORTMENT, &serde_json::to_string(rows)?)?;
    }
    // Promotions likewise.
    if let Some(promotions) = &page.promotions {
        meta_set(conn, keys::PROMOTIONS, &serde_json::to_string(promotions)?)?;
    }
    // And the pictures of success.
    if let Some(pictures) = &page.success_pictures {
        meta_set(
            conn,
            keys::SUCCESS_PICTURES,
            &serde_json::to_string(pictures)?,
        )?;
    }
    Ok(())
}

/// The must-carry rows received with master data (none yet: empty).
pub fn assortment(conn: &Connection) -> Result<Vec<AssortmentRow>> {
    Ok(meta_json(conn, keys::ASSORTMENT)?.unwrap_or_default())
}

/// The promotions received with master data (none yet: empty).
pub fn promotions(conn: &Connection) -> Result<Vec<Promotion>> {
    Ok(meta_json(conn, keys::PROMOTIONS)?.unwrap_or_default())
}

/// The pictures of success received with master data (none yet: empty).
pub fn success_pictures(conn: &Connection) -> Result<Vec<SuccessPicture>> {
    Ok(meta_json(conn, keys::SUCCESS_PICTURES)?.unwrap_or_default())
}

/// The tenant's expense budget received with the last master data page, else the defaults.
pub fn expense_budget(conn: &Connection) -> Result<ExpenseBudget> {
    Ok(meta_json(conn, keys::EXPENSE_BUDGET)?.unwrap_or_default())
}

/// The tenant's approval tiers received with the last master data page, else the defaults.
pub fn approval_tiers(conn: &Connection) -> Result<ApprovalTiers> {
    Ok(meta_json(conn, keys::APPROVAL_TIERS)?.unwrap_or_default())
}

/// The org view received with the last master data page, if any.
pub fn org_view(conn: &Connection) -> Result<Option<OrgView>> {
    meta_json(conn, keys::ORG_VIEW)
}

/// Forgets every store, product, credit snapshot and the range (another company's data must not be used
/// for this one's rules).
pub fn clear_master_rows(conn: &Connection) -> Result<()> {
    conn.execute_batch("DELETE FROM stores; DELETE FROM products; DELETE FROM credit;")?;
    meta_delete(conn, keys::ASSORTMENT)?;
    meta_delete(conn, keys::PROMOTIONS)?;
    meta_delete(conn, keys::SUCCESS_PICTURES)?;
    Ok(())
}

pub fn upsert_store(conn: &Connection, store: &Store) -> Result<()> {
    conn.execute(
        "INSERT INTO stores (id, code, json) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET code = excluded.code, json = excluded.json",
        params![
            store.id.to_string(),
            store.code.as_str(),
            serde_json::to_string(store)?
        ],
    )?;
    Ok(())
}

/// Keeps only the stores `keep` (and their credit snapshots): the others left the user's read
/// scope. Returns how many stores were dropped.
pub fn retain_stores(conn: &Connection, keep: &[StoreId]) -> Result<usize> {
    let keep = serde_json::to_string(&keep.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    conn.execute(
        "DELETE FROM credit WHERE store_id NOT IN (SELECT value FROM json_each(?1))",
        [&keep],
    )?;
    Ok(conn.execute(
        "DELETE FROM stores WHERE id NOT IN (SELECT value FROM json_each(?1))",
        [&keep],
    )?)
}

pub fn upsert_product(conn: &Connection, product: &Product) -> Result<()> {
    conn.execute(
        "INSERT INTO products (sku, json) VALUES (?1, ?2)
         ON CONFLICT (sku) DO UPDATE SET json = excluded.json",
        params![product.sku.as_str(), serde_json::to_string(product)?],
    )?;
    Ok(())
}

pub fn upsert_credit(conn: &Connection, credit: &CreditSnapshot) -> Result<()> {
    conn.execute(
        "INSERT INTO credit (store_id, json) VALUES (?1, ?2)
         ON CONFLICT (store_id) DO UPDATE SET json = excluded.json",
        params![credit.store_id.to_string(), serde_json::to_string(credit)?],
    )?;
    Ok(())
}

/// The JSON column of every row `sql` selects (`param` binds `?1` when given), parsed.
fn json_rows<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    param: Option<&str>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let rows: Vec<String> = stmt
        .query_map(params_from_iter(param), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    rows.iter()
        .map(|j| serde_json::from_str(j).map_err(DeviceError::from))
        .collect()
}

/// The one row `sql` selects by `key`, if any.
fn json_row<T: DeserializeOwned>(conn: &Connection, sql: &str, key: &str) -> Result<Option<T>> {
    Ok(json_rows(conn, sql, Some(key))?.into_iter().next())
}

pub fn stores(conn: &Connection) -> Result<Vec<Store>> {
    json_rows(conn, "SELECT json FROM stores ORDER BY code", None)
}

pub fn store(conn: &Connection, id: StoreId) -> Result<Option<Store>> {
    json_row(
        conn,
        "SELECT json FROM stores WHERE id = ?1",
        &id.to_string(),
    )
}

pub fn store_by_code(conn: &Connection, code: &str) -> Result<Option<Store>> {
    json_row(conn, "SELECT json FROM stores WHERE code = ?1", code)
}

pub fn products(conn: &Connection) -> Result<Vec<Product>> {
    json_rows(conn, "SELECT json FROM products ORDER BY sku", None)
}

pub fn product(conn: &Connection, sku: &Sku) -> Result<Option<Product>> {
    json_row(
        conn,
        "SELECT json FROM products WHERE sku = ?1",
        sku.as_str(),
    )
}

pub fn credit(conn: &Connection, store: StoreId) -> Result<Option<CreditSnapshot>> {
    json_row(
        conn,
        "SELECT json FROM credit WHERE store_id = ?1",
        &store.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retain_stores_drops_the_others_and_their_credit() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("device.db")).unwrap();
        let ids: Vec<StoreId> = (0..3).map(|_| StoreId::new_random()).collect();
        for id in &ids {
            conn.execute(
                "INSERT INTO stores (id, code, json) VALUES (?1, ?1, '{}')",
                [id.to_string()],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO credit (store_id, json) VALUES (?1, '{}')",
                [id.to_string()],
            )
            .unwrap();
        }
        assert_eq!(retain_stores(&conn, &ids[..1]).unwrap(), 2);
        let count = |table: &str| -> i64 {
            conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!((count("stores"), count("credit")), (1, 1));
    }
}
