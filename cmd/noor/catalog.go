package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/catalog"
	"github.com/treejar/noor/activities/knowledge"
	"github.com/treejar/noor/db"
)

// openActivities migrates, opens the store and builds the activity groups for an
// in-process maintenance command.
func openActivities(ctx context.Context) (*activities.Set, *db.Store, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, nil, err
	}
	log := newLogger(cfg)
	if _, err := db.Migrate(ctx, cfg.DatabaseURL.Reveal()); err != nil {
		return nil, nil, err
	}
	store, err := db.Open(ctx, cfg.DatabaseURL.Reveal())
	if err != nil {
		return nil, nil, err
	}
	set, err := activities.Build(activities.Deps{Config: cfg, Store: store, Log: log})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return set, store, nil
}

// runReembed recomputes every product and knowledge-base vector with the configured
// embedder (after switching EMBEDDINGS_BASE_URL/EMBEDDINGS_MODEL). Without --all only
// rows whose text or model changed are embedded, which is what the sync does anyway.
func runReembed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reembed", flag.ContinueOnError)
	all := fs.Bool("all", true, "forget stored text hashes and embed everything")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set, store, err := openActivities(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if *all {
		if err := store.ClearEmbeddings(ctx); err != nil {
			return fmt.Errorf("clear embeddings: %w", err)
		}
	}
	fmt.Printf("embedding with %s (%d dims)\n", set.Embedder.Model(), set.Embedder.Dims())
	total := 0
	for {
		res, err := catalog.EmbedChangedProducts(ctx, store, set.Embedder, 512, nil)
		if err != nil {
			return err
		}
		total += res.Embedded
		fmt.Printf("products embedded: %d\n", total)
		if res.Remaining == 0 {
			break
		}
	}
	rep, err := set.Knowledge.IndexKnowledgeBase(ctx, knowledge.IndexInput{Bundled: true})
	if err != nil {
		return err
	}
	fmt.Println(rep)
	return nil
}

// runKBIndex indexes the knowledge base (bundled documents and KB_DIR); unchanged
// documents are skipped.
func runKBIndex(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("kb-index", flag.ContinueOnError)
	bundled := fs.Bool("bundled", true, "include the demo knowledge base shipped in the binary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set, store, err := openActivities(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := set.Knowledge.IndexKnowledgeBase(ctx, knowledge.IndexInput{Bundled: *bundled})
	if err != nil {
		return err
	}
	fmt.Println(rep)
	return nil
}
