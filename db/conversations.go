package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Conversation is one (channel, chat) pair and its current state.
type Conversation struct {
	ID                    string          `json:"id"`
	ChannelID             string          `json:"channel_id"`
	ChatID                string          `json:"chat_id"`
	ChatType              string          `json:"chat_type"`
	CustomerName          string          `json:"customer_name"`
	Language              string          `json:"language"`
	Stage                 string          `json:"stage"`
	Status                string          `json:"status"`
	Owner                 string          `json:"owner"`
	NeedsHuman            bool            `json:"needs_human"`
	NeedsHumanReason      string          `json:"needs_human_reason"`
	Facts                 json.RawMessage `json:"facts"`
	Summary               string          `json:"summary"`
	SummaryThrough        int64           `json:"summary_through_message"`
	OptedOut              bool            `json:"opted_out"`
	WorkflowID            string          `json:"workflow_id"`
	CreatedAt             time.Time       `json:"created_at"`
	UpdatedAt             time.Time       `json:"updated_at"`
	LastCustomerMessageAt *time.Time      `json:"last_customer_message_at"`
	LastMessageAt         *time.Time      `json:"last_message_at"`
	MessageCount          int             `json:"message_count"`
}

const conversationCols = `c.id::text, c.channel_id, c.chat_id, c.chat_type, c.customer_name, c.language, c.stage,
	c.status, c.owner, c.needs_human, c.needs_human_reason, c.facts, c.summary, c.summary_through_message,
	c.opted_out, c.workflow_id, c.created_at, c.updated_at, c.last_customer_message_at, c.last_message_at,
	(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)`

func scanConversation(row pgx.Row) (Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.ChannelID, &c.ChatID, &c.ChatType, &c.CustomerName, &c.Language, &c.Stage,
		&c.Status, &c.Owner, &c.NeedsHuman, &c.NeedsHumanReason, &c.Facts, &c.Summary, &c.SummaryThrough,
		&c.OptedOut, &c.WorkflowID, &c.CreatedAt, &c.UpdatedAt, &c.LastCustomerMessageAt, &c.LastMessageAt, &c.MessageCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// Conversation reads one conversation by id.
func (s *Store) Conversation(ctx context.Context, id string) (Conversation, error) {
	if !isUUID(id) {
		return Conversation{}, ErrNotFound
	}
	c, err := scanConversation(s.Pool.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations c WHERE c.id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return c, fmt.Errorf("read conversation: %w", err)
	}
	return c, err
}

// ConversationByChat finds the conversation of a (channel, chat).
func (s *Store) ConversationByChat(ctx context.Context, channelID, chatID string) (Conversation, error) {
	return scanConversation(s.Pool.QueryRow(ctx,
		`SELECT `+conversationCols+` FROM conversations c WHERE c.channel_id = $1 AND c.chat_id = $2`, channelID, chatID))
}

// InboundInput is a message that arrived on the webhook (customer or manager).
type InboundInput struct {
	ChannelID         string
	ChatID            string
	ChatType          string
	ProviderMessageID string
	Author            string // customer | manager
	AuthorName        string
	ContactName       string
	Kind              string
	Text              string
	MediaURL          string
	At                time.Time
}

// InboundResult says what RecordInbound did.
type InboundResult struct {
	ConversationID string
	MessageID      int64
	// Duplicate: the provider id was seen before; nothing new was stored.
	Duplicate bool
	// NeedsSignal: the workflow has not (confirmed) received this message yet.
	NeedsSignal bool
}

// RecordInbound stores an inbound message exactly once per provider message id, creating the
// conversation on first contact. A manager message makes the chat human-owned in the same
// transaction, so a send that checks ownership right after sees it. It is one round trip
// (the noor_record_inbound function): this is the webhook's hot path.
func (s *Store) RecordInbound(ctx context.Context, in InboundInput) (InboundResult, error) {
	var res InboundResult
	if in.ChatType == "" {
		in.ChatType = "whatsapp"
	}
	if in.Kind == "" {
		in.Kind = "text"
	}
	if in.At.IsZero() {
		in.At = time.Now()
	}
	var msgID *int64
	err := s.Pool.QueryRow(ctx, `SELECT conversation_id::text, message_id, duplicate, needs_signal
		FROM noor_record_inbound($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		in.ChannelID, in.ChatID, in.ChatType, in.ProviderMessageID, in.Author, in.AuthorName, in.ContactName,
		in.Kind, in.Text, in.MediaURL, in.At).Scan(&res.ConversationID, &msgID, &res.Duplicate, &res.NeedsSignal)
	if err != nil {
		return res, fmt.Errorf("record inbound message: %w", err)
	}
	if msgID != nil {
		res.MessageID = *msgID
	}
	return res, err
}

// MarkSignaled records that the workflow has the message.
func (s *Store) MarkSignaled(ctx context.Context, providerMessageID string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE inbound_ledger SET signaled_at = now() WHERE provider_message_id = $1 AND signaled_at IS NULL`,
		providerMessageID)
	return err
}

// ConversationState is what the workflow persists after a turn or a state change.
type ConversationState struct {
	ID               string
	Stage            string
	Language         string
	Status           string
	Owner            string
	NeedsHuman       bool
	NeedsHumanReason string
	Facts            json.RawMessage
}

// SaveConversationState writes the workflow's view of the conversation.
func (s *Store) SaveConversationState(ctx context.Context, st ConversationState) error {
	facts := st.Facts
	if len(facts) == 0 {
		facts = json.RawMessage(`{}`)
	}
	_, err := s.Pool.Exec(ctx, `
		UPDATE conversations SET stage = $2, language = $3, status = $4, owner = $5, needs_human = $6,
		    needs_human_reason = $7, facts = $8, updated_at = now()
		WHERE id = $1`, st.ID, st.Stage, st.Language, st.Status, st.Owner, st.NeedsHuman, st.NeedsHumanReason, facts)
	if err != nil {
		return fmt.Errorf("save conversation state: %w", err)
	}
	return nil
}

// SetOwner changes who owns the chat (bot or human).
func (s *Store) SetOwner(ctx context.Context, id, owner string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE conversations SET owner = $2, updated_at = now() WHERE id = $1`, id, owner)
	return err
}

// SaveSummary stores the facts-only summary of messages up to throughMessage.
func (s *Store) SaveSummary(ctx context.Context, id, summary string, throughMessage int64) error {
	_, err := s.Pool.Exec(ctx, `UPDATE conversations SET summary = $2, summary_through_message = $3, updated_at = now()
		WHERE id = $1 AND summary_through_message <= $3`, id, summary, throughMessage)
	return err
}

// Message is one stored message.
type Message struct {
	ID                int64           `json:"id"`
	ConversationID    string          `json:"conversation_id"`
	Direction         string          `json:"direction"`
	Author            string          `json:"author"`
	AuthorName        string          `json:"author_name"`
	Kind              string          `json:"kind"`
	Text              string          `json:"text"`
	MediaURL          string          `json:"media_url"`
	ProviderMessageID *string         `json:"provider_message_id"`
	Language          string          `json:"language"`
	Model             string          `json:"model"`
	PromptTokens      int             `json:"prompt_tokens"`
	CompletionTokens  int             `json:"completion_tokens"`
	CostUSD           float64         `json:"cost_usd"`
	TurnID            *int64          `json:"turn_id"`
	Metadata          json.RawMessage `json:"metadata"`
	CreatedAt         time.Time       `json:"created_at"`
	DeliveryStatus    *string         `json:"delivery_status,omitempty"`
}

const messageCols = `m.id, m.conversation_id::text, m.direction, m.author, m.author_name, m.kind, m.text, m.media_url,
	m.provider_message_id, m.language, m.model, m.prompt_tokens, m.completion_tokens, m.cost_usd::float8, m.turn_id,
	m.metadata, m.created_at,
	(SELECT o.status FROM outbound_ledger o WHERE o.message_id = m.id LIMIT 1)`

func scanMessages(rows pgx.Rows) ([]Message, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) {
		var m Message
		err := r.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.Author, &m.AuthorName, &m.Kind, &m.Text, &m.MediaURL,
			&m.ProviderMessageID, &m.Language, &m.Model, &m.PromptTokens, &m.CompletionTokens, &m.CostUSD, &m.TurnID,
			&m.Metadata, &m.CreatedAt, &m.DeliveryStatus)
		return m, err
	})
}

// Messages returns a conversation's messages in order; afterID > 0 returns only newer ones,
// limit > 0 keeps the last `limit`.
func (s *Store) Messages(ctx context.Context, conversationID string, afterID int64, limit int) ([]Message, error) {
	if !isUUID(conversationID) {
		return nil, ErrNotFound
	}
	q := `SELECT ` + messageCols + ` FROM messages m WHERE m.conversation_id = $1 AND m.id > $2 ORDER BY m.id`
	args := []any{conversationID, afterID}
	if limit > 0 {
		q = `SELECT * FROM (SELECT ` + messageCols + ` FROM messages m WHERE m.conversation_id = $1 AND m.id > $2
			ORDER BY m.id DESC LIMIT $3) t ORDER BY 1`
		args = append(args, limit)
	}
	rows, err := s.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return scanMessages(rows)
}

// MessagesByID returns the given messages in id order.
func (s *Store) MessagesByID(ctx context.Context, ids []int64) ([]Message, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+messageCols+` FROM messages m WHERE m.id = ANY($1) ORDER BY m.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	return scanMessages(rows)
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return false
			}
		}
	}
	return true
}
