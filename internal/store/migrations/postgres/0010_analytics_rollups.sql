-- Issue 5: analytics rollups. One row per resolution (60, 3600 or 86400
-- seconds), bucket and key: the aggregate of the calls of that key in that
-- bucket, with DDSketch latency sketches in their compact binary encoding.
-- The three resolutions are fed together as calls are stored, and each is
-- pruned by its own retention.

CREATE TABLE rollups (
    resolution     BIGINT NOT NULL, -- bucket width in seconds
    bucket         BIGINT NOT NULL, -- bucket start, Unix seconds
    service        TEXT    NOT NULL DEFAULT '',
    route          TEXT    NOT NULL DEFAULT '',
    model          TEXT    NOT NULL DEFAULT '',
    provider       TEXT    NOT NULL DEFAULT '',
    consumer       TEXT    NOT NULL DEFAULT '',
    status_class   TEXT    NOT NULL DEFAULT '',
    requests       BIGINT NOT NULL DEFAULT 0,
    errors         BIGINT NOT NULL DEFAULT 0,
    cache_hits     BIGINT NOT NULL DEFAULT 0,
    input_tokens   BIGINT NOT NULL DEFAULT 0,
    output_tokens  BIGINT NOT NULL DEFAULT 0,
    cost_usd       DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_sum_us BIGINT NOT NULL DEFAULT 0,
    latency_sketch BYTEA NOT NULL,
    ttft_sketch    BYTEA NOT NULL,
    PRIMARY KEY (resolution, bucket, service, route, model, provider, consumer, status_class)
);
-- Readers scoped to a team read by consumer or by service over long ranges.
CREATE INDEX rollups_consumer ON rollups (resolution, consumer, bucket);
CREATE INDEX rollups_service ON rollups (resolution, service, bucket);
