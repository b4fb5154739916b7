package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/settings"
	"github.com/treejar/noor/workflows"
)

func (s *Server) registerConversations() {
	s.V1.GET("/conversations/", s.listConversations)
	s.V1.GET("/conversations/:id", s.getConversation)
	s.V1.PATCH("/conversations/:id", s.patchConversation)
	s.V1.POST("/conversations/:id/hand-back", s.handBackConversation)
	s.V1.POST("/conversations/:id/escalate", s.escalateConversation)
}

// ConversationList is the list response.
type ConversationList struct {
	Items  []db.ConversationRow `json:"items"`
	Total  int                  `json:"total"`
	Limit  int                  `json:"limit"`
	Offset int                  `json:"offset"`
}

var (
	validStatuses  = map[string]bool{"active": true, "escalated": true, "closed": true}
	validOwners    = map[string]bool{"bot": true, "human": true}
	validLanguages = map[string]bool{"en": true, "ar": true}
)

// ParseConversationFilter reads the list/export filters from a query string, naming the
// parameter that is wrong.
func ParseConversationFilter(c echo.Context) (db.ConversationFilter, error) {
	var f db.ConversationFilter
	q := c.QueryParams()
	f.Status, f.Stage, f.Language, f.Owner, f.Search = q.Get("status"), q.Get("stage"), q.Get("language"), q.Get("owner"), q.Get("q")
	if f.Status != "" && !validStatuses[f.Status] {
		return f, BadRequest("status", "must be active, escalated or closed")
	}
	if f.Stage != "" && !contains(settings.Stages, f.Stage) {
		return f, BadRequest("stage", "unknown stage (one of "+strings.Join(settings.Stages, ", ")+")")
	}
	if f.Language != "" && !validLanguages[f.Language] {
		return f, BadRequest("language", "must be en or ar")
	}
	if f.Owner != "" && !validOwners[f.Owner] {
		return f, BadRequest("owner", "must be bot or human")
	}
	for _, p := range []struct {
		name string
		dst  **bool
	}{{"needs_human", &f.NeedsHuman}, {"escalated", &f.Escalated}, {"has_quote", &f.HasQuote}} {
		if v := q.Get(p.name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return f, BadRequest(p.name, "must be true or false")
			}
			*p.dst = &b
		}
	}
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := parseTimeParam(v)
			if err != nil {
				return f, BadRequest(p.name, "must be a date (2026-09-14) or an RFC 3339 time")
			}
			*p.dst = &t
		}
	}
	var err error
	if f.Limit, err = intParam(c, "limit", 50, 1, 200); err != nil {
		return f, err
	}
	if f.Offset, err = intParam(c, "offset", 0, 0, 1_000_000); err != nil {
		return f, err
	}
	return f, nil
}

func parseTimeParam(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", v)
}

func intParam(c echo.Context, name string, def, lo, hi int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, BadRequest(name, "must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) listConversations(c echo.Context) error {
	f, err := ParseConversationFilter(c)
	if err != nil {
		return err
	}
	items, total, err := s.Store.ListConversations(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []db.ConversationRow{}
	}
	return c.JSON(http.StatusOK, ConversationList{Items: items, Total: total, Limit: f.Limit, Offset: f.Offset})
}

// ConversationDetail is a conversation with its messages.
type ConversationDetail struct {
	db.Conversation
	Messages []db.Message `json:"messages"`
}

func (s *Server) getConversation(c echo.Context) error {
	ctx := c.Request().Context()
	conv, err := s.Store.Conversation(ctx, c.Param("id"))
	if errors.Is(err, db.ErrNotFound) {
		return Errf(http.StatusNotFound, "not_found", "no conversation with this id")
	}
	if err != nil {
		return err
	}
	msgs, err := s.Store.Messages(ctx, conv.ID, 0, 0)
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []db.Message{}
	}
	return c.JSON(http.StatusOK, ConversationDetail{Conversation: conv, Messages: msgs})
}

// PatchConversationRequest changes status and/or stage, through the workflow so its state
// and the database agree.
type PatchConversationRequest struct {
	Status string `json:"status"`
	Stage  string `json:"stage"`
}

func (s *Server) patchConversation(c echo.Context) error {
	var req PatchConversationRequest
	if err := bindStrict(c, &req); err != nil {
		return err
	}
	if req.Status == "" && req.Stage == "" {
		return BadRequest("status", "give status and/or stage")
	}
	if req.Status != "" && req.Status != "active" && req.Status != "closed" {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "status must be active or closed (use /escalate to escalate)",
			Fields: []settings.FieldError{{Field: "status", Message: "must be active or closed"}}}
	}
	if req.Stage != "" && !contains(settings.Stages, req.Stage) {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "unknown stage",
			Fields: []settings.FieldError{{Field: "stage", Message: "one of " + strings.Join(settings.Stages, ", ")}}}
	}
	return s.updateConversation(c, workflows.UpdateConversation, workflows.UpdateConversationRequest{Status: req.Status, Stage: req.Stage, By: actor(c)})
}

// HandBackRequest returns the chat to the bot.
type HandBackRequest struct {
	Note string `json:"note"`
	By   string `json:"by"`
}

func (s *Server) handBackConversation(c echo.Context) error {
	var req HandBackRequest
	if err := bindStrict(c, &req); err != nil {
		return err
	}
	by := req.By
	if by == "" {
		by = actor(c)
	}
	return s.updateConversation(c, workflows.UpdateHandBack, workflows.HandBackSignal{By: by, Note: req.Note, Via: "api"})
}

// EscalateRequestBody escalates a conversation to a manager.
type EscalateRequestBody struct {
	Reason string `json:"reason"`
	Kind   string `json:"kind"`
	By     string `json:"by"`
}

func (s *Server) escalateConversation(c echo.Context) error {
	var req EscalateRequestBody
	if err := bindStrict(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return BadRequest("reason", "is required")
	}
	by := req.By
	if by == "" {
		by = actor(c)
	}
	kind := req.Kind
	if kind == "" {
		kind = "other"
	}
	return s.updateConversation(c, workflows.UpdateEscalate, workflows.EscalateRequest{Reason: req.Reason, Kind: kind, By: by})
}

// updateConversation runs an update on the conversation's workflow (starting it if it is not
// running) and answers with the resulting state.
func (s *Server) updateConversation(c echo.Context, update string, arg any) error {
	id := c.Param("id")
	view, err := s.conversationUpdate(c.Request().Context(), id, update, arg)
	if err != nil {
		return err
	}
	s.Log.Info("conversation updated", "conversation_id", id, "update", update, "by", actor(c))
	return c.JSON(http.StatusOK, view)
}

// conversationUpdate runs update with arg on the conversation's workflow through
// UpdateWithStart (a conversation whose workflow ended is started again from the database)
// and returns the state after it. Errors are *Error: 404 unknown conversation, 502 Temporal
// unreachable, 422 the workflow rejected the update. The API and the console both use it.
func (s *Server) conversationUpdate(ctx context.Context, id, update string, arg any) (workflows.ConversationView, error) {
	var view workflows.ConversationView
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := s.Store.Conversation(ctx, id); errors.Is(err, db.ErrNotFound) {
		return view, Errf(http.StatusNotFound, "not_found", "no conversation with this id")
	} else if err != nil {
		return view, err
	}
	wid := workflows.ConversationWorkflowID(id)
	start := s.Temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: wid, TaskQueue: s.Config.TaskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary: "WhatsApp conversation " + id,
	}, workflows.ConversationWorkflowName, workflows.ConversationInput{ConversationID: id})
	h, err := s.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions:          client.UpdateWorkflowOptions{UpdateName: update, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err != nil {
		return view, Upstream("Temporal", err)
	}
	if err := h.Get(ctx, &view); err != nil {
		return view, &Error{Status: http.StatusUnprocessableEntity, Code: "rejected", Message: "the conversation rejected the change: " + err.Error(), Err: err}
	}
	return view, nil
}

func actor(c echo.Context) string {
	if a := c.Request().Header.Get("X-Actor"); a != "" {
		return a
	}
	return "api-key"
}
