-- Competitor sightings of visits (docs/competitors.md): one row per sighting, replaced with
-- the visit's projection in the sync transaction, so that reports count sightings per store
-- and week without reading documents. `week_start` is the Monday of the visit's planned date
-- (the week the visit belongs to, as in `plan_entries`); `photos` the number of photos.
CREATE TABLE competitor_sightings (
    visit_id    TEXT COLLATE "C" NOT NULL REFERENCES visits(doc_id),
    sighting_id TEXT COLLATE "C" NOT NULL,
    tenant_id   TEXT COLLATE "C" NOT NULL,
    store_id    TEXT COLLATE "C" NOT NULL,
    person_id   TEXT COLLATE "C" NOT NULL,
    week_start  TEXT COLLATE "C" NOT NULL,
    competitor  TEXT    NOT NULL,
    seen        TEXT,
    shelf_price BIGINT,
    promotion   TEXT,
    display     TEXT,
    photos      BIGINT NOT NULL,
    by_id       TEXT COLLATE "C" NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (visit_id, sighting_id)
);
CREATE INDEX competitor_sightings_tenant_week ON competitor_sightings (tenant_id, week_start, store_id);
