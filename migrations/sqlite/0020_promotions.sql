-- Promotions and display agreements (docs/promotions.md): the stores of the scope (one store:
-- `store_id`, `chain` and `channel` ''; a chain's stores in a channel: `chain`, `channel`;
-- every store of a channel: `channel`; as for the must-carry range) run `mechanic` on `skus`
-- (space-separated, sorted) from `valid_from` to `valid_to` (YYYY-MM-DD, both included). An
-- import replaces the tenant's promotions as a whole.
CREATE TABLE promotions (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    code            TEXT NOT NULL,
    title           TEXT NOT NULL,
    valid_from      TEXT NOT NULL,
    valid_to        TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    chain           TEXT NOT NULL,
    channel         TEXT NOT NULL,
    skus            TEXT NOT NULL CHECK (skus <> ''),
    mechanic        TEXT NOT NULL,
    promotion_price INTEGER CHECK (promotion_price IS NULL OR promotion_price >= 0),
    fee             INTEGER CHECK (fee IS NULL OR fee >= 0),
    version         INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, code),
    CHECK (valid_from <= valid_to),
    CHECK ((store_id <> '' AND chain = '' AND channel = '') OR (store_id = '' AND channel <> ''))
);

-- The master version of the last promotions import: the promotions are sent to devices whose
-- `since` is older (the rows of replaced promotions are gone, so the rows cannot say it).
ALTER TABLE tenants ADD COLUMN promotions_version INTEGER NOT NULL DEFAULT 0;
