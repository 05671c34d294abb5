-- Sales targets (docs/targets.md): yearly targets split to quarters, months and reps, in
-- amount and volume, by product category where given; and the requests that change one, kept
-- as its history.
--
-- `period` is `2026`, `2026-Q1` or `2026-03`, with its first and last day. `person_id` is ''
-- for the company's own target, `category` '' for all products (so one key has one row).
CREATE TABLE targets (
    id           TEXT COLLATE "C" PRIMARY KEY,
    tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    period       TEXT COLLATE "C" NOT NULL,
    period_start TEXT COLLATE "C" NOT NULL,
    period_end   TEXT COLLATE "C" NOT NULL,
    person_id    TEXT COLLATE "C" NOT NULL,
    category     TEXT COLLATE "C" NOT NULL,
    amount       BIGINT  NOT NULL CHECK (amount >= 0),
    volume       BIGINT  NOT NULL CHECK (volume >= 0),
    updated_at   BIGINT  NOT NULL,
    UNIQUE (tenant_id, period, person_id, category)
);
CREATE INDEX targets_tenant_person ON targets (tenant_id, person_id, period_start);

-- A change of a target: requested with a reason and the new values, decided by a manager.
-- Rows are never deleted: together they are the target's history.
CREATE TABLE target_changes (
    id           TEXT COLLATE "C" PRIMARY KEY,
    tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    target_id    TEXT COLLATE "C" NOT NULL REFERENCES targets(id),
    requested_by TEXT COLLATE "C" NOT NULL,
    requested_at BIGINT  NOT NULL,
    reason       TEXT    NOT NULL,
    old_amount   BIGINT  NOT NULL,
    old_volume   BIGINT  NOT NULL,
    new_amount   BIGINT  NOT NULL CHECK (new_amount >= 0),
    new_volume   BIGINT  NOT NULL CHECK (new_volume >= 0),
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by   TEXT COLLATE "C",
    decided_at   BIGINT ,
    comment      TEXT
);
CREATE INDEX target_changes_target ON target_changes (tenant_id, target_id, requested_at);
