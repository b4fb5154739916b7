// Package seed loads the bundled demo data: the catalog snapshot, the knowledge base and
// the CRM fixtures for the built-in local CRM. Every step is idempotent, so `make run` can
// run it on each start.
package seed

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/catalog"
	"github.com/treejar/noor/activities/knowledge"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
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
	Catalog     catalog.SyncReport
	Knowledge   knowledge.Report
	CRMContacts int
	CRMDeals    int
	Elapsed     time.Duration
}

func (r Report) String() string {
	c := r.Catalog.Counts
	return fmt.Sprintf("seeded in %s: catalog sync %s (products %d new, %d updated, %d unchanged, %d failed, %d deactivated, %d embedded, %d linked to Zoho); %s; CRM contacts %d, deals %d",
		r.Elapsed.Round(time.Millisecond), r.Catalog.Status, c.Added, c.Updated, c.Unchanged, c.Failed, c.Deactivated,
		c.Embedded, c.ZohoLinked, r.Knowledge, r.CRMContacts, r.CRMDeals)
}

// Run seeds everything through the production code paths: the catalog sync's steps (the
// bundled snapshot unless CATALOG_API_URL is set; embeddings for changed rows only) and the
// knowledge-base indexer (changed documents only), then the local CRM fixtures. A second
// run embeds nothing.
func Run(ctx context.Context, d Deps) (Report, error) {
	start := time.Now()
	rep := Report{}
	progress := func(format string, args ...any) {
		if d.Progress != nil {
			fmt.Fprintf(d.Progress, format+"\n", args...)
		}
	}
	set, err := activities.Build(activities.Deps{Config: d.Config, Store: d.Store, Log: d.Log})
	if err != nil {
		return rep, err
	}
	rep.Catalog, err = set.Catalog.SyncNow(ctx, "seed")
	if err != nil {
		return rep, fmt.Errorf("catalog sync: %w", err)
	}
	progress("catalog: %s, %+v", rep.Catalog.Status, rep.Catalog.Counts)
	rep.Knowledge, err = set.Knowledge.IndexKnowledgeBase(ctx, knowledge.IndexInput{Bundled: true})
	if err != nil {
		return rep, fmt.Errorf("knowledge base: %w", err)
	}
	progress("%s", rep.Knowledge)
	if rep.CRMContacts, rep.CRMDeals, err = importCRM(ctx, d.Store); err != nil {
		return rep, err
	}
	progress("local CRM: %d contacts, %d deals", rep.CRMContacts, rep.CRMDeals)
	custs, orders, err := importInventory(ctx, d.Store)
	if err != nil {
		return rep, err
	}
	progress("local inventory: %d customers, %d sale orders", custs, orders)
	rep.Elapsed = time.Since(start)
	return rep, nil
}
