package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notification is one manager alert (see migration 00030).
type Notification struct {
	ID                int64      `json:"id"`
	Key               string     `json:"idempotency_key"`
	Kind              string     `json:"kind"`
	Severity          string     `json:"severity"`
	ConversationID    string     `json:"conversation_id,omitempty"`
	EscalationID      int64      `json:"escalation_id,omitempty"`
	Title             string     `json:"title"`
	Body              string     `json:"body"`
	Channel           string     `json:"channel"`
	Status            string     `json:"status"`
	Error             string     `json:"error,omitempty"`
	Attempts          int        `json:"attempts"`
	TelegramChatID    string     `json:"telegram_chat_id,omitempty"`
	TelegramMessageID int64      `json:"telegram_message_id,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	SentAt            *time.Time `json:"sent_at,omitempty"`
	AcknowledgedAt    *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy    string     `json:"acknowledged_by,omitempty"`
}

// NewNotification is what the notifier records before delivering.
type NewNotification struct {
	Key            string
	Kind           string
	Severity       string
	ConversationID string
	EscalationID   int64
	Title          string
	Body           string
	Channel        string
}

const notificationCols = `id, idempotency_key, kind, severity, coalesce(conversation_id::text, ''), coalesce(escalation_id, 0),
	title, body, channel, status, error, attempts, telegram_chat_id, coalesce(telegram_message_id, 0),
	created_at, updated_at, sent_at, acknowledged_at, acknowledged_by`

func scanNotification(r pgx.Row) (Notification, error) {
	var n Notification
	err := r.Scan(&n.ID, &n.Key, &n.Kind, &n.Severity, &n.ConversationID, &n.EscalationID, &n.Title, &n.Body,
		&n.Channel, &n.Status, &n.Error, &n.Attempts, &n.TelegramChatID, &n.TelegramMessageID,
		&n.CreatedAt, &n.UpdatedAt, &n.SentAt, &n.AcknowledgedAt, &n.AcknowledgedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, ErrNotFound
	}
	return n, err
}

// CreateNotification records an alert once per key. created is false when the key exists
// already (a retried activity); the stored row is returned either way.
func (s *Store) CreateNotification(ctx context.Context, in NewNotification) (n Notification, created bool, err error) {
	if in.Severity == "" {
		in.Severity = "info"
	}
	n, err = scanNotification(s.Pool.QueryRow(ctx, `
		INSERT INTO notifications (idempotency_key, kind, severity, conversation_id, escalation_id, title, body, channel)
		VALUES ($1, $2, $3, nullif($4, '')::uuid, nullif($5, 0), $6, $7, $8)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING `+notificationCols,
		in.Key, in.Kind, in.Severity, in.ConversationID, in.EscalationID, in.Title, in.Body, in.Channel))
	if err == nil {
		return n, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return n, false, fmt.Errorf("record notification %s: %w", in.Key, err)
	}
	n, err = s.NotificationByKey(ctx, in.Key)
	return n, false, err
}

// NotificationByKey returns the alert recorded under an idempotency key.
func (s *Store) NotificationByKey(ctx context.Context, key string) (Notification, error) {
	n, err := scanNotification(s.Pool.QueryRow(ctx, `SELECT `+notificationCols+` FROM notifications WHERE idempotency_key = $1`, key))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("read notification %s: %w", key, err)
	}
	return n, err
}

// MarkNotificationSent records delivery (for Telegram, the chat and message id).
func (s *Store) MarkNotificationSent(ctx context.Context, id int64, chatID string, messageID int64) error {
	_, err := s.Pool.Exec(ctx, `
		UPDATE notifications SET status = 'sent', error = '', attempts = attempts + 1, telegram_chat_id = $2,
		    telegram_message_id = nullif($3, 0), sent_at = now(), updated_at = now()
		WHERE id = $1`, id, chatID, messageID)
	if err != nil {
		return fmt.Errorf("mark notification %d sent: %w", id, err)
	}
	return nil
}

// MarkNotificationFailed records a failed delivery attempt; the row stays visible as failed
// until a later attempt succeeds.
func (s *Store) MarkNotificationFailed(ctx context.Context, id int64, reason string) error {
	_, err := s.Pool.Exec(ctx, `
		UPDATE notifications SET status = 'failed', error = left($2, 2000), attempts = attempts + 1, updated_at = now()
		WHERE id = $1 AND status <> 'sent'`, id, reason)
	if err != nil {
		return fmt.Errorf("mark notification %d failed: %w", id, err)
	}
	return nil
}

// AcknowledgeNotification marks an alert as seen in the console.
func (s *Store) AcknowledgeNotification(ctx context.Context, id int64, by string) (Notification, error) {
	n, err := scanNotification(s.Pool.QueryRow(ctx, `
		UPDATE notifications SET acknowledged_at = coalesce(acknowledged_at, now()),
		    acknowledged_by = CASE WHEN acknowledged_by = '' THEN $2 ELSE acknowledged_by END, updated_at = now()
		WHERE id = $1 RETURNING `+notificationCols, id, by))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("acknowledge notification %d: %w", id, err)
	}
	return n, err
}

// NotificationFilter narrows ListNotifications.
type NotificationFilter struct {
	Status         string // pending | sent | failed | "" (all)
	ConversationID string
	EscalationID   int64
	Unacknowledged bool
	Limit          int
	BeforeID       int64 // keyset pagination: rows with a smaller id
}

// ListNotifications returns alerts, newest first.
func (s *Store) ListNotifications(ctx context.Context, f NotificationFilter) ([]Notification, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+notificationCols+` FROM notifications
		WHERE ($1 = '' OR status = $1)
		  AND ($2 = '' OR conversation_id = nullif($2, '')::uuid)
		  AND ($3 = 0 OR escalation_id = $3)
		  AND (NOT $4 OR acknowledged_at IS NULL)
		  AND ($5 = 0 OR id < $5)
		ORDER BY id DESC LIMIT $6`, f.Status, f.ConversationID, f.EscalationID, f.Unacknowledged, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Notification, error) { return scanNotification(r) })
}
