-- Who brought each photo reference into its document: the user whose push added it. A
-- reference grants read access to a stored photo only when its adder is the photo's uploader
-- (docs/read-scopes.md, "Photos"): a SHA-256 written into one's own visit proves nothing.
-- References stored before this migration have no adder and keep granting.
ALTER TABLE photo_refs ADD COLUMN added_by TEXT;
