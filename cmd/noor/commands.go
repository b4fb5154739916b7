package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/app"
	"github.com/treejar/noor/internal/seed"
)

type slogLogger = slog.Logger

func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	migrate := fs.Bool("migrate", false, "apply migrations before serving")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	if !cfg.APIKey.IsSet() {
		cfg.APIKey = randomSecret()
		log.Warn("API_KEY is not set: generated one for this run only", "api_key", cfg.APIKey.Reveal())
	}
	log.Info("starting API", "config", cfg)
	a, err := app.Open(ctx, cfg, log, *migrate)
	if err != nil {
		return err
	}
	defer a.Close()
	srv, err := a.APIServer()
	if err != nil {
		return err
	}
	log.Info("API listening", "addr", cfg.HTTPAddr, "public_url", cfg.PublicBaseURL)
	return srv.Start(ctx, cfg.HTTPAddr)
}

func runWorker(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	addr := fs.String("http", envOr("WORKER_HTTP_ADDR", ":8081"), "address for the worker's /health and /metrics")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	log.Info("starting worker", "config", cfg)
	a, err := app.Open(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer a.Close()

	// The worker has no API; it still answers liveness and exposes its SDK metrics.
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("worker health listener on %s: %w", *addr, err)
	}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	return a.RunWorker(ctx)
}

func runMigrate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	applied, err := db.Migrate(ctx, cfg.DatabaseURL.Reveal())
	for _, m := range applied {
		fmt.Printf("applied %05d %s (%.2fs)\n", m.Version, m.Source, m.Seconds)
	}
	if err != nil {
		return err
	}
	cur, _, err := db.SchemaVersion(ctx, cfg.DatabaseURL.Reveal())
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Printf("schema is up to date (version %d)\n", cur)
	} else {
		fmt.Printf("schema now at version %d\n", cur)
	}
	return nil
}

func runSeed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	if _, err := db.Migrate(ctx, cfg.DatabaseURL.Reveal()); err != nil {
		return err
	}
	store, err := db.Open(ctx, cfg.DatabaseURL.Reveal())
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := seed.Run(ctx, seed.Deps{Store: store, Config: cfg, Log: log, Progress: os.Stdout})
	if err != nil {
		return err
	}
	fmt.Println(rep)
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// runAll runs fns concurrently; the first error cancels the others. It returns when all end.
func runAll(ctx context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(fns))
	for _, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
