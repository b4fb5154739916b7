package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/followup"
	"github.com/treejar/noor/activities/outbound"
	"github.com/treejar/noor/internal/settings"
)

// Escalation statuses (escalations.status, the NoorStatus search attribute).
const (
	EscalationPending    = "pending"
	EscalationInProgress = "in_progress"
	EscalationResolved   = "resolved"
)

// EscalationState is the escalation as its workflow knows it: the answer of QueryState and
// of the take/resolve updates, and the carried state across continue-as-new.
type EscalationState struct {
	EscalationID     int64     `json:"escalation_id"`
	ConversationID   string    `json:"conversation_id"`
	Episode          int       `json:"episode"`
	Kind             string    `json:"kind"`
	Reason           string    `json:"reason"`
	Status           string    `json:"status"`
	Language         string    `json:"language"`
	TakenBy          string    `json:"taken_by,omitempty"`
	TakenVia         string    `json:"taken_via,omitempty"`
	ResolvedBy       string    `json:"resolved_by,omitempty"`
	ResolvedVia      string    `json:"resolved_via,omitempty"`
	Note             string    `json:"note,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	TakenAt          time.Time `json:"taken_at,omitzero"`
	ResolvedAt       time.Time `json:"resolved_at,omitzero"`
	LastAckAt        time.Time `json:"last_ack_at,omitzero"`
	LastReminderAt   time.Time `json:"last_reminder_at,omitzero"`
	ReminderDue      bool      `json:"reminder_due,omitempty"`
	Acks             int       `json:"acks"`
	Reminders        int       `json:"reminders"`
	CustomerMessages int       `json:"customer_messages"`
	SLAMissed        bool      `json:"sla_missed,omitempty"`
	HandedBack       bool      `json:"handed_back,omitempty"`
}

// Activity references: only their names are used here, never the values.
var (
	settingsActs   *activities.Settings
	escalationActs *activities.Escalations
	followUpActs   *activities.FollowUps
)

type escalationEvent struct {
	kind     string // take | resolve | customer
	action   EscalationActionSignal
	customer CustomerActivitySignal
	updateID string
}

type escalationWorkflow struct {
	in      EscalationInput
	st      EscalationState
	cfg     settings.Escalation
	updates workflow.Channel
	done    map[string]EscalationState
}

// EscalationWorkflow runs one escalation episode: it records the escalation, alerts the
// managers, answers a waiting customer at most once per AckInterval, reminds managers at
// most once per ReminderInterval, raises the SLA alert, and on resolve hands the chat back
// to the conversation workflow with the manager's note. The conversation workflow starts
// it as a child (id EscalationWorkflowID, ParentClosePolicy ABANDON) and keeps the bot
// silent until the hand-back.
func EscalationWorkflow(ctx workflow.Context, in EscalationInput) (EscalationState, error) {
	w := &escalationWorkflow{in: in, done: map[string]EscalationState{}}
	return w.run(ctx)
}

func dbOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
}

func alertOptions(ctx workflow.Context) workflow.Context {
	// The Telegram client itself waits out 429 retry_after (≤ 30 s, 3 times).
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: 2 * time.Minute, MaximumAttempts: 6},
	})
}

func sendOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 5},
	})
}

func (w *escalationWorkflow) run(ctx workflow.Context) (EscalationState, error) {
	log := workflow.GetLogger(ctx)
	// Handlers first, so an early API call finds them (signals are buffered anyway).
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (EscalationState, error) { return w.st, nil }); err != nil {
		return w.st, err
	}
	w.updates = workflow.NewBufferedChannel(ctx, 64)
	for _, u := range []struct{ name, kind string }{{UpdateEscalationTake, "take"}, {UpdateEscalationResolve, "resolve"}} {
		kind := u.kind
		err := workflow.SetUpdateHandlerWithOptions(ctx, u.name,
			func(ctx workflow.Context, a EscalationActionSignal) (EscalationState, error) {
				id := workflow.GetCurrentUpdateInfo(ctx).ID
				w.updates.Send(ctx, escalationEvent{kind: kind, action: a, updateID: id})
				if err := workflow.Await(ctx, func() bool { _, ok := w.done[id]; return ok }); err != nil {
					return w.st, err
				}
				st := w.done[id]
				delete(w.done, id)
				return st, nil
			},
			workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, a EscalationActionSignal) error {
				if a.By == "" {
					return errors.New("by (the manager's name) is required")
				}
				if w.st.Status == EscalationResolved {
					return fmt.Errorf("escalation %d is already resolved by %s", w.st.EscalationID, w.st.ResolvedBy)
				}
				return nil
			}})
		if err != nil {
			return w.st, err
		}
	}

	var s settings.Settings
	if err := workflow.ExecuteActivity(dbOptions(ctx), settingsActs.LoadSettings).Get(ctx, &s); err != nil {
		return w.st, fmt.Errorf("load settings: %w", err)
	}
	w.cfg = s.Escalation

	if w.in.Resume != nil {
		w.st = *w.in.Resume
	} else {
		now := workflow.Now(ctx)
		var rec activities.EscalationRecord
		err := workflow.ExecuteActivity(dbOptions(ctx), escalationActs.OpenEscalation, activities.OpenEscalationInput{
			ConversationID: w.in.ConversationID, Episode: w.in.Episode, Reason: w.in.Reason, Kind: w.in.Kind,
			TriggeredBy: w.in.TriggeredBy, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, At: now,
		}).Get(ctx, &rec)
		if err != nil {
			return w.st, fmt.Errorf("open escalation: %w", err)
		}
		w.st = EscalationState{
			EscalationID: rec.EscalationID, ConversationID: w.in.ConversationID, Episode: w.in.Episode,
			Kind: w.in.Kind, Reason: w.in.Reason, Status: rec.Status, Language: rec.Language, CreatedAt: now,
			// The conversation workflow acknowledged the escalating turn; the first alert is
			// the managers' first notice. Both throttles start here.
			LastAckAt: now, LastReminderAt: now,
		}
		if rec.Status == EscalationResolved {
			log.Info("escalation already resolved", "escalation_id", rec.EscalationID)
			return w.st, nil
		}
		w.alert(ctx, activities.EscalationAlertInput{EscalationID: w.st.EscalationID, Alert: activities.AlertOpened})
	}

	w.publish(ctx)

	takeCh := workflow.GetSignalChannel(ctx, SignalEscalationTake)
	resolveCh := workflow.GetSignalChannel(ctx, SignalEscalationResolve)
	customerCh := workflow.GetSignalChannel(ctx, SignalCustomerActivity)

	for w.st.Status != EscalationResolved {
		var ev *escalationEvent
		timerFired := false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(takeCh, func(c workflow.ReceiveChannel, _ bool) {
			var a EscalationActionSignal
			c.Receive(ctx, &a)
			ev = &escalationEvent{kind: "take", action: a}
		})
		sel.AddReceive(resolveCh, func(c workflow.ReceiveChannel, _ bool) {
			var a EscalationActionSignal
			c.Receive(ctx, &a)
			ev = &escalationEvent{kind: "resolve", action: a}
		})
		sel.AddReceive(customerCh, func(c workflow.ReceiveChannel, _ bool) {
			var a CustomerActivitySignal
			c.Receive(ctx, &a)
			ev = &escalationEvent{kind: "customer", customer: a}
		})
		sel.AddReceive(w.updates, func(c workflow.ReceiveChannel, _ bool) {
			var e escalationEvent
			c.Receive(ctx, &e)
			ev = &e
		})
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		if wake, ok := w.nextWake(); ok {
			d := wake.Sub(workflow.Now(ctx))
			if d <= 0 {
				d = time.Millisecond // due already: fire at once, after pending signals
			}
			sel.AddFuture(workflow.NewTimer(timerCtx, d), func(f workflow.Future) { timerFired = f.Get(timerCtx, nil) == nil })
		}
		sel.Select(ctx)
		cancelTimer()

		if ev != nil {
			w.handle(ctx, *ev)
		}
		if timerFired {
			w.onTimers(ctx)
		}
		if w.st.Status != EscalationResolved && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return w.continueAsNew(ctx, takeCh, resolveCh, customerCh)
		}
	}

	// Answer updates accepted while the resolve was being handled, then let handlers finish.
	for {
		var e escalationEvent
		if !w.updates.ReceiveAsync(&e) {
			break
		}
		w.done[e.updateID] = w.st
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return w.st, err
	}
	return w.st, nil
}

// nextWake is the earliest timer the escalation needs: the SLA deadline while pending,
// and a deferred manager reminder.
func (w *escalationWorkflow) nextWake() (time.Time, bool) {
	if w.st.Status != EscalationPending {
		return time.Time{}, false
	}
	var next time.Time
	if !w.st.SLAMissed && w.cfg.SLA > 0 {
		next = w.st.CreatedAt.Add(w.cfg.SLA.D())
	}
	if w.st.ReminderDue {
		r := w.st.LastReminderAt.Add(w.cfg.ReminderInterval.D())
		if next.IsZero() || r.Before(next) {
			next = r
		}
	}
	return next, !next.IsZero()
}

func (w *escalationWorkflow) handle(ctx workflow.Context, ev escalationEvent) {
	switch ev.kind {
	case "take":
		w.take(ctx, ev.action)
	case "resolve":
		w.resolve(ctx, ev.action)
	case "customer":
		w.customerWrote(ctx)
	}
	if ev.updateID != "" {
		w.done[ev.updateID] = w.st
	}
}

func (w *escalationWorkflow) take(ctx workflow.Context, a EscalationActionSignal) {
	if w.st.Status != EscalationPending {
		return // taken already (first taker keeps it) or resolved
	}
	now := workflow.Now(ctx)
	w.st.Status, w.st.TakenBy, w.st.TakenVia, w.st.TakenAt, w.st.ReminderDue = EscalationInProgress, orUnknown(a.By), a.Via, now, false
	w.publish(ctx)
	w.record(ctx, activities.UpdateEscalationInput{EscalationID: w.st.EscalationID, Action: activities.EscalationTake,
		By: w.st.TakenBy, Via: a.Via, At: now})
	w.alert(ctx, activities.EscalationAlertInput{EscalationID: w.st.EscalationID, Alert: activities.AlertTaken, By: w.st.TakenBy, Via: a.Via})
}

func (w *escalationWorkflow) resolve(ctx workflow.Context, a EscalationActionSignal) {
	if w.st.Status == EscalationResolved {
		return
	}
	now := workflow.Now(ctx)
	if w.st.TakenBy == "" {
		w.st.TakenBy, w.st.TakenVia, w.st.TakenAt = orUnknown(a.By), a.Via, now
	}
	w.st.Status, w.st.ResolvedBy, w.st.ResolvedVia, w.st.Note, w.st.ResolvedAt, w.st.ReminderDue =
		EscalationResolved, orUnknown(a.By), a.Via, a.Note, now, false
	w.publish(ctx)
	w.record(ctx, activities.UpdateEscalationInput{EscalationID: w.st.EscalationID, Action: activities.EscalationResolve,
		By: w.st.ResolvedBy, Via: a.Via, Note: a.Note, At: now})
	w.alert(ctx, activities.EscalationAlertInput{EscalationID: w.st.EscalationID, Alert: activities.AlertResolved,
		By: w.st.ResolvedBy, Via: a.Via, Note: a.Note})

	// Explicit hand-back: the conversation workflow (whatever run it is on after
	// continue-as-new) puts the chat back in the bot's hands with the note in its context.
	err := workflow.SignalExternalWorkflow(ctx, ConversationWorkflowID(w.st.ConversationID), "", SignalHandBack, HandBackSignal{
		By: w.st.ResolvedBy, Note: a.Note, Via: a.Via, EscalationEpisode: w.st.Episode,
	}).Get(ctx, nil)
	if err != nil {
		// The resolution is stored; a conversation workflow that is not running reads the
		// chat's state when it starts again.
		workflow.GetLogger(ctx).Warn("hand-back signal not delivered", "conversation_id", w.st.ConversationID,
			"episode", w.st.Episode, "error", err)
		return
	}
	w.st.HandedBack = true
}

func (w *escalationWorkflow) customerWrote(ctx workflow.Context) {
	w.st.CustomerMessages++
	if w.st.Status == EscalationPending {
		now := workflow.Now(ctx)
		if now.Sub(w.st.LastAckAt) >= w.cfg.AckInterval.D() {
			w.ack(ctx, now)
		}
		if now.Sub(w.st.LastReminderAt) >= w.cfg.ReminderInterval.D() {
			w.remind(ctx, now)
		} else {
			w.st.ReminderDue = true // coalesced: one reminder when the interval ends
		}
	}
	w.record(ctx, activities.UpdateEscalationInput{EscalationID: w.st.EscalationID, Action: activities.EscalationCounters,
		Acks: w.st.Acks, Reminders: w.st.Reminders, CustomerMessages: w.st.CustomerMessages})
}

func (w *escalationWorkflow) onTimers(ctx workflow.Context) {
	if w.st.Status != EscalationPending {
		return
	}
	now := workflow.Now(ctx)
	if !w.st.SLAMissed && w.cfg.SLA > 0 && !now.Before(w.st.CreatedAt.Add(w.cfg.SLA.D())) {
		w.st.SLAMissed = true
		w.publish(ctx)
		w.record(ctx, activities.UpdateEscalationInput{EscalationID: w.st.EscalationID, Action: activities.EscalationSLAMissed, At: now})
		w.alert(ctx, activities.EscalationAlertInput{EscalationID: w.st.EscalationID, Alert: activities.AlertSLAMissed, SLA: w.cfg.SLA.D()})
	}
	if w.st.ReminderDue && !now.Before(w.st.LastReminderAt.Add(w.cfg.ReminderInterval.D())) {
		w.remind(ctx, now)
		w.record(ctx, activities.UpdateEscalationInput{EscalationID: w.st.EscalationID, Action: activities.EscalationCounters,
			Acks: w.st.Acks, Reminders: w.st.Reminders, CustomerMessages: w.st.CustomerMessages})
	}
}

func (w *escalationWorkflow) remind(ctx workflow.Context, now time.Time) {
	w.st.Reminders++
	w.st.LastReminderAt, w.st.ReminderDue = now, false
	w.alert(ctx, activities.EscalationAlertInput{EscalationID: w.st.EscalationID, Alert: activities.AlertReminder,
		Seq: w.st.Reminders, Waiting: now.Sub(w.st.CreatedAt)})
}

// ack answers a waiting customer through the outbound gateway (which applies the 24-hour
// window and skips the message if a human owns the chat by now).
func (w *escalationWorkflow) ack(ctx workflow.Context, now time.Time) {
	w.st.LastAckAt = now // throttle attempts too: a failing send is not retried per message
	var res outbound.SendResult
	err := workflow.ExecuteActivity(sendOptions(ctx), outbound.SendActivity, outbound.SendInput{
		ConversationID: w.st.ConversationID,
		IdempotencyKey: fmt.Sprintf("esc-ack:%s:%d:%d", w.st.ConversationID, w.st.Episode, w.st.Acks+1),
		Purpose:        outbound.PurposeEscalationAck,
		Text:           followup.WaitingAck(w.st.Language),
		RespectOwner:   true,
		RequestedAt:    now,
	}).Get(ctx, &res)
	if err != nil {
		workflow.GetLogger(ctx).Error("escalation acknowledgement failed", "conversation_id", w.st.ConversationID, "error", err)
		return
	}
	if res.Status == outbound.StatusSent {
		w.st.Acks++
	}
}

// alert sends a manager alert. A failure is already recorded (notification row 'failed',
// error log, metric) by the notifier; the escalation goes on and stays visible.
func (w *escalationWorkflow) alert(ctx workflow.Context, in activities.EscalationAlertInput) {
	if err := workflow.ExecuteActivity(alertOptions(ctx), escalationActs.SendEscalationAlert, in).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("manager alert failed", "escalation_id", in.EscalationID, "alert", in.Alert, "error", err)
	}
}

func (w *escalationWorkflow) record(ctx workflow.Context, in activities.UpdateEscalationInput) {
	if err := workflow.ExecuteActivity(dbOptions(ctx), escalationActs.UpdateEscalation, in).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("recording the escalation failed", "escalation_id", in.EscalationID, "action", in.Action, "error", err)
	}
}

// publish shows the status in the Temporal UI: search attributes and current details.
func (w *escalationWorkflow) publish(ctx workflow.Context) {
	upd := []temporal.SearchAttributeUpdate{
		SAStatus.ValueSet(w.st.Status),
		SAConversation.ValueSet(w.st.ConversationID),
		SALastActivity.ValueSet(workflow.Now(ctx)),
	}
	if w.st.TakenBy != "" {
		upd = append(upd, SAOwner.ValueSet(w.st.TakenBy))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, upd...); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
	details := fmt.Sprintf("**Escalation #%d** — %s\n\nReason: %s (%s)\n\nSince %s",
		w.st.EscalationID, w.st.Status, w.st.Reason, w.st.Kind, w.st.CreatedAt.UTC().Format(time.RFC3339))
	switch w.st.Status {
	case EscalationInProgress:
		details += fmt.Sprintf("\n\nTaken by %s via %s", w.st.TakenBy, w.st.TakenVia)
	case EscalationResolved:
		details += fmt.Sprintf("\n\nResolved by %s via %s: %s", w.st.ResolvedBy, w.st.ResolvedVia, w.st.Note)
	}
	if w.st.SLAMissed {
		details += "\n\n⚠ SLA missed"
	}
	workflow.SetCurrentDetails(ctx, details)
}

func (w *escalationWorkflow) continueAsNew(ctx workflow.Context, takeCh, resolveCh, customerCh workflow.ReceiveChannel) (EscalationState, error) {
	// Handle everything already received so no signal or update is lost.
	for {
		var a EscalationActionSignal
		var c CustomerActivitySignal
		var e escalationEvent
		switch {
		case takeCh.ReceiveAsync(&a):
			w.handle(ctx, escalationEvent{kind: "take", action: a})
		case resolveCh.ReceiveAsync(&a):
			w.handle(ctx, escalationEvent{kind: "resolve", action: a})
		case customerCh.ReceiveAsync(&c):
			w.handle(ctx, escalationEvent{kind: "customer", customer: c})
		case w.updates.ReceiveAsync(&e):
			w.handle(ctx, e)
		default:
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return w.st, err
			}
			if w.st.Status == EscalationResolved {
				return w.st, nil
			}
			next := w.in
			st := w.st
			next.Resume = &st
			return w.st, workflow.NewContinueAsNewError(ctx, EscalationWorkflowName, next)
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
