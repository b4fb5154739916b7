package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/internal/settings"
)

// ConversationInput starts a conversation workflow; State is set on continue-as-new.
type ConversationInput struct {
	ConversationID string             `json:"conversation_id"`
	State          *ConversationState `json:"state,omitempty"`
}

// ConversationState is everything a conversation carries across turns and runs. It is small
// on purpose: the transcript stays in PostgreSQL.
type ConversationState struct {
	ConversationID   string                  `json:"conversation_id"`
	Stage            string                  `json:"stage"`
	Language         string                  `json:"language"`
	Status           string                  `json:"status"` // active | escalated | closed
	Owner            string                  `json:"owner"`  // bot | human
	NeedsHuman       bool                    `json:"needs_human"`
	NeedsHumanReason string                  `json:"needs_human_reason,omitempty"`
	Facts            activities.Facts        `json:"facts"`
	Settings         activities.TurnSettings `json:"settings"`
	// Pending are customer messages not answered yet (the next turn's batch).
	Pending      []CustomerMessageSignal `json:"pending,omitempty"`
	PendingSince time.Time               `json:"pending_since"`
	LastArrival  time.Time               `json:"last_arrival"`
	// Seen is a bounded set of provider message ids, a second line of defence against
	// duplicate deliveries (the first is the inbound ledger).
	Seen           []string  `json:"seen,omitempty"`
	TurnSeq        int       `json:"turn_seq"`
	LastCustomerAt time.Time `json:"last_customer_at"`
	ApologySentAt  time.Time `json:"apology_sent_at"`
	// Escalation is the running escalation child's workflow id ("" when none).
	EscalationEpisode int      `json:"escalation_episode"`
	Escalation        string   `json:"escalation,omitempty"`
	FollowUps         []string `json:"follow_ups,omitempty"`
	// FailedTurns counts consecutive turns the bot could not answer properly (for the
	// "bot failed twice" trigger).
	FailedTurns int `json:"failed_turns,omitempty"`
	// Customer is who the customer is in the CRM, identified on the first turn (quotation.go).
	Customer *activities.CustomerIdentity `json:"customer,omitempty"`
	// Quote is the chat's current quotation version; QuoteVersion counts the versions.
	Quote        *QuoteState `json:"quote,omitempty"`
	QuoteVersion int         `json:"quote_version,omitempty"`
}

// ConversationView is what the state query returns.
type ConversationView struct {
	ConversationState
	TurnRunning      bool      `json:"turn_running"`
	DebounceDeadline time.Time `json:"debounce_deadline,omitempty"`
	HistoryLength    int       `json:"history_length"`
}

// UpdateConversationRequest changes status or stage from the API/console.
type UpdateConversationRequest struct {
	Status string `json:"status,omitempty"`
	Stage  string `json:"stage,omitempty"`
	By     string `json:"by"`
}

// EscalateRequest escalates from the API/console.
type EscalateRequest struct {
	Reason string `json:"reason"`
	Kind   string `json:"kind"`
	By     string `json:"by"`
	// Via is where the request came from (api, console); it becomes the escalation's
	// triggered_by. Empty means api.
	Via string `json:"via,omitempty"`
}

const maxSeen = 200

// Change ids for workflow.GetVersion: every change to the commands a running conversation
// issues gets one, so histories recorded before it still replay (TestReplayCommittedHistories).
const (
	changeIdentifyCustomer = "identify-customer"
)

var acts *activities.Conversation
var msgActs *activities.Messaging

// Conversation is the long-running workflow of one WhatsApp chat: it receives messages as
// signals, merges bursts with a debounce timer, runs the agent turn by turn, drives the
// sales stage, and hands the chat to humans and back.
func Conversation(ctx workflow.Context, in ConversationInput) error {
	w := &conversation{}
	if in.State != nil {
		w.st = *in.State
	} else {
		var snap activities.ConversationSnapshot
		err := workflow.ExecuteActivity(opts(ctx, 30*time.Second, 10, "load conversation"), acts.LoadConversation, in.ConversationID).Get(ctx, &snap)
		if err != nil {
			return fmt.Errorf("load conversation: %w", err)
		}
		w.st = ConversationState{ConversationID: snap.ConversationID, Stage: snap.Stage, Language: snap.Language,
			Status: snap.Status, Owner: snap.Owner, NeedsHuman: snap.NeedsHuman, Facts: snap.Facts, Settings: snap.Settings,
			EscalationEpisode: snap.EscalationEpisode}
		if snap.OpenEscalation {
			w.st.Escalation = EscalationWorkflowID(snap.ConversationID, snap.EscalationEpisode)
		}
	}
	if err := w.registerHandlers(ctx); err != nil {
		return err
	}
	w.publish(ctx)
	return w.run(ctx)
}

type conversation struct {
	st ConversationState

	turnRunning bool
	turnDone    workflow.Future
	turnCancel  workflow.CancelFunc
	turnID      int64

	timer         workflow.Future
	timerCancel   workflow.CancelFunc
	timerDeadline time.Time

	// inflightSignals counts signals to children not yet acknowledged by the server; a run
	// must not continue as new before they are, or they are lost with it.
	inflightSignals int
}

func (w *conversation) run(ctx workflow.Context) error {
	customer := workflow.GetSignalChannel(ctx, SignalCustomerMessage)
	manager := workflow.GetSignalChannel(ctx, SignalManagerMessage)
	handBack := workflow.GetSignalChannel(ctx, SignalHandBack)
	for {
		// Arm the debounce before waiting: a run that continued as new may carry pending messages.
		w.armTimer(ctx)
		if w.shouldContinueAsNew(ctx) {
			return w.continueAsNew(ctx, customer, manager, handBack)
		}
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(customer, func(c workflow.ReceiveChannel, _ bool) {
			var s CustomerMessageSignal
			c.Receive(ctx, &s)
			w.onCustomer(ctx, s)
		})
		sel.AddReceive(manager, func(c workflow.ReceiveChannel, _ bool) {
			var s ManagerMessageSignal
			c.Receive(ctx, &s)
			w.onManager(ctx, s)
		})
		sel.AddReceive(handBack, func(c workflow.ReceiveChannel, _ bool) {
			var s HandBackSignal
			c.Receive(ctx, &s)
			w.onHandBack(ctx, s)
		})
		if w.turnDone != nil {
			sel.AddFuture(w.turnDone, func(f workflow.Future) { w.onTurnDone(ctx, f) })
		}
		if w.timer != nil {
			sel.AddFuture(w.timer, func(f workflow.Future) {
				w.timer = nil
				if f.Get(ctx, nil) == nil {
					w.startTurn(ctx)
				}
			})
		}
		sel.Select(ctx)
	}
}

// botMayReply: the bot speaks only when it owns the chat and no escalation is open.
func (w *conversation) botMayReply() bool {
	return w.st.Owner == "bot" && w.st.Status != "escalated"
}

func (w *conversation) seen(providerID string) bool {
	if providerID == "" {
		return false
	}
	for _, id := range w.st.Seen {
		if id == providerID {
			return true
		}
	}
	w.st.Seen = append(w.st.Seen, providerID)
	if len(w.st.Seen) > maxSeen {
		w.st.Seen = w.st.Seen[len(w.st.Seen)-maxSeen:]
	}
	return false
}

func (w *conversation) onCustomer(ctx workflow.Context, s CustomerMessageSignal) {
	if w.seen(s.ProviderID) {
		return
	}
	now := workflow.Now(ctx)
	w.st.LastCustomerAt = now
	if w.st.Status == "closed" {
		w.st.Status = "active"
	}
	w.notifyChildren(ctx, CustomerActivitySignal{MessageID: s.MessageID, At: now})
	if !w.botMayReply() {
		// A human (or an open escalation) owns the chat: the message is stored and shown to
		// them; the bot does not queue it.
		w.publish(ctx)
		return
	}
	if len(w.st.Pending) == 0 {
		w.st.PendingSince = now
	}
	w.st.LastArrival = now
	w.st.Pending = append(w.st.Pending, s)
	w.publish(ctx)
}

func (w *conversation) onManager(ctx workflow.Context, s ManagerMessageSignal) {
	if w.seen(s.ProviderID) {
		return
	}
	w.takeOver(ctx, s.AuthorName, s.Via)
}

// takeOver makes the chat human-owned: the running turn is cancelled (its send re-checks
// ownership in the database anyway), pending messages are left to the human.
func (w *conversation) takeOver(ctx workflow.Context, by, via string) {
	w.st.Owner = "human"
	if w.turnCancel != nil {
		w.turnCancel()
	}
	w.cancelTimer()
	w.st.Pending = nil
	if w.st.Escalation != "" {
		w.signalChild(ctx, w.st.Escalation, SignalEscalationTake, EscalationActionSignal{By: by, Via: via})
	}
	w.persist(ctx)
	w.publish(ctx)
}

func (w *conversation) onHandBack(ctx workflow.Context, s HandBackSignal) {
	if w.st.Escalation != "" && s.EscalationEpisode == 0 {
		// Handing back (API, console) while an escalation is open resolves it; a hand-back
		// that comes from the escalation itself carries its episode.
		w.signalChild(ctx, w.st.Escalation, SignalEscalationResolve, EscalationActionSignal{By: s.By, Note: s.Note, Via: s.Via})
	}
	if s.EscalationEpisode == 0 || s.EscalationEpisode == w.st.EscalationEpisode {
		w.st.Escalation = ""
	}
	w.st.Owner = "bot"
	if w.st.Status == "escalated" {
		w.st.Status = "active"
	}
	w.st.NeedsHuman, w.st.NeedsHumanReason = false, ""
	if strings.TrimSpace(s.Note) != "" {
		w.st.Facts.HandBackNote = strings.TrimSpace(s.Note)
	}
	w.persist(ctx)
	w.publish(ctx)
}

func (w *conversation) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ConversationView, error) {
		return ConversationView{ConversationState: w.st, TurnRunning: w.turnRunning, DebounceDeadline: w.timerDeadline,
			HistoryLength: workflow.GetInfo(ctx).GetCurrentHistoryLength()}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateConversation,
		func(ctx workflow.Context, r UpdateConversationRequest) (ConversationView, error) {
			if r.Stage != "" {
				w.st.Stage = r.Stage
			}
			if r.Status != "" && r.Status != w.st.Status {
				switch r.Status {
				case "closed":
					w.cancelTimer()
					w.st.Pending = nil
				case "escalated":
					return ConversationView{}, errors.New("use the escalate action to escalate")
				}
				w.st.Status = r.Status
			}
			w.persist(ctx)
			w.publish(ctx)
			return ConversationView{ConversationState: w.st, TurnRunning: w.turnRunning}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(r UpdateConversationRequest) error {
			if r.Stage == "" && r.Status == "" {
				return errors.New("nothing to change: give status and/or stage")
			}
			if r.Stage != "" && !validStage(r.Stage) {
				return fmt.Errorf("unknown stage %q (one of %s)", r.Stage, strings.Join(settings.Stages, ", "))
			}
			if r.Status != "" && r.Status != "active" && r.Status != "closed" {
				return fmt.Errorf("status must be active or closed, got %q", r.Status)
			}
			return nil
		}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, UpdateHandBack, func(ctx workflow.Context, s HandBackSignal) (ConversationView, error) {
		w.onHandBack(ctx, s)
		return ConversationView{ConversationState: w.st}, nil
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateEscalate, func(ctx workflow.Context, r EscalateRequest) (ConversationView, error) {
		via := r.Via
		if via == "" {
			via = "api"
		}
		w.escalate(ctx, r.Kind, r.Reason, via, 0, true)
		return ConversationView{ConversationState: w.st}, nil
	}, workflow.UpdateHandlerOptions{Validator: func(r EscalateRequest) error {
		if strings.TrimSpace(r.Reason) == "" {
			return errors.New("reason is required")
		}
		return nil
	}})
}

// stageBefore reports whether stage a comes before stage b in the sales process.
func stageBefore(a, b string) bool {
	ia, ib := -1, -1
	for i, st := range settings.Stages {
		if st == a {
			ia = i
		}
		if st == b {
			ib = i
		}
	}
	return ia >= 0 && ia < ib
}

func validStage(s string) bool {
	for _, st := range settings.Stages {
		if st == s {
			return true
		}
	}
	return false
}

// armTimer keeps the debounce timer at min(last arrival + window, first arrival + cap).
func (w *conversation) armTimer(ctx workflow.Context) {
	if w.turnRunning || len(w.st.Pending) == 0 || !w.botMayReply() {
		w.cancelTimer()
		return
	}
	window, capD := w.st.Settings.DebounceWindow, w.st.Settings.DebounceCap
	if window <= 0 {
		window = 4 * time.Second
	}
	if capD < window {
		capD = window
	}
	deadline := w.st.LastArrival.Add(window)
	if c := w.st.PendingSince.Add(capD); c.Before(deadline) {
		deadline = c
	}
	if w.timer != nil && deadline.Equal(w.timerDeadline) {
		return
	}
	w.cancelTimer()
	d := deadline.Sub(workflow.Now(ctx))
	if d <= 0 {
		w.startTurn(ctx)
		return
	}
	tctx, cancel := workflow.WithCancel(ctx)
	w.timer = workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: "debounce"})
	w.timerCancel, w.timerDeadline = cancel, deadline
}

func (w *conversation) cancelTimer() {
	if w.timerCancel != nil {
		w.timerCancel()
	}
	w.timer, w.timerCancel, w.timerDeadline = nil, nil, time.Time{}
}

func (w *conversation) startTurn(ctx workflow.Context) {
	w.cancelTimer()
	batch := w.st.Pending
	w.st.Pending, w.st.PendingSince = nil, time.Time{}
	w.st.TurnSeq++
	seq := w.st.TurnSeq
	tctx, cancel := workflow.WithCancel(ctx)
	f, set := workflow.NewFuture(ctx)
	w.turnRunning, w.turnDone, w.turnCancel, w.turnID = true, f, cancel, 0
	closedAt := workflow.Now(ctx)
	workflow.Go(tctx, func(gctx workflow.Context) {
		set.Set(nil, w.runTurn(gctx, seq, batch, closedAt))
	})
	w.publish(ctx)
}

func (w *conversation) onTurnDone(ctx workflow.Context, f workflow.Future) {
	err := f.Get(ctx, nil)
	turnID := w.turnID
	w.turnRunning, w.turnDone, w.turnCancel, w.turnID = false, nil, nil, 0
	switch {
	case err == nil:
	case temporal.IsCanceledError(err):
		// A human took over mid-turn: close the turn without a reply.
		if turnID > 0 {
			w.saveState(ctx, activities.SaveStateInput{TurnID: turnID, TurnStatus: "skipped", TurnNote: "a human took over during the turn"})
		}
	default:
		workflow.GetLogger(ctx).Error("turn failed", "conversation_id", w.st.ConversationID, "error", err)
		w.apologise(ctx, turnID, "the turn failed: "+err.Error())
	}
	w.publish(ctx)
}

// runTurn answers one batch: begin (language, triggers, settings), agent rounds with tools,
// the guard, the send, then facts and summary off the hot path.
func (w *conversation) runTurn(ctx workflow.Context, seq int, batch []CustomerMessageSignal, closedAt time.Time) error {
	ids := make([]int64, len(batch))
	for i, m := range batch {
		ids[i] = m.MessageID
	}
	var begin activities.BeginTurnResult
	// Up to two minutes: voice notes are downloaded and transcribed here.
	err := workflow.ExecuteActivity(opts(ctx, 150*time.Second, 10, fmt.Sprintf("begin turn %d (%d message(s))", seq, len(batch))),
		acts.BeginTurn, activities.BeginTurnInput{ConversationID: w.st.ConversationID, Seq: seq, MessageIDs: ids,
			Stage: w.st.Stage, DebounceClosedAt: closedAt, FailedTurns: w.st.FailedTurns}).Get(ctx, &begin)
	if err != nil {
		return err
	}
	w.turnID = begin.TurnID
	w.st.Settings = begin.Settings
	if begin.Language != "" && begin.Language != w.st.Language {
		w.st.Language = begin.Language
	}
	switch {
	case begin.OptOut:
		w.saveState(ctx, activities.SaveStateInput{TurnID: begin.TurnID, TurnStatus: "skipped", TurnNote: "customer opted out of proactive messages"})
		return nil
	case begin.AutoReply:
		w.saveState(ctx, activities.SaveStateInput{TurnID: begin.TurnID, TurnStatus: "skipped", TurnNote: "auto-reply: not answered"})
		return nil
	case len(begin.Triggers) > 0:
		t := begin.Triggers[0]
		w.escalate(ctx, t.Kind, t.Reason, "rule", begin.TurnID, true)
		return nil
	case begin.VoiceOnly:
		return w.sendFixed(ctx, begin.TurnID, seq, "voice_fallback", "replied")
	case !begin.LLMConfigured:
		w.apologise(ctx, begin.TurnID, "LLM is not configured")
		return nil
	}
	// Once per chat: new vs returning, segment, recent deals. Versioned: conversations that
	// were running before customer identity existed replay without it.
	if w.st.Customer == nil && workflow.GetVersion(ctx, changeIdentifyCustomer, workflow.DefaultVersion, 1) == 1 {
		w.identifyCustomer(ctx)
	}

	var toolResults []activities.ToolResult
	var repair []string
	searches, repairs := 0, 0
	var final activities.AgentStepResult
	for round := 0; ; round++ {
		noTools := round >= begin.Settings.MaxToolRounds
		var step activities.AgentStepResult
		err := workflow.ExecuteActivity(llmOpts(ctx, begin.Settings.ReplyTimeout, fmt.Sprintf("LLM round %d of turn %d", round, seq)),
			acts.AgentStep, activities.AgentStepInput{ConversationID: w.st.ConversationID, TurnID: begin.TurnID, Round: round,
				Stage: w.st.Stage, Language: w.lang(), Facts: w.st.Facts, MessageIDs: ids, ToolResults: toolResults,
				NoTools: noTools, Repair: repair}).Get(ctx, &step)
		toolResults, repair = nil, nil
		if err != nil {
			if temporal.IsCanceledError(err) {
				return err
			}
			w.apologise(ctx, begin.TurnID, "LLM unavailable: "+rootMessage(err))
			return nil
		}
		if !step.Final {
			out := w.runTools(ctx, begin.TurnID, round, step.ToolCalls, searches)
			toolResults, searches = out.results, out.searches
			if ctx.Err() != nil {
				return temporal.NewCanceledError()
			}
			if out.esc != nil {
				w.escalate(ctx, out.esc.Kind, out.esc.Reason, "bot", begin.TurnID, true)
				return nil
			}
			if out.crmAuth != "" {
				w.crmUnavailable(ctx, begin.TurnID, seq, out.crmAuth)
				return nil
			}
			if out.quote != nil {
				content, done, err := w.createQuotation(ctx, begin.TurnID, seq, *out.quote)
				if err != nil || done {
					if err == nil && w.botMayReply() {
						w.learn(ctx, begin)
					}
					return err
				}
				toolResults = append(toolResults, activities.ToolResult{Round: round, CallID: out.quote.ID, Name: out.quote.Name, Content: content})
			}
			continue
		}
		if len(step.Problems) > 0 {
			if repairs < 1 {
				repairs++
				repair = step.Problems
				continue
			}
			// Twice unverifiable: never send it; a human confirms instead.
			w.st.FailedTurns++
			w.st.NeedsHuman, w.st.NeedsHumanReason = true, "reply failed the checks: "+strings.Join(step.Problems, "; ")
			return w.sendFixed(ctx, begin.TurnID, seq, "guard_fallback", "escalated")
		}
		final = step
		break
	}
	if !w.botMayReply() {
		w.saveState(ctx, activities.SaveStateInput{TurnID: begin.TurnID, TurnStatus: "skipped", TurnNote: "a human took over before the send"})
		return nil
	}
	var sent activities.SendResult
	err = workflow.ExecuteActivity(sendOpts(ctx, fmt.Sprintf("send reply of turn %d", seq)), msgActs.SendMessage, activities.SendInput{
		ConversationID: w.st.ConversationID, IdempotencyKey: fmt.Sprintf("reply:%s:%d", w.st.ConversationID, seq),
		Purpose: "reply", DraftStepID: final.StepID, RespectOwner: true, Language: w.lang(), TurnID: begin.TurnID,
	}).Get(ctx, &sent)
	if err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		w.st.NeedsHuman, w.st.NeedsHumanReason = true, "the reply could not be delivered: "+rootMessage(err)
		w.saveState(ctx, activities.SaveStateInput{TurnID: begin.TurnID, TurnStatus: "failed", TurnNote: w.st.NeedsHumanReason})
		return nil
	}
	status := "replied"
	if sent.Status != "sent" {
		status = "skipped"
	} else {
		w.st.FailedTurns = 0
	}
	w.saveState(ctx, activities.SaveStateInput{TurnID: begin.TurnID, TurnStatus: status, TurnNote: sent.Reason, ReplyMessageID: sent.MessageID})
	if status == "replied" && begin.Settings.InactivityFollowUps && stageBefore(w.st.Stage, "quoting") && len(batch) > 0 {
		// A customer who goes quiet before a quote gets the 1/3/7-day follow-ups; their next
		// message cancels the chain.
		last := batch[len(batch)-1]
		w.startFollowUp(ctx, "inactivity", strconv.FormatInt(last.MessageID, 10), last.At)
	}

	w.learn(ctx, begin)
	return nil
}

// learn runs off the hot path, after the reply is out: facts and the summary, in parallel.
func (w *conversation) learn(ctx workflow.Context, begin activities.BeginTurnResult) {
	work := activities.FollowUpWorkInput{ConversationID: w.st.ConversationID, TurnID: begin.TurnID}
	ff := workflow.ExecuteActivity(opts(ctx, begin.Settings.HelperTimeout+15*time.Second, 3, "extract facts"), acts.ExtractFacts, work)
	fs := workflow.ExecuteActivity(opts(ctx, begin.Settings.HelperTimeout+15*time.Second, 3, "refresh summary"), acts.RefreshSummary, work)
	var facts activities.Facts
	if err := ff.Get(ctx, &facts); err == nil {
		before, _ := json.Marshal(w.st.Facts)
		w.st.Facts.Merge(facts)
		if after, _ := json.Marshal(w.st.Facts); string(after) != string(before) {
			w.persist(ctx)
		}
	}
	_ = fs.Get(ctx, nil)
}

// roundOutcome is what one round of tool calls produced.
type roundOutcome struct {
	results  []activities.ToolResult
	esc      *EscalateRequest
	searches int
	// quote is a create_quotation call: it runs after the round's other tools (their facts
	// are merged first) and may end the turn.
	quote *activities.ToolCallRef
	// crmAuth is set when a tool failed because Zoho rejected our credentials.
	crmAuth string
}

// runTools carries out one round of tool calls: workflow tools change the state here;
// the others run as activities in parallel, each with its own summary in the UI.
func (w *conversation) runTools(ctx workflow.Context, turnID int64, round int, calls []activities.ToolCallRef, searches int) roundOutcome {
	results := make([]activities.ToolResult, 0, len(calls))
	var esc *EscalateRequest
	var quoteCall *activities.ToolCallRef
	crmAuth := ""
	type pending struct {
		call activities.ToolCallRef
		f    workflow.Future
	}
	var futures []pending
	reply := func(c activities.ToolCallRef, content string) {
		results = append(results, activities.ToolResult{Round: round, CallID: c.ID, Name: c.Name, Content: content})
	}
	for _, c := range calls {
		switch c.Name {
		case activities.ToolAdvanceStage:
			var a struct {
				Stage string `json:"stage"`
			}
			_ = json.Unmarshal(c.Args, &a)
			if !validStage(a.Stage) {
				reply(c, fmt.Sprintf("unknown stage %q; stages: %s", a.Stage, strings.Join(settings.Stages, ", ")))
				continue
			}
			w.st.Stage = a.Stage
			reply(c, "the stage is now "+a.Stage)
		case activities.ToolSetLanguage:
			var a struct {
				Language string `json:"language"`
			}
			_ = json.Unmarshal(c.Args, &a)
			if a.Language != "en" && a.Language != "ar" {
				reply(c, "language must be en or ar")
				continue
			}
			w.st.Language = a.Language
			reply(c, "reply language is now "+a.Language)
		case activities.ToolRecordRequirements:
			var f activities.Facts
			if err := json.Unmarshal(c.Args, &f); err != nil {
				reply(c, "invalid arguments: "+err.Error())
				continue
			}
			f.HandBackNote, f.CustomerContext = "", ""
			w.st.Facts.Merge(f)
			reply(c, "saved")
		case activities.ToolEscalate:
			var a EscalateRequest
			_ = json.Unmarshal(c.Args, &a)
			if a.Reason == "" {
				a.Reason = "the assistant asked for a manager"
			}
			esc = &a
			reply(c, "a manager has been asked to take over; do not write a reply")
		case activities.ToolCreateQuotation:
			if quoteCall != nil {
				reply(c, "one create_quotation call per round")
				continue
			}
			qc := c
			quoteCall = &qc
		case activities.ToolSearchProducts:
			if searches >= w.st.Settings.MaxSearches {
				reply(c, "search limit for this turn reached: answer with the products you already have")
				continue
			}
			searches++
			fallthrough
		default:
			f := workflow.ExecuteActivity(opts(ctx, 30*time.Second, 3, c.Name+": "+argSummary(c.Args)), acts.RunTool,
				activities.RunToolInput{ConversationID: w.st.ConversationID, TurnID: turnID, Round: round, CallID: c.ID,
					Name: c.Name, Args: c.Args, Language: w.lang()})
			futures = append(futures, pending{call: c, f: f})
		}
	}
	for _, p := range futures {
		var r activities.RunToolResult
		if err := p.f.Get(ctx, &r); err != nil {
			// The model gets the failure and can answer without the tool.
			reply(p.call, `{"error":"the tool failed: `+strings.ReplaceAll(rootMessage(err), `"`, `'`)+`"}`)
			if activities.IsCRMAuthFailure(err) {
				crmAuth = rootMessage(err)
			}
		}
	}
	return roundOutcome{results: results, esc: esc, searches: searches, quote: quoteCall, crmAuth: crmAuth}
}

// escalate opens an escalation episode: the escalation child (which outlives this run's
// continue-as-new), one acknowledgement to the customer, and the bot falls silent.
func (w *conversation) escalate(ctx workflow.Context, kind, reason, by string, turnID int64, ack bool) {
	if w.st.Escalation != "" {
		if turnID > 0 {
			w.saveState(ctx, activities.SaveStateInput{TurnID: turnID, TurnStatus: "escalated", TurnNote: "already escalated"})
		}
		return
	}
	if kind == "" {
		kind = "other"
	}
	w.st.EscalationEpisode++
	ep := w.st.EscalationEpisode
	id := EscalationWorkflowID(w.st.ConversationID, ep)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        id,
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		StaticSummary:     "Escalation: " + reason,
	})
	child := workflow.ExecuteChildWorkflow(cctx, EscalationWorkflowName, EscalationInput{
		ConversationID: w.st.ConversationID, Episode: ep, Reason: reason, Kind: kind, TriggeredBy: by})
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("could not start the escalation", "conversation_id", w.st.ConversationID, "error", err)
	}
	w.st.Escalation = id
	w.st.Status = "escalated"
	w.st.NeedsHuman, w.st.NeedsHumanReason = true, reason
	w.cancelTimer()
	w.st.Pending = nil
	if ack {
		var sent activities.SendResult
		_ = workflow.ExecuteActivity(sendOpts(ctx, "send escalation acknowledgement"), msgActs.SendMessage, activities.SendInput{
			ConversationID: w.st.ConversationID, IdempotencyKey: fmt.Sprintf("escalation-ack:%s:%d", w.st.ConversationID, ep),
			Purpose: "escalation_ack", Text: activities.FixedText("escalation_ack", w.lang()), RespectOwner: true,
			Language: w.lang(), TurnID: turnID}).Get(ctx, &sent)
	}
	w.saveState(ctx, activities.SaveStateInput{TurnID: turnID, TurnStatus: "escalated", TurnNote: kind + ": " + reason})
	w.publish(ctx)
}

// apologise answers with the fixed apology (at most once per acknowledgement interval) and
// flags the chat for a human: never silence, never a retry loop.
func (w *conversation) apologise(ctx workflow.Context, turnID int64, reason string) {
	w.st.FailedTurns++
	w.st.NeedsHuman, w.st.NeedsHumanReason = true, reason
	now := workflow.Now(ctx)
	interval := w.st.Settings.AckInterval
	if interval <= 0 {
		interval = 30 * time.Minute
	}
	if !w.st.ApologySentAt.IsZero() && now.Sub(w.st.ApologySentAt) < interval {
		w.saveState(ctx, activities.SaveStateInput{TurnID: turnID, TurnStatus: "skipped", TurnNote: reason + " (apology already sent)"})
		return
	}
	w.st.ApologySentAt = now
	_ = w.sendFixed(ctx, turnID, w.st.TurnSeq, "apology", "apologised")
}

func (w *conversation) sendFixed(ctx workflow.Context, turnID int64, seq int, kind, turnStatus string) error {
	var sent activities.SendResult
	err := workflow.ExecuteActivity(sendOpts(ctx, "send "+kind), msgActs.SendMessage, activities.SendInput{
		ConversationID: w.st.ConversationID, IdempotencyKey: fmt.Sprintf("%s:%s:%d", kind, w.st.ConversationID, seq),
		Purpose: kind, Text: activities.FixedText(kind, w.lang()), RespectOwner: true, Language: w.lang(), TurnID: turnID,
	}).Get(ctx, &sent)
	note := kind
	if err != nil {
		turnStatus, note = "failed", kind+" could not be sent: "+rootMessage(err)
		w.st.NeedsHuman, w.st.NeedsHumanReason = true, note
	}
	w.saveState(ctx, activities.SaveStateInput{TurnID: turnID, TurnStatus: turnStatus, TurnNote: note, ReplyMessageID: sent.MessageID})
	return nil
}

func (w *conversation) lang() string {
	if w.st.Language == "ar" {
		return "ar"
	}
	return "en"
}

// persist writes the state without closing a turn.
func (w *conversation) persist(ctx workflow.Context) { w.saveState(ctx, activities.SaveStateInput{}) }

func (w *conversation) saveState(ctx workflow.Context, in activities.SaveStateInput) {
	in.ConversationID, in.Stage, in.Language, in.Status, in.Owner = w.st.ConversationID, w.st.Stage, w.lang(), w.st.Status, w.st.Owner
	in.NeedsHuman, in.NeedsHumanReason, in.Facts = w.st.NeedsHuman, w.st.NeedsHumanReason, w.st.Facts
	summary := "save state"
	if in.TurnID > 0 {
		summary = "close turn: " + in.TurnStatus
	}
	// A disconnected context (the turn may have been cancelled) so the state is always written.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if err := workflow.ExecuteActivity(opts(dctx, 30*time.Second, 10, summary), acts.SaveState, in).Get(dctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("save state failed", "conversation_id", w.st.ConversationID, "error", err)
	}
}

// notifyChildren tells open escalation and follow-up children that the customer wrote.
func (w *conversation) notifyChildren(ctx workflow.Context, s CustomerActivitySignal) {
	if w.st.Escalation != "" {
		w.signalChild(ctx, w.st.Escalation, SignalCustomerActivity, s)
	}
	for _, id := range w.st.FollowUps {
		id := id
		f := workflow.SignalExternalWorkflow(ctx, id, "", SignalCustomerActivity, s)
		w.inflightSignals++
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer func() { w.inflightSignals-- }()
			if err := f.Get(gctx, nil); err != nil {
				w.removeFollowUp(id) // finished or never started
			}
		})
	}
}

func (w *conversation) removeFollowUp(id string) {
	out := w.st.FollowUps[:0]
	for _, x := range w.st.FollowUps {
		if x != id {
			out = append(out, x)
		}
	}
	w.st.FollowUps = out
}

// StartFollowUp starts a follow-up child (quote, payment, feedback, inactivity) that
// outlives continue-as-new, and remembers it so customer replies reach it.
func (w *conversation) startFollowUp(ctx workflow.Context, kind, ref string, startedAt time.Time) {
	id := FollowUpWorkflowID(w.st.ConversationID, kind, ref)
	for _, x := range w.st.FollowUps {
		if x == id {
			return
		}
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: id, ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON, StaticSummary: "Follow-up: " + kind + " " + ref,
	})
	child := workflow.ExecuteChildWorkflow(cctx, FollowUpWorkflowName, FollowUpInput{ConversationID: w.st.ConversationID, Kind: kind,
		Ref: ref, StartedAt: startedAt})
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("could not start the follow-up", "conversation_id", w.st.ConversationID, "error", err)
		return
	}
	w.st.FollowUps = append(w.st.FollowUps, id)
}

func (w *conversation) signalChild(ctx workflow.Context, id, signal string, arg any) {
	f := workflow.SignalExternalWorkflow(ctx, id, "", signal, arg)
	w.inflightSignals++
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { w.inflightSignals-- }()
		if err := f.Get(gctx, nil); err != nil {
			workflow.GetLogger(gctx).Warn("signal to child failed", "child", id, "signal", signal, "error", err)
		}
	})
}

// publish shows the state to admins: search attributes and the one-line current details.
func (w *conversation) publish(ctx workflow.Context) {
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SAStage.ValueSet(w.st.Stage), SAStatus.ValueSet(w.st.Status), SALanguage.ValueSet(w.lang()),
		SAOwner.ValueSet(w.st.Owner), SALastActivity.ValueSet(workflow.Now(ctx)), SAConversation.ValueSet(w.st.ConversationID))
	human := ""
	if w.st.NeedsHuman {
		human = " · needs a human: " + w.st.NeedsHumanReason
	}
	turn := "idle"
	if w.turnRunning {
		turn = "answering"
	} else if len(w.st.Pending) > 0 {
		turn = fmt.Sprintf("%d message(s) waiting", len(w.st.Pending))
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("stage %s · %s · owner %s · %s · %d turn(s) · %s%s",
		w.st.Stage, w.lang(), w.st.Owner, w.st.Status, w.st.TurnSeq, turn, human))
}

func (w *conversation) shouldContinueAsNew(ctx workflow.Context) bool {
	if w.turnRunning {
		return false
	}
	info := workflow.GetInfo(ctx)
	if t := w.st.Settings.ContinueAsNewEvents; t > 0 && info.GetCurrentHistoryLength() >= t {
		return true
	}
	return info.GetContinueAsNewSuggested()
}

// continueAsNew drains buffered signals into the state (nothing is lost), waits for update
// handlers, and carries the state into a fresh run. Children run on (ABANDON).
func (w *conversation) continueAsNew(ctx workflow.Context, customer, manager, handBack workflow.ReceiveChannel) error {
	for {
		var s CustomerMessageSignal
		var m ManagerMessageSignal
		var h HandBackSignal
		switch {
		case customer.ReceiveAsync(&s):
			w.onCustomer(ctx, s)
		case manager.ReceiveAsync(&m):
			w.onManager(ctx, m)
		case handBack.ReceiveAsync(&h):
			w.onHandBack(ctx, h)
		default:
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && w.inflightSignals == 0 })
			if customer.Len() > 0 || manager.Len() > 0 || handBack.Len() > 0 {
				continue // more arrived while waiting
			}
			w.cancelTimer()
			return workflow.NewContinueAsNewError(ctx, ConversationWorkflowName, ConversationInput{ConversationID: w.st.ConversationID, State: &w.st})
		}
	}
}

func opts(ctx workflow.Context, timeout time.Duration, attempts int32, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, MaximumAttempts: attempts},
		Summary: summary,
	})
}

// llmOpts: a few attempts with back-off (429/5xx/timeouts), never for a missing key or a
// rejected request.
func llmOpts(ctx workflow.Context, replyTimeout time.Duration, summary string) workflow.Context {
	if replyTimeout <= 0 {
		replyTimeout = 90 * time.Second
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: replyTimeout + 15*time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second,
			MaximumAttempts: 4, NonRetryableErrorTypes: []string{activities.ErrTypeLLMNotConfigured, activities.ErrTypeLLMRejected}},
		Summary: summary,
	})
}

// sendOpts: sends are idempotent (crmMessageId), so retrying is safe; 429 backs off.
func sendOpts(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			MaximumAttempts: 8, NonRetryableErrorTypes: []string{activities.ErrTypeChannelUnavailable, activities.ErrTypeSendRejected}},
		Summary: summary,
	})
}

func argSummary(raw json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	for _, k := range []string{"query", "sku", "reason"} {
		if v, ok := m[k].(string); ok {
			// Cut by characters, not bytes: an Arabic query must stay valid UTF-8.
			if r := []rune(v); len(r) > 60 {
				v = string(r[:60]) + "…"
			}
			return v
		}
	}
	return ""
}

func rootMessage(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Message()
	}
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}
