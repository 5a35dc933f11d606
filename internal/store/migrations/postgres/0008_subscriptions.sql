-- Issue 4: subscriptions of consumers to services with their approval
-- state, the services' OpenAPI documents for the catalog, and an optional
-- expiry on consumer keys (set by key rotation or at creation).

-- One row per consumer and service: asking again after a rejection or a
-- revocation reopens the same row; the audit log keeps the history.
CREATE TABLE subscriptions (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    consumer     TEXT COLLATE "C" NOT NULL,
    service      TEXT COLLATE "C" NOT NULL,
    state        TEXT COLLATE "C" NOT NULL, -- pending, approved, rejected, revoked
    reason       TEXT    NOT NULL DEFAULT '',
    requested_by TEXT    NOT NULL DEFAULT '',
    decided_by   TEXT    NOT NULL DEFAULT '',
    created_us   BIGINT  NOT NULL,
    updated_us   BIGINT  NOT NULL,
    decided_us   BIGINT
);
CREATE UNIQUE INDEX subscriptions_consumer_service ON subscriptions (consumer, service);
CREATE INDEX subscriptions_service ON subscriptions (service, created_us);
CREATE INDEX subscriptions_state ON subscriptions (state, created_us);

CREATE TABLE service_openapi (
    service      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    document     BYTEA   NOT NULL, -- as uploaded or fetched, JSON or YAML
    media_type   TEXT    NOT NULL, -- application/json or application/yaml
    openapi      TEXT    NOT NULL, -- the document's openapi version, 3.x.y
    title        TEXT    NOT NULL DEFAULT '',
    version      TEXT    NOT NULL DEFAULT '', -- info.version
    source_url   TEXT    NOT NULL DEFAULT '', -- where it was imported from; '' when uploaded
    sha256       TEXT    NOT NULL,
    updated_by   TEXT    NOT NULL DEFAULT '',
    updated_us   BIGINT  NOT NULL
);

ALTER TABLE consumer_keys ADD COLUMN expires_us BIGINT;
