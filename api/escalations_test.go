package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/telegram"
	"github.com/treejar/noor/activities/telegram/telegramtest"
	"github.com/treejar/noor/api"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/internal/testenv"
	"github.com/treejar/noor/worker"
	"github.com/treejar/noor/workflows"
)

// The conversation workflow belongs to the conversation core; these tests stand in for it
// with conversationStub, started under the real conversation workflow id, so the
// escalation's hand-back signal has its real target. The stub starts the escalation as
// its child (ABANDON) and continues-as-new while the escalation runs, like the real one.
const stubName = "TestConversationStub"

type stubInput struct {
	ConversationID string
	ContinueAsNew  bool
	WithFollowUp   bool // also start a quote follow-up child, as after a quotation
	Run            int
	HandBacks      []workflows.HandBackSignal
}

type stubState struct {
	Run       int
	HandBacks []workflows.HandBackSignal
}

func conversationStub(ctx workflow.Context, in stubInput) (stubState, error) {
	st := stubState{Run: in.Run, HandBacks: in.HandBacks}
	if err := workflow.SetQueryHandler(ctx, "stub-state", func() (stubState, error) { return st, nil }); err != nil {
		return st, err
	}
	if in.Run == 0 {
		var reason string
		workflow.GetSignalChannel(ctx, "test-escalate").Receive(ctx, &reason)
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:        workflows.EscalationWorkflowID(in.ConversationID, 1),
			ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		})
		child := workflow.ExecuteChildWorkflow(cctx, workflows.EscalationWorkflowName, workflows.EscalationInput{
			ConversationID: in.ConversationID, Episode: 1, Reason: reason, Kind: "human_request", TriggeredBy: "rule"})
		if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			return st, err
		}
		if in.WithFollowUp {
			fctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID:        workflows.FollowUpWorkflowID(in.ConversationID, "quote", "SO-1"),
				ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
			})
			fu := workflow.ExecuteChildWorkflow(fctx, workflows.FollowUpWorkflowName, workflows.FollowUpInput{
				ConversationID: in.ConversationID, Kind: "quote", Ref: "SO-1", StartedAt: workflow.Now(ctx)})
			if err := fu.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
				return st, err
			}
		}
		if in.ContinueAsNew {
			in.Run = 1
			return st, workflow.NewContinueAsNewError(ctx, stubName, in)
		}
		st.Run = 1
	}
	var hb workflows.HandBackSignal
	workflow.GetSignalChannel(ctx, workflows.SignalHandBack).Receive(ctx, &hb)
	st.HandBacks = append(st.HandBacks, hb)
	return st, nil
}

type escEnv struct {
	t     *testing.T
	store *db.Store
	http  *httptest.Server
	tc    client.Client
	cfg   config.Config
	tg    *telegramtest.Server
}

func newEscEnv(t *testing.T, withTelegram bool) *escEnv {
	e := &escEnv{t: t, store: testenv.DB(t), tc: testenv.Temporal(t)}
	e.cfg = config.Config{Env: "test", APIKey: apiKey, TaskQueue: testenv.TaskQueue(t), PublicBaseURL: "https://noor.example.com"}
	if withTelegram {
		e.tg = telegramtest.New(t, "77:itest")
		e.cfg.Telegram = config.Telegram{APIURL: e.tg.URL, BotToken: config.Secret(e.tg.Token), ChatID: "-100555",
			WebhookSecret: "hook-secret"}
	}
	reg := metrics.NewRegistry()
	m := metrics.NewApp(reg)
	srv, err := api.Build(api.Deps{Config: e.cfg, Store: e.store, Temporal: e.tc, Log: testenv.Logger(t), Metrics: m, Gatherer: reg})
	require.NoError(t, err)
	e.http = httptest.NewServer(srv.Echo)
	t.Cleanup(e.http.Close)
	if withTelegram {
		e.tg.SetWebhook(e.http.URL+"/api/v1/webhook/telegram", "hook-secret")
	}

	acts, err := activities.Build(activities.Deps{Config: e.cfg, Store: e.store, Log: testenv.Logger(t), Metrics: m})
	require.NoError(t, err)
	w := sdkworker.New(e.tc, e.cfg.TaskQueue, sdkworker.Options{})
	worker.Register(w, acts)
	w.RegisterWorkflowWithOptions(conversationStub, workflow.RegisterOptions{Name: stubName})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	return e
}

func (e *escEnv) ctx() context.Context { return testenv.Ctx(e.t, time.Minute) }

func (e *escEnv) conversation() string {
	var id string
	require.NoError(e.t, e.store.Pool.QueryRow(e.ctx(), `
		INSERT INTO conversations (channel_id, chat_id, customer_name, language, last_customer_message_at)
		VALUES ('chan-1', '971501234567', 'Layla', 'en', now()) RETURNING id::text`).Scan(&id))
	_, err := e.store.Pool.Exec(e.ctx(), `INSERT INTO messages (conversation_id, direction, author, text)
		VALUES ($1, 'in', 'customer', 'I want to talk to a person')`, id)
	require.NoError(e.t, err)
	return id
}

// escalate starts the stub conversation and has it open escalation episode 1.
func (e *escEnv) escalate(conv string, continueAsNew bool) db.Escalation {
	return e.start(stubInput{ConversationID: conv, ContinueAsNew: continueAsNew})
}

func (e *escEnv) start(in stubInput) db.Escalation {
	conv := in.ConversationID
	_, err := e.tc.ExecuteWorkflow(e.ctx(), client.StartWorkflowOptions{ID: workflows.ConversationWorkflowID(conv), TaskQueue: e.cfg.TaskQueue},
		stubName, in)
	require.NoError(e.t, err)
	require.NoError(e.t, e.tc.SignalWorkflow(e.ctx(), workflows.ConversationWorkflowID(conv), "", "test-escalate", "customer asked for a human"))
	var row db.Escalation
	require.Eventually(e.t, func() bool {
		row, err = e.store.EscalationByEpisode(e.ctx(), conv, 1)
		return err == nil
	}, 20*time.Second, 50*time.Millisecond)
	return row
}

func (e *escEnv) stub(conv string) stubState {
	v, err := e.tc.QueryWorkflow(e.ctx(), workflows.ConversationWorkflowID(conv), "", "stub-state")
	require.NoError(e.t, err)
	var st stubState
	require.NoError(e.t, v.Get(&st))
	return st
}

func (e *escEnv) waitStatus(conv, status string) db.Escalation {
	var row db.Escalation
	require.Eventually(e.t, func() bool {
		var err error
		row, err = e.store.EscalationByEpisode(e.ctx(), conv, 1)
		return err == nil && row.Status == status
	}, 20*time.Second, 50*time.Millisecond, "escalation never became %s", status)
	return row
}

func (e *escEnv) call(method, path, body string, headers map[string]string) (int, map[string]any) {
	req, err := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", apiKey)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Take and resolve from the (fake) Telegram: a button press and a /resolve command with a
// note, while the conversation continued-as-new after starting the escalation.
func TestEscalationTakeAndResolveFromTelegram(t *testing.T) {
	e := newEscEnv(t, true)
	conv := e.conversation()
	row := e.escalate(conv, true)

	var opened telegramtest.Sent
	require.Eventually(t, func() bool {
		s := e.tg.Sent()
		if len(s) == 0 {
			return false
		}
		opened = s[0]
		return true
	}, 20*time.Second, 50*time.Millisecond)
	assert.Equal(t, "-100555", opened.ChatID)
	assert.Contains(t, opened.Text, "971*******67")
	assert.NotContains(t, opened.Text, "971501234567")
	assert.Contains(t, opened.Text, "https://noor.example.com/console/conversations/"+conv)
	require.Len(t, opened.Keyboard.InlineKeyboard, 1)
	take, resolve := opened.Keyboard.InlineKeyboard[0][0], opened.Keyboard.InlineKeyboard[0][1]
	assert.Equal(t, fmt.Sprintf("take:%d", row.ID), take.CallbackData)
	assert.Equal(t, fmt.Sprintf("resolve:%d", row.ID), resolve.CallbackData)
	assert.Equal(t, 1, e.stub(conv).Run, "the conversation continued-as-new while the escalation runs")

	// A wrong secret is refused and changes nothing.
	status, err := e.tg.PostUpdate(e.ctx(), telegram.Update{CallbackQuery: &telegram.CallbackQuery{ID: "x", Data: take.CallbackData,
		From: telegram.User{ID: 9, Username: "mallory"}, Message: &telegram.Message{MessageID: opened.MessageID, Chat: telegram.Chat{ID: -100555}}}}, "wrong")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, status)
	// A press from another chat is ignored.
	status, err = e.tg.PostUpdate(e.ctx(), telegram.Update{CallbackQuery: &telegram.CallbackQuery{ID: "y", Data: take.CallbackData,
		From: telegram.User{ID: 9, Username: "mallory"}, Message: &telegram.Message{MessageID: 1, Chat: telegram.Chat{ID: 123}}}}, "hook-secret")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)

	status, err = e.tg.PressButton(e.ctx(), opened, take.CallbackData, telegram.User{ID: 1, Username: "sara"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	taken := e.waitStatus(conv, "in_progress")
	assert.Equal(t, "@sara", taken.TakenBy)
	assert.Equal(t, "telegram", taken.TakenVia)
	answers := e.tg.Answers()
	require.NotEmpty(t, answers)
	assert.Equal(t, fmt.Sprintf("Taking escalation #%d…", row.ID), answers[len(answers)-1].Text)

	// The Take button disappears from the alert; the taken note is posted.
	require.Eventually(t, func() bool {
		s := e.tg.Sent()
		kb := s[0].Keyboard
		return len(s) >= 2 && strings.Contains(s[1].Text, "taken by @sara") && kb != nil &&
			len(kb.InlineKeyboard) == 1 && len(kb.InlineKeyboard[0]) == 1 && kb.InlineKeyboard[0][0].CallbackData == resolve.CallbackData
	}, 20*time.Second, 50*time.Millisecond)

	// A second manager pressing Take is told who has it.
	_, err = e.tg.PressButton(e.ctx(), opened, take.CallbackData, telegram.User{ID: 2, FirstName: "Omar"})
	require.NoError(t, err)
	answers = e.tg.Answers()
	assert.Equal(t, fmt.Sprintf("Escalation #%d is already taken by @sara.", row.ID), answers[len(answers)-1].Text)

	status, err = e.tg.WriteInChat(e.ctx(), "-100555", fmt.Sprintf("/resolve %d Offered 5%% on 12 desks; wants delivery next week", row.ID),
		telegram.User{ID: 1, Username: "sara"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	resolved := e.waitStatus(conv, "resolved")
	assert.Equal(t, "Offered 5% on 12 desks; wants delivery next week", resolved.ResolutionNote)
	assert.Equal(t, "@sara", resolved.ResolvedBy)

	// The hand-back reached the conversation's current run, with the note for the bot.
	require.Eventually(t, func() bool { return len(e.stub(conv).HandBacks) == 1 }, 20*time.Second, 50*time.Millisecond)
	hb := e.stub(conv).HandBacks[0]
	assert.Equal(t, workflows.HandBackSignal{By: "@sara", Note: "Offered 5% on 12 desks; wants delivery next week", Via: "telegram", EscalationEpisode: 1}, hb)

	// Stale button after resolve.
	_, err = e.tg.PressButton(e.ctx(), opened, resolve.CallbackData, telegram.User{ID: 2, FirstName: "Omar"})
	require.NoError(t, err)
	answers = e.tg.Answers()
	assert.Equal(t, fmt.Sprintf("Escalation #%d is already resolved by @sara.", row.ID), answers[len(answers)-1].Text)
	require.Eventually(t, func() bool {
		s := e.tg.Sent()
		return len(s) >= 3 && strings.Contains(s[len(s)-1].Text, "resolved by @sara") && len(s[0].Keyboard.InlineKeyboard) == 0
	}, 20*time.Second, 50*time.Millisecond)
}

// Take and resolve through the API, with alerts going to the console (no Telegram).
func TestEscalationTakeAndResolveFromAPI(t *testing.T) {
	e := newEscEnv(t, false)
	conv := e.conversation()
	row := e.escalate(conv, false)
	id := fmt.Sprint(row.ID)

	code, body := e.call("GET", "/api/v1/escalations/?status=pending&conversation_id="+conv, "", nil)
	require.Equal(t, http.StatusOK, code)
	list := body["escalations"].([]any)
	require.Len(t, list, 1)
	assert.Equal(t, float64(row.ID), list[0].(map[string]any)["id"])

	code, _ = e.call("GET", "/api/v1/escalations/?status=bogus", "", nil)
	assert.Equal(t, http.StatusBadRequest, code)
	code, _ = e.call("POST", "/api/v1/escalations/"+id+"/take", `{}`, nil)
	assert.Equal(t, http.StatusBadRequest, code, "a manager name is required")
	code, _ = e.call("POST", "/api/v1/escalations/"+id+"/take", `{"by":"Sara","extra":1}`, nil)
	assert.Equal(t, http.StatusBadRequest, code, "unknown fields are refused")
	code, _ = e.call("POST", "/api/v1/escalations/999999/take", `{"by":"Sara"}`, nil)
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = e.call("POST", "/api/v1/escalations/"+id+"/take", `{"by":"Sara"}`, map[string]string{"X-API-Key": "wrong"})
	assert.Equal(t, http.StatusUnauthorized, code)

	code, body = e.call("POST", "/api/v1/escalations/"+id+"/take", `{"by":"Sara"}`, nil)
	require.Equal(t, http.StatusOK, code, "%v", body)
	st := body["escalation"].(map[string]any)
	assert.Equal(t, "in_progress", st["status"])
	assert.Equal(t, "Sara", st["taken_by"])
	assert.Equal(t, "in_progress", e.waitStatus(conv, "in_progress").Status)

	code, body = e.call("POST", "/api/v1/escalations/"+id+"/take", `{"by":"Omar"}`, nil)
	assert.Equal(t, http.StatusConflict, code)
	assert.Equal(t, "already_taken", body["error"].(map[string]any)["code"])

	code, body = e.call("GET", "/api/v1/escalations/"+id, "", nil)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "in_progress", body["workflow"].(map[string]any)["status"], "the live workflow state is included")

	code, body = e.call("POST", "/api/v1/escalations/"+id+"/resolve", `{"by":"Sara","note":"Customer prefers delivery on Sunday; quote SO-00042 updated."}`, nil)
	require.Equal(t, http.StatusOK, code, "%v", body)
	assert.Equal(t, "resolved", body["escalation"].(map[string]any)["status"])
	require.Eventually(t, func() bool { return len(e.stub(conv).HandBacks) == 1 }, 20*time.Second, 50*time.Millisecond)
	assert.Equal(t, "Customer prefers delivery on Sunday; quote SO-00042 updated.", e.stub(conv).HandBacks[0].Note)
	assert.Equal(t, "api", e.stub(conv).HandBacks[0].Via)

	code, _ = e.call("POST", "/api/v1/escalations/"+id+"/resolve", `{"by":"Sara"}`, nil)
	assert.Equal(t, http.StatusConflict, code, "resolving twice is a conflict")

	// Without Telegram every alert is in the console's list, delivered there.
	require.Eventually(t, func() bool {
		code, body = e.call("GET", "/api/v1/notifications/?conversation_id="+conv, "", nil)
		return code == http.StatusOK && len(body["notifications"].([]any)) == 3
	}, 20*time.Second, 50*time.Millisecond, "opened, taken, resolved")
	for _, n := range body["notifications"].([]any) {
		assert.Equal(t, "console", n.(map[string]any)["channel"])
		assert.Equal(t, "sent", n.(map[string]any)["status"])
	}
	first := body["notifications"].([]any)[2].(map[string]any)
	code, body = e.call("POST", fmt.Sprintf("/api/v1/notifications/%v/ack", first["id"]), "", map[string]string{"X-Actor": "admin"})
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "admin", body["notification"].(map[string]any)["acknowledged_by"])
}

// A continue-as-new of the conversation while an escalation and a follow-up run loses
// neither: both children keep running (ABANDON), the follow-up still receives the
// forwarded customer activity, and the escalation's hand-back reaches the new run.
func TestConversationContinueAsNewLosesNeitherChild(t *testing.T) {
	e := newEscEnv(t, false)
	conv := e.conversation()
	row := e.start(stubInput{ConversationID: conv, ContinueAsNew: true, WithFollowUp: true})
	require.Eventually(t, func() bool { return e.stub(conv).Run == 1 }, 20*time.Second, 50*time.Millisecond)

	fuID := workflows.FollowUpWorkflowID(conv, "quote", "SO-1")
	desc, err := e.tc.DescribeWorkflowExecution(e.ctx(), fuID, "")
	require.NoError(t, err)
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.WorkflowExecutionInfo.Status)
	desc, err = e.tc.DescribeWorkflowExecution(e.ctx(), workflows.EscalationWorkflowID(conv, 1), "")
	require.NoError(t, err)
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.WorkflowExecutionInfo.Status)

	// The customer writes; the conversation forwards it to its follow-up child.
	var msgID int64
	require.NoError(t, e.store.Pool.QueryRow(e.ctx(), `INSERT INTO messages (conversation_id, direction, author, text)
		VALUES ($1, 'in', 'customer', 'Can you also add 2 pedestals?') RETURNING id`, conv).Scan(&msgID))
	require.NoError(t, e.tc.SignalWorkflow(e.ctx(), fuID, "", workflows.SignalCustomerActivity, workflows.CustomerActivitySignal{MessageID: msgID, At: time.Now()}))
	var fu workflows.FollowUpState
	require.NoError(t, e.tc.GetWorkflow(e.ctx(), fuID, "").Get(e.ctx(), &fu))
	assert.Equal(t, "replied", fu.Outcome)
	rows, err := e.store.ListFollowUps(e.ctx(), db.FollowUpFilter{ConversationID: conv})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "replied", rows[0].Outcome)

	code, body := e.call("POST", fmt.Sprintf("/api/v1/escalations/%d/resolve", row.ID), `{"by":"Sara","note":"all set"}`, nil)
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Eventually(t, func() bool { return len(e.stub(conv).HandBacks) == 1 }, 20*time.Second, 50*time.Millisecond)
	assert.Equal(t, "all set", e.stub(conv).HandBacks[0].Note)

	code, body = e.call("GET", "/api/v1/follow-ups/?conversation_id="+conv+"&kind=quote", "", nil)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["follow_ups"].([]any), 1)
	code, body = e.call("GET", fmt.Sprintf("/api/v1/follow-ups/%d", rows[0].ID), "", nil)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "replied", body["follow_up"].(map[string]any)["outcome"])
}
