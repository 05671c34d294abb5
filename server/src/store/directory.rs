//! OWNER: platform helper.
/// Tenants, users, master data, photo metadata. Stub: the platform helper defines the methods.
#[async_trait::async_trait]
pub trait DirectoryStore {}
