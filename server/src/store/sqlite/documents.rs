//! OWNER: sync helper.
#[async_trait::async_trait]
impl crate::store::DocumentStore for super::SqliteStore {}
