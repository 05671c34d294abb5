-- Directory: tenants, users, master data, photo metadata (PostgreSQL).
-- Same tables and columns as migrations/sqlite/0001_directory.sql. Ids are TEXT uuids, times
-- BIGINT unix milliseconds, money BIGINT minor units.
--
-- Text columns that queries sort or compare by range (ids, codes, SKUs, ISO dates) use the "C"
-- collation: byte order, as in SQLite, whatever locale the database was created with
-- (en_US.UTF-8 ignores hyphens at the first level, which would reorder codes and keyset pages).

CREATE TABLE tenants (
    id          TEXT COLLATE "C" PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    -- Sync feed counter: `UPDATE tenants SET feed_seq = feed_seq + n WHERE id = $1 RETURNING feed_seq`.
    -- The row lock that update takes is held to the end of the writing transaction, which is what
    -- makes a tenant's seqs visible in commit order (see server/src/store/postgres/documents.rs).
    feed_seq    BIGINT NOT NULL DEFAULT 0,
    -- Master data counter: every master upsert takes the next value as the rows' `version`.
    master_seq  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT COLLATE "C" PRIMARY KEY,
    tenant_id      TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('merchandiser', 'rep', 'supervisor', 'manager', 'admin')),
    code           TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (tenant_id, username),
    UNIQUE (tenant_id, code)
);

CREATE TABLE stores (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    tenant_id           TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    code                TEXT COLLATE "C" NOT NULL,
    name                TEXT NOT NULL,
    channel             TEXT NOT NULL CHECK (channel IN ('nka', 'rka', 'lka', 'other')),
    grade               TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C')),
    address             TEXT NOT NULL,
    lat                 DOUBLE PRECISION NOT NULL,
    lon                 DOUBLE PRECISION NOT NULL,
    geofence_radius_m   BIGINT NOT NULL,
    delivery_lead_days  BIGINT NOT NULL,
    version             BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (tenant_id, code)
);
CREATE INDEX stores_tenant_version ON stores (tenant_id, version);

CREATE TABLE products (
    tenant_id        TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    sku              TEXT COLLATE "C" NOT NULL,
    name             TEXT NOT NULL,
    case_pack        BIGINT NOT NULL,
    sold_by_case     BOOLEAN NOT NULL,
    shelf_life_days  BIGINT NOT NULL,
    list_price       BIGINT NOT NULL,
    floor_price      BIGINT NOT NULL,
    version          BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, sku)
);
CREATE INDEX products_tenant_version ON products (tenant_id, version);

CREATE TABLE credit_snapshots (
    tenant_id     TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    store_id      TEXT COLLATE "C" NOT NULL REFERENCES stores(id),
    credit_limit  BIGINT NOT NULL,
    receivables   BIGINT NOT NULL,
    overdue       BIGINT NOT NULL,
    as_of         TEXT COLLATE "C" NOT NULL,
    version       BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, store_id)
);
CREATE INDEX credit_snapshots_tenant_version ON credit_snapshots (tenant_id, version);

CREATE TABLE photos (
    tenant_id     TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    sha256        TEXT COLLATE "C" NOT NULL,
    size_bytes    BIGINT NOT NULL,
    content_type  TEXT NOT NULL,
    uploaded_by   TEXT COLLATE "C" NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);
