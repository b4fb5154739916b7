// Package retrieval finds products and knowledge-base passages for the agent: structured
// filters (from the fast LLM when configured, else a deterministic parser), SQL WHERE,
// pgvector cosine and PostgreSQL full-text ranking fused with reciprocal rank fusion,
// relaxation with an explanation when the filters match nothing, and an honest "no match".
package retrieval

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	pgvec "github.com/pgvector/pgvector-go"

	"github.com/treejar/noor/activities/embed"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/textnorm"
)

// Query is a product search. Text is the customer's words; the other fields are explicit
// filters (from the agent's tool call) that win over what is extracted from Text.
type Query struct {
	Text        string   `json:"text"`
	Category    string   `json:"category,omitempty"`
	MinPrice    *float64 `json:"min_price,omitempty"`
	MaxPrice    *float64 `json:"max_price,omitempty"`
	Colour      string   `json:"colour,omitempty"`
	InStockOnly bool     `json:"in_stock_only,omitempty"`
	SKU         string   `json:"sku,omitempty"`
	Limit       int      `json:"limit,omitempty"`
	// Segment is the customer's pricing segment; applied when segment pricing lands.
	Segment string `json:"segment,omitempty"`
}

// Filters are the structured constraints a search applied (or extracted).
type Filters struct {
	Category    string   `json:"category,omitempty"`
	Colour      string   `json:"colour,omitempty"`
	SKU         string   `json:"sku,omitempty"`
	MinPrice    *float64 `json:"min_price,omitempty"`
	MaxPrice    *float64 `json:"max_price,omitempty"`
	InStockOnly bool     `json:"in_stock_only,omitempty"`
	Source      string   `json:"source"` // llm | parser | explicit
}

// Empty reports whether no structured filter is set.
func (f Filters) Empty() bool {
	return f.Category == "" && f.Colour == "" && f.SKU == "" && f.MinPrice == nil && f.MaxPrice == nil && !f.InStockOnly
}

// Product is a search result: everything the agent may tell a customer, with where the
// stock figure comes from.
type Product struct {
	ID               int64    `json:"id"`
	SKU              string   `json:"sku"`
	Name             string   `json:"name"`
	Category         string   `json:"category"`
	CategorySlug     string   `json:"category_slug"`
	ParentCategory   string   `json:"parent_category"`
	ShortDescription string   `json:"short_description"`
	Price            float64  `json:"price"`      // effective customer price (sale price when on sale), AED excl. VAT
	ListPrice        float64  `json:"list_price"` // catalog price before a sale
	OnSale           bool     `json:"on_sale"`
	Currency         string   `json:"currency"`
	HasPrice         bool     `json:"has_price"` // false when the catalog price is 0/missing: never quote it
	InStock          bool     `json:"in_stock"`
	Stock            *int     `json:"stock,omitempty"`
	StockSource      string   `json:"stock_source"` // zoho | catalog
	ZohoItemID       string   `json:"zoho_item_id,omitempty"`
	ImageURL         string   `json:"image_url"`
	URL              string   `json:"url"`
	Features         []string `json:"features"`
	Active           bool     `json:"active"`
	Score            float64  `json:"score"`
}

// Result is what Search found.
type Result struct {
	Products []Product `json:"products"`
	// Filters are the filters extracted from the query (echoed to the caller).
	Filters Filters `json:"filters"`
	// Applied are the filters the results satisfy (fewer than Filters when relaxed).
	Applied     Filters       `json:"applied"`
	Relaxed     bool          `json:"relaxed"`
	RelaxedNote string        `json:"relaxed_note,omitempty"`
	NoMatch     bool          `json:"no_match"`
	Took        time.Duration `json:"took_ns"`
}

// Chunk is a knowledge-base passage.
type Chunk struct {
	ID       int64   `json:"id"`
	Source   string  `json:"source"`
	Title    string  `json:"title"`
	Heading  string  `json:"heading"`
	Content  string  `json:"content"`
	Language string  `json:"language"`
	Score    float64 `json:"score"`
}

// FilterExtractor turns a customer's words into filters (the fast LLM).
type FilterExtractor interface {
	ExtractFilters(ctx context.Context, text string) (Filters, error)
}

// Retriever searches products and the knowledge base.
type Retriever struct {
	Store    *db.Store
	Embedder embed.Embedder
	// Extractor is the LLM filter extractor; nil uses the deterministic parser only.
	Extractor FilterExtractor
	Log       *slog.Logger
	// MinSimilarity: a query with no SKU, no category and no full-text hit whose best
	// cosine similarity is below this matches nothing (NoMatch) rather than returning
	// noise. Defaults depend on the embedder (see New).
	MinSimilarity float64

	mu      sync.Mutex
	skus    map[string]skuEntry // NormalizeSKU(sku) -> product
	vocab   map[string]bool     // full-text lexemes of the active catalog
	skusAt  time.Time
	skusTTL time.Duration
}

type skuEntry struct {
	id  int64
	sku string
}

// New builds a retriever. The no-match threshold is calibrated per embedder: hashed
// n-grams give low similarities to anything that shares no spelling; dense models such as
// BGE-M3 give 0.3–0.4 even to unrelated text.
func New(store *db.Store, e embed.Embedder, x FilterExtractor, log *slog.Logger) *Retriever {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	minSim := 0.45
	if _, ok := e.(*embed.HashedNGrams); ok {
		minSim = 0.16
	}
	return &Retriever{Store: store, Embedder: e, Extractor: x, Log: log, MinSimilarity: minSim, skusTTL: time.Minute}
}

const (
	rrfK          = 60.0
	candidatePool = 60
)

// Search finds products for q.
func (r *Retriever) Search(ctx context.Context, q Query) (Result, error) {
	start := time.Now()
	limit := q.Limit
	if limit <= 0 {
		limit = 5
	}
	limit = min(limit, 50)
	f, text := r.filters(ctx, q)
	res := Result{Filters: f, Products: []Product{}}

	// A model code is confirmed against the catalog: exact SKU first, then its family.
	exact, family, err := r.matchSKU(ctx, q.Text, f.SKU)
	if err != nil {
		return res, err
	}
	if len(exact) == 0 && len(family) == 0 {
		f.SKU = "" // not a catalog code: search by words instead
	}

	applied := f
	steps := relaxSteps(f)
	var ranked []scored
	for i, drop := range steps {
		applied = f
		for _, d := range drop {
			d.clear(&applied)
		}
		ranked, err = r.rank(ctx, applied, text, exact, family)
		if err != nil {
			return res, err
		}
		if len(ranked) > 0 || applied.Empty() {
			if i > 0 {
				res.Relaxed = true
				res.RelaxedNote = relaxNote(f, drop)
			}
			break
		}
	}
	res.Applied = applied
	if len(ranked) == 0 {
		res.NoMatch = true
		res.Took = time.Since(start)
		return res, nil
	}
	if !res.Relaxed && r.noMatch(ctx, ranked, applied, text) {
		res.NoMatch = true
		res.Took = time.Since(start)
		return res, nil
	}
	if res.Relaxed && (applied.MaxPrice == nil && f.MaxPrice != nil) {
		// Nothing within the budget: show the closest prices first.
		top := ranked[:min(len(ranked), limit*3)]
		ids := idsOf(top)
		prods, err := r.load(ctx, ids)
		if err != nil {
			return res, err
		}
		sort.SliceStable(prods, func(i, j int) bool { return priceKey(prods[i]) < priceKey(prods[j]) })
		res.Products = prods[:min(limit, len(prods))]
		res.Took = time.Since(start)
		return res, nil
	}
	top := ranked[:min(len(ranked), limit)]
	prods, err := r.load(ctx, idsOf(top))
	if err != nil {
		return res, err
	}
	for i := range prods {
		prods[i].Score = top[i].score
	}
	res.Products = prods
	res.Took = time.Since(start)
	return res, nil
}

func priceKey(p Product) float64 {
	if !p.HasPrice {
		return 1e12
	}
	return p.Price
}

// filters merges explicit query fields over what is extracted from the text.
func (r *Retriever) filters(ctx context.Context, q Query) (Filters, string) {
	parsed, text := ParseQuery(q.Text)
	f := parsed
	if r.Extractor != nil && strings.TrimSpace(q.Text) != "" {
		xctx, cancel := context.WithTimeout(ctx, 8*time.Second)
		lf, err := r.Extractor.ExtractFilters(xctx, q.Text)
		cancel()
		if err != nil {
			r.Log.Warn("LLM filter extraction failed; using the parser", "err", err)
		} else {
			// The parser's model code stays: it is confirmed against the catalog.
			lf.SKU = firstNonEmpty(parsed.SKU, NormalizeSKU(lf.SKU))
			if _, ok := categoryParent[lf.Category]; !ok && !isTopCategory(lf.Category) {
				lf.Category = parsed.Category
			}
			lf.Source = "llm"
			f = lf
		}
	}
	explicit := false
	if q.Category != "" {
		f.Category, explicit = q.Category, true
	}
	if q.MinPrice != nil {
		f.MinPrice, explicit = q.MinPrice, true
	}
	if q.MaxPrice != nil {
		f.MaxPrice, explicit = q.MaxPrice, true
	}
	if q.Colour != "" {
		f.Colour, explicit = strings.ToLower(q.Colour), true
		if c, ok := colours[textnorm.Normalize(q.Colour)]; ok {
			f.Colour = c
		}
	}
	if q.InStockOnly {
		f.InStockOnly, explicit = true, true
	}
	if q.SKU != "" {
		f.SKU, explicit = NormalizeSKU(q.SKU), true
	}
	if explicit {
		f.Source = "explicit"
	}
	if f.Source == "" {
		f.Source = "parser"
	}
	return f, text
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func isTopCategory(slug string) bool {
	for _, p := range categoryParent {
		if p == slug {
			return true
		}
	}
	return false
}

// relaxation: what to drop, in order, when the filters match nothing.
type relaxer struct {
	name  string
	clear func(*Filters)
}

var (
	dropColour   = relaxer{"colour", func(f *Filters) { f.Colour = "" }}
	dropStock    = relaxer{"in-stock", func(f *Filters) { f.InStockOnly = false }}
	dropPrice    = relaxer{"price", func(f *Filters) { f.MinPrice, f.MaxPrice = nil, nil }}
	dropCategory = relaxer{"category", func(f *Filters) { f.Category = "" }}
)

func relaxSteps(f Filters) [][]relaxer {
	steps := [][]relaxer{nil}
	var acc []relaxer
	for _, d := range []relaxer{dropColour, dropStock, dropPrice, dropCategory} {
		probe := f
		d.clear(&probe)
		if probe == f {
			continue
		}
		acc = append(append([]relaxer(nil), acc...), d)
		steps = append(steps, acc)
	}
	return steps
}

func relaxNote(f Filters, dropped []relaxer) string {
	var parts []string
	for _, d := range dropped {
		switch d.name {
		case "colour":
			parts = append(parts, "colour "+f.Colour)
		case "in-stock":
			parts = append(parts, "in stock only")
		case "price":
			parts = append(parts, priceText(f))
		case "category":
			parts = append(parts, "category "+f.Category)
		}
	}
	return "Nothing in the catalog matches all the filters; these results ignore: " + strings.Join(parts, ", ") + "."
}

func priceText(f Filters) string {
	switch {
	case f.MinPrice != nil && f.MaxPrice != nil:
		return fmt.Sprintf("price %.0f–%.0f AED", *f.MinPrice, *f.MaxPrice)
	case f.MaxPrice != nil:
		return fmt.Sprintf("price up to %.0f AED", *f.MaxPrice)
	case f.MinPrice != nil:
		return fmt.Sprintf("price from %.0f AED", *f.MinPrice)
	}
	return "price"
}

type scored struct {
	id        int64
	score     float64
	sim       float64 // best cosine similarity, -1 when not a vector hit
	ftsHit    bool
	skuHit    bool
	filterHit bool // ranked only by filters (no text)
}

func idsOf(s []scored) []int64 {
	out := make([]int64, len(s))
	for i, x := range s {
		out[i] = x.id
	}
	return out
}

// noMatch: nothing but weak neighbours — say so instead of returning noise. Full-text
// hits count only when most of the query's words exist in the catalog at all: "laboratory
// benches and fume hoods" shares "bench" with a workstation, but it is not a bench we sell.
func (r *Retriever) noMatch(ctx context.Context, ranked []scored, f Filters, text string) bool {
	if f.Category != "" || f.SKU != "" {
		return false
	}
	anyFTS := false
	for _, s := range ranked {
		if s.skuHit || s.filterHit || s.sim >= r.MinSimilarity {
			return false
		}
		anyFTS = anyFTS || s.ftsHit
	}
	if !anyFTS {
		return true
	}
	cov, err := r.coverage(ctx, text)
	if err != nil {
		r.Log.Warn("query coverage", "err", err)
		return false
	}
	return cov <= 0.5
}

// coverage is the share of the query's full-text lexemes that occur in the catalog.
func (r *Retriever) coverage(ctx context.Context, text string) (float64, error) {
	if _, err := r.skuIndex(ctx, false); err != nil {
		return 0, err
	}
	r.mu.Lock()
	vocab := r.vocab
	r.mu.Unlock()
	var lexemes []string
	err := r.Store.Pool.QueryRow(ctx, `SELECT coalesce(array_agg(lexeme), '{}') FROM unnest(to_tsvector('english', $1))
		WHERE lexeme !~ '^[0-9]+$'`, strings.Join(ftsWords(text), " ")).Scan(&lexemes)
	if err != nil || len(lexemes) == 0 {
		return 0, err
	}
	known := 0
	for _, l := range lexemes {
		if vocab[l] {
			known++
		}
	}
	return float64(known) / float64(len(lexemes)), nil
}

// where builds the SQL filter for f. Prices are effective customer prices; products with
// no catalog price never satisfy a price filter.
func where(f Filters, args *[]any) string {
	arg := func(v any) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d", len(*args))
	}
	conds := []string{"p.active"}
	if f.Category != "" {
		a := arg(f.Category)
		conds = append(conds, fmt.Sprintf("(p.category_slug = %s OR p.parent_category_slug = %s)", a, a))
	}
	if f.MinPrice != nil || f.MaxPrice != nil {
		conds = append(conds, "coalesce(p.price, 0) > 0")
	}
	if f.MinPrice != nil {
		conds = append(conds, fmt.Sprintf("coalesce(p.sale_price, p.price) >= %s", arg(*f.MinPrice)))
	}
	if f.MaxPrice != nil {
		conds = append(conds, fmt.Sprintf("coalesce(p.sale_price, p.price) <= %s", arg(*f.MaxPrice)))
	}
	if f.Colour != "" {
		pats := []string{"%" + f.Colour + "%"}
		if f.Colour == "grey" {
			pats = append(pats, "%gray%")
		}
		conds = append(conds, fmt.Sprintf("(p.name ILIKE ANY(%s) OR p.sku ILIKE ANY(%s))", arg(pats), arg(pats)))
	}
	if f.InStockOnly {
		conds = append(conds, inStockSQL)
	}
	return strings.Join(conds, " AND ")
}

const inStockSQL = `(CASE WHEN p.zoho_item_id IS NOT NULL AND p.zoho_stock IS NOT NULL THEN p.zoho_stock > 0
	ELSE p.in_stock AND coalesce(p.stock_quantity, 1) > 0 END)`

// rank runs the vector and full-text searches under the filters and fuses them.
func (r *Retriever) rank(ctx context.Context, f Filters, text string, exact, family []int64) ([]scored, error) {
	scores := map[int64]*scored{}
	get := func(id int64) *scored {
		s, ok := scores[id]
		if !ok {
			s = &scored{id: id, sim: -1}
			scores[id] = s
		}
		return s
	}
	// Catalog codes: exact first, then the family — but only those passing the filters.
	if f.SKU != "" && len(exact)+len(family) > 0 {
		ids := append(append([]int64(nil), exact...), family...)
		args := []any{ids}
		rows, err := r.Store.Pool.Query(ctx, `SELECT p.id FROM products p WHERE p.id = ANY($1) AND `+where(withoutSKU(f), &args), args...)
		if err != nil {
			return nil, fmt.Errorf("sku filter: %w", err)
		}
		pass, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, err
		}
		ok := map[int64]bool{}
		for _, id := range pass {
			ok[id] = true
		}
		for i, id := range exact {
			if ok[id] {
				s := get(id)
				s.skuHit = true
				s.score += 2 - float64(i)*0.01
			}
		}
		for i, id := range family {
			if ok[id] {
				s := get(id)
				s.skuHit = true
				s.score += 1 - float64(i)*0.001
			}
		}
	}

	words := ftsWords(text)
	if strings.TrimSpace(text) != "" {
		qv, err := r.Embedder.Embed(ctx, []string{text})
		if err != nil {
			return nil, fmt.Errorf("embed query: %w", err)
		}
		args := []any{pgvec.NewVector(qv[0])}
		w := where(withoutSKU(f), &args)
		err = r.inTx(ctx, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT p.id, 1 - (p.embedding <=> $1) FROM products p
				WHERE p.embedding IS NOT NULL AND `+w+` ORDER BY p.embedding <=> $1 LIMIT `+fmt.Sprint(candidatePool), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			rank := 0
			for rows.Next() {
				var id int64
				var sim float64
				if err := rows.Scan(&id, &sim); err != nil {
					return err
				}
				rank++
				s := get(id)
				s.sim = sim
				s.score += 1 / (rrfK + float64(rank))
			}
			return rows.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("vector search: %w", err)
		}
	}
	if len(words) > 0 {
		args := []any{strings.Join(words, " | ")}
		w := where(withoutSKU(f), &args)
		rows, err := r.Store.Pool.Query(ctx, `SELECT p.id FROM products p, to_tsquery('english', $1) q
			WHERE p.search_tsv @@ q AND `+w+` ORDER BY ts_rank_cd(p.search_tsv, q) DESC, p.id LIMIT `+fmt.Sprint(candidatePool), args...)
		if err != nil {
			return nil, fmt.Errorf("full-text search: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, err
		}
		for i, id := range ids {
			s := get(id)
			s.ftsHit = true
			s.score += 1 / (rrfK + float64(i+1))
		}
	}
	if len(scores) == 0 && (strings.TrimSpace(text) == "" || !f.Empty()) && !withoutSKU(f).Empty() {
		// Filters only (or text that found nothing under the filters): list by price.
		args := []any{}
		w := where(withoutSKU(f), &args)
		rows, err := r.Store.Pool.Query(ctx, `SELECT p.id FROM products p WHERE `+w+`
			ORDER BY coalesce(p.sale_price, p.price) NULLS LAST, p.id LIMIT `+fmt.Sprint(candidatePool), args...)
		if err != nil {
			return nil, fmt.Errorf("filter listing: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, err
		}
		for i, id := range ids {
			s := get(id)
			s.filterHit = true
			s.score += 1 / (rrfK + float64(i+1))
		}
	}
	out := make([]scored, 0, len(scores))
	for _, s := range scores {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].id < out[j].id
	})
	return out, nil
}

func withoutSKU(f Filters) Filters { f.SKU = ""; return f }

// inTx runs fn in a read-only transaction with pgvector's iterative index scan, so an HNSW
// search under selective filters still returns enough rows.
func (r *Retriever) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, r.Store.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL hnsw.iterative_scan = relaxed_order`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SET LOCAL hnsw.ef_search = 100`); err != nil {
			return err
		}
		return fn(tx)
	})
}

// ftsWords are the query's words for an OR full-text query: Latin letters and digits,
// plus the English catalog words for Arabic ones.
func ftsWords(text string) []string {
	seen := map[string]bool{}
	var out []string
	addw := func(w string) {
		if w == "" || seen[w] || len(w) < 2 && !hasDigit(w) {
			return
		}
		for _, r := range w {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				return
			}
		}
		seen[w] = true
		out = append(out, w)
	}
	for _, w := range embed.Words(text) {
		if textnorm.HasArabic(w) {
			for _, c := range embed.Concepts(w) {
				addw(c)
			}
			continue
		}
		addw(w)
	}
	return out
}

// Products reads products (active or not) by id, in the given order.
func (r *Retriever) Products(ctx context.Context, ids []int64) ([]Product, error) {
	return r.load(ctx, ids)
}

// load reads products by id, in the given order.
func (r *Retriever) load(ctx context.Context, ids []int64) ([]Product, error) {
	if len(ids) == 0 {
		return []Product{}, nil
	}
	rows, err := r.Store.Pool.Query(ctx, `SELECT `+productCols+` FROM products p WHERE p.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("load products: %w", err)
	}
	byID := map[int64]Product{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		byID[p.ID] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Product, 0, len(ids))
	for _, id := range ids {
		if p, ok := byID[id]; ok {
			out = append(out, p)
		}
	}
	return out, nil
}

const productCols = `p.id, p.sku, p.name, p.category, p.category_slug, p.parent_category, p.short_description,
	p.price, p.sale_price, p.currency, p.in_stock, p.stock_quantity, p.zoho_item_id, p.zoho_stock,
	p.image_url, p.url, p.features, p.active`

func scanProduct(row pgx.Row) (Product, error) {
	var p Product
	var price, sale *float64
	var stockQty, zohoStock *int
	var zohoID *string
	var feats []byte
	if err := row.Scan(&p.ID, &p.SKU, &p.Name, &p.Category, &p.CategorySlug, &p.ParentCategory, &p.ShortDescription,
		&price, &sale, &p.Currency, &p.InStock, &stockQty, &zohoID, &zohoStock, &p.ImageURL, &p.URL, &feats, &p.Active); err != nil {
		return p, err
	}
	if price != nil {
		p.ListPrice = *price
	}
	p.HasPrice = p.ListPrice > 0
	p.Price = p.ListPrice
	if sale != nil && *sale > 0 {
		p.Price, p.OnSale = *sale, true
	}
	if zohoID != nil && zohoStock != nil {
		p.ZohoItemID, p.Stock, p.StockSource = *zohoID, zohoStock, "zoho"
		p.InStock = *zohoStock > 0
	} else {
		if zohoID != nil {
			p.ZohoItemID = *zohoID
		}
		p.Stock, p.StockSource = stockQty, "catalog"
		p.InStock = p.InStock && (stockQty == nil || *stockQty > 0)
	}
	_ = json.Unmarshal(feats, &p.Features)
	if p.Features == nil {
		p.Features = []string{}
	}
	return p, nil
}

// skuIndex returns the normalised SKU → product map of active products (cached briefly).
func (r *Retriever) skuIndex(ctx context.Context, force bool) (map[string]skuEntry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !force && r.skus != nil && time.Since(r.skusAt) < r.skusTTL {
		return r.skus, nil
	}
	rows, err := r.Store.Pool.Query(ctx, `SELECT id, sku FROM products WHERE active`)
	if err != nil {
		return nil, fmt.Errorf("load SKUs: %w", err)
	}
	defer rows.Close()
	m := map[string]skuEntry{}
	for rows.Next() {
		var e skuEntry
		if err := rows.Scan(&e.id, &e.sku); err != nil {
			return nil, err
		}
		m[NormalizeSKU(e.sku)] = e
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vrows, err := r.Store.Pool.Query(ctx, `SELECT word FROM ts_stat('SELECT search_tsv FROM products WHERE active')`)
	if err != nil {
		return nil, fmt.Errorf("load catalog vocabulary: %w", err)
	}
	words, err := pgx.CollectRows(vrows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	r.vocab = make(map[string]bool, len(words))
	for _, w := range words {
		r.vocab[w] = true
	}
	r.skus, r.skusAt = m, time.Now()
	return m, nil
}

// matchSKU finds catalog codes in the text: the longest exact SKU written in it, else
// the family of a model code ("CH 616" → every "CH 616 …").
func (r *Retriever) matchSKU(ctx context.Context, text, candidate string) (exact, family []int64, err error) {
	idx, err := r.skuIndex(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	lines := ParseOrderLines(text, func(code string) bool { _, ok := idx[code]; return ok })
	if candidate != "" {
		lines = append(lines, OrderLine{SKU: candidate})
	}
	seen := map[int64]bool{}
	for _, l := range lines {
		if e, ok := idx[l.SKU]; ok {
			if !seen[e.id] {
				exact = append(exact, e.id)
				seen[e.id] = true
			}
			continue
		}
		for _, k := range familyKeys(idx, l.SKU) {
			if e := idx[k]; !seen[e.id] {
				family = append(family, e.id)
				seen[e.id] = true
			}
		}
	}
	return exact, family, nil
}

// familyKeys lists catalog SKUs that extend code by whole tokens, sorted.
func familyKeys(idx map[string]skuEntry, code string) []string {
	if code == "" {
		return nil
	}
	var out []string
	for k := range idx {
		if strings.HasPrefix(k, code+" ") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ProductBySKU returns the active product with this SKU (normalised exact match: case,
// separators and look-alike letters do not matter), or nil.
func (r *Retriever) ProductBySKU(ctx context.Context, sku string) (*Product, error) {
	key := NormalizeSKU(sku)
	if key == "" {
		return nil, nil
	}
	idx, err := r.skuIndex(ctx, false)
	if err != nil {
		return nil, err
	}
	e, ok := idx[key]
	if !ok {
		if idx, err = r.skuIndex(ctx, true); err != nil { // a product may have just been synced
			return nil, err
		}
		if e, ok = idx[key]; !ok {
			return nil, nil
		}
	}
	ps, err := r.load(ctx, []int64{e.id})
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return &ps[0], nil
}

// ResolveOrderLines parses "4 CH 616, 2 x CH 145 black" against the catalog: exact codes get
// the catalog's spelling, model families list their candidates.
func (r *Retriever) ResolveOrderLines(ctx context.Context, text string) ([]OrderLine, error) {
	idx, err := r.skuIndex(ctx, false)
	if err != nil {
		return nil, err
	}
	lines := ParseOrderLines(text, func(code string) bool { _, ok := idx[code]; return ok })
	out := lines[:0]
	for _, l := range lines {
		if e, ok := idx[l.SKU]; ok {
			l.SKU = e.sku
		} else {
			keys := familyKeys(idx, l.SKU)
			if len(keys) == 0 {
				continue // not a catalog code (an order number, a phone fragment)
			}
			for _, k := range keys {
				l.Candidates = append(l.Candidates, idx[k].sku)
			}
			if len(keys) == 1 {
				l.SKU, l.Candidates = idx[keys[0]].sku, nil
			}
		}
		out = append(out, l)
	}
	return out, nil
}
