-- Sales targets (docs/targets.md): yearly targets split to quarters, months and reps, in
-- amount and volume, by product category where given; and the requests that change one, kept
-- as its history.
--
-- `period` is `2026`, `2026-Q1` or `2026-03`, with its first and last day. `person_id` is ''
-- for the company's own target, `category` '' for all products (so one key has one row).
CREATE TABLE targets (
    id           TEXT    PRIMARY KEY NOT NULL,
    tenant_id    TEXT    NOT NULL REFERENCES tenants(id),
    period       TEXT    NOT NULL,
    period_start TEXT    NOT NULL,
    period_end   TEXT    NOT NULL,
    person_id    TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    amount       INTEGER NOT NULL CHECK (amount >= 0),
    volume       INTEGER NOT NULL CHECK (volume >= 0),
    updated_at   INTEGER NOT NULL,
    UNIQUE (tenant_id, period, person_id, category)
);
CREATE INDEX targets_tenant_person ON targets (tenant_id, person_id, period_start);

-- A change of a target: requested with a reason and the new values, decided by a manager.
-- Rows are never deleted: together they are the target's history.
CREATE TABLE target_changes (
    id           TEXT    PRIMARY KEY NOT NULL,
    tenant_id    TEXT    NOT NULL REFERENCES tenants(id),
    target_id    TEXT    NOT NULL REFERENCES targets(id),
    requested_by TEXT    NOT NULL,
    requested_at INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    old_amount   INTEGER NOT NULL,
    old_volume   INTEGER NOT NULL,
    new_amount   INTEGER NOT NULL CHECK (new_amount >= 0),
    new_volume   INTEGER NOT NULL CHECK (new_volume >= 0),
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by   TEXT,
    decided_at   INTEGER,
    comment      TEXT
);
CREATE INDEX target_changes_target ON target_changes (tenant_id, target_id, requested_at);
