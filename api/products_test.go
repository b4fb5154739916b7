package api_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/retrieval"
	"github.com/treejar/noor/api"
	"github.com/treejar/noor/internal/testenv"
)

func auth() map[string]string {
	return map[string]string{"X-API-Key": apiKey, "Content-Type": "application/json"}
}

// seedCatalog syncs the demo snapshot into the env's database (same path as `noor seed`).
func seedCatalog(t *testing.T, e *env) {
	t.Helper()
	set, err := activities.Build(activities.Deps{Config: e.cfg, Store: e.store, Log: testenv.Logger(t)})
	require.NoError(t, err)
	rep, err := set.Catalog.SyncNow(testenv.Ctx(t, time.Minute), "test")
	require.NoError(t, err)
	require.Equal(t, "succeeded", rep.Status)
}

func TestProductSearchAPI(t *testing.T) {
	e := newEnv(t, false)
	seedCatalog(t, e)

	resp, body := e.do(t, "POST", "/api/v1/products/search", strings.NewReader(`{"query":"CH 145 black"}`), auth())
	require.Equal(t, 200, resp.StatusCode, string(body))
	var res retrieval.Result
	require.NoError(t, json.Unmarshal(body, &res))
	require.NotEmpty(t, res.Products)
	assert.Equal(t, "CH 145 black", res.Products[0].SKU)
	assert.Equal(t, "black", res.Filters.Colour)

	resp, body = e.do(t, "POST", "/api/v1/products/search", strings.NewReader(`{"query":"executive chair under 700 AED","limit":20}`), auth())
	require.Equal(t, 200, resp.StatusCode)
	require.NoError(t, json.Unmarshal(body, &res))
	assert.Equal(t, "executive-chair", res.Filters.Category, "extracted filters are echoed")
	require.NotNil(t, res.Filters.MaxPrice)
	for _, p := range res.Products {
		assert.LessOrEqual(t, p.Price, 700.0)
	}

	for _, tc := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"empty", `{}`, 422, "query"},
		{"limit", `{"query":"chair","limit":500}`, 422, "limit"},
		{"negative price", `{"query":"chair","max_price":-1}`, 422, "max_price"},
		{"inverted range", `{"query":"chair","min_price":900,"max_price":100}`, 422, "min_price"},
		{"not json", `chair`, 400, "(body)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, "POST", "/api/v1/products/search", strings.NewReader(tc.body), auth())
			assert.Equal(t, tc.status, resp.StatusCode, string(body))
			var eb api.ErrorBody
			require.NoError(t, json.Unmarshal(body, &eb))
			require.NotEmpty(t, eb.Error.Fields)
			assert.Equal(t, tc.field, eb.Error.Fields[0].Field)
		})
	}
}

func TestProductListAndGetAPI(t *testing.T) {
	e := newEnv(t, false)
	seedCatalog(t, e)
	type list struct {
		Products []retrieval.Product `json:"products"`
		Total    int                 `json:"total"`
	}
	get := func(q url.Values) (int, list) {
		resp, body := e.do(t, "GET", "/api/v1/products/?"+q.Encode(), nil, auth())
		var l list
		_ = json.Unmarshal(body, &l)
		return resp.StatusCode, l
	}
	status, l := get(url.Values{"limit": {"10"}})
	require.Equal(t, 200, status)
	assert.Equal(t, 120, l.Total)
	assert.Len(t, l.Products, 10)

	status, l = get(url.Values{"category": {"chairs"}, "max_price": {"300"}, "in_stock": {"true"}, "limit": {"100"}})
	require.Equal(t, 200, status)
	require.NotZero(t, l.Total)
	for _, p := range l.Products {
		assert.Equal(t, "Chairs", p.ParentCategory)
		assert.LessOrEqual(t, p.Price, 300.0)
		assert.True(t, p.InStock)
	}
	_, page2 := get(url.Values{"category": {"chairs"}, "limit": {"5"}, "offset": {"5"}})
	_, page1 := get(url.Values{"category": {"chairs"}, "limit": {"5"}})
	assert.NotEqual(t, page1.Products[0].ID, page2.Products[0].ID)

	_, l = get(url.Values{"q": {"kneeling"}})
	require.Equal(t, 1, l.Total)
	id := l.Products[0].ID

	resp, body := e.do(t, "GET", "/api/v1/products/"+itoa64(id), nil, auth())
	require.Equal(t, 200, resp.StatusCode)
	var p retrieval.Product
	require.NoError(t, json.Unmarshal(body, &p))
	assert.Equal(t, "KN 01 grey", p.SKU)

	for _, tc := range []struct {
		path   string
		status int
		field  string
	}{
		{"/api/v1/products/?limit=0", 422, "limit"},
		{"/api/v1/products/?min_price=abc", 422, "min_price"},
		{"/api/v1/products/?in_stock=maybe", 422, "in_stock"},
		{"/api/v1/products/abc", 400, "id"},
		{"/api/v1/products/999999", 404, ""},
		{"/api/v1/knowledge/search", 400, "q"},
	} {
		resp, body := e.do(t, "GET", tc.path, nil, auth())
		assert.Equal(t, tc.status, resp.StatusCode, tc.path+" "+string(body))
		if tc.field != "" {
			var eb api.ErrorBody
			require.NoError(t, json.Unmarshal(body, &eb))
			require.NotEmpty(t, eb.Error.Fields, tc.path)
			assert.Equal(t, tc.field, eb.Error.Fields[0].Field)
		}
	}
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestCatalogSyncAPI(t *testing.T) {
	e := newEnv(t, true)
	// Two calls in a row: the second returns the same run (one sync at a time).
	resp, body := e.do(t, "POST", "/api/v1/products/sync", nil, auth())
	require.Contains(t, []int{200, 202}, resp.StatusCode, string(body))
	var first struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.Unmarshal(body, &first))
	require.NotEmpty(t, first.RunID)
	resp, body = e.do(t, "POST", "/api/v1/products/sync", nil, auth())
	require.Contains(t, []int{200, 202}, resp.StatusCode)
	var second struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.Unmarshal(body, &second))

	var run struct {
		Status string `json:"status"`
		Counts struct {
			Added    int `json:"added"`
			Embedded int `json:"embedded"`
		} `json:"counts"`
	}
	require.Eventually(t, func() bool {
		resp, body := e.do(t, "GET", "/api/v1/products/sync/"+first.RunID, nil, auth())
		return resp.StatusCode == 200 && json.Unmarshal(body, &run) == nil && run.Status == "succeeded"
	}, time.Minute, 100*time.Millisecond)
	assert.Equal(t, 120, run.Counts.Added)
	assert.Equal(t, 120, run.Counts.Embedded)
	if second.RunID != first.RunID {
		// The first finished before the second call: then it started a fresh, idempotent run.
		require.Eventually(t, func() bool {
			resp, body := e.do(t, "GET", "/api/v1/products/sync/"+second.RunID, nil, auth())
			return resp.StatusCode == 200 && json.Unmarshal(body, &run) == nil && run.Status != "running"
		}, time.Minute, 100*time.Millisecond)
		assert.Contains(t, []string{"succeeded", "skipped"}, run.Status)
		assert.Equal(t, 0, run.Counts.Added)
	}
	resp, _ = e.do(t, "GET", "/api/v1/products/sync/no-such-run", nil, auth())
	assert.Equal(t, 404, resp.StatusCode)

	// The knowledge endpoint answers from the indexed KB.
	resp, body = e.do(t, "GET", "/api/v1/knowledge/search?q="+url.QueryEscape("warranty"), nil, auth())
	assert.Equal(t, 200, resp.StatusCode, string(body))
}
