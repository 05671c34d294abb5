-- Expenses (docs/expenses.md): a fourth document kind, the server's findings on it, its query
-- projection, and each tenant's monthly expense budget.
ALTER TABLE documents DROP CONSTRAINT documents_kind_check;
ALTER TABLE documents ADD CONSTRAINT documents_kind_check
    CHECK (kind IN ('visit', 'order', 'plan', 'expense'));

-- The server's findings may be on an expense (its verdict, docs/verdicts.md).
ALTER TABLE findings DROP CONSTRAINT findings_doc_kind_check;
ALTER TABLE findings ADD CONSTRAINT findings_doc_kind_check
    CHECK (doc_kind IN ('visit', 'order', 'expense'));

-- Query projection of expense documents. `store_id` is the store the expense was for, if
-- any (read scopes judge an expense by its owner alone); `amount` in minor units.
CREATE TABLE expenses (
    doc_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES documents(id),
    tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    person_id    TEXT COLLATE "C" NOT NULL,
    store_id     TEXT COLLATE "C",
    expense_date TEXT COLLATE "C" NOT NULL,
    expense_type TEXT   NOT NULL,
    amount       BIGINT NOT NULL,
    status       TEXT   NOT NULL,
    approver     TEXT,
    updated_seq  BIGINT NOT NULL,
    document     TEXT   NOT NULL
);
CREATE INDEX expenses_tenant_date ON expenses (tenant_id, expense_date, doc_id);
CREATE INDEX expenses_tenant_person_date ON expenses (tenant_id, person_id, expense_date);

-- A tenant's monthly budget per person: base + achieved sales x ratio_bp / 10000. No row:
-- the defaults (`rules::expense::ExpenseBudget::default`).
CREATE TABLE expense_budgets (
    tenant_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES tenants(id),
    base       BIGINT  NOT NULL CHECK (base >= 0),
    ratio_bp   INTEGER NOT NULL CHECK (ratio_bp BETWEEN 0 AND 10000),
    updated_at BIGINT  NOT NULL
);
