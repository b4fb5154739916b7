package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities/wazzup"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/internal/pii"
)

// SimulatorChannel is the channel id of the built-in simulator (the local messaging provider).
const SimulatorChannel = "simulator"

// Messenger delivers one message to a chat; CRMMessageID makes it idempotent.
type Messenger interface {
	Send(ctx context.Context, m wazzup.OutboundMessage) (providerMessageID string, err error)
}

// simulatorMessenger is the local provider: the message is already in our database (the
// simulator page reads it from there), so delivering is acknowledging it.
type simulatorMessenger struct{}

func (simulatorMessenger) Send(_ context.Context, m wazzup.OutboundMessage) (string, error) {
	return "sim-" + m.CRMMessageID, nil
}

// Notifier raises an alert that a person must see (Telegram or the console).
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Notification is one alert.
type Notification struct {
	Kind           string // channel_unavailable | undelivered | llm_unavailable | sla | escalation | …
	ConversationID string
	Text           string
}

// logNotifier is the fallback: the alert is an error log line and a metric.
type logNotifier struct {
	log *slog.Logger
	m   *metrics.App
}

func (n logNotifier) Notify(_ context.Context, x Notification) error {
	n.log.Error("ALERT", "kind", x.Kind, "conversation_id", x.ConversationID, "text", x.Text)
	if n.m != nil {
		n.m.Alerts.WithLabelValues("log", "sent").Inc()
	}
	return nil
}

// Messaging is the outbound gateway: every message to a customer goes through SendMessage.
type Messaging struct {
	Store     *db.Store
	Wazzup    Messenger // nil when Wazzup is not configured
	Simulator Messenger
	Notifier  Notifier
	Log       *slog.Logger
	Metrics   *metrics.App
}

// SendInput is one logical outbound message.
type SendInput struct {
	ConversationID string
	// IdempotencyKey is deterministic per logical message; it is Wazzup's crmMessageId.
	IdempotencyKey string
	// Purpose: reply | ack | apology | escalation_ack | follow_up | payment_reminder |
	// feedback_request | manager | quote_document
	Purpose   string
	Proactive bool
	// Text of the message; or DraftStepID, the turn step holding the agent's checked reply.
	Text        string
	DraftStepID int64
	// DocumentURL sends a file (PDF); Caption follows as a second text message.
	DocumentURL string
	Caption     string
	// TemplatePurpose/TemplateValues: the template used outside the 24-hour window.
	TemplatePurpose string
	TemplateValues  []string
	// RespectOwner: a bot message, not sent while a human owns the chat.
	RespectOwner bool
	Author       string // noor (default) | manager | system
	AuthorName   string
	Language     string
	TurnID       int64
}

// SendResult says what happened.
type SendResult struct {
	Status            string `json:"status"` // sent | skipped | blocked
	Reason            string `json:"reason,omitempty"`
	MessageID         int64  `json:"message_id,omitempty"`
	ProviderMessageID string `json:"provider_message_id,omitempty"`
}

// Error types that Temporal must not retry.
const (
	ErrTypeChannelUnavailable = "ChannelUnavailable"
	ErrTypeSendRejected       = "SendRejected"
)

// SendMessage records the message in the outbound ledger before calling the provider, then
// sends it with the ledger key as crmMessageId. Retries (of the activity, or after a worker
// crash) reuse the key, and the provider's "already sent" counts as success, so a logical
// message reaches the customer once. A bot message is not sent while a human owns the chat
// (checked in the same transaction that records it).
func (a *Messaging) SendMessage(ctx context.Context, in SendInput) (SendResult, error) {
	if in.IdempotencyKey == "" || in.ConversationID == "" {
		return SendResult{}, temporal.NewNonRetryableApplicationError("idempotency key and conversation are required", ErrTypeSendRejected, nil)
	}
	text := in.Text
	var turnID *int64
	if in.TurnID > 0 {
		turnID = &in.TurnID
	}
	model, promptTok, complTok, cost := "", 0, 0, 0.0
	if in.DraftStepID > 0 {
		st, err := a.Store.TurnStep(ctx, in.DraftStepID)
		if err != nil {
			return SendResult{}, fmt.Errorf("load draft reply: %w", err)
		}
		var out agentOutput
		if err := json.Unmarshal(st.Output, &out); err != nil || out.Reply == "" {
			return SendResult{}, temporal.NewNonRetryableApplicationError("draft step has no reply", ErrTypeSendRejected, err)
		}
		text = out.Reply
		if turnID == nil {
			turnID = &st.TurnID
		}
		if model, promptTok, complTok, cost, err = a.Store.TurnUsage(ctx, st.TurnID); err != nil {
			return SendResult{}, err
		}
	}
	if in.DocumentURL == "" && strings.TrimSpace(text) == "" {
		return SendResult{}, temporal.NewNonRetryableApplicationError("nothing to send", ErrTypeSendRejected, nil)
	}
	if in.Author == "" {
		in.Author = "noor"
	}
	if in.TurnID > 0 {
		// The latency figure "debounce closed → send" ends here.
		_ = a.Store.MarkTurnTime(ctx, in.TurnID, "send_started_at")
	}
	kind := "text"
	if in.DocumentURL != "" {
		kind = "document"
	}
	provider := "wazzup"
	rec, err := a.Store.BeginOutbound(ctx, db.OutboundInput{
		Key: in.IdempotencyKey, ConversationID: in.ConversationID, Kind: kind, Provider: provider,
		Text: text, MediaURL: in.DocumentURL, TurnID: turnID, Author: in.Author, AuthorName: in.AuthorName,
		Language: in.Language, RespectOwner: in.RespectOwner, Model: model, PromptTokens: promptTok, CompletionTok: complTok, CostUSD: cost,
		Metadata: map[string]any{"purpose": in.Purpose},
	})
	if err != nil {
		return SendResult{}, fmt.Errorf("record outbound message: %w", err)
	}
	if rec.Skipped {
		a.count(provider, "skipped_human_owner")
		return SendResult{Status: "skipped", Reason: "a human owns the chat", MessageID: rec.MessageID}, nil
	}
	if in.Proactive && rec.OptedOut {
		_ = a.Store.FinishOutbound(ctx, in.IdempotencyKey, "blocked", "", "customer opted out of proactive messages")
		return SendResult{Status: "blocked", Reason: "customer opted out", MessageID: rec.MessageID}, nil
	}
	switch rec.Status {
	case "sent", "delivered", "read":
		return SendResult{Status: "sent", MessageID: rec.MessageID, ProviderMessageID: rec.ProviderMessageID, Reason: "already sent"}, nil
	case "blocked":
		return SendResult{Status: "blocked", MessageID: rec.MessageID}, nil
	}

	m := wazzup.OutboundMessage{ChannelID: rec.ChannelID, ChatType: rec.ChatType, ChatID: rec.ChatID, CRMMessageID: in.IdempotencyKey}
	if in.DocumentURL != "" {
		m.ContentURI = in.DocumentURL
	} else {
		m.Text = text
	}
	messenger := a.Wazzup
	if rec.ChannelID == SimulatorChannel || messenger == nil {
		if rec.ChannelID != SimulatorChannel {
			// A real channel but no Wazzup credentials: nothing can deliver it.
			_ = a.Store.FinishOutbound(ctx, in.IdempotencyKey, "error", "", "WAZZUP_API_KEY is not configured")
			return SendResult{}, temporal.NewNonRetryableApplicationError("no messaging provider for channel "+rec.ChannelID, ErrTypeSendRejected, nil)
		}
		messenger, provider = a.Simulator, "simulator"
	}
	activity.RecordHeartbeat(ctx, "sending")
	providerID, err := messenger.Send(ctx, m)
	switch {
	case err == nil, errors.Is(err, wazzup.ErrAlreadySent):
		if ferr := a.Store.FinishOutbound(ctx, in.IdempotencyKey, "sent", providerID, ""); ferr != nil {
			return SendResult{}, ferr
		}
		a.count(provider, "sent")
		if in.DocumentURL != "" && in.Caption != "" {
			// Wazzup cannot combine a file and text: the caption is its own message.
			if _, err := a.SendMessage(ctx, SendInput{ConversationID: in.ConversationID, IdempotencyKey: in.IdempotencyKey + ":caption",
				Purpose: in.Purpose, Text: in.Caption, RespectOwner: in.RespectOwner, Author: in.Author, Language: in.Language, TurnID: in.TurnID}); err != nil {
				return SendResult{}, err
			}
		}
		return SendResult{Status: "sent", MessageID: rec.MessageID, ProviderMessageID: providerID}, nil
	case errors.Is(err, wazzup.ErrChannelUnavailable):
		_ = a.Store.FinishOutbound(ctx, in.IdempotencyKey, "error", "", "MESSAGE_CHANNEL_UNAVAILABLE")
		a.count(provider, "channel_unavailable")
		a.alert(ctx, Notification{Kind: "channel_unavailable", ConversationID: in.ConversationID,
			Text: fmt.Sprintf("WhatsApp channel %s is disconnected: a reply to chat %s could not be delivered", rec.ChannelID, pii.MaskPhone(rec.ChatID))})
		return SendResult{}, temporal.NewNonRetryableApplicationError("WhatsApp channel unavailable", ErrTypeChannelUnavailable, err)
	case errors.Is(err, wazzup.ErrRateLimited):
		a.count(provider, "rate_limited")
		return SendResult{}, fmt.Errorf("send %s: %w (will retry with back-off)", in.IdempotencyKey, err)
	}
	var apiErr *wazzup.APIError
	if errors.As(err, &apiErr) && !apiErr.Retryable() {
		_ = a.Store.FinishOutbound(ctx, in.IdempotencyKey, "error", "", apiErr.Error())
		a.count(provider, "rejected")
		return SendResult{}, temporal.NewNonRetryableApplicationError("provider rejected the message: "+apiErr.Error(), ErrTypeSendRejected, err)
	}
	a.count(provider, "retry")
	return SendResult{}, fmt.Errorf("send %s: %w", in.IdempotencyKey, err)
}

func (a *Messaging) count(provider, result string) {
	if a.Metrics != nil {
		a.Metrics.Sends.WithLabelValues(provider, result).Inc()
	}
}

func (a *Messaging) alert(ctx context.Context, n Notification) {
	if a.Notifier == nil {
		return
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := a.Notifier.Notify(nctx, n); err != nil {
		a.Log.Error("alert could not be delivered", "kind", n.Kind, "conversation_id", n.ConversationID, "err", err)
	}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
