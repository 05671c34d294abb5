-- Weekly visit plans (docs/plans.md): a third document kind, and its query projections.
ALTER TABLE documents DROP CONSTRAINT documents_kind_check;
ALTER TABLE documents ADD CONSTRAINT documents_kind_check
    CHECK (kind IN ('visit', 'order', 'plan'));

-- Query projection of plan documents: one per rep and ISO week (`week` as 2026-W50,
-- `week_start` its Monday).
CREATE TABLE plans (
    doc_id      TEXT COLLATE "C" PRIMARY KEY REFERENCES documents(id),
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    person_id   TEXT COLLATE "C" NOT NULL,
    week        TEXT COLLATE "C" NOT NULL,
    week_start  TEXT COLLATE "C" NOT NULL,
    status      TEXT   NOT NULL,
    updated_seq BIGINT NOT NULL,
    document    TEXT   NOT NULL
);
CREATE INDEX plans_tenant_week ON plans (tenant_id, week_start, doc_id);
CREATE INDEX plans_tenant_person_week ON plans (tenant_id, person_id, week_start);

-- The entries of each plan, replaced with its projection: what the visit-frequency report
-- counts as planned.
CREATE TABLE plan_entries (
    plan_id    TEXT COLLATE "C" NOT NULL REFERENCES plans(doc_id),
    tenant_id  TEXT COLLATE "C" NOT NULL,
    person_id  TEXT COLLATE "C" NOT NULL,
    week_start TEXT COLLATE "C" NOT NULL,
    store_id   TEXT COLLATE "C" NOT NULL,
    day        TEXT COLLATE "C" NOT NULL,
    seq        BIGINT  NOT NULL,
    reason     TEXT    NOT NULL,
    pinned     BOOLEAN NOT NULL,
    PRIMARY KEY (plan_id, store_id)
);
CREATE INDEX plan_entries_tenant_week ON plan_entries (tenant_id, week_start, person_id);
