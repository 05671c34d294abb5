//! Typed configuration: defaults, then environment variables, then command-line flags.
// OWNER: platform helper. Keep the `limits` field (sync uses it).

use fieldsync_shared::protocol::Limits;

#[derive(Debug, Clone)]
pub struct Config {
    /// Sync protocol limits (body sizes, counts).
    pub limits: Limits,
}
