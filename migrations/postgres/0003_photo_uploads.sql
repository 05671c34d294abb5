-- Photo upload protocol (docs/photo-uploads.md), PostgreSQL: same tables and columns as
-- migrations/sqlite/0003_photo_uploads.sql.

-- One row per declared upload. At most one `uploading` row per (tenant, sha256): declaring the
-- same photo again while it is open resumes it. `part_size`/`parts` describe the split the device
-- was told (single: one part of `size_bytes`); `multipart_id` is the object store's upload id.
CREATE TABLE photo_uploads (
    id            TEXT COLLATE "C" PRIMARY KEY,
    tenant_id     TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    sha256        TEXT COLLATE "C" NOT NULL,
    size_bytes    BIGINT NOT NULL,
    content_type  TEXT   NOT NULL,
    mode          TEXT   NOT NULL CHECK (mode IN ('single', 'multipart')),
    part_size     BIGINT NOT NULL,
    parts         BIGINT NOT NULL,
    multipart_id  TEXT,
    status        TEXT   NOT NULL CHECK (status IN ('uploading', 'stored', 'failed', 'expired')),
    created_by    TEXT COLLATE "C" NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX photo_uploads_open ON photo_uploads (tenant_id, sha256) WHERE status = 'uploading';
-- The clean-up: open uploads older than the maximum age.
CREATE INDEX photo_uploads_status_created ON photo_uploads (status, created_at);

-- The photos each document references now (visit.photos), replaced with the document's
-- projection in the sync transaction.
CREATE TABLE photo_refs (
    tenant_id  TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    doc_id     TEXT COLLATE "C" NOT NULL REFERENCES documents(id),
    sha256     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (doc_id, sha256)
);
CREATE INDEX photo_refs_tenant_sha ON photo_refs (tenant_id, sha256);
-- Orphan search: photos by age.
CREATE INDEX photos_created ON photos (created_at);

-- References of the visits stored before this migration (their photos map is in the projection).
INSERT INTO photo_refs (tenant_id, doc_id, sha256)
SELECT v.tenant_id, v.doc_id, lower(p.key)
FROM visits v,
     jsonb_object_keys(CASE WHEN jsonb_typeof(v.document::jsonb -> 'photos') = 'object'
                            THEN v.document::jsonb -> 'photos' ELSE '{}'::jsonb END) AS p(key)
WHERE length(p.key) = 64
ON CONFLICT DO NOTHING;
