package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities/escalation"
	"github.com/treejar/noor/activities/notify"
	"github.com/treejar/noor/activities/telegram"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/pii"
)

// Escalations records escalation episodes and alerts the managers about them.
type Escalations struct {
	Store         *db.Store
	Notifier      *notify.Notifier
	PublicBaseURL string
	Log           *slog.Logger
}

// OpenEscalationInput creates the row of one escalation episode.
type OpenEscalationInput struct {
	ConversationID string
	Episode        int
	Reason         string
	Kind           string
	TriggeredBy    string
	WorkflowID     string
	At             time.Time
}

// EscalationRecord is the stored state of an escalation, as workflows see it.
type EscalationRecord struct {
	EscalationID int64
	Status       string
	TakenBy      string
	ResolvedBy   string
	// Language of the customer, for acknowledgements.
	Language string
}

// OpenEscalation inserts (or finds) the episode's row. An unknown conversation is a
// non-retryable error: there is nothing to escalate.
func (a *Escalations) OpenEscalation(ctx context.Context, in OpenEscalationInput) (EscalationRecord, error) {
	e, err := a.Store.OpenEscalation(ctx, db.OpenEscalationParams{
		ConversationID: in.ConversationID, Episode: in.Episode, Reason: in.Reason, Kind: in.Kind,
		TriggeredBy: in.TriggeredBy, WorkflowID: in.WorkflowID, At: in.At,
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23503" || pgErr.Code == "22P02") { // foreign key / bad uuid
		return EscalationRecord{}, temporal.NewNonRetryableApplicationError("conversation "+in.ConversationID+" does not exist", "ConversationNotFound", err)
	}
	if err != nil {
		return EscalationRecord{}, err
	}
	lang := "en"
	if b, err := a.Store.ConversationBrief(ctx, in.ConversationID, 0); err == nil && b.Language != "" {
		lang = b.Language
	}
	return EscalationRecord{EscalationID: e.ID, Status: e.Status, TakenBy: e.TakenBy, ResolvedBy: e.ResolvedBy, Language: lang}, nil
}

// Escalation actions recorded by UpdateEscalation.
const (
	EscalationTake      = "take"
	EscalationResolve   = "resolve"
	EscalationSLAMissed = "sla_missed"
	EscalationCounters  = "counters"
)

// UpdateEscalationInput records a state change or the workflow's counters.
type UpdateEscalationInput struct {
	EscalationID     int64
	Action           string
	By, Via, Note    string
	At               time.Time
	Acks             int
	Reminders        int
	CustomerMessages int
}

// UpdateEscalation applies one action to the row; every action is safe to repeat.
func (a *Escalations) UpdateEscalation(ctx context.Context, in UpdateEscalationInput) (EscalationRecord, error) {
	var e db.Escalation
	var err error
	switch in.Action {
	case EscalationTake:
		e, err = a.Store.TakeEscalation(ctx, in.EscalationID, in.By, in.Via, in.At)
	case EscalationResolve:
		e, err = a.Store.ResolveEscalation(ctx, in.EscalationID, in.By, in.Via, in.Note, in.At)
	case EscalationSLAMissed:
		if err = a.Store.MarkEscalationSLAMissed(ctx, in.EscalationID, in.At); err == nil {
			e, err = a.Store.Escalation(ctx, in.EscalationID)
		}
	case EscalationCounters:
		if err = a.Store.SetEscalationCounters(ctx, in.EscalationID, in.Acks, in.Reminders, in.CustomerMessages); err == nil {
			e, err = a.Store.Escalation(ctx, in.EscalationID)
		}
	default:
		return EscalationRecord{}, temporal.NewNonRetryableApplicationError("unknown escalation action "+in.Action, "InvalidAction", nil)
	}
	if err != nil {
		return EscalationRecord{}, fmt.Errorf("escalation %d %s: %w", in.EscalationID, in.Action, err)
	}
	return EscalationRecord{EscalationID: e.ID, Status: e.Status, TakenBy: e.TakenBy, ResolvedBy: e.ResolvedBy}, nil
}

// Alert kinds of an escalation.
const (
	AlertOpened    = "opened"
	AlertReminder  = "reminder"
	AlertSLAMissed = "sla_missed"
	AlertTaken     = "taken"
	AlertResolved  = "resolved"
)

// EscalationAlertInput asks for one alert about an escalation.
type EscalationAlertInput struct {
	EscalationID int64
	Alert        string
	// Seq distinguishes repeated alerts of one kind (reminders); part of the idempotency key.
	Seq     int
	By      string
	Via     string
	Note    string
	Waiting time.Duration
	SLA     time.Duration
}

// Callback data of the alert buttons (≤ 64 bytes: "resolve:" + an int64 fits easily).
func takeData(id int64) string    { return "take:" + strconv.FormatInt(id, 10) }
func resolveData(id int64) string { return "resolve:" + strconv.FormatInt(id, 10) }

// ParseCallbackData reads "take:<id>" / "resolve:<id>".
func ParseCallbackData(data string) (action string, escalationID int64, ok bool) {
	act, idStr, found := strings.Cut(data, ":")
	if !found || (act != EscalationTake && act != EscalationResolve) {
		return "", 0, false
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, false
	}
	return act, id, true
}

// SendEscalationAlert tells the managers about an escalation: the opening alert (with
// Take/Resolve buttons), reminders, the SLA breach, and the taken/resolved notes (which
// also update the buttons of the earlier alerts).
func (a *Escalations) SendEscalationAlert(ctx context.Context, in EscalationAlertInput) (notify.Result, error) {
	e, err := a.Store.Escalation(ctx, in.EscalationID)
	if errors.Is(err, db.ErrNotFound) {
		return notify.Result{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("escalation %d does not exist", in.EscalationID), "EscalationNotFound", err)
	}
	if err != nil {
		return notify.Result{}, err
	}
	brief, err := a.Store.ConversationBrief(ctx, e.ConversationID, 8)
	if err != nil {
		return notify.Result{}, err
	}
	d := escalation.AlertData{
		EscalationID: e.ID, Episode: e.Episode, Kind: e.Kind, Reason: e.Reason, TriggeredBy: e.TriggeredBy,
		ConversationID: e.ConversationID, CustomerName: brief.CustomerName, PhoneMasked: pii.MaskPhone(brief.ChatID),
		Language: brief.Language, Stage: brief.Stage, Summary: brief.Summary, Facts: brief.Facts,
		Link: strings.TrimRight(a.PublicBaseURL, "/") + "/console/conversations/" + e.ConversationID,
	}
	lastCustomer := ""
	for _, m := range brief.LastMessages {
		d.LastMessages = append(d.LastMessages, escalation.Line{Author: m.Author, Text: m.Text, At: m.CreatedAt})
		if m.Author == "customer" {
			lastCustomer = m.Text
		}
	}
	both := [][]telegram.Button{{{Text: "✋ Take", CallbackData: takeData(e.ID)}, {Text: "✅ Resolve", CallbackData: resolveData(e.ID)}}}
	alert := notify.Alert{
		Key:            fmt.Sprintf("esc:%d:%s:%d", e.ID, in.Alert, in.Seq),
		Kind:           "escalation_" + in.Alert,
		ConversationID: e.ConversationID,
		EscalationID:   e.ID,
	}
	var msg escalation.Message
	switch in.Alert {
	case AlertOpened:
		msg, alert.Severity, alert.Buttons = escalation.Opened(d), notify.SeverityWarning, both
	case AlertReminder:
		msg, alert.Severity, alert.Buttons = escalation.Reminder(d, in.Waiting, lastCustomer), notify.SeverityWarning, both
	case AlertSLAMissed:
		msg, alert.Severity, alert.Buttons = escalation.SLAMissed(d, in.SLA), notify.SeverityCritical, both
	case AlertTaken:
		msg, alert.Severity = escalation.Taken(d, in.By, in.Via), notify.SeverityInfo
		a.editEarlier(ctx, e.ID, [][]telegram.Button{{{Text: "✅ Resolve", CallbackData: resolveData(e.ID)}}})
	case AlertResolved:
		msg, alert.Severity = escalation.Resolved(d, in.By, in.Via, in.Note), notify.SeverityInfo
		a.editEarlier(ctx, e.ID, nil)
	default:
		return notify.Result{}, temporal.NewNonRetryableApplicationError("unknown escalation alert "+in.Alert, "InvalidAlert", nil)
	}
	alert.Title, alert.Body = msg.Title, msg.Body
	return a.Notifier.Notify(ctx, alert)
}

// editEarlier updates the buttons of the escalation's earlier alerts. Best effort: a stale
// button is answered by the webhook with the current state, so a failure here is logged only.
func (a *Escalations) editEarlier(ctx context.Context, escalationID int64, buttons [][]telegram.Button) {
	notes, err := a.Store.ListNotifications(ctx, db.NotificationFilter{EscalationID: escalationID, Limit: 100})
	if err == nil {
		var withButtons []db.Notification
		for _, n := range notes {
			switch n.Kind {
			case "escalation_" + AlertOpened, "escalation_" + AlertReminder, "escalation_" + AlertSLAMissed:
				withButtons = append(withButtons, n)
			}
		}
		err = a.Notifier.EditButtons(ctx, withButtons, buttons)
	}
	if err != nil {
		a.log().Warn("could not update the buttons of earlier escalation alerts", "escalation_id", escalationID, "err", err)
	}
}

func (a *Escalations) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// Alerts exposes the notifier to workflows that need a generic manager alert.
type Alerts struct {
	Notifier *notify.Notifier
}

// SendAlert delivers one manager alert (console and, when configured, Telegram).
func (a *Alerts) SendAlert(ctx context.Context, in notify.Alert) (notify.Result, error) {
	return a.Notifier.Notify(ctx, in)
}

// DetectEscalationInput is one customer turn for the hard/soft trigger rules.
type DetectEscalationInput struct {
	ConversationID string
	// MessageIDs of the turn (the merged burst); their texts, kinds and captions are read.
	MessageIDs []int64
	// Text may be given instead of (or in addition to) MessageIDs.
	Text               string
	FailedTurns        int
	KnownOrderValueAED float64
	UnitPriceAED       float64
}

// DetectEscalationResult says whether the turn escalates, and why.
type DetectEscalationResult struct {
	Escalate bool
	Kind     string
	Reason   string
	Hard     bool
}

// DetectEscalation applies escalation.Detect to a turn. When an order is ready to proceed
// and no price is known, the lowest catalog price of the goods named is used as a lower
// bound ("200 chairs" × the cheapest chair), so only orders surely above the threshold
// escalate.
func (a *Escalations) DetectEscalation(ctx context.Context, in DetectEscalationInput) (DetectEscalationResult, error) {
	rec, err := a.Store.Settings(ctx)
	if err != nil {
		return DetectEscalationResult{}, err
	}
	di := escalation.Input{Text: in.Text, FailedTurns: in.FailedTurns, KnownOrderValueAED: in.KnownOrderValueAED, UnitPriceAED: in.UnitPriceAED}
	var texts []string
	if in.Text != "" {
		texts = append(texts, in.Text)
	}
	for _, id := range in.MessageIDs {
		m, err := a.Store.ChatMessageByID(ctx, id)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return DetectEscalationResult{}, err
		}
		di.MessageKinds = append(di.MessageKinds, m.Kind)
		if m.MediaURL != "" {
			if u, err := url.Parse(m.MediaURL); err == nil {
				di.MediaNames = append(di.MediaNames, path.Base(u.Path))
			}
		}
		if m.Text != "" {
			texts = append(texts, m.Text)
		}
	}
	di.Text = strings.Join(texts, "\n")
	if di.KnownOrderValueAED <= 0 && di.UnitPriceAED <= 0 {
		if o := escalation.ParseOrder(di.Text); o.Ready() && o.Noun != "" {
			stem := strings.TrimSuffix(o.Noun, "s")
			if p, ok, err := a.Store.LowestActivePrice(ctx, stem); err != nil {
				return DetectEscalationResult{}, err
			} else if ok {
				di.UnitPriceAED = p
			}
		}
	}
	t, ok := escalation.Detect(di, rec.Settings.Escalation)
	if !ok {
		return DetectEscalationResult{}, nil
	}
	return DetectEscalationResult{Escalate: true, Kind: t.Kind, Reason: t.Reason, Hard: t.Hard}, nil
}
