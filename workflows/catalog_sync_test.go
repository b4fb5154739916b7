package workflows_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/catalog"
	"github.com/treejar/noor/activities/catalog/catalogtest"
	"github.com/treejar/noor/activities/embed"
	"github.com/treejar/noor/activities/knowledge"
	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/activities/zoho/zohotest"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/testenv"
	"github.com/treejar/noor/worker"
	"github.com/treejar/noor/workflows"
)

// countingEmbedder is the offline embedder that counts what it embeds.
type countingEmbedder struct {
	embed.Embedder
	texts atomic.Int64
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.texts.Add(int64(len(texts)))
	return c.Embedder.Embed(ctx, texts)
}

type syncEnv struct {
	store   *db.Store
	cat     *catalogtest.Server
	zoho    *zohotest.Server
	emb     *countingEmbedder
	tc      client.Client
	queue   string
	catalog *catalog.Activities
}

func newSyncEnv(t *testing.T) *syncEnv {
	t.Helper()
	e := &syncEnv{store: testenv.DB(t), cat: catalogtest.NewDemo(), zoho: zohotest.New(),
		emb: &countingEmbedder{Embedder: embed.NewHashedNGrams()}, tc: testenv.Temporal(t), queue: testenv.TaskQueue(t)}
	t.Cleanup(e.cat.Close)
	t.Cleanup(e.zoho.Close)
	src := catalog.NewClient(e.cat.URL)
	src.Backoff, src.MaxRetries = 5*time.Millisecond, 1
	zc := zoho.New(e.zoho.Config(), e.store, testenv.Logger(t))
	zc.Inventory.API.Backoff = 5 * time.Millisecond
	e.catalog = &catalog.Activities{Source: src, Store: e.store, Embedder: e.emb, Inventory: zc.Inventory, Log: testenv.Logger(t)}
	set := &activities.Set{Catalog: e.catalog, Knowledge: &knowledge.Activities{Indexer: &knowledge.Indexer{Store: e.store, Embedder: e.emb}}}
	w := sdkworker.New(e.tc, e.queue, sdkworker.Options{})
	worker.Register(w, set)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	return e
}

func (e *syncEnv) run(t *testing.T, in workflows.CatalogSyncInput) (workflows.CatalogSyncProgress, error) {
	t.Helper()
	ctx := testenv.Ctx(t, 2*time.Minute)
	wr, err := e.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "catalog-sync-" + e.queue, TaskQueue: e.queue,
		WorkflowRunTimeout: 2 * time.Minute}, workflows.CatalogSyncWorkflowName, in)
	require.NoError(t, err)
	var out workflows.CatalogSyncProgress
	err = wr.Get(ctx, &out)
	if err == nil {
		require.Equal(t, wr.GetRunID(), out.RunID)
	}
	return out, err
}

func (e *syncEnv) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.store.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestCatalogSyncLoadsLinksEmbedsAndIsIdempotent(t *testing.T) {
	e := newSyncEnv(t)
	ctx := context.Background()

	first, err := e.run(t, workflows.CatalogSyncInput{Trigger: "test"})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", first.Status)
	assert.Equal(t, 120, first.Counts.Added)
	assert.Equal(t, 0, first.Counts.Failed)
	assert.Equal(t, 22, first.Counts.CategoriesTotal)
	assert.Equal(t, 22, first.Counts.CategoriesDone)
	assert.Equal(t, 110, first.Counts.ZohoLinked, "110 catalog SKUs exist in Zoho; DP and GL-100 are Zoho-only")
	assert.Equal(t, 120, first.Counts.Embedded)
	assert.Equal(t, "zoho-inventory", first.Zoho)
	assert.Equal(t, 120, e.count(t, `SELECT count(*) FROM products WHERE active AND embedding IS NOT NULL`))

	// Catalog price wins over the Zoho rate; the Zoho item id and exact stock are linked.
	var price, rate float64
	var itemID string
	var zstock int
	require.NoError(t, e.store.Pool.QueryRow(ctx, `SELECT price, zoho_rate, zoho_item_id, zoho_stock FROM products WHERE sku = 'CH 145 black'`).
		Scan(&price, &rate, &itemID, &zstock))
	assert.Equal(t, 503.0, price)
	assert.Equal(t, 479.0, rate)
	assert.NotEmpty(t, itemID)
	assert.Equal(t, 109, zstock)
	require.NoError(t, e.store.Pool.QueryRow(ctx, `SELECT zoho_stock FROM products WHERE sku = 'CH 616 black'`).Scan(&zstock))
	assert.Equal(t, 0, zstock, "Zoho says 0 where the catalog says 3")
	assert.Equal(t, 0, e.count(t, `SELECT count(*) FROM products WHERE sku = 'CH 145 white' AND zoho_item_id IS NOT NULL`))
	assert.Equal(t, 0, e.count(t, `SELECT count(*) FROM products WHERE sku IN ('DP', 'GL-100')`), "Zoho-only items are never products")
	var sale float64
	require.NoError(t, e.store.Pool.QueryRow(ctx, `SELECT sale_price FROM products WHERE sku = 'CH 210 black'`).Scan(&sale))
	assert.Equal(t, 159.0, sale)

	run, err := e.store.SyncRun(ctx, first.RunID)
	require.NoError(t, err)
	assert.Equal(t, "succeeded", run.Status)
	assert.Equal(t, 120, run.Counts.Added)
	assert.NotNil(t, run.FinishedAt)

	// Second run: nothing changes, nothing is embedded.
	embeddedBefore := e.emb.texts.Load()
	second, err := e.run(t, workflows.CatalogSyncInput{Trigger: "test"})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", second.Status)
	assert.Equal(t, 0, second.Counts.Added)
	assert.Equal(t, 0, second.Counts.Updated)
	assert.Equal(t, 120, second.Counts.Unchanged)
	assert.Equal(t, 0, second.Counts.Deactivated)
	assert.Equal(t, 0, second.Counts.Embedded)
	assert.Equal(t, embeddedBefore, e.emb.texts.Load(), "an unchanged catalog embeds nothing")

	// A price change updates one row and re-embeds nothing (price is not embedded text);
	// a description change re-embeds exactly that product.
	e.cat.Update("executive-chair-ch-560-black-ch-560-black", func(p map[string]any) { p["price"] = 650.0 })
	e.cat.Update("meeting-pod-pod-4-pod-4", func(p map[string]any) { p["description"] = "A four-person meeting pod with glass walls." })
	third, err := e.run(t, workflows.CatalogSyncInput{Trigger: "test"})
	require.NoError(t, err)
	assert.Equal(t, 2, third.Counts.Updated)
	assert.Equal(t, 1, third.Counts.Embedded)
	require.NoError(t, e.store.Pool.QueryRow(ctx, `SELECT price FROM products WHERE sku = 'CH 560 black'`).Scan(&price))
	assert.Equal(t, 650.0, price)

	// A product removed from the catalog is deactivated by the next complete sync.
	e.cat.Remove("kate-single-sofa-grey-kate-1-grey")
	fourth, err := e.run(t, workflows.CatalogSyncInput{Trigger: "test"})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", fourth.Status)
	assert.Equal(t, 1, fourth.Counts.Deactivated)
	assert.Equal(t, 1, e.count(t, `SELECT count(*) FROM products WHERE sku = 'KATE 1 GREY' AND NOT active`))
	assert.Equal(t, 119, e.count(t, `SELECT count(*) FROM products WHERE active`))
}

func TestCatalogSyncThatFailsHalfWayDeactivatesNothing(t *testing.T) {
	e := newSyncEnv(t)
	_, err := e.run(t, workflows.CatalogSyncInput{Trigger: "test"})
	require.NoError(t, err)

	// Half the catalog is unreadable (one category answers 503, one product 500), and a
	// product really disappeared: nothing may be deactivated on this evidence.
	e.cat.FailCategory("operative-chair", catalogtest.Failure{Status: 503})
	e.cat.FailProduct("executive-chair-ch-125-grey-ch-125-grey", catalogtest.Failure{Status: 500})
	e.cat.Remove("kate-single-sofa-grey-kate-1-grey")
	res, err := e.run(t, workflows.CatalogSyncInput{Trigger: "test"})
	require.NoError(t, err)
	assert.Equal(t, "partial", res.Status)
	assert.Equal(t, 0, res.Counts.Deactivated)
	assert.GreaterOrEqual(t, res.Counts.Failed, 2)
	assert.NotEmpty(t, res.Errors)
	assert.Equal(t, 120, e.count(t, `SELECT count(*) FROM products WHERE active`), "a partial sync deactivates nothing")
	run, err := e.store.SyncRun(context.Background(), res.RunID)
	require.NoError(t, err)
	assert.Equal(t, "partial", run.Status)
	assert.NotEmpty(t, run.Errors)

	// Retries happened with back-off before giving up on the category.
	n := 0
	for _, r := range e.cat.Requests() {
		if r.Action == "category_products" && r.Slug == "operative-chair" {
			n++
		}
	}
	assert.Greater(t, n, 2, "the page was retried")

	// Once healed, a complete sync deactivates the removed product.
	e.cat.Heal()
	res, err = e.run(t, workflows.CatalogSyncInput{Trigger: "test"})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", res.Status)
	assert.Equal(t, 1, res.Counts.Deactivated)
}

func TestCatalogSyncFailsFastOnRevokedZohoToken(t *testing.T) {
	e := newSyncEnv(t)
	e.zoho.Revoke()
	start := time.Now()
	_, err := e.run(t, workflows.CatalogSyncInput{Trigger: "test"})
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	assert.Equal(t, zoho.ErrTypeAuthRevoked, appErr.Type())
	assert.Contains(t, err.Error(), "ZOHO_REFRESH_TOKEN")
	assert.Less(t, time.Since(start), 20*time.Second)
	assert.Equal(t, 0, e.cat.Count("product"), "failed before walking the catalog")
	assert.Equal(t, 1, e.zoho.Refreshes()+countToken(e.zoho), "one refresh attempt, not a retry loop")

	var status string
	var errs []byte
	require.NoError(t, e.store.Pool.QueryRow(context.Background(),
		`SELECT status, errors FROM catalog_sync_runs ORDER BY started_at DESC LIMIT 1`).Scan(&status, &errs))
	assert.Equal(t, "failed", status)
	assert.Contains(t, string(errs), "invalid_code")
}

func countToken(z *zohotest.Server) int {
	n := 0
	for _, r := range z.Requests() {
		if r.Path == "/oauth/v2/token" {
			n++
		}
	}
	return n
}

func TestCatalogSyncOneAtATimeAndProgress(t *testing.T) {
	e := newSyncEnv(t)
	ctx := context.Background()
	// Another sync (e.g. the scheduled one) holds the slot: this one is skipped.
	_, started, err := e.store.BeginSyncRun(ctx, "other-run", "catalog-sync-scheduled", "schedule", "test")
	require.NoError(t, err)
	require.True(t, started)
	res, err := e.run(t, workflows.CatalogSyncInput{Trigger: "test"})
	require.NoError(t, err)
	assert.Equal(t, "skipped", res.Status)
	assert.Equal(t, "other-run", res.RunningID)
	assert.Equal(t, 0, e.cat.Count(""))
	require.NoError(t, e.store.FinishSyncRun(ctx, "other-run", "failed", db.SyncCounts{}, nil))

	// Progress is readable while a sync runs: slow down one category and watch.
	e.cat.FailCategory("lockers", catalogtest.Failure{Delay: 3 * time.Second})
	wr, err := e.tc.ExecuteWorkflow(testenv.Ctx(t, time.Minute), client.StartWorkflowOptions{ID: "catalog-sync-progress-" + e.queue,
		TaskQueue: e.queue}, workflows.CatalogSyncWorkflowName, workflows.CatalogSyncInput{Trigger: "test", Concurrency: 1})
	require.NoError(t, err)
	var mid workflows.CatalogSyncProgress
	require.Eventually(t, func() bool {
		v, err := e.tc.QueryWorkflow(ctx, wr.GetID(), wr.GetRunID(), workflows.QueryState)
		if err != nil || v.Get(&mid) != nil {
			return false
		}
		return mid.Phase == "products" && mid.Counts.CategoriesDone > 0
	}, 30*time.Second, 50*time.Millisecond)
	assert.Equal(t, "running", mid.Status)
	assert.Less(t, mid.Counts.CategoriesDone, mid.Counts.CategoriesTotal)
	require.Eventually(t, func() bool {
		run, err := e.store.SyncRun(ctx, wr.GetRunID())
		return err == nil && run.Status == "running" && run.Counts.Seen > 0
	}, 30*time.Second, 50*time.Millisecond, "the run row shows progress while it runs")
	var done workflows.CatalogSyncProgress
	require.NoError(t, wr.Get(ctx, &done))
	assert.Equal(t, "succeeded", done.Status)
}
