package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// OutboundInput is a logical message about to be sent, keyed by its idempotency key.
type OutboundInput struct {
	Key            string
	ConversationID string
	Kind           string // text | document | image | template
	Provider       string
	Text           string
	MediaURL       string
	TurnID         *int64
	Author         string // noor | manager | system
	AuthorName     string
	Language       string
	RespectOwner   bool // bot messages are not sent while a human owns the chat
	Model          string
	PromptTokens   int
	CompletionTok  int
	CostUSD        float64
	Metadata       map[string]any
}

// OutboundRecord is the ledger row with what the sender needs.
type OutboundRecord struct {
	Key               string
	MessageID         int64
	Status            string // pending | sent | delivered | read | error | blocked
	ProviderMessageID string
	Attempts          int
	// Skipped: a human owns the chat and the message is the bot's; nothing was (or will be) sent.
	Skipped   bool
	ChannelID string
	ChatID    string
	ChatType  string
	OptedOut  bool
}

// BeginOutbound records the message before any provider call. Ownership is read under a row
// lock on the conversation, so it is consistent with a manager message arriving at the same
// moment. Calling it again with the same key returns the existing row (a retry).
func (s *Store) BeginOutbound(ctx context.Context, in OutboundInput) (OutboundRecord, error) {
	rec := OutboundRecord{Key: in.Key}
	if in.Kind == "" {
		in.Kind = "text"
	}
	if in.Author == "" {
		in.Author = "noor"
	}
	meta, _ := json.Marshal(in.Metadata)
	if in.Metadata == nil {
		meta = []byte(`{}`)
	}
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var owner string
		err := tx.QueryRow(ctx, `SELECT owner, channel_id, chat_id, chat_type, opted_out FROM conversations WHERE id = $1 FOR UPDATE`,
			in.ConversationID).Scan(&owner, &rec.ChannelID, &rec.ChatID, &rec.ChatType, &rec.OptedOut)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock conversation: %w", err)
		}
		var provID *string
		var msgID *int64
		err = tx.QueryRow(ctx, `SELECT message_id, status, provider_message_id, attempts FROM outbound_ledger WHERE idempotency_key = $1`,
			in.Key).Scan(&msgID, &rec.Status, &provID, &rec.Attempts)
		if err == nil {
			if msgID != nil {
				rec.MessageID = *msgID
			}
			if provID != nil {
				rec.ProviderMessageID = *provID
			}
			if rec.Status == "pending" && in.RespectOwner && owner == "human" {
				// A human took over between attempts: this bot message must not go out now.
				_, err = tx.Exec(ctx, `UPDATE outbound_ledger SET status = 'blocked', error = 'a human took over the chat', updated_at = now()
					WHERE idempotency_key = $1`, in.Key)
				rec.Status, rec.Skipped = "blocked", true
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE outbound_ledger SET attempts = attempts + 1, updated_at = now() WHERE idempotency_key = $1`, in.Key)
			rec.Attempts++
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read outbound ledger: %w", err)
		}
		if in.RespectOwner && owner == "human" {
			rec.Skipped = true
			return nil
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO messages (conversation_id, direction, author, author_name, kind, text, media_url, turn_id,
			                      language, model, prompt_tokens, completion_tokens, cost_usd, metadata)
			VALUES ($1, 'out', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			in.ConversationID, in.Author, in.AuthorName, in.Kind, in.Text, in.MediaURL, in.TurnID, in.Language,
			in.Model, in.PromptTokens, in.CompletionTok, in.CostUSD, meta).Scan(&rec.MessageID)
		if err != nil {
			return fmt.Errorf("store outbound message: %w", err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO outbound_ledger (idempotency_key, conversation_id, message_id, kind, provider, attempts)
			VALUES ($1, $2, $3, $4, $5, 1)`, in.Key, in.ConversationID, rec.MessageID, in.Kind, in.Provider)
		if err != nil {
			return fmt.Errorf("record outbound ledger: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE conversations SET last_message_at = now(), updated_at = now() WHERE id = $1`, in.ConversationID)
		rec.Status, rec.Attempts = "pending", 1
		return err
	})
	return rec, err
}

// FinishOutbound records the provider's answer for a send.
func (s *Store) FinishOutbound(ctx context.Context, key, status, providerMessageID, errText string) error {
	var prov *string
	if providerMessageID != "" {
		prov = &providerMessageID
	}
	_, err := s.Pool.Exec(ctx, `
		UPDATE outbound_ledger SET status = CASE WHEN status IN ('pending', 'error', 'blocked') THEN $2 ELSE status END,
		    provider_message_id = coalesce($3, provider_message_id), error = $4, updated_at = now()
		WHERE idempotency_key = $1`, key, status, prov, errText)
	if err != nil {
		return fmt.Errorf("finish outbound %s: %w", key, err)
	}
	if prov != nil {
		_, err = s.Pool.Exec(ctx, `UPDATE messages SET provider_message_id = $2
			WHERE id = (SELECT message_id FROM outbound_ledger WHERE idempotency_key = $1)`, key, providerMessageID)
	}
	return err
}

// ApplyDeliveryStatus moves an outbound message's status forward only
// (pending < sent < delivered < read; error only over pending/sent). Repeated or late
// statuses change nothing. It returns whether the row changed and its conversation.
func (s *Store) ApplyDeliveryStatus(ctx context.Context, providerMessageID, status, errText string) (bool, string, error) {
	rank := map[string]int{"pending": 0, "sent": 1, "delivered": 2, "read": 3}
	var conv string
	var tag int64
	var err error
	switch status {
	case "sent", "delivered", "read":
		err = s.Pool.QueryRow(ctx, `
			WITH upd AS (
			    UPDATE outbound_ledger SET status = $2, updated_at = now()
			    WHERE provider_message_id = $1 AND (CASE status WHEN 'pending' THEN 0 WHEN 'sent' THEN 1
			        WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'error' THEN 1 ELSE 9 END) < $3
			    RETURNING conversation_id::text)
			SELECT conversation_id, 1 FROM upd`, providerMessageID, status, rank[status]).Scan(&conv, &tag)
	case "error":
		err = s.Pool.QueryRow(ctx, `
			WITH upd AS (
			    UPDATE outbound_ledger SET status = 'error', error = $2, updated_at = now()
			    WHERE provider_message_id = $1 AND status IN ('pending', 'sent')
			    RETURNING conversation_id::text)
			SELECT conversation_id, 1 FROM upd`, providerMessageID, errText).Scan(&conv, &tag)
	default:
		return false, "", nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("apply delivery status: %w", err)
	}
	return tag == 1, conv, nil
}

// OutboundByKey reads a ledger row.
func (s *Store) OutboundByKey(ctx context.Context, key string) (OutboundRecord, error) {
	rec := OutboundRecord{Key: key}
	var prov *string
	var msgID *int64
	err := s.Pool.QueryRow(ctx, `SELECT message_id, status, provider_message_id, attempts FROM outbound_ledger WHERE idempotency_key = $1`, key).
		Scan(&msgID, &rec.Status, &prov, &rec.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return rec, ErrNotFound
	}
	if msgID != nil {
		rec.MessageID = *msgID
	}
	if prov != nil {
		rec.ProviderMessageID = *prov
	}
	return rec, err
}
