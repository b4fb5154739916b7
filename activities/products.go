package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/treejar/noor/activities/retrieval"
	"github.com/treejar/noor/activities/zoho"
)

// ProductQuery is what search_products asks for.
type ProductQuery struct {
	Text        string
	Category    string
	MinPrice    *float64
	MaxPrice    *float64
	InStockOnly bool
	Limit       int
}

// ProductHit is one product as the agent sees it.
type ProductHit struct {
	SKU          string   `json:"sku"`
	Name         string   `json:"name"`
	Category     string   `json:"category"`
	PriceAED     *float64 `json:"price_aed_excl_vat"` // nil: no catalog price, never quote it
	ListPriceAED *float64 `json:"list_price_aed,omitempty"`
	OnSale       bool     `json:"on_sale,omitempty"`
	InStock      bool     `json:"in_stock"`
	Stock        *int     `json:"stock,omitempty"`
	StockSource  string   `json:"stock_source,omitempty"`
	StockNote    string   `json:"stock_note,omitempty"`
	Summary      string   `json:"summary,omitempty"`
	Features     []string `json:"features,omitempty"`
	URL          string   `json:"url,omitempty"`
	ImageURL     string   `json:"image_url,omitempty"`
}

// ProductResults is a search answer.
type ProductResults struct {
	Products []ProductHit `json:"products"`
	Filters  any          `json:"filters,omitempty"`
	Relaxed  bool         `json:"relaxed,omitempty"`
	Note     string       `json:"note,omitempty"`
	NoMatch  bool         `json:"no_match,omitempty"`
}

// ProductSearcher finds catalog products (hybrid retrieval, or plain SQL full-text).
type ProductSearcher interface {
	SearchProducts(ctx context.Context, q ProductQuery) (ProductResults, error)
}

// StockInfo is the stock answer for one SKU.
type StockInfo struct {
	SKU      string `json:"sku"`
	Name     string `json:"name,omitempty"`
	Found    bool   `json:"found"`
	InStock  bool   `json:"in_stock"`
	Quantity *int   `json:"quantity,omitempty"`
	Source   string `json:"source,omitempty"` // zoho | catalog
	Note     string `json:"note,omitempty"`
}

// StockChecker answers get_stock (Zoho Inventory, or the local catalog).
type StockChecker interface {
	Stock(ctx context.Context, sku string) (StockInfo, error)
}

// KnowledgeHit is one knowledge-base passage.
type KnowledgeHit struct {
	Source  string `json:"source"`
	Heading string `json:"heading,omitempty"`
	Content string `json:"content"`
}

// KnowledgeSearcher answers search_knowledge.
type KnowledgeSearcher interface {
	SearchKnowledge(ctx context.Context, text string, limit int) ([]KnowledgeHit, error)
}

// catalogProvider answers the catalog tools with hybrid retrieval (filters + pgvector +
// full text) and the stock source (Zoho Inventory, or the built-in local inventory).
type catalogProvider struct {
	retriever *retrieval.Retriever
	stock     zoho.StockSource
	lowStock  int
}

func (c catalogProvider) SearchProducts(ctx context.Context, q ProductQuery) (ProductResults, error) {
	res, err := c.retriever.Search(ctx, retrieval.Query{Text: q.Text, Category: q.Category, MinPrice: q.MinPrice,
		MaxPrice: q.MaxPrice, InStockOnly: q.InStockOnly, Limit: q.Limit})
	if err != nil {
		return ProductResults{}, err
	}
	out := ProductResults{Filters: res.Filters, Relaxed: res.Relaxed, Note: res.RelaxedNote, NoMatch: res.NoMatch}
	if res.NoMatch {
		out.Note = "no catalog product matches this request: say so and suggest the closest real categories"
	}
	for _, p := range res.Products {
		out.Products = append(out.Products, hitFromProduct(p, c.lowStock))
	}
	return out, nil
}

func hitFromProduct(p retrieval.Product, lowStock int) ProductHit {
	h := ProductHit{SKU: p.SKU, Name: p.Name, Category: p.Category, InStock: p.InStock, Stock: p.Stock,
		StockSource: p.StockSource, Summary: p.ShortDescription, URL: p.URL, ImageURL: p.ImageURL, Features: p.Features}
	if len(h.Features) > 4 {
		h.Features = h.Features[:4]
	}
	if p.HasPrice {
		price := p.Price
		h.PriceAED = &price
		if p.OnSale && p.ListPrice > p.Price {
			list := p.ListPrice
			h.ListPriceAED, h.OnSale = &list, true
		}
	}
	h.StockNote = stockNote(h.InStock, h.Stock, lowStock)
	if !p.HasPrice {
		h.StockNote = strings.TrimSpace(h.StockNote + " no catalog price: do not quote it, a manager must price it")
	}
	return h
}

func stockNote(inStock bool, qty *int, lowStock int) string {
	switch {
	case !inStock || (qty != nil && *qty <= 0):
		return "out of stock"
	case qty != nil && *qty < lowStock:
		return fmt.Sprintf("limited stock: only %d left", *qty)
	}
	return ""
}

// Stock resolves the SKU against the catalog (look-alike letters and spacing normalised;
// items that exist only in Zoho are never offered) and reads its stock from the source.
func (c catalogProvider) Stock(ctx context.Context, sku string) (StockInfo, error) {
	p, err := c.retriever.ProductBySKU(ctx, sku)
	if err != nil {
		return StockInfo{}, err
	}
	if p == nil {
		return StockInfo{SKU: sku, Found: false, Note: "no product with this SKU in the catalog"}, nil
	}
	info := StockInfo{SKU: p.SKU, Name: p.Name, Found: true, InStock: p.InStock, Quantity: p.Stock, Source: p.StockSource}
	it, err := c.stock.ItemBySKU(ctx, p.SKU)
	switch {
	case errors.Is(err, zoho.ErrNotFound):
		info.Note = "not in the inventory system; stock from the catalog"
	case err != nil:
		return StockInfo{}, fmt.Errorf("stock for %s: %w", p.SKU, err)
	default:
		if q := it.Available(); q != nil {
			info.Quantity, info.InStock, info.Source = q, *q > 0, c.stock.Name()
		}
	}
	if n := stockNote(info.InStock, info.Quantity, c.lowStock); n != "" {
		info.Note = strings.TrimSpace(info.Note + " " + n)
	}
	return info, nil
}

func (c catalogProvider) SearchKnowledge(ctx context.Context, text string, limit int) ([]KnowledgeHit, error) {
	chunks, err := c.retriever.SearchKnowledge(ctx, text, limit)
	if err != nil {
		return nil, err
	}
	out := make([]KnowledgeHit, len(chunks))
	for i, ch := range chunks {
		out[i] = KnowledgeHit{Source: ch.Source, Heading: ch.Heading, Content: ch.Content}
	}
	return out, nil
}

// catalogTools are search_products, get_stock and search_knowledge over the given providers.
func catalogTools(search ProductSearcher, stock StockChecker, kb KnowledgeSearcher) []Tool {
	return []Tool{
		{Name: ToolSearchProducts,
			Description: "Search Treejar's catalog. Returns real products with SKU, price in AED excl. VAT and stock. Use filters for price limits and categories.",
			Parameters: obj(map[string]any{
				"query":     str("what the customer wants, in English or Arabic, e.g. 'ergonomic mesh chair'"),
				"category":  str("optional category such as 'Executive Chair', 'Desks', 'Workstations', 'Storage'"),
				"min_price": num("optional minimum unit price in AED"),
				"max_price": num("optional maximum unit price in AED"),
				"in_stock":  map[string]any{"type": "boolean", "description": "only products in stock"},
			}, "query"),
			Run: func(ctx context.Context, tc ToolCall) (ToolOutput, error) {
				var a struct {
					Query    string   `json:"query"`
					Category string   `json:"category"`
					MinPrice *float64 `json:"min_price"`
					MaxPrice *float64 `json:"max_price"`
					InStock  bool     `json:"in_stock"`
				}
				if err := json.Unmarshal(tc.Args, &a); err != nil {
					return ToolOutput{Content: map[string]string{"error": "invalid arguments: " + err.Error()}, Summary: "invalid arguments"}, nil
				}
				res, err := search.SearchProducts(ctx, ProductQuery{Text: a.Query, Category: a.Category, MinPrice: a.MinPrice, MaxPrice: a.MaxPrice, InStockOnly: a.InStock, Limit: 5})
				if err != nil {
					return ToolOutput{}, err
				}
				skus := make([]string, 0, len(res.Products))
				for _, p := range res.Products {
					skus = append(skus, p.SKU)
				}
				sum := fmt.Sprintf("%q → %d products %s", a.Query, len(res.Products), strings.Join(skus, ", "))
				if res.Relaxed {
					sum += " (filters relaxed)"
				}
				return ToolOutput{Content: res, Summary: sum}, nil
			}},
		{Name: ToolGetStock,
			Description: "Exact current stock for one SKU.",
			Parameters:  obj(map[string]any{"sku": str("the product SKU, e.g. 'CH 145 black'")}, "sku"),
			Run: func(ctx context.Context, tc ToolCall) (ToolOutput, error) {
				var a struct {
					SKU string `json:"sku"`
				}
				if err := json.Unmarshal(tc.Args, &a); err != nil || strings.TrimSpace(a.SKU) == "" {
					return ToolOutput{Content: map[string]string{"error": "sku is required"}, Summary: "missing sku"}, nil
				}
				info, err := stock.Stock(ctx, a.SKU)
				if err != nil {
					return ToolOutput{}, err
				}
				q := "unknown"
				if info.Quantity != nil {
					q = fmt.Sprint(*info.Quantity)
				}
				return ToolOutput{Content: info, Summary: fmt.Sprintf("%s: found=%v stock=%s (%s)", a.SKU, info.Found, q, info.Source)}, nil
			}},
		{Name: ToolSearchKnowledge,
			Description: "Search Treejar's knowledge base: delivery, fees, warranty, payment, returns, showroom, company values.",
			Parameters:  obj(map[string]any{"query": str("the question")}, "query"),
			Run: func(ctx context.Context, tc ToolCall) (ToolOutput, error) {
				var a struct {
					Query string `json:"query"`
				}
				if err := json.Unmarshal(tc.Args, &a); err != nil || strings.TrimSpace(a.Query) == "" {
					return ToolOutput{Content: map[string]string{"error": "query is required"}, Summary: "missing query"}, nil
				}
				hits, err := kb.SearchKnowledge(ctx, a.Query, 4)
				if err != nil {
					return ToolOutput{}, err
				}
				res := map[string]any{"passages": hits}
				if len(hits) == 0 {
					res["note"] = "nothing in the knowledge base answers this; do not guess, offer to ask a manager"
				}
				return ToolOutput{Content: res, Summary: fmt.Sprintf("%q → %d passages", a.Query, len(hits))}, nil
			}},
	}
}
