// Package app wires one process: configuration, logger, database, Temporal client,
// metrics, providers, and the API and worker on top of them.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/api"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/worker"
)

// App is one process's shared dependencies. Exactly one Temporal client per process.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *db.Store
	Temporal client.Client
	Registry *prometheus.Registry
	Metrics  *metrics.App
}

// Open connects to PostgreSQL (migrating first when migrate is true) and Temporal.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, migrate bool) (*App, error) {
	a := &App{Config: cfg, Log: log, Registry: metrics.NewRegistry()}
	a.Metrics = metrics.NewApp(a.Registry)

	if migrate {
		applied, err := db.Migrate(ctx, cfg.DatabaseURL.Reveal())
		if err != nil {
			return nil, err
		}
		for _, m := range applied {
			log.Info("migration applied", "version", m.Version, "file", m.Source, "seconds", m.Seconds)
		}
	} else {
		cur, latest, err := db.SchemaVersion(ctx, cfg.DatabaseURL.Reveal())
		if err != nil {
			return nil, err
		}
		if cur < latest {
			return nil, fmt.Errorf("database schema is at version %d but this binary needs %d: run `noor migrate`", cur, latest)
		}
	}
	store, err := db.Open(ctx, cfg.DatabaseURL.Reveal())
	if err != nil {
		return nil, err
	}
	a.Store = store

	c, err := DialTemporal(ctx, cfg, log, metrics.NewTemporalHandler(a.Registry))
	if err != nil {
		store.Close()
		return nil, err
	}
	a.Temporal = c
	return a, nil
}

// DialTemporal connects the process's Temporal client, retrying for a short while so
// the API and worker may start before the server is fully up.
func DialTemporal(ctx context.Context, cfg config.Config, log *slog.Logger, mh client.MetricsHandler) (client.Client, error) {
	opts := client.Options{
		HostPort:       cfg.TemporalAddress,
		Namespace:      cfg.TemporalNamespace,
		Logger:         tlog.NewStructuredLogger(log.With("component", "temporal-sdk")),
		MetricsHandler: mh,
	}
	var lastErr error
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w", cfg.TemporalAddress, cfg.TemporalNamespace, lastErr)
}

// Close releases the clients.
func (a *App) Close() {
	if a.Temporal != nil {
		a.Temporal.Close()
	}
	if a.Store != nil {
		a.Store.Close()
	}
}

// Activities builds every activity group with its providers (live or built-in local).
func (a *App) Activities() (*activities.Set, error) {
	return activities.Build(activities.Deps{
		Config:  a.Config,
		Store:   a.Store,
		Log:     a.Log,
		Metrics: a.Metrics,
	})
}

// APIServer builds the HTTP server.
func (a *App) APIServer() (*api.Server, error) {
	return api.Build(api.Deps{
		Config:   a.Config,
		Store:    a.Store,
		Temporal: a.Temporal,
		Log:      a.Log,
		Metrics:  a.Metrics,
		Gatherer: a.Registry,
	})
}

// RunWorker polls the task queue until ctx ends.
func (a *App) RunWorker(ctx context.Context) error {
	acts, err := a.Activities()
	if err != nil {
		return err
	}
	if err := worker.EnsureCatalogSyncSchedule(ctx, a.Temporal, a.Config.TaskQueue, a.Config.CatalogSyncInterval, a.Log); err != nil {
		return err
	}
	return worker.Run(ctx, a.Temporal, acts, worker.Options{TaskQueue: a.Config.TaskQueue}, a.Log)
}
