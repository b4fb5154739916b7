package retrieval

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// LLMExtractor asks the fast model (OpenAI-compatible chat completions) for the filters in a
// customer's message, as JSON. Any failure falls back to the parser (see Retriever).
type LLMExtractor struct {
	BaseURL, APIKey, Model string
	HTTP                   *http.Client
}

// NewLLMExtractor returns an extractor with an 8 s timeout.
func NewLLMExtractor(baseURL, apiKey, model string) *LLMExtractor {
	return &LLMExtractor{BaseURL: strings.TrimRight(baseURL, "/"), APIKey: apiKey, Model: model,
		HTTP: &http.Client{Timeout: 8 * time.Second}}
}

func extractorPrompt() string {
	slugs := make([]string, 0, len(categoryParent)+12)
	seen := map[string]bool{}
	for leaf, parent := range categoryParent {
		for _, s := range []string{leaf, parent} {
			if !seen[s] {
				seen[s] = true
				slugs = append(slugs, s)
			}
		}
	}
	return `You extract product search filters from a customer's message to an office furniture shop (UAE, prices in AED).
Answer with one JSON object and nothing else:
{"category": one of [` + strings.Join(slugs, ", ") + `] or "", "min_price": number or null, "max_price": number or null,
 "colour": English colour word or "", "in_stock": true only if they ask for items in stock now, "sku": product code as written or ""}
Model numbers are never quantities or prices ("4 CH 616" is 4 units of CH 616). Quantities of people or items are not prices.
Use "" / null when the message does not say.`
}

// ExtractFilters calls the model at temperature 0 with a small token budget.
func (x *LLMExtractor) ExtractFilters(ctx context.Context, text string) (Filters, error) {
	body, _ := json.Marshal(map[string]any{
		"model": x.Model, "temperature": 0, "max_tokens": 150,
		"response_format": map[string]string{"type": "json_object"},
		"messages": []map[string]string{
			{"role": "system", "content": extractorPrompt()},
			{"role": "user", "content": text},
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.BaseURL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return Filters{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+x.APIKey)
	resp, err := x.HTTP.Do(req)
	if err != nil {
		return Filters{}, fmt.Errorf("filter extraction: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return Filters{}, fmt.Errorf("filter extraction: HTTP %d", resp.StatusCode)
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Choices) == 0 {
		return Filters{}, fmt.Errorf("filter extraction: unreadable response")
	}
	content := strings.TrimSpace(out.Choices[0].Message.Content)
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
