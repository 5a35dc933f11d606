-- Issue 4: the prompt API (and its version) whose template made a call, so
-- that the quality of versions can be compared; an index for listing one
-- prompt's calls.
ALTER TABLE calls ADD COLUMN prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN prompt_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX calls_prompt_time ON calls (prompt, time_us, id);
