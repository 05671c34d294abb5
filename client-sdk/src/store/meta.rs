//! The `meta` table: one value per key (device identity, session, sync cursor, counters).

use std::str::FromStr;

use fieldsync_shared::master::UserProfile;
use fieldsync_shared::protocol::Cursor;
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;

use crate::error::{DeviceError, Result};

pub mod keys {
    pub const DEVICE_ID: &str = "device_id";
    pub const ACTOR_ID: &str = "actor_id";
    pub const SERVER_URL: &str = "server_url";
    pub const TENANT: &str = "tenant";
    pub const PROFILE: &str = "profile";
    pub const ACCESS_TOKEN: &str = "access_token";
    pub const PULL_CURSOR: &str = "pull_cursor";
    pub const MASTER_VERSION: &str = "master_version";
    /// The org view received with master data (JSON of `OrgView`).
    pub const ORG_VIEW: &str = "org_view";
    /// The tenant's approval tiers received with master data (JSON of `ApprovalTiers`).
    pub const APPROVAL_TIERS: &str = "approval_tiers";
    /// The tenant's monthly expense budget received with master data (JSON of `ExpenseBudget`).
    pub const EXPENSE_BUDGET: &str = "expense_budget";
    /// The must-carry rows of the user's stores received with master data (JSON of
    /// `Vec<AssortmentRow>`), replaced whenever a page carries them.
    pub const ASSORTMENT: &str = "assortment";
    /// The promotions of the user's stores received with master data (JSON of
    /// `Vec<Promotion>`), replaced whenever a page carries them.
    pub const PROMOTIONS: &str = "promotions";
    /// The pictures of success of the user's stores received with master data (JSON of
    /// `Vec<SuccessPicture>`), replaced whenever a page carries them.
    pub const SUCCESS_PICTURES: &str = "success_pictures";
    /// Followed by the date: `order_seq:2026-11-22`.
    pub const ORDER_SEQ_PREFIX: &str = "order_seq:";
}

pub fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn meta_delete(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}

/// A value stored as JSON; `None` when the key is absent.
pub(super) fn meta_json<T: DeserializeOwned>(conn: &Connection, key: &str) -> Result<Option<T>> {
    match meta_get(conn, key)? {
        Some(json) => Ok(Some(serde_json::from_str(&json)?)),
        None => Ok(None),
    }
}

/// A counter stored as text; absent or unreadable counts as zero.
fn meta_counter<T: FromStr + Default>(conn: &Connection, key: &str) -> Result<T> {
    Ok(meta_get(conn, key)?
        .and_then(|v| v.parse().ok())
        .unwrap_or_default())
}

pub fn profile(conn: &Connection) -> Result<Option<UserProfile>> {
    meta_json(conn, keys::PROFILE)
}

/// The signed-in user; `NotLoggedIn` if there is none.
pub fn require_profile(conn: &Connection) -> Result<UserProfile> {
    profile(conn)?.ok_or(DeviceError::NotLoggedIn)
}

pub fn cursor(conn: &Connection) -> Result<Option<Cursor>> {
    meta_json(conn, keys::PULL_CURSOR)
}

pub fn set_cursor(conn: &Connection, cursor: Option<&Cursor>) -> Result<()> {
    match cursor {
        Some(c) => meta_set(conn, keys::PULL_CURSOR, &serde_json::to_string(c)?),
        None => meta_delete(conn, keys::PULL_CURSOR),
    }
}

pub fn master_version(conn: &Connection) -> Result<i64> {
    meta_counter(conn, keys::MASTER_VERSION)
}

/// Takes the next order sequence number of `date` (1-based). Call inside the transaction that
/// creates the order, so a number is never handed out twice.
pub fn next_order_seq(conn: &Connection, date: &str) -> Result<u32> {
    let key = format!("{}{date}", keys::ORDER_SEQ_PREFIX);
    let next = meta_counter::<u32>(conn, &key)?.saturating_add(1);
    meta_set(conn, &key, &next.to_string())?;
    Ok(next)
}
