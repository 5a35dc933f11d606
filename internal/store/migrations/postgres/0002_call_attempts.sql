-- Issue 3: every attempt of a call (target, key id, status, latency, error) as
-- a JSON array, whether a fallback model answered, and whether the token
-- counts were estimated because the upstream reported none.
ALTER TABLE calls ADD COLUMN attempts TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN fallback BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE calls ADD COLUMN usage_estimated BOOLEAN NOT NULL DEFAULT FALSE;
