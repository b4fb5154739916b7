package workflows_test

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/outbound"
	"github.com/treejar/noor/activities/telegram/telegramtest"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/internal/settings"
	"github.com/treejar/noor/internal/testenv"
	"github.com/treejar/noor/worker"
)

// Dubai is UTC+4 all year. 2026-10-01 is a Thursday.
var dubai = time.FixedZone("GST", 4*3600)

func at(month time.Month, day, hh, mm int) time.Time {
	return time.Date(2026, month, day, hh, mm, 0, 0, dubai)
}

// harness is a time-skipping workflow environment whose activities are the real ones
// (real PostgreSQL, the fake Telegram Bot API). Only the outbound gateway — the
// conversation core's SendMessage activity, not part of this package — is stood in for by
// gatewayStandIn, which applies the real outbound.Decide to the conversation's state at
// the workflow's clock.
type harness struct {
	testsuite.WorkflowTestSuite
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	store *db.Store
	tg    *telegramtest.Server
	gw    *gatewayStandIn
	reg   *metrics.App
}

func newHarness(t *testing.T, start time.Time) *harness { return newHarnessOn(t, start, testenv.DB(t)) }

// newHarnessOn runs a second workflow on the same database (one environment runs one workflow).
func newHarnessOn(t *testing.T, start time.Time, store *db.Store) *harness {
	h := &harness{t: t, store: store, tg: telegramtest.New(t, "42:test-token")}
	h.SetLogger(tlog.NewStructuredLogger(slog.New(infoOnly{testenv.Logger(t).Handler()})))
	h.env = h.NewTestWorkflowEnvironment()
	h.env.SetStartTime(start)
	h.env.SetTestTimeout(2 * time.Minute)
	cfg := config.Config{PublicBaseURL: "https://noor.example.com", Telegram: config.Telegram{
		APIURL: h.tg.URL, BotToken: config.Secret(h.tg.Token), ChatID: "-100777",
	}}
	h.reg = metrics.NewApp(metrics.NewRegistry())
	acts, err := activities.Build(activities.Deps{Config: cfg, Store: h.store, Log: testenv.Logger(t), Metrics: h.reg})
	require.NoError(t, err)
	worker.Register(h.env, acts)
	h.gw = &gatewayStandIn{store: h.store}
	h.env.RegisterActivityWithOptions(h.gw.SendMessage, activity.RegisterOptions{Name: outbound.SendActivity})
	return h
}

func (h *harness) ctx() context.Context { return testenv.Ctx(h.t, time.Minute) }

// conversation inserts a conversation whose customer last wrote at lastCustomer.
func (h *harness) conversation(lang string, lastCustomer time.Time) string {
	var id string
	require.NoError(h.t, h.store.Pool.QueryRow(h.ctx(), `
		INSERT INTO conversations (channel_id, chat_id, customer_name, language, stage, summary, facts, last_customer_message_at)
		VALUES ('chan-1', '971551220665', 'Omar Khalid', $1, 'solution', 'Needs 12 desks for a new office in JLT.',
		        '{"company":"Acme LLC","headcount":12}', $2)
		RETURNING id::text`, lang, lastCustomer).Scan(&id))
	return id
}

// message stores a customer message and returns its id.
func (h *harness) message(conv, text string) int64 {
	var id int64
	require.NoError(h.t, h.store.Pool.QueryRow(h.ctx(),
		`INSERT INTO messages (conversation_id, direction, author, text) VALUES ($1, 'in', 'customer', $2) RETURNING id`, conv, text).Scan(&id))
	return id
}

func (h *harness) saveSettings(mut func(*settings.Settings)) {
	s := settings.Defaults()
	mut(&s)
	rec, err := h.store.Settings(h.ctx())
	require.NoError(h.t, err)
	_, err = h.store.SaveSettings(h.ctx(), s, rec.Version, "test")
	require.NoError(h.t, err)
}

type sendRecord struct {
	In       outbound.SendInput
	Decision outbound.Decision
	At       time.Time
}

// gatewayStandIn models the outbound gateway (see harness): ownership check, then
// outbound.Decide on the stored conversation and settings at the workflow's time.
type gatewayStandIn struct {
	store *db.Store

	mu        sync.Mutex
	records   []sendRecord
	deferOnce bool
}

func (g *gatewayStandIn) SendMessage(ctx context.Context, in outbound.SendInput) (outbound.SendResult, error) {
	b, err := g.store.ConversationBrief(ctx, in.ConversationID, 0)
	if err != nil {
		return outbound.SendResult{}, err
	}
	rec, err := g.store.Settings(ctx)
	if err != nil {
		return outbound.SendResult{}, err
	}
	now := in.RequestedAt
	g.mu.Lock()
	defer g.mu.Unlock()
	if in.RespectOwner && b.Owner == "human" {
		g.records = append(g.records, sendRecord{In: in, At: now, Decision: outbound.Decision{Action: "skip"}})
		return outbound.SendResult{Status: outbound.StatusSkipped, Reason: "human_owner"}, nil
	}
	last := time.Time{}
	if b.LastCustomerMessageAt != nil {
		last = *b.LastCustomerMessageAt
	}
	d := outbound.Decide(now, outbound.DecideInput{Purpose: in.Purpose, Proactive: in.Proactive, Language: b.Language,
		LastCustomerMessageAt: last, OptedOut: b.OptedOut, TemplatePurpose: in.TemplatePurpose}, rec.Settings)
	if g.deferOnce {
		g.deferOnce = false
		d = outbound.Decision{Action: outbound.ActionDefer, Reason: "test_defer", DeferUntil: now.Add(90 * time.Minute)}
	}
	g.records = append(g.records, sendRecord{In: in, Decision: d, At: now})
	switch d.Action {
	case outbound.ActionFreeText, outbound.ActionTemplate:
		return outbound.SendResult{Status: outbound.StatusSent, Mode: d.Action, Reason: d.Reason, MessageID: int64(len(g.records))}, nil
	case outbound.ActionDefer:
		return outbound.SendResult{Status: outbound.StatusDeferred, Reason: d.Reason, DeferUntil: d.DeferUntil}, nil
	}
	return outbound.SendResult{Status: outbound.StatusBlocked, Reason: d.Reason}, nil
}

func (g *gatewayStandIn) all() []sendRecord {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sendRecord(nil), g.records...)
}

func (g *gatewayStandIn) sent() []sendRecord {
	var out []sendRecord
	for _, r := range g.all() {
		if r.Decision.Action == outbound.ActionFreeText || r.Decision.Action == outbound.ActionTemplate {
			out = append(out, r)
		}
	}
	return out
}

// infoOnly drops the SDK's debug lines (every timer and activity) from test logs.
type infoOnly struct{ slog.Handler }

func (h infoOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo && h.Handler.Enabled(ctx, l)
}
func (h infoOnly) WithAttrs(a []slog.Attr) slog.Handler { return infoOnly{h.Handler.WithAttrs(a)} }
func (h infoOnly) WithGroup(n string) slog.Handler      { return infoOnly{h.Handler.WithGroup(n)} }

// withID makes the next ExecuteWorkflow use the production workflow id.
func (h *harness) withID(id string) {
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
