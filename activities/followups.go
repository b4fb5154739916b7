package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities/followup"
	"github.com/treejar/noor/activities/outbound"
	"github.com/treejar/noor/db"
)

// FollowUps records follow-up chains and their steps, prepares what each step says,
// classifies customer replies, and stores feedback.
type FollowUps struct {
	Store *db.Store
	Log   *slog.Logger
}

// StartFollowUpInput records a chain.
type StartFollowUpInput struct {
	ChainKey       string
	ConversationID string
	Kind           string
	Ref            string
	WorkflowID     string
	StartedAt      time.Time
}

// FollowUpRecord is a chain as workflows see it.
type FollowUpRecord struct {
	FollowUpID int64
	State      string
	Outcome    string
	StepsSent  int
	OptedOut   bool
}

// StartFollowUp records the chain (once per chain key) and reports whether the customer
// has opted out already.
func (a *FollowUps) StartFollowUp(ctx context.Context, in StartFollowUpInput) (FollowUpRecord, error) {
	brief, err := a.Store.ConversationBrief(ctx, in.ConversationID, 0)
	if errors.Is(err, db.ErrNotFound) {
		return FollowUpRecord{}, temporal.NewNonRetryableApplicationError("conversation "+in.ConversationID+" does not exist", "ConversationNotFound", err)
	}
	if err != nil {
		return FollowUpRecord{}, err
	}
	f, err := a.Store.StartFollowUp(ctx, db.StartFollowUpParams{ChainKey: in.ChainKey, ConversationID: in.ConversationID,
		Kind: in.Kind, Ref: in.Ref, WorkflowID: in.WorkflowID, StartedAt: in.StartedAt})
	if err != nil {
		return FollowUpRecord{}, err
	}
	return FollowUpRecord{FollowUpID: f.ID, State: f.State, Outcome: f.Outcome, StepsSent: f.StepsSent, OptedOut: brief.OptedOut}, nil
}

// PrepareFollowUpInput asks what step Step of a chain says.
type PrepareFollowUpInput struct {
	ConversationID string
	Kind           string
	Ref            string
	Step           int
}

// PreparedFollowUp is the text and the template fallback for the gateway.
type PreparedFollowUp struct {
	Text            string
	TemplatePurpose string
	TemplateValues  []string
	Language        string
}

// PrepareFollowUp builds the step's message in the customer's language.
func (a *FollowUps) PrepareFollowUp(ctx context.Context, in PrepareFollowUpInput) (PreparedFollowUp, error) {
	brief, err := a.Store.ConversationBrief(ctx, in.ConversationID, 0)
	if err != nil {
		return PreparedFollowUp{}, err
	}
	m := followup.Step(in.Kind, in.Step, brief.Language, firstName(brief.CustomerName), in.Ref)
	return PreparedFollowUp{Text: m.Text, TemplatePurpose: m.TemplatePurpose, TemplateValues: m.TemplateValues, Language: brief.Language}, nil
}

func firstName(full string) string {
	f := strings.Fields(full)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// RecordFollowUpStepInput stores what happened to a step and when the next one is due.
type RecordFollowUpStepInput struct {
	FollowUpID     int64
	Step           int
	DueAt          time.Time
	Status         string // sent | blocked | skipped | deferred
	Mode           string
	Reason         string
	IdempotencyKey string
	MessageID      int64
}

func (a *FollowUps) RecordFollowUpStep(ctx context.Context, in RecordFollowUpStepInput) error {
	return a.Store.RecordFollowUpStep(ctx, in.FollowUpID, db.FollowUpStep{Step: in.Step, DueAt: in.DueAt, Status: in.Status,
		Mode: in.Mode, Reason: in.Reason, IdempotencyKey: in.IdempotencyKey, MessageID: in.MessageID})
}

// ScheduleFollowUpInput records the next due time (and a pause, if any) for the console.
type ScheduleFollowUpInput struct {
	FollowUpID  int64
	NextAt      time.Time
	PausedUntil *time.Time
}

func (a *FollowUps) ScheduleFollowUp(ctx context.Context, in ScheduleFollowUpInput) error {
	return a.Store.ScheduleFollowUp(ctx, in.FollowUpID, in.NextAt, in.PausedUntil)
}

// FinishFollowUpInput records a chain's outcome.
type FinishFollowUpInput struct {
	FollowUpID     int64
	ConversationID string
	Outcome        string
	Detail         string
	At             time.Time
}

// FinishFollowUp records the outcome; an opt-out is also stored on the conversation, so
// every later proactive message is blocked by the gateway.
func (a *FollowUps) FinishFollowUp(ctx context.Context, in FinishFollowUpInput) (FollowUpRecord, error) {
	if in.Outcome == "opted_out" {
		if err := a.Store.MarkOptedOut(ctx, in.ConversationID, true); err != nil && !errors.Is(err, db.ErrNotFound) {
			return FollowUpRecord{}, err
		}
	}
	f, err := a.Store.FinishFollowUp(ctx, in.FollowUpID, in.Outcome, in.Detail, in.At)
	if err != nil {
		return FollowUpRecord{}, err
	}
	return FollowUpRecord{FollowUpID: f.ID, State: f.State, Outcome: f.Outcome, StepsSent: f.StepsSent}, nil
}

// ClassifyCustomerMessageInput names a stored customer message.
type ClassifyCustomerMessageInput struct {
	MessageID int64
	// At is the workflow time, used to resolve return dates without a year.
	At time.Time
}

// CustomerMessageClass is a classified customer message.
type CustomerMessageClass struct {
	Kind    string    // opt_out | auto_reply | refusal | reply
	Until   time.Time // auto-reply return date, zero if none
	Excerpt string    // the first 200 characters, for the record
}

// ClassifyCustomerMessage loads a customer message and classifies it (opt-out, auto-reply,
// refusal, reply). An opt-out is stored on the conversation at once. The conversation
// workflow may call it for every inbound message to honour STOP without a follow-up running.
func (a *FollowUps) ClassifyCustomerMessage(ctx context.Context, in ClassifyCustomerMessageInput) (CustomerMessageClass, error) {
	m, err := a.Store.ChatMessageByID(ctx, in.MessageID)
	if errors.Is(err, db.ErrNotFound) {
		// Nothing to read: treat it as an ordinary reply (it still stops a chain).
		return CustomerMessageClass{Kind: outbound.ReplyOther}, nil
	}
	if err != nil {
		return CustomerMessageClass{}, err
	}
	rec, err := a.Store.Settings(ctx)
	if err != nil {
		return CustomerMessageClass{}, err
	}
	loc, err := time.LoadLocation(rec.Settings.BusinessHours.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	r := outbound.ClassifyReply(m.Text, at, loc, rec.Settings.FollowUps.OptOutKeywords)
	if r.Kind == outbound.ReplyOptOut {
		if err := a.Store.MarkOptedOut(ctx, m.ConversationID, true); err != nil && !errors.Is(err, db.ErrNotFound) {
			return CustomerMessageClass{}, err
		}
		a.log().Info("customer opted out of proactive messages", "conversation_id", m.ConversationID, "message_id", m.ID)
	}
	ex := []rune(m.Text)
	if len(ex) > 200 {
		ex = ex[:200]
	}
	return CustomerMessageClass{Kind: r.Kind, Until: r.Until, Excerpt: string(ex)}, nil
}

// SaveFeedbackInput is the save_feedback tool call for a conversation.
type SaveFeedbackInput struct {
	ConversationID string
	Args           followup.SaveFeedbackArgs
	Language       string
}

// SaveFeedbackResult is what the tool returns to the model.
type SaveFeedbackResult struct {
	FeedbackID     int64
	Overall        *int
	Delivery       *int
	WouldRecommend *bool
	Comment        string
}

// SaveFeedback stores (merges) the customer's feedback. Invalid arguments are a
// non-retryable error whose message can be shown to the model.
func (a *FollowUps) SaveFeedback(ctx context.Context, in SaveFeedbackInput) (SaveFeedbackResult, error) {
	if err := in.Args.Validate(); err != nil {
		return SaveFeedbackResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidFeedback", nil)
	}
	f, err := a.Store.SaveFeedback(ctx, db.Feedback{ConversationID: in.ConversationID, OrderRef: in.Args.OrderRef,
		Overall: in.Args.OverallRating, Delivery: in.Args.DeliveryRating, WouldRecommend: in.Args.WouldRecommend,
		Comment: strings.TrimSpace(in.Args.Comment), Language: in.Language})
	if err != nil {
		return SaveFeedbackResult{}, fmt.Errorf("save feedback for %s: %w", in.ConversationID, err)
	}
	return SaveFeedbackResult{FeedbackID: f.ID, Overall: f.Overall, Delivery: f.Delivery, WouldRecommend: f.WouldRecommend, Comment: f.Comment}, nil
}

func (a *FollowUps) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}
