-- Issue 4: the service and route that took a call (empty for the gateway's
-- own /v1 endpoints), and an index for listing one service's calls.
ALTER TABLE calls ADD COLUMN service TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN route TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_service_time ON calls (service, time_us, id);
