-- Directory: tenants, users, master data, photo metadata.
-- Ids are TEXT uuids, times INTEGER unix milliseconds, money INTEGER minor units.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    -- Sync feed counter: `UPDATE tenants SET feed_seq = feed_seq + 1 WHERE id = ? RETURNING feed_seq`.
    feed_seq    INTEGER NOT NULL DEFAULT 0,
    -- Master data counter: every master upsert takes the next value as the rows' `version`.
    master_seq  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('merchandiser', 'rep', 'supervisor', 'manager', 'admin')),
    code           TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, username),
    UNIQUE (tenant_id, code)
);

CREATE TABLE stores (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    code                TEXT NOT NULL,
    name                TEXT NOT NULL,
    channel             TEXT NOT NULL CHECK (channel IN ('nka', 'rka', 'lka', 'other')),
    grade               TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C')),
    address             TEXT NOT NULL,
    lat                 REAL NOT NULL,
    lon                 REAL NOT NULL,
    geofence_radius_m   INTEGER NOT NULL,
    delivery_lead_days  INTEGER NOT NULL,
    version             INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (tenant_id, code)
);
CREATE INDEX stores_tenant_version ON stores (tenant_id, version);

CREATE TABLE products (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    sku              TEXT NOT NULL,
    name             TEXT NOT NULL,
    case_pack        INTEGER NOT NULL,
    sold_by_case     INTEGER NOT NULL,
    shelf_life_days  INTEGER NOT NULL,
    list_price       INTEGER NOT NULL,
    floor_price      INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, sku)
);
CREATE INDEX products_tenant_version ON products (tenant_id, version);

CREATE TABLE credit_snapshots (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    store_id      TEXT NOT NULL REFERENCES stores(id),
    credit_limit  INTEGER NOT NULL,
    receivables   INTEGER NOT NULL,
    overdue       INTEGER NOT NULL,
    as_of         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, store_id)
);
CREATE INDEX credit_snapshots_tenant_version ON credit_snapshots (tenant_id, version);

CREATE TABLE photos (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    sha256        TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    uploaded_by   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);
