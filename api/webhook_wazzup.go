package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/wazzup"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/pii"
	"github.com/treejar/noor/workflows"
)

// Inbound turns provider messages into stored messages and workflow signals. The webhook
// and the simulator both use it, so simulated chats take exactly the production path.
type Inbound struct {
	Store      *db.Store
	Temporal   client.Client
	TaskQueue  string
	Channels   map[string]bool // allowed channel ids; empty = every channel (development)
	MaxChars   func(ctx context.Context) int
	Log        *slog.Logger
	OnMetric   func(result string)
	warnedOnce sync.Once
}

// ErrSignal means the message is stored but the workflow could not be told; the provider
// should redeliver (the ledger makes the redelivery a re-signal, not a duplicate).
var ErrSignal = errors.New("could not hand the message to its conversation workflow")

// Handle processes one parsed envelope: messages first, then statuses. It returns ErrSignal
// if any stored message could not be signalled.
func (in *Inbound) Handle(ctx context.Context, env wazzup.Envelope) error {
	var failed bool
	for _, m := range env.Messages {
		if err := in.message(ctx, m); err != nil {
			in.Log.Error("inbound message not handed to its workflow", "provider_message_id", m.MessageID, "err", err)
			failed = true
		}
	}
	for _, st := range env.Statuses {
		changed, conv, err := in.Store.ApplyDeliveryStatus(ctx, st.MessageID, st.Status, st.Error)
		switch {
		case err != nil:
			in.Log.Error("delivery status not stored", "provider_message_id", st.MessageID, "err", err)
		case changed && st.Status == "error":
			// An outbound message that never reached the customer must be seen (LESSONS 19).
			in.Log.Error("outbound message undelivered", "conversation_id", conv, "provider_message_id", st.MessageID, "error", st.Error)
			in.metric("status_error")
		case changed:
			in.metric("status_" + st.Status)
		default:
			in.metric("status_ignored")
		}
	}
	if failed {
		return ErrSignal
	}
	return nil
}

func (in *Inbound) metric(result string) {
	if in.OnMetric != nil {
		in.OnMetric(result)
	}
}

func (in *Inbound) allowed(channel string) bool {
	if channel == activities.SimulatorChannel {
		return true
	}
	if len(in.Channels) == 0 {
		in.warnedOnce.Do(func() {
			in.Log.Warn("WAZZUP_CHANNEL_ID is not set: accepting messages from every channel (development only)")
		})
		return true
	}
	return in.Channels[channel]
}

func (in *Inbound) message(ctx context.Context, m wazzup.InboundMessage) error {
	route := m.Route()
	if route == wazzup.RouteEcho {
		in.metric("echo_ignored")
		return nil
	}
	if !in.allowed(m.ChannelID) {
		in.Log.Warn("message for a channel that is not ours: ignored", "channel_id", m.ChannelID,
			"our_channels", keys(in.Channels), "provider_message_id", m.MessageID)
		in.metric("other_channel")
		return nil
	}
	text := m.Text
	if max := in.MaxChars(ctx); max > 0 && len([]rune(text)) > max {
		in.Log.Warn("inbound text truncated", "provider_message_id", m.MessageID, "chars", len([]rune(text)), "kept", max)
		text = string([]rune(text)[:max])
		in.metric("truncated")
	}
	author := "customer"
	if route == wazzup.RouteManager {
		author = "manager"
	}
	res, err := in.Store.RecordInbound(ctx, db.InboundInput{
		ChannelID: m.ChannelID, ChatID: m.ChatID, ChatType: m.ChatType, ProviderMessageID: m.MessageID,
		Author: author, AuthorName: m.AuthorName, ContactName: m.ContactName, Kind: m.Type, Text: text,
		MediaURL: m.ContentURI, At: m.DateTime,
	})
	if err != nil {
		return fmt.Errorf("store inbound message: %w", err)
	}
	if res.Duplicate && !res.NeedsSignal {
		in.metric("duplicate")
		return nil
	}
	at := m.DateTime
	if at.IsZero() {
		at = time.Now().UTC()
	}
	var signal string
	var payload any
	if author == "manager" {
		signal = workflows.SignalManagerMessage
		payload = workflows.ManagerMessageSignal{MessageID: res.MessageID, ProviderID: m.MessageID, AuthorName: m.AuthorName, Via: "wazzup", At: at}
	} else {
		signal = workflows.SignalCustomerMessage
		payload = workflows.CustomerMessageSignal{MessageID: res.MessageID, ProviderID: m.MessageID, Kind: m.Type, At: at}
	}
	if err := in.signal(ctx, res.ConversationID, signal, payload); err != nil {
		return err
	}
	if err := in.Store.MarkSignaled(ctx, m.MessageID); err != nil {
		in.Log.Warn("could not mark inbound message signalled", "provider_message_id", m.MessageID, "err", err)
	}
	in.Log.Info("inbound message", "conversation_id", res.ConversationID, "author", author, "kind", m.Type,
		"chat", pii.MaskPhone(m.ChatID), "redelivery", res.Duplicate)
	if res.Duplicate {
		in.metric("resignalled")
	} else {
		in.metric("accepted_" + author)
	}
	return nil
}

// signal delivers a signal to the conversation's workflow, starting it if it is not running.
func (in *Inbound) signal(ctx context.Context, conversationID, name string, payload any) error {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := in.Temporal.SignalWithStartWorkflow(sctx, workflows.ConversationWorkflowID(conversationID), name, payload,
		client.StartWorkflowOptions{
			ID:                    workflows.ConversationWorkflowID(conversationID),
			TaskQueue:             in.TaskQueue,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			TypedSearchAttributes: temporal.NewSearchAttributes(workflows.SAConversation.ValueSet(conversationID)),
			StaticSummary:         "WhatsApp conversation " + conversationID,
		},
		workflows.ConversationWorkflowName, workflows.ConversationInput{ConversationID: conversationID})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSignal, err)
	}
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// registerWazzup mounts POST /api/v1/webhook/wazzup (authenticated by its own token, not
// X-API-Key).
func (s *Server) registerWazzup() {
	var nets []*net.IPNet
	for _, c := range s.Config.Wazzup.AllowedIPs {
		c = strings.TrimSpace(c)
		if !strings.Contains(c, "/") {
			if strings.Contains(c, ":") {
				c += "/128"
			} else {
				c += "/32"
			}
		}
		if _, n, err := net.ParseCIDR(c); err == nil {
			nets = append(nets, n)
		}
	}
	s.Echo.POST("/api/v1/webhook/wazzup", func(c echo.Context) error {
		start := time.Now()
		defer func() { s.Metrics.WebhookLatency.Observe(time.Since(start).Seconds()) }()
		if tok := s.Config.Wazzup.WebhookToken; tok.IsSet() {
			if subtle.ConstantTimeCompare([]byte(c.QueryParam("token")), []byte(tok.Reveal())) != 1 {
				s.Metrics.WebhookErrors.WithLabelValues("wazzup", "bad_token").Inc()
				return Errf(http.StatusUnauthorized, "unauthorized", "missing or wrong webhook token")
			}
		}
		if len(nets) > 0 {
			ip := net.ParseIP(c.RealIP())
			ok := false
			for _, n := range nets {
				if ip != nil && n.Contains(ip) {
					ok = true
				}
			}
			if !ok {
				s.Metrics.WebhookErrors.WithLabelValues("wazzup", "ip_not_allowed").Inc()
				return Errf(http.StatusForbidden, "forbidden", "source address not allowed")
			}
		}
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err // the body limit answers 413 through the error handler
		}
		return s.handleWazzupBody(c, body)
	})
}

// handleWazzupBody answers the provider: 200 {"ok":true} for everything it should not
// resend (including bodies we cannot use, which are logged and counted), 503 when a stored
// message could not be handed to its workflow, so Wazzup retries.
func (s *Server) handleWazzupBody(c echo.Context, body []byte) error {
	ctx := c.Request().Context()
	env, err := wazzup.ParseWebhook(body)
	if err != nil {
		s.Log.Warn("wazzup webhook body is not a JSON object: ignored", "bytes", len(body), "err", err)
		s.Metrics.WebhookErrors.WithLabelValues("wazzup", "not_json").Inc()
		return c.JSON(http.StatusOK, map[string]bool{"ok": true})
	}
	for _, ie := range env.Invalid {
		s.Log.Warn("wazzup webhook element skipped", "kind", ie.Kind, "index", ie.Index, "reason", ie.Reason)
		s.Metrics.WebhookErrors.WithLabelValues("wazzup", "invalid_"+ie.Kind).Inc()
	}
	if env.Test {
		s.Log.Info("wazzup webhook test ping")
		return c.JSON(http.StatusOK, map[string]bool{"ok": true})
	}
	// The work is tied to the request but must not be cut half-way by a client hang-up.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := s.inbound.Handle(wctx, env); err != nil {
		return Errf(http.StatusServiceUnavailable, "unavailable", "messages stored but not yet processed; please retry")
	}
	return c.JSON(http.StatusOK, map[string]bool{"ok": true})
}
