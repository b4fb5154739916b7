package retrieval_test

import (
	"encoding/json"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/catalog"
	"github.com/treejar/noor/activities/embed"
	"github.com/treejar/noor/activities/retrieval"
	"github.com/treejar/noor/internal/testenv"
)

func evalQueries(b *testing.B) []string {
	raw, err := os.ReadFile("testdata/eval.json")
	require.NoError(b, err)
	var set evalSet
	require.NoError(b, json.Unmarshal(raw, &set))
	out := make([]string, 0, len(set.Queries)+len(set.NoMatch))
	for _, q := range set.Queries {
		out = append(out, q.Q)
	}
	return append(out, set.NoMatch...)
}

// benchSearch runs the evaluation queries round-robin and reports latency percentiles.
func benchSearch(b *testing.B, r *retrieval.Retriever) {
	qs := evalQueries(b)
	ctx := testenv.Ctx(b, 30*time.Minute)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := r.Search(ctx, retrieval.Query{Text: qs[i%len(qs)], Limit: 5}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
}

// BenchmarkSearchDemoCatalog: the 120-product demo catalog, offline embedder.
func BenchmarkSearchDemoCatalog(b *testing.B) {
	benchSearch(b, newRetriever(b))
}

// BenchmarkSearch10kProducts: the demo catalog plus 10 000 generated variants (names,
// SKUs, categories and prices of the demo rows, renumbered), embedded; the HNSW index is used.
func BenchmarkSearch10kProducts(b *testing.B) {
	e := embed.NewHashedNGrams()
	store := demoStore(b, e)
	ctx := testenv.Ctx(b, 30*time.Minute)
	_, err := store.Pool.Exec(ctx, `
		INSERT INTO products (slug, sku, name, description, short_description, category, category_slug, parent_category,
		    parent_category_slug, brand, price, sale_price, currency, in_stock, stock_quantity, image_url, url, features, specifications,
		    source_hash, active, synced_at)
		SELECT p.slug || '-g' || g, p.sku || ' G' || g, p.name || ' series ' || g, p.description, p.short_description,
		    p.category, p.category_slug, p.parent_category, p.parent_category_slug, p.brand,
		    round((p.price * (0.7 + (g % 60) / 100.0))::numeric, 2), NULL, p.currency, g % 7 <> 0, g % 40,
		    p.image_url, p.url, p.features, p.specifications, 'gen', true, now()
		FROM generate_series(1, 10000) g JOIN LATERAL (SELECT * FROM products ORDER BY id OFFSET (g % 120) LIMIT 1) p ON true`)
	require.NoError(b, err)
	for {
		res, err := catalog.EmbedChangedProducts(ctx, store, e, 2000, nil)
		require.NoError(b, err)
		if res.Remaining == 0 {
			break
		}
	}
	_, err = store.Pool.Exec(ctx, `ANALYZE products`)
	require.NoError(b, err)
	benchSearch(b, retrieval.New(store, e, nil, nil))
}
