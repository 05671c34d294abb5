-- Promotions and display agreements (docs/promotions.md): the stores of the scope (one store:
-- `store_id`, `chain` and `channel` ''; a chain's stores in a channel: `chain`, `channel`;
-- every store of a channel: `channel`; as for the must-carry range) run `mechanic` on `skus`
-- (space-separated, sorted) from `valid_from` to `valid_to` (YYYY-MM-DD, both included). An
-- import replaces the tenant's promotions as a whole.
CREATE TABLE promotions (
    tenant_id       TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    code            TEXT COLLATE "C" NOT NULL,
    title           TEXT NOT NULL,
    valid_from      TEXT COLLATE "C" NOT NULL,
    valid_to        TEXT COLLATE "C" NOT NULL,
    store_id        TEXT COLLATE "C" NOT NULL,
    chain           TEXT COLLATE "C" NOT NULL,
    channel         TEXT COLLATE "C" NOT NULL,
    skus            TEXT COLLATE "C" NOT NULL CHECK (skus <> ''),
    mechanic        TEXT COLLATE "C" NOT NULL,
    promotion_price BIGINT CHECK (promotion_price IS NULL OR promotion_price >= 0),
    fee             BIGINT CHECK (fee IS NULL OR fee >= 0),
    version         BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, code),
    CHECK (valid_from <= valid_to),
    CHECK ((store_id <> '' AND chain = '' AND channel = '') OR (store_id = '' AND channel <> ''))
);

-- The master version of the last promotions import: the promotions are sent to devices whose
-- `since` is older (the rows of replaced promotions are gone, so the rows cannot say it).
ALTER TABLE tenants ADD COLUMN promotions_version BIGINT NOT NULL DEFAULT 0;
