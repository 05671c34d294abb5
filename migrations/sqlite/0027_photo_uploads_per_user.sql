-- One open upload per (tenant, photo, user) instead of per (tenant, photo): a second person
-- attaching the same bytes uploads them under their own upload, rather than waiting for the
-- first person's phone to come back and finish (docs/photo-uploads.md). The first to complete
-- records the photo; the other's `complete` then answers `stored`.
DROP INDEX photo_uploads_open;
CREATE UNIQUE INDEX photo_uploads_open ON photo_uploads (tenant_id, sha256, created_by)
    WHERE status = 'uploading';
