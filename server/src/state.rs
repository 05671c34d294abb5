//! State shared by every request handler.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::auth::{LoginLimiter, TokenKeys, Verifier};
use crate::blobs::BlobStore;
use crate::config::Config;
use crate::feed_events::FeedEvents;
use crate::metrics::Metrics;
use crate::photo_index::tenants::TenantIndexes;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub tokens: Arc<TokenKeys>,
    /// Failed-login counters of this instance.
    pub login_limiter: Arc<LoginLimiter>,
    /// Commits of this and (on PostgreSQL) every other instance, for live push. There is no
    /// document cache to invalidate: every push and pull reads the database (`feed_events`).
    pub feed_events: FeedEvents,
    /// Perceptual hashes of this instance's tenants' recent photos (near-duplicate lookups).
    pub photo_index: Arc<TenantIndexes>,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Verifier {
        Verifier {
            tokens: state.tokens.clone(),
            store: state.store.clone(),
            session_max_age_ms: state.config.session_max_age_ms(),
        }
    }
}
