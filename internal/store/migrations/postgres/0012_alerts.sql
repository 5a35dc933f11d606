-- Issue 5: alert rules' history of transitions and silences. The rules
-- themselves live in the configuration; their current state is in memory.

-- One row per transition of one group of a rule.
CREATE TABLE alert_events (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    time_us    BIGINT  NOT NULL,
    rule       TEXT COLLATE "C" NOT NULL,
    labels     TEXT    NOT NULL DEFAULT '{}', -- JSON object of the group's labels
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    severity   TEXT    NOT NULL DEFAULT '',
    value      DOUBLE PRECISION,              -- NULL without data
    silenced   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX alert_events_time ON alert_events (time_us, id);
CREATE INDEX alert_events_rule ON alert_events (rule, time_us);

CREATE TABLE alert_silences (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    matchers   TEXT    NOT NULL, -- JSON array of {name, value, regex}
    start_us   BIGINT  NOT NULL,
    end_us     BIGINT  NOT NULL,
    author     TEXT    NOT NULL,
    comment    TEXT    NOT NULL DEFAULT '',
    created_us BIGINT  NOT NULL
);
CREATE INDEX alert_silences_end ON alert_silences (end_us);
