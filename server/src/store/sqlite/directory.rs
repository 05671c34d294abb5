//! OWNER: platform helper.
#[async_trait::async_trait]
impl crate::store::DirectoryStore for super::SqliteStore {}
