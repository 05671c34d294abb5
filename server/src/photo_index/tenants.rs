//! One [`HashIndex`] per tenant, loaded from `photo_hashes` on the tenant's first lookup and
//! kept current by every hash recorded afterwards.
//!
//! Loading pages through the table while photos keep arriving. A hash recorded during the load
//! may be committed after the page that would have held it was read, so recording never
//! skips a tenant that is loading: its hash waits in the slot and joins the index when the load
//! ends. A tenant that is not loaded is skipped (its first lookup reads the committed row).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use fieldsync_shared::{TenantId, Timestamp};

use super::multi_index::{HashIndex, IndexedPhoto, Neighbour};
use super::PhotoHash;
use crate::store::photo_hashes::PhotoHashStore;
use crate::store::StoreResult;

/// Rows read per page while loading a tenant.
const LOAD_PAGE: u32 = 10_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

enum SlotState {
    Unloaded,
    /// Hashes recorded while the load runs.
    Loading(Vec<IndexedPhoto>),
    Loaded {
        index: HashIndex,
        /// Photos stored before this were dropped at the last rebuild.
        cutoff: i64,
    },
}

struct TenantSlot {
    /// Held by the one lookup that loads the tenant; the others wait for it.
    loading: tokio::sync::Mutex<()>,
    state: RwLock<SlotState>,
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
                    loading: tokio::sync::Mutex::new(()),
                    state: RwLock::new(SlotState::Unloaded),
                })
            })
            .clone()
    }

    /// Adds a hash whose row is committed. Once a day per tenant, photos that left the window
    /// are dropped on the way (the index is rebuilt).
    pub fn insert(&self, tenant: TenantId, photo: IndexedPhoto) {
        let slot = self.slot(tenant);
        let mut state = slot.state.write().expect("tenant index");
        match &mut *state {
            SlotState::Unloaded => {}
            SlotState::Loading(pending) => pending.push(photo),
            SlotState::Loaded { index, cutoff } => {
                index.insert(photo);
                let window_start = photo.stored_at - self.window_ms;
                if window_start - *cutoff > DAY_MS {
                    index.retain_since(window_start);
                    *cutoff = window_start;
                }
            }
        }
    }

    /// The tenant's photos stored in the window before `now` within `max_distance` bits of
    /// `hash`, nearest first (loads the tenant's index first if needed).
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
        if let Some(found) = query(&slot, hash, max_distance, since) {
            return Ok(found);
        }
        {
            let _loading = slot.loading.lock().await;
            if !is_loaded(&slot) {
                self.load(store, tenant, &slot, since).await?;
            }
        }
        Ok(query(&slot, hash, max_distance, since).unwrap_or_default())
    }

    async fn load<S: PhotoHashStore + ?Sized>(
        &self,
        store: &S,
        tenant: TenantId,
        slot: &TenantSlot,
        since: i64,
    ) -> StoreResult<()> {
        *slot.state.write().expect("tenant index") = SlotState::Loading(Vec::new());
        let started = std::time::Instant::now();
        let mut index = HashIndex::new();
        let mut after = None;
        loop {
            let page = store
                .photo_hashes_page(tenant, self.algorithm, Timestamp(since), after, LOAD_PAGE)
                .await;
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    // Hashes recorded meanwhile are in the table: the next lookup loads again.
                    *slot.state.write().expect("tenant index") = SlotState::Unloaded;
                    return Err(e);
                }
            };
            for row in &page {
                index.insert(IndexedPhoto {
                    sha256: row.sha256,
                    hash: PhotoHash(row.hash),
                    stored_at: row.stored_at.millis(),
                });
            }
            match page.last() {
                Some(last) if page.len() == LOAD_PAGE as usize => {
                    after = Some((last.stored_at, last.sha256));
                }
                _ => break,
            }
        }
        let mut state = slot.state.write().expect("tenant index");
        if let SlotState::Loading(pending) = std::mem::replace(&mut *state, SlotState::Unloaded) {
            for photo in pending {
                index.insert(photo);
            }
        }
        tracing::info!(%tenant, photos = index.len(), elapsed_ms = started.elapsed().as_millis() as u64, "photo hash index loaded");
        *state = SlotState::Loaded {
            index,
            cutoff: since,
        };
        Ok(())
    }
}

/// `None` if the tenant's index is not loaded.
fn query(
    slot: &TenantSlot,
    hash: PhotoHash,
    max_distance: u32,
    since: i64,
) -> Option<Vec<Neighbour>> {
    match &*slot.state.read().expect("tenant index") {
        SlotState::Loaded { index, .. } => Some(index.within(hash, max_distance, since)),
        _ => None,
    }
}

fn is_loaded(slot: &TenantSlot) -> bool {
    matches!(
        &*slot.state.read().expect("tenant index"),
        SlotState::Loaded { .. }
    )
}
