-- Issue 4: users and their sessions, API tokens, team membership, and the
-- audit log. Secrets are stored only as SHA-256 hashes (sessions, tokens) or
-- argon2id hashes (passwords).

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE, -- lower case
    name          TEXT    NOT NULL DEFAULT '',
    -- the role when it is not held through a team: '' for team members and
    -- for users with no role yet
    role          TEXT    NOT NULL DEFAULT '',
    consumer      TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_us    INTEGER NOT NULL,
    updated_us    INTEGER NOT NULL,
    last_login_us INTEGER
);

-- One team per user: a role is scoped to at most one team.
CREATE TABLE team_members (
    user_id    TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    team       TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    created_us INTEGER NOT NULL
);
CREATE INDEX team_members_team ON team_members (team, user_id);

CREATE TABLE sessions (
    id           TEXT    NOT NULL PRIMARY KEY, -- SHA-256 of the session secret
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_us   INTEGER NOT NULL,
    last_seen_us INTEGER NOT NULL,
    expires_us   INTEGER NOT NULL,
    client_ip    TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_us);

CREATE TABLE api_tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    team         TEXT    NOT NULL DEFAULT '',
    consumer     TEXT    NOT NULL DEFAULT '',
    prefix       TEXT    NOT NULL DEFAULT '',
    hash         TEXT    NOT NULL UNIQUE,
    created_by   TEXT    NOT NULL DEFAULT '',
    created_us   INTEGER NOT NULL,
    expires_us   INTEGER,
    last_used_us INTEGER,
    revoked_us   INTEGER
);

CREATE TABLE audit_log (
    id         TEXT    NOT NULL PRIMARY KEY,
    time_us    INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL DEFAULT '',
    team       TEXT    NOT NULL DEFAULT '',
    summary    TEXT    NOT NULL DEFAULT '',
    diff       TEXT    NOT NULL DEFAULT '',
    client_ip  TEXT    NOT NULL DEFAULT '',
    request_id TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_time ON audit_log (time_us, id);
CREATE INDEX audit_log_actor_time ON audit_log (actor, time_us, id);
CREATE INDEX audit_log_target_time ON audit_log (target, time_us, id);
CREATE INDEX audit_log_team_time ON audit_log (team, time_us, id);
