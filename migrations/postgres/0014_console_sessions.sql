-- Web console sign-ins (PostgreSQL; the same table as migrations/sqlite/0014_console_sessions.sql,
-- see there and docs/console.md).

CREATE TABLE console_sessions (
    token_hash  TEXT COLLATE "C" PRIMARY KEY,
    session_id  TEXT COLLATE "C" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX console_sessions_session ON console_sessions (session_id);
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
