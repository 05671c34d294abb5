-- no-transaction
-- Weekly visit plans (docs/plans.md): a third document kind, and its query projections.
--
-- SQLite cannot change a CHECK constraint in place: `documents` is rebuilt with 'plan' among
-- its kinds (the documented table-rebuild procedure, with foreign keys off for the swap, so
-- the tables that reference `documents` keep their rows and their references).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE documents_with_plans (
    id           TEXT    PRIMARY KEY NOT NULL,
    tenant_id    TEXT    NOT NULL REFERENCES tenants(id),
    kind         TEXT    NOT NULL CHECK (kind IN ('visit', 'order', 'plan')),
    version      INTEGER NOT NULL,
    snapshot     BLOB,
    snapshot_seq INTEGER NOT NULL DEFAULT 0,
    last_seq     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
INSERT INTO documents_with_plans
    (id, tenant_id, kind, version, snapshot, snapshot_seq, last_seq, created_at, updated_at)
    SELECT id, tenant_id, kind, version, snapshot, snapshot_seq, last_seq, created_at, updated_at
    FROM documents;
DROP TABLE documents;
ALTER TABLE documents_with_plans RENAME TO documents;
CREATE INDEX documents_tenant_last_seq ON documents (tenant_id, last_seq);

-- Query projection of plan documents: one per rep and ISO week (`week` as 2026-W50,
-- `week_start` its Monday).
CREATE TABLE plans (
    doc_id      TEXT    PRIMARY KEY NOT NULL REFERENCES documents(id),
    tenant_id   TEXT    NOT NULL REFERENCES tenants(id),
    person_id   TEXT    NOT NULL,
    week        TEXT    NOT NULL,
    week_start  TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    updated_seq INTEGER NOT NULL,
    document    TEXT    NOT NULL
);
CREATE INDEX plans_tenant_week ON plans (tenant_id, week_start, doc_id);
CREATE INDEX plans_tenant_person_week ON plans (tenant_id, person_id, week_start);

-- The entries of each plan, replaced with its projection: what the visit-frequency report
-- counts as planned.
CREATE TABLE plan_entries (
    plan_id    TEXT    NOT NULL REFERENCES plans(doc_id),
    tenant_id  TEXT    NOT NULL,
    person_id  TEXT    NOT NULL,
    week_start TEXT    NOT NULL,
    store_id   TEXT    NOT NULL,
    day        TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    pinned     INTEGER NOT NULL,
    PRIMARY KEY (plan_id, store_id)
);
CREATE INDEX plan_entries_tenant_week ON plan_entries (tenant_id, week_start, person_id);
COMMIT;
PRAGMA foreign_keys = ON;
