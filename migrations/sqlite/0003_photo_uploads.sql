-- Photo upload protocol (docs/photo-uploads.md): declared uploads, and which documents reference
-- which photos (for the orphan clean-up).

-- One row per declared upload. At most one `uploading` row per (tenant, sha256): declaring the
-- same photo again while it is open resumes it. `part_size`/`parts` describe the split the device
-- was told (single: one part of `size_bytes`); `multipart_id` is the object store's upload id.
CREATE TABLE photo_uploads (
    id            TEXT    PRIMARY KEY NOT NULL,
    tenant_id     TEXT    NOT NULL REFERENCES tenants(id),
    sha256        TEXT    NOT NULL,
    size_bytes    INTEGER NOT NULL,
    content_type  TEXT    NOT NULL,
    mode          TEXT    NOT NULL CHECK (mode IN ('single', 'multipart')),
    part_size     INTEGER NOT NULL,
    parts         INTEGER NOT NULL,
    multipart_id  TEXT,
    status        TEXT    NOT NULL CHECK (status IN ('uploading', 'stored', 'failed', 'expired')),
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX photo_uploads_open ON photo_uploads (tenant_id, sha256) WHERE status = 'uploading';
-- The clean-up: open uploads older than the maximum age.
CREATE INDEX photo_uploads_status_created ON photo_uploads (status, created_at);

-- The photos each document references now (visit.photos), replaced with the document's
-- projection in the sync transaction.
CREATE TABLE photo_refs (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    doc_id     TEXT NOT NULL REFERENCES documents(id),
    sha256     TEXT NOT NULL,
    PRIMARY KEY (doc_id, sha256)
);
CREATE INDEX photo_refs_tenant_sha ON photo_refs (tenant_id, sha256);
-- Orphan search: photos by age.
CREATE INDEX photos_created ON photos (created_at);

-- References of the visits stored before this migration (their photos map is in the projection).
INSERT OR IGNORE INTO photo_refs (tenant_id, doc_id, sha256)
SELECT v.tenant_id, v.doc_id, lower(p.key)
FROM visits v,
     json_each(CASE WHEN json_valid(v.document) AND json_type(v.document, '$.photos') = 'object'
                    THEN json_extract(v.document, '$.photos') ELSE '{}' END) p
WHERE length(p.key) = 64;
