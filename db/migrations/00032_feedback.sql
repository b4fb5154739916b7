-- Post-delivery feedback collected by the save_feedback tool: one row per conversation and
-- order, filled in as the customer answers (ratings 1–5, would recommend, comment).

-- +goose Up
CREATE TABLE feedback (
    id              bigserial PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    order_ref       text NOT NULL DEFAULT '',
    overall         smallint CHECK (overall BETWEEN 1 AND 5),
    delivery        smallint CHECK (delivery BETWEEN 1 AND 5),
    would_recommend boolean,
    comment         text NOT NULL DEFAULT '',
    language        text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, order_ref)
);
CREATE INDEX feedback_created_idx ON feedback (created_at DESC);

-- +goose Down
DROP TABLE feedback;
