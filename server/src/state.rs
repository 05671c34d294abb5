//! State shared by every request handler.

use std::sync::Arc;

use crate::auth::TokenKeys;
use crate::blobs::BlobStore;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub tokens: Arc<TokenKeys>,
}
