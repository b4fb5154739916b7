package workflows

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/followup"
	"github.com/treejar/noor/activities/outbound"
	"github.com/treejar/noor/internal/businesshours"
	"github.com/treejar/noor/internal/settings"
)

// Follow-up outcomes (follow_ups.outcome).
const (
	OutcomeReplied    = "replied"
	OutcomeRejected   = "rejected"
	OutcomeNoResponse = "no_response"
	OutcomeOptedOut   = "opted_out"
	OutcomeDisabled   = "disabled"
	OutcomeBlocked    = "blocked"
	OutcomeCompleted  = "completed"
	OutcomeHumanOwner = "human_owner"
	OutcomeStopped    = "stopped"
)

// FollowUpState is the chain as its workflow knows it (QueryState, the result).
type FollowUpState struct {
	FollowUpID     int64     `json:"follow_up_id"`
	ConversationID string    `json:"conversation_id"`
	Kind           string    `json:"kind"`
	Ref            string    `json:"ref,omitempty"`
	Steps          int       `json:"steps"`
	Step           int       `json:"step"` // the next step to send (0-based)
	NextAt         time.Time `json:"next_at,omitzero"`
	PausedUntil    time.Time `json:"paused_until,omitzero"`
	DeferUntil     time.Time `json:"defer_until,omitzero"`
	Sent           int       `json:"sent"`
	Blocked        int       `json:"blocked"`
	LastSentAt     time.Time `json:"last_sent_at,omitzero"`
	Outcome        string    `json:"outcome,omitempty"`
	Detail         string    `json:"detail,omitempty"`
}

// followUpPlan is what a kind of chain does, from settings.
type followUpPlan struct {
	offsets       []time.Duration // after StartedAt
	minGap        time.Duration   // between two sends of the chain
	purpose       string
	enabled       bool
	cancelOnReply bool
}

func planFor(kind string, f settings.FollowUps) (followUpPlan, error) {
	durs := func(ds []settings.Duration) []time.Duration {
		out := make([]time.Duration, len(ds))
		for i, d := range ds {
			out[i] = d.D()
		}
		return out
	}
	switch kind {
	case followup.KindQuote:
		return followUpPlan{offsets: durs(f.QuoteDelays), minGap: 24 * time.Hour, purpose: outbound.PurposeFollowUp,
			enabled: f.QuoteEnabled, cancelOnReply: true}, nil
	case followup.KindInactivity:
		return followUpPlan{offsets: durs(f.InactivityDelays), minGap: 24 * time.Hour, purpose: outbound.PurposeFollowUp,
			enabled: f.InactivityEnabled && len(f.InactivityDelays) > 0, cancelOnReply: true}, nil
	case followup.KindPayment:
		p := followUpPlan{purpose: outbound.PurposePaymentReminder, cancelOnReply: true,
			enabled: f.PaymentEnabled && f.PaymentPerDay > 0 && f.PaymentMaxPerRun > 0}
		if p.enabled {
			// Capped per day (spacing) and per run (count); never earlier than PaymentMinAge.
			p.minGap = 24 * time.Hour / time.Duration(f.PaymentPerDay)
			for i := 0; i < f.PaymentMaxPerRun; i++ {
				p.offsets = append(p.offsets, f.PaymentMinAge.D()+time.Duration(i)*p.minGap)
			}
		}
		return p, nil
	case followup.KindFeedback:
		// Once per order; a reply before the request does not cancel it.
		return followUpPlan{offsets: []time.Duration{f.FeedbackDelayMin.D()}, purpose: outbound.PurposeFeedbackRequest,
			enabled: f.FeedbackEnabled}, nil
	}
	return followUpPlan{}, temporal.NewNonRetryableApplicationError("unknown follow-up kind "+strconv.Quote(kind), "InvalidFollowUp", nil)
}

type followUpWorkflow struct {
	in       FollowUpInput
	st       FollowUpState
	s        settings.Settings
	plan     followUpPlan
	chainRef string
	custCh   workflow.ReceiveChannel
	stopCh   workflow.ReceiveChannel
	done     bool
}

// FollowUpWorkflow runs one follow-up chain: after a quotation (+23 h free text, +3 and
// +7 days as templates), payment reminders, the post-delivery feedback request, or
// inactivity follow-ups. Each step is moved into business hours and sent through the
// outbound gateway; any customer reply ends the chain (a refusal marks the quote
// rejected, STOP opts the customer out), an auto-reply pauses it until the customer's
// return date, and no reply within NoResponseAfter of the last step records "no
// response". The conversation workflow starts it as a child (id FollowUpWorkflowID,
// ParentClosePolicy ABANDON) and forwards SignalCustomerActivity to it.
func FollowUpWorkflow(ctx workflow.Context, in FollowUpInput) (FollowUpState, error) {
	w := &followUpWorkflow{in: in, st: FollowUpState{ConversationID: in.ConversationID, Kind: in.Kind, Ref: in.Ref}}
	return w.run(ctx)
}

func (w *followUpWorkflow) run(ctx workflow.Context) (FollowUpState, error) {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (FollowUpState, error) { return w.st, nil }); err != nil {
		return w.st, err
	}
	w.custCh = workflow.GetSignalChannel(ctx, SignalCustomerActivity)
	w.stopCh = workflow.GetSignalChannel(ctx, SignalFollowUpStop)

	if err := workflow.ExecuteActivity(dbOptions(ctx), settingsActs.LoadSettings).Get(ctx, &w.s); err != nil {
		return w.st, fmt.Errorf("load settings: %w", err)
	}
	plan, err := planFor(w.in.Kind, w.s.FollowUps)
	if err != nil {
		return w.st, err
	}
	w.plan = plan
	w.st.Steps = len(plan.offsets)
	if w.in.StartedAt.IsZero() {
		w.in.StartedAt = workflow.Now(ctx)
	}
	w.chainRef = w.in.Ref
	if w.chainRef == "" {
		w.chainRef = "t" + strconv.FormatInt(w.in.StartedAt.Unix(), 10)
	}

	var rec activities.FollowUpRecord
	err = workflow.ExecuteActivity(dbOptions(ctx), followUpActs.StartFollowUp, activities.StartFollowUpInput{
		ChainKey:       w.in.ConversationID + ":" + w.in.Kind + ":" + w.chainRef,
		ConversationID: w.in.ConversationID, Kind: w.in.Kind, Ref: w.in.Ref,
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, StartedAt: w.in.StartedAt,
	}).Get(ctx, &rec)
	if err != nil {
		return w.st, fmt.Errorf("start follow-up: %w", err)
	}
	w.st.FollowUpID = rec.FollowUpID
	switch {
	case rec.State == "finished":
		w.st.Outcome = rec.Outcome
		return w.st, nil
	case !plan.enabled:
		return w.finish(ctx, OutcomeDisabled, "switched off in settings")
	case rec.OptedOut:
		return w.finish(ctx, OutcomeOptedOut, "the customer had opted out before the chain started")
	}
	defers := 0
	for w.st.Step < len(plan.offsets) {
		due := w.dueFor(ctx, w.st.Step)
		w.st.NextAt = due
		w.schedule(ctx)
		fired, err := w.wait(ctx, due, true)
		if err != nil || w.done {
			return w.st, err
		}
		if !fired {
			continue // paused by an auto-reply, or an ignored reply: recompute the due time
		}
		status := w.sendStep(ctx, due)
		if w.done {
			return w.st, nil
		}
		if status == outbound.StatusDeferred {
			if defers++; defers <= 5 {
				continue
			}
			w.recordStep(ctx, due, outbound.StatusBlocked, "", "deferred more than 5 times", "", 0)
			w.st.Blocked++
		}
		defers = 0
		w.st.Step++
	}

	if w.in.Kind == followup.KindFeedback {
		return w.finish(ctx, OutcomeCompleted, "")
	}
	// No reply NoResponseAfter after the last step: no response (or blocked, if nothing
	// could be sent at all).
	last := w.st.LastSentAt
	if last.IsZero() {
		last = workflow.Now(ctx)
	}
	deadline := last.Add(w.s.FollowUps.NoResponseAfter.D())
	w.st.NextAt = deadline
	w.schedule(ctx)
	for {
		fired, err := w.wait(ctx, deadline, false)
		if err != nil || w.done {
			return w.st, err
		}
		if fired {
			break
		}
	}
	if w.st.Sent == 0 {
		return w.finish(ctx, OutcomeBlocked, fmt.Sprintf("%d step(s) blocked, none sent", w.st.Blocked))
	}
	detail := ""
	if w.st.Blocked > 0 {
		detail = fmt.Sprintf("%d step(s) blocked", w.st.Blocked)
	}
	return w.finish(ctx, OutcomeNoResponse, detail)
}

// dueFor is when step i goes out: its offset after the start, no sooner than minGap after
// the previous send, not before a pause or a deferral ends, and inside business hours.
func (w *followUpWorkflow) dueFor(ctx workflow.Context, i int) time.Time {
	due := w.in.StartedAt.Add(w.plan.offsets[i])
	if !w.st.LastSentAt.IsZero() && due.Before(w.st.LastSentAt.Add(w.plan.minGap)) {
		due = w.st.LastSentAt.Add(w.plan.minGap)
	}
	for _, t := range []time.Time{w.st.PausedUntil, w.st.DeferUntil} {
		if t.After(due) {
			due = t
		}
	}
	if now := workflow.Now(ctx); due.Before(now) {
		due = now
	}
	if w.s.FollowUps.ProactiveQuietHours {
		due = businesshours.Next(due, w.s.BusinessHours)
	}
	return due
}

// wait blocks until due (true) or until an event changes the plan (false). Events: stop →
// finished; a customer message → classified: opt-out and refusal finish the chain, a
// reply finishes it when the kind cancels on reply, an auto-reply pauses it (beforeSteps).
func (w *followUpWorkflow) wait(ctx workflow.Context, due time.Time, beforeSteps bool) (bool, error) {
	fired := false
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	d := due.Sub(workflow.Now(ctx))
	if d < time.Millisecond {
		d = time.Millisecond
	}
	sel.AddFuture(workflow.NewTimer(timerCtx, d), func(f workflow.Future) { fired = f.Get(timerCtx, nil) == nil })
	var stop *FollowUpStopSignal
	var cust *CustomerActivitySignal
	sel.AddReceive(w.stopCh, func(c workflow.ReceiveChannel, _ bool) {
		var s FollowUpStopSignal
		c.Receive(ctx, &s)
		stop = &s
	})
	sel.AddReceive(w.custCh, func(c workflow.ReceiveChannel, _ bool) {
		var s CustomerActivitySignal
		c.Receive(ctx, &s)
		cust = &s
	})
	sel.Select(ctx)
	switch {
	case stop != nil:
		detail := stop.Reason
		if stop.By != "" {
			detail += " (by " + stop.By + ")"
		}
		_, err := w.finish(ctx, OutcomeStopped, detail)
		return false, err
	case cust != nil:
		return false, w.onCustomer(ctx, *cust, beforeSteps)
	}
	return fired, nil
}

func (w *followUpWorkflow) onCustomer(ctx workflow.Context, sig CustomerActivitySignal, beforeSteps bool) error {
	now := workflow.Now(ctx)
	var cls activities.CustomerMessageClass
	if err := workflow.ExecuteActivity(dbOptions(ctx), followUpActs.ClassifyCustomerMessage,
		activities.ClassifyCustomerMessageInput{MessageID: sig.MessageID, At: now}).Get(ctx, &cls); err != nil {
		// Unreadable: a reply is a reply; stop rather than risk writing over the customer.
		cls = activities.CustomerMessageClass{Kind: outbound.ReplyOther}
	}
	var err error
	switch cls.Kind {
	case outbound.ReplyOptOut:
		_, err = w.finish(ctx, OutcomeOptedOut, cls.Excerpt)
	case outbound.ReplyRefusal:
		if w.plan.cancelOnReply {
			_, err = w.finish(ctx, OutcomeRejected, cls.Excerpt)
		}
	case outbound.ReplyAutoReply:
		if beforeSteps {
			until := cls.Until
			if until.IsZero() || !until.After(now) {
				until = now.Add(w.s.FollowUps.AutoReplyPause.D())
			}
			w.st.PausedUntil = until
			w.publish(ctx, "paused")
		}
	default:
		if w.plan.cancelOnReply {
			_, err = w.finish(ctx, OutcomeReplied, cls.Excerpt)
		}
	}
	return err
}

// sendStep sends the current step through the gateway and records what happened. It
// returns the gateway's status ("" when the send failed).
func (w *followUpWorkflow) sendStep(ctx workflow.Context, due time.Time) string {
	step := w.st.Step
	now := workflow.Now(ctx)
	var prep activities.PreparedFollowUp
	if err := workflow.ExecuteActivity(dbOptions(ctx), followUpActs.PrepareFollowUp, activities.PrepareFollowUpInput{
		ConversationID: w.in.ConversationID, Kind: w.in.Kind, Ref: w.in.Ref, Step: step,
	}).Get(ctx, &prep); err != nil {
		w.recordStep(ctx, due, outbound.StatusBlocked, "", "prepare failed: "+err.Error(), "", 0)
		w.st.Blocked++
		return ""
	}
	key := fmt.Sprintf("fu:%s:%s:%s:%d", w.in.ConversationID, w.in.Kind, w.chainRef, step)
	var res outbound.SendResult
	err := workflow.ExecuteActivity(sendOptions(ctx), outbound.SendActivity, outbound.SendInput{
		ConversationID: w.in.ConversationID, IdempotencyKey: key, Purpose: w.plan.purpose, Proactive: true,
		Text: prep.Text, TemplatePurpose: prep.TemplatePurpose, TemplateValues: prep.TemplateValues,
		RespectOwner: true, RequestedAt: now,
	}).Get(ctx, &res)
	if err != nil {
		workflow.GetLogger(ctx).Error("follow-up send failed", "conversation_id", w.in.ConversationID, "kind", w.in.Kind, "step", step, "error", err)
		w.recordStep(ctx, due, outbound.StatusBlocked, "", "send failed: "+err.Error(), key, 0)
		w.st.Blocked++
		return ""
	}
	switch res.Status {
	case outbound.StatusSent:
		w.recordStep(ctx, due, res.Status, res.Mode, res.Reason, key, res.MessageID)
		w.st.Sent++
		w.st.LastSentAt, w.st.DeferUntil = now, time.Time{}
	case outbound.StatusDeferred:
		w.recordStep(ctx, due, res.Status, "", res.Reason, key, 0)
		w.st.DeferUntil = res.DeferUntil
	case outbound.StatusSkipped:
		w.recordStep(ctx, due, res.Status, "", res.Reason, key, 0)
		_, _ = w.finish(ctx, OutcomeHumanOwner, res.Reason)
	default: // blocked: recorded, visible, never silent
		w.recordStep(ctx, due, outbound.StatusBlocked, "", res.Reason, key, 0)
		w.st.Blocked++
		if res.Reason == outbound.ReasonOptedOut {
			_, _ = w.finish(ctx, OutcomeOptedOut, "blocked by the gateway: opted out")
		}
	}
	return res.Status
}

func (w *followUpWorkflow) recordStep(ctx workflow.Context, due time.Time, status, mode, reason, key string, messageID int64) {
	err := workflow.ExecuteActivity(dbOptions(ctx), followUpActs.RecordFollowUpStep, activities.RecordFollowUpStepInput{
		FollowUpID: w.st.FollowUpID, Step: w.st.Step, DueAt: due, Status: status, Mode: mode, Reason: reason,
		IdempotencyKey: key, MessageID: messageID,
	}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("recording a follow-up step failed", "follow_up_id", w.st.FollowUpID, "error", err)
	}
}

func (w *followUpWorkflow) schedule(ctx workflow.Context) {
	in := activities.ScheduleFollowUpInput{FollowUpID: w.st.FollowUpID, NextAt: w.st.NextAt}
	if !w.st.PausedUntil.IsZero() && w.st.PausedUntil.After(workflow.Now(ctx)) {
		p := w.st.PausedUntil
		in.PausedUntil = &p
	}
	if err := workflow.ExecuteActivity(dbOptions(ctx), followUpActs.ScheduleFollowUp, in).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("recording the follow-up schedule failed", "follow_up_id", w.st.FollowUpID, "error", err)
	}
	if in.PausedUntil != nil {
		w.publish(ctx, "paused")
	} else {
		w.publish(ctx, "active")
	}
}

func (w *followUpWorkflow) finish(ctx workflow.Context, outcome, detail string) (FollowUpState, error) {
	w.done = true
	w.st.Outcome, w.st.Detail, w.st.NextAt = outcome, detail, time.Time{}
	err := workflow.ExecuteActivity(dbOptions(ctx), followUpActs.FinishFollowUp, activities.FinishFollowUpInput{
		FollowUpID: w.st.FollowUpID, ConversationID: w.in.ConversationID, Outcome: outcome, Detail: detail, At: workflow.Now(ctx),
	}).Get(ctx, nil)
	w.publish(ctx, outcome)
	if err != nil {
		return w.st, fmt.Errorf("finish follow-up: %w", err)
	}
	return w.st, nil
}

func (w *followUpWorkflow) publish(ctx workflow.Context, status string) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, SAStatus.ValueSet(status), SAConversation.ValueSet(w.in.ConversationID)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
	details := fmt.Sprintf("**Follow-up %s** %s — %s\n\nSent %d of %d, blocked %d", w.in.Kind, w.in.Ref, status, w.st.Sent, w.st.Steps, w.st.Blocked)
	if !w.st.NextAt.IsZero() {
		details += "\n\nNext at " + w.st.NextAt.UTC().Format(time.RFC3339)
	}
	if !w.st.PausedUntil.IsZero() {
		details += "\n\nPaused (auto-reply) until " + w.st.PausedUntil.UTC().Format(time.RFC3339)
	}
	workflow.SetCurrentDetails(ctx, details)
}
