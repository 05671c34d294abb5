-- The heads of each document as of its last write: the SHA-256 hashes of the changes no other
-- change depends on, concatenated (32 bytes each). The pull signs them into a receipt
-- (docs/protocol.md, "Receipts"); NULL for documents not written since this column was added.
ALTER TABLE documents ADD COLUMN heads BYTEA;
