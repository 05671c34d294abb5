-- Devices, sessions and refresh tokens (docs/auth.md).
--
-- A device is one app installation, registered under its user at login. Its Automerge actor id
-- (hex) is bound to it for good: UNIQUE across every tenant, so no two devices can ever write
-- under the same actor. A session is one refresh token family (one login on one device); its
-- refresh tokens are stored only as SHA-256 hashes. Revocation is a timestamp, never a delete:
-- the per-request check and the admin listing need to see it.

CREATE TABLE devices (
    id             TEXT    PRIMARY KEY NOT NULL,
    tenant_id      TEXT    NOT NULL REFERENCES tenants(id),
    user_id        TEXT    NOT NULL REFERENCES users(id),
    actor_id       TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    platform       TEXT    NOT NULL,
    registered_at  INTEGER NOT NULL,
    -- Last sign-in or token refresh (not every request: that would be a write per request).
    last_seen_at   INTEGER NOT NULL,
    revoked_at     INTEGER
);
CREATE INDEX devices_tenant_user ON devices (tenant_id, user_id);

CREATE TABLE sessions (
    id              TEXT    PRIMARY KEY NOT NULL,
    tenant_id       TEXT    NOT NULL REFERENCES tenants(id),
    user_id         TEXT    NOT NULL REFERENCES users(id),
    device_id       TEXT    NOT NULL REFERENCES devices(id),
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    -- logout, refresh_token_reused, device_revoked
    revoked_reason  TEXT
);
CREATE INDEX sessions_device ON sessions (device_id);

-- `used_at` is set when the token is exchanged (or superseded); presenting a used token again
-- revokes its session. `parent_hash` is the token it was exchanged for, so a retry after a lost
-- answer can be told from a replay (see server/src/store/devices.rs).
CREATE TABLE refresh_tokens (
    token_hash   TEXT    PRIMARY KEY NOT NULL,
    session_id   TEXT    NOT NULL REFERENCES sessions(id),
    parent_hash  TEXT,
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id, expires_at);
CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent_hash);
