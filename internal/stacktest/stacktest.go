// Package stacktest assembles the whole product in-process for integration tests: a fresh
// PostgreSQL database, the real Temporal dev server, the real API (webhook, conversations
// API) and a real worker, with the in-repo fakes of Wazzup and the LLM in place of the SaaS.
package stacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/llm/llmtest"
	"github.com/treejar/noor/activities/telegram/telegramtest"
	"github.com/treejar/noor/activities/wazzup/wazzuptest"
	"github.com/treejar/noor/activities/zoho/zohotest"
	"github.com/treejar/noor/api"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/internal/seed"
	"github.com/treejar/noor/internal/settings"
	"github.com/treejar/noor/internal/testenv"
	"github.com/treejar/noor/worker"
	"github.com/treejar/noor/workflows"
)

// Reply and fast model names the fake LLM sees, so tests can tell the calls apart.
const (
	ReplyModel = "test/reply-model"
	FastModel  = "test/fast-model"
	APIKey     = "stack-test-api-key-0123456789"
)

// Options tune a stack.
type Options struct {
	Debounce            time.Duration // default 1.5 s
	DebounceCap         time.Duration // default 20 s
	NoLLM               bool          // LLM_API_KEY empty: "not configured"
	ContinueAsNewEvents int
	Seed                bool // load the demo catalog, knowledge base and CRM fixtures
	NoWorker            bool
	Patch               string // extra settings JSON merge patch
	// Telegram sends manager alerts to a fake Telegram (chat TelegramChat) instead of the console.
	Telegram bool
	// Zoho runs CRM and inventory live against the in-repo Zoho fake (s.Zoho) instead of the
	// built-in local CRM/inventory.
	Zoho bool
}

// TelegramChat is the managers' group of the fake Telegram.
const TelegramChat = "-100555"

// Stack is one isolated product instance.
type Stack struct {
	T          testing.TB
	Config     config.Config
	DBURL      string
	Store      *db.Store
	Temporal   client.Client
	Wazzup     *wazzuptest.Server
	LLM        *llmtest.Server
	Telegram   *telegramtest.Server // nil unless Options.Telegram
	Zoho       *zohotest.Server     // nil unless Options.Zoho
	API        *httptest.Server
	Server     *api.Server
	WebhookURL string

	mu      sync.Mutex
	workers []*runningWorker
}

type runningWorker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// New starts a stack; everything is torn down when the test ends.
func New(t testing.TB, o Options) *Stack {
	t.Helper()
	if o.Debounce == 0 {
		o.Debounce = 1500 * time.Millisecond
	}
	if o.DebounceCap == 0 {
		o.DebounceCap = 20 * time.Second
	}
	s := &Stack{T: t, Wazzup: wazzuptest.New(), LLM: llmtest.New()}
	t.Cleanup(s.Wazzup.Close)
	t.Cleanup(s.LLM.Close)
	s.DBURL = testenv.DatabaseURL(t)
	store, err := db.Open(context.Background(), s.DBURL)
	require.NoError(t, err)
	t.Cleanup(store.Close)
	s.Store = store
	s.Temporal = testenv.Temporal(t)

	s.Config = config.Config{
		Env: "test", LogLevel: "debug", LogFormat: "text", PublicBaseURL: "http://noor.test",
		TaskQueue: testenv.TaskQueue(t), TemporalNamespace: "default", TemporalUIURL: "http://localhost:8233",
		APIKey: APIKey, DebounceWindow: o.Debounce, AdminUsername: "admin", AdminPassword: "admin-password",
		SigningKey: "stack-test-signing-key-0123456789abcdef",
		Wazzup: config.Wazzup{APIURL: s.Wazzup.URL, APIKey: config.Secret(s.Wazzup.APIKey),
			ChannelIDs: []string{s.Wazzup.ChannelID()}, WebhookToken: "hook-token"},
		LLM: config.LLM{BaseURL: s.LLM.URL, APIKey: config.Secret(s.LLM.APIKey), Model: ReplyModel, FastModel: FastModel,
			TranscribeModel: "test/transcribe-model"},
	}
	if o.NoLLM {
		s.Config.LLM.APIKey = ""
	}
	if o.Telegram {
		s.Telegram = telegramtest.New(t, "77:stacktest")
		s.Config.Telegram = config.Telegram{APIURL: s.Telegram.URL, BotToken: config.Secret(s.Telegram.Token),
			ChatID: TelegramChat, WebhookSecret: "tg-secret"}
	}
	if o.Zoho {
		s.Zoho = zohotest.New()
		t.Cleanup(s.Zoho.Close)
		s.Config.Zoho = s.Zoho.Config()
	}
	ctx := context.Background()
	st := settings.Defaults()
	st.Conversation.DebounceWindow = settings.Duration(o.Debounce)
	st.Conversation.DebounceCap = settings.Duration(o.DebounceCap)
	st.Conversation.ContinueAsNewEvents = o.ContinueAsNewEvents
	if o.Patch != "" {
		st, err = st.ApplyPatch([]byte(o.Patch))
		require.NoError(t, err)
	}
	_, err = store.SaveSettings(ctx, st, 0, "stacktest")
	require.NoError(t, err)
	if o.Seed {
		_, err := seed.Run(ctx, seed.Deps{Store: store, Config: s.Config, Log: testenv.Logger(t)})
		require.NoError(t, err)
	}

	reg := metrics.NewRegistry()
	srv, err := api.Build(api.Deps{Config: s.Config, Store: store, Temporal: s.Temporal, Log: testenv.Logger(t),
		Metrics: metrics.NewApp(reg), Gatherer: reg})
	require.NoError(t, err)
	s.Server = srv
	s.API = httptest.NewServer(srv.Echo)
	t.Cleanup(s.API.Close)
	s.WebhookURL = s.API.URL + "/api/v1/webhook/wazzup?token=hook-token"
	if s.Telegram != nil {
		s.Telegram.SetWebhook(s.API.URL+"/api/v1/webhook/telegram", "tg-secret")
	}
	if !o.NoWorker {
		s.StartWorker()
	}
	t.Cleanup(s.StopWorkers)
	return s
}

// Activities builds the production activity set for this stack.
func (s *Stack) Activities() *activities.Set {
	acts, err := activities.Build(activities.Deps{Config: s.Config, Store: s.Store, Log: testenv.Logger(s.T)})
	require.NoError(s.T, err)
	return acts
}

// StartWorker runs one more in-process worker on the stack's task queue.
func (s *Stack) StartWorker() {
	ctx, cancel := context.WithCancel(context.Background())
	w := &runningWorker{cancel: cancel, done: make(chan struct{})}
	acts := s.Activities()
	go func() {
		defer close(w.done)
		_ = worker.Run(ctx, s.Temporal, acts, worker.Options{TaskQueue: s.Config.TaskQueue}, testenv.Logger(s.T))
	}()
	s.mu.Lock()
	s.workers = append(s.workers, w)
	s.mu.Unlock()
}

// StopWorkers stops every in-process worker and waits for them.
func (s *Stack) StopWorkers() {
	s.mu.Lock()
	ws := s.workers
	s.workers = nil
	s.mu.Unlock()
	for _, w := range ws {
		w.cancel()
		<-w.done
	}
}

// NewID returns a fresh provider message id.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:])
}

// Customer builds a customer text message on the stack's channel.
func (s *Stack) Customer(chatID, text string) wazzuptest.Inbound {
	return wazzuptest.Inbound{MessageID: NewID(), ChatID: chatID, Text: text, Type: "text", AuthorType: "client",
		At: time.Now().UTC(), ChannelID: s.Wazzup.ChannelID()}
}

// Manager builds a message a manager wrote from the Wazzup inbox.
func (s *Stack) Manager(chatID, text, name string) wazzuptest.Inbound {
	return wazzuptest.Inbound{MessageID: NewID(), ChatID: chatID, Text: text, Type: "text", AuthorType: "manager",
		AuthorName: name, IsEcho: true, At: time.Now().UTC(), ChannelID: s.Wazzup.ChannelID()}
}

// Post delivers messages to the webhook like Wazzup does and requires a 200.
func (s *Stack) Post(msgs ...wazzuptest.Inbound) {
	s.T.Helper()
	status, err := s.Wazzup.PostMessages(context.Background(), s.WebhookURL, msgs...)
	require.NoError(s.T, err)
	require.Equal(s.T, 200, status)
}

// Conversation finds the conversation of a chat on the stack's channel, waiting for it.
func (s *Stack) Conversation(chatID string) db.Conversation {
	s.T.Helper()
	var c db.Conversation
	require.Eventually(s.T, func() bool {
		var err error
		c, err = s.Store.ConversationByChat(context.Background(), s.Wazzup.ChannelID(), chatID)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "conversation for chat")
	return c
}

// State queries the conversation workflow.
func (s *Stack) State(conversationID string) workflows.ConversationView {
	s.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := s.Temporal.QueryWorkflow(ctx, workflows.ConversationWorkflowID(conversationID), "", workflows.QueryState)
	require.NoError(s.T, err)
	var view workflows.ConversationView
	require.NoError(s.T, v.Get(&view))
	return view
}

// WaitIdle waits until the conversation has run `turns` turns and is idle (no turn running,
// nothing pending), and returns its state.
func (s *Stack) WaitIdle(conversationID string, turns int, timeout time.Duration) workflows.ConversationView {
	s.T.Helper()
	var v workflows.ConversationView
	require.Eventually(s.T, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := s.Temporal.QueryWorkflow(ctx, workflows.ConversationWorkflowID(conversationID), "", workflows.QueryState)
		if err != nil {
			return false
		}
		v = workflows.ConversationView{}
		if res.Get(&v) != nil {
			return false
		}
		return v.TurnSeq >= turns && !v.TurnRunning && len(v.Pending) == 0
	}, timeout, 50*time.Millisecond, "conversation to finish %d turn(s)", turns)
	return v
}

// ReplyRequests are the chat calls made with the reply model (not extraction/summary).
func (s *Stack) ReplyRequests() []llmtest.ChatRequest {
	var out []llmtest.ChatRequest
	for _, r := range s.LLM.Requests() {
		if r.Model == ReplyModel {
			out = append(out, r)
		}
	}
	return out
}

// Local rewrites a link under PUBLIC_BASE_URL (what customers get) to the stack's API
// server, so a test can fetch it.
func (s *Stack) Local(publicURL string) string {
	return strings.Replace(publicURL, s.Config.PublicBaseURL, s.API.URL, 1)
}

// Ctx is a context bounded by d.
func (s *Stack) Ctx(d time.Duration) context.Context { return testenv.Ctx(s.T, d) }

// LogHistory writes a conversation workflow's history (all runs) to the test log: event
// types with activity names and failures. Tests call it when they fail.
func (s *Stack) LogHistory(conversationID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it := s.Temporal.GetWorkflowHistory(ctx, workflows.ConversationWorkflowID(conversationID), "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			s.T.Logf("history: %v", err)
			return
		}
		line := fmt.Sprintf("%3d %s %s", e.GetEventId(), e.GetEventTime().AsTime().Format("15:04:05.000"), e.GetEventType())
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			line += " " + a.GetActivityType().GetName()
		}
		if a := e.GetActivityTaskFailedEventAttributes(); a != nil {
			line += " " + a.GetFailure().GetMessage()
		}
		if a := e.GetWorkflowTaskFailedEventAttributes(); a != nil {
			line += " " + a.GetFailure().GetMessage()
		}
		if a := e.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
			line += " " + a.GetSignalName()
		}
		s.T.Log(line)
	}
}

// RecordHistory writes the conversation workflow's current-run history to
// $NOOR_RECORD_HISTORIES/<name>.json when that variable is set (the replay test reads the
// committed files). Without the variable it does nothing.
func (s *Stack) RecordHistory(workflowID, name string) {
	dir := os.Getenv("NOOR_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	it := s.Temporal.GetWorkflowHistory(ctx, workflowID, "", false, 0)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(s.T, err)
		h.Events = append(h.Events, e)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	require.NoError(s.T, err)
	require.NoError(s.T, os.MkdirAll(dir, 0o755))
	require.NoError(s.T, os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644))
	s.T.Logf("recorded %d events of %s to %s", len(h.Events), workflowID, name)
}
