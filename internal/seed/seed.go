// Package seed loads the bundled demo data: the catalog snapshot, the knowledge base and
// the CRM fixtures for the built-in local CRM. Every step is idempotent, so `make run` can
// run it on each start.
package seed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/treejar/noor/activities/catalog"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/demodata"
)

// Deps are what seeding needs.
type Deps struct {
	Store    *db.Store
	Config   config.Config
	Log      *slog.Logger
	Progress io.Writer // human-readable progress lines; may be nil
}

// Report counts what seeding did.
type Report struct {
	Products        map[db.UpsertOutcome]int
	ProductsFailed  int
	KnowledgeChunks int
	CRMContacts     int
	CRMDeals        int
	Elapsed         time.Duration
}

func (r Report) String() string {
	return fmt.Sprintf("seeded in %s: products %d new, %d updated, %d unchanged, %d failed; knowledge chunks %d; CRM contacts %d, deals %d",
		r.Elapsed.Round(time.Millisecond), r.Products[db.Inserted], r.Products[db.Updated], r.Products[db.Unchanged],
		r.ProductsFailed, r.KnowledgeChunks, r.CRMContacts, r.CRMDeals)
}

// Run seeds everything.
func Run(ctx context.Context, d Deps) (Report, error) {
	start := time.Now()
	rep := Report{Products: map[db.UpsertOutcome]int{}}
	progress := func(format string, args ...any) {
		if d.Progress != nil {
			fmt.Fprintf(d.Progress, format+"\n", args...)
		}
	}
	sub, err := fs.Sub(demodata.FS, "catalog")
	if err != nil {
		return rep, err
	}
	if err := importCatalog(ctx, d.Store, catalog.Snapshot{FS: sub}, &rep, progress); err != nil {
		return rep, err
	}
	n, err := importKnowledge(ctx, d.Store)
	if err != nil {
		return rep, err
	}
	rep.KnowledgeChunks = n
	progress("knowledge base: %d chunks", n)
	if rep.CRMContacts, rep.CRMDeals, err = importCRM(ctx, d.Store); err != nil {
		return rep, err
	}
	progress("local CRM: %d contacts, %d deals", rep.CRMContacts, rep.CRMDeals)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

func importCatalog(ctx context.Context, store *db.Store, src catalog.Source, rep *Report, progress func(string, ...any)) error {
	cats, err := src.Categories(ctx)
	if err != nil {
		return fmt.Errorf("read categories: %w", err)
	}
	seen := map[string]bool{}
	syncAt := time.Now()
	leaves := catalog.Leaves(cats)
	for i, leaf := range leaves {
		page, err := src.CategoryProducts(ctx, leaf.Slug, 100, 0)
		if err != nil {
			return fmt.Errorf("read category %s: %w", leaf.Slug, err)
		}
		for _, sum := range page.Products {
			key := strings.ToLower(sum.SKU)
			if key == "" {
				key = sum.Slug
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			p, err := src.Product(ctx, sum.Slug)
			if err != nil {
				rep.ProductsFailed++
				continue
			}
			in, err := ProductInput(p)
			if err != nil {
				rep.ProductsFailed++
				continue
			}
			_, outcome, err := store.UpsertProduct(ctx, in, syncAt)
			if err != nil {
				rep.ProductsFailed++
				continue
			}
			rep.Products[outcome]++
		}
		progress("catalog: category %d/%d %s", i+1, len(leaves), leaf.Slug)
	}
	return nil
}

// ProductInput maps a catalog product to the row the database stores.
func ProductInput(p catalog.Product) (db.ProductInput, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return db.ProductInput{}, err
	}
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
	in := db.ProductInput{
		Slug: p.Slug, SKU: strings.TrimSpace(p.SKU), Name: p.Name, Description: p.Description,
		ShortDescription: p.ShortDescription, Category: p.Category, CategorySlug: p.CategorySlug,
		ParentCategory: p.ParentCategory, ParentCategorySlug: p.ParentCategorySlug, Brand: deref(p.Brand),
		Price: p.Price, SalePrice: p.SalePrice, Currency: p.Currency, InStock: p.InStock,
		StockQuantity: p.StockQuantity, ImageURL: p.Image, URL: p.URL,
		Images: images, Features: features, Specifications: specs,
		SourceHash: hex.EncodeToString(sum[:]),
	}
	return in, nil
}
