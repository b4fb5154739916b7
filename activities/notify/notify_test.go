package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities/notify"
	"github.com/treejar/noor/activities/telegram"
	"github.com/treejar/noor/activities/telegram/telegramtest"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/internal/testenv"
)

func setup(t *testing.T, withTelegram bool) (*notify.Notifier, *telegramtest.Server, *metrics.App) {
	m := metrics.NewApp(metrics.NewRegistry())
	n := &notify.Notifier{Store: testenv.DB(t), Log: testenv.Logger(t), Metrics: m}
	var fake *telegramtest.Server
	if withTelegram {
		fake = telegramtest.New(t, "1:t")
		c := telegram.New(fake.URL, fake.Token)
		c.Backoff = time.Millisecond
		c.MaxRetries = 1
		n.Telegram, n.ChatID = c, "-1001"
	}
	return n, fake, m
}

func TestConsoleOnlyWithoutTelegram(t *testing.T) {
	n, _, m := setup(t, false)
	ctx := context.Background()
	assert.Equal(t, "console", n.Channel())
	res, err := n.Notify(ctx, notify.Alert{Key: "k1", Kind: "escalation_opened", Title: "Escalation #1", Body: "details"})
	require.NoError(t, err)
	assert.Equal(t, "console", res.Channel)
	assert.Equal(t, "sent", res.Status)
	rec, err := n.Store.NotificationByKey(ctx, "k1")
	require.NoError(t, err)
	assert.Equal(t, "sent", rec.Status)
	assert.Equal(t, "Escalation #1", rec.Title)
	assert.Equal(t, 1.0, testutil.ToFloat64(m.Alerts.WithLabelValues("console", "sent")))
}

func TestTelegramDeliveryIsIdempotentAndEscaped(t *testing.T) {
	n, fake, m := setup(t, true)
	ctx := context.Background()
	a := notify.Alert{Key: "esc:1:opened:0", Kind: "escalation_opened", Title: "Escalation <#1>", Body: "Customer wrote: a < b & c",
		Buttons: [][]telegram.Button{{{Text: "Take", CallbackData: "take:1"}}}}
	res, err := n.Notify(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, "sent", res.Status)
	assert.NotZero(t, res.TelegramMessageID)
	// A retried activity finds the key delivered and sends nothing.
	res2, err := n.Notify(ctx, a)
	require.NoError(t, err)
	assert.True(t, res2.Duplicate)
	sent := fake.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, "<b>Escalation &lt;#1&gt;</b>\nCustomer wrote: a &lt; b &amp; c", sent[0].Text)
	assert.Equal(t, "take:1", sent[0].Keyboard.InlineKeyboard[0][0].CallbackData)
	assert.Equal(t, 1.0, testutil.ToFloat64(m.Alerts.WithLabelValues("telegram", "sent")))
}

// A failed alert is an error someone sees: row failed with the reason, metric, and an
// error for the activity (retryable for 5xx, not for a rejected request).
func TestFailedAlertIsVisible(t *testing.T) {
	n, fake, m := setup(t, true)
	ctx := context.Background()
	fake.FailNext("sendMessage", 2, 502, "Bad Gateway") // the call and its one retry
	_, err := n.Notify(ctx, notify.Alert{Key: "k-5xx", Kind: "escalation_opened", Title: "t"})
	require.Error(t, err)
	var app *temporal.ApplicationError
	assert.False(t, asApp(err, &app) && app.NonRetryable(), "a 5xx may succeed later")
	rec, err := n.Store.NotificationByKey(ctx, "k-5xx")
	require.NoError(t, err)
	assert.Equal(t, "failed", rec.Status)
	assert.Contains(t, rec.Error, "502")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.Alerts.WithLabelValues("telegram", "failed")))

	// The retry (Temporal's) succeeds: the same row turns sent.
	_, err = n.Notify(ctx, notify.Alert{Key: "k-5xx", Kind: "escalation_opened", Title: "t"})
	require.NoError(t, err)
	rec, _ = n.Store.NotificationByKey(ctx, "k-5xx")
	assert.Equal(t, "sent", rec.Status)
	assert.Equal(t, 2, rec.Attempts, "one failed delivery, one successful")

	fake.FailNext("sendMessage", 1, 403, "Forbidden: bot was kicked from the supergroup chat")
	_, err = n.Notify(ctx, notify.Alert{Key: "k-403", Kind: "sla", Title: "t"})
	require.True(t, asApp(err, &app))
	assert.True(t, app.NonRetryable())
	assert.Equal(t, notify.ErrTypeRejected, app.Type())
	failed, err := n.Store.ListNotifications(ctx, db.NotificationFilter{Status: "failed"})
	require.NoError(t, err)
	require.Len(t, failed, 1)
	assert.Contains(t, failed[0].Error, "kicked")
}

func asApp(err error, target **temporal.ApplicationError) bool {
	for e := err; e != nil; {
		if a, ok := e.(*temporal.ApplicationError); ok {
			*target = a
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func TestFormatHTMLStaysWithinTelegramsLimit(t *testing.T) {
	body := strings.Repeat("<&>", 3000) // escaping multiplies the length
	out := notify.FormatHTML("Title", body)
	assert.LessOrEqual(t, len([]rune(out)), telegram.MaxText)
	assert.True(t, strings.HasPrefix(out, "<b>Title</b>\n&lt;&amp;&gt;"))
	assert.NotContains(t, out[len(out)-8:], "&l", "no entity is cut in half")
}

func TestInvalidAlert(t *testing.T) {
	n, _, _ := setup(t, false)
	_, err := n.Notify(context.Background(), notify.Alert{Title: "no key"})
	var app *temporal.ApplicationError
	require.True(t, asApp(err, &app))
	assert.True(t, app.NonRetryable())
}
