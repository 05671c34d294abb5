-- Read scopes (PostgreSQL; the same tables as migrations/sqlite/0006_device_scopes.sql).
--
-- device_scopes: per device, the read scope its documents reflect (fingerprint, whole_tenant
-- flag, store and people ids as JSON arrays), so that a pull can tell what the device must
-- evict or receive when its user's scope changed. `progress` (JSON, owned by sync::pull) is an
-- unfinished change of scope and the pages of it handed out; NULL when there is none. No
-- foreign key to `devices`: the row is keyed by the id the sync request speaks for.
CREATE TABLE device_scopes (
    device_id    TEXT COLLATE "C" PRIMARY KEY,
    tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    fingerprint  TEXT    NOT NULL,
    whole_tenant BOOLEAN NOT NULL,
    stores       TEXT    NOT NULL,
    people       TEXT    NOT NULL,
    progress     TEXT,
    updated_at   BIGINT  NOT NULL
);

-- The master data version taken by the tenant's latest organisation change (teams, regions,
-- territories, users' roles and teams). Every such change also takes a master version, so a
-- device whose master data is older than org_seq gets the complete store list of its scope.
ALTER TABLE tenants ADD COLUMN org_seq BIGINT NOT NULL DEFAULT 0;
