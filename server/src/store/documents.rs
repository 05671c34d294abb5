//! OWNER: sync helper.
/// CRDT documents, changes, feed, projections. Stub: the sync helper defines the methods.
#[async_trait::async_trait]
pub trait DocumentStore {}
