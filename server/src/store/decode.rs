//! Turning stored column values back into domain values: a value that does not decode is
//! `Corrupt` (a bug or a damaged database), never a client's error.

use std::collections::BTreeMap;

use automerge::ActorId;
use fieldsync_shared::{DeviceId, StoreId, UserId};
use uuid::Uuid;

use super::{StoreError, StoreResult};

/// Maps a parse failure of stored data to `Corrupt`.
pub(crate) fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// A stored count (an `i64` column) that must fit a `u32`.
pub(crate) fn u32_of(col: &str, v: i64) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{col} out of range: {v}")))
}

pub(crate) fn uuid_of(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(corrupt)
}

pub(crate) fn user_id_of(s: &str) -> StoreResult<UserId> {
    UserId::parse(s).map_err(corrupt)
}

pub(crate) fn store_id_of(s: &str) -> StoreResult<StoreId> {
    StoreId::parse(s).map_err(corrupt)
}

pub(crate) fn opt_user(s: Option<String>) -> StoreResult<Option<UserId>> {
    s.map(|s| user_id_of(&s)).transpose()
}

pub(crate) fn opt_uuid(s: Option<String>) -> StoreResult<Option<Uuid>> {
    s.map(|s| uuid_of(&s)).transpose()
}

/// Groups `(parent id, child id)` pairs by parent.
pub(crate) fn group<T>(
    pairs: Vec<(String, String)>,
    parse: impl Fn(&str) -> StoreResult<T>,
) -> StoreResult<BTreeMap<String, Vec<T>>> {
    let mut out: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for (parent, child) in pairs {
        out.entry(parent).or_default().push(parse(&child)?);
    }
    Ok(out)
}

/// A list of ids as a JSON array of strings (a column holding a set).
pub(crate) fn json_ids<T: ToString>(ids: &[T]) -> String {
    serde_json::Value::from(ids.iter().map(ToString::to_string).collect::<Vec<_>>()).to_string()
}

pub(crate) fn parse_json_ids<T>(
    json: &str,
    parse: impl Fn(&str) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let raw: Vec<String> = serde_json::from_str(json).map_err(corrupt)?;
    raw.iter().map(|s| parse(s)).collect()
}

pub(crate) fn device_id_of(s: &str) -> StoreResult<DeviceId> {
    DeviceId::parse(s).map_err(corrupt)
}

/// An Automerge actor id stored as hex.
pub(crate) fn actor_of(hex: &str) -> StoreResult<ActorId> {
    ActorId::try_from(hex).map_err(|e| corrupt(format!("actor id {hex:?}: {e}")))
}
