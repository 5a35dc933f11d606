-- Times are unix microseconds (BIGINT) in every table: they sort, compare and
-- bucket as plain integers and mean the same in SQLite and PostgreSQL.
-- Identifiers use the "C" collation so that keyset pagination orders ids by
-- bytes whatever the database's default locale is.

CREATE TABLE calls (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    time_us        BIGINT  NOT NULL,
    consumer       TEXT COLLATE "C" NOT NULL DEFAULT '',
    key_id         TEXT    NOT NULL DEFAULT '',
    endpoint       TEXT    NOT NULL DEFAULT '',
    model          TEXT COLLATE "C" NOT NULL DEFAULT '',
    provider       TEXT    NOT NULL DEFAULT '',
    upstream_model TEXT    NOT NULL DEFAULT '',
    status         INTEGER NOT NULL DEFAULT 0,
    error_type     TEXT    NOT NULL DEFAULT '',
    error_message  TEXT    NOT NULL DEFAULT '',
    latency_us     BIGINT  NOT NULL DEFAULT 0,
    upstream_us    BIGINT  NOT NULL DEFAULT 0,
    ttft_us        BIGINT  NOT NULL DEFAULT 0,
    input_tokens   BIGINT  NOT NULL DEFAULT 0,
    output_tokens  BIGINT  NOT NULL DEFAULT 0,
    cost_usd       DOUBLE PRECISION NOT NULL DEFAULT 0,
    stream         BOOLEAN NOT NULL DEFAULT FALSE,
    request_bytes  BIGINT  NOT NULL DEFAULT 0,
    response_bytes BIGINT  NOT NULL DEFAULT 0,
    client_ip      TEXT    NOT NULL DEFAULT '',
    user_agent     TEXT    NOT NULL DEFAULT '',
    trace_id       TEXT    NOT NULL DEFAULT '',
    request_body   TEXT    NOT NULL DEFAULT '',
    response_body  TEXT    NOT NULL DEFAULT '',
    -- estimated stored bytes of this row, kept so deletes can update call_usage
    size_bytes     BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX calls_time ON calls (time_us, id);
CREATE INDEX calls_consumer_time ON calls (consumer, time_us, id);
CREATE INDEX calls_model_time ON calls (model, time_us, id);
CREATE INDEX calls_status_time ON calls (status, time_us);

-- Running total of calls.size_bytes: relation sizes do not shrink after
-- deletes, so size-based retention needs a figure that does, read in O(1).
CREATE TABLE call_usage (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    bytes BIGINT  NOT NULL
);
INSERT INTO call_usage (id, bytes) VALUES (1, 0);

-- No foreign key to calls: feedback may arrive before its call is flushed.
CREATE TABLE feedback (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    request_id TEXT COLLATE "C" NOT NULL,
    consumer   TEXT    NOT NULL DEFAULT '',
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    num        DOUBLE PRECISION NOT NULL DEFAULT 0,
    str        TEXT    NOT NULL DEFAULT '',
    comment    TEXT    NOT NULL DEFAULT '',
    created_us BIGINT  NOT NULL,
    updated_us BIGINT  NOT NULL
);
CREATE INDEX feedback_request ON feedback (request_id, created_us);

CREATE TABLE consumer_keys (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    consumer   TEXT COLLATE "C" NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    prefix     TEXT    NOT NULL DEFAULT '',
    hash       TEXT    NOT NULL UNIQUE,
    created_us BIGINT  NOT NULL,
    revoked_us BIGINT
);
CREATE INDEX consumer_keys_consumer ON consumer_keys (consumer, created_us);

CREATE TABLE config_revisions (
    number     BIGINT  NOT NULL PRIMARY KEY,
    author     TEXT    NOT NULL DEFAULT '',
    message    TEXT    NOT NULL DEFAULT '',
    created_us BIGINT  NOT NULL,
    config     BYTEA   NOT NULL,
    diff       TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
