package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/outbound"
	"github.com/treejar/noor/console"
	"github.com/treejar/noor/workflows"
)

// The console's actions on the running system, done the way the API and the webhooks do
// them: updates and signals to the workflows, sends through the outbound gateway.

// wireConsole fills the console's seams.
func (s *Server) wireConsole(d *console.Deps) {
	msg := activities.NewMessaging(activities.Deps{Config: s.Config, Store: s.Store, Log: s.Log, Metrics: s.Metrics})
	d.Conversations = &consoleConversations{s: s, msg: msg}
	d.Escalations = &consoleEscalations{h: s.escalations}
	d.Catalog = consoleCatalog{s: s}
	d.Knowledge = consoleKnowledge{s: s}
	d.Indexer = consoleKnowledge{s: s}
}

// userError turns an API error meant for the caller (4xx) into one the console shows; other
// errors stay as they are (logged, shown as a generic failure).
func userError(err error) error {
	var ae *Error
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
		return console.UserError(ae.Status, ae.Message)
	}
	return err
}

type consoleConversations struct {
	s   *Server
	msg *activities.Messaging
}

// TakeOver marks the chat human-owned in the database first (a bot send checks ownership
// in the same row lock, so nothing of Noor's goes out after this returns) and then tells
// the workflow, like a manager message without text: it cancels a running turn and
// forwards the take to an open escalation.
func (a *consoleConversations) TakeOver(ctx context.Context, id string, by console.Actor) error {
	if err := a.s.Store.SetOwner(ctx, id, "human"); err != nil {
		return fmt.Errorf("take over: %w", err)
	}
	sig := workflows.ManagerMessageSignal{AuthorName: by.Username, Via: "console", At: time.Now().UTC()}
	if err := a.s.inbound.signal(ctx, id, workflows.SignalManagerMessage, sig); err != nil {
		// The database already says a human owns the chat, so Noor sends nothing; the
		// workflow learns it when the manager tries again.
		a.s.Log.Error("take over: workflow not signalled", "conversation_id", id, "err", err)
		return console.UserError(http.StatusBadGateway, "The chat is marked as yours, but the conversation workflow could not be told (Temporal unreachable). Try again in a moment.")
	}
	a.s.Log.Info("conversation taken over", "conversation_id", id, "by", by.Username, "via", "console")
	return nil
}

// Reply takes the chat over and sends the text through the outbound gateway as the
// manager. The key (the form's nonce) makes the send idempotent: a double submit or a
// retry after an error sends one WhatsApp message.
func (a *consoleConversations) Reply(ctx context.Context, id string, by console.Actor, text, key string) error {
	if err := a.TakeOver(ctx, id, by); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := a.msg.SendMessage(sctx, activities.SendInput{
		ConversationID: id, IdempotencyKey: "console-reply:" + id + ":" + key, Purpose: outbound.PurposeManager,
		Text: text, Author: "manager", AuthorName: by.Username, RespectOwner: false,
	})
	if err != nil {
		return console.UserError(http.StatusBadGateway, "The message could not be sent: "+err.Error()+". Sending again is safe (it goes out once).")
	}
	switch res.Status {
	case outbound.StatusSent:
		a.s.Log.Info("manager reply sent", "conversation_id", id, "by", by.Username, "message_id", res.MessageID)
		return nil
	case outbound.StatusBlocked:
		return console.UserError(http.StatusConflict, "Not sent: "+blockedReason(res.Reason)+".")
	}
	return console.UserError(http.StatusConflict, "Not sent ("+res.Status+": "+res.Reason+").")
}

func blockedReason(r string) string {
	switch r {
	case outbound.ReasonNoTemplate:
		return "the customer last wrote more than 24 hours ago and WhatsApp then allows only approved templates; none is configured for manager messages"
	case outbound.ReasonOptedOut:
		return "the customer opted out of messages"
	case "":
		return "blocked earlier"
	}
	return r
}

func (a *consoleConversations) HandBack(ctx context.Context, id string, by console.Actor, note string) error {
	_, err := a.s.conversationUpdate(ctx, id, workflows.UpdateHandBack, workflows.HandBackSignal{By: by.Username, Note: note, Via: "console"})
	return userError(err)
}

func (a *consoleConversations) Escalate(ctx context.Context, id string, by console.Actor, reason string) error {
	_, err := a.s.conversationUpdate(ctx, id, workflows.UpdateEscalate, workflows.EscalateRequest{Reason: reason, Kind: "other", By: by.Username, Via: "console"})
	return userError(err)
}

func (a *consoleConversations) Close(ctx context.Context, id string, by console.Actor, _ string) error {
	_, err := a.s.conversationUpdate(ctx, id, workflows.UpdateConversation, workflows.UpdateConversationRequest{Status: "closed", By: by.Username})
	return userError(err)
}

type consoleEscalations struct{ h *escalationAPI }

func (a *consoleEscalations) Take(ctx context.Context, id int64, by console.Actor) error {
	return a.act(ctx, id, workflows.UpdateEscalationTake, workflows.EscalationActionSignal{By: by.Username, Via: "console"})
}

func (a *consoleEscalations) Resolve(ctx context.Context, id int64, by console.Actor, note string) error {
	return a.act(ctx, id, workflows.UpdateEscalationResolve, workflows.EscalationActionSignal{By: by.Username, Note: note, Via: "console"})
}

func (a *consoleEscalations) act(ctx context.Context, id int64, update string, sig workflows.EscalationActionSignal) error {
	e, err := a.h.s.Store.Escalation(ctx, id)
	if err != nil {
		return err // db.ErrNotFound is the console's 404
	}
	_, err = a.h.runAction(ctx, e, update, sig)
	var taken *alreadyTakenError
	if errors.As(err, &taken) {
		return console.UserError(http.StatusConflict, taken.Error()+".")
	}
	return userError(err)
}

type consoleCatalog struct{ s *Server }

func (a consoleCatalog) Start(ctx context.Context, by console.Actor) (string, bool, error) {
	st, err := a.s.startCatalogSync(ctx, "console")
	if err != nil {
		return "", false, userError(err)
	}
	a.s.Log.Info("catalog sync requested", "run_id", st.RunID, "by", by.Username, "already_running", st.AlreadyRunning)
	return st.RunID, st.AlreadyRunning, nil
}

type consoleKnowledge struct{ s *Server }

func (a consoleKnowledge) Preview(ctx context.Context, question string, limit int) ([]console.KnowledgeHit, error) {
	chunks, err := a.s.retriever.SearchKnowledge(ctx, question, limit)
	if err != nil {
		return nil, err
	}
	out := make([]console.KnowledgeHit, len(chunks))
	for i, c := range chunks {
		out[i] = console.KnowledgeHit{Source: c.Source, Title: c.Title, Heading: c.Heading, Content: c.Content, Score: c.Score}
	}
	return out, nil
}

// Reindex starts the KnowledgeIndex workflow (one at a time). The bundled demo documents
// are included only where they were indexed before, so a production knowledge base does
// not get them back by a click.
func (a consoleKnowledge) Reindex(ctx context.Context, by console.Actor) (bool, error) {
	var bundled bool
	if err := a.s.Store.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM kb_documents WHERE source LIKE 'kb/%')`).Scan(&bundled); err != nil {
		return false, fmt.Errorf("reindex: %w", err)
	}
	run, err := a.s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.Singleton(workflows.KnowledgeIndexWorkflowID, a.s.Config.TaskQueue), TaskQueue: a.s.Config.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// "Already running" must be an error here, to tell the admin their change may need
		// another pass.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowExecutionTimeout:                 time.Hour,
		StaticSummary:                            "Knowledge base index (console, " + by.Username + ")",
	}, workflows.KnowledgeIndexWorkflow, workflows.KnowledgeIndexInput{Bundled: bundled})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return true, nil
	}
	if err != nil {
		return false, Upstream("temporal", err)
	}
	a.s.Log.Info("knowledge index started", "run_id", run.GetRunID(), "by", by.Username, "bundled", bundled)
	return false, nil
}
