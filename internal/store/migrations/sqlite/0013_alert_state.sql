-- Issue 5: alert states that outlive a node, and the lease that elects the
-- one node that evaluates the rules. Without them every node evaluated and
-- notified, and a restart forgot what was firing and pending.

-- One row per group of a rule, as its last evaluation left it. rule_hash
-- fingerprints the rule's definition: a row of an earlier definition is
-- not taken up, since a changed rule starts over.
CREATE TABLE alert_state (
    rule            TEXT    NOT NULL,
    labels_key      TEXT    NOT NULL, -- fingerprint of the labels
    rule_hash       TEXT    NOT NULL,
    labels          TEXT    NOT NULL DEFAULT '{}', -- JSON object of the group's labels
    state           TEXT    NOT NULL,
    severity        TEXT    NOT NULL DEFAULT '',
    value           REAL,                          -- NULL without data
    requests        INTEGER NOT NULL DEFAULT 0,
    since_us        INTEGER NOT NULL,
    active_since_us INTEGER NOT NULL DEFAULT 0,
    last_active_us  INTEGER NOT NULL DEFAULT 0,
    last_eval_us    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (rule, labels_key)
);

-- A named lease held by one node until expires_us unless renewed.
CREATE TABLE leases (
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_us INTEGER NOT NULL
);
