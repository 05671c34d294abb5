-- Near-duplicate photos (docs/photo-uploads.md): the 64-bit perceptual hash of each photo's
-- server thumbnail. `hash`: the 64 bits as a signed integer; `algorithm`: which hash (rows
-- of another algorithm are ignored and recomputed); `stored_at`: when the photo was stored
-- (unix ms), from which the 90-day lookup window counts; `recorded_at`: when the row was
-- written (unix ms), by which the in-memory indexes of every instance catch up. Photos the
-- server cannot decode (HEIC) have no row. Existing photos get theirs from the background
-- backfill.
CREATE TABLE photo_hashes (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    sha256     TEXT NOT NULL,
    algorithm  TEXT NOT NULL,
    hash       INTEGER NOT NULL,
    stored_at  INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);
-- Loading a tenant's index and catching up: its hashes in the order they were written.
CREATE INDEX photo_hashes_tenant_recorded ON photo_hashes (tenant_id, recorded_at, sha256);
