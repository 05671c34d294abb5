-- Pictures of success (docs/picture-of-success.md): what the shelf of the stores of the scope
-- should look like (one store: `store_id`, `chain` and `channel` ''; a chain's stores in a
-- channel: `chain`, `channel`; every store of a channel: `channel`; as for the must-carry
-- range): a checklist of weighted points (`points`, the JSON of
-- `Vec<shared::master::SuccessPoint>`, in the file's order) and reference photos
-- (`reference_photos`, SHA-256s, space-separated, sorted; '' for none). At most one picture per
-- scope. An import replaces the tenant's pictures as a whole.
CREATE TABLE success_pictures (
    tenant_id        TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    code             TEXT COLLATE "C" NOT NULL,
    title            TEXT NOT NULL,
    store_id         TEXT COLLATE "C" NOT NULL,
    chain            TEXT COLLATE "C" NOT NULL,
    channel          TEXT COLLATE "C" NOT NULL,
    points           TEXT NOT NULL,
    reference_photos TEXT COLLATE "C" NOT NULL,
    version          BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, code),
    UNIQUE (tenant_id, store_id, chain, channel),
    CHECK ((store_id <> '' AND chain = '' AND channel = '') OR (store_id = '' AND channel <> ''))
);

-- The master version of the last import of pictures: they are sent to devices whose `since`
-- is older (the rows of replaced pictures are gone, so the rows cannot say it).
ALTER TABLE tenants ADD COLUMN success_pictures_version BIGINT NOT NULL DEFAULT 0;
