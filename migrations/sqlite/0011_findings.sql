-- Findings: what the server's rules found on a submitted document (rule verdicts) and the
-- flags only the server can raise from every device's data together (cross-device flags).
-- One row per finding, linked to the document and the heads it was judged at; never updated.
-- docs/verdicts.md.
CREATE TABLE findings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    doc_id        TEXT NOT NULL,
    doc_kind      TEXT NOT NULL CHECK (doc_kind IN ('visit', 'order')),
    -- JSON array of the document's heads (hex change hashes) the finding was computed at.
    doc_heads     TEXT NOT NULL,
    -- 'rule_verdict' (a shared rule at submission) or 'cross_device' (a server-only check).
    kind          TEXT NOT NULL CHECK (kind IN ('rule_verdict', 'cross_device')),
    -- Whose data: 'device_basis' (what the phone said it used), 'server_data' (the server's
    -- current master data) or 'server' (cross-device checks).
    source        TEXT NOT NULL,
    rule_id       TEXT NOT NULL,
    rule_version  INTEGER NOT NULL,
    severity      TEXT NOT NULL CHECK (severity IN ('flag', 'needs_approval', 'block')),
    code          TEXT NOT NULL,
    message       TEXT NOT NULL,
    field         TEXT,
    -- JSON object: the values the rule used (or the evidence of a cross-device flag).
    inputs        TEXT NOT NULL,
    -- The master data version the finding was computed with (NULL: unknown).
    data_version  INTEGER,
    -- What the server did: 'held' (undid the submission), 'flagged' (kept, for the
    -- supervisor) or 'noted' (agrees with what the phone did).
    outcome       TEXT NOT NULL CHECK (outcome IN ('held', 'flagged', 'noted')),
    created_at    INTEGER NOT NULL
);
-- Findings of a document, newest last.
CREATE INDEX findings_doc ON findings (tenant_id, doc_id, id);
-- Flagged documents of a tenant by code.
CREATE INDEX findings_flagged_code ON findings (tenant_id, code, doc_id) WHERE outcome <> 'noted';
