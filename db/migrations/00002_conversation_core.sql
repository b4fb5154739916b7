-- Conversation core: turns (one per debounced burst of customer messages) and their steps
-- (each LLM call and each tool call, with inputs, outputs, tokens and cost), so the
-- transcript and prompts stay in PostgreSQL and out of Temporal history.

-- +goose Up
CREATE TABLE turns (
    id                bigserial PRIMARY KEY,
    conversation_id   uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq               integer NOT NULL,
    message_ids       bigint[] NOT NULL DEFAULT '{}',
    status            text NOT NULL DEFAULT 'running' CHECK (status IN (
                          'running', 'replied', 'skipped', 'escalated', 'apologised', 'failed')),
    language          text NOT NULL DEFAULT '',
    stage_before      text NOT NULL DEFAULT '',
    stage_after       text NOT NULL DEFAULT '',
    debounce_closed_at timestamptz,
    started_at        timestamptz NOT NULL DEFAULT now(),
    reply_ready_at    timestamptz,
    send_started_at   timestamptz,
    finished_at       timestamptz,
    reply_message_id  bigint REFERENCES messages (id) ON DELETE SET NULL,
    prompt_tokens     integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    cost_usd          numeric(12, 6) NOT NULL DEFAULT 0,
    note              text NOT NULL DEFAULT '',
    UNIQUE (conversation_id, seq)
);

CREATE TABLE turn_steps (
    id                bigserial PRIMARY KEY,
    turn_id           bigint NOT NULL REFERENCES turns (id) ON DELETE CASCADE,
    round             integer NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('llm', 'tool')),
    name              text NOT NULL,
    call_id           text NOT NULL DEFAULT '',
    input             jsonb NOT NULL DEFAULT '{}'::jsonb,
    output            jsonb NOT NULL DEFAULT '{}'::jsonb,
    summary           text NOT NULL DEFAULT '',
    model             text NOT NULL DEFAULT '',
    prompt_tokens     integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    cost_usd          numeric(12, 6) NOT NULL DEFAULT 0,
    duration_ms       integer NOT NULL DEFAULT 0,
    error             text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- An activity retried after a crash rewrites its own step instead of adding a second one.
    UNIQUE (turn_id, kind, round, call_id)
);
CREATE INDEX turn_steps_turn_idx ON turn_steps (turn_id, id);

ALTER TABLE messages ADD COLUMN turn_id bigint REFERENCES turns (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE messages DROP COLUMN turn_id;
DROP TABLE turn_steps;
DROP TABLE turns;
