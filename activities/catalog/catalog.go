// Package catalog reads the Treejar catalog API (the source of truth for product names,
// prices and images) — over HTTP, or from the bundled demo snapshot when CATALOG_API_URL
// is not set. See docs/contracts/catalog.md.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Category is a node of the category tree.
type Category struct {
	Slug         string     `json:"slug"`
	Name         string     `json:"name"`
	Description  *string    `json:"description"`
	ProductCount int        `json:"productCount"`
	Children     []Category `json:"children"`
}

// Image is one product image.
type Image struct {
	URL string `json:"url"`
}

// Product is the full product body (`action=product`); summaries (`category_products`)
// fill a subset of the fields.
type Product struct {
	Slug               string         `json:"slug"`
	SKU                string         `json:"sku"`
	Name               string         `json:"name"`
	Description        string         `json:"description"`
	ShortDescription   string         `json:"shortDescription"`
	Price              *float64       `json:"price"`
	SalePrice          *float64       `json:"salePrice"`
	OnSale             bool           `json:"onSale"`
	Currency           string         `json:"currency"`
	PriceExclVAT       bool           `json:"priceExclVAT"`
	Brand              *string        `json:"brand"`
	Manufacturer       *string        `json:"manufacturer"`
	InStock            bool           `json:"inStock"`
	StockQuantity      *int           `json:"stockQuantity"`
	Weight             any            `json:"weight"`
	Category           string         `json:"category"`
	CategorySlug       string         `json:"categorySlug"`
	ParentCategory     string         `json:"parentCategory"`
	ParentCategorySlug string         `json:"parentCategorySlug"`
	Image              string         `json:"image"`
	Images             []Image        `json:"images"`
	URL                string         `json:"url"`
	Features           []string       `json:"features"`
	Specifications     map[string]any `json:"specifications"`
}

// Page is one page of a category listing.
type Page struct {
	Products []Product `json:"products"`
	Total    int       `json:"total"`
	Limit    int       `json:"limit"`
	Offset   int       `json:"offset"`
	HasMore  bool      `json:"hasMore"`
}

// Source is what a catalog sync reads.
type Source interface {
	Categories(ctx context.Context) ([]Category, error)
	CategoryProducts(ctx context.Context, slug string, limit, offset int) (Page, error)
	Product(ctx context.Context, slug string) (Product, error)
	Name() string
}

// ErrNotFound is returned for an unknown product or category.
var ErrNotFound = errors.New("catalog: not found")

// HTTPError is a non-2xx answer from the catalog API.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("catalog API answered %d: %s", e.Status, e.Body)
}

// Retryable reports whether another attempt may succeed (429 and 5xx).
func (e *HTTPError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Client reads the catalog over HTTP: GET {BaseURL}?action=…, with a per-request timeout
// and bounded retries with jittered back-off on 429, 5xx and network errors.
type Client struct {
	BaseURL    string
	HTTP       *http.Client
	MaxRetries int           // default 4
	Backoff    time.Duration // first back-off, doubled each time; default 500ms
}

// NewClient returns a client for baseURL with a 20 s request timeout.
func NewClient(baseURL string) *Client {
	return &Client{BaseURL: baseURL, HTTP: &http.Client{Timeout: 20 * time.Second}, MaxRetries: 4, Backoff: 500 * time.Millisecond}
}

func (c *Client) Name() string { return "catalog-api" }

func (c *Client) Categories(ctx context.Context) ([]Category, error) {
	var out struct {
		Categories []Category `json:"categories"`
	}
	err := c.get(ctx, url.Values{"action": {"categories"}}, &out)
	return out.Categories, err
}

func (c *Client) CategoryProducts(ctx context.Context, slug string, limit, offset int) (Page, error) {
	var p Page
	err := c.get(ctx, url.Values{"action": {"category_products"}, "slug": {slug},
		"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}, &p)
	return p, err
}

func (c *Client) Product(ctx context.Context, slug string) (Product, error) {
	var out struct {
		Product *Product `json:"product"`
	}
	if err := c.get(ctx, url.Values{"action": {"product"}, "slug": {slug}}, &out); err != nil {
		return Product{}, err
	}
	if out.Product == nil {
		return Product{}, fmt.Errorf("product %s: %w", slug, ErrNotFound)
	}
	return *out.Product, nil
}

func (c *Client) get(ctx context.Context, q url.Values, into any) error {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return fmt.Errorf("CATALOG_API_URL %q: %w", c.BaseURL, err)
	}
	u.RawQuery = q.Encode()
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	var lastErr error
	for attempt := 0; attempt <= c.MaxRetries; attempt++ {
		if attempt > 0 {
			wait := backoff<<(attempt-1) + time.Duration(rand.Int64N(int64(backoff)))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		lastErr = c.once(ctx, u.String(), into)
		if lastErr == nil {
			return nil
		}
		var he *HTTPError
		if errors.As(lastErr, &he) && !he.Retryable() {
			return lastErr
		}
		if errors.Is(lastErr, ErrNotFound) || ctx.Err() != nil {
			return lastErr
		}
	}
	return fmt.Errorf("catalog API %s after %d attempts: %w", q.Get("action"), c.MaxRetries+1, lastErr)
}

func (c *Client) once(ctx context.Context, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("catalog API request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("read catalog API response: %w", err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return ErrNotFound
	}
	if resp.StatusCode/100 != 2 {
		return &HTTPError{Status: resp.StatusCode, Body: truncate(string(body), 200)}
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("decode catalog API response: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Snapshot serves the catalog from files laid out like the demo data:
// categories.json, category_products/<slug>.json, products/<slug>.json.
type Snapshot struct {
	FS fs.FS
}

func (s Snapshot) Name() string { return "bundled-snapshot" }

func (s Snapshot) read(name string, into any) error {
	b, err := fs.ReadFile(s.FS, name)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	return nil
}

func (s Snapshot) Categories(ctx context.Context) ([]Category, error) {
	var out struct {
		Categories []Category `json:"categories"`
	}
	err := s.read("categories.json", &out)
	return out.Categories, err
}

func (s Snapshot) CategoryProducts(ctx context.Context, slug string, limit, offset int) (Page, error) {
	var p Page
	if err := s.read(path.Join("category_products", slug+".json"), &p); err != nil {
		return p, err
	}
	// The files hold every product of a category; page them like the API does.
	total := len(p.Products)
	if offset > total {
		offset = total
	}
	end := total
	if limit > 0 && offset+limit < total {
		end = offset + limit
	}
	p.Products = p.Products[offset:end]
	p.Total, p.Limit, p.Offset, p.HasMore = total, limit, offset, end < total
	return p, nil
}

func (s Snapshot) Product(ctx context.Context, slug string) (Product, error) {
	var out struct {
		Product *Product `json:"product"`
	}
	if err := s.read(path.Join("products", slug+".json"), &out); err != nil {
		return Product{}, err
	}
	if out.Product == nil {
		return Product{}, ErrNotFound
	}
	return *out.Product, nil
}

// Leaves returns the leaf categories of a tree in a stable (document) order.
func Leaves(cats []Category) []Category {
	var out []Category
	var walk func([]Category)
	walk = func(cs []Category) {
		for _, c := range cs {
			if len(c.Children) == 0 {
				out = append(out, c)
				continue
			}
			walk(c.Children)
		}
	}
	walk(cats)
	return out
}
