-- Issue 6: hypercare windows. The windows themselves live in the
-- configuration and their reports are computed from the calls; what is
-- kept here is each window's daily report, as stored and sent at the
-- report hour, with the exit criteria's standing in it (ready, and since
-- when), so that the list of windows tells which are ready to leave
-- hypercare without recomputing them, and the history of reports outlives
-- the retention of the calls they were made from.
CREATE TABLE hypercare_reports (
    name           TEXT COLLATE "C" NOT NULL,
    day            TEXT COLLATE "C" NOT NULL, -- YYYY-MM-DD (UTC) of the report
    at_us          BIGINT  NOT NULL, -- the time the report is as of
    created_us     BIGINT  NOT NULL,
    state          TEXT    NOT NULL,
    ready          BOOLEAN NOT NULL DEFAULT FALSE,
    ready_since_us BIGINT  NOT NULL DEFAULT 0,
    summary        TEXT    NOT NULL DEFAULT '',
    report         TEXT    NOT NULL, -- the report as JSON
    PRIMARY KEY (name, day)
);
