package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities/llm"
	"github.com/treejar/noor/activities/outbound"
	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/internal/pii"
	"github.com/treejar/noor/internal/settings"
	"github.com/treejar/noor/prompts"
)

// Error types for LLM failures the workflow handles without retrying.
const (
	ErrTypeLLMNotConfigured = "LLMNotConfigured"
	ErrTypeLLMRejected      = "LLMRejected"
)

// Chatter is the chat-completion client (llm.Client, or a test double of the HTTP server).
type Chatter interface {
	Chat(ctx context.Context, r llm.Request) (llm.Response, error)
	Configured() bool
}

// Conversation holds the activities of the conversation workflow: loading state, the agent's
// LLM calls and tools, summaries and fact extraction. Everything large (messages, prompts,
// tool outputs) is read and written here, by id, never passed through workflow history.
type Conversation struct {
	Store    *db.Store
	LLM      Chatter
	Prompts  prompts.Source
	Tools    *ToolRegistry
	Config   config.Config
	Log      *slog.Logger
	Metrics  *metrics.App
	Settings *Settings
	// Escalations detects the escalation triggers of a turn (hard ones, and the soft ones
	// switched on in settings).
	Escalations *Escalations
	// Transcriber turns voice notes into text (nil: voice notes get the "please type" reply).
	Transcriber Transcriber
	HTTP        *http.Client // downloads media; nil = a client with a 30 s timeout
}

// Facts are what we know about the customer; they live in workflow state and in
// conversations.facts, and are in every prompt so nothing is asked twice.
type Facts struct {
	Name            string     `json:"name,omitempty"`
	Company         string     `json:"company,omitempty"`
	IsIndividual    *bool      `json:"is_individual,omitempty"`
	Role            string     `json:"role,omitempty"`
	Email           string     `json:"email,omitempty"`
	CompanyActivity string     `json:"company_activity,omitempty"`
	Needs           string     `json:"needs,omitempty"`
	Items           []FactItem `json:"items,omitempty"`
	Headcount       int        `json:"headcount,omitempty"`
	Budget          string     `json:"budget,omitempty"`
	NeededBy        string     `json:"needed_by,omitempty"`
	DeliveryAddress string     `json:"delivery_address,omitempty"`
	// HandBackNote is the last note a manager left when handing the chat back.
	HandBackNote string `json:"hand_back_note,omitempty"`
	// CustomerContext is a few lines about a returning customer (segment, recent deals).
	CustomerContext string `json:"customer_context,omitempty"`
}

// FactItem is a requested product and quantity.
type FactItem struct {
	SKU string  `json:"sku"`
	Qty float64 `json:"qty,omitempty"`
}

// Merge copies the non-empty fields of o over f.
func (f *Facts) Merge(o Facts) {
	set := func(dst *string, v string) {
		if strings.TrimSpace(v) != "" {
			*dst = strings.TrimSpace(v)
		}
	}
	set(&f.Name, o.Name)
	set(&f.Company, o.Company)
	set(&f.Role, o.Role)
	set(&f.Email, o.Email)
	set(&f.CompanyActivity, o.CompanyActivity)
	set(&f.Needs, o.Needs)
	set(&f.Budget, o.Budget)
	set(&f.NeededBy, o.NeededBy)
	set(&f.DeliveryAddress, o.DeliveryAddress)
	set(&f.HandBackNote, o.HandBackNote)
	set(&f.CustomerContext, o.CustomerContext)
	if o.IsIndividual != nil {
		v := *o.IsIndividual
		f.IsIndividual = &v
	}
	if o.Headcount > 0 {
		f.Headcount = o.Headcount
	}
	if len(o.Items) > 0 {
		f.Items = append([]FactItem(nil), o.Items...)
	}
}

// Lines renders the facts for the prompt.
func (f Facts) Lines() []string {
	var out []string
	add := func(label, v string) {
		if v != "" {
			out = append(out, "- "+label+": "+v)
		}
	}
	add("Name", f.Name)
	add("Company", f.Company)
	if f.IsIndividual != nil && *f.IsIndividual {
		add("Buying as", "an individual (no company)")
	}
	add("Role", f.Role)
	add("E-mail", f.Email)
	add("Company activity", f.CompanyActivity)
	add("Needs", f.Needs)
	if f.Headcount > 0 {
		add("Headcount", fmt.Sprint(f.Headcount))
	}
	if len(f.Items) > 0 {
		parts := make([]string, len(f.Items))
		for i, it := range f.Items {
			if it.Qty > 0 {
				parts[i] = fmt.Sprintf("%g × %s", it.Qty, it.SKU)
			} else {
				parts[i] = it.SKU
			}
		}
		add("Items discussed", strings.Join(parts, ", "))
	}
	add("Budget", f.Budget)
	add("Needed by", f.NeededBy)
	add("Delivery address", f.DeliveryAddress)
	return out
}

// ConversationSnapshot is the persisted state a workflow run starts from.
type ConversationSnapshot struct {
	ConversationID string    `json:"conversation_id"`
	Stage          string    `json:"stage"`
	Language       string    `json:"language"`
	Status         string    `json:"status"`
	Owner          string    `json:"owner"`
	NeedsHuman     bool      `json:"needs_human"`
	Facts          Facts     `json:"facts"`
	CreatedAt      time.Time `json:"created_at"`
	// Settings the workflow needs before its first turn (debounce).
	Settings TurnSettings `json:"settings"`
	// EscalationEpisode is the last escalation episode; OpenEscalation is set when one is
	// still pending or in progress (a run that starts fresh must keep forwarding to it).
	EscalationEpisode int  `json:"escalation_episode"`
	OpenEscalation    bool `json:"open_escalation"`
}

// TurnSettings are the settings a workflow applies (refreshed at every turn).
type TurnSettings struct {
	DebounceWindow      time.Duration `json:"debounce_window"`
	DebounceCap         time.Duration `json:"debounce_cap"`
	MaxToolRounds       int           `json:"max_tool_rounds"`
	MaxSearches         int           `json:"max_searches"`
	ReplyTimeout        time.Duration `json:"reply_timeout"`
	HelperTimeout       time.Duration `json:"helper_timeout"`
	SummaryAfter        int           `json:"summary_after"`
	ContinueAsNewEvents int           `json:"continue_as_new_events"`
	DefaultLanguage     string        `json:"default_language"`
	AckInterval         time.Duration `json:"ack_interval"`
	InactivityFollowUps bool          `json:"inactivity_follow_ups"`
}

func turnSettings(s settings.Settings) TurnSettings {
	return TurnSettings{
		DebounceWindow: s.Conversation.DebounceWindow.D(), DebounceCap: s.Conversation.DebounceCap.D(),
		MaxToolRounds: s.Conversation.MaxToolRounds, MaxSearches: s.Conversation.MaxSearchesPerTurn,
		ReplyTimeout: s.LLM.ReplyTimeout.D(), HelperTimeout: s.LLM.HelperTimeout.D(),
		SummaryAfter: s.Conversation.SummaryAfter, ContinueAsNewEvents: s.Conversation.ContinueAsNewEvents,
		DefaultLanguage: s.Conversation.DefaultLanguage, AckInterval: s.Escalation.AckInterval.D(),
		InactivityFollowUps: s.FollowUps.InactivityEnabled,
	}
}

// LoadConversation reads the conversation a workflow run starts from (new runs, and runs
// started after a reset or after the workflow ended).
func (a *Conversation) LoadConversation(ctx context.Context, conversationID string) (ConversationSnapshot, error) {
	c, err := a.Store.Conversation(ctx, conversationID)
	if errors.Is(err, db.ErrNotFound) {
		return ConversationSnapshot{}, temporal.NewNonRetryableApplicationError("conversation "+conversationID+" does not exist", "NotFound", err)
	}
	if err != nil {
		return ConversationSnapshot{}, err
	}
	s, err := a.Settings.LoadSettings(ctx)
	if err != nil {
		return ConversationSnapshot{}, err
	}
	snap := ConversationSnapshot{ConversationID: c.ID, Stage: c.Stage, Language: c.Language, Status: c.Status,
		Owner: c.Owner, NeedsHuman: c.NeedsHuman, CreatedAt: c.CreatedAt, Settings: turnSettings(s)}
	_ = json.Unmarshal(c.Facts, &snap.Facts)
	err = a.Store.Pool.QueryRow(ctx, `
		SELECT coalesce(max(episode), 0), coalesce(bool_or(status IN ('pending', 'in_progress')), false)
		FROM escalations WHERE conversation_id = $1`, c.ID).Scan(&snap.EscalationEpisode, &snap.OpenEscalation)
	if err != nil {
		return snap, fmt.Errorf("read escalations: %w", err)
	}
	if snap.Status == "escalated" && !snap.OpenEscalation {
		// The escalation was resolved while no run was listening: the chat is the bot's again.
		snap.Status, snap.Owner = "active", "bot"
	}
	return snap, nil
}

// BeginTurnInput opens a turn for a batch of customer messages.
type BeginTurnInput struct {
	ConversationID   string    `json:"conversation_id"`
	Seq              int       `json:"seq"`
	MessageIDs       []int64   `json:"message_ids"`
	Stage            string    `json:"stage"`
	DebounceClosedAt time.Time `json:"debounce_closed_at"`
	// FailedTurns counts the bot's consecutive failed turns (apology, unverifiable reply).
	FailedTurns int `json:"failed_turns,omitempty"`
}

// Trigger is a reason to hand the turn to a manager.
type Trigger struct {
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// BeginTurnResult tells the workflow how to run the turn.
type BeginTurnResult struct {
	TurnID        int64        `json:"turn_id"`
	Language      string       `json:"language"` // detected in this batch, "" if unclear
	Settings      TurnSettings `json:"settings"`
	LLMConfigured bool         `json:"llm_configured"`
	Triggers      []Trigger    `json:"triggers,omitempty"`
	// AutoReply: the batch is an out-of-office style auto-reply; it gets no answer.
	AutoReply bool `json:"auto_reply,omitempty"`
	// VoiceOnly: the batch is only voice notes we could not transcribe.
	VoiceOnly bool `json:"voice_only,omitempty"`
	// OptOut: the customer asked to stop proactive messages.
	OptOut bool `json:"opt_out,omitempty"`
}

// BeginTurn records the turn, detects the batch's language and hard escalation triggers,
// and returns the current settings.
func (a *Conversation) BeginTurn(ctx context.Context, in BeginTurnInput) (BeginTurnResult, error) {
	s, err := a.Settings.LoadSettings(ctx)
	if err != nil {
		return BeginTurnResult{}, err
	}
	id, err := a.Store.BeginTurn(ctx, in.ConversationID, in.Seq, in.MessageIDs, in.Stage, in.DebounceClosedAt)
	if err != nil {
		return BeginTurnResult{}, err
	}
	msgs, err := a.Store.MessagesByID(ctx, in.MessageIDs)
	if err != nil {
		return BeginTurnResult{}, err
	}
	res := BeginTurnResult{TurnID: id, Settings: turnSettings(s), LLMConfigured: a.LLM != nil && a.LLM.Configured()}
	a.transcribeVoice(ctx, msgs)
	var texts []string
	voice := 0
	for _, m := range msgs {
		texts = append(texts, m.Text)
		if (m.Kind == "audio" || m.Kind == "voice") && strings.TrimSpace(m.Text) == "" {
			voice++
		}
	}
	all := strings.Join(texts, "\n")
	res.Language = DetectLanguage(all)
	res.VoiceOnly = voice > 0 && voice == len(msgs)

	// STOP and auto-replies are recognised before anything else: neither gets an answer.
	loc, err := time.LoadLocation(s.BusinessHours.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	switch outbound.ClassifyReply(all, time.Now(), loc, s.FollowUps.OptOutKeywords).Kind {
	case outbound.ReplyOptOut:
		res.OptOut = true
		if err := a.Store.MarkOptedOut(ctx, in.ConversationID, true); err != nil {
			return res, err
		}
		return res, nil
	case outbound.ReplyAutoReply:
		res.AutoReply = true
		return res, nil
	}
	if a.Escalations != nil {
		det, err := a.Escalations.DetectEscalation(ctx, DetectEscalationInput{ConversationID: in.ConversationID,
			MessageIDs: in.MessageIDs, FailedTurns: in.FailedTurns})
		if err != nil {
			return res, err
		}
		if det.Escalate {
			res.Triggers = []Trigger{{Kind: det.Kind, Reason: det.Reason}}
		}
	}
	return res, nil
}

// ToolResult is the outcome of a tool the workflow handled itself, or of a failed tool.
type ToolResult struct {
	Round   int    `json:"round"`
	CallID  string `json:"call_id"`
	Name    string `json:"name"`
	Content string `json:"content"`
}

// ToolCallRef is a tool call the model made (arguments are small JSON).
type ToolCallRef struct {
	ID   string          `json:"id"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

// AgentStepInput is one LLM call of a turn.
type AgentStepInput struct {
	ConversationID string       `json:"conversation_id"`
	TurnID         int64        `json:"turn_id"`
	Round          int          `json:"round"`
	Stage          string       `json:"stage"`
	Language       string       `json:"language"`
	Facts          Facts        `json:"facts"`
	MessageIDs     []int64      `json:"message_ids"`
	ToolResults    []ToolResult `json:"tool_results,omitempty"`
	// NoTools: the model must answer now (tool rounds exhausted).
	NoTools bool `json:"no_tools,omitempty"`
	// Repair: why the previous draft was rejected by the reply guard.
	Repair []string `json:"repair,omitempty"`
}

// AgentStepResult is the model's decision: call tools, or a reply (stored in the step row).
type AgentStepResult struct {
	StepID           int64         `json:"step_id"`
	ToolCalls        []ToolCallRef `json:"tool_calls,omitempty"`
	Final            bool          `json:"final"`
	Problems         []string      `json:"problems,omitempty"`
	Model            string        `json:"model"`
	PromptTokens     int           `json:"prompt_tokens"`
	CompletionTokens int           `json:"completion_tokens"`
	CostUSD          float64       `json:"cost_usd"`
}

// agentOutput is what an LLM step row stores.
type agentOutput struct {
	Content   string         `json:"content,omitempty"`
	ToolCalls []llm.ToolCall `json:"tool_calls,omitempty"`
	Reply     string         `json:"reply,omitempty"`
	Problems  []string       `json:"problems,omitempty"`
}

// AgentStep builds the prompt from the database (system prompt + stage + facts + summary +
// last messages + this turn's tool calls and results), masks personal data, calls the reply
// model, and either returns the tool calls or checks the reply with the guard and stores it.
func (a *Conversation) AgentStep(ctx context.Context, in AgentStepInput) (AgentStepResult, error) {
	if a.LLM == nil || !a.LLM.Configured() {
		return AgentStepResult{}, temporal.NewNonRetryableApplicationError("LLM_API_KEY is not set", ErrTypeLLMNotConfigured, llm.ErrNotConfigured)
	}
	s, err := a.Settings.LoadSettings(ctx)
	if err != nil {
		return AgentStepResult{}, err
	}
	for _, tr := range in.ToolResults {
		out, _ := json.Marshal(map[string]string{"content": tr.Content})
		if _, err := a.Store.SaveTurnStep(ctx, db.TurnStep{TurnID: in.TurnID, Round: tr.Round, Kind: "tool", Name: tr.Name,
			CallID: tr.CallID, Output: out, Summary: truncate(tr.Content, 120)}); err != nil {
			return AgentStepResult{}, err
		}
	}
	masker := pii.NewMasker()
	msgs, toolTexts, customerTexts, err := a.buildPrompt(ctx, in, s, masker)
	if err != nil {
		return AgentStepResult{}, err
	}
	req := llm.Request{Model: a.Config.LLM.Model, Messages: msgs, MaxTokens: s.LLM.ReplyMaxTokens,
		Temperature: s.LLM.ReplyTemperature, Timeout: s.LLM.ReplyTimeout.D()}
	if !in.NoTools {
		for _, t := range a.Tools.List() {
			req.Tools = append(req.Tools, llm.ToolSpec{Name: t.Name, Description: t.Description, Parameters: t.Parameters})
		}
	}
	resp, err := a.LLM.Chat(ctx, req)
	a.Store.NoteProviderResult(ctx, "llm", err)
	if err != nil {
		a.countLLM(req.Model, "error")
		var le *llm.Error
		if errors.As(err, &le) && !le.Retryable {
			return AgentStepResult{}, temporal.NewNonRetryableApplicationError("the LLM rejected the request: "+le.Message, ErrTypeLLMRejected, err)
		}
		return AgentStepResult{}, fmt.Errorf("LLM call (round %d): %w", in.Round, err)
	}
	cost := resp.Cost(s.LLM.PromptPricePerMTokUSD, s.LLM.OutputPricePerMTokUSD)
	a.countLLM(req.Model, "ok")
	if a.Metrics != nil {
		a.Metrics.LLMCostUSD.WithLabelValues(req.Model).Add(cost)
	}
	res := AgentStepResult{Model: firstNonEmpty(resp.Model, req.Model), PromptTokens: resp.PromptTokens,
		CompletionTokens: resp.CompletionTokens, CostUSD: cost}
	out := agentOutput{Content: masker.Unmask(resp.Content)}
	if len(resp.ToolCalls) > 0 && !in.NoTools {
		for i, tc := range resp.ToolCalls {
			if tc.ID == "" {
				tc.ID = fmt.Sprintf("call_%d_%d", in.Round, i)
			}
			tc.Arguments = masker.Unmask(tc.Arguments)
			if !json.Valid([]byte(tc.Arguments)) {
				tc.Arguments = "{}"
			}
			out.ToolCalls = append(out.ToolCalls, tc)
			res.ToolCalls = append(res.ToolCalls, ToolCallRef{ID: tc.ID, Name: tc.Name, Args: json.RawMessage(tc.Arguments)})
		}
	} else {
		res.Final = true
		out.Reply = FormatWhatsApp(out.Content)
		if out.Reply == "" {
			out.Problems = []string{"the reply is empty: write a reply to the customer"}
		} else {
			known := append(strings.Split(strings.Join(in.Facts.Lines(), "\n"), "\n"),
				fmt.Sprintf("VAT %g %%", s.Pricing.VATPercent), s.Pricing.PaymentTerms, s.Pricing.DeliveryTerms,
				fmt.Sprintf("valid %d days", s.Pricing.QuoteValidityDays))
			out.Problems = CheckReply(out.Reply, GuardInput{Language: in.Language, ToolText: toolTexts,
				CustomerText: customerTexts, KnownText: known})
		}
		res.Problems = out.Problems
	}
	inputDoc, _ := json.Marshal(map[string]any{"model": req.Model, "messages": len(msgs), "tools": len(req.Tools),
		"repair": in.Repair, "no_tools": in.NoTools})
	outDoc, _ := json.Marshal(out)
	summary := "reply"
	if len(res.ToolCalls) > 0 {
		names := make([]string, len(res.ToolCalls))
		for i, tc := range res.ToolCalls {
			names[i] = tc.Name
		}
		summary = "tools: " + strings.Join(names, ", ")
	}
	if len(out.Problems) > 0 {
		summary += " (guard: " + truncate(strings.Join(out.Problems, "; "), 100) + ")"
	}
	res.StepID, err = a.Store.SaveTurnStep(ctx, db.TurnStep{TurnID: in.TurnID, Round: in.Round, Kind: "llm", Name: "agent",
		CallID: "", Input: inputDoc, Output: outDoc, Summary: summary, Model: res.Model, PromptTokens: resp.PromptTokens,
		CompletionTokens: resp.CompletionTokens, CostUSD: cost, DurationMS: int(resp.Duration.Milliseconds())})
	if err != nil {
		return res, err
	}
	if res.Final {
		_ = a.Store.MarkTurnTime(ctx, in.TurnID, "reply_ready_at")
	}
	return res, nil
}

func (a *Conversation) countLLM(model, result string) {
	if a.Metrics != nil {
		a.Metrics.LLMCalls.WithLabelValues(model, result).Inc()
	}
}

// buildPrompt assembles the messages for the reply model and returns, for the guard, the
// texts of this turn's tool outputs and of the recent customer messages.
func (a *Conversation) buildPrompt(ctx context.Context, in AgentStepInput, s settings.Settings, masker *pii.Masker) ([]llm.Message, []string, []string, error) {
	conv, err := a.Store.Conversation(ctx, in.ConversationID)
	if err != nil {
		return nil, nil, nil, err
	}
	system, _, err := a.Prompts.Prompt(ctx, "system")
	if err != nil {
		return nil, nil, nil, err
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(system))
	if stage, _, err := a.Prompts.Prompt(ctx, "stage."+in.Stage); err == nil {
		b.WriteString("\n\n# Current sales stage: " + in.Stage + "\n" + strings.TrimSpace(stage))
	}
	b.WriteString("\n\n# What we already know about this customer (do not ask again)\n")
	if lines := in.Facts.Lines(); len(lines) > 0 {
		b.WriteString(strings.Join(lines, "\n"))
	} else {
		b.WriteString("Nothing yet.")
	}
	if in.Facts.CustomerContext != "" {
		b.WriteString("\n\n# Customer record\n" + in.Facts.CustomerContext)
	}
	if conv.Summary != "" {
		b.WriteString("\n\n# Summary of the earlier conversation\n" + conv.Summary)
	}
	if in.Facts.HandBackNote != "" {
		b.WriteString("\n\n# Note from the manager who handled this chat\n" + in.Facts.HandBackNote)
	}
	lang := map[string]string{"en": "English", "ar": "Arabic (Modern Standard, friendly)"}[in.Language]
	if lang == "" {
		lang = "English"
	}
	b.WriteString("\n\n# Reply language\nWrite the whole reply in " + lang + ".")
	if in.NoTools {
		b.WriteString("\n\nYou have used all tool calls for this turn: answer now with what you have.")
	}
	msgs := []llm.Message{{Role: "system", Content: masker.Mask(b.String())}}

	// The verbatim tail: the last messages within the character budget, always including this turn's batch.
	tail, err := a.Store.Messages(ctx, in.ConversationID, conv.SummaryThrough, s.Conversation.ContextMessages+len(in.MessageIDs))
	if err != nil {
		return nil, nil, nil, err
	}
	inBatch := map[int64]bool{}
	for _, id := range in.MessageIDs {
		inBatch[id] = true
	}
	// Walk back from the newest message: the batch always goes in; older messages while the
	// message count and character budget allow.
	budget, others := s.Conversation.ContextChars, 0
	start := len(tail)
	for i := len(tail) - 1; i >= 0; i-- {
		n := len(tail[i].Text) + 20
		if !inBatch[tail[i].ID] {
			if others >= s.Conversation.ContextMessages || budget < n {
				break
			}
			others++
		}
		budget -= n
		start = i
	}
	var customerTexts []string
	for _, m := range tail[start:] {
		if m.TurnID != nil && *m.TurnID > in.TurnID {
			continue // a later turn's messages (should not happen, but never answer the future)
		}
		content := messageContent(m)
		if content == "" {
			continue
		}
		switch m.Author {
		case "customer":
			customerTexts = append(customerTexts, m.Text)
			msgs = append(msgs, llm.Message{Role: "user", Content: masker.Mask(content)})
		case "manager":
			msgs = append(msgs, llm.Message{Role: "assistant", Content: masker.Mask("[Manager " + m.AuthorName + "] " + content)})
		default:
			msgs = append(msgs, llm.Message{Role: "assistant", Content: masker.Mask(content)})
		}
	}

	// This turn's earlier rounds: the model's tool calls and their results.
	steps, err := a.Store.TurnSteps(ctx, in.TurnID)
	if err != nil {
		return nil, nil, nil, err
	}
	results := map[string]string{}
	for _, st := range steps {
		if st.Kind == "tool" {
			var out struct {
				Content json.RawMessage `json:"content"`
			}
			_ = json.Unmarshal(st.Output, &out)
			results[st.CallID] = decodeContent(out.Content)
		}
	}
	var toolTexts []string
	for _, st := range steps {
		if st.Kind != "llm" || st.Round >= in.Round {
			continue
		}
		var out agentOutput
		_ = json.Unmarshal(st.Output, &out)
		if len(out.ToolCalls) == 0 {
			continue
		}
		calls := make([]llm.ToolCall, len(out.ToolCalls))
		for i, tc := range out.ToolCalls {
			calls[i] = llm.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: masker.Mask(tc.Arguments)}
		}
		msgs = append(msgs, llm.Message{Role: "assistant", Content: masker.Mask(out.Content), ToolCalls: calls})
		for _, tc := range out.ToolCalls {
			r, ok := results[tc.ID]
			if !ok {
				r = `{"error":"the tool did not run"}`
			}
			toolTexts = append(toolTexts, r)
			msgs = append(msgs, llm.Message{Role: "tool", ToolCallID: tc.ID, Content: masker.Mask(r)})
		}
	}
	if len(in.Repair) > 0 {
		msgs = append(msgs, llm.Message{Role: "system", Content: "Your draft reply was rejected by a check: " +
			strings.Join(in.Repair, "; ") + ". Write the reply again, fixing this."})
	}
	return msgs, toolTexts, customerTexts, nil
}

var authorLabel = map[string]string{"customer": "Customer", "noor": "Noor", "manager": "Manager", "system": "System"}

func decodeContent(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func messageContent(m db.Message) string {
	text := strings.TrimSpace(m.Text)
	switch m.Kind {
	case "", "text":
		return text
	case "image":
		return strings.TrimSpace("[the customer sent an image you cannot see] " + text)
	case "document":
		return strings.TrimSpace("[the customer sent a document] " + text)
	case "audio", "voice":
		if text != "" {
			return "[voice message, transcribed] " + text
		}
		return "[a voice message that could not be transcribed]"
	default:
		return strings.TrimSpace("[" + m.Kind + "] " + text)
	}
}

// RunToolInput is one activity tool call.
type RunToolInput struct {
	ConversationID string          `json:"conversation_id"`
	TurnID         int64           `json:"turn_id"`
	Round          int             `json:"round"`
	CallID         string          `json:"call_id"`
	Name           string          `json:"name"`
	Args           json.RawMessage `json:"args"`
	Language       string          `json:"language"`
}

// RunToolResult is a one-line summary; the output is in the turn step.
type RunToolResult struct {
	Summary string `json:"summary"`
}

// RunTool executes one of the registry's activity tools and stores its output for the next
// LLM round. An unknown tool or bad arguments produce an error result the model can read.
func (a *Conversation) RunTool(ctx context.Context, in RunToolInput) (RunToolResult, error) {
	start := time.Now()
	t, ok := a.Tools.Get(in.Name)
	var out ToolOutput
	var runErr error
	switch {
	case !ok || t.Run == nil:
		out = ToolOutput{Content: map[string]string{"error": "unknown tool " + in.Name}, Summary: "unknown tool"}
	default:
		out, runErr = t.Run(ctx, ToolCall{ConversationID: in.ConversationID, TurnID: in.TurnID, Language: in.Language, Args: in.Args})
	}
	if runErr != nil {
		var ae *temporal.ApplicationError
		if errors.As(runErr, &ae) {
			return RunToolResult{}, runErr // keep the type (terminal errors are not retried)
		}
		// A revoked Zoho token stays terminal through the tool (no retry storm).
		return RunToolResult{}, zoho.ActivityError(fmt.Errorf("tool %s: %w", in.Name, runErr))
	}
	content, err := json.Marshal(out.Content)
	if err != nil {
		return RunToolResult{}, err
	}
	outDoc, _ := json.Marshal(map[string]json.RawMessage{"content": content})
	args := in.Args
	if len(args) == 0 || !json.Valid(args) {
		args = json.RawMessage(`{}`)
	}
	if _, err := a.Store.SaveTurnStep(ctx, db.TurnStep{TurnID: in.TurnID, Round: in.Round, Kind: "tool", Name: in.Name,
		CallID: in.CallID, Input: args, Output: outDoc, Summary: out.Summary, DurationMS: int(time.Since(start).Milliseconds())}); err != nil {
		return RunToolResult{}, err
	}
	return RunToolResult{Summary: out.Summary}, nil
}

// SaveStateInput is the workflow's view of the conversation, persisted after changes.
type SaveStateInput struct {
	ConversationID   string `json:"conversation_id"`
	Stage            string `json:"stage"`
	Language         string `json:"language"`
	Status           string `json:"status"`
	Owner            string `json:"owner"`
	NeedsHuman       bool   `json:"needs_human"`
	NeedsHumanReason string `json:"needs_human_reason,omitempty"`
	Facts            Facts  `json:"facts"`
	// Turn fields (optional): closes the turn with its outcome.
	TurnID         int64  `json:"turn_id,omitempty"`
	TurnStatus     string `json:"turn_status,omitempty"`
	TurnNote       string `json:"turn_note,omitempty"`
	ReplyMessageID int64  `json:"reply_message_id,omitempty"`
}

// SaveState writes the conversation's state (and closes a turn when given).
func (a *Conversation) SaveState(ctx context.Context, in SaveStateInput) error {
	facts, _ := json.Marshal(in.Facts)
	if err := a.Store.SaveConversationState(ctx, db.ConversationState{ID: in.ConversationID, Stage: in.Stage, Language: in.Language,
		Status: in.Status, Owner: in.Owner, NeedsHuman: in.NeedsHuman, NeedsHumanReason: in.NeedsHumanReason, Facts: facts}); err != nil {
		return err
	}
	if in.TurnID > 0 {
		return a.Store.FinishTurn(ctx, in.TurnID, in.TurnStatus, in.Stage, in.Language, in.TurnNote, in.ReplyMessageID)
	}
	return nil
}

// FollowUpWorkInput is the off-the-hot-path work after a reply.
type FollowUpWorkInput struct {
	ConversationID string `json:"conversation_id"`
	TurnID         int64  `json:"turn_id"`
}

// ExtractFacts asks the fast model for facts the customer stated (name, company, needs, …);
// the workflow merges them into its state. Without an LLM it returns nothing.
func (a *Conversation) ExtractFacts(ctx context.Context, in FollowUpWorkInput) (Facts, error) {
	var f Facts
	if a.LLM == nil || !a.LLM.Configured() {
		return f, nil
	}
	s, err := a.Settings.LoadSettings(ctx)
	if err != nil {
		return f, err
	}
	prompt, _, err := a.Prompts.Prompt(ctx, "extraction")
	if err != nil {
		return f, err
	}
	msgs, err := a.Store.Messages(ctx, in.ConversationID, 0, 12)
	if err != nil {
		return f, err
	}
	masker := pii.NewMasker()
	var b strings.Builder
	for _, m := range msgs {
		if m.Author == "customer" {
			b.WriteString("Customer: " + masker.Mask(messageContent(m)) + "\n")
		}
	}
	if b.Len() == 0 {
		return f, nil
	}
	resp, err := a.LLM.Chat(ctx, llm.Request{Model: a.Config.LLM.FastModel, MaxTokens: s.LLM.HelperMaxTokens, Temperature: 0,
		Timeout: s.LLM.HelperTimeout.D(), JSONOutput: true,
		Messages: []llm.Message{{Role: "system", Content: prompt}, {Role: "user", Content: b.String()}}})
	if err != nil {
		return f, nonRetryableIfRejected(err)
	}
	a.recordHelperCost(ctx, in.TurnID, "extract_facts", resp, s)
	raw := masker.Unmask(extractJSON(resp.Content))
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		a.Log.Warn("fact extraction returned invalid JSON", "conversation_id", in.ConversationID, "err", err)
		return Facts{}, nil
	}
	f.HandBackNote, f.CustomerContext = "", ""
	return f, nil
}

// RefreshSummary rewrites the facts-only summary of the older part of a long dialogue, so the
// prompt stays small. It runs after the reply, off the hot path.
func (a *Conversation) RefreshSummary(ctx context.Context, in FollowUpWorkInput) (bool, error) {
	if a.LLM == nil || !a.LLM.Configured() {
		return false, nil
	}
	s, err := a.Settings.LoadSettings(ctx)
	if err != nil {
		return false, err
	}
	conv, err := a.Store.Conversation(ctx, in.ConversationID)
	if err != nil {
		return false, err
	}
	all, err := a.Store.Messages(ctx, in.ConversationID, conv.SummaryThrough, 0)
	if err != nil {
		return false, err
	}
	keep := s.Conversation.ContextMessages
	if len(all) < s.Conversation.SummaryAfter || len(all) <= keep {
		return false, nil
	}
	older := all[:len(all)-keep]
	prompt, _, err := a.Prompts.Prompt(ctx, "summary")
	if err != nil {
		return false, err
	}
	masker := pii.NewMasker()
	var b strings.Builder
	if conv.Summary != "" {
		b.WriteString("Earlier summary:\n" + masker.Mask(conv.Summary) + "\n\nNew messages:\n")
	}
	for _, m := range older {
		b.WriteString(authorLabel[m.Author] + ": " + masker.Mask(messageContent(m)) + "\n")
	}
	resp, err := a.LLM.Chat(ctx, llm.Request{Model: a.Config.LLM.FastModel, MaxTokens: s.LLM.HelperMaxTokens, Temperature: 0,
		Timeout: s.LLM.HelperTimeout.D(), Messages: []llm.Message{{Role: "system", Content: prompt}, {Role: "user", Content: b.String()}}})
	if err != nil {
		return false, nonRetryableIfRejected(err)
	}
	a.recordHelperCost(ctx, in.TurnID, "summary", resp, s)
	summary := strings.TrimSpace(masker.Unmask(resp.Content))
	if summary == "" {
		return false, nil
	}
	return true, a.Store.SaveSummary(ctx, in.ConversationID, summary, older[len(older)-1].ID)
}

func (a *Conversation) recordHelperCost(ctx context.Context, turnID int64, name string, resp llm.Response, s settings.Settings) {
	if turnID == 0 {
		return
	}
	cost := resp.Cost(s.LLM.PromptPricePerMTokUSD, s.LLM.OutputPricePerMTokUSD)
	// Helper calls are steps with a negative round so they never enter the agent's prompt.
	_, _ = a.Store.SaveTurnStep(ctx, db.TurnStep{TurnID: turnID, Round: -1, Kind: "llm", Name: name, CallID: name,
		Summary: name, Model: resp.Model, PromptTokens: resp.PromptTokens, CompletionTokens: resp.CompletionTokens, CostUSD: cost,
		DurationMS: int(resp.Duration.Milliseconds())})
	if a.Metrics != nil {
		a.Metrics.LLMCostUSD.WithLabelValues(resp.Model).Add(cost)
	}
}

func nonRetryableIfRejected(err error) error {
	var le *llm.Error
	if errors.As(err, &le) && !le.Retryable {
		return temporal.NewNonRetryableApplicationError(le.Error(), ErrTypeLLMRejected, err)
	}
	return err
}

// extractJSON returns the first {...} object in s (models sometimes wrap JSON in prose or fences).
func extractJSON(s string) string {
	i := strings.Index(s, "{")
	j := strings.LastIndex(s, "}")
	if i < 0 || j < i {
		return "{}"
	}
	return s[i : j+1]
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
