-- Issue 4: releases of services — immutable, numbered definitions recorded
-- with every configuration change that changes a service, or made from a
-- draft to serve a canary — drafts being edited, and on each call the
-- release that served it.

CREATE TABLE service_releases (
    service    TEXT COLLATE "C" NOT NULL,
    number     INTEGER NOT NULL,
    team       TEXT    NOT NULL DEFAULT '',
    state      TEXT    NOT NULL DEFAULT '',
    published  BOOLEAN NOT NULL,
    revision   BIGINT  NOT NULL DEFAULT 0, -- the configuration revision that published it; 0 for a canary release
    author     TEXT    NOT NULL DEFAULT '',
    message    TEXT    NOT NULL DEFAULT '',
    created_us BIGINT  NOT NULL,
    diff       TEXT    NOT NULL DEFAULT '', -- one change per line
    definition TEXT    NOT NULL,            -- the service's configuration entry as JSON
    PRIMARY KEY (service, number)
);
CREATE INDEX service_releases_published ON service_releases (service, published, number);

-- One draft per service.
CREATE TABLE service_drafts (
    service    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    team       TEXT    NOT NULL DEFAULT '',
    base       INTEGER NOT NULL DEFAULT 0, -- the release published when the draft was saved
    author     TEXT    NOT NULL DEFAULT '',
    updated_us BIGINT  NOT NULL,
    definition TEXT    NOT NULL
);

ALTER TABLE calls ADD COLUMN service_release INTEGER NOT NULL DEFAULT 0;
