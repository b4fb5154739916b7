package workflows

import (
	"strconv"
	"time"
)

// Payloads of the signals, updates and child workflows named in names.go. They are part of
// the history of running workflows: add fields, never rename or remove them.

// CustomerMessageSignal tells a conversation that a customer message was stored. The text
// stays in PostgreSQL; activities load it by MessageID.
type CustomerMessageSignal struct {
	MessageID  int64     `json:"message_id"`
	ProviderID string    `json:"provider_id"`
	Kind       string    `json:"kind"` // text, image, audio, document, …
	At         time.Time `json:"at"`
}

// ManagerMessageSignal: a human wrote in the chat (Wazzup inbox, console, Telegram). The
// chat becomes human-owned until an explicit hand-back.
type ManagerMessageSignal struct {
	MessageID  int64     `json:"message_id"`
	ProviderID string    `json:"provider_id"`
	AuthorName string    `json:"author_name"`
	Via        string    `json:"via"` // wazzup | console | telegram
	At         time.Time `json:"at"`
}

// HandBackSignal returns the chat to the bot; Note goes into the bot's context.
type HandBackSignal struct {
	By                string `json:"by"`
	Note              string `json:"note"`
	Via               string `json:"via"` // api | console | telegram | cli | escalation
	EscalationEpisode int    `json:"escalation_episode,omitempty"`
}

// EscalationInput starts the escalation child workflow, id EscalationWorkflowID(conv, episode).
type EscalationInput struct {
	ConversationID string `json:"conversation_id"`
	Episode        int    `json:"episode"`
	Reason         string `json:"reason"`
	// Kind: human_request | complaint | return | legal | aggression | non_standard_terms |
	// large_order | drawings | bot_failed | llm_unavailable | crm_auth | quote_blocked | soft:<trigger> | other
	Kind        string `json:"kind"`
	TriggeredBy string `json:"triggered_by"` // bot | rule | api | admin | manager
	// Resume carries the state across the escalation's own continue-as-new; callers leave it nil.
	Resume *EscalationState `json:"resume,omitempty"`
}

// EscalationActionSignal is take or resolve by a manager (SignalEscalationTake / SignalEscalationResolve).
type EscalationActionSignal struct {
	By   string `json:"by"`
	Note string `json:"note,omitempty"`
	Via  string `json:"via"` // telegram | api | console | wazzup | cli
}

// CustomerActivitySignal tells a child (escalation, follow-up) that the customer wrote again.
type CustomerActivitySignal struct {
	MessageID int64     `json:"message_id"`
	At        time.Time `json:"at"`
}

// FollowUpInput starts a follow-up child, id FollowUpWorkflowID(conv, kind, ref).
type FollowUpInput struct {
	ConversationID string    `json:"conversation_id"`
	Kind           string    `json:"kind"` // quote | payment | feedback | inactivity
	Ref            string    `json:"ref"`  // quote number, sale order id, or "" for inactivity
	StartedAt      time.Time `json:"started_at"`
}

// FollowUpStopSignal ends a follow-up chain from outside (payment received, order
// cancelled in the CRM, an admin).
type FollowUpStopSignal struct {
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"`
}

// EscalationWorkflowID is deterministic per conversation and episode.
func EscalationWorkflowID(conversationID string, episode int) string {
	return "escalation-" + conversationID + "-" + strconv.Itoa(episode)
}

// FollowUpWorkflowID is deterministic per conversation, kind and reference.
func FollowUpWorkflowID(conversationID, kind, ref string) string {
	id := "followup-" + conversationID + "-" + kind
	if ref != "" {
		id += "-" + ref
	}
	return id
}
