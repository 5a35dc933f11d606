-- Issue 6: feedback, complete. Each item now says who gave it (source,
-- author) and what it says of the call (polarity, judged by the score's
-- definition when it is given). Feedback given before this migration came
-- through consumer keys, and only a boolean said anything: true is
-- positive, false negative.
ALTER TABLE feedback ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
ALTER TABLE feedback ADD COLUMN author TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback ADD COLUMN polarity TEXT NOT NULL DEFAULT '';
UPDATE feedback SET polarity = CASE WHEN num <> 0 THEN 'positive' ELSE 'negative' END WHERE kind = 'boolean';
-- The call list finds calls by feedback ("helpful:false", "negative")
-- with a subquery on these, never a scan of the feedback.
CREATE INDEX feedback_name_value ON feedback (name, kind, num, str, request_id);
CREATE INDEX feedback_polarity ON feedback (polarity, request_id);

-- Feedback on developer-portal documentation pages: no call, a page path.
CREATE TABLE page_feedback (
    id         TEXT NOT NULL PRIMARY KEY,
    page       TEXT NOT NULL,
    consumer   TEXT NOT NULL DEFAULT '',
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    num        REAL NOT NULL DEFAULT 0,
    str        TEXT    NOT NULL DEFAULT '',
    comment    TEXT    NOT NULL DEFAULT '',
    source     TEXT    NOT NULL DEFAULT '',
    author     TEXT    NOT NULL DEFAULT '',
    polarity   TEXT    NOT NULL DEFAULT '',
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL
);
CREATE INDEX page_feedback_page ON page_feedback (page, updated_us);

-- Publishable keys: browser-safe keys that may only post feedback on their
-- consumer's calls, from the origins listed (comma-separated; none: no
-- browser origin). Stored hashed, like consumer keys.
CREATE TABLE publishable_keys (
    id         TEXT NOT NULL PRIMARY KEY,
    consumer   TEXT NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    prefix     TEXT    NOT NULL DEFAULT '',
    hash       TEXT    NOT NULL UNIQUE,
    origins    TEXT    NOT NULL DEFAULT '',
    created_us INTEGER NOT NULL,
    revoked_us INTEGER
);
CREATE INDEX publishable_keys_consumer ON publishable_keys (consumer, created_us);
