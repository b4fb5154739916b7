package workflows_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/workflows"
)

func (h *harness) queryEscalation() workflows.EscalationState {
	v, err := h.env.QueryWorkflow(workflows.QueryState)
	require.NoError(h.t, err)
	var st workflows.EscalationState
	require.NoError(h.t, v.Get(&st))
	return st
}

// expectHandBack records the hand-back signal the escalation sends to its conversation.
func (h *harness) expectHandBack(conv string) *[]workflows.HandBackSignal {
	var got []workflows.HandBackSignal
	h.env.OnSignalExternalWorkflow(mock.Anything, workflows.ConversationWorkflowID(conv), "", workflows.SignalHandBack,
		mock.MatchedBy(func(s workflows.HandBackSignal) bool { got = append(got, s); return true })).Return(nil)
	return &got
}

func (h *harness) escalationRow(conv string) db.Escalation {
	e, err := h.store.EscalationByEpisode(h.ctx(), conv, 1)
	require.NoError(h.t, err)
	return e
}

// "I want to talk to a person" → one escalation, one alert; three more customer messages
// within 10 minutes → no second acknowledgement and at most one reminder per 5 minutes;
// SLA alert at 15 minutes; take and resolve; hand-back with the manager's note.
func TestEscalationLifecycle(t *testing.T) {
	start := at(9, 30, 11, 0)
	h := newHarness(t, start)
	conv := h.conversation("en", start)
	h.message(conv, "I want to talk to a person")
	handBacks := h.expectHandBack(conv)

	customer := func(text string) func() {
		return func() {
			id := h.message(conv, text)
			h.env.SignalWorkflow(workflows.SignalCustomerActivity, workflows.CustomerActivitySignal{MessageID: id, At: h.env.Now()})
		}
	}
	var snapshots = map[string]workflows.EscalationState{}
	snap := func(name string) func() { return func() { snapshots[name] = h.queryEscalation() } }

	h.env.RegisterDelayedCallback(snap("start"), 30*time.Second)
	h.env.RegisterDelayedCallback(customer("hello?"), 1*time.Minute)
	h.env.RegisterDelayedCallback(customer("anyone there?"), 4*time.Minute)
	h.env.RegisterDelayedCallback(snap("4m30"), 4*time.Minute+30*time.Second)
	h.env.RegisterDelayedCallback(snap("6m"), 6*time.Minute)
	h.env.RegisterDelayedCallback(customer("please call me back"), 7*time.Minute)
	h.env.RegisterDelayedCallback(snap("9m"), 9*time.Minute)
	h.env.RegisterDelayedCallback(snap("11m"), 11*time.Minute)
	h.env.RegisterDelayedCallback(snap("14m"), 14*time.Minute)
	h.env.RegisterDelayedCallback(snap("16m"), 16*time.Minute)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalEscalationTake, workflows.EscalationActionSignal{By: "@sara", Via: "telegram"})
	}, 20*time.Minute)
	h.env.RegisterDelayedCallback(customer("thanks Sara"), 22*time.Minute)
	h.env.RegisterDelayedCallback(snap("taken"), 40*time.Minute)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalEscalationResolve, workflows.EscalationActionSignal{
			By: "@sara", Via: "telegram", Note: "Offered 5% on 12 NOVO desks; customer will confirm by Sunday."})
	}, 45*time.Minute)

	h.withID(workflows.EscalationWorkflowID(conv, 1))
	h.env.ExecuteWorkflow(workflows.EscalationWorkflow, workflows.EscalationInput{
		ConversationID: conv, Episode: 1, Reason: "customer asked for a human", Kind: "human_request", TriggeredBy: "rule"})
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	var final workflows.EscalationState
	require.NoError(t, h.env.GetWorkflowResult(&final))

	assert.Equal(t, "pending", snapshots["start"].Status)
	// Three customer messages in 10 minutes: no acknowledgement (the escalating turn was
	// acknowledged by the conversation), reminders coalesced to one per 5 minutes.
	assert.Equal(t, 0, snapshots["4m30"].Reminders, "the first alert went out at 0; nothing before 5 min")
	assert.Equal(t, 1, snapshots["6m"].Reminders, "one reminder at 5 min for the messages at 1 and 4 min")
	assert.Equal(t, 1, snapshots["9m"].Reminders, "the message at 7 min waits for the interval")
	assert.Equal(t, 2, snapshots["11m"].Reminders, "second reminder at 10 min")
	assert.Equal(t, 2, snapshots["14m"].Reminders, "no customer message since: no reminder")
	assert.Equal(t, 0, snapshots["14m"].Acks)
	assert.False(t, snapshots["14m"].SLAMissed)
	assert.True(t, snapshots["16m"].SLAMissed, "15 min without a manager")
	assert.Equal(t, "in_progress", snapshots["taken"].Status)
	assert.Equal(t, "@sara", snapshots["taken"].TakenBy)
	assert.Equal(t, 2, snapshots["taken"].Reminders, "no reminders once taken")
	assert.Empty(t, h.gw.all(), "no acknowledgement at all within 30 minutes, none once taken")

	assert.Equal(t, "resolved", final.Status)
	assert.True(t, final.HandedBack)
	require.Len(t, *handBacks, 1)
	assert.Equal(t, workflows.HandBackSignal{By: "@sara", Via: "telegram", EscalationEpisode: 1,
		Note: "Offered 5% on 12 NOVO desks; customer will confirm by Sunday."}, (*handBacks)[0])

	row := h.escalationRow(conv)
	assert.Equal(t, "resolved", row.Status)
	assert.Equal(t, "@sara", row.TakenBy)
	assert.Equal(t, "telegram", row.TakenVia)
	assert.Equal(t, "@sara", row.ResolvedBy)
	assert.Contains(t, row.ResolutionNote, "Offered 5%")
	require.NotNil(t, row.TakenAt)
	assert.Equal(t, start.Add(20*time.Minute).UTC(), row.TakenAt.UTC(), "taken_at is the workflow's time")
	require.NotNil(t, row.SLAMissedAt)
	assert.Equal(t, 2, row.RemindersSent)
	assert.Equal(t, 4, row.CustomerMessages)
	assert.Equal(t, workflows.EscalationWorkflowID(conv, 1), row.WorkflowID)

	// Telegram: opened, 2 reminders, SLA, taken, resolved — in that order.
	sent := h.tg.Sent()
	require.Len(t, sent, 6)
	titles := make([]string, len(sent))
	for i, m := range sent {
		titles[i] = strings.SplitN(m.Text, "\n", 2)[0]
		assert.Equal(t, "-100777", m.ChatID)
		assert.Equal(t, "HTML", m.ParseMode)
		assert.NotContains(t, m.Text, "971551220665", "the phone is masked in every alert")
	}
	assert.Contains(t, titles[0], "Escalation #")
	assert.Contains(t, titles[1], "Reminder")
	assert.Contains(t, titles[2], "Reminder")
	assert.Contains(t, titles[3], "SLA missed")
	assert.Contains(t, titles[4], "taken by @sara")
	assert.Contains(t, titles[5], "resolved by @sara")
	opened := sent[0]
	for _, want := range []string{"971*******65", "customer asked for a human", "Acme LLC", "Needs 12 desks",
		"I want to talk to a person", "https://noor.example.com/console/conversations/" + conv} {
		assert.Contains(t, opened.Text, want)
	}
	assert.Contains(t, sent[1].Text, "anyone there?")
	assert.Empty(t, opened.Keyboard.InlineKeyboard, "buttons of the earlier alerts are removed once resolved")

	notes, err := h.store.ListNotifications(h.ctx(), db.NotificationFilter{EscalationID: row.ID})
	require.NoError(t, err)
	require.Len(t, notes, 6)
	for _, n := range notes {
		assert.Equal(t, "sent", n.Status)
		assert.Equal(t, "telegram", n.Channel)
	}
}

func TestEscalationAcknowledgesWaitingCustomerAtMostEvery30Minutes(t *testing.T) {
	start := at(9, 30, 11, 0)
	h := newHarness(t, start)
	conv := h.conversation("ar", start)
	h.expectHandBack(conv)
	for _, d := range []time.Duration{31, 40, 55, 62} {
		h.env.RegisterDelayedCallback(func() {
			id := h.message(conv, "؟")
			h.env.SignalWorkflow(workflows.SignalCustomerActivity, workflows.CustomerActivitySignal{MessageID: id})
		}, d*time.Minute)
	}
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalEscalationResolve, workflows.EscalationActionSignal{By: "admin", Via: "cli"})
	}, 70*time.Minute)
	h.env.ExecuteWorkflow(workflows.EscalationWorkflow, workflows.EscalationInput{ConversationID: conv, Episode: 1, Reason: "complaint", Kind: "complaint"})
	require.NoError(t, h.env.GetWorkflowError())

	acks := h.gw.sent()
	require.Len(t, acks, 2, "acks at 31 and 62 minutes; none at 40 and 55")
	assert.WithinDuration(t, start.Add(31*time.Minute), acks[0].At, 0)
	assert.WithinDuration(t, start.Add(62*time.Minute), acks[1].At, 0)
	for i, a := range acks {
		assert.Equal(t, "escalation_ack", a.In.Purpose)
		assert.True(t, a.In.RespectOwner)
		assert.False(t, a.In.Proactive)
		assert.Contains(t, a.In.Text, "مدير", "acknowledgement in the customer's language")
		assert.Equal(t, "esc-ack:"+conv+":1:"+string(rune('1'+i)), a.In.IdempotencyKey)
	}
	row := h.escalationRow(conv)
	assert.Equal(t, 2, row.AcksSent)
	assert.Equal(t, "admin", row.TakenBy, "a resolve straight from pending is the first response")
}

// A manager writing from the Wazzup inbox takes the escalation: no SLA alert, no reminders.
func TestWazzupManagerTakesEscalation(t *testing.T) {
	start := at(9, 30, 11, 0)
	h := newHarness(t, start)
	conv := h.conversation("en", start)
	h.expectHandBack(conv)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalEscalationTake, workflows.EscalationActionSignal{By: "Ahmed (Wazzup)", Via: "wazzup"})
	}, 3*time.Minute)
	h.env.RegisterDelayedCallback(func() {
		id := h.message(conv, "ok")
		h.env.SignalWorkflow(workflows.SignalCustomerActivity, workflows.CustomerActivitySignal{MessageID: id})
	}, 10*time.Minute)
	var mid workflows.EscalationState
	h.env.RegisterDelayedCallback(func() { mid = h.queryEscalation() }, 30*time.Minute)
	h.env.RegisterDelayedCallback(func() {
		// A second take by someone else does not steal the chat.
		h.env.SignalWorkflow(workflows.SignalEscalationTake, workflows.EscalationActionSignal{By: "@other", Via: "telegram"})
	}, 31*time.Minute)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalEscalationResolve, workflows.EscalationActionSignal{By: "Ahmed (Wazzup)", Via: "console", Note: "done"})
	}, 60*time.Minute)
	h.env.ExecuteWorkflow(workflows.EscalationWorkflow, workflows.EscalationInput{ConversationID: conv, Episode: 1, Reason: "r", Kind: "human_request"})
	require.NoError(t, h.env.GetWorkflowError())
	assert.Equal(t, "in_progress", mid.Status)
	assert.False(t, mid.SLAMissed)
	assert.Equal(t, 0, mid.Reminders)
	row := h.escalationRow(conv)
	assert.Equal(t, "wazzup", row.TakenVia)
	assert.Equal(t, "Ahmed (Wazzup)", row.TakenBy)
	assert.Nil(t, row.SLAMissedAt)
	assert.Empty(t, h.gw.all())
	assert.Len(t, h.tg.Sent(), 3, "opened, taken, resolved")
}

func TestEscalationUpdatesAnswerWithTheNewState(t *testing.T) {
	start := at(9, 30, 11, 0)
	h := newHarness(t, start)
	conv := h.conversation("en", start)
	handBacks := h.expectHandBack(conv)
	type outcome struct {
		st       workflows.EscalationState
		err      error
		rejected error
	}
	results := map[string]*outcome{}
	update := func(id, name string, a workflows.EscalationActionSignal) func() {
		results[id] = &outcome{}
		return func() {
			h.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
				OnReject: func(err error) { results[id].rejected = err },
				OnComplete: func(v any, err error) {
					results[id].err = err
					if st, ok := v.(workflows.EscalationState); ok {
						results[id].st = st
					}
				},
			}, a)
		}
	}
	h.env.RegisterDelayedCallback(update("take-1", workflows.UpdateEscalationTake, workflows.EscalationActionSignal{By: "Sara", Via: "api"}), 2*time.Minute)
	h.env.RegisterDelayedCallback(update("bad", workflows.UpdateEscalationResolve, workflows.EscalationActionSignal{Via: "api"}), 3*time.Minute)
	h.env.RegisterDelayedCallback(update("resolve-1", workflows.UpdateEscalationResolve, workflows.EscalationActionSignal{By: "Sara", Via: "api", Note: "quote sent"}), 4*time.Minute)
	h.env.ExecuteWorkflow(workflows.EscalationWorkflow, workflows.EscalationInput{ConversationID: conv, Episode: 1, Reason: "r", Kind: "large_order"})
	require.NoError(t, h.env.GetWorkflowError())

	require.NoError(t, results["take-1"].err)
	assert.Equal(t, "in_progress", results["take-1"].st.Status)
	assert.Equal(t, "Sara", results["take-1"].st.TakenBy)
	require.Error(t, results["bad"].rejected, "a resolve without a name is rejected")
	require.NoError(t, results["resolve-1"].err)
	assert.Equal(t, "resolved", results["resolve-1"].st.Status)
	assert.Equal(t, "quote sent", results["resolve-1"].st.Note)
	require.Len(t, *handBacks, 1)
	assert.Equal(t, "api", (*handBacks)[0].Via)
}

// The escalation survives its own continue-as-new with its state (and the SLA clock).
func TestEscalationContinueAsNewCarriesState(t *testing.T) {
	start := at(9, 30, 11, 0)
	h := newHarness(t, start)
	conv := h.conversation("en", start)
	h.env.SetContinueAsNewSuggested(true)
	h.env.RegisterDelayedCallback(func() {
		id := h.message(conv, "hi")
		h.env.SignalWorkflow(workflows.SignalCustomerActivity, workflows.CustomerActivitySignal{MessageID: id})
		h.env.SignalWorkflow(workflows.SignalEscalationTake, workflows.EscalationActionSignal{By: "Sara", Via: "telegram"})
	}, 6*time.Minute)
	h.env.ExecuteWorkflow(workflows.EscalationWorkflow, workflows.EscalationInput{ConversationID: conv, Episode: 1, Reason: "r", Kind: "complaint"})
	err := h.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(err, &can), "got %v", err)
	assert.Equal(t, workflows.EscalationWorkflowName, can.WorkflowType.Name)

	// Both signals received before continuing were handled, and the state travels.
	row := h.escalationRow(conv)
	assert.Equal(t, "in_progress", row.Status)
	assert.Equal(t, 1, row.CustomerMessages)
}
