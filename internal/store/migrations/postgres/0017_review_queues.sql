-- Issue 6: review queues. An item is one call in one queue, never two
-- (the unique key). The store keeps three states — pending, completed,
-- skipped — and a pending item whose lease_until_us lies ahead is locked by
-- locked_by. review_items_next serves "oldest free item" without a sort.
CREATE TABLE review_items (
    id             TEXT NOT NULL PRIMARY KEY,
    queue          TEXT NOT NULL,
    call_id        TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending',
    added_us       BIGINT NOT NULL,
    added_by       TEXT NOT NULL DEFAULT '',
    assignee       TEXT NOT NULL DEFAULT '',
    locked_by      TEXT NOT NULL DEFAULT '',
    lease_until_us BIGINT NOT NULL DEFAULT 0,
    reviews        INTEGER NOT NULL DEFAULT 0,
    done_us        BIGINT NOT NULL DEFAULT 0,
    UNIQUE (queue, call_id)
);
CREATE INDEX review_items_next ON review_items (queue, state, added_us, id);

-- One verdict per reviewer and item: completed with its scores (a JSON
-- object by dimension; the scores are also stored as feedback), or skipped.
CREATE TABLE review_results (
    item_id  TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    queue    TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    scores   TEXT NOT NULL DEFAULT '{}',
    comment  TEXT NOT NULL DEFAULT '',
    at_us    BIGINT NOT NULL,
    PRIMARY KEY (item_id, reviewer)
);
CREATE INDEX review_results_queue ON review_results (queue, reviewer);
