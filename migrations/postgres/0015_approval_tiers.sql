-- Each tenant's approval tiers (docs/verdicts.md, "Approval tiers"): how far a rep, a supervisor
-- and a manager may go alone (discount, order amount, expense), as the JSON of
-- `shared::tiers::ApprovalTiers`, validated before it is written. A tenant without a row has the
-- defaults. `version` is the master version the tiers were written at: they travel to the
-- phones with the master data, and the server knows whether a phone's recorded master version
-- had them.
CREATE TABLE approval_tiers (
    tenant_id  TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES tenants(id),
    tiers      TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
