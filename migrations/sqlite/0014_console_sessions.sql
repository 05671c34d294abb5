-- Web console sign-ins (docs/console.md). A console sign-in opens an ordinary device session
-- (a device of platform `web` with an actor of its own), so revocation, maximum age and the
-- user's current role are checked exactly as for a phone. This table adds what a browser
-- needs: the SHA-256 of the cookie's random token, the CSRF token bound to it, and when the
-- sign-in expires. Deleted with its session by the session purge.

CREATE TABLE console_sessions (
    token_hash  TEXT    PRIMARY KEY NOT NULL,
    session_id  TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    csrf_token  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX console_sessions_session ON console_sessions (session_id);
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
