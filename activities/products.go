package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/treejar/noor/db"
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

// sqlCatalog is the built-in local catalog: PostgreSQL full-text over products and the
// knowledge base, stock from the catalog or the last Zoho figure. Hybrid retrieval
// replaces the search when it is wired in.
type sqlCatalog struct {
	store    *db.Store
	lowStock int
}

func (c sqlCatalog) SearchProducts(ctx context.Context, q ProductQuery) (ProductResults, error) {
	rows, err := c.store.SearchProductsFullText(ctx, db.ProductFullTextQuery{
		Text: q.Text, CategoryLike: q.Category, MinPrice: q.MinPrice, MaxPrice: q.MaxPrice, InStockOnly: q.InStockOnly, Limit: q.Limit,
	})
	if err != nil {
		return ProductResults{}, err
	}
	res := ProductResults{Filters: map[string]any{"category": q.Category, "min_price": q.MinPrice, "max_price": q.MaxPrice, "in_stock_only": q.InStockOnly}}
	if len(rows) == 0 && (q.Category != "" || q.MinPrice != nil || q.MaxPrice != nil || q.InStockOnly) {
		rows, err = c.store.SearchProductsFullText(ctx, db.ProductFullTextQuery{Text: q.Text, Limit: q.Limit})
		if err != nil {
			return res, err
		}
		res.Relaxed = true
		res.Note = "nothing matched the filters; these are the closest products without them"
	}
	for _, r := range rows {
		res.Products = append(res.Products, hitFromRow(r, c.lowStock))
	}
	if len(res.Products) == 0 {
		res.NoMatch = true
		res.Note = "no catalog product matches this request"
	}
	return res, nil
}

func hitFromRow(r db.ProductRow, lowStock int) ProductHit {
	h := ProductHit{SKU: r.SKU, Name: r.Name, Category: r.Category, InStock: r.InStock, Summary: r.ShortDescription,
		URL: r.URL, ImageURL: r.ImageURL}
	_ = json.Unmarshal(r.Features, &h.Features)
	if len(h.Features) > 4 {
		h.Features = h.Features[:4]
	}
	if r.Price != nil && *r.Price > 0 {
		p := *r.Price
		if r.SalePrice != nil && *r.SalePrice > 0 && *r.SalePrice < p {
			sp := *r.SalePrice
			h.PriceAED, h.ListPriceAED, h.OnSale = &sp, &p, true
		} else {
			h.PriceAED = &p
		}
	}
	h.Stock, h.StockSource = r.StockQuantity, "catalog"
	if r.ZohoStock != nil {
		h.Stock, h.StockSource = r.ZohoStock, "zoho"
		h.InStock = *r.ZohoStock > 0
	}
	if h.Stock != nil && *h.Stock > 0 && *h.Stock < lowStock {
		h.StockNote = fmt.Sprintf("limited stock: only %d left", *h.Stock)
	}
	if !h.InStock {
		h.StockNote = "out of stock"
	}
	if h.PriceAED == nil {
		h.StockNote = strings.TrimSpace(h.StockNote + " no catalog price: do not quote, a manager must price it")
	}
	return h
}

func (c sqlCatalog) Stock(ctx context.Context, sku string) (StockInfo, error) {
	r, err := c.store.ProductBySKU(ctx, sku)
	if errors.Is(err, db.ErrNotFound) {
		return StockInfo{SKU: sku, Found: false, Note: "no product with this SKU in the catalog"}, nil
	}
	if err != nil {
		return StockInfo{}, err
	}
	h := hitFromRow(r, c.lowStock)
	return StockInfo{SKU: r.SKU, Name: r.Name, Found: true, InStock: h.InStock, Quantity: h.Stock, Source: h.StockSource, Note: h.StockNote}, nil
}

func (c sqlCatalog) SearchKnowledge(ctx context.Context, text string, limit int) ([]KnowledgeHit, error) {
	if limit <= 0 || limit > 10 {
		limit = 4
	}
	rows, err := c.store.Pool.Query(ctx, `
		WITH q AS (SELECT to_tsquery('simple', coalesce(nullif(array_to_string(array(
		    SELECT lexeme || ':*' FROM unnest(to_tsvector('simple', $1))), ' | '), ''), 'zzzznomatch')) AS tq)
		SELECT source, heading, content FROM knowledge_base, q
		WHERE search_tsv @@ q.tq ORDER BY ts_rank(search_tsv, q.tq) DESC, id LIMIT $2`, text, limit)
	if err != nil {
		return nil, fmt.Errorf("search knowledge: %w", err)
	}
	defer rows.Close()
	var out []KnowledgeHit
	for rows.Next() {
		var h KnowledgeHit
		if err := rows.Scan(&h.Source, &h.Heading, &h.Content); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
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
