-- Session hygiene (PostgreSQL; the same indexes as migrations/sqlite/0009_session_hygiene.sql,
-- see there and docs/auth.md).

CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_revoked_at ON sessions (revoked_at);
CREATE INDEX sessions_created_at ON sessions (created_at);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
