-- The admin console: users and their sessions, the audit log of admin writes, prompt
-- versions, and the last known state of each external provider.

-- +goose Up
CREATE TABLE users (
    id              bigserial PRIMARY KEY,
    username        text NOT NULL CHECK (username ~ '^[A-Za-z0-9._@-]{2,64}$'),
    display_name    text NOT NULL DEFAULT '',
    role            text NOT NULL CHECK (role IN ('admin', 'manager')),
    password_hash   text NOT NULL,
    disabled        boolean NOT NULL DEFAULT false,
    -- Lock-out: consecutive failures since the last success, and when the lock ends.
    failed_logins   integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    last_login_at   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

-- Server-side sessions. The cookie holds a random token; only its SHA-256 is stored, so a
-- database dump cannot be replayed as a login.
CREATE TABLE console_sessions (
    token_hash   text PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    remote_ip    text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX console_sessions_user_idx ON console_sessions (user_id);
CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);

-- Every admin write (and every login) with who, when, what, before and after.
CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,
    role      text NOT NULL DEFAULT '',
    action    text NOT NULL,
    target    text NOT NULL DEFAULT '',
    before    jsonb,
    after     jsonb,
    remote_ip text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);

-- Prompts edited in the console. Every save is a new version; the active one is served to
-- the workflows from the next turn on. Rollback = a new version equal to an old one.
CREATE TABLE prompts (
    name           text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
    active_version integer NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text NOT NULL DEFAULT 'system'
);

CREATE TABLE prompt_versions (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL REFERENCES prompts (name) ON DELETE CASCADE,
    version    integer NOT NULL CHECK (version > 0),
    body       text NOT NULL,
    author     text NOT NULL,
    note       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version)
);

-- The last success and the last error of each provider (messaging, llm, crm, …), written
-- by the activities that call them and shown on the console's providers panel.
CREATE TABLE provider_status (
    name          text PRIMARY KEY,
    last_ok_at    timestamptz,
    last_error    text NOT NULL DEFAULT '',
    last_error_at timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE provider_status;
DROP TABLE prompt_versions;
DROP TABLE prompts;
DROP TABLE audit_log;
DROP TABLE console_sessions;
DROP TABLE users;
