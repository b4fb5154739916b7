// Package llm calls an OpenAI-compatible chat endpoint (OpenRouter in production; any
// compatible server by base URL) through openai-go, with a timeout and max_tokens on every
// call, usage and cost in the answer, and errors classified for Temporal retries. It does
// not retry itself: the activity's retry policy does, so retries are visible in history.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// Message is one chat message.
type Message struct {
	Role       string     `json:"role"` // system | user | assistant | tool
	Content    string     `json:"content"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
}

// ToolCall is a function call the model asked for.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ToolSpec describes a function tool to the model.
type ToolSpec struct {
	Name        string
	Description string
	Parameters  map[string]any
}

// Request is one chat completion.
type Request struct {
	Model       string
	Messages    []Message
	Tools       []ToolSpec
	MaxTokens   int
	Temperature float64
	Timeout     time.Duration
	JSONOutput  bool // response_format json_object (extraction, judge)
}

// Response is the model's answer with what it cost.
type Response struct {
	Content          string
	ToolCalls        []ToolCall
	FinishReason     string
	Model            string
	PromptTokens     int
	CompletionTokens int
	// CostUSD is the provider-reported cost (OpenRouter), 0 when not reported.
	CostUSD  float64
	Duration time.Duration
}

// ErrNotConfigured means no API key is set: the product answers with a fixed apology.
var ErrNotConfigured = errors.New("llm: not configured (LLM_API_KEY is empty)")

// Error is a failed call. Retryable reports whether Temporal should try again
// (429, 5xx, timeouts, network); 400-class errors are not retried.
type Error struct {
	Status    int
	Message   string
	Retryable bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("llm: HTTP %d: %s", e.Status, e.Message)
}

// Client is the chat client.
type Client struct {
	oc         openai.Client
	configured bool
	openRouter bool
}

// New returns a client for baseURL; an empty apiKey gives a client that answers
// ErrNotConfigured.
func New(baseURL, apiKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{}
	}
	opts := []option.RequestOption{option.WithBaseURL(strings.TrimRight(baseURL, "/") + "/"), option.WithAPIKey(apiKey),
		option.WithMaxRetries(0), option.WithHTTPClient(hc)}
	return &Client{
		oc:         openai.NewClient(opts...),
		configured: apiKey != "" && baseURL != "",
		openRouter: strings.Contains(baseURL, "openrouter.ai"),
	}
}

// Configured reports whether calls can be made.
func (c *Client) Configured() bool { return c.configured }

// Chat runs one completion with the request's timeout and token cap.
func (c *Client) Chat(ctx context.Context, r Request) (Response, error) {
	if !c.configured {
		return Response{}, ErrNotConfigured
	}
	if r.MaxTokens <= 0 {
		return Response{}, errors.New("llm: MaxTokens must be set on every call")
	}
	if r.Timeout <= 0 {
		r.Timeout = 60 * time.Second
	}
	params := openai.ChatCompletionNewParams{
		Model:       shared.ChatModel(r.Model),
		Messages:    toParams(r.Messages),
		MaxTokens:   openai.Int(int64(r.MaxTokens)),
		Temperature: openai.Float(r.Temperature),
	}
	for _, t := range r.Tools {
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: t.Name, Description: openai.String(t.Description), Parameters: shared.FunctionParameters(t.Parameters),
		}))
	}
	if r.JSONOutput {
		params.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
	}
	opts := []option.RequestOption{option.WithRequestTimeout(r.Timeout)}
	if c.openRouter {
		// Ask OpenRouter to report the cost of the call in usage.
		opts = append(opts, option.WithJSONSet("usage", map[string]any{"include": true}))
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout+2*time.Second)
	defer cancel()
	start := time.Now()
	resp, err := c.oc.Chat.Completions.New(ctx, params, opts...)
	if err != nil {
		return Response{}, classify(err)
	}
	out := Response{Model: resp.Model, Duration: time.Since(start),
		PromptTokens: int(resp.Usage.PromptTokens), CompletionTokens: int(resp.Usage.CompletionTokens)}
	if f, ok := resp.Usage.JSON.ExtraFields["cost"]; ok {
		var cost float64
		if json.Unmarshal([]byte(f.Raw()), &cost) == nil {
			out.CostUSD = cost
		}
	}
	if len(resp.Choices) == 0 {
		return out, &Error{Status: 200, Message: "no choices in the response", Retryable: true}
	}
	ch := resp.Choices[0]
	out.Content = ch.Message.Content
	out.FinishReason = string(ch.FinishReason)
	for _, tc := range ch.Message.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	return out, nil
}

func classify(err error) error {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		status := apiErr.StatusCode
		retry := status == http.StatusTooManyRequests || status >= 500 || status == http.StatusRequestTimeout
		msg := apiErr.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
		return &Error{Status: status, Message: msg, Retryable: retry}
	}
	// Timeouts and network errors: try again.
	return &Error{Status: 0, Message: err.Error(), Retryable: true}
}

func toParams(ms []Message) []openai.ChatCompletionMessageParamUnion {
	out := make([]openai.ChatCompletionMessageParamUnion, 0, len(ms))
	for _, m := range ms {
		switch m.Role {
		case "system":
			out = append(out, openai.SystemMessage(m.Content))
		case "user":
			out = append(out, openai.UserMessage(m.Content))
		case "tool":
			out = append(out, openai.ToolMessage(m.Content, m.ToolCallID))
		default:
			a := openai.ChatCompletionAssistantMessageParam{}
			if m.Content != "" {
				a.Content.OfString = openai.String(m.Content)
			}
			for _, tc := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: tc.Arguments},
					},
				})
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		}
	}
	return out
}

// Cost returns the provider's cost when it reported one, else an estimate from per-million
// token prices.
func (r Response) Cost(promptPerM, outputPerM float64) float64 {
	if r.CostUSD > 0 {
		return r.CostUSD
	}
	return float64(r.PromptTokens)*promptPerM/1e6 + float64(r.CompletionTokens)*outputPerM/1e6
}

// Transcribe turns an audio file into text with an OpenAI-compatible
// /audio/transcriptions endpoint (multipart file + model). The filename's extension tells
// the server the format (ogg, mp3, m4a, wav, webm).
func (c *Client) Transcribe(ctx context.Context, model, filename string, audio []byte, timeout time.Duration) (string, error) {
	if !c.configured {
		return "", ErrNotConfigured
	}
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.oc.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{
		File:  openai.File(bytes.NewReader(audio), filename, audioContentType(filename)),
		Model: openai.AudioModel(model),
	}, option.WithRequestTimeout(timeout))
	if err != nil {
		return "", classify(err)
	}
	return strings.TrimSpace(resp.Text), nil
}

func audioContentType(filename string) string {
	switch strings.ToLower(path.Ext(filename)) {
	case ".mp3":
		return "audio/mpeg"
	case ".m4a", ".mp4":
		return "audio/mp4"
	case ".wav":
		return "audio/wav"
	case ".webm":
		return "audio/webm"
	}
	return "audio/ogg"
}
