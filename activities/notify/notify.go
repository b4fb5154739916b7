// Package notify is the one place every manager alert goes through (LESSONS row 22: alerts
// were dropped silently). An alert is first recorded in the notifications table — which
// the console lists, and which is the whole channel when Telegram is not configured — and
// then delivered to the managers' Telegram chat. A delivery that fails is itself visible:
// the row turns 'failed' with the error, an error is logged, and
// noor_alerts_total{result="failed"} counts it.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities/telegram"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/metrics"
)

// Channels.
const (
	ChannelTelegram = "telegram"
	ChannelConsole  = "console"
)

// Severities.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// ErrTypeRejected is the Temporal error type of an alert Telegram refused for good
// (bad request, wrong token or chat): retrying cannot help, someone must fix the setup.
const ErrTypeRejected = "TelegramRejected"

// Alert is one message to the managers. Title and Body are plain text: the notifier
// escapes them for Telegram.
type Alert struct {
	// Key makes the alert idempotent: a retried activity sends it once.
	Key            string
	Kind           string
	Severity       string
	ConversationID string
	EscalationID   int64
	Title          string
	Body           string
	Buttons        [][]telegram.Button
}

// Result says where the alert went.
type Result struct {
	NotificationID    int64
	Channel           string
	Status            string
	TelegramMessageID int64
	// Duplicate: the key had been delivered before; nothing was sent again.
	Duplicate bool
}

// Sender is the part of the Telegram client the notifier uses.
type Sender interface {
	SendMessage(ctx context.Context, req telegram.SendMessageRequest) (telegram.Message, error)
	EditMessageReplyMarkup(ctx context.Context, chatID string, messageID int64, kb *telegram.Keyboard) error
}

// Notifier delivers alerts. Telegram nil (not configured) means console only.
type Notifier struct {
	Store    *db.Store
	Telegram Sender
	ChatID   string
	Log      *slog.Logger
	Metrics  *metrics.App
}

// Channel is where alerts go: telegram when configured, console otherwise.
func (n *Notifier) Channel() string {
	if n.Telegram != nil && n.ChatID != "" {
		return ChannelTelegram
	}
	return ChannelConsole
}

// Notify records the alert and delivers it. Failures are returned (retryable unless
// Telegram rejected the request for good) after being recorded, logged and counted.
func (n *Notifier) Notify(ctx context.Context, a Alert) (Result, error) {
	if a.Key == "" || strings.TrimSpace(a.Title) == "" {
		return Result{}, temporal.NewNonRetryableApplicationError("alert needs a key and a title", "InvalidAlert", nil)
	}
	if a.Severity == "" {
		a.Severity = SeverityInfo
	}
	channel := n.Channel()
	rec, _, err := n.Store.CreateNotification(ctx, db.NewNotification{
		Key: a.Key, Kind: a.Kind, Severity: a.Severity, ConversationID: a.ConversationID, EscalationID: a.EscalationID,
		Title: a.Title, Body: a.Body, Channel: channel,
	})
	if err != nil {
		n.count(channel, "failed")
		n.log().Error("manager alert could not be recorded", "key", a.Key, "kind", a.Kind, "err", err)
		return Result{}, err
	}
	res := Result{NotificationID: rec.ID, Channel: rec.Channel, Status: rec.Status, TelegramMessageID: rec.TelegramMessageID}
	if rec.Status == "sent" {
		res.Duplicate = true
		return res, nil
	}
	if rec.Channel == ChannelConsole {
		if err := n.Store.MarkNotificationSent(ctx, rec.ID, "", 0); err != nil {
			return res, err
		}
		n.count(ChannelConsole, "sent")
		n.log().Info("manager alert (console)", "notification_id", rec.ID, "kind", a.Kind, "title", a.Title)
		res.Status = "sent"
		return res, nil
	}

	msg, err := n.Telegram.SendMessage(ctx, telegram.SendMessageRequest{
		ChatID: n.ChatID, Text: FormatHTML(a.Title, a.Body), ParseMode: "HTML", ReplyMarkup: keyboard(a.Buttons),
	})
	n.Store.NoteProviderResult(ctx, "alerts", err)
	if err != nil {
		if markErr := n.Store.MarkNotificationFailed(ctx, rec.ID, err.Error()); markErr != nil {
			n.log().Error("recording a failed manager alert failed too", "notification_id", rec.ID, "err", markErr)
		}
		n.count(ChannelTelegram, "failed")
		n.log().Error("manager alert not delivered", "notification_id", rec.ID, "kind", a.Kind,
			"conversation_id", a.ConversationID, "err", err)
		res.Status = "failed"
		var ae *telegram.APIError
		if errors.Is(err, telegram.ErrInvalid) || (errors.As(err, &ae) && !ae.Retryable()) {
			return res, temporal.NewNonRetryableApplicationError("telegram rejected the alert: "+err.Error(), ErrTypeRejected, err)
		}
		return res, fmt.Errorf("deliver alert %s: %w", a.Key, err)
	}
	if err := n.Store.MarkNotificationSent(ctx, rec.ID, n.ChatID, msg.MessageID); err != nil {
		// Delivered but not recorded: the retry finds no 'sent' row and would send twice,
		// so the error is returned only after logging what happened.
		n.log().Error("manager alert delivered but not recorded", "notification_id", rec.ID, "err", err)
		return res, err
	}
	n.count(ChannelTelegram, "sent")
	res.Status, res.TelegramMessageID = "sent", msg.MessageID
	return res, nil
}

// EditButtons replaces the buttons of alerts already delivered to Telegram (nil removes
// them), e.g. once an escalation is taken. Console alerts have no buttons to edit.
func (n *Notifier) EditButtons(ctx context.Context, notes []db.Notification, buttons [][]telegram.Button) error {
	if n.Channel() != ChannelTelegram {
		return nil
	}
	var errs []error
	for _, rec := range notes {
		if rec.Channel != ChannelTelegram || rec.TelegramMessageID == 0 {
			continue
		}
		if err := n.Telegram.EditMessageReplyMarkup(ctx, rec.TelegramChatID, rec.TelegramMessageID, keyboard(buttons)); err != nil {
			errs = append(errs, fmt.Errorf("edit buttons of notification %d: %w", rec.ID, err))
		}
	}
	return errors.Join(errs...)
}

func keyboard(rows [][]telegram.Button) *telegram.Keyboard {
	if len(rows) == 0 {
		return nil
	}
	return &telegram.Keyboard{InlineKeyboard: rows}
}

// FormatHTML renders a bold title and an escaped body, within Telegram's 4096 characters.
func FormatHTML(title, body string) string {
	const budget = telegram.MaxText - 96
	title = clip(title, 200)
	body = clip(body, budget-utf8.RuneCountInString(title))
	out := "<b>" + telegram.EscapeHTML(title) + "</b>"
	if strings.TrimSpace(body) != "" {
		out += "\n" + telegram.EscapeHTML(body)
	}
	// Escaping lengthens the text; clip the plain body further until it fits.
	for utf8.RuneCountInString(out) > telegram.MaxText && body != "" {
		body = clip(body, utf8.RuneCountInString(body)*9/10)
		out = "<b>" + telegram.EscapeHTML(title) + "</b>\n" + telegram.EscapeHTML(body)
	}
	return out
}

func clip(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	if n == 0 {
		return ""
	}
	return string(r[:n-1]) + "…"
}

func (n *Notifier) count(channel, result string) {
	if n.Metrics != nil {
		n.Metrics.Alerts.WithLabelValues(channel, result).Inc()
	}
}

func (n *Notifier) log() *slog.Logger {
	if n.Log != nil {
		return n.Log
	}
	return slog.Default()
}
