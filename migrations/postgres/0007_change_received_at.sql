-- When the server stored each change (unix millis, server clock), written in the transaction
-- that stores the change, next to the change's own timestamp (the author's clock) for the
-- audit trail (GET /v1/documents/{id}/history). Changes stored before this migration keep
-- NULL: unknown. A nullable column without a default: no table rewrite.
ALTER TABLE doc_changes ADD COLUMN received_at BIGINT;
