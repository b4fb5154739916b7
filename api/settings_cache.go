package api

import (
	"context"
	"sync"
	"time"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/settings"
)

// settingsCache keeps the settings the webhook's hot path needs without a query per request.
type settingsCache struct {
	store *db.Store
	ttl   time.Duration

	mu      sync.Mutex
	value   settings.Settings
	fetched time.Time
}

func (c *settingsCache) get(ctx context.Context) settings.Settings {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.fetched) < c.ttl && !c.fetched.IsZero() {
		return c.value
	}
	rec, err := c.store.Settings(ctx)
	if err != nil {
		if c.fetched.IsZero() {
			return settings.Defaults()
		}
		return c.value // keep serving the last good value
	}
	c.value, c.fetched = rec.Settings, time.Now()
	return c.value
}
