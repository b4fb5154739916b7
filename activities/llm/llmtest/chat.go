package llmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ChatRequest is what the fake received on POST /v1/chat/completions.
type ChatRequest struct {
	Model       string
	Messages    []Message
	Tools       []Tool
	ToolChoice  any // "auto", "none", "required" or {"type":"function","function":{"name":...}}
	MaxTokens   int // max_completion_tokens, else max_tokens; 0 when absent
	Temperature *float64
	// ResponseFormat is the decoded response_format, e.g. {"type":"json_schema",...}.
	ResponseFormat any
	Raw            []byte
	// Additional fields.
	Stream bool
	Header http.Header
}

// Message is one chat message. Content given as an array of parts is flattened to its text
// parts joined by "\n".
type Message struct {
	Role, Content, Name, ToolCallID string
	ToolCalls                       []ToolCall
}

// Tool is one function tool offered to the model.
type Tool struct {
	Name, Description string
	Parameters        map[string]any
}

// ToolCall is a function call by the model; Arguments is the JSON string.
type ToolCall struct {
	ID, Name, Arguments string
}

// Reply is what the fake answers to one chat call.
type Reply struct {
	Content   string
	ToolCalls []ToolCall // IDs are generated when empty
	// PromptTokens and CompletionTokens default to estimates (bytes/4, at least 1).
	PromptTokens, CompletionTokens int
	// Status other than 0/200 answers an OpenAI-style error body with that status.
	Status int
	// Delay holds the answer this long, or until the client gives up.
	Delay time.Duration
	// FinishReason defaults to "tool_calls" when there are tool calls, else "stop"; when the
	// content is longer than the request's max tokens (bytes/4) it is cut and the reason is
	// "length", like a real model running out of budget.
	FinishReason string
	// Additional fields.
	ErrorCode    string  // error.code for a non-200 Status, e.g. "context_length_exceeded"
	ErrorMessage string  // error.message for a non-200 Status
	Cost         float64 // usage.cost as OpenRouter reports it; omitted when 0
}

// LastUserText returns the content of the last "user" message.
func (r ChatRequest) LastUserText() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// System returns the system (and developer) messages' content, joined by "\n".
func (r ChatRequest) System() string {
	var parts []string
	for _, m := range r.Messages {
		if m.Role == "system" || m.Role == "developer" {
			parts = append(parts, m.Content)
		}
	}
	return strings.Join(parts, "\n")
}

// Text returns the content of every message with the role, joined by "\n".
func (r ChatRequest) Text(role string) string {
	var parts []string
	for _, m := range r.Messages {
		if m.Role == role {
			parts = append(parts, m.Content)
		}
	}
	return strings.Join(parts, "\n")
}

// Enqueue adds replies that the next chat calls get, first in first out.
func (s *Server) Enqueue(rs ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, rs...)
}

// Handle sets the function that answers chat calls once the queue is empty (nil removes
// it). It is called outside the fake's lock, concurrently for concurrent calls.
func (s *Server) Handle(fn func(ChatRequest) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = fn
}

// FailNext makes the next n valid chat calls answer status, before the queue and handler.
func (s *Server) FailNext(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failNext = append(s.failNext, status)
	}
}

// Requests returns every chat request received (after auth), in order, including rejected
// ones; Statuses tells what each was answered.
func (s *Server) Requests() []ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Statuses returns the HTTP status answered to each chat request, aligned with Requests
// (0 while in flight, StatusClientGone when the client hung up first).
func (s *Server) Statuses() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses)
}

// Calls is the number of chat requests received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// WaitForRequests blocks until at least n chat requests arrived and returns them, or
// returns ctx's error together with what arrived so far.
func (s *Server) WaitForRequests(ctx context.Context, n int) ([]ChatRequest, error) {
	for {
		s.mu.Lock()
		if len(s.requests) >= n {
			out := slices.Clone(s.requests)
			s.mu.Unlock()
			return out, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Requests(), fmt.Errorf("wait for %d chat requests: %w", n, ctx.Err())
		}
	}
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	raw, readErr := io.ReadAll(io.LimitReader(r.Body, maxChatBody+1))
	req, parseErr := parseChat(raw)
	req.Raw = raw
	req.Header = r.Header.Clone()

	s.mu.Lock()
	idx := len(s.requests)
	s.requests = append(s.requests, req)
	s.statuses = append(s.statuses, 0)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	status := 0
	defer func() {
		if status == 0 || r.Context().Err() != nil {
			status = StatusClientGone
		}
		s.mu.Lock()
		s.statuses[idx] = status
		s.mu.Unlock()
	}()

	switch {
	case readErr != nil:
		parseErr = fmt.Errorf("read body: %w", readErr)
	case len(raw) > maxChatBody:
		parseErr = errors.New("request body too large")
	case parseErr == nil:
		parseErr = validateChat(req)
	}
	if parseErr != nil {
		status = http.StatusBadRequest
		writeError(w, status, "invalid_request_error", "", parseErr.Error())
		return
	}

	reply := s.nextReply(req)
	if !s.wait(r.Context(), reply.Delay) {
		return
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		status = reply.Status
		writeStatusError(w, status, reply.ErrorCode, reply.ErrorMessage)
		return
	}
	resp := s.completion(req, reply)
	status = http.StatusOK
	if req.Stream {
		writeStream(w, resp, streamUsage(raw))
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// nextReply picks the answer: injected failure, then queue, then handler, then the default.
func (s *Server) nextReply(req ChatRequest) Reply {
	s.mu.Lock()
	if len(s.failNext) > 0 {
		status := s.failNext[0]
		s.failNext = s.failNext[1:]
		s.mu.Unlock()
		return Reply{Status: status}
	}
	if len(s.queue) > 0 {
		reply := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		return reply
	}
	handler := s.handler
	s.mu.Unlock()
	if handler != nil {
		return handler(req)
	}
	return Reply{Content: DefaultContent}
}

// Wire types of the Chat Completions API.
type wireChat struct {
	Model               string          `json:"model"`
	Messages            []wireMessage   `json:"messages"`
	Tools               []wireTool      `json:"tools"`
	ToolChoice          any             `json:"tool_choice"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	ResponseFormat      any             `json:"response_format"`
	Stream              bool            `json:"stream"`
	StreamOptions       json.RawMessage `json:"stream_options"`
}

type wireMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCallID string          `json:"tool_call_id"`
	ToolCalls  []wireToolCall  `json:"tool_calls"`
}

type wireToolCall struct {
	Index    *int   `json:"index,omitempty"` // streaming only
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		Parameters  map[string]any `json:"parameters"`
	} `json:"function"`
}

type wirePart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type completionMessage struct {
	Role      string         `json:"role"`
	Content   *string        `json:"content"`
	Refusal   *string        `json:"refusal"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
}

type completionChoice struct {
	Index        int               `json:"index"`
	Message      completionMessage `json:"message"`
	FinishReason string            `json:"finish_reason"`
	Logprobs     any               `json:"logprobs"`
}

type usage struct {
	PromptTokens     int      `json:"prompt_tokens"`
	CompletionTokens int      `json:"completion_tokens"`
	TotalTokens      int      `json:"total_tokens"`
	Cost             *float64 `json:"cost,omitempty"`
}

type completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   usage              `json:"usage"`
}

func parseChat(raw []byte) (ChatRequest, error) {
	var w wireChat
	if err := json.Unmarshal(raw, &w); err != nil {
		return ChatRequest{}, fmt.Errorf("We could not parse the JSON body of your request: %w", err)
	}
	req := ChatRequest{
		Model: w.Model, ToolChoice: w.ToolChoice, Temperature: w.Temperature,
		ResponseFormat: w.ResponseFormat, Stream: w.Stream,
	}
	switch {
	case w.MaxCompletionTokens != nil:
		req.MaxTokens = *w.MaxCompletionTokens
	case w.MaxTokens != nil:
		req.MaxTokens = *w.MaxTokens
	}
	if (w.MaxCompletionTokens != nil || w.MaxTokens != nil) && req.MaxTokens < 1 {
		return req, fmt.Errorf("Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got %d instead.", req.MaxTokens)
	}
	for i, wm := range w.Messages {
		content, err := flattenContent(wm.Content)
		if err != nil {
			return req, fmt.Errorf("Invalid 'messages[%d].content': %w", i, err)
		}
		m := Message{Role: wm.Role, Content: content, Name: wm.Name, ToolCallID: wm.ToolCallID}
		for _, tc := range wm.ToolCalls {
			m.ToolCalls = append(m.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		req.Messages = append(req.Messages, m)
	}
	for i, wt := range w.Tools {
		if wt.Type != "function" {
			return req, fmt.Errorf("Invalid value for 'tools[%d].type': only 'function' tools are supported.", i)
		}
		req.Tools = append(req.Tools, Tool{
			Name: wt.Function.Name, Description: wt.Function.Description, Parameters: wt.Function.Parameters,
		})
	}
	return req, nil
}

// flattenContent accepts a string, null, or an array of content parts.
func flattenContent(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var parts []wirePart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("expected a string or an array of content parts")
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n"), nil
}

var toolNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// validateChat rejects what OpenAI rejects, with similar messages.
func validateChat(req ChatRequest) error {
	if req.Model == "" {
		return errors.New("you must provide a model parameter")
	}
	if len(req.Messages) == 0 {
		return errors.New("Invalid 'messages': empty array. Expected an array with minimum length 1.")
	}
	for i, t := range req.Tools {
		if !toolNameRe.MatchString(t.Name) {
			return fmt.Errorf("Invalid 'tools[%d].function.name': string does not match pattern '^[a-zA-Z0-9_-]{1,64}$'.", i)
		}
	}
	// Every assistant message with tool_calls must be followed by one tool message per call
	// id, and a tool message must answer a call of the assistant message just before.
	var pending []string
	inToolRun := false
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant", "function":
		case "tool":
			if !inToolRun {
				return fmt.Errorf("Invalid parameter: messages[%d]: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", i)
			}
			j := slices.Index(pending, m.ToolCallID)
			if j < 0 {
				return fmt.Errorf("Invalid parameter: messages[%d]: tool_call_id %q does not answer a pending tool call.", i, m.ToolCallID)
			}
			pending = slices.Delete(pending, j, j+1)
			continue
		default:
			return fmt.Errorf("Invalid value: '%s'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool', and 'function'.", m.Role)
		}
		if len(pending) > 0 {
			return missingToolResults(pending)
		}
		inToolRun = false
		if m.Role == "assistant" && len(m.ToolCalls) > 0 {
			inToolRun = true
			for k, tc := range m.ToolCalls {
				if tc.ID == "" || tc.Name == "" {
					return fmt.Errorf("Missing required parameter: 'messages[%d].tool_calls[%d].id' or '.function.name'.", i, k)
				}
				pending = append(pending, tc.ID)
			}
		}
	}
	if len(pending) > 0 {
		return missingToolResults(pending)
	}
	return nil
}

func missingToolResults(ids []string) error {
	return fmt.Errorf("An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: %s",
		strings.Join(ids, ", "))
}

func (s *Server) completion(req ChatRequest, reply Reply) completion {
	s.mu.Lock()
	s.seq++
	seq := s.seq
	calls := make([]wireToolCall, len(reply.ToolCalls))
	for i, tc := range reply.ToolCalls {
		id := tc.ID
		if id == "" {
			s.seq++
			id = fmt.Sprintf("call_%06d", s.seq)
		}
		calls[i].ID, calls[i].Type = id, "function"
		calls[i].Function.Name, calls[i].Function.Arguments = tc.Name, tc.Arguments
	}
	s.mu.Unlock()

	content := reply.Content
	finish := reply.FinishReason
	completionTokens := reply.CompletionTokens
	if finish == "" {
		finish = "stop"
		if len(calls) > 0 {
			finish = "tool_calls"
		} else if req.MaxTokens > 0 && len(content)/4 > req.MaxTokens {
			content = truncateUTF8(content, req.MaxTokens*4)
			finish = "length"
			completionTokens = req.MaxTokens
		}
	}
	if completionTokens == 0 {
		n := len(content)
		for _, c := range calls {
			n += len(c.Function.Name) + len(c.Function.Arguments)
		}
		completionTokens = max(1, n/4)
	}
	promptTokens := reply.PromptTokens
	if promptTokens == 0 {
		promptTokens = max(1, len(req.Raw)/4)
	}

	msg := completionMessage{Role: "assistant", ToolCalls: calls}
	if content != "" || len(calls) == 0 {
		msg.Content = &content
	}
	u := usage{PromptTokens: promptTokens, CompletionTokens: completionTokens, TotalTokens: promptTokens + completionTokens}
	if reply.Cost != 0 {
		cost := reply.Cost
		u.Cost = &cost
	}
	return completion{
		ID: fmt.Sprintf("chatcmpl-fake%06d", seq), Object: "chat.completion", Created: time.Now().Unix(),
		Model:   req.Model,
		Choices: []completionChoice{{Index: 0, Message: msg, FinishReason: finish}},
		Usage:   u,
	}
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// streamUsage reports whether the client asked for usage in the stream.
func streamUsage(raw []byte) bool {
	var w struct {
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	_ = json.Unmarshal(raw, &w)
	return w.StreamOptions.IncludeUsage
}

type chunkDelta struct {
	Role      string         `json:"role,omitempty"`
	Content   *string        `json:"content,omitempty"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason"`
}

type chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *usage        `json:"usage,omitempty"`
}

// writeStream sends the completion as server-sent events the way OpenAI streams: a role
// delta, content in pieces, each tool call as a header then its arguments, the finish
// reason, optionally a usage-only chunk, then [DONE].
func writeStream(w http.ResponseWriter, c completion, withUsage bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(choices []chunkChoice, u *usage) {
		b, _ := json.Marshal(chunk{ID: c.ID, Object: "chat.completion.chunk", Created: c.Created, Model: c.Model, Choices: choices, Usage: u})
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	delta := func(d chunkDelta) { send([]chunkChoice{{Delta: d}}, nil) }

	msg := c.Choices[0].Message
	empty := ""
	delta(chunkDelta{Role: "assistant", Content: &empty})
	if msg.Content != nil {
		for _, piece := range splitPieces(*msg.Content, 3) {
			delta(chunkDelta{Content: &piece})
		}
	}
	for i, tc := range msg.ToolCalls {
		head := wireToolCall{Index: &i, ID: tc.ID, Type: "function"}
		head.Function.Name = tc.Function.Name
		delta(chunkDelta{ToolCalls: []wireToolCall{head}})
		args := wireToolCall{Index: &i}
		args.Function.Arguments = tc.Function.Arguments
		delta(chunkDelta{ToolCalls: []wireToolCall{args}})
	}
	finish := c.Choices[0].FinishReason
	send([]chunkChoice{{Delta: chunkDelta{}, FinishReason: &finish}}, nil)
	if withUsage {
		u := c.Usage
		send([]chunkChoice{}, &u)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// splitPieces cuts s into at most n pieces on rune boundaries.
func splitPieces(s string, n int) []string {
	if s == "" {
		return nil
	}
	size := max(1, (len(s)+n-1)/n)
	var out []string
	for len(s) > 0 {
		cut := min(size, len(s))
		for cut < len(s) && !utf8.RuneStart(s[cut]) {
			cut++
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return out
}
