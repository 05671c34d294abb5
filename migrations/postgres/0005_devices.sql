-- Devices, sessions and refresh tokens (PostgreSQL; the same tables as
-- migrations/sqlite/0005_devices.sql, see there and docs/auth.md).

CREATE TABLE devices (
    id             TEXT COLLATE "C" PRIMARY KEY,
    tenant_id      TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    user_id        TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    actor_id       TEXT COLLATE "C" NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    platform       TEXT NOT NULL,
    registered_at  BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX devices_tenant_user ON devices (tenant_id, user_id);

CREATE TABLE sessions (
    id              TEXT COLLATE "C" PRIMARY KEY,
    tenant_id       TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    device_id       TEXT COLLATE "C" NOT NULL REFERENCES devices(id),
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    revoked_reason  TEXT
);
CREATE INDEX sessions_device ON sessions (device_id);

CREATE TABLE refresh_tokens (
    token_hash   TEXT COLLATE "C" PRIMARY KEY,
    session_id   TEXT COLLATE "C" NOT NULL REFERENCES sessions(id),
    parent_hash  TEXT COLLATE "C",
    issued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id, expires_at);
CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent_hash);
