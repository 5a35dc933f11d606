-- Issue 6: triage. One incident per fingerprint (the unique constraint
-- makes concurrent writers and several nodes upsert the same row), its
-- counts per clock hour, the distinct consumers and end users it affected
-- (counted exactly: a row per value), its newest sample calls and notes.

CREATE TABLE incidents (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    fingerprint    TEXT COLLATE "C" NOT NULL UNIQUE,
    kind           TEXT    NOT NULL,
    service        TEXT    NOT NULL DEFAULT '',
    route          TEXT    NOT NULL DEFAULT '',
    endpoint       TEXT    NOT NULL DEFAULT '',
    provider       TEXT    NOT NULL DEFAULT '',
    model          TEXT    NOT NULL DEFAULT '',
    status_class   TEXT    NOT NULL DEFAULT '',
    error_code     TEXT    NOT NULL DEFAULT '',
    message        TEXT    NOT NULL DEFAULT '',
    flag           TEXT    NOT NULL DEFAULT '',
    finish_reason  TEXT    NOT NULL DEFAULT '',
    score          TEXT    NOT NULL DEFAULT '',
    severity       TEXT    NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'open',
    regressed      BOOLEAN NOT NULL DEFAULT FALSE,
    regressions    INTEGER NOT NULL DEFAULT 0,
    first_seen_us  BIGINT NOT NULL,
    last_seen_us   BIGINT NOT NULL,
    count          BIGINT NOT NULL DEFAULT 0,
    consumers      BIGINT NOT NULL DEFAULT 0,
    end_users      BIGINT NOT NULL DEFAULT 0,
    state_us       BIGINT NOT NULL,
    state_by       TEXT    NOT NULL DEFAULT '',
    resolved_us    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX incidents_last_seen ON incidents (last_seen_us);
CREATE INDEX incidents_state ON incidents (state, last_seen_us);
CREATE INDEX incidents_service ON incidents (service, last_seen_us);

CREATE TABLE incident_hours (
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    hour_us     BIGINT NOT NULL,
    count       BIGINT NOT NULL,
    PRIMARY KEY (incident_id, hour_us)
);
CREATE INDEX incident_hours_hour ON incident_hours (hour_us);

-- kind: consumer, end_user, or once (a key counted at most once, such as a
-- piece of feedback that toggles).
CREATE TABLE incident_subjects (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (incident_id, kind, value)
);
CREATE INDEX incident_subjects_value ON incident_subjects (kind, value);

CREATE TABLE incident_samples (
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    request_id  TEXT    NOT NULL,
    time_us     BIGINT NOT NULL,
    PRIMARY KEY (incident_id, request_id)
);

CREATE TABLE incident_notes (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    author      TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    time_us     BIGINT NOT NULL
);
CREATE INDEX incident_notes_incident ON incident_notes (incident_id, time_us);
