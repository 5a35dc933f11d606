-- Issue 3: the request fields a translation left out on purpose (no
-- counterpart upstream), as a JSON array of their names.
ALTER TABLE calls ADD COLUMN dropped TEXT NOT NULL DEFAULT '';
