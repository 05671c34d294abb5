-- Organisation: regions (a manager's), teams (a supervisor's reps and merchandisers),
-- territories (the stores a rep or merchandiser covers). Every row carries its tenant; names
-- are unique per tenant (they are the business keys of the CSV import).

CREATE TABLE regions (
    id          TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    manager_id  TEXT REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE teams (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    name           TEXT NOT NULL,
    supervisor_id  TEXT REFERENCES users(id),
    region_id      TEXT REFERENCES regions(id),
    created_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX teams_supervisor ON teams (supervisor_id);
CREATE INDEX teams_region ON teams (region_id);

-- A user is a member of at most one team.
CREATE TABLE team_members (
    user_id    TEXT PRIMARY KEY NOT NULL REFERENCES users(id),
    team_id    TEXT NOT NULL REFERENCES teams(id),
    tenant_id  TEXT NOT NULL REFERENCES tenants(id)
);
CREATE INDEX team_members_team ON team_members (team_id);

CREATE TABLE territories (
    id          TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE territory_stores (
    territory_id  TEXT NOT NULL REFERENCES territories(id),
    store_id      TEXT NOT NULL REFERENCES stores(id),
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    PRIMARY KEY (territory_id, store_id)
);
CREATE INDEX territory_stores_store ON territory_stores (store_id);

CREATE TABLE territory_assignments (
    territory_id  TEXT NOT NULL REFERENCES territories(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    PRIMARY KEY (territory_id, user_id)
);
CREATE INDEX territory_assignments_user ON territory_assignments (user_id);
