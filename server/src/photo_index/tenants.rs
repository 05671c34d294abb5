//! One [`HashIndex`] per tenant: loaded from `photo_hashes` on the tenant's first lookup, then
//! brought up to date at every lookup and on every hash this instance records.
//!
//! Other instances (PostgreSQL) record hashes too, and a backfill records hashes of old photos,
//! so the index cannot count on seeing every insert. Each row carries `recorded_at`, the time it
//! was written; a lookup first reads the tenant's rows recorded since the newest one it has seen,
//! less [`CATCH_UP_MARGIN`] (for a row committed a little after its `recorded_at`, or written by
//! an instance whose clock is a little behind), and adds them (a photo already there is skipped).
//! That is one indexed query returning few rows per lookup. Lookups of one tenant queue behind
//! each other's catch-up; lookups of different tenants do not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use fieldsync_shared::{TenantId, Timestamp};

use super::multi_index::{HashIndex, IndexedPhoto, Neighbour};
use super::PhotoHash;
use crate::store::photo_hashes::PhotoHashStore;
use crate::store::StoreResult;

/// Rows read per page while catching up.
const PAGE: u32 = 10_000;
/// How far back before the newest row seen a catch-up reads again (ms).
pub const CATCH_UP_MARGIN: i64 = 60_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

struct Loaded {
    index: HashIndex,
    /// Photos stored before this were dropped at the last rebuild (unix ms).
    cutoff: i64,
    /// The newest `recorded_at` read from the table (unix ms).
    newest_recorded: i64,
}

struct TenantSlot {
    /// Held by the lookup that catches up; the tenant's other lookups wait for it.
    catching_up: tokio::sync::Mutex<()>,
    state: RwLock<Option<Loaded>>,
}

/// The per-tenant indexes of this server instance, over a window back from each lookup.
pub struct TenantIndexes {
    /// Which hashes (`photo_hashes.algorithm`) are loaded.
    algorithm: &'static str,
    window_ms: i64,
    tenants: Mutex<HashMap<TenantId, Arc<TenantSlot>>>,
}

impl TenantIndexes {
    pub fn new(algorithm: &'static str, window_days: u32) -> Self {
        TenantIndexes {
            algorithm,
            window_ms: i64::from(window_days) * DAY_MS,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, tenant: TenantId) -> Arc<TenantSlot> {
        let mut tenants = self.tenants.lock().expect("tenant index map");
        tenants
            .entry(tenant)
            .or_insert_with(|| {
                Arc::new(TenantSlot {
                    catching_up: tokio::sync::Mutex::new(()),
                    state: RwLock::new(None),
                })
            })
            .clone()
    }

    /// Adds a hash this instance just recorded (a tenant not loaded yet reads it with the rest
    /// at its first lookup). Once a day per tenant, photos that left the window are dropped
    /// on the way (the index is rebuilt).
    pub fn insert(&self, tenant: TenantId, photo: IndexedPhoto) {
        let slot = self.slot(tenant);
        let mut state = slot.state.write().expect("tenant index");
        if let Some(loaded) = state.as_mut() {
            self.add(loaded, photo);
        }
    }

    fn add(&self, loaded: &mut Loaded, photo: IndexedPhoto) {
        loaded.index.insert(photo);
        let window_start = photo.stored_at - self.window_ms;
        if window_start - loaded.cutoff > DAY_MS {
            loaded.index.retain_since(window_start);
            loaded.cutoff = window_start;
        }
    }

    /// The tenant's photos stored in the window before `now` within `max_distance` bits of
    /// `hash`, nearest first (after catching up with the table).
    pub async fn within<S: PhotoHashStore + ?Sized>(
        &self,
        store: &S,
        tenant: TenantId,
        hash: PhotoHash,
        max_distance: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<Neighbour>> {
        let since = now.millis() - self.window_ms;
        let slot = self.slot(tenant);
        {
            let _catching_up = slot.catching_up.lock().await;
            self.catch_up(store, tenant, &slot, since).await?;
        }
        let state = slot.state.read().expect("tenant index");
        Ok(state
            .as_ref()
            .map(|loaded| loaded.index.within(hash, max_distance, since))
            .unwrap_or_default())
    }

    /// Reads the rows recorded since the newest seen (all of them the first time) into the
    /// index.
    async fn catch_up<S: PhotoHashStore + ?Sized>(
        &self,
        store: &S,
        tenant: TenantId,
        slot: &TenantSlot,
        since: i64,
    ) -> StoreResult<()> {
        let from = slot
            .state
            .read()
            .expect("tenant index")
            .as_ref()
            .map(|loaded| loaded.newest_recorded - CATCH_UP_MARGIN);
        let started = std::time::Instant::now();
        let mut rows = Vec::new();
        let mut after = (Timestamp(from.unwrap_or(i64::MIN)), None);
        loop {
            let page = store
                .photo_hashes_page(tenant, self.algorithm, Timestamp(since), after, PAGE)
                .await?;
            let full = page.len() == PAGE as usize;
            if let Some(last) = page.last() {
                after = (last.recorded_at, Some(last.sha256));
            }
            rows.extend(page);
            if !full {
                break;
            }
        }
        let mut state = slot.state.write().expect("tenant index");
        let loaded = state.get_or_insert_with(|| Loaded {
            index: HashIndex::new(),
            cutoff: since,
            newest_recorded: i64::MIN + CATCH_UP_MARGIN,
        });
        for row in &rows {
            loaded.newest_recorded = loaded.newest_recorded.max(row.recorded_at.millis());
            self.add(
                loaded,
                IndexedPhoto {
                    sha256: row.sha256,
                    hash: PhotoHash(row.hash),
                    stored_at: row.stored_at.millis(),
                },
            );
        }
        if from.is_none() {
            tracing::info!(%tenant, photos = loaded.index.len(), elapsed_ms = started.elapsed().as_millis() as u64, "photo hash index loaded");
        }
        Ok(())
    }
}
