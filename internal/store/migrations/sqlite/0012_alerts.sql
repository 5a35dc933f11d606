-- Issue 5: alert rules' history of transitions and silences. The rules
-- themselves live in the configuration; their current state is in memory.

-- One row per transition of one group of a rule.
CREATE TABLE alert_events (
    id        TEXT    NOT NULL PRIMARY KEY,
    time_us    INTEGER NOT NULL,
    rule       TEXT    NOT NULL,
    labels     TEXT    NOT NULL DEFAULT '{}', -- JSON object of the group's labels
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    severity   TEXT    NOT NULL DEFAULT '',
    value      REAL,                        -- NULL without data
    silenced   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_events_time ON alert_events (time_us, id);
CREATE INDEX alert_events_rule ON alert_events (rule, time_us);

CREATE TABLE alert_silences (
    id         TEXT    NOT NULL PRIMARY KEY,
    matchers   TEXT    NOT NULL, -- JSON array of {name, value, regex}
    start_us   INTEGER NOT NULL,
    end_us     INTEGER NOT NULL,
    author     TEXT    NOT NULL,
    comment    TEXT    NOT NULL DEFAULT '',
    created_us INTEGER NOT NULL
);
CREATE INDEX alert_silences_end ON alert_silences (end_us);
