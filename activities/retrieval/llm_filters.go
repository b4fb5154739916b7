package retrieval

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/treejar/noor/activities/llm"
)

// Chatter is the chat-completion client (llm.Client).
type Chatter interface {
	Chat(ctx context.Context, r llm.Request) (llm.Response, error)
}

// LLMExtractor asks the fast model for the filters in a customer's message, as JSON. Any
// failure falls back to the parser (see Retriever).
type LLMExtractor struct {
	LLM     Chatter
	Model   string
	Timeout time.Duration
}

// NewLLMExtractor returns an extractor on the fast model with an 8 s timeout.
func NewLLMExtractor(c Chatter, model string) *LLMExtractor {
	return &LLMExtractor{LLM: c, Model: model, Timeout: 8 * time.Second}
}

// extractorPrompt lists the category slugs in a fixed order, so the prompt is the same on
// every call.
func extractorPrompt() string {
	seen := map[string]bool{}
	slugs := make([]string, 0, len(categoryParent)+12)
	for leaf, parent := range categoryParent {
		for _, s := range []string{leaf, parent} {
			if !seen[s] {
				seen[s] = true
				slugs = append(slugs, s)
			}
		}
	}
	sort.Strings(slugs)
	return `You extract product search filters from a customer's message to an office furniture shop (UAE, prices in AED).
Answer with one JSON object and nothing else:
{"category": one of [` + strings.Join(slugs, ", ") + `] or "", "min_price": number or null, "max_price": number or null,
 "colour": English colour word or "", "in_stock": true only if they ask for items in stock now, "sku": product code as written or ""}
Model numbers are never quantities or prices ("4 CH 616" is 4 units of CH 616). Quantities of people or items are not prices.
Use "" / null when the message does not say.`
}

// ExtractFilters calls the model at temperature 0 with a small token budget.
func (x *LLMExtractor) ExtractFilters(ctx context.Context, text string) (Filters, error) {
	resp, err := x.LLM.Chat(ctx, llm.Request{Model: x.Model, Temperature: 0, MaxTokens: 150, Timeout: x.Timeout, JSONOutput: true,
		Messages: []llm.Message{{Role: "system", Content: extractorPrompt()}, {Role: "user", Content: text}}})
	if err != nil {
		return Filters{}, fmt.Errorf("filter extraction: %w", err)
	}
	content := strings.TrimSpace(resp.Content)
	content = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(content, "```json"), "```"), "```")
	var got struct {
		Category string   `json:"category"`
		MinPrice *float64 `json:"min_price"`
		MaxPrice *float64 `json:"max_price"`
		Colour   string   `json:"colour"`
		InStock  bool     `json:"in_stock"`
		SKU      string   `json:"sku"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(content)), &got); err != nil {
		return Filters{}, fmt.Errorf("filter extraction: model answered no JSON: %w", err)
	}
	f := Filters{Category: got.Category, MinPrice: got.MinPrice, MaxPrice: got.MaxPrice, InStockOnly: got.InStock, SKU: got.SKU, Source: "llm"}
	if c, ok := colours[strings.ToLower(strings.TrimSpace(got.Colour))]; ok {
		f.Colour = c
	}
	return f, nil
}
