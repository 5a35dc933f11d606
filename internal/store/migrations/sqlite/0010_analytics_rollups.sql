-- Issue 5: analytics rollups. One row per resolution (60, 3600 or 86400
-- seconds), bucket and key: the aggregate of the calls of that key in that
-- bucket, with DDSketch latency sketches in their compact binary encoding.
-- The three resolutions are fed together as calls are stored, and each is
-- pruned by its own retention.

CREATE TABLE rollups (
    resolution     INTEGER NOT NULL, -- bucket width in seconds
    bucket         INTEGER NOT NULL, -- bucket start, Unix seconds
    service        TEXT    NOT NULL DEFAULT '',
    route          TEXT    NOT NULL DEFAULT '',
    model          TEXT    NOT NULL DEFAULT '',
    provider       TEXT    NOT NULL DEFAULT '',
    consumer       TEXT    NOT NULL DEFAULT '',
    status_class   TEXT    NOT NULL DEFAULT '',
    requests       INTEGER NOT NULL DEFAULT 0,
    errors         INTEGER NOT NULL DEFAULT 0,
    cache_hits     INTEGER NOT NULL DEFAULT 0,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_usd       REAL NOT NULL DEFAULT 0,
    latency_sum_us INTEGER NOT NULL DEFAULT 0,
    latency_sketch BLOB NOT NULL,
    ttft_sketch    BLOB NOT NULL,
    PRIMARY KEY (resolution, bucket, service, route, model, provider, consumer, status_class)
);
-- Readers scoped to a team read by consumer or by service over long ranges.
CREATE INDEX rollups_consumer ON rollups (resolution, consumer, bucket);
CREATE INDEX rollups_service ON rollups (resolution, service, bucket);
