-- Thumbnails first (docs/photo-uploads.md): which thumbnail a photo has and who made it.
-- `device`: sent by the device before the photo itself (blob key `device-thumbnails/...`),
-- served while the photo is not stored; `server`: rendered by the server from the stored photo
-- (blob key `thumbnails/...`), replaces the device's. Photos stored before this migration have
-- no row: their thumbnail, if any, is the server's. `size_bytes`: the thumbnail's length.
CREATE TABLE photo_thumbnails (
    tenant_id   TEXT    NOT NULL REFERENCES tenants(id),
    sha256      TEXT    NOT NULL,
    origin      TEXT    NOT NULL CHECK (origin IN ('device', 'server')),
    size_bytes  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);
-- The clean-up: device thumbnails by age.
CREATE INDEX photo_thumbnails_origin_created ON photo_thumbnails (origin, created_at);
