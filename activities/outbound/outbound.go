// Package outbound is the policy of the outbound gateway: every message to a customer, reply
// or proactive, passes Decide right before it is sent. It enforces WhatsApp's 24-hour
// window (free text only within it, otherwise an approved template or a visible block),
// opt-out for proactive messages, and business hours (quiet hours) for proactive messages.
//
// The package also holds the gateway's contract (SendInput/SendResult, called by workflows
// under the activity name SendActivity) and the deterministic text rules the follow-ups need:
// opt-out keywords, refusals and auto-replies with a return date.
package outbound

import (
	"time"

	"github.com/treejar/noor/internal/businesshours"
	"github.com/treejar/noor/internal/settings"
)

// SendActivity is the registered name of the messaging activity
// ((*activities.Messaging).SendMessage) that workflows call for every customer send.
const SendActivity = "SendMessage"

// Purposes of a send. Template ids are configured per purpose (settings.FollowUps.TemplateIDs).
const (
	PurposeReply           = "reply"
	PurposeAck             = "ack"
	PurposeApology         = "apology"
	PurposeEscalationAck   = "escalation_ack"
	PurposeFollowUp        = "follow_up"
	PurposePaymentReminder = "payment_reminder"
	PurposeFeedbackRequest = "feedback_request"
	PurposeManager         = "manager"
)

// SendInput asks the gateway to send one logical message.
type SendInput struct {
	ConversationID string
	// IdempotencyKey is deterministic per logical message, e.g. "fu:<conv>:<kind>:<ref>:<step>";
	// it becomes Wazzup's crmMessageId.
	IdempotencyKey string
	Purpose        string
	// Proactive: follow-ups, reminders, feedback requests. Opt-out and quiet hours apply.
	Proactive bool
	Text      string
	// TemplatePurpose is the key in settings.FollowUps.TemplateIDs used outside the 24-hour
	// window (defaults to Purpose).
	TemplatePurpose string
	TemplateValues  []string
	// RespectOwner: a bot-originated message is skipped while a human owns the chat.
	RespectOwner bool
	// RequestedAt is the workflow time at which the send was asked for (workflow.Now). The
	// gateway decides with its own clock; this is for logs and delay measurement.
	RequestedAt time.Time `json:",omitempty"`
	// DraftStepID: the text is the agent's checked reply stored in this turn step (large
	// texts stay out of workflow history).
	DraftStepID int64 `json:",omitempty"`
	// DocumentURL sends a file (a quotation PDF); Caption follows as a second text message.
	DocumentURL string `json:",omitempty"`
	Caption     string `json:",omitempty"`
	// Author is noor (default), manager or system; AuthorName names a manager.
	Author     string `json:",omitempty"`
	AuthorName string `json:",omitempty"`
	// Language of the message (defaults to the conversation's).
	Language string `json:",omitempty"`
	// TurnID links a reply to its turn (latency figures, cost per message).
	TurnID int64 `json:",omitempty"`
}

// Statuses of a SendResult.
const (
	StatusSent     = "sent"
	StatusSkipped  = "skipped"  // a human owns the chat (RespectOwner)
	StatusBlocked  = "blocked"  // recorded in the outbound ledger with Reason; never silent
	StatusDeferred = "deferred" // proactive message outside business hours: ask again at DeferUntil
)

// SendResult is what happened to a SendInput.
type SendResult struct {
	Status            string
	Reason            string
	MessageID         int64
	ProviderMessageID string
	// Mode is free_text or template for a sent message.
	Mode string `json:",omitempty"`
	// DeferUntil is set when Status is deferred.
	DeferUntil time.Time `json:",omitempty"`
}

// Actions of a Decision.
const (
	ActionFreeText = "free_text"
	ActionTemplate = "template"
	ActionBlock    = "block"
	ActionDefer    = "defer"
)

// Reasons, stable strings for the ledger, the console and metrics.
const (
	ReasonInsideWindow       = "inside_24h_window"
	ReasonTemplate           = "outside_24h_window_template"
	ReasonTemplateFallbackEN = "outside_24h_window_template_en_fallback"
	ReasonNoTemplate         = "outside_24h_window_no_template"
	ReasonOptedOut           = "opted_out"
	ReasonQuietHours         = "outside_business_hours"
)

// DecideInput is what the gateway knows about the message and the chat.
type DecideInput struct {
	Purpose   string
	Proactive bool
	// Language of the customer: en or ar (anything else counts as en).
	Language string
	// LastCustomerMessageAt is when the customer last wrote; zero if never.
	LastCustomerMessageAt time.Time
	OptedOut              bool
	// TemplatePurpose overrides Purpose for the template lookup.
	TemplatePurpose string
}

// Decision says how (or whether) to send.
type Decision struct {
	Action     string
	TemplateID string
	Reason     string
	DeferUntil time.Time
}

// Decide applies, in order: opt-out (proactive only) → block; quiet hours (proactive only,
// when enabled) → defer to the next opening; inside the free-text window → free text;
// otherwise the template configured for the purpose in the customer's language (English
// as a recorded fallback) → template; no template → block with a visible reason.
func Decide(now time.Time, in DecideInput, s settings.Settings) Decision {
	f := s.FollowUps
	if in.Proactive && in.OptedOut {
		return Decision{Action: ActionBlock, Reason: ReasonOptedOut}
	}
	inWindow := !in.LastCustomerMessageAt.IsZero() && now.Sub(in.LastCustomerMessageAt) < f.FreeTextWindow.D()
	tmplID, tmplReason := template(in, f.TemplateIDs)
	if !inWindow && tmplID == "" {
		// Waiting for business hours would not help: block now, visibly.
		return Decision{Action: ActionBlock, Reason: ReasonNoTemplate}
	}
	if in.Proactive && f.ProactiveQuietHours && !businesshours.IsOpen(now, s.BusinessHours) {
		return Decision{Action: ActionDefer, Reason: ReasonQuietHours, DeferUntil: businesshours.Next(now, s.BusinessHours)}
	}
	if inWindow {
		return Decision{Action: ActionFreeText, Reason: ReasonInsideWindow}
	}
	return Decision{Action: ActionTemplate, TemplateID: tmplID, Reason: tmplReason}
}

func template(in DecideInput, t settings.Templates) (id, reason string) {
	purpose := in.TemplatePurpose
	if purpose == "" {
		purpose = in.Purpose
	}
	byLang := t[purpose]
	lang := in.Language
	if lang != "ar" {
		lang = "en"
	}
	if id := byLang[lang]; id != "" {
		return id, ReasonTemplate
	}
	if id := byLang["en"]; id != "" {
		return id, ReasonTemplateFallbackEN
	}
	return "", ""
}
