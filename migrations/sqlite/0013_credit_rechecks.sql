-- Customers whose credit snapshot changed (put on hold, or their allowance changed): a credit
-- import queues them here and a background job re-checks their open orders, on any instance;
-- the row is deleted when done (docs/verdicts.md, "Re-evaluation").
CREATE TABLE credit_rechecks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT    NOT NULL REFERENCES tenants(id),
    store_id    TEXT    NOT NULL,
    enqueued_at INTEGER NOT NULL,
    -- When a job took it (NULL: waiting); one taken longer ago than the lease is taken again.
    claimed_at  INTEGER
);
CREATE INDEX credit_rechecks_claimed ON credit_rechecks (claimed_at, id);
