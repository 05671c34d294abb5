//! Authentication: argon2 password hashes, JWT access tokens, `POST /v1/auth/login`, and the
//! [`Principal`] extractor every protected handler takes.
// OWNER: platform helper. Fill in; keep `Principal`'s fields and `TokenKeys`'s name.

use fieldsync_shared::master::Role;
use fieldsync_shared::{TenantId, UserId};

/// Who is making the request, from a validated access token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: Role,
}

/// Signing and verification keys for access tokens.
pub struct TokenKeys {}
