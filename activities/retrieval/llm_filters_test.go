package retrieval

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/llm"
	"github.com/treejar/noor/activities/llm/llmtest"
)

func TestLLMExtractorReadsTheFastModelsFilters(t *testing.T) {
	srv := llmtest.New()
	defer srv.Close()
	srv.Handle(func(r llmtest.ChatRequest) llmtest.Reply {
		return llmtest.Reply{Content: "```json\n{\"category\":\"executive-chair\",\"max_price\":700,\"colour\":\"Black\",\"in_stock\":true,\"sku\":\"\"}\n```"}
	})
	x := NewLLMExtractor(llm.New(srv.URL, srv.APIKey, nil), "test/fast")
	f, err := x.ExtractFilters(context.Background(), "a black executive chair under 700 AED in stock")
	require.NoError(t, err)
	assert.Equal(t, "executive-chair", f.Category)
	require.NotNil(t, f.MaxPrice)
	assert.Equal(t, 700.0, *f.MaxPrice)
	assert.Equal(t, "black", f.Colour)
	assert.True(t, f.InStockOnly)
	assert.Equal(t, "llm", f.Source)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "test/fast", reqs[0].Model)
	assert.Equal(t, 150, reqs[0].MaxTokens, "a small, fixed token budget")
	assert.Equal(t, extractorPrompt(), reqs[0].System(), "the prompt is the same on every call")

	srv.FailNext(1, 400)
	_, err = x.ExtractFilters(context.Background(), "anything")
	assert.Error(t, err, "a failure is reported so the caller falls back to the parser")
	srv.Handle(func(llmtest.ChatRequest) llmtest.Reply { return llmtest.Reply{Content: "I think you want chairs"} })
	_, err = x.ExtractFilters(context.Background(), "anything")
	assert.Error(t, err, "prose instead of JSON is an error")
}
