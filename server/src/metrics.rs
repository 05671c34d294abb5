//! Prometheus metrics.
// OWNER: platform helper. Keep `record_sync`'s signature (sync calls it).

pub struct Metrics {}

impl Metrics {
    /// One committed sync push: documents that received new changes, changes stored, bytes received.
    pub fn record_sync(&self, docs_merged: u64, changes_stored: u64, bytes_received: u64) {
        let _ = (docs_merged, changes_stored, bytes_received);
    }
}
