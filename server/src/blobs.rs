//! OWNER: platform helper.
/// Photo bytes by key. Stub: the platform helper defines the real methods.
pub trait BlobStore: Send + Sync + 'static {}
