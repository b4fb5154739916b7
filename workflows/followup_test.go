package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/settings"
	"github.com/treejar/noor/workflows"
)

func withTemplates(s *settings.Settings) {
	s.FollowUps.TemplateIDs = settings.Templates{
		"quote_follow_up":      {"en": "tpl-quote-en", "ar": "tpl-quote-ar"},
		"payment_reminder":     {"en": "tpl-pay-en"},
		"feedback_request":     {"en": "tpl-feedback-en"},
		"inactivity_follow_up": {"en": "tpl-inactive-en"},
	}
}

func (h *harness) runFollowUp(in workflows.FollowUpInput) workflows.FollowUpState {
	h.withID(workflows.FollowUpWorkflowID(in.ConversationID, in.Kind, in.Ref))
	h.env.ExecuteWorkflow(workflows.FollowUpWorkflow, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var st workflows.FollowUpState
	require.NoError(h.t, h.env.GetWorkflowResult(&st))
	return st
}

func (h *harness) followUpRow(conv, kind string) (db.FollowUp, []db.FollowUpStep) {
	rows, err := h.store.ListFollowUps(h.ctx(), db.FollowUpFilter{ConversationID: conv, Kind: kind})
	require.NoError(h.t, err)
	require.Len(h.t, rows, 1)
	steps, err := h.store.FollowUpSteps(h.ctx(), rows[0].ID)
	require.NoError(h.t, err)
	return rows[0], steps
}

// replyAt makes the customer write text at the given workflow time.
func (h *harness) replyAt(conv, text string, when, start time.Time) {
	h.env.RegisterDelayedCallback(func() {
		id := h.message(conv, text)
		h.env.SignalWorkflow(workflows.SignalCustomerActivity, workflows.CustomerActivitySignal{MessageID: id, At: h.env.Now()})
	}, when.Sub(start))
}

func sendTimes(rs []sendRecord) []time.Time {
	out := make([]time.Time, len(rs))
	for i, r := range rs {
		out[i] = r.At.In(dubai)
	}
	return out
}

func modes(rs []sendRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Decision.Action
	}
	return out
}

func assertTimes(t *testing.T, want []time.Time, got []time.Time) {
	t.Helper()
	require.Len(t, got, len(want), "got %v", got)
	for i := range want {
		assert.True(t, want[i].Equal(got[i]), "send %d: want %s, got %s", i, want[i], got[i])
	}
}

// Quote sent Thursday 15:00: +23 h (Friday 14:00, free text inside the window), +3 days
// (Sunday → Monday 10:00, template), +7 days (Thursday 15:00, template); no reply 24 h
// after the last → no response.
func TestQuoteFollowUpsAtBusinessHoursAcrossAWeekend(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start.Add(-10*time.Minute))

	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-00042", StartedAt: start})

	sent := h.gw.sent()
	assertTimes(t, []time.Time{at(10, 2, 14, 0), at(10, 5, 10, 0), at(10, 8, 15, 0)}, sendTimes(sent))
	assert.Equal(t, []string{"free_text", "template", "template"}, modes(sent))
	assert.Len(t, h.gw.all(), 3, "the workflow itself moves steps into business hours: the gateway never defers")
	assert.Equal(t, "fu:"+conv+":quote:SO-00042:0", sent[0].In.IdempotencyKey)
	assert.Equal(t, "fu:"+conv+":quote:SO-00042:2", sent[2].In.IdempotencyKey)
	assert.Equal(t, "tpl-quote-en", sent[1].Decision.TemplateID)
	assert.Equal(t, []string{"Omar", "SO-00042"}, sent[1].In.TemplateValues)
	assert.Contains(t, sent[0].In.Text, "SO-00042")
	for _, s := range sent {
		assert.True(t, s.In.Proactive)
		assert.True(t, s.In.RespectOwner)
		assert.Equal(t, "follow_up", s.In.Purpose)
	}

	assert.Equal(t, "no_response", st.Outcome)
	row, steps := h.followUpRow(conv, "quote")
	assert.Equal(t, "finished", row.State)
	assert.Equal(t, "no_response", row.Outcome)
	assert.Equal(t, 3, row.StepsSent)
	require.NotNil(t, row.FinishedAt)
	assert.True(t, at(10, 9, 15, 0).Equal(*row.FinishedAt), "24 h after the last follow-up, got %s", row.FinishedAt)
	require.Len(t, steps, 3)
	assert.Equal(t, "free_text", steps[0].Mode)
	assert.Equal(t, "template", steps[1].Mode)
	assert.True(t, at(10, 5, 10, 0).Equal(steps[1].DueAt))
}

// A quote sent Friday noon: +23 h is Saturday → Monday 10:00, when the window is closed
// (last customer message Friday) → the template is used.
func TestFirstFollowUpAfterTheWeekendUsesTheTemplate(t *testing.T) {
	start := at(10, 2, 12, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("ar", start.Add(-10*time.Minute))
	h.replyAt(conv, "شكراً، سأراجع العرض", at(10, 5, 11, 0), start) // ends the chain after the first step
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-7", StartedAt: start})

	sent := h.gw.sent()
	assertTimes(t, []time.Time{at(10, 5, 10, 0)}, sendTimes(sent))
	assert.Equal(t, "template", sent[0].Decision.Action)
	assert.Equal(t, "tpl-quote-ar", sent[0].Decision.TemplateID, "Arabic customer, Arabic template")
	assert.Equal(t, "replied", st.Outcome)
}

func TestCustomerReplyCancelsTheChain(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start)
	h.replyAt(conv, "What is the delivery time to Sharjah?", at(10, 2, 16, 0), start)
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-1", StartedAt: start})

	assert.Len(t, h.gw.sent(), 1, "only the first follow-up went out")
	assert.Equal(t, "replied", st.Outcome)
	row, _ := h.followUpRow(conv, "quote")
	assert.Equal(t, "replied", row.Outcome)
	assert.Contains(t, row.OutcomeDetail, "Sharjah")
	assert.True(t, at(10, 2, 16, 0).Equal(*row.FinishedAt))
}

func TestRefusalMarksTheQuoteRejected(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start)
	h.replyAt(conv, "Not interested anymore, we went with another supplier", at(10, 3, 9, 0), start)
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-2", StartedAt: start})
	assert.Equal(t, "rejected", st.Outcome)
	row, _ := h.followUpRow(conv, "quote")
	assert.Equal(t, "rejected", row.Outcome)
	assert.Contains(t, row.OutcomeDetail, "another supplier")
	assert.Len(t, h.gw.sent(), 1)
}

// An out-of-office reply with a return date pauses the chain until then; the remaining
// steps keep their spacing after it.
func TestAutoReplyPausesUntilTheReturnDate(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start)
	h.replyAt(conv, "Automatic reply: I am out of office until 12 October with limited access to email.", at(10, 2, 14, 5), start)
	var paused workflows.FollowUpState
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(workflows.QueryState)
		require.NoError(t, err)
		require.NoError(t, v.Get(&paused))
	}, at(10, 6, 0, 0).Sub(start))
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-3", StartedAt: start})

	// Step 2 would be Monday 5 Oct; paused until Monday 12 Oct 10:00. Step 3 (Thursday 8
	// Oct) comes at least a day after: Tuesday 13 Oct 10:00.
	assertTimes(t, []time.Time{at(10, 2, 14, 0), at(10, 12, 10, 0), at(10, 13, 10, 0)}, sendTimes(h.gw.sent()))
	assert.True(t, at(10, 12, 0, 0).Equal(paused.PausedUntil), "paused until %s", paused.PausedUntil)
	assert.Equal(t, "no_response", st.Outcome)
}

func TestAutoReplyWithoutDatePausesThreeDays(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start)
	h.replyAt(conv, "Out of office. I will get back to you when I return.", at(10, 4, 12, 0), start) // Sunday noon
	h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-4", StartedAt: start})
	// +3 days from Sunday noon = Wednesday 7 Oct 12:00.
	assertTimes(t, []time.Time{at(10, 2, 14, 0), at(10, 7, 12, 0), at(10, 8, 15, 0)}, sendTimes(h.gw.sent()))
}

// No template configured: the steps outside the 24-hour window are blocked and recorded,
// never silently dropped.
func TestBlockedStepsAreRecordedWithoutATemplate(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	conv := h.conversation("en", start)
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-5", StartedAt: start})

	all := h.gw.all()
	require.Len(t, all, 3)
	assert.Equal(t, []string{"free_text", "block", "block"}, modes(all))
	assert.Equal(t, 2, st.Blocked)
	row, steps := h.followUpRow(conv, "quote")
	assert.Equal(t, "no_response", row.Outcome)
	assert.Equal(t, "2 step(s) blocked", row.OutcomeDetail)
	assert.Equal(t, 1, row.StepsSent)
	require.Len(t, steps, 3)
	assert.Equal(t, "sent", steps[0].Status)
	for _, s := range steps[1:] {
		assert.Equal(t, "blocked", s.Status)
		assert.Equal(t, "outside_24h_window_no_template", s.Reason)
		assert.NotEmpty(t, s.IdempotencyKey)
	}
}

func TestNothingSendableEndsBlocked(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	conv := h.conversation("en", start.Add(-72*time.Hour)) // the window closed long ago
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-6", StartedAt: start})
	assert.Equal(t, "blocked", st.Outcome)
	assert.Empty(t, h.gw.sent())
	assert.Len(t, h.gw.all(), 3)
}

// STOP ends the chain, opts the customer out, and a later chain sends nothing.
func TestStopSuppressesFollowUps(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start)
	h.replyAt(conv, "STOP", at(10, 2, 15, 0), start)
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-8", StartedAt: start})
	assert.Equal(t, "opted_out", st.Outcome)
	assert.Len(t, h.gw.sent(), 1)
	b, err := h.store.ConversationBrief(h.ctx(), conv, 0)
	require.NoError(t, err)
	assert.True(t, b.OptedOut)

	// A payment chain for the same customer later: suppressed before anything is sent.
	h2 := newHarnessOn(t, at(10, 6, 12, 0), h.store)
	st2 := h2.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "payment", Ref: "SO-8", StartedAt: at(10, 6, 12, 0)})
	assert.Equal(t, "opted_out", st2.Outcome)
	assert.Empty(t, h2.gw.all())
}

func TestDisabledKindsSendNothing(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	h.saveSettings(func(s *settings.Settings) { withTemplates(s); s.FollowUps.QuoteEnabled = false })
	conv := h.conversation("en", start)
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-9", StartedAt: start})
	assert.Equal(t, "disabled", st.Outcome)
	assert.Empty(t, h.gw.all())

	// Inactivity follow-ups are off by default.
	h2 := newHarnessOn(t, start, h.store)
	st2 := h2.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "inactivity", StartedAt: start})
	assert.Equal(t, "disabled", st2.Outcome)
}

func TestInactivityFollowUpsWhenEnabled(t *testing.T) {
	start := at(10, 1, 15, 0) // the customer went quiet on Thursday 15:00
	h := newHarness(t, start)
	h.saveSettings(func(s *settings.Settings) { withTemplates(s); s.FollowUps.InactivityEnabled = true })
	conv := h.conversation("en", start)
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "inactivity", StartedAt: start})
	sent := h.gw.sent()
	// +1 day Friday 15:00 (window closed exactly at 24 h → template), +3 days Sunday → Monday 10:00, +7 days Thursday 15:00.
	assertTimes(t, []time.Time{at(10, 2, 15, 0), at(10, 5, 10, 0), at(10, 8, 15, 0)}, sendTimes(sent))
	assert.Equal(t, "tpl-inactive-en", sent[0].Decision.TemplateID)
	assert.Equal(t, "fu:"+conv+":inactivity:t"+itoa(start.Unix())+":0", sent[0].In.IdempotencyKey,
		"an inactivity chain without a ref is keyed by its start")
	assert.Equal(t, "no_response", st.Outcome)
}

// Payment reminders: not before 24 h, at most one a day (the weekend must not bunch them
// up on Monday), three in total.
func TestPaymentRemindersAreCappedPerDay(t *testing.T) {
	start := at(10, 1, 12, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start)
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "payment", Ref: "SO-10", StartedAt: start})
	sent := h.gw.sent()
	assertTimes(t, []time.Time{at(10, 2, 12, 0), at(10, 5, 10, 0), at(10, 6, 10, 0)}, sendTimes(sent))
	for _, s := range sent {
		assert.Equal(t, "payment_reminder", s.In.Purpose)
	}
	assert.Equal(t, "no_response", st.Outcome)
}

func TestStopSignalEndsPaymentReminders(t *testing.T) {
	start := at(10, 1, 12, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalFollowUpStop, workflows.FollowUpStopSignal{Reason: "payment received", By: "zoho"})
	}, 30*time.Hour)
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "payment", Ref: "SO-11", StartedAt: start})
	assert.Equal(t, "stopped", st.Outcome)
	assert.Equal(t, "payment received (by zoho)", st.Detail)
	assert.Len(t, h.gw.sent(), 1)
}

// Feedback: delivered Friday 18:00 → +24 h is Saturday → Monday 10:00, once.
func TestFeedbackRequestOnceAfterDelivery(t *testing.T) {
	start := at(10, 2, 18, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start.Add(-time.Hour))
	h.replyAt(conv, "thanks, all installed", at(10, 3, 9, 0), start) // a reply does not cancel the request
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "feedback", Ref: "SO-12", StartedAt: start})
	sent := h.gw.sent()
	assertTimes(t, []time.Time{at(10, 5, 10, 0)}, sendTimes(sent))
	assert.Equal(t, "feedback_request", sent[0].In.Purpose)
	assert.Equal(t, "tpl-feedback-en", sent[0].Decision.TemplateID)
	assert.Equal(t, "completed", st.Outcome)
}

func TestHumanOwnerSkipsAndEndsTheChain(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start)
	_, err := h.store.Pool.Exec(h.ctx(), `UPDATE conversations SET owner = 'human' WHERE id = $1`, conv)
	require.NoError(t, err)
	st := h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-13", StartedAt: start})
	assert.Equal(t, "human_owner", st.Outcome)
	assert.Empty(t, h.gw.sent())
	_, steps := h.followUpRow(conv, "quote")
	require.Len(t, steps, 1)
	assert.Equal(t, "skipped", steps[0].Status)
}

// The gateway may still defer (its own clock, settings changed): the step is sent again at
// DeferUntil with the same idempotency key.
func TestDeferredStepIsRetriedAtDeferUntil(t *testing.T) {
	start := at(10, 1, 15, 0)
	h := newHarness(t, start)
	h.saveSettings(withTemplates)
	conv := h.conversation("en", start)
	h.gw.deferOnce = true
	h.replyAt(conv, "ok thanks", at(10, 3, 12, 0), start)
	h.runFollowUp(workflows.FollowUpInput{ConversationID: conv, Kind: "quote", Ref: "SO-14", StartedAt: start})
	all := h.gw.all()
	require.Len(t, all, 2)
	assert.Equal(t, "defer", all[0].Decision.Action)
	assert.Equal(t, all[0].In.IdempotencyKey, all[1].In.IdempotencyKey)
	assert.True(t, at(10, 2, 15, 30).Equal(all[1].At), "sent at DeferUntil, got %s", all[1].At)
	_, steps := h.followUpRow(conv, "quote")
	require.Len(t, steps, 1)
	assert.Equal(t, "sent", steps[0].Status)
}
