-- Session hygiene (docs/auth.md, "Sessions"): indexes for ending all sessions of a user (an
-- administrator set a new password) and for the periodic purge of ended sessions, which looks
-- sessions up by revocation time and age, and refresh tokens by expiry.

CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_revoked_at ON sessions (revoked_at);
CREATE INDEX sessions_created_at ON sessions (created_at);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
