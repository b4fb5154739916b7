-- Manager alerts (escalations, SLA, reminders, failures) go through one notifier. Every alert
-- is a row here first: the console lists them (that is the whole channel when Telegram is
-- not configured), and an alert that could not be delivered stays visible as 'failed'.
-- Also the escalation columns the escalation workflow records beyond 00001.

-- +goose Up
CREATE TABLE notifications (
    id                  bigserial PRIMARY KEY,
    idempotency_key     text NOT NULL UNIQUE CHECK (length(idempotency_key) <= 240),
    kind                text NOT NULL,
    severity            text NOT NULL DEFAULT 'info' CHECK (severity IN ('info', 'warning', 'critical')),
    conversation_id     uuid REFERENCES conversations (id) ON DELETE SET NULL,
    escalation_id       bigint REFERENCES escalations (id) ON DELETE SET NULL,
    title               text NOT NULL,
    body                text NOT NULL DEFAULT '',
    channel             text NOT NULL CHECK (channel IN ('telegram', 'console')),
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    error               text NOT NULL DEFAULT '',
    attempts            integer NOT NULL DEFAULT 0,
    telegram_chat_id    text NOT NULL DEFAULT '',
    telegram_message_id bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    acknowledged_at     timestamptz,
    acknowledged_by     text NOT NULL DEFAULT ''
);
CREATE INDEX notifications_created_idx ON notifications (created_at DESC);
CREATE INDEX notifications_undelivered_idx ON notifications (created_at DESC) WHERE status <> 'sent';
CREATE INDEX notifications_escalation_idx ON notifications (escalation_id) WHERE escalation_id IS NOT NULL;

ALTER TABLE escalations
    ADD COLUMN taken_via     text NOT NULL DEFAULT '',
    ADD COLUMN resolved_via  text NOT NULL DEFAULT '',
    ADD COLUMN sla_missed_at timestamptz,
    ADD COLUMN acks_sent     integer NOT NULL DEFAULT 0,
    ADD COLUMN reminders_sent integer NOT NULL DEFAULT 0,
    ADD COLUMN customer_messages integer NOT NULL DEFAULT 0,
    ADD COLUMN workflow_id   text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE escalations
    DROP COLUMN taken_via, DROP COLUMN resolved_via, DROP COLUMN sla_missed_at, DROP COLUMN acks_sent,
    DROP COLUMN reminders_sent, DROP COLUMN customer_messages, DROP COLUMN workflow_id;
DROP TABLE notifications;
