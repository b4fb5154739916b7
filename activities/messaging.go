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

	"github.com/treejar/noor/activities/notify"
	"github.com/treejar/noor/activities/outbound"
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

// Messaging is the outbound gateway: every message to a customer goes through SendMessage.
type Messaging struct {
	Store     *db.Store
	Wazzup    Messenger // nil when Wazzup is not configured
	Simulator Messenger
	Notifier  *notify.Notifier
	Settings  *Settings
	Log       *slog.Logger
	Metrics   *metrics.App
	// Now is the gateway's clock (tests move it across business hours).
	Now func() time.Time
}

// SendInput and SendResult are the gateway's contract (activities/outbound), shared by
// every workflow that sends.
type (
	SendInput  = outbound.SendInput
	SendResult = outbound.SendResult
)

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
	// A retry of a message that already went out is answered from the ledger.
	if rec, err := a.Store.OutboundByKey(ctx, in.IdempotencyKey); err == nil {
		switch rec.Status {
		case "sent", "delivered", "read":
			return SendResult{Status: outbound.StatusSent, MessageID: rec.MessageID, ProviderMessageID: rec.ProviderMessageID, Reason: "already sent"}, nil
		case "blocked":
			return SendResult{Status: outbound.StatusBlocked, MessageID: rec.MessageID, Reason: "blocked earlier"}, nil
		}
	} else if !errors.Is(err, db.ErrNotFound) {
		return SendResult{}, err
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

	// The gateway's decision: the 24-hour window, templates, opt-out, quiet hours.
	conv, err := a.Store.Conversation(ctx, in.ConversationID)
	if err != nil {
		return SendResult{}, fmt.Errorf("read conversation: %w", err)
	}
	st, err := a.Settings.LoadSettings(ctx)
	if err != nil {
		return SendResult{}, err
	}
	lang := firstNonEmpty(in.Language, conv.Language)
	var lastCustomer time.Time
	if conv.LastCustomerMessageAt != nil {
		lastCustomer = *conv.LastCustomerMessageAt
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	dec := outbound.Decide(now, outbound.DecideInput{Purpose: in.Purpose, Proactive: in.Proactive, Language: lang,
		LastCustomerMessageAt: lastCustomer, OptedOut: conv.OptedOut, TemplatePurpose: in.TemplatePurpose}, st)
	if dec.Action == outbound.ActionDefer {
		// Nothing is recorded: the key stays free for the deferred attempt.
		return SendResult{Status: outbound.StatusDeferred, Reason: dec.Reason, DeferUntil: dec.DeferUntil}, nil
	}
	kind := "text"
	switch {
	case dec.Action == outbound.ActionTemplate:
		kind = "template"
	case in.DocumentURL != "":
		kind = "document"
	}
	provider := "wazzup"
	if conv.ChannelID == SimulatorChannel {
		provider = "simulator"
	}
	rec, err := a.Store.BeginOutbound(ctx, db.OutboundInput{
		Key: in.IdempotencyKey, ConversationID: in.ConversationID, Kind: kind, Provider: provider,
		Text: text, MediaURL: in.DocumentURL, TurnID: turnID, Author: in.Author, AuthorName: in.AuthorName,
		Language: lang, RespectOwner: in.RespectOwner, Model: model, PromptTokens: promptTok, CompletionTok: complTok, CostUSD: cost,
		Metadata: map[string]any{"purpose": in.Purpose, "decision": dec.Action, "reason": dec.Reason},
	})
	if err != nil {
		return SendResult{}, fmt.Errorf("record outbound message: %w", err)
	}
	if rec.Skipped {
		a.count(provider, "skipped_human_owner")
		return SendResult{Status: outbound.StatusSkipped, Reason: "a human owns the chat", MessageID: rec.MessageID}, nil
	}
	if dec.Action == outbound.ActionBlock {
		// Never silently dropped: the ledger row says why, and the console shows it.
		if err := a.Store.FinishOutbound(ctx, in.IdempotencyKey, "blocked", "", dec.Reason); err != nil {
			return SendResult{}, err
		}
		a.count(provider, "blocked")
		a.Log.Warn("outbound message blocked", "conversation_id", in.ConversationID, "purpose", in.Purpose, "reason", dec.Reason)
		return SendResult{Status: outbound.StatusBlocked, Reason: dec.Reason, MessageID: rec.MessageID}, nil
	}
	switch rec.Status {
	case "sent", "delivered", "read":
		return SendResult{Status: outbound.StatusSent, MessageID: rec.MessageID, ProviderMessageID: rec.ProviderMessageID, Reason: "already sent"}, nil
	case "blocked":
		return SendResult{Status: outbound.StatusBlocked, MessageID: rec.MessageID}, nil
	}

	m := wazzup.OutboundMessage{ChannelID: rec.ChannelID, ChatType: rec.ChatType, ChatID: rec.ChatID, CRMMessageID: in.IdempotencyKey}
	switch kind {
	case "template":
		m.TemplateID, m.TemplateValues = dec.TemplateID, in.TemplateValues
	case "document":
		m.ContentURI = in.DocumentURL
	default:
		m.Text = text
	}
	messenger := a.Wazzup
	if provider == "simulator" {
		messenger = a.Simulator
	} else if messenger == nil {
		// A real channel but no Wazzup credentials: nothing can deliver it.
		_ = a.Store.FinishOutbound(ctx, in.IdempotencyKey, "error", "", "WAZZUP_API_KEY is not configured")
		return SendResult{}, temporal.NewNonRetryableApplicationError("no messaging provider for channel "+rec.ChannelID, ErrTypeSendRejected, nil)
	}
	if activity.IsActivity(ctx) { // the API also sends through the gateway (console replies)
		activity.RecordHeartbeat(ctx, "sending")
	}
	providerID, err := messenger.Send(ctx, m)
	if errors.Is(err, wazzup.ErrAlreadySent) {
		a.Store.NoteProviderResult(ctx, "messaging", nil)
	} else {
		a.Store.NoteProviderResult(ctx, "messaging", err)
	}
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
		return SendResult{Status: outbound.StatusSent, Mode: dec.Action, Reason: dec.Reason, MessageID: rec.MessageID, ProviderMessageID: providerID}, nil
	case errors.Is(err, wazzup.ErrChannelUnavailable):
		_ = a.Store.FinishOutbound(ctx, in.IdempotencyKey, "error", "", "MESSAGE_CHANNEL_UNAVAILABLE")
		a.count(provider, "channel_unavailable")
		a.alert(ctx, notify.Alert{
			// One alert per channel per hour, however many sends fail.
			Key:  "channel_unavailable:" + rec.ChannelID + ":" + time.Now().UTC().Format("2006010215"),
			Kind: "channel_unavailable", Severity: notify.SeverityCritical, ConversationID: in.ConversationID,
			Title: "WhatsApp channel disconnected",
			Body:  fmt.Sprintf("Channel %s is not connected: a message to chat %s could not be delivered. Reconnect the WhatsApp session in Wazzup.", rec.ChannelID, pii.MaskPhone(rec.ChatID)),
		})
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

func (a *Messaging) alert(ctx context.Context, n notify.Alert) {
	if a.Notifier == nil {
		a.Log.Error("ALERT (no notifier)", "kind", n.Kind, "conversation_id", n.ConversationID, "title", n.Title)
		return
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if _, err := a.Notifier.Notify(nctx, n); err != nil {
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
