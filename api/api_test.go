package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/api"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/internal/testenv"
	"github.com/treejar/noor/worker"
)

const apiKey = "test-api-key-0123456789abcdef"

type env struct {
	srv   *api.Server
	http  *httptest.Server
	store *db.Store
	cfg   config.Config
}

func newEnv(t *testing.T, withWorker bool) *env {
	t.Helper()
	store := testenv.DB(t)
	cfg := config.Config{Env: "test", APIKey: apiKey, TaskQueue: testenv.TaskQueue(t), PublicBaseURL: "http://localhost"}
	reg := metrics.NewRegistry()
	srv, err := api.Build(api.Deps{Config: cfg, Store: store, Temporal: testenv.Temporal(t), Log: testenv.Logger(t),
		Metrics: metrics.NewApp(reg), Gatherer: reg})
	require.NoError(t, err)
	if withWorker {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		acts, err := activities.Build(activities.Deps{Config: cfg, Store: store, Log: testenv.Logger(t)})
		require.NoError(t, err)
		go func() {
			defer close(done)
			_ = worker.Run(ctx, testenv.Temporal(t), acts, worker.Options{TaskQueue: cfg.TaskQueue}, testenv.Logger(t))
		}()
		t.Cleanup(func() { cancel(); <-done })
	}
	hs := httptest.NewServer(srv.Echo)
	t.Cleanup(hs.Close)
	return &env{srv: srv, http: hs, store: store, cfg: cfg}
}

func (e *env) do(t *testing.T, method, path string, body io.Reader, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, body)
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t, true)
	resp, body := e.do(t, "GET", "/health", nil, nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"status":"ok"}`, string(body))

	// The worker registers its poller asynchronously: wait for readiness, then check each dependency.
	var r api.Readiness
	require.Eventually(t, func() bool {
		resp, body := e.do(t, "GET", "/health/ready", nil, nil)
		r = api.Readiness{}
		_ = json.Unmarshal(body, &r)
		return resp.StatusCode == 200
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, "ready", r.Status)
	for _, dep := range []string{"postgres", "temporal", "worker"} {
		assert.Equal(t, "up", r.Checks[dep].Status, dep)
		assert.Greater(t, r.Checks[dep].LatencyMS, 0.0, dep)
	}
	assert.Contains(t, r.Checks["worker"].Detail, e.cfg.TaskQueue)
}

func TestReadinessFailsWithoutWorker(t *testing.T) {
	e := newEnv(t, false)
	resp, body := e.do(t, "GET", "/health/ready", nil, nil)
	assert.Equal(t, 503, resp.StatusCode)
	var r api.Readiness
	require.NoError(t, json.Unmarshal(body, &r))
	assert.Equal(t, "not_ready", r.Status)
	assert.Equal(t, "up", r.Checks["postgres"].Status)
	assert.Equal(t, "down", r.Checks["worker"].Status)
	assert.Contains(t, r.Checks["worker"].Detail, "no worker")
}

func TestAPIKeyRequired(t *testing.T) {
	e := newEnv(t, false)
	for _, key := range []string{"", "wrong", apiKey + "x"} {
		resp, body := e.do(t, "GET", "/api/v1/admin/settings/", nil, map[string]string{"X-API-Key": key})
		assert.Equal(t, 401, resp.StatusCode)
		var eb api.ErrorBody
		require.NoError(t, json.Unmarshal(body, &eb))
		assert.Equal(t, "unauthorized", eb.Error.Code)
		assert.NotEmpty(t, eb.Error.RequestID)
	}
}

func TestSettingsReadPatchAndAudit(t *testing.T) {
	e := newEnv(t, false)
	h := map[string]string{"X-API-Key": apiKey, "X-Actor": "owner@treejar"}
	resp, body := e.do(t, "GET", "/api/v1/admin/settings/", nil, h)
	require.Equal(t, 200, resp.StatusCode)
	var rec db.SettingsRecord
	require.NoError(t, json.Unmarshal(body, &rec))
	assert.Equal(t, 0, rec.Version)
	assert.Equal(t, 10000.0, rec.Settings.Escalation.OrderThresholdAED)

	resp, body = e.do(t, "PATCH", "/api/v1/admin/settings/", strings.NewReader(`{"escalation":{"order_threshold_aed":15000}}`), h)
	require.Equal(t, 200, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, &rec))
	assert.Equal(t, 1, rec.Version)
	assert.Equal(t, 15000.0, rec.Settings.Escalation.OrderThresholdAED)
	assert.Equal(t, `"1"`, resp.Header.Get("ETag"))

	// Invalid values: 422 naming the field, nothing stored.
	resp, body = e.do(t, "PATCH", "/api/v1/admin/settings/", strings.NewReader(`{"conversation":{"default_language":"fr"}}`), h)
	assert.Equal(t, 422, resp.StatusCode)
	var eb api.ErrorBody
	require.NoError(t, json.Unmarshal(body, &eb))
	assert.Equal(t, "validation_failed", eb.Error.Code)
	require.Len(t, eb.Error.Fields, 1)
	assert.Equal(t, "conversation.default_language", eb.Error.Fields[0].Field)

	// A stale If-Match is a conflict.
	h2 := map[string]string{"X-API-Key": apiKey, "If-Match": `"0"`}
	resp, _ = e.do(t, "PATCH", "/api/v1/admin/settings/", strings.NewReader(`{"escalation":{"order_threshold_aed":9000}}`), h2)
	assert.Equal(t, 409, resp.StatusCode)

	cur, err := e.store.Settings(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, cur.Version)
	assert.Equal(t, 15000.0, cur.Settings.Escalation.OrderThresholdAED)

	resp, body = e.do(t, "GET", "/api/v1/admin/settings/changes/", nil, h)
	require.Equal(t, 200, resp.StatusCode)
	var changes struct {
		Changes []db.SettingsChange `json:"changes"`
	}
	require.NoError(t, json.Unmarshal(body, &changes))
	require.Len(t, changes.Changes, 1)
	c := changes.Changes[0]
	assert.Equal(t, "owner@treejar", c.ChangedBy)
	assert.Contains(t, string(c.Before), `"order_threshold_aed":10000`)
	assert.Contains(t, string(c.After), `"order_threshold_aed":15000`)
}

func TestBodyLimitAndErrorShape(t *testing.T) {
	e := newEnv(t, false)
	big := bytes.Repeat([]byte("a"), 2<<20)
	resp, body := e.do(t, "PATCH", "/api/v1/admin/settings/", bytes.NewReader(big), map[string]string{"X-API-Key": apiKey})
	assert.Equal(t, 413, resp.StatusCode)
	var eb api.ErrorBody
	require.NoError(t, json.Unmarshal(body, &eb))
	assert.Equal(t, "body_too_large", eb.Error.Code)

	resp, body = e.do(t, "GET", "/api/v1/nothing-here", nil, map[string]string{"X-API-Key": apiKey})
	assert.Equal(t, 404, resp.StatusCode)
	require.NoError(t, json.Unmarshal(body, &eb))
	assert.Equal(t, "not_found", eb.Error.Code)
}

func TestPanicIsRecoveredAsJSON500(t *testing.T) {
	e := newEnv(t, false)
	e.srv.Echo.GET("/boom", func(c echo.Context) error { panic("kaboom") })
	resp, body := e.do(t, "GET", "/boom", nil, nil)
	assert.Equal(t, 500, resp.StatusCode)
	var eb api.ErrorBody
	require.NoError(t, json.Unmarshal(body, &eb))
	assert.Equal(t, "internal", eb.Error.Code)
	assert.NotContains(t, string(body), "kaboom", "internal details stay in the log")
	// The server is still up.
	resp, _ = e.do(t, "GET", "/health", nil, nil)
	assert.Equal(t, 200, resp.StatusCode)
}

func TestMetricsEndpoint(t *testing.T) {
	e := newEnv(t, false)
	resp, body := e.do(t, "GET", "/metrics", nil, nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(body), "noor_webhook_duration_seconds")
	assert.Contains(t, string(body), "go_goroutines")
}
