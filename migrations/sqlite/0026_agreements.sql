-- Annual agreements (docs/agreements.md): what one store (`store_id`, `chain` and `channel`
-- '') or a chain's stores in a channel (`chain`, `channel`) agreed for a calendar `year`:
-- listed SKUs (space-separated, sorted; '' for none) with a listing fee, display weeks,
-- shelf-position weeks and promotions, each with its fee (minor units). An import replaces the
-- agreements of the years it names. Not master data of the phones: no version.
CREATE TABLE agreements (
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    year                 INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    code                 TEXT NOT NULL,
    title                TEXT NOT NULL,
    store_id             TEXT NOT NULL,
    chain                TEXT NOT NULL,
    channel              TEXT NOT NULL,
    listed_skus          TEXT NOT NULL,
    listing_fee          INTEGER CHECK (listing_fee IS NULL OR listing_fee >= 0),
    display_weeks        INTEGER CHECK (display_weeks IS NULL OR display_weeks BETWEEN 1 AND 53),
    display_fee          INTEGER CHECK (display_fee IS NULL OR display_fee >= 0),
    shelf_position_weeks INTEGER CHECK (shelf_position_weeks IS NULL OR shelf_position_weeks BETWEEN 1 AND 53),
    shelf_position_fee   INTEGER CHECK (shelf_position_fee IS NULL OR shelf_position_fee >= 0),
    promotions           INTEGER CHECK (promotions IS NULL OR promotions BETWEEN 1 AND 1000),
    promotion_fee        INTEGER CHECK (promotion_fee IS NULL OR promotion_fee >= 0),
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, year, code),
    CHECK ((store_id <> '' AND chain = '' AND channel = '') OR (store_id = '' AND chain <> '' AND channel <> ''))
);
