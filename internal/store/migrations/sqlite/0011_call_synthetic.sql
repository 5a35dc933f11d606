-- Issue 5: calls made by synthetic probes, not clients, so that analytics
-- can leave them out and a probe's results can be listed.
ALTER TABLE calls ADD COLUMN synthetic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN probe TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_probe_time ON calls (probe, time_us, id);
