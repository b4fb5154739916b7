package llmtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/llm/llmtest"
)

// The fake must be usable by the real client our activities use: a full tool round, a
// stream, embeddings, transcription and error mapping.

func newClient(s *llmtest.Server, opts ...option.RequestOption) openai.Client {
	base := []option.RequestOption{option.WithBaseURL(s.URL), option.WithAPIKey(s.APIKey), option.WithMaxRetries(0)}
	return openai.NewClient(append(base, opts...)...)
}

var searchTool = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name:        "search_catalog",
	Description: openai.String("Search the product catalog"),
	Parameters: shared.FunctionParameters{
		"type":       "object",
		"properties": map[string]any{"query": map[string]any{"type": "string"}},
		"required":   []string{"query"},
	},
})

func TestOpenAIClientToolRound(t *testing.T) {
	s := llmtest.New()
	defer s.Close()
	s.Handle(llmtest.Rules(
		llmtest.Rule{
			Match: func(r llmtest.ChatRequest) bool { return llmtest.HasToolResult(r, "search_catalog") },
			Reply: func(r llmtest.ChatRequest) llmtest.Reply {
				return llmtest.Reply{Content: "We have " + llmtest.ToolResult(r, "search_catalog") + " at AED 503."}
			},
		},
		llmtest.Rule{
			Match: llmtest.UserSays("chair"),
			Reply: llmtest.CallTools(llmtest.Call("search_catalog", map[string]string{"query": "ergonomic chair"})),
		},
	))
	client := newClient(s)
	ctx := context.Background()

	params := openai.ChatCompletionNewParams{
		Model: "test/strong",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You are Noor."),
			openai.UserMessage("I need an ergonomic chair"),
		},
		Tools:               []openai.ChatCompletionToolUnionParam{searchTool},
		MaxCompletionTokens: openai.Int(400),
		Temperature:         openai.Float(0.2),
	}
	first, err := client.Chat.Completions.New(ctx, params)
	require.NoError(t, err)
	require.Len(t, first.Choices, 1)
	assert.Equal(t, "tool_calls", first.Choices[0].FinishReason)
	calls := first.Choices[0].Message.ToolCalls
	require.Len(t, calls, 1)
	assert.Equal(t, "search_catalog", calls[0].Function.Name)
	assert.JSONEq(t, `{"query":"ergonomic chair"}`, calls[0].Function.Arguments)
	assert.NotEmpty(t, calls[0].ID)
	assert.Positive(t, first.Usage.PromptTokens)
	assert.Equal(t, "test/strong", first.Model)

	params.Messages = append(params.Messages, first.Choices[0].Message.ToParam(), openai.ToolMessage("CH 145 black", calls[0].ID))
	second, err := client.Chat.Completions.New(ctx, params)
	require.NoError(t, err)
	assert.Equal(t, "We have CH 145 black at AED 503.", second.Choices[0].Message.Content)
	assert.Equal(t, "stop", second.Choices[0].FinishReason)

	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "You are Noor.", reqs[0].System())
	assert.Equal(t, 400, reqs[0].MaxTokens)
	require.NotNil(t, reqs[0].Temperature)
	assert.InDelta(t, 0.2, *reqs[0].Temperature, 1e-9)
	require.Len(t, reqs[0].Tools, 1)
	assert.Equal(t, "search_catalog", reqs[0].Tools[0].Name)
	require.Len(t, reqs[1].Messages, 4)
	assert.Equal(t, calls[0].ID, reqs[1].Messages[2].ToolCalls[0].ID, "the assistant turn is echoed back")
	assert.JSONEq(t, `{"query":"ergonomic chair"}`, reqs[1].Messages[2].ToolCalls[0].Arguments)
	assert.Equal(t, "CH 145 black", llmtest.ToolResult(reqs[1], "search_catalog"))
}

func TestOpenAIClientStreaming(t *testing.T) {
	s := llmtest.New()
	defer s.Close()
	s.Enqueue(
		llmtest.Reply{Content: "Hello Lina! Three options fit."},
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{llmtest.Call("search_catalog", `{"query":"desk"}`)}},
	)
	client := newClient(s)
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:         "m",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		Tools:         []openai.ChatCompletionToolUnionParam{searchTool},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}

	for _, check := range []func(acc openai.ChatCompletionAccumulator){
		func(acc openai.ChatCompletionAccumulator) {
			assert.Equal(t, "Hello Lina! Three options fit.", acc.Choices[0].Message.Content)
			assert.Equal(t, "stop", acc.Choices[0].FinishReason)
			assert.Positive(t, acc.Usage.CompletionTokens)
		},
		func(acc openai.ChatCompletionAccumulator) {
			require.Len(t, acc.Choices[0].Message.ToolCalls, 1)
			assert.Equal(t, "search_catalog", acc.Choices[0].Message.ToolCalls[0].Function.Name)
			assert.Equal(t, `{"query":"desk"}`, acc.Choices[0].Message.ToolCalls[0].Function.Arguments)
			assert.Equal(t, "tool_calls", acc.Choices[0].FinishReason)
		},
	} {
		stream := client.Chat.Completions.NewStreaming(ctx, params)
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		require.NoError(t, stream.Err())
		require.NoError(t, stream.Close())
		require.Len(t, acc.Choices, 1)
		check(acc)
	}
	assert.True(t, s.Requests()[0].Stream)
}

func TestOpenAIClientEmbeddings(t *testing.T) {
	s := llmtest.New()
	defer s.Close()
	client := newClient(s)

	res, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "bge-m3",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"office chair", "كرسي مكتب"}},
	})
	require.NoError(t, err)
	require.Len(t, res.Data, 2)
	want := llmtest.Embed("office chair", llmtest.DefaultDims)
	require.Len(t, res.Data[0].Embedding, llmtest.DefaultDims)
	for i := range want {
		require.InDelta(t, float64(want[i]), res.Data[0].Embedding[i], 1e-7)
	}
	assert.Equal(t, int64(1), res.Data[1].Index)
	assert.Equal(t, [][]string{{"office chair", "كرسي مكتب"}}, s.EmbeddingRequests())

	// The base64 encoding decodes to the same vector.
	b64, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "bge-m3", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("office chair")},
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64,
	})
	require.NoError(t, err)
	require.Len(t, b64.Data, 1)
	require.Len(t, b64.Data[0].Embedding, llmtest.DefaultDims)
	for i := range want {
		require.Equal(t, want[i], float32(b64.Data[0].Embedding[i]))
	}
}

func TestOpenAIClientTranscription(t *testing.T) {
	s := llmtest.New()
	defer s.Close()
	s.SetTranscript("Hi, this is Daniel from Nordlicht Engineering.")
	client := newClient(s)

	res, err := client.Audio.Transcriptions.New(context.Background(), openai.AudioTranscriptionNewParams{
		File:  openai.File(strings.NewReader("OggS fake"), "voice.ogg", "audio/ogg"),
		Model: "openai/gpt-4o-mini-transcribe",
	})
	require.NoError(t, err)
	assert.Equal(t, "Hi, this is Daniel from Nordlicht Engineering.", res.Text)
	got := s.Transcriptions()
	require.Len(t, got, 1)
	assert.Equal(t, "voice.ogg", got[0].Filename)
	assert.Equal(t, []byte("OggS fake"), got[0].Audio)
}

func TestOpenAIClientErrors(t *testing.T) {
	s := llmtest.New()
	defer s.Close()
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	}

	client := newClient(s)
	wrongKey := newClient(s, option.WithAPIKey("wrong"))
	retrying := newClient(s, option.WithMaxRetries(1))

	var apiErr *openai.Error
	_, err := wrongKey.Chat.Completions.New(ctx, params)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, "invalid_api_key", apiErr.Code)

	s.Enqueue(llmtest.Reply{Status: 400, ErrorCode: "context_length_exceeded"})
	_, err = client.Chat.Completions.New(ctx, params)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Equal(t, "context_length_exceeded", apiErr.Code)

	// The client's own retries see the injected failures and then succeed.
	s.FailNext(1, http.StatusTooManyRequests)
	res, err := retrying.Chat.Completions.New(ctx, params)
	require.NoError(t, err)
	assert.Equal(t, llmtest.DefaultContent, res.Choices[0].Message.Content)
	assert.Equal(t, []int{400, 429, 200}, s.Statuses(), "auth failures are not recorded")

	// A protocol error in our agent loop (a tool result for an unknown call) is rejected.
	_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi"), openai.ToolMessage("x", "call_nope")},
	})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, "preceeding")
}
