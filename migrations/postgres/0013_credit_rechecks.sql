-- Customers whose credit snapshot changed (put on hold, or their allowance changed): a credit
-- import queues them here and a background job re-checks their open orders, on any instance;
-- the row is deleted when done (docs/verdicts.md, "Re-evaluation").
CREATE TABLE credit_rechecks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    store_id    TEXT COLLATE "C" NOT NULL,
    enqueued_at BIGINT NOT NULL,
    -- When a job took it (NULL: waiting); one taken longer ago than the lease is taken again.
    claimed_at  BIGINT
);
CREATE INDEX credit_rechecks_claimed ON credit_rechecks (claimed_at, id);
