-- The retail chain of a store ('' : none): must-carry ranges may be agreed per chain.
ALTER TABLE stores ADD COLUMN chain TEXT COLLATE "C" NOT NULL DEFAULT '';

-- The must-carry range (docs/assortment.md): each row says a SKU must be on the shelf of one
-- store (`store_id`; `chain` and `channel` ''), of every store of a chain in a channel
-- (`chain`, `channel`; `store_id` '') or of every store of a channel (`channel`; the others
-- ''), with the safety stock agreed, if any. An import replaces the tenant's rows as a whole.
CREATE TABLE assortment (
    tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    store_id     TEXT COLLATE "C" NOT NULL,
    chain        TEXT COLLATE "C" NOT NULL,
    channel      TEXT COLLATE "C" NOT NULL,
    sku          TEXT COLLATE "C" NOT NULL,
    safety_stock BIGINT CHECK (safety_stock IS NULL OR safety_stock >= 0),
    version      BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, store_id, chain, channel, sku),
    CHECK ((store_id <> '' AND chain = '' AND channel = '') OR (store_id = '' AND channel <> ''))
);
CREATE INDEX assortment_channel ON assortment (tenant_id, channel);

-- The master version of the last assortment import: the range is sent to devices whose
-- `since` is older (the rows of a replaced range are gone, so the rows cannot say it).
ALTER TABLE tenants ADD COLUMN assortment_version BIGINT NOT NULL DEFAULT 0;
