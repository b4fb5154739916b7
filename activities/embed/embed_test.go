package embed_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/embed"
)

func cos(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestHashedNGrams(t *testing.T) {
	e := embed.NewHashedNGrams()
	v, err := e.Embed(context.Background(), []string{"executive office chair", "executive office chair", "كرسي مكتب", "fume hood", ""})
	require.NoError(t, err)
	assert.Equal(t, v[0], v[1], "deterministic")
	for _, x := range v {
		require.Len(t, x, embed.Dims)
		var n float64
		for _, f := range x {
			n += float64(f) * float64(f)
		}
		assert.InDelta(t, 1, math.Sqrt(n), 1e-5, "L2-normalised")
	}
	assert.Greater(t, cos(v[0], v[2]), cos(v[0], v[3]), "Arabic 'office chair' is nearer to the English one than an unrelated text")
}

// A small fake of the OpenAI-compatible /embeddings contract with failure injection.
func TestClientBatchesRetriesAndChecksDims(t *testing.T) {
	var mu sync.Mutex
	var batches []int
	fail, dims := 1, embed.Dims
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/v1/embeddings", r.URL.Path)
		require.Equal(t, "Bearer k", r.Header.Get("Authorization"))
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		mu.Lock()
		defer mu.Unlock()
		if fail > 0 {
			fail--
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		batches = append(batches, len(req.Input))
		data := []map[string]any{}
		for i := len(req.Input) - 1; i >= 0; i-- { // out of order on purpose
			v := make([]float32, dims)
			v[i%dims] = 2
			data = append(data, map[string]any{"embedding": v, "index": i})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	defer srv.Close()
	c := embed.NewClient(srv.URL+"/v1", "k", "BAAI/bge-m3")
	c.BatchSize, c.Backoff = 3, time.Millisecond
	texts := []string{"a", "b", "c", "d", "e"}
	vecs, err := c.Embed(context.Background(), texts)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 2}, batches, "batched, after one 429 retry")
	require.Len(t, vecs, 5)
	assert.Equal(t, float32(1), vecs[1][1], "placed by index and normalised")
	assert.Equal(t, "BAAI/bge-m3", c.Model())

	dims = 768
	_, err = c.Embed(context.Background(), []string{"x"})
	require.ErrorIs(t, err, embed.ErrBadResponse)
	assert.Contains(t, err.Error(), "768")
}
