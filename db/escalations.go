package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Escalation is a row of escalations (00001 plus the columns of 00030).
type Escalation struct {
	ID               int64      `json:"id"`
	ConversationID   string     `json:"conversation_id"`
	Episode          int        `json:"episode"`
	Reason           string     `json:"reason"`
	Kind             string     `json:"kind"`
	TriggeredBy      string     `json:"triggered_by"`
	Status           string     `json:"status"`
	TakenBy          string     `json:"taken_by,omitempty"`
	TakenVia         string     `json:"taken_via,omitempty"`
	ResolvedBy       string     `json:"resolved_by,omitempty"`
	ResolvedVia      string     `json:"resolved_via,omitempty"`
	ResolutionNote   string     `json:"resolution_note,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	TakenAt          *time.Time `json:"taken_at,omitempty"`
	ResolvedAt       *time.Time `json:"resolved_at,omitempty"`
	SLAMissedAt      *time.Time `json:"sla_missed_at,omitempty"`
	AcksSent         int        `json:"acks_sent"`
	RemindersSent    int        `json:"reminders_sent"`
	CustomerMessages int        `json:"customer_messages"`
	WorkflowID       string     `json:"workflow_id"`
}

const escalationCols = `id, conversation_id::text, episode, reason, kind, triggered_by, status, taken_by, taken_via,
	resolved_by, resolved_via, resolution_note, created_at, taken_at, resolved_at, sla_missed_at, acks_sent,
	reminders_sent, customer_messages, workflow_id`

func scanEscalation(r pgx.Row) (Escalation, error) {
	var e Escalation
	err := r.Scan(&e.ID, &e.ConversationID, &e.Episode, &e.Reason, &e.Kind, &e.TriggeredBy, &e.Status, &e.TakenBy,
		&e.TakenVia, &e.ResolvedBy, &e.ResolvedVia, &e.ResolutionNote, &e.CreatedAt, &e.TakenAt, &e.ResolvedAt,
		&e.SLAMissedAt, &e.AcksSent, &e.RemindersSent, &e.CustomerMessages, &e.WorkflowID)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}

// OpenEscalationParams creates (or finds) the row of one escalation episode.
type OpenEscalationParams struct {
	ConversationID string
	Episode        int
	Reason         string
	Kind           string
	TriggeredBy    string
	WorkflowID     string
	At             time.Time
}

// OpenEscalation inserts the episode's row, or returns the existing one (a retried
// activity, a replayed workflow): one row per (conversation, episode).
func (s *Store) OpenEscalation(ctx context.Context, p OpenEscalationParams) (Escalation, error) {
	if p.Kind == "" {
		p.Kind = "other"
	}
	if p.TriggeredBy == "" {
		p.TriggeredBy = "bot"
	}
	_, err := s.Pool.Exec(ctx, `
		INSERT INTO escalations (conversation_id, episode, reason, kind, triggered_by, workflow_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (conversation_id, episode) DO NOTHING`,
		p.ConversationID, p.Episode, p.Reason, p.Kind, p.TriggeredBy, p.WorkflowID, p.At)
	if err != nil {
		return Escalation{}, fmt.Errorf("open escalation: %w", err)
	}
	return s.EscalationByEpisode(ctx, p.ConversationID, p.Episode)
}

// Escalation returns one escalation by id.
func (s *Store) Escalation(ctx context.Context, id int64) (Escalation, error) {
	e, err := scanEscalation(s.Pool.QueryRow(ctx, `SELECT `+escalationCols+` FROM escalations WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("read escalation %d: %w", id, err)
	}
	return e, err
}

// EscalationByEpisode returns the escalation of a conversation's episode.
func (s *Store) EscalationByEpisode(ctx context.Context, conversationID string, episode int) (Escalation, error) {
	e, err := scanEscalation(s.Pool.QueryRow(ctx, `SELECT `+escalationCols+` FROM escalations
		WHERE conversation_id = $1 AND episode = $2`, conversationID, episode))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("read escalation %s/%d: %w", conversationID, episode, err)
	}
	return e, err
}

// TakeEscalation moves pending → in_progress. Taking an escalation someone already took
// (or that is resolved) changes nothing; the current row is returned.
func (s *Store) TakeEscalation(ctx context.Context, id int64, by, via string, at time.Time) (Escalation, error) {
	_, err := s.Pool.Exec(ctx, `
		UPDATE escalations SET status = 'in_progress', taken_by = $2, taken_via = $3, taken_at = $4
		WHERE id = $1 AND status = 'pending'`, id, by, via, at)
	if err != nil {
		return Escalation{}, fmt.Errorf("take escalation %d: %w", id, err)
	}
	return s.Escalation(ctx, id)
}

// ResolveEscalation moves pending or in_progress → resolved with the manager's note. A
// resolve straight from pending is also the first manager response (taken_* are filled).
func (s *Store) ResolveEscalation(ctx context.Context, id int64, by, via, note string, at time.Time) (Escalation, error) {
	_, err := s.Pool.Exec(ctx, `
		UPDATE escalations SET status = 'resolved', resolved_by = $2, resolved_via = $3, resolution_note = $4,
		    resolved_at = $5,
		    taken_by = CASE WHEN taken_by = '' THEN $2 ELSE taken_by END,
		    taken_via = CASE WHEN taken_via = '' THEN $3 ELSE taken_via END,
		    taken_at = coalesce(taken_at, $5)
		WHERE id = $1 AND status <> 'resolved'`, id, by, via, note, at)
	if err != nil {
		return Escalation{}, fmt.Errorf("resolve escalation %d: %w", id, err)
	}
	return s.Escalation(ctx, id)
}

// MarkEscalationSLAMissed records the SLA breach once.
func (s *Store) MarkEscalationSLAMissed(ctx context.Context, id int64, at time.Time) error {
	_, err := s.Pool.Exec(ctx, `UPDATE escalations SET sla_missed_at = coalesce(sla_missed_at, $2) WHERE id = $1`, id, at)
	if err != nil {
		return fmt.Errorf("mark escalation %d SLA missed: %w", id, err)
	}
	return nil
}

// SetEscalationCounters stores the workflow's counters (absolute values, so a retry is harmless).
func (s *Store) SetEscalationCounters(ctx context.Context, id int64, acks, reminders, customerMessages int) error {
	_, err := s.Pool.Exec(ctx, `UPDATE escalations SET acks_sent = greatest(acks_sent, $2),
		reminders_sent = greatest(reminders_sent, $3), customer_messages = greatest(customer_messages, $4) WHERE id = $1`,
		id, acks, reminders, customerMessages)
	if err != nil {
		return fmt.Errorf("update escalation %d counters: %w", id, err)
	}
	return nil
}

// EscalationFilter narrows ListEscalations.
type EscalationFilter struct {
	Status         string // pending | in_progress | resolved | open (= pending or in_progress) | "" (all)
	ConversationID string
	Limit          int
	BeforeID       int64
}

// ListEscalations returns escalations, newest first.
func (s *Store) ListEscalations(ctx context.Context, f EscalationFilter) ([]Escalation, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+escalationCols+` FROM escalations
		WHERE ($1 = '' OR status = $1 OR ($1 = 'open' AND status IN ('pending', 'in_progress')))
		  AND ($2 = '' OR conversation_id = nullif($2, '')::uuid)
		  AND ($3 = 0 OR id < $3)
		ORDER BY id DESC LIMIT $4`, f.Status, f.ConversationID, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list escalations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Escalation, error) { return scanEscalation(r) })
}

// ChatMessage is a stored message as the escalation and follow-up rules read it.
type ChatMessage struct {
	ID             int64     `json:"id"`
	ConversationID string    `json:"conversation_id"`
	Direction      string    `json:"direction"`
	Author         string    `json:"author"`
	Kind           string    `json:"kind"`
	Text           string    `json:"text"`
	MediaURL       string    `json:"media_url,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// ConversationBrief is what alerts and follow-ups need to know about a conversation.
type ConversationBrief struct {
	ID                    string
	ChatID                string // the customer's number: mask it before it leaves the process
	CustomerName          string
	Language              string
	Stage                 string
	Status                string
	Owner                 string
	Summary               string
	Facts                 json.RawMessage
	OptedOut              bool
	LastCustomerMessageAt *time.Time
	// LastMessages are the newest messages, oldest first.
	LastMessages []ChatMessage
}

// ConversationBrief reads a conversation and its last n messages.
func (s *Store) ConversationBrief(ctx context.Context, id string, n int) (ConversationBrief, error) {
	var b ConversationBrief
	err := s.Pool.QueryRow(ctx, `
		SELECT id::text, chat_id, customer_name, language, stage, status, owner, summary, facts, opted_out, last_customer_message_at
		FROM conversations WHERE id = $1`, id).
		Scan(&b.ID, &b.ChatID, &b.CustomerName, &b.Language, &b.Stage, &b.Status, &b.Owner, &b.Summary, &b.Facts,
			&b.OptedOut, &b.LastCustomerMessageAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, ErrNotFound
	}
	if err != nil {
		return b, fmt.Errorf("read conversation %s: %w", id, err)
	}
	if n <= 0 {
		return b, nil
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT id, conversation_id::text, direction, author, kind, text, media_url, created_at FROM (
		    SELECT * FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2
		) m ORDER BY id`, id, n)
	if err != nil {
		return b, fmt.Errorf("read last messages of %s: %w", id, err)
	}
	b.LastMessages, err = pgx.CollectRows(rows, scanChatMessage)
	if err != nil {
		return b, fmt.Errorf("read last messages of %s: %w", id, err)
	}
	return b, nil
}

func scanChatMessage(r pgx.CollectableRow) (ChatMessage, error) {
	var m ChatMessage
	err := r.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Author, &m.Kind, &m.Text, &m.MediaURL, &m.CreatedAt)
	return m, err
}

// ChatMessageByID returns one stored message.
func (s *Store) ChatMessageByID(ctx context.Context, id int64) (ChatMessage, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, conversation_id::text, direction, author, kind, text, media_url, created_at
		FROM messages WHERE id = $1`, id)
	if err != nil {
		return ChatMessage{}, fmt.Errorf("read message %d: %w", id, err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanChatMessage)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("read message %d: %w", id, err)
	}
	return m, nil
}

// MarkOptedOut records that the customer asked for no proactive messages (or lifts it).
func (s *Store) MarkOptedOut(ctx context.Context, conversationID string, optedOut bool) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE conversations SET opted_out = $2, updated_at = now() WHERE id = $1`, conversationID, optedOut)
	if err != nil {
		return fmt.Errorf("record opt-out of %s: %w", conversationID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// LowestActivePrice returns the lowest current price (sale price when on sale) of active
// products whose name or category contains term — a lower bound for "N <term>" orders.
// ok is false when nothing matches.
func (s *Store) LowestActivePrice(ctx context.Context, term string) (price float64, ok bool, err error) {
	term = strings.TrimSpace(term)
	if len(term) < 3 {
		return 0, false, nil
	}
	var p *float64
	err = s.Pool.QueryRow(ctx, `
		SELECT min(coalesce(nullif(sale_price, 0), price))::float8 FROM products
		WHERE active AND price > 0
		  AND (name ILIKE '%' || $1 || '%' OR category ILIKE '%' || $1 || '%' OR parent_category ILIKE '%' || $1 || '%')`,
		term).Scan(&p)
	if err != nil {
		return 0, false, fmt.Errorf("lowest price for %q: %w", term, err)
	}
	if p == nil {
		return 0, false, nil
	}
	return *p, true, nil
}
