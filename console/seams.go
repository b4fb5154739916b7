package console

import (
	"context"
	"time"
)

// The features below belong to other packages (the conversation core, escalations, the
// catalog sync, the knowledge indexer, notifications). Each is a small interface the
// owning package implements and api.Build passes in Deps; until then the console shows
// the feature as not available.

// ConversationActions are a manager's actions on a live conversation. The conversation
// core implements them with signals/updates to the conversation workflow; Reply goes out
// through the same outbound gateway as Noor's replies.
type ConversationActions interface {
	TakeOver(ctx context.Context, conversationID string, by Actor) error
	Reply(ctx context.Context, conversationID string, by Actor, text string) error
	HandBack(ctx context.Context, conversationID string, by Actor, note string) error
	Escalate(ctx context.Context, conversationID string, by Actor, reason string) error
	Close(ctx context.Context, conversationID string, by Actor, note string) error
}

// EscalationActions take and resolve an escalation (signals to the escalation workflow).
type EscalationActions interface {
	Take(ctx context.Context, escalationID int64, by Actor) error
	Resolve(ctx context.Context, escalationID int64, by Actor, note string) error
}

// SyncRun is one catalog sync with its counts and progress.
type SyncRun struct {
	ID          string
	Trigger     string // schedule | manual | api
	Status      string // running | completed | failed
	Percent     float64
	Added       int
	Updated     int
	Deactivated int
	Failed      int
	Errors      []string
	StartedAt   time.Time
	FinishedAt  *time.Time
}

// CatalogSync starts a sync ("sync now") and reports progress and history.
type CatalogSync interface {
	Start(ctx context.Context, by Actor) (runID string, err error)
	Run(ctx context.Context, runID string) (SyncRun, error)
	History(ctx context.Context, limit int) ([]SyncRun, error)
}

// KnowledgeHit is one chunk that would answer a question.
type KnowledgeHit struct {
	Source, Title, Heading, Content string
	Score                           float64
}

// KnowledgePreview answers "which chunks would answer this question".
type KnowledgePreview interface {
	Preview(ctx context.Context, question string, limit int) ([]KnowledgeHit, error)
}

// Notification is one manager alert as sent (or not).
type Notification struct {
	ID             int64
	At             time.Time
	Channel        string // telegram | console
	Kind           string // escalation | sla | reminder | bot_error | …
	ConversationID string
	Text           string
	Status         string // sent | failed
	Error          string
}

// NotificationLog lists what was sent to managers and what failed.
type NotificationLog interface {
	Notifications(ctx context.Context, status string, limit, offset int) ([]Notification, error)
}
