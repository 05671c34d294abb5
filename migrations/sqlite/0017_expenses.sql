-- no-transaction
-- Expenses (docs/expenses.md): a fourth document kind, the server's findings on it, its query
-- projection, and each tenant's monthly expense budget.
--
-- SQLite cannot change a CHECK constraint in place: `documents` is rebuilt with 'expense'
-- among its kinds (as in 0016, foreign keys off for the swap).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE documents_with_expenses (
    id           TEXT    PRIMARY KEY NOT NULL,
    tenant_id    TEXT    NOT NULL REFERENCES tenants(id),
    kind         TEXT    NOT NULL CHECK (kind IN ('visit', 'order', 'plan', 'expense')),
    version      INTEGER NOT NULL,
    snapshot     BLOB,
    snapshot_seq INTEGER NOT NULL DEFAULT 0,
    last_seq     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
INSERT INTO documents_with_expenses
    (id, tenant_id, kind, version, snapshot, snapshot_seq, last_seq, created_at, updated_at)
    SELECT id, tenant_id, kind, version, snapshot, snapshot_seq, last_seq, created_at, updated_at
    FROM documents;
DROP TABLE documents;
ALTER TABLE documents_with_expenses RENAME TO documents;
CREATE INDEX documents_tenant_last_seq ON documents (tenant_id, last_seq);

-- The server's findings may be on an expense (its verdict, docs/verdicts.md): `findings` is
-- rebuilt the same way with 'expense' among its document kinds.
CREATE TABLE findings_with_expenses (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    doc_id        TEXT NOT NULL,
    doc_kind      TEXT NOT NULL CHECK (doc_kind IN ('visit', 'order', 'expense')),
    doc_heads     TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('rule_verdict', 'cross_device')),
    source        TEXT NOT NULL,
    rule_id       TEXT NOT NULL,
    rule_version  INTEGER NOT NULL,
    severity      TEXT NOT NULL CHECK (severity IN ('flag', 'needs_approval', 'block')),
    code          TEXT NOT NULL,
    message       TEXT NOT NULL,
    field         TEXT,
    inputs        TEXT NOT NULL,
    data_version  INTEGER,
    outcome       TEXT NOT NULL CHECK (outcome IN ('held', 'flagged', 'noted')),
    created_at    INTEGER NOT NULL
);
INSERT INTO findings_with_expenses
    (id, tenant_id, doc_id, doc_kind, doc_heads, kind, source, rule_id, rule_version,
     severity, code, message, field, inputs, data_version, outcome, created_at)
    SELECT id, tenant_id, doc_id, doc_kind, doc_heads, kind, source, rule_id, rule_version,
           severity, code, message, field, inputs, data_version, outcome, created_at
    FROM findings;
DROP TABLE findings;
ALTER TABLE findings_with_expenses RENAME TO findings;
CREATE INDEX findings_doc ON findings (tenant_id, doc_id, id);
CREATE INDEX findings_flagged_code ON findings (tenant_id, code, doc_id) WHERE outcome <> 'noted';

-- Query projection of expense documents. `store_id` is the store the expense was for, if
-- any (read scopes judge an expense by its owner alone); `amount` in minor units.
CREATE TABLE expenses (
    doc_id       TEXT    PRIMARY KEY NOT NULL REFERENCES documents(id),
    tenant_id    TEXT    NOT NULL REFERENCES tenants(id),
    person_id    TEXT    NOT NULL,
    store_id     TEXT,
    expense_date TEXT    NOT NULL,
    expense_type TEXT    NOT NULL,
    amount       INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    approver     TEXT,
    updated_seq  INTEGER NOT NULL,
    document     TEXT    NOT NULL
);
CREATE INDEX expenses_tenant_date ON expenses (tenant_id, expense_date, doc_id);
CREATE INDEX expenses_tenant_person_date ON expenses (tenant_id, person_id, expense_date);

-- A tenant's monthly budget per person: base + achieved sales x ratio_bp / 10000. No row:
-- the defaults (`rules::expense::ExpenseBudget::default`).
CREATE TABLE expense_budgets (
    tenant_id  TEXT    PRIMARY KEY NOT NULL REFERENCES tenants(id),
    base       INTEGER NOT NULL CHECK (base >= 0),
    ratio_bp   INTEGER NOT NULL CHECK (ratio_bp BETWEEN 0 AND 10000),
    updated_at INTEGER NOT NULL
);
COMMIT;
PRAGMA foreign_keys = ON;
