package console

import (
	"context"
	"net/http"
)

// The console reads what it shows from PostgreSQL itself. What it does to the running
// system (signals and updates to workflows, sends through the outbound gateway, starting
// the catalog sync or the knowledge indexer, retrieval) goes through the small interfaces
// below, implemented next to the features (api.Build passes them in Deps). A nil seam shows
// the page with the action marked as not available.

// ConversationActions are a manager's actions on a live conversation, carried out by the
// conversation workflow; Reply goes out through the same outbound gateway as Noor's replies.
type ConversationActions interface {
	TakeOver(ctx context.Context, conversationID string, by Actor) error
	// Reply sends text to the customer as the manager. key identifies this one reply (the
	// form's nonce): sending again with the same key does not send a second message.
	Reply(ctx context.Context, conversationID string, by Actor, text, key string) error
	HandBack(ctx context.Context, conversationID string, by Actor, note string) error
	Escalate(ctx context.Context, conversationID string, by Actor, reason string) error
	Close(ctx context.Context, conversationID string, by Actor, note string) error
}

// EscalationActions take and resolve an escalation (updates to the escalation workflow).
type EscalationActions interface {
	Take(ctx context.Context, escalationID int64, by Actor) error
	Resolve(ctx context.Context, escalationID int64, by Actor, note string) error
}

// CatalogSync starts the catalog sync workflow ("sync now"); the run's progress and the
// history are read from catalog_sync_runs.
type CatalogSync interface {
	// Start returns the new run's id, or the running one's with alreadyRunning.
	Start(ctx context.Context, by Actor) (runID string, alreadyRunning bool, err error)
}

// KnowledgeHit is one chunk that would answer a question.
type KnowledgeHit struct {
	Source, Title, Heading, Content string
	Score                           float64
}

// KnowledgePreview answers "which chunks would answer this question" with the retrieval
// the agent uses.
type KnowledgePreview interface {
	Preview(ctx context.Context, question string, limit int) ([]KnowledgeHit, error)
}

// KnowledgeIndexer starts the knowledge-base indexer (the KnowledgeIndex workflow).
type KnowledgeIndexer interface {
	Reindex(ctx context.Context, by Actor) (alreadyRunning bool, err error)
}

// UserError is an error a seam returns to tell the user why an action was refused (the
// escalation is already resolved, the send was blocked by the 24-hour window, …). The
// console shows msg with status; other errors are logged and shown as a generic failure.
func UserError(status int, msg string) error {
	if status < 400 || status > 599 {
		status = http.StatusConflict
	}
	return &httpError{status: status, msg: msg}
}
