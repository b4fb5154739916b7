package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/telegram"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/workflows"
)

// escalationAPI serves manager actions on escalations (API, Telegram buttons and
// commands), the notifications list and the follow-up records.
type escalationAPI struct {
	s  *Server
	tg *telegram.Client // nil when Telegram is not configured
}

// registerEscalations adds the escalation, notification and follow-up routes and the
// Telegram webhook (which authenticates with its own secret, not X-API-Key).
func (s *Server) registerEscalations() {
	h := &escalationAPI{s: s}
	s.escalations = h
	if s.Config.Telegram.Live() {
		h.tg = telegram.New(s.Config.Telegram.APIURL, s.Config.Telegram.BotToken.Reveal())
		h.tg.HTTP.Timeout = 5 * time.Second // the webhook answers Telegram quickly
		h.tg.MaxRetries = 1
	}
	s.Echo.POST("/api/v1/webhook/telegram", h.telegramWebhook)
	s.V1.GET("/escalations/", h.list)
	s.V1.GET("/escalations/:id", h.get)
	s.V1.POST("/escalations/:id/take", h.take)
	s.V1.POST("/escalations/:id/resolve", h.resolve)
	s.V1.GET("/notifications/", h.listNotifications)
	s.V1.POST("/notifications/:id/ack", h.ackNotification)
	s.V1.GET("/follow-ups/", h.listFollowUps)
	s.V1.GET("/follow-ups/:id", h.getFollowUp)
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, BadRequest("id", "must be a positive integer")
	}
	return id, nil
}

// listQuery reads limit, before and conversation_id, which every list here accepts.
func listQuery(c echo.Context) (limit int, before int64, conv string, err error) {
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, "", BadRequest("limit", "must be 1..500")
		}
	}
	if v := c.QueryParam("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return 0, 0, "", BadRequest("before", "must be a positive id")
		}
	}
	conv = c.QueryParam("conversation_id")
	if conv != "" && !uuidRe.MatchString(conv) {
		return 0, 0, "", BadRequest("conversation_id", "must be a UUID")
	}
	return limit, before, conv, nil
}

func oneOf(field, v string, allowed ...string) error {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return BadRequest(field, "must be one of "+strings.Join(allowed, ", "))
}

func (h *escalationAPI) list(c echo.Context) error {
	limit, before, conv, err := listQuery(c)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if err := oneOf("status", status, "pending", "in_progress", "resolved", "open"); err != nil {
		return err
	}
	rows, err := h.s.Store.ListEscalations(c.Request().Context(), db.EscalationFilter{Status: status, ConversationID: conv, Limit: limit, BeforeID: before})
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []db.Escalation{}
	}
	return c.JSON(http.StatusOK, map[string]any{"escalations": rows})
}

func (h *escalationAPI) row(c echo.Context) (db.Escalation, error) {
	id, err := pathID(c)
	if err != nil {
		return db.Escalation{}, err
	}
	e, err := h.s.Store.Escalation(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return e, Errf(http.StatusNotFound, "not_found", fmt.Sprintf("escalation %d does not exist", id))
	}
	return e, err
}

func workflowIDOf(e db.Escalation) string {
	if e.WorkflowID != "" {
		return e.WorkflowID
	}
	return workflows.EscalationWorkflowID(e.ConversationID, e.Episode)
}

// get returns the stored escalation and, while it runs, the workflow's live state.
func (h *escalationAPI) get(c echo.Context) error {
	e, err := h.row(c)
	if err != nil {
		return err
	}
	out := map[string]any{"escalation": e}
	if e.Status != workflows.EscalationResolved {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
		defer cancel()
		if v, err := h.s.Temporal.QueryWorkflow(ctx, workflowIDOf(e), "", workflows.QueryState); err == nil {
			var st workflows.EscalationState
			if v.Get(&st) == nil {
				out["workflow"] = st
			}
		}
	}
	return c.JSON(http.StatusOK, out)
}

type actionBody struct {
	By   string `json:"by"`
	Note string `json:"note"`
}

func (h *escalationAPI) take(c echo.Context) error { return h.act(c, workflows.UpdateEscalationTake) }
func (h *escalationAPI) resolve(c echo.Context) error {
	return h.act(c, workflows.UpdateEscalationResolve)
}

// act runs take/resolve as a Temporal update, so the answer is the escalation's new state.
func (h *escalationAPI) act(c echo.Context, update string) error {
	e, err := h.row(c)
	if err != nil {
		return err
	}
	var body actionBody
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return BadRequest("(body)", "could not read the request body")
	}
	if len(strings.TrimSpace(string(raw))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			return BadRequest("(body)", "must be a JSON object {\"by\": \"…\", \"note\": \"…\"}: "+err.Error())
		}
	}
	if body.By == "" {
		body.By = c.Request().Header.Get("X-Actor")
	}
	body.By, body.Note = strings.TrimSpace(body.By), strings.TrimSpace(body.Note)
	if body.By == "" {
		return BadRequest("by", "the manager's name is required (body field by or header X-Actor)")
	}
	if len(body.Note) > 4000 {
		return BadRequest("note", "must be at most 4000 characters")
	}
	st, err := h.runAction(c.Request().Context(), e, update, workflows.EscalationActionSignal{By: body.By, Note: body.Note, Via: "api"})
	var taken *alreadyTakenError
	if errors.As(err, &taken) {
		return c.JSON(http.StatusConflict, ErrorBody{Error: ErrorDetail{Code: "already_taken", Message: taken.Error(),
			RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}})
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"escalation": st})
}

// alreadyTakenError: another manager took the escalation first.
type alreadyTakenError struct {
	id int64
	by string
}

func (e *alreadyTakenError) Error() string {
	return fmt.Sprintf("escalation %d is already taken by %s", e.id, e.by)
}

// runAction runs take/resolve as a Temporal update on the escalation's workflow (the API's
// and the console's path), so the answer is the escalation's new state. Errors are *Error
// (409 already resolved or refused, 502/504 Temporal) or *alreadyTakenError.
func (h *escalationAPI) runAction(ctx context.Context, e db.Escalation, update string, a workflows.EscalationActionSignal) (workflows.EscalationState, error) {
	var st workflows.EscalationState
	if e.Status == workflows.EscalationResolved {
		return st, Errf(http.StatusConflict, "conflict", fmt.Sprintf("escalation %d is already resolved by %s", e.ID, e.ResolvedBy))
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	handle, err := h.s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowIDOf(e), UpdateName: update, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{a},
	})
	if err == nil {
		err = handle.Get(ctx, &st)
	}
	if err != nil {
		return st, h.temporalError(e, err)
	}
	if update == workflows.UpdateEscalationTake && st.TakenBy != a.By {
		return st, &alreadyTakenError{id: e.ID, by: st.TakenBy}
	}
	h.s.Log.Info("escalation action", "escalation_id", e.ID, "action", update, "by", a.By, "via", a.Via, "status", st.Status)
	return st, nil
}

func (h *escalationAPI) temporalError(e db.Escalation, err error) error {
	var nf *serviceerror.NotFound
	var app *temporal.ApplicationError
	switch {
	case errors.As(err, &nf):
		return Errf(http.StatusConflict, "conflict", fmt.Sprintf("escalation %d has no running workflow (status %s)", e.ID, e.Status))
	case errors.As(err, &app):
		// The workflow's validator said no (e.g. already resolved, or no name).
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: app.Message(), Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusGatewayTimeout, Code: "timeout", Message: "the escalation workflow did not answer in time; retry", Err: err}
	}
	return Upstream("temporal", err)
}

// telegramWebhook receives Telegram updates: Take/Resolve button presses and /take,
// /resolve commands from the managers' chat. It answers 200 quickly for every update it
// accepts or chooses to ignore (Telegram redelivers otherwise).
func (h *escalationAPI) telegramWebhook(c echo.Context) error {
	cfg := h.s.Config.Telegram
	want := cfg.WebhookSecret.Reveal()
	got := c.Request().Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if want == "" && h.s.Config.Production() {
		return Errf(http.StatusUnauthorized, "unauthorized", "TELEGRAM_WEBHOOK_SECRET is not configured")
	}
	if want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		h.count("rejected")
		return Errf(http.StatusUnauthorized, "unauthorized", "missing or wrong X-Telegram-Bot-Api-Secret-Token")
	}
	var u telegram.Update
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 1<<20)).Decode(&u); err != nil {
		h.count("invalid")
		h.s.Log.Warn("telegram webhook: undecodable update", "err", err)
		return c.JSON(http.StatusOK, map[string]bool{"ok": true})
	}
	ctx := c.Request().Context()
	switch {
	case u.CallbackQuery != nil:
		h.onButton(ctx, u.CallbackQuery)
	case u.Message != nil && strings.HasPrefix(strings.TrimSpace(u.Message.Text), "/"):
		h.onCommand(ctx, u.Message)
	default:
		h.count("ignored")
	}
	return c.JSON(http.StatusOK, map[string]bool{"ok": true})
}

// fromManagersChat keeps strangers who found the bot from acting on escalations.
func (h *escalationAPI) fromManagersChat(chatID int64) bool {
	want := h.s.Config.Telegram.ChatID
	return want == "" || strconv.FormatInt(chatID, 10) == want
}

func (h *escalationAPI) onButton(ctx context.Context, q *telegram.CallbackQuery) {
	answer := func(text string) {
		if h.tg == nil || q.ID == "" {
			return
		}
		if err := h.tg.AnswerCallbackQuery(ctx, q.ID, text); err != nil {
			h.s.Log.Warn("telegram answerCallbackQuery failed", "err", err)
		}
	}
	if q.Message == nil || !h.fromManagersChat(q.Message.Chat.ID) {
		h.count("ignored")
		answer("Not allowed here.")
		return
	}
	action, id, ok := activities.ParseCallbackData(q.Data)
	if !ok {
		h.count("ignored")
		answer("Unknown action.")
		return
	}
	answer(h.signal(ctx, id, action, workflows.EscalationActionSignal{By: q.From.Name(), Via: "telegram"}))
}

var commandRe = regexp.MustCompile(`^/(take|resolve)(?:@\w+)?\s+#?(\d+)\s*(?s:(.*))$`)

func (h *escalationAPI) onCommand(ctx context.Context, m *telegram.Message) {
	if !h.fromManagersChat(m.Chat.ID) || m.From == nil {
		h.count("ignored")
		return
	}
	sm := commandRe.FindStringSubmatch(strings.TrimSpace(m.Text))
	if sm == nil {
		h.count("ignored")
		return
	}
	id, _ := strconv.ParseInt(sm[2], 10, 64)
	msg := h.signal(ctx, id, sm[1], workflows.EscalationActionSignal{By: m.From.Name(), Note: strings.TrimSpace(sm[3]), Via: "telegram"})
	if h.tg != nil && !strings.HasSuffix(msg, "…") {
		// Only problems are answered in the chat: success is confirmed by the workflow's alert.
		if _, err := h.tg.SendMessage(ctx, telegram.SendMessageRequest{ChatID: strconv.FormatInt(m.Chat.ID, 10), Text: msg}); err != nil {
			h.s.Log.Warn("telegram reply failed", "err", err)
		}
	}
}

// signal checks the escalation's state and signals its workflow; it returns the text to
// show the manager. A text ending in "…" means the action was sent.
func (h *escalationAPI) signal(ctx context.Context, id int64, action string, a workflows.EscalationActionSignal) string {
	e, err := h.s.Store.Escalation(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		h.count("ignored")
		return fmt.Sprintf("Escalation #%d does not exist.", id)
	}
	if err != nil {
		h.count("failed")
		h.s.Log.Error("telegram webhook: read escalation", "escalation_id", id, "err", err)
		return "Something went wrong; try again or use the console."
	}
	switch {
	case e.Status == workflows.EscalationResolved:
		h.count("ignored")
		return fmt.Sprintf("Escalation #%d is already resolved by %s.", id, e.ResolvedBy)
	case action == activities.EscalationTake && e.Status == workflows.EscalationInProgress:
		h.count("ignored")
		return fmt.Sprintf("Escalation #%d is already taken by %s.", id, e.TakenBy)
	}
	name := workflows.SignalEscalationTake
	if action == activities.EscalationResolve {
		name = workflows.SignalEscalationResolve
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := h.s.Temporal.SignalWorkflow(sctx, workflowIDOf(e), "", name, a); err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			h.count("ignored")
			return fmt.Sprintf("Escalation #%d is not running any more.", id)
		}
		h.count("failed")
		h.s.Log.Error("telegram webhook: signal escalation", "escalation_id", id, "err", err)
		return "Could not reach the escalation; try again or use the console."
	}
	h.count("accepted")
	h.s.Log.Info("escalation action", "escalation_id", id, "action", action, "by", a.By, "via", "telegram")
	if action == activities.EscalationTake {
		return fmt.Sprintf("Taking escalation #%d…", id)
	}
	return fmt.Sprintf("Resolving escalation #%d…", id)
}

func (h *escalationAPI) count(result string) {
	if h.s.Metrics != nil {
		h.s.Metrics.WebhookMessages.WithLabelValues("telegram", result).Inc()
	}
}

func (h *escalationAPI) listNotifications(c echo.Context) error {
	limit, before, conv, err := listQuery(c)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if err := oneOf("status", status, "pending", "sent", "failed"); err != nil {
		return err
	}
	rows, err := h.s.Store.ListNotifications(c.Request().Context(), db.NotificationFilter{Status: status, ConversationID: conv,
		Unacknowledged: c.QueryParam("unacknowledged") == "true", Limit: limit, BeforeID: before})
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []db.Notification{}
	}
	return c.JSON(http.StatusOK, map[string]any{"notifications": rows})
}

func (h *escalationAPI) ackNotification(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	by := c.Request().Header.Get("X-Actor")
	if by == "" {
		by = "api-key"
	}
	n, err := h.s.Store.AcknowledgeNotification(c.Request().Context(), id, by)
	if errors.Is(err, db.ErrNotFound) {
		return Errf(http.StatusNotFound, "not_found", fmt.Sprintf("notification %d does not exist", id))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"notification": n})
}

func (h *escalationAPI) listFollowUps(c echo.Context) error {
	limit, before, conv, err := listQuery(c)
	if err != nil {
		return err
	}
	kind, state := c.QueryParam("kind"), c.QueryParam("state")
	if err := oneOf("kind", kind, "quote", "payment", "feedback", "inactivity"); err != nil {
		return err
	}
	if err := oneOf("state", state, "active", "paused", "finished"); err != nil {
		return err
	}
	rows, err := h.s.Store.ListFollowUps(c.Request().Context(), db.FollowUpFilter{ConversationID: conv, Kind: kind, State: state, Limit: limit, BeforeID: before})
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []db.FollowUp{}
	}
	return c.JSON(http.StatusOK, map[string]any{"follow_ups": rows})
}

func (h *escalationAPI) getFollowUp(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	f, err := h.s.Store.FollowUpByID(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return Errf(http.StatusNotFound, "not_found", fmt.Sprintf("follow-up %d does not exist", id))
	}
	if err != nil {
		return err
	}
	steps, err := h.s.Store.FollowUpSteps(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if steps == nil {
		steps = []db.FollowUpStep{}
	}
	return c.JSON(http.StatusOK, map[string]any{"follow_up": f, "steps": steps})
}
