-- Follow-up chains (after a quotation, payment reminders, the post-delivery feedback
-- request, inactivity) and each step they sent, blocked or skipped — so "blocked: no
-- template" is recorded and visible, and follow-up effectiveness can be reported.

-- +goose Up
CREATE TABLE follow_ups (
    id              bigserial PRIMARY KEY,
    chain_key       text NOT NULL UNIQUE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('quote', 'payment', 'feedback', 'inactivity')),
    ref             text NOT NULL DEFAULT '',
    workflow_id     text NOT NULL,
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'finished')),
    outcome         text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'replied', 'rejected', 'no_response', 'opted_out',
                        'disabled', 'blocked', 'completed', 'human_owner', 'stopped')),
    outcome_detail  text NOT NULL DEFAULT '',
    steps_sent      integer NOT NULL DEFAULT 0,
    next_at         timestamptz,
    paused_until    timestamptz,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX follow_ups_conversation_idx ON follow_ups (conversation_id, created_at DESC);
CREATE INDEX follow_ups_active_idx ON follow_ups (state, next_at) WHERE state <> 'finished';

CREATE TABLE follow_up_steps (
    id              bigserial PRIMARY KEY,
    follow_up_id    bigint NOT NULL REFERENCES follow_ups (id) ON DELETE CASCADE,
    step            integer NOT NULL,
    due_at          timestamptz NOT NULL,
    status          text NOT NULL CHECK (status IN ('sent', 'blocked', 'skipped', 'deferred')),
    mode            text NOT NULL DEFAULT '',
    reason          text NOT NULL DEFAULT '',
    idempotency_key text NOT NULL,
    message_id      bigint,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (follow_up_id, step)
);

-- +goose Down
DROP TABLE follow_up_steps;
DROP TABLE follow_ups;
