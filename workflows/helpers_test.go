package workflows_test

import (
	"net/http"
	"strings"
	"time"

	"github.com/treejar/noor/internal/stacktest"
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
