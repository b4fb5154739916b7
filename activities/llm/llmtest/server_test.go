package llmtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type response struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

func post(t *testing.T, ctx context.Context, url, key, contentType string, body []byte) (response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.JSON)
	return out, nil
}

func postJSON(t *testing.T, s *Server, path string, body any) response {
	t.Helper()
	var raw []byte
	if b, ok := body.(string); ok {
		raw = []byte(b)
	} else {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(t, err)
	}
	resp, err := post(t, context.Background(), s.URL+path, s.APIKey, "application/json", raw)
	require.NoError(t, err)
	return resp
}

func chat(t *testing.T, s *Server, body any) response {
	t.Helper()
	return postJSON(t, s, "/chat/completions", body)
}

func user(text string) map[string]any { return map[string]any{"role": "user", "content": text} }

func simple(text string) map[string]any {
	return map[string]any{"model": "test-model", "messages": []any{user(text)}}
}

// choice returns choices[0] of a completion.
func choice(t *testing.T, r response) (message map[string]any, finish string) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	choices := r.JSON["choices"].([]any)
	require.Len(t, choices, 1)
	c := choices[0].(map[string]any)
	return c["message"].(map[string]any), c["finish_reason"].(string)
}

func errorOf(t *testing.T, r response) map[string]any {
	t.Helper()
	e, ok := r.JSON["error"].(map[string]any)
	require.True(t, ok, "OpenAI error shape expected, got %s", r.Raw)
	assert.NotEmpty(t, e["message"])
	assert.NotEmpty(t, e["type"])
	return e
}

func TestNewDefaults(t *testing.T) {
	s := New()
	defer s.Close()
	assert.True(t, strings.HasSuffix(s.URL, "/v1"), s.URL)
	assert.Equal(t, "test-llm-key", s.APIKey)
	assert.Equal(t, 1024, s.Dims)
}

func TestAuthRequired(t *testing.T) {
	s := New()
	defer s.Close()
	body, _ := json.Marshal(simple("hi"))
	for _, key := range []string{"", "wrong"} {
		for _, path := range []string{"/chat/completions", "/embeddings", "/audio/transcriptions"} {
			r, err := post(t, context.Background(), s.URL+path, key, "application/json", body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusUnauthorized, r.Status)
			assert.Equal(t, "invalid_api_key", errorOf(t, r)["code"])
		}
	}
	assert.Zero(t, s.Calls())
	assert.Empty(t, s.EmbeddingRequests())
	assert.Empty(t, s.Transcriptions())
}

func TestUnscriptedCallAnswersOK(t *testing.T) {
	s := New()
	defer s.Close()
	before := time.Now().Unix()
	r := chat(t, s, simple("Hi, I need chairs"))
	msg, finish := choice(t, r)
	assert.Equal(t, "assistant", msg["role"])
	assert.Equal(t, "OK", msg["content"])
	assert.NotContains(t, msg, "tool_calls")
	assert.Equal(t, "stop", finish)
	assert.Equal(t, "chat.completion", r.JSON["object"])
	assert.Equal(t, "test-model", r.JSON["model"])
	assert.True(t, strings.HasPrefix(r.JSON["id"].(string), "chatcmpl-"))
	assert.GreaterOrEqual(t, int64(r.JSON["created"].(float64)), before)

	u := r.JSON["usage"].(map[string]any)
	assert.Positive(t, u["prompt_tokens"])
	assert.Positive(t, u["completion_tokens"])
	assert.Equal(t, u["prompt_tokens"].(float64)+u["completion_tokens"].(float64), u["total_tokens"])
	assert.Equal(t, 1, s.Calls())
	assert.Equal(t, []int{200}, s.Statuses())
}

func TestRequestIsParsed(t *testing.T) {
	s := New()
	defer s.Close()
	body := map[string]any{
		"model": "deepseek/deepseek-v4-flash",
		"messages": []any{
			map[string]any{"role": "system", "content": "You are Noor."},
			map[string]any{"role": "user", "content": []any{
				map[string]any{"type": "text", "text": "Do you have this chair?"},
				map[string]any{"type": "image_url", "image_url": map[string]any{"url": "https://x/a.jpg"}},
				map[string]any{"type": "text", "text": "In grey."},
			}},
			map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{
				map[string]any{"id": "call_1", "type": "function", "function": map[string]any{"name": "search_catalog", "arguments": `{"query":"grey chair"}`}},
			}},
			map[string]any{"role": "tool", "tool_call_id": "call_1", "content": `[{"sku":"CH 145"}]`},
			map[string]any{"role": "user", "content": "And the price?", "name": "lina"},
		},
		"tools": []any{map[string]any{"type": "function", "function": map[string]any{
			"name": "search_catalog", "description": "Search the catalog",
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"query": map[string]any{"type": "string"}}},
		}}},
		"tool_choice":           "auto",
		"max_tokens":            100,
		"max_completion_tokens": 300,
		"temperature":           0,
		"response_format":       map[string]any{"type": "json_object"},
	}
	chat(t, s, body)

	reqs := s.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, "deepseek/deepseek-v4-flash", r.Model)
	require.Len(t, r.Messages, 5)
	assert.Equal(t, "Do you have this chair?\nIn grey.", r.Messages[1].Content, "text parts flattened, image dropped")
	assert.Equal(t, []ToolCall{{ID: "call_1", Name: "search_catalog", Arguments: `{"query":"grey chair"}`}}, r.Messages[2].ToolCalls)
	assert.Equal(t, "call_1", r.Messages[3].ToolCallID)
	assert.Equal(t, "lina", r.Messages[4].Name)
	require.Len(t, r.Tools, 1)
	assert.Equal(t, "search_catalog", r.Tools[0].Name)
	assert.Equal(t, "Search the catalog", r.Tools[0].Description)
	assert.Equal(t, "object", r.Tools[0].Parameters["type"])
	assert.Equal(t, "auto", r.ToolChoice)
	assert.Equal(t, 300, r.MaxTokens, "max_completion_tokens wins over max_tokens")
	require.NotNil(t, r.Temperature)
	assert.Zero(t, *r.Temperature)
	assert.Equal(t, map[string]any{"type": "json_object"}, r.ResponseFormat)
	assert.Contains(t, string(r.Raw), `"deepseek/deepseek-v4-flash"`)
	assert.Equal(t, "Bearer test-llm-key", r.Header.Get("Authorization"))

	assert.Equal(t, "And the price?", r.LastUserText())
	assert.Equal(t, "You are Noor.", r.System())
	assert.Equal(t, "Do you have this chair?\nIn grey.\nAnd the price?", r.Text("user"))
	assert.True(t, HasToolResult(r, "search_catalog"))
	assert.Equal(t, `[{"sku":"CH 145"}]`, ToolResult(r, "search_catalog"))
	assert.False(t, HasToolResult(r, "create_quote"))
	assert.True(t, OffersTool(r, "search_catalog"))
	assert.False(t, OffersTool(r, "create_quote"))

	// max_tokens alone; no temperature.
	chat(t, s, map[string]any{"model": "m", "messages": []any{user("x")}, "max_tokens": 64})
	r = s.Requests()[1]
	assert.Equal(t, 64, r.MaxTokens)
	assert.Nil(t, r.Temperature)
	assert.Empty(t, r.System())
	assert.Empty(t, r.Tools)
}

func TestReplyPriority(t *testing.T) {
	s := New()
	defer s.Close()
	s.Enqueue(Reply{Content: "first"}, Reply{Content: "second"})
	s.Handle(func(r ChatRequest) Reply { return Reply{Content: "handler saw " + r.LastUserText()} })
	s.FailNext(1, http.StatusServiceUnavailable)

	r := chat(t, s, simple("a"))
	assert.Equal(t, http.StatusServiceUnavailable, r.Status)
	assert.Equal(t, "server_error", errorOf(t, r)["type"])

	var got []string
	for _, text := range []string{"b", "c", "d"} {
		msg, _ := choice(t, chat(t, s, simple(text)))
		got = append(got, msg["content"].(string))
	}
	assert.Equal(t, []string{"first", "second", "handler saw d"}, got)

	s.Handle(nil)
	msg, _ := choice(t, chat(t, s, simple("e")))
	assert.Equal(t, DefaultContent, msg["content"])
	assert.Equal(t, 5, s.Calls())
	assert.Equal(t, []int{503, 200, 200, 200, 200}, s.Statuses())
}

func TestToolCallReply(t *testing.T) {
	s := New()
	defer s.Close()
	s.Enqueue(
		Reply{ToolCalls: []ToolCall{Call("search_catalog", map[string]any{"query": "chair"}), Call("get_stock", `{"sku":"CH 145"}`)}},
		Reply{Content: "Let me check.", ToolCalls: []ToolCall{{ID: "fixed", Name: "get_stock", Arguments: "{}"}}},
	)
	msg, finish := choice(t, chat(t, s, simple("chairs")))
	assert.Equal(t, "tool_calls", finish)
	assert.Nil(t, msg["content"], "content is null when only tools are called")
	calls := msg["tool_calls"].([]any)
	require.Len(t, calls, 2)
	c0 := calls[0].(map[string]any)
	c1 := calls[1].(map[string]any)
	assert.Equal(t, "function", c0["type"])
	assert.Equal(t, map[string]any{"name": "search_catalog", "arguments": `{"query":"chair"}`}, c0["function"])
	assert.Equal(t, `{"sku":"CH 145"}`, c1["function"].(map[string]any)["arguments"])
	assert.NotEmpty(t, c0["id"])
	assert.NotEqual(t, c0["id"], c1["id"])

	msg, finish = choice(t, chat(t, s, simple("again")))
	assert.Equal(t, "tool_calls", finish)
	assert.Equal(t, "Let me check.", msg["content"])
	assert.Equal(t, "fixed", msg["tool_calls"].([]any)[0].(map[string]any)["id"])
}

func TestReplyUsageAndFinishOverrides(t *testing.T) {
	s := New()
	defer s.Close()
	s.Enqueue(Reply{Content: "x", PromptTokens: 1234, CompletionTokens: 56, FinishReason: "content_filter", Cost: 0.0021})
	r := chat(t, s, simple("hi"))
	_, finish := choice(t, r)
	assert.Equal(t, "content_filter", finish)
	assert.Equal(t, map[string]any{"prompt_tokens": 1234.0, "completion_tokens": 56.0, "total_tokens": 1290.0, "cost": 0.0021}, r.JSON["usage"])

	// Estimated tokens grow with the prompt and the answer.
	s.Enqueue(Reply{Content: "short"}, Reply{Content: strings.Repeat("long answer ", 100)})
	small := chat(t, s, simple("hi")).JSON["usage"].(map[string]any)
	big := chat(t, s, simple(strings.Repeat("a long question ", 100))).JSON["usage"].(map[string]any)
	assert.Greater(t, big["prompt_tokens"], small["prompt_tokens"])
	assert.Greater(t, big["completion_tokens"], small["completion_tokens"])
	assert.NotContains(t, small, "cost")
}

func TestMaxTokensTruncates(t *testing.T) {
	s := New()
	defer s.Close()
	s.Enqueue(Reply{Content: `{"score": 4, "evidence": "` + strings.Repeat("مرحبا ", 40) + `"}`})
	r := chat(t, s, map[string]any{"model": "judge", "messages": []any{user("grade")}, "max_tokens": 5})
	msg, finish := choice(t, r)
	assert.Equal(t, "length", finish)
	content := msg["content"].(string)
	assert.LessOrEqual(t, len(content), 20)
	assert.True(t, strings.HasPrefix(content, `{"score": 4`))
	assert.Equal(t, 5.0, r.JSON["usage"].(map[string]any)["completion_tokens"])
}

func TestErrorReplies(t *testing.T) {
	s := New()
	defer s.Close()
	s.Enqueue(
		Reply{Status: 400, ErrorCode: "context_length_exceeded", ErrorMessage: "This model's maximum context length is 8192 tokens."},
		Reply{Status: 429},
		Reply{Status: 200, Content: "fine"},
	)
	r := chat(t, s, simple("x"))
	assert.Equal(t, 400, r.Status)
	e := errorOf(t, r)
	assert.Equal(t, "context_length_exceeded", e["code"])
	assert.Equal(t, "invalid_request_error", e["type"])
	assert.Contains(t, e["message"], "8192")

	r = chat(t, s, simple("x"))
	assert.Equal(t, 429, r.Status)
	assert.Equal(t, "rate_limit_exceeded", errorOf(t, r)["code"])

	msg, _ := choice(t, chat(t, s, simple("x")))
	assert.Equal(t, "fine", msg["content"])
}

func TestDelayAndClientTimeout(t *testing.T) {
	s := New()
	defer s.Close()
	s.Enqueue(Reply{Content: "too late", Delay: time.Hour}, Reply{Content: "slow", Delay: 20 * time.Millisecond})

	body, _ := json.Marshal(simple("x"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := post(t, ctx, s.URL+"/chat/completions", s.APIKey, "application/json", body)
	cancel()
	require.Error(t, err)
	require.Eventually(t, func() bool {
		st := s.Statuses()
		return len(st) == 1 && st[0] == StatusClientGone
	}, 5*time.Second, 10*time.Millisecond)

	msg, _ := choice(t, chat(t, s, simple("x")))
	assert.Equal(t, "slow", msg["content"])
}

func TestChatValidation(t *testing.T) {
	s := New()
	defer s.Close()
	call := func(id, name string) map[string]any {
		return map[string]any{"id": id, "type": "function", "function": map[string]any{"name": name, "arguments": "{}"}}
	}
	assistant := func(calls ...any) map[string]any {
		return map[string]any{"role": "assistant", "content": nil, "tool_calls": calls}
	}
	tool := func(id string) map[string]any {
		return map[string]any{"role": "tool", "tool_call_id": id, "content": "{}"}
	}

	cases := []struct {
		name string
		body any
		want string
	}{
		{"not json", `{"model":`, "parse the JSON"},
		{"no model", map[string]any{"messages": []any{user("x")}}, "model"},
		{"no messages", map[string]any{"model": "m", "messages": []any{}}, "messages"},
		{"bad role", map[string]any{"model": "m", "messages": []any{map[string]any{"role": "robot", "content": "x"}}}, "robot"},
		{"bad content", map[string]any{"model": "m", "messages": []any{map[string]any{"role": "user", "content": 5}}}, "content"},
		{"max_tokens zero", map[string]any{"model": "m", "messages": []any{user("x")}, "max_tokens": 0}, "max_tokens"},
		{"bad tool name", map[string]any{"model": "m", "messages": []any{user("x")}, "tools": []any{
			map[string]any{"type": "function", "function": map[string]any{"name": "search catalog"}}}}, "tools[0]"},
		{"tool without call", map[string]any{"model": "m", "messages": []any{user("x"), tool("call_1")}}, "preceeding"},
		{"tool answers unknown id", map[string]any{"model": "m", "messages": []any{user("x"), assistant(call("call_1", "a")), tool("call_2")}}, "call_2"},
		{"tool answered twice", map[string]any{"model": "m", "messages": []any{user("x"), assistant(call("call_1", "a")), tool("call_1"), tool("call_1")}}, "call_1"},
		{"missing tool result", map[string]any{"model": "m", "messages": []any{user("x"), assistant(call("call_1", "a"), call("call_2", "b")), tool("call_1"), user("y")}}, "call_2"},
		{"trailing call without result", map[string]any{"model": "m", "messages": []any{user("x"), assistant(call("call_1", "a"))}}, "call_1"},
		{"call without id", map[string]any{"model": "m", "messages": []any{user("x"), assistant(call("", "a")), tool("")}}, "tool_calls[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := chat(t, s, tc.body)
			assert.Equal(t, http.StatusBadRequest, r.Status)
			e := errorOf(t, r)
			assert.Equal(t, "invalid_request_error", e["type"])
			assert.Contains(t, e["message"], tc.want)
		})
	}
	assert.Equal(t, len(cases), s.Calls(), "rejected requests are recorded too")
	for _, st := range s.Statuses() {
		assert.Equal(t, http.StatusBadRequest, st)
	}

	// A complete tool round is accepted, with parallel calls answered in any order.
	r := chat(t, s, map[string]any{"model": "m", "messages": []any{
		user("x"), assistant(call("call_1", "a"), call("call_2", "b")), tool("call_2"), tool("call_1"),
		map[string]any{"role": "assistant", "content": "done"}, user("y"),
	}})
	assert.Equal(t, http.StatusOK, r.Status, string(r.Raw))
}

func TestWaitForRequests(t *testing.T) {
	s := New()
	defer s.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.WaitForRequests(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)

	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(simple(fmt.Sprint("msg ", i)))
			r, err := post(t, context.Background(), s.URL+"/chat/completions", s.APIKey, "application/json", body)
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, r.Status)
			}
		}()
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	reqs, err := s.WaitForRequests(wctx, n)
	require.NoError(t, err)
	assert.Len(t, reqs, n)
	wg.Wait()
	assert.Equal(t, n, s.Calls())
}

func TestRulesScript(t *testing.T) {
	s := New()
	defer s.Close()
	s.Handle(Rules(
		Rule{Match: SystemContains("quality judge"), Reply: Say(`{"score":5}`)},
		Rule{
			Match: func(r ChatRequest) bool { return HasToolResult(r, "search_catalog") },
			Reply: func(r ChatRequest) Reply { return Reply{Content: "Found: " + ToolResult(r, "search_catalog")} },
		},
		Rule{Match: UserSays("CHAIR"), Reply: CallTools(Call("search_catalog", map[string]string{"query": "chair"}))},
	))

	msg, _ := choice(t, chat(t, s, map[string]any{"model": "m", "messages": []any{
		map[string]any{"role": "system", "content": "You are a quality judge."}, user("grade this"),
	}}))
	assert.Equal(t, `{"score":5}`, msg["content"])

	msg, finish := choice(t, chat(t, s, simple("I need a chair")))
	assert.Equal(t, "tool_calls", finish)
	tc := msg["tool_calls"].([]any)[0].(map[string]any)
	id := tc["id"].(string)
	assert.Equal(t, `{"query":"chair"}`, tc["function"].(map[string]any)["arguments"])

	msg, _ = choice(t, chat(t, s, map[string]any{"model": "m", "messages": []any{
		user("I need a chair"),
		map[string]any{"role": "assistant", "tool_calls": []any{tc}},
		map[string]any{"role": "tool", "tool_call_id": id, "content": "CH 145"},
	}}))
	assert.Equal(t, "Found: CH 145", msg["content"])

	msg, _ = choice(t, chat(t, s, simple("hello")))
	assert.Equal(t, NoRuleContent, msg["content"])

	catchAll := Rules(Rule{Reply: Say("always")})
	assert.Equal(t, "always", catchAll(ChatRequest{}).Content)
}

// sse reads a streamed completion back into content, tool calls and the final chunk fields.
type streamed struct {
	content    string
	roles      []string
	calls      map[int]*ToolCall
	finish     string
	usage      map[string]any
	sawDone    bool
	dataEvents int
}

func readStream(t *testing.T, raw []byte) streamed {
	t.Helper()
	out := streamed{calls: map[int]*ToolCall{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		require.True(t, strings.HasPrefix(line, "data: "), line)
		data := strings.TrimPrefix(line, "data: ")
		require.False(t, out.sawDone, "nothing after [DONE]")
		if data == "[DONE]" {
			out.sawDone = true
			continue
		}
		out.dataEvents++
		var c struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta struct {
					Role      string  `json:"role"`
					Content   *string `json:"content"`
					ToolCalls []struct {
						Index    int    `json:"index"`
						ID       string `json:"id"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage map[string]any `json:"usage"`
		}
		require.NoError(t, json.Unmarshal([]byte(data), &c))
		assert.Equal(t, "chat.completion.chunk", c.Object)
		if c.Usage != nil {
			out.usage = c.Usage
		}
		for _, ch := range c.Choices {
			if ch.Delta.Role != "" {
				out.roles = append(out.roles, ch.Delta.Role)
			}
			if ch.Delta.Content != nil {
				out.content += *ch.Delta.Content
			}
			for _, tc := range ch.Delta.ToolCalls {
				cur := out.calls[tc.Index]
				if cur == nil {
					cur = &ToolCall{}
					out.calls[tc.Index] = cur
				}
				if tc.ID != "" {
					cur.ID = tc.ID
				}
				cur.Name += tc.Function.Name
				cur.Arguments += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				out.finish = *ch.FinishReason
			}
		}
	}
	return out
}

func TestStreaming(t *testing.T) {
	s := New()
	defer s.Close()
	s.Enqueue(
		Reply{Content: "Hello Lina, مرحبا! Three options fit your budget."},
		Reply{ToolCalls: []ToolCall{Call("search_catalog", `{"query":"chair"}`), Call("get_stock", `{"sku":"CH 145"}`)}},
	)

	body := map[string]any{"model": "m", "messages": []any{user("hi")}, "stream": true, "stream_options": map[string]any{"include_usage": true}}
	r := chat(t, s, body)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Header.Get("Content-Type"), "text/event-stream")
	got := readStream(t, r.Raw)
	assert.True(t, got.sawDone)
	assert.Equal(t, []string{"assistant"}, got.roles)
	assert.Equal(t, "Hello Lina, مرحبا! Three options fit your budget.", got.content)
	assert.Greater(t, got.dataEvents, 3, "content arrives in several chunks")
	assert.Equal(t, "stop", got.finish)
	require.NotNil(t, got.usage)
	assert.Positive(t, got.usage["completion_tokens"])
	assert.True(t, s.Requests()[0].Stream)

	delete(body, "stream_options")
	got = readStream(t, chat(t, s, body).Raw)
	assert.Equal(t, "tool_calls", got.finish)
	assert.Nil(t, got.usage, "usage only when asked")
	require.Len(t, got.calls, 2)
	assert.Equal(t, "search_catalog", got.calls[0].Name)
	assert.Equal(t, `{"query":"chair"}`, got.calls[0].Arguments)
	assert.Equal(t, `{"sku":"CH 145"}`, got.calls[1].Arguments)
	assert.NotEmpty(t, got.calls[1].ID)

	// Errors are plain JSON, not a stream.
	s.FailNext(1, 500)
	r = chat(t, s, body)
	assert.Equal(t, 500, r.Status)
	errorOf(t, r)
}

func cosine(a, b []float32) float64 {
	var dot float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	return dot
}

func decodeVectors(t *testing.T, r response) [][]float32 {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	var body struct {
		Data []struct {
			Index     int       `json:"index"`
			Object    string    `json:"object"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.Raw, &body))
	out := make([][]float32, len(body.Data))
	for i, d := range body.Data {
		assert.Equal(t, i, d.Index)
		assert.Equal(t, "embedding", d.Object)
		out[i] = d.Embedding
	}
	return out
}

func TestEmbeddings(t *testing.T) {
	s := New()
	defer s.Close()

	r := postJSON(t, s, "/embeddings", map[string]any{"model": "bge-m3", "input": []string{
		"ergonomic office chair with lumbar support",
		"ergonomic chair lumbar support",
		"meeting table for ten people",
		"ergonomic office chair with lumbar support",
	}})
	vecs := decodeVectors(t, r)
	require.Len(t, vecs, 4)
	assert.Equal(t, "list", r.JSON["object"])
	assert.Equal(t, "bge-m3", r.JSON["model"])
	assert.Positive(t, r.JSON["usage"].(map[string]any)["prompt_tokens"])
	for _, v := range vecs {
		require.Len(t, v, 1024)
		assert.InDelta(t, 1.0, cosine(v, v), 1e-4, "unit length")
	}
	assert.Equal(t, vecs[0], vecs[3], "same text, same vector")
	related, unrelated := cosine(vecs[0], vecs[1]), cosine(vecs[0], vecs[2])
	assert.Greater(t, related, 0.6)
	assert.Less(t, math.Abs(unrelated), 0.2)
	assert.Equal(t, Embed("ergonomic chair lumbar support", 1024), vecs[1])

	// A single string, Arabic, requested dimensions.
	one := decodeVectors(t, postJSON(t, s, "/embeddings", map[string]any{"model": "bge-m3", "input": "كرسي مكتب", "dimensions": 8}))
	require.Len(t, one, 1)
	assert.Len(t, one[0], 8)

	// base64 encoding of little-endian float32s.
	r = postJSON(t, s, "/embeddings", map[string]any{"model": "bge-m3", "input": []string{"chair"}, "encoding_format": "base64"})
	require.Equal(t, http.StatusOK, r.Status)
	b64 := r.JSON["data"].([]any)[0].(map[string]any)["embedding"].(string)
	raw, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	require.Len(t, raw, 4*1024)
	want := Embed("chair", 1024)
	for i := range want {
		require.Equal(t, want[i], math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
	}

	s.Dims = 16
	small := decodeVectors(t, postJSON(t, s, "/embeddings", map[string]any{"model": "m", "input": "x"}))
	assert.Len(t, small[0], 16)

	assert.Equal(t, [][]string{
		{"ergonomic office chair with lumbar support", "ergonomic chair lumbar support", "meeting table for ten people", "ergonomic office chair with lumbar support"},
		{"كرسي مكتب"}, {"chair"}, {"x"},
	}, s.EmbeddingRequests())
	calls := s.EmbeddingCalls()
	assert.Equal(t, 8, calls[1].Dimensions)
	assert.Equal(t, 16, calls[3].Dimensions)
	assert.Equal(t, "base64", calls[2].EncodingFormat)
}

func TestEmbeddingsErrors(t *testing.T) {
	s := New()
	defer s.Close()
	for name, body := range map[string]any{
		"no model":     map[string]any{"input": "x"},
		"no input":     map[string]any{"model": "m"},
		"empty list":   map[string]any{"model": "m", "input": []string{}},
		"empty string": map[string]any{"model": "m", "input": []string{"a", ""}},
		"tokens":       map[string]any{"model": "m", "input": []int{1, 2}},
		"bad format":   map[string]any{"model": "m", "input": "x", "encoding_format": "int8"},
		"too many":     map[string]any{"model": "m", "input": make([]string, MaxEmbeddingInputs+1)},
		"not json":     `{"model"`,
	} {
		r := postJSON(t, s, "/embeddings", body)
		assert.Equal(t, http.StatusBadRequest, r.Status, name)
		assert.Equal(t, "invalid_request_error", errorOf(t, r)["type"], name)
	}
	assert.Empty(t, s.EmbeddingRequests())

	s.FailEmbeddings(2, 502)
	for range 2 {
		r := postJSON(t, s, "/embeddings", map[string]any{"model": "m", "input": "x"})
		assert.Equal(t, 502, r.Status)
		assert.Equal(t, "server_error", errorOf(t, r)["type"])
	}
	decodeVectors(t, postJSON(t, s, "/embeddings", map[string]any{"model": "m", "input": "x"}))
	assert.Len(t, s.EmbeddingRequests(), 3, "failed calls are recorded, so retries are visible")
}

func multipartAudio(t *testing.T, fields map[string]string, filename string, audio []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if filename != "" {
		fw, err := mw.CreateFormFile("file", filename)
		require.NoError(t, err)
		_, err = fw.Write(audio)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}

func transcribe(t *testing.T, s *Server, contentType string, body []byte) response {
	t.Helper()
	r, err := post(t, context.Background(), s.URL+"/audio/transcriptions", s.APIKey, contentType, body)
	require.NoError(t, err)
	return r
}

func TestTranscription(t *testing.T) {
	s := New()
	defer s.Close()
	ogg := []byte("OggS fake audio")

	ct, body := multipartAudio(t, map[string]string{"model": "openai/gpt-4o-mini-transcribe", "language": "en"}, "voice.ogg", ogg)
	r := transcribe(t, s, ct, body)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, DefaultTranscript, r.JSON["text"])

	s.SetTranscript("We need four ergonomic chairs.")
	r = transcribe(t, s, ct, body)
	assert.Equal(t, "We need four ergonomic chairs.", r.JSON["text"])
	r = transcribe(t, s, ct, body)
	assert.Equal(t, "We need four ergonomic chairs.", r.JSON["text"], "the transcript stays until changed")

	// OpenRouter's JSON variant.
	jsonBody, _ := json.Marshal(map[string]any{"model": "m", "input_audio": map[string]any{
		"data": base64.StdEncoding.EncodeToString([]byte("arabic audio")), "format": "ogg",
	}})
	s.HandleTranscription(func(req TranscriptionRequest) string {
		if string(req.Audio) == "arabic audio" {
			return "مرحباً، نحتاج طاولتي اجتماعات"
		}
		return "english"
	})
	r = transcribe(t, s, "application/json", jsonBody)
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, "مرحباً، نحتاج طاولتي اجتماعات", r.JSON["text"])

	// Plain-text response format.
	ctText, bodyText := multipartAudio(t, map[string]string{"model": "m", "response_format": "text"}, "v.mp3", []byte("x"))
	r = transcribe(t, s, ctText, bodyText)
	assert.Equal(t, "english", string(r.Raw))

	got := s.Transcriptions()
	require.Len(t, got, 5)
	assert.Equal(t, TranscriptionRequest{Model: "openai/gpt-4o-mini-transcribe", Filename: "voice.ogg", Format: "ogg", Language: "en", Audio: ogg}, got[0])
	assert.Equal(t, "ogg", got[3].Format)
	assert.Equal(t, []byte("arabic audio"), got[3].Audio)
	assert.Equal(t, "mp3", got[4].Format)
	assert.Equal(t, "text", got[4].ResponseFormat)

	// Sticky failure until reset.
	s.FailTranscription(503)
	for range 2 {
		r = transcribe(t, s, ct, body)
		assert.Equal(t, 503, r.Status)
		errorOf(t, r)
	}
	s.FailTranscription(0)
	assert.Equal(t, http.StatusOK, transcribe(t, s, ct, body).Status)
}

func TestTranscriptionErrors(t *testing.T) {
	s := New()
	defer s.Close()
	noFile, b1 := multipartAudio(t, map[string]string{"model": "m"}, "", nil)
	noModel, b2 := multipartAudio(t, nil, "v.ogg", []byte("x"))
	empty, b3 := multipartAudio(t, map[string]string{"model": "m"}, "v.ogg", nil)
	badB64, _ := json.Marshal(map[string]any{"model": "m", "input_audio": map[string]any{"data": "%%%", "format": "ogg"}})
	for name, tc := range map[string]struct {
		ct   string
		body []byte
	}{
		"no file": {noFile, b1}, "no model": {noModel, b2}, "empty audio": {empty, b3},
		"bad base64": {"application/json", badB64}, "text body": {"text/plain", []byte("hi")},
	} {
		r := transcribe(t, s, tc.ct, tc.body)
		assert.Equal(t, http.StatusBadRequest, r.Status, name)
		errorOf(t, r)
	}
	assert.Empty(t, s.Transcriptions())
}

func TestUnknownEndpoint(t *testing.T) {
	s := New()
	defer s.Close()
	r := postJSON(t, s, "/completions", simple("x"))
	assert.Equal(t, http.StatusNotFound, r.Status)
	errorOf(t, r)
}

// Close must not wait out a reply delay: the request is dropped like a dying provider.
func TestCloseCutsDelays(t *testing.T) {
	s := New()
	s.Enqueue(Reply{Content: "never", Delay: time.Hour})
	errc := make(chan error, 1)
	go func() {
		body, _ := json.Marshal(simple("x"))
		_, err := post(t, context.Background(), s.URL+"/chat/completions", s.APIKey, "application/json", body)
		errc <- err
	}()
	_, err := s.WaitForRequests(context.Background(), 1)
	require.NoError(t, err)

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the reply delay")
	}
	assert.Error(t, <-errc)
	assert.Equal(t, []int{StatusClientGone}, s.Statuses())
	s.Close()
}
