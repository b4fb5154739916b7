package workflows_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/api"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/internal/stacktest"
	"github.com/treejar/noor/internal/testenv"
)

var httpClient = &http.Client{Timeout: 30 * time.Second}

func newRequest(method, url, body string) (*http.Request, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", stacktest.APIKey)
	return req, nil
}

// newAPIWithConfig serves a second API (same database and Temporal) with another config.
func newAPIWithConfig(t *testing.T, s *stacktest.Stack, cfg config.Config) string {
	t.Helper()
	reg := metrics.NewRegistry()
	srv, err := api.Build(api.Deps{Config: cfg, Store: s.Store, Temporal: s.Temporal, Log: testenv.Logger(t),
		Metrics: metrics.NewApp(reg), Gatherer: reg})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Echo)
	t.Cleanup(hs.Close)
	return hs.URL
}
