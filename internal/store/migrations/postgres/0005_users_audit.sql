-- Issue 4: users and their sessions, API tokens, team membership, and the
-- audit log. Secrets are stored only as SHA-256 hashes (sessions, tokens) or
-- argon2id hashes (passwords).

CREATE TABLE users (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    email         TEXT COLLATE "C" NOT NULL UNIQUE, -- lower case
    name          TEXT    NOT NULL DEFAULT '',
    -- the role when it is not held through a team: '' for team members and
    -- for users with no role yet
    role          TEXT    NOT NULL DEFAULT '',
    consumer      TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_us    BIGINT  NOT NULL,
    updated_us    BIGINT  NOT NULL,
    last_login_us BIGINT
);

-- One team per user: a role is scoped to at most one team.
CREATE TABLE team_members (
    user_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    team       TEXT COLLATE "C" NOT NULL,
    role       TEXT    NOT NULL,
    created_us BIGINT  NOT NULL
);
CREATE INDEX team_members_team ON team_members (team, user_id);

CREATE TABLE sessions (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY, -- SHA-256 of the session secret
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_us   BIGINT  NOT NULL,
    last_seen_us BIGINT  NOT NULL,
    expires_us   BIGINT  NOT NULL,
    client_ip    TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_us);

CREATE TABLE api_tokens (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    team         TEXT    NOT NULL DEFAULT '',
    consumer     TEXT    NOT NULL DEFAULT '',
    prefix       TEXT    NOT NULL DEFAULT '',
    hash         TEXT    NOT NULL UNIQUE,
    created_by   TEXT    NOT NULL DEFAULT '',
    created_us   BIGINT  NOT NULL,
    expires_us   BIGINT,
    last_used_us BIGINT,
    revoked_us   BIGINT
);

CREATE TABLE audit_log (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    time_us    BIGINT  NOT NULL,
    actor      TEXT COLLATE "C" NOT NULL,
    action     TEXT COLLATE "C" NOT NULL,
    target     TEXT COLLATE "C" NOT NULL DEFAULT '',
    team       TEXT COLLATE "C" NOT NULL DEFAULT '',
    summary    TEXT    NOT NULL DEFAULT '',
    diff       TEXT    NOT NULL DEFAULT '',
    client_ip  TEXT    NOT NULL DEFAULT '',
    request_id TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_time ON audit_log (time_us, id);
CREATE INDEX audit_log_actor_time ON audit_log (actor, time_us, id);
CREATE INDEX audit_log_target_time ON audit_log (target, time_us, id);
CREATE INDEX audit_log_team_time ON audit_log (team, time_us, id);
