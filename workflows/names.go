package workflows

import "go.temporal.io/sdk/temporal"

// Every name Temporal sees lives here: workflow types, signals, updates, queries, task
// queues and search attributes. Renaming one breaks running workflows and saved
// Temporal UI searches, so treat them as a public contract.

// Task queue the worker polls (TEMPORAL_TASK_QUEUE overrides it per deployment).
const DefaultTaskQueue = "noor"

// Workflow types.
const (
	ConversationWorkflowName = "Conversation"
	EscalationWorkflowName   = "Escalation"
	FollowUpWorkflowName     = "FollowUp"
	QualityReviewWorkflow    = "QualityReview"
	CatalogSyncWorkflowName  = "CatalogSync"
	KnowledgeIndexWorkflow   = "KnowledgeIndex"
)

// Fixed ids of the singleton workflows and schedules (one catalog sync at a time). Use them
// through Singleton: a deployment is identified by its task queue.
const (
	CatalogSyncWorkflowID    = "catalog-sync"
	CatalogSyncScheduleID    = "catalog-sync-schedule"
	KnowledgeIndexWorkflowID = "knowledge-index"
)

// Singleton is the id of a one-per-deployment workflow or schedule. The default task queue
// keeps the plain id; a deployment on another task queue (a second installation sharing a
// Temporal namespace, or an isolated test stack) gets its own, so their syncs never collide.
func Singleton(id, taskQueue string) string {
	if taskQueue == "" || taskQueue == DefaultTaskQueue {
		return id
	}
	return id + "@" + taskQueue
}

// Signals.
const (
	// SignalCustomerMessage carries a CustomerMessageSignal: a customer wrote.
	SignalCustomerMessage = "customer-message"
	// SignalManagerMessage carries a ManagerMessageSignal: a human wrote in the chat and owns it now.
	SignalManagerMessage = "manager-message"
	// SignalHandBack returns the chat to the bot (explicit hand-back) with an optional note.
	SignalHandBack = "hand-back"
	// SignalEscalationTake / SignalEscalationResolve are manager actions on an escalation.
	SignalEscalationTake    = "escalation-take"
	SignalEscalationResolve = "escalation-resolve"
	// SignalCustomerActivity tells a follow-up child that the customer wrote again.
	SignalCustomerActivity = "customer-activity"
	// SignalFollowUpStop ends a follow-up chain (FollowUpStopSignal), e.g. the payment arrived.
	SignalFollowUpStop = "follow-up-stop"
)

// Updates (validated, answered synchronously).
const (
	// UpdateConversation changes status or stage from the API/console.
	UpdateConversation = "update-conversation"
	// UpdateHandBack is the synchronous form of SignalHandBack.
	UpdateHandBack = "hand-back"
	// UpdateEscalate escalates a conversation from the API or the console.
	UpdateEscalate = "escalate"
	// UpdateEscalationTake / UpdateEscalationResolve are the synchronous forms of the
	// escalation signals (EscalationActionSignal in, EscalationState out), used by the API.
	UpdateEscalationTake    = "escalation-take"
	UpdateEscalationResolve = "escalation-resolve"
)

// Queries.
const (
	QueryState = "state"
)

// Search attributes (registered on the dev server by `noor dev`/`noor testenv`, and by
// deploy/temporal/register-search-attributes.sh in production).
var (
	SAStage        = temporal.NewSearchAttributeKeyKeyword("NoorStage")
	SAStatus       = temporal.NewSearchAttributeKeyKeyword("NoorStatus")
	SALanguage     = temporal.NewSearchAttributeKeyKeyword("NoorLanguage")
	SAOwner        = temporal.NewSearchAttributeKeyKeyword("NoorOwner")
	SALastActivity = temporal.NewSearchAttributeKeyTime("NoorLastActivity")
	SAConversation = temporal.NewSearchAttributeKeyKeyword("NoorConversationId")
)

// SearchAttributes lists every custom search attribute with its Temporal type name, in a
// fixed order, for registration.
func SearchAttributes() []struct{ Name, Type string } {
	return []struct{ Name, Type string }{
		{SAStage.GetName(), "Keyword"},
		{SAStatus.GetName(), "Keyword"},
		{SALanguage.GetName(), "Keyword"},
		{SAOwner.GetName(), "Keyword"},
		{SALastActivity.GetName(), "Datetime"},
		{SAConversation.GetName(), "Keyword"},
	}
}

// ConversationWorkflowID is derived from our conversation id (a UUID from the database,
// unique per channel+chat), never from the phone number.
func ConversationWorkflowID(conversationID string) string { return "conversation-" + conversationID }
