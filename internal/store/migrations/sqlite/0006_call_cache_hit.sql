-- Issue 4: whether the answer came from the response cache (no upstream was
-- called).
ALTER TABLE calls ADD COLUMN cache_hit INTEGER NOT NULL DEFAULT 0;
