-- Issue 6: anomaly flags on calls. The detectors set them before a record
-- is stored; calls.flags keeps them with the record (comma-separated, for
-- display), call_flags one row per call and flag so that the call list can
-- find the calls of one flag without scanning the log, and the rollups
-- count the calls with any flag, for anomaly rates.
ALTER TABLE calls ADD COLUMN flags TEXT NOT NULL DEFAULT '';
CREATE TABLE call_flags (
    call_id TEXT NOT NULL,
    flag    TEXT NOT NULL,
    time_us BIGINT NOT NULL, -- the call's time
    PRIMARY KEY (call_id, flag)
);
CREATE INDEX call_flags_flag_time ON call_flags (flag, time_us);
CREATE INDEX call_flags_time ON call_flags (time_us);
ALTER TABLE rollups ADD COLUMN anomalies BIGINT NOT NULL DEFAULT 0;
