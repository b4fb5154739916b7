package workflows_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/llm/llmtest"
	"github.com/treejar/noor/activities/telegram"
	"github.com/treejar/noor/activities/telegram/telegramtest"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/stacktest"
)

// waitEscalation waits for the conversation's escalation episode to reach a status.
func waitEscalation(t *testing.T, s *stacktest.Stack, conv string, episode int, status string) db.Escalation {
	t.Helper()
	var e db.Escalation
	require.Eventually(t, func() bool {
		var err error
		e, err = s.Store.EscalationByEpisode(context.Background(), conv, episode)
		return err == nil && e.Status == status
	}, 30*time.Second, 50*time.Millisecond, "escalation %d of %s to be %s", episode, conv, status)
	return e
}

// The whole escalation story on the real stack: a customer asks for a person, gets one
// acknowledgement; managers get one alert; more customer messages bring no second
// acknowledgement; a manager takes and resolves it from Telegram; the bot answers again
// with the manager's note in its context.
func TestEscalationEndToEndThroughTelegram(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Telegram: true})
	echoReplies(s)
	chat := "971501234567"
	s.Post(s.Customer(chat, "I want to talk to a person"))
	conv := s.Conversation(chat)
	sent, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	assert.Equal(t, activities.FixedText("escalation_ack", "en"), sent[0].Text, "the escalating turn sends only the acknowledgement")
	assert.Empty(t, s.ReplyRequests(), "a hard trigger escalates without asking the model")
	esc := waitEscalation(t, s, conv.ID, 1, "pending")
	assert.Equal(t, "human_request", esc.Kind)

	var alert []telegramSent
	require.Eventually(t, func() bool { alert = tgSent(s); return len(alert) >= 1 }, 30*time.Second, 50*time.Millisecond)
	assert.Contains(t, alert[0].Text, "971*******67", "the alert masks the phone")
	assert.NotContains(t, alert[0].Text, chat)

	// Three more messages while waiting: stored, forwarded to the escalation, no bot turn,
	// no second acknowledgement.
	for i := 0; i < 3; i++ {
		s.Post(s.Customer(chat, fmt.Sprintf("Hello? (%d)", i+1)))
	}
	require.Eventually(t, func() bool {
		e, err := s.Store.EscalationByEpisode(context.Background(), conv.ID, 1)
		return err == nil && e.CustomerMessages >= 3
	}, 30*time.Second, 50*time.Millisecond, "the escalation saw the waiting customer's messages")
	st := s.State(conv.ID)
	assert.Equal(t, 1, st.TurnSeq, "no bot turn while the escalation is open")
	assert.Len(t, s.Wazzup.Sent(), 1, "no second acknowledgement within 30 minutes")
	reminders := 0
	for _, m := range tgSent(s) {
		if strings.Contains(strings.ToLower(m.Text), "still waiting") || strings.Contains(strings.ToLower(m.Text), "reminder") {
			reminders++
		}
	}
	assert.LessOrEqual(t, reminders, 1, "at most one reminder per 5 minutes")

	// Take and resolve from the fake Telegram.
	take, resolve := alert[0].buttons()
	status, err := s.Telegram.PressButton(context.Background(), alert[0].raw, take, telegram.User{ID: 1, Username: "sara"})
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	waitEscalation(t, s, conv.ID, 1, "in_progress")
	status, err = s.Telegram.WriteInChat(context.Background(), stacktest.TelegramChat,
		fmt.Sprintf("/resolve %d Customer wants 12 NOVO desks delivered to JLT; quote them", esc.ID), telegram.User{ID: 1, Username: "sara"})
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	_ = resolve
	waitEscalation(t, s, conv.ID, 1, "resolved")
	require.Eventually(t, func() bool { v := s.State(conv.ID); return v.Owner == "bot" && v.Status == "active" },
		30*time.Second, 50*time.Millisecond, "the hand-back reached the conversation")

	s.Post(s.Customer(chat, "Thanks, so what about the desks?"))
	_, err = s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 2)
	require.NoError(t, err)
	reqs := s.ReplyRequests()
	require.NotEmpty(t, reqs)
	assert.Contains(t, reqs[len(reqs)-1].System(), "12 NOVO desks delivered to JLT", "the manager's note is in the bot's context")
	s.RecordHistory(conv.WorkflowID, "conversation-escalation-and-hand-back")
	s.RecordHistory(esc.WorkflowID, "escalation-telegram-take-resolve")
}

// Take and resolve through the API, alerts in the console (no Telegram).
func TestEscalationTakeAndResolveThroughTheAPIOnTheRealConversation(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	echoReplies(s)
	chat := "971509998877"
	s.Post(s.Customer(chat, "The chairs arrived broken, I want a refund"))
	conv := s.Conversation(chat)
	esc := waitEscalation(t, s, conv.ID, 1, "pending")
	assert.Contains(t, []string{"complaint", "return"}, esc.Kind)
	var n int
	require.Eventually(t, func() bool {
		_ = s.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM notifications WHERE conversation_id = $1`, conv.ID).Scan(&n)
		return n >= 1
	}, 30*time.Second, 50*time.Millisecond, "the alert is in the console's notifications")

	assert.Equal(t, 200, apiPost(t, s, fmt.Sprintf("/api/v1/escalations/%d/take", esc.ID), `{"by":"Radhika"}`))
	waitEscalation(t, s, conv.ID, 1, "in_progress")
	assert.Equal(t, 200, apiPost(t, s, fmt.Sprintf("/api/v1/escalations/%d/resolve", esc.ID), `{"by":"Radhika","note":"Replacement armrests sent; no refund needed"}`))
	waitEscalation(t, s, conv.ID, 1, "resolved")
	require.Eventually(t, func() bool { v := s.State(conv.ID); return v.Owner == "bot" && v.Escalation == "" },
		30*time.Second, 50*time.Millisecond)
	s.Post(s.Customer(chat, "OK thank you"))
	_, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 2)
	require.NoError(t, err)
	reqs := s.ReplyRequests()
	assert.Contains(t, reqs[len(reqs)-1].System(), "Replacement armrests sent")
}

// A product-and-quantity question is a sales question; a confirmed large order with a
// delivery detail goes to a manager.
func TestOrderQuestionsAreAnsweredAndConfirmedLargeOrdersEscalate(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true})
	echoReplies(s)
	s.Post(s.Customer("971500000101", "5 x CH 190"))
	s.Post(s.Customer("971500000102", "we confirm, deliver 200 chairs to Dubai Marina next week"))
	_, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 2)
	require.NoError(t, err)
	byChat := map[string]string{}
	for _, m := range s.Wazzup.Sent() {
		byChat[m.ChatID] = m.Text
	}
	assert.Equal(t, "Reply to: 5 x CH 190", byChat["971500000101"], "answered by the bot")
	assert.Equal(t, activities.FixedText("escalation_ack", "en"), byChat["971500000102"], "handed to a manager")
	big := s.Conversation("971500000102")
	esc := waitEscalation(t, s, big.ID, 1, "pending")
	assert.Equal(t, "large_order", esc.Kind)
	_, err = s.Store.EscalationByEpisode(context.Background(), s.Conversation("971500000101").ID, 1)
	assert.ErrorIs(t, err, db.ErrNotFound)
}

// The conversation continues as new while an escalation and a follow-up run: the new run
// still forwards the customer's messages to both and receives the hand-back.
func TestContinueAsNewWithOpenEscalationAndFollowUp(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, ContinueAsNewEvents: 20,
		Patch: `{"follow_ups":{"inactivity_enabled":true}}`})
	s.LLM.Handle(llmtest.Rules(
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool { return r.Model == stacktest.FastModel },
			Reply: func(llmtest.ChatRequest) llmtest.Reply { return llmtest.Reply{Content: "{}"} }},
		llmtest.Rule{Match: func(llmtest.ChatRequest) bool { return true },
			Reply: func(r llmtest.ChatRequest) llmtest.Reply {
				return llmtest.Reply{Content: "Reply to: " + r.LastUserText()}
			}},
	))
	chat := "971505550000"
	s.Post(s.Customer(chat, "Do you sell standing desks?"))
	conv := s.Conversation(chat)
	_, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 1)
	require.NoError(t, err)
	var followUp string
	require.Eventually(t, func() bool {
		v := s.State(conv.ID)
		if len(v.FollowUps) > 0 {
			followUp = v.FollowUps[0]
		}
		return followUp != ""
	}, 30*time.Second, 50*time.Millisecond, "an inactivity follow-up started after the reply")

	// The API escalates; the workflow continues as new (low threshold) with both children open.
	assert.Equal(t, 200, apiPost(t, s, "/api/v1/conversations/"+conv.ID+"/escalate", `{"reason":"VIP customer, call back","kind":"other"}`))
	esc := waitEscalation(t, s, conv.ID, 1, "pending")
	runs := func() int {
		resp, err := s.Temporal.ListWorkflow(context.Background(), listByID(conv.WorkflowID))
		if err != nil {
			return 0
		}
		return len(resp.Executions)
	}
	require.Eventually(t, func() bool { return runs() >= 2 }, 30*time.Second, 100*time.Millisecond, "continued as new")

	// The new run forwards the customer's message to the escalation and to the follow-up.
	s.Post(s.Customer(chat, "Any news?"))
	heard := assert.Eventually(t, func() bool {
		e, err := s.Store.EscalationByEpisode(context.Background(), conv.ID, 1)
		return err == nil && e.CustomerMessages >= 1
	}, 30*time.Second, 50*time.Millisecond, "the escalation still hears the customer")
	if !heard {
		t.Logf("state: %+v", s.State(conv.ID))
		s.LogHistory(conv.ID)
		t.FailNow()
	}
	require.Eventually(t, func() bool {
		var state string
		_ = s.Store.Pool.QueryRow(context.Background(), `SELECT state FROM follow_ups WHERE workflow_id = $1`, followUp).Scan(&state)
		return state == "finished"
	}, 30*time.Second, 100*time.Millisecond, "the follow-up heard the reply and stopped")

	assert.Equal(t, 200, apiPost(t, s, fmt.Sprintf("/api/v1/escalations/%d/resolve", esc.ID), `{"by":"Israullah","note":"Called back"}`))
	require.Eventually(t, func() bool {
		v := s.State(conv.ID)
		return v.Owner == "bot" && v.Status == "active" && v.Escalation == ""
	},
		30*time.Second, 50*time.Millisecond, "the hand-back reached the new run")
}

type telegramSent struct {
	raw  telegramtest.Sent
	Text string
}

// buttons returns the callback data of the alert's take and resolve buttons.
func (m telegramSent) buttons() (take, resolve string) {
	if m.raw.Keyboard == nil {
		return "", ""
	}
	for _, row := range m.raw.Keyboard.InlineKeyboard {
		for _, b := range row {
			switch {
			case strings.HasPrefix(b.CallbackData, "take:"):
				take = b.CallbackData
			case strings.HasPrefix(b.CallbackData, "resolve:"):
				resolve = b.CallbackData
			}
		}
	}
	return take, resolve
}

func tgSent(s *stacktest.Stack) []telegramSent {
	var out []telegramSent
	for _, m := range s.Telegram.Sent() {
		out = append(out, telegramSent{raw: m, Text: m.Text})
	}
	return out
}

func listByID(workflowID string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Query: `WorkflowId = "` + workflowID + `"`}
}
