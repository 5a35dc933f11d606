-- Issue 6: the public status. Incidents and updates operators write for the
-- public (apart from the triage incidents the gateway finds by itself),
-- the webhooks subscribed to status changes, and each service's last
-- computed level, so that every node and a restarted one agree on what
-- changed and a change is announced once.

CREATE TABLE status_incidents (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    title       TEXT    NOT NULL,
    services    TEXT    NOT NULL DEFAULT '[]', -- JSON array of service names
    impact      TEXT    NOT NULL,
    status      TEXT    NOT NULL,              -- the stage of the latest update
    author      TEXT    NOT NULL DEFAULT '',
    created_us  BIGINT  NOT NULL,
    updated_us  BIGINT  NOT NULL,
    resolved_us BIGINT                         -- NULL while open
);
CREATE INDEX status_incidents_updated ON status_incidents (updated_us);

CREATE TABLE status_incident_updates (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    incident_id TEXT    NOT NULL REFERENCES status_incidents (id) ON DELETE CASCADE,
    status      TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    author      TEXT    NOT NULL DEFAULT '',
    created_us  BIGINT  NOT NULL
);
CREATE INDEX status_incident_updates_incident ON status_incident_updates (incident_id, created_us);

-- Only the env:NAME reference of a subscriber's signing key is stored; it is
-- resolved at each delivery.
CREATE TABLE status_subscribers (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    url        TEXT    NOT NULL,
    secret_ref TEXT    NOT NULL,
    author     TEXT    NOT NULL DEFAULT '',
    created_us BIGINT  NOT NULL
);

CREATE TABLE status_services (
    service    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    level      TEXT    NOT NULL,
    reasons    TEXT    NOT NULL DEFAULT '[]', -- JSON array
    since_us   BIGINT  NOT NULL,
    updated_us BIGINT  NOT NULL
);
