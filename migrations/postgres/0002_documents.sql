-- CRDT documents, their changes, the per-tenant feed, and the query projections (PostgreSQL).
-- Same tables and columns as migrations/sqlite/0002_documents.sql: ids TEXT uuids (collation
-- "C", byte order as in SQLite), timestamps BIGINT millis, Automerge bytes BYTEA.

-- One row per Automerge document. `version` is bumped by every write (optimistic concurrency);
-- `snapshot` holds Automerge::save() bytes covering every change with seq <= snapshot_seq.
CREATE TABLE documents (
    id           TEXT COLLATE "C" PRIMARY KEY,
    tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    kind         TEXT   NOT NULL CHECK (kind IN ('visit', 'order')),
    version      BIGINT NOT NULL,
    snapshot     BYTEA,
    snapshot_seq BIGINT NOT NULL DEFAULT 0,
    last_seq     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX documents_tenant_last_seq ON documents (tenant_id, last_seq);

-- Changes stored after the document's snapshot. `id` gives the storage order; `seq` is the feed
-- seq of the write that stored the change; device_id/user_id say who sent it (pulls skip the
-- device's own changes).
CREATE TABLE doc_changes (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doc_id    TEXT COLLATE "C" NOT NULL REFERENCES documents(id),
    hash      BYTEA  NOT NULL,
    bytes     BYTEA  NOT NULL,
    seq       BIGINT NOT NULL,
    device_id TEXT COLLATE "C" NOT NULL,
    user_id   TEXT COLLATE "C" NOT NULL,
    UNIQUE (doc_id, hash)
);
CREATE INDEX doc_changes_doc_seq ON doc_changes (doc_id, seq);

-- One row per stored write. The random mark lets the server recognise its own cursors: a
-- cursor whose (seq, mark) is not here comes from another feed (restored backup, other server).
CREATE TABLE feed (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    seq       BIGINT NOT NULL,
    doc_id    TEXT COLLATE "C" NOT NULL REFERENCES documents(id),
    mark      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

-- Query projection of visit documents: filter columns + the hydrated JSON.
CREATE TABLE visits (
    doc_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES documents(id),
    tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    store_id     TEXT COLLATE "C" NOT NULL,
    person_id    TEXT COLLATE "C" NOT NULL,
    planned_date TEXT COLLATE "C" NOT NULL,
    status       TEXT   NOT NULL,
    updated_seq  BIGINT NOT NULL,
    document     TEXT   NOT NULL
);
CREATE INDEX visits_tenant_date ON visits (tenant_id, planned_date, doc_id);
CREATE INDEX visits_tenant_store_date ON visits (tenant_id, store_id, planned_date);
CREATE INDEX visits_tenant_person_date ON visits (tenant_id, person_id, planned_date);

-- Query projection of order documents.
CREATE TABLE orders (
    doc_id      TEXT COLLATE "C" PRIMARY KEY REFERENCES documents(id),
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    store_id    TEXT COLLATE "C" NOT NULL,
    person_id   TEXT COLLATE "C" NOT NULL,
    order_date  TEXT COLLATE "C" NOT NULL,
    status      TEXT   NOT NULL,
    number      TEXT COLLATE "C" NOT NULL,
    updated_seq BIGINT NOT NULL,
    document    TEXT   NOT NULL
);
CREATE INDEX orders_tenant_date ON orders (tenant_id, order_date, doc_id);
CREATE INDEX orders_tenant_store_date ON orders (tenant_id, store_id, order_date);
CREATE INDEX orders_tenant_person_date ON orders (tenant_id, person_id, order_date);
CREATE INDEX orders_tenant_number ON orders (tenant_id, number);
