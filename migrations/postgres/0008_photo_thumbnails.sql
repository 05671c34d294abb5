-- Thumbnails first (docs/photo-uploads.md), PostgreSQL: same table and columns as
-- migrations/sqlite/0008_photo_thumbnails.sql.
-- `device`: sent by the device before the photo itself (blob key `device-thumbnails/...`),
-- served while the photo is not stored; `server`: rendered by the server from the stored photo
-- (blob key `thumbnails/...`), replaces the device's. Photos stored before this migration have
-- no row: their thumbnail, if any, is the server's. `size_bytes`: the thumbnail's length.
CREATE TABLE photo_thumbnails (
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    sha256      TEXT COLLATE "C" NOT NULL,
    origin      TEXT   NOT NULL CHECK (origin IN ('device', 'server')),
    size_bytes  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);
-- The clean-up: device thumbnails by age.
CREATE INDEX photo_thumbnails_origin_created ON photo_thumbnails (origin, created_at);
