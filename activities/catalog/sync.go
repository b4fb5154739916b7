package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities/embed"
	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/db"
)

// Counts are a sync's running totals (also the columns of catalog_sync_runs).
type Counts = db.SyncCounts

// ZohoInventory is what the sync needs from Zoho Inventory. Nil means the built-in local
// inventory: stock comes from the catalog rows in PostgreSQL and there is nothing to link.
type ZohoInventory interface {
	AllItems(ctx context.Context) ([]zoho.Item, error)
	CheckAuth(ctx context.Context) error
}

// Activities are the catalog sync's steps. The workflow (workflows.CatalogSync) holds only
// slugs and counts; products travel from the source to PostgreSQL inside the activities.
type Activities struct {
	Source    Source
	Store     *db.Store
	Embedder  embed.Embedder
	Inventory ZohoInventory
	Log       *slog.Logger
	// ProductConcurrency bounds parallel product fetches within one page (default 4).
	ProductConcurrency int
}

// Error types the workflow reacts to.
const (
	ErrTypeSyncRunning = "CatalogSyncAlreadyRunning"
)

type BeginSyncInput struct {
	RunID, WorkflowID, Trigger string
}

type BeginSyncResult struct {
	Started bool
	// RunningID is the sync that is already running when Started is false.
	RunningID string
	// SyncedAt stamps every product this run sees; products with an older stamp are
	// missing from the catalog (deactivated only after a complete run).
	SyncedAt time.Time
	Source   string
}

// BeginCatalogSync claims the one sync slot and checks Zoho credentials up front, so a
// revoked token fails the sync at once instead of after walking the whole catalog.
func (a *Activities) BeginCatalogSync(ctx context.Context, in BeginSyncInput) (BeginSyncResult, error) {
	run, started, err := a.Store.BeginSyncRun(ctx, in.RunID, in.WorkflowID, in.Trigger, a.Source.Name())
	if err != nil {
		return BeginSyncResult{}, err
	}
	if !started {
		return BeginSyncResult{RunningID: run.ID}, nil
	}
	if a.Inventory != nil {
		err := a.Inventory.CheckAuth(ctx)
		a.Store.NoteProviderResult(ctx, "inventory", err)
		if err != nil {
			if zoho.Terminal(err) {
				_ = a.Store.FinishSyncRun(ctx, in.RunID, "failed", run.Counts, []string{"zoho: " + err.Error()})
			}
			return BeginSyncResult{}, zoho.ActivityError(fmt.Errorf("zoho preflight: %w", err))
		}
	}
	return BeginSyncResult{Started: true, SyncedAt: run.StartedAt, Source: a.Source.Name()}, nil
}

// CatalogCategories lists the leaf category slugs in document order.
func (a *Activities) CatalogCategories(ctx context.Context) ([]string, error) {
	cats, err := a.Source.Categories(ctx)
	a.Store.NoteProviderResult(ctx, "catalog", err)
	if err != nil {
		return nil, fmt.Errorf("read categories: %w", err)
	}
	var out []string
	for _, c := range Leaves(cats) {
		out = append(out, c.Slug)
	}
	if len(out) == 0 {
		// An empty tree is a broken source, not an empty catalog: never let it deactivate everything.
		return nil, temporal.NewNonRetryableApplicationError("catalog returned no categories", "CatalogEmpty", nil)
	}
	return out, nil
}

type SyncPageInput struct {
	Slug          string
	Offset, Limit int
	SyncedAt      time.Time
}

type SyncPageResult struct {
	Slug                                    string
	Seen, Added, Updated, Unchanged, Failed int
	Errors                                  []string
	Total, NextOffset                       int
	HasMore                                 bool
}

// SyncCatalogPage reads one page of a category, fetches each product's full body and
// upserts it. A product that cannot be read counts as failed (the run is then partial and
// deactivates nothing); a page that cannot be read fails the activity (Temporal retries).
func (a *Activities) SyncCatalogPage(ctx context.Context, in SyncPageInput) (SyncPageResult, error) {
	if in.Limit <= 0 {
		in.Limit = 100
	}
	page, err := a.Source.CategoryProducts(ctx, in.Slug, in.Limit, in.Offset)
	a.Store.NoteProviderResult(ctx, "catalog", err)
	if err != nil {
		return SyncPageResult{}, fmt.Errorf("category %s offset %d: %w", in.Slug, in.Offset, err)
	}
	res := SyncPageResult{Slug: in.Slug, Total: page.Total, HasMore: page.HasMore, NextOffset: in.Offset + len(page.Products)}
	if page.HasMore && len(page.Products) == 0 {
		res.HasMore = false // a source that says "more" but sends nothing would loop forever
		res.Errors = append(res.Errors, fmt.Sprintf("category %s: hasMore with an empty page at offset %d", in.Slug, in.Offset))
		res.Failed++
	}
	conc := a.ProductConcurrency
	if conc <= 0 {
		conc = 4
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, conc)
	seenKeys := map[string]bool{}
	for _, sum := range page.Products {
		key := strings.ToLower(strings.TrimSpace(sum.SKU))
		if key == "" {
			key = sum.Slug
		}
		if seenKeys[key] {
			continue
		}
		seenKeys[key] = true
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			outcome, err := a.syncProduct(ctx, sum.Slug, in.SyncedAt)
			mu.Lock()
			defer mu.Unlock()
			res.Seen++
			if err != nil {
				res.Failed++
				if len(res.Errors) < 20 {
					res.Errors = append(res.Errors, err.Error())
				}
				return
			}
			switch outcome {
			case db.Inserted:
				res.Added++
			case db.Updated:
				res.Updated++
			default:
				res.Unchanged++
			}
			recordHeartbeat(ctx, res.Seen)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return SyncPageResult{}, ctx.Err()
	}
	return res, nil
}

func (a *Activities) syncProduct(ctx context.Context, slug string, syncedAt time.Time) (db.UpsertOutcome, error) {
	p, err := a.Source.Product(ctx, slug)
	if err != nil {
		return "", fmt.Errorf("product %s: %w", slug, err)
	}
	_, outcome, err := a.Store.UpsertProduct(ctx, ToInput(p), syncedAt)
	if err != nil {
		return "", err
	}
	return outcome, nil
}

type LinkZohoInput struct {
	SyncedAt time.Time
}

type LinkZohoResult struct {
	Provider string // zoho-inventory | local
	Items    int
	Linked   int
	Changed  int
}

// LinkZohoItems links Zoho Inventory items to products by SKU (item id, exact stock, Zoho
// rate for reference — the catalog price stays the customer price). A revoked token is a
// non-retryable error of type zoho.ErrTypeAuthRevoked.
func (a *Activities) LinkZohoItems(ctx context.Context, in LinkZohoInput) (LinkZohoResult, error) {
	if a.Inventory == nil {
		return LinkZohoResult{Provider: "local"}, nil
	}
	items, err := a.Inventory.AllItems(ctx)
	a.Store.NoteProviderResult(ctx, "inventory", err)
	if err != nil {
		return LinkZohoResult{}, zoho.ActivityError(fmt.Errorf("list zoho items: %w", err))
	}
	links := make([]db.ZohoLink, 0, len(items))
	for _, it := range items {
		if strings.TrimSpace(it.SKU) == "" {
			continue
		}
		links = append(links, db.ZohoLink{SKU: it.SKU, ItemID: it.ItemID, Stock: it.Available(), Rate: it.Rate})
	}
	linked, changed, err := a.Store.LinkZohoItems(ctx, links, in.SyncedAt)
	if err != nil {
		return LinkZohoResult{}, err
	}
	return LinkZohoResult{Provider: "zoho-inventory", Items: len(items), Linked: linked, Changed: changed}, nil
}

type DeactivateInput struct {
	SyncedAt time.Time
}

// DeactivateMissingProducts marks products this (complete, successful) run did not see as
// inactive. The workflow calls it only when nothing failed.
func (a *Activities) DeactivateMissingProducts(ctx context.Context, in DeactivateInput) (int, error) {
	n, err := a.Store.DeactivateProductsNotSyncedSince(ctx, in.SyncedAt)
	return int(n), err
}

type EmbedProductsInput struct {
	// Max bounds the work of one activity call (default 512); the workflow calls again
	// while Remaining > 0.
	Max int
}

type EmbedProductsResult struct {
	Model     string
	Embedded  int
	Remaining int
}

// EmbedProducts embeds active products whose embedded text (or the embedding model)
// changed since their vector was computed. Unchanged products cost nothing.
func (a *Activities) EmbedProducts(ctx context.Context, in EmbedProductsInput) (EmbedProductsResult, error) {
	return EmbedChangedProducts(ctx, a.Store, a.Embedder, in.Max, func(done int) { recordHeartbeat(ctx, done) })
}

func recordHeartbeat(ctx context.Context, v any) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, v)
	}
}

// EmbedChangedProducts is the embedding pass, shared by the workflow activity and
// `noor reembed`/`noor seed`.
func EmbedChangedProducts(ctx context.Context, store *db.Store, e embed.Embedder, max int, progress func(done int)) (EmbedProductsResult, error) {
	if max <= 0 {
		max = 512
	}
	res := EmbedProductsResult{Model: e.Model()}
	cands, err := store.ProductsForEmbedding(ctx)
	if err != nil {
		return res, err
	}
	type job struct {
		id         int64
		text, hash string
	}
	var todo []job
	for _, c := range cands {
		text := ProductText(c)
		h := embed.TextHash(text)
		if c.EmbeddingModel == e.Model() && c.EmbeddedTextHash == h {
			continue
		}
		todo = append(todo, job{c.ID, text, h})
	}
	if len(todo) > max {
		res.Remaining = len(todo) - max
		todo = todo[:max]
	}
	const batch = 64
	for start := 0; start < len(todo); start += batch {
		part := todo[start:min(start+batch, len(todo))]
		texts := make([]string, len(part))
		for i, j := range part {
			texts[i] = j.text
		}
		vecs, err := e.Embed(ctx, texts)
		store.NoteProviderResult(ctx, "embeddings", err)
		if err != nil {
			var he *embed.Error
			if errors.Is(err, embed.ErrBadResponse) || errors.As(err, &he) && !he.Retryable() {
				return res, temporal.NewNonRetryableApplicationError(err.Error(), "EmbeddingsRejected", err)
			}
			return res, err
		}
		for i, j := range part {
			if err := store.SetProductEmbedding(ctx, j.id, vecs[i], e.Model(), j.hash); err != nil {
				return res, err
			}
		}
		res.Embedded += len(part)
		if progress != nil {
			progress(res.Embedded)
		}
	}
	return res, nil
}

// ProductText is what a product's vector is computed from: what a customer would describe
// (name, code, category, descriptions, features, materials), never price or stock, so a
// price change does not cost an embedding call.
func ProductText(c db.EmbeddingCandidate) string {
	var b strings.Builder
	b.WriteString(c.Name)
	b.WriteString(". SKU ")
	b.WriteString(c.SKU)
	b.WriteString(". ")
	b.WriteString(c.Category)
	if c.ParentCategory != "" && c.ParentCategory != c.Category {
		b.WriteString(", " + c.ParentCategory)
	}
	b.WriteString(". ")
	if c.ShortDescription != "" {
		b.WriteString(c.ShortDescription + ". ")
	}
	b.WriteString(c.Description)
	for _, f := range c.Features {
		b.WriteString(" " + f + ".")
	}
	keys := make([]string, 0, len(c.Specifications))
	for k := range c.Specifications {
		switch strings.ToLower(k) {
		case "upholstery", "materials", "material", "mechanism", "colour", "color", "finish", "frame", "armrests", "base":
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s: %v.", k, c.Specifications[k])
	}
	return b.String()
}

type ProgressInput struct {
	RunID, Phase string
	Counts       Counts
	Errors       []string
}

// RecordCatalogSyncProgress writes the run's totals (run as a local activity after each page).
func (a *Activities) RecordCatalogSyncProgress(ctx context.Context, in ProgressInput) error {
	return a.Store.RecordSyncProgress(ctx, in.RunID, in.Phase, in.Counts, in.Errors)
}

type FinishSyncInput struct {
	RunID, Status string
	Counts        Counts
	Errors        []string
}

// FinishCatalogSync closes the run row.
func (a *Activities) FinishCatalogSync(ctx context.Context, in FinishSyncInput) error {
	return a.Store.FinishSyncRun(ctx, in.RunID, in.Status, in.Counts, in.Errors)
}

// ToInput maps a catalog product to the row the database stores. The source hash covers
// the whole body, so any change in the catalog updates the row.
func ToInput(p Product) db.ProductInput {
	raw, _ := json.Marshal(p)
	sum := sha256.Sum256(raw)
	images, _ := json.Marshal(p.Images)
	features, _ := json.Marshal(p.Features)
	specs, _ := json.Marshal(p.Specifications)
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	salePrice := p.SalePrice
	if !p.OnSale {
		salePrice = nil // a stale salePrice without onSale is not a customer price
	}
	return db.ProductInput{
		Slug: p.Slug, SKU: strings.TrimSpace(p.SKU), Name: p.Name, Description: p.Description,
		ShortDescription: p.ShortDescription, Category: p.Category, CategorySlug: p.CategorySlug,
		ParentCategory: p.ParentCategory, ParentCategorySlug: p.ParentCategorySlug, Brand: deref(p.Brand),
		Price: p.Price, SalePrice: salePrice, Currency: p.Currency, InStock: p.InStock,
		StockQuantity: p.StockQuantity, ImageURL: p.Image, URL: p.URL,
		Images: images, Features: features, Specifications: specs,
		SourceHash: hex.EncodeToString(sum[:]),
	}
}
