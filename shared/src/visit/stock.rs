//! Stock counted during the store check (step 3: "stock, back room, shelf"): per SKU, the units
//! on the shelf and in the back room. With the store's safety stock it gives the suggested
//! order (`rules::suggested_order`).
//!
//! The visit holds the counts in a map keyed by SKU (`stock_counts`): counting a SKU again
//! replaces its count as a whole (its time is the autosurgeon key), so two people counting
//! the same SKU at once leave one person's count, never a mix of both. The map is created with
//! the visit; for a visit written before counts existed the server adds it once (two devices
//! creating it at once would make two maps under one key and one would be lost), like the
//! competitor sightings (docs/document-encoding.md).

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::values::{Sku, Timestamp, UserId};

/// Most units one count records on the shelf or in the back room (a pallet is a few thousand).
pub const MAX_COUNTED_UNITS: u32 = 1_000_000;
/// Most SKUs one visit counts (a hypermarket range is a few hundred of ours).
pub const MAX_STOCK_COUNTS_PER_VISIT: usize = 2_000;

/// The units of one SKU counted in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct StockCount {
    pub sku: Sku,
    /// Units on the shelf, every location together.
    pub shelf_units: u32,
    /// Units in the back room.
    pub backroom_units: u32,
    pub counted_by: UserId,
    /// The count's key: counting again replaces it as a whole.
    #[key]
    pub counted_at: Timestamp,
}

impl StockCount {
    /// Units the store holds of the SKU (shelf and back room).
    pub fn on_hand(&self) -> u32 {
        self.shelf_units.saturating_add(self.backroom_units)
    }
}

/// Why a count cannot be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockCountProblem {
    /// The visit was written before counts existed and the server has not added the map yet.
    NoMap,
    /// More units than [`MAX_COUNTED_UNITS`].
    TooMany,
    /// The visit already counts [`MAX_STOCK_COUNTS_PER_VISIT`] SKUs.
    Full,
}

impl std::fmt::Display for StockCountProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StockCountProblem::NoMap => f.write_str(
                "this visit was written by an older app: sync once before counting stock",
            ),
            StockCountProblem::TooMany => write!(
                f,
                "a count is at most {MAX_COUNTED_UNITS} units on the shelf and in the back room"
            ),
            StockCountProblem::Full => write!(
                f,
                "a visit counts at most {MAX_STOCK_COUNTS_PER_VISIT} products"
            ),
        }
    }
}

impl super::Visit {
    /// Records `count`, replacing an earlier count of its SKU.
    pub fn record_stock_count(&mut self, count: StockCount) -> Result<(), StockCountProblem> {
        if count.shelf_units > MAX_COUNTED_UNITS || count.backroom_units > MAX_COUNTED_UNITS {
            return Err(StockCountProblem::TooMany);
        }
        let counts = self.stock_counts.as_mut().ok_or(StockCountProblem::NoMap)?;
        let key = count.sku.as_str().to_string();
        if !counts.contains_key(&key) && counts.len() >= MAX_STOCK_COUNTS_PER_VISIT {
            return Err(StockCountProblem::Full);
        }
        counts.insert(key, count);
        Ok(())
    }
}

/// Writes the map when the visit has one; nothing when it has none, so that reconciling a
/// visit read without the map never creates it (see `Visit::stock_counts`).
pub(super) fn reconcile_stock_counts<R: autosurgeon::Reconciler>(
    counts: &Option<BTreeMap<String, StockCount>>,
    reconciler: R,
) -> Result<(), R::Error> {
    match counts {
        Some(map) => map.reconcile(reconciler),
        None => Ok(()),
    }
}
