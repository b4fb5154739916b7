// Package testenv gives integration tests the real PostgreSQL and the real Temporal dev
// server that `make test` starts (through `noor testenv`). Each test gets its own database,
// cloned from a migrated template, and its own task queue.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/devstack"
)

func need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: integration tests run against the real PostgreSQL and Temporal that `make test` starts "+
			"(or: go run ./cmd/noor testenv -- go test ./...)", name)
	}
	return v
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// DatabaseURL creates a fresh, migrated database for this test and drops it afterwards.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	admin := need(t, "TEST_DATABASE_URL")
	template := os.Getenv("TEST_DATABASE_TEMPLATE")
	name := randomName("t_")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := devstack.CreateDatabase(ctx, admin, name, template); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := devstack.DropDatabase(ctx, admin, name); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	url := devstack.WithDatabase(admin, name)
	if template == "" {
		if _, err := db.Migrate(ctx, url); err != nil {
			t.Fatalf("migrate test database: %v", err)
		}
	}
	return url
}

// DB opens a store on a fresh database.
func DB(t testing.TB) *db.Store {
	t.Helper()
	url := DatabaseURL(t)
	s, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

var (
	clientOnce sync.Once
	sharedC    client.Client
	clientErr  error
)

// TemporalAddress is the dev server `make test` started.
func TemporalAddress(t testing.TB) string { return need(t, "TEST_TEMPORAL_ADDRESS") }

// Temporal returns a client to the test dev server, shared by the tests of a package.
func Temporal(t testing.TB) client.Client {
	t.Helper()
	addr := TemporalAddress(t)
	clientOnce.Do(func() {
		sharedC, clientErr = client.Dial(client.Options{
			HostPort: addr, Namespace: "default",
			// Warnings and errors (workflow task failures, panics) go to stderr: go test shows them.
			Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
		})
	})
	if clientErr != nil {
		t.Fatalf("connect to Temporal at %s: %v", addr, clientErr)
	}
	return sharedC
}

// TaskQueue is a task queue no other test uses.
func TaskQueue(t testing.TB) string {
	return randomName("tq-" + sanitize(t.Name()) + "-")
}

func sanitize(s string) string {
	s = strings.NewReplacer("/", "-", " ", "_").Replace(s)
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// Logger writes to the test log (shown for failing tests and with -v). Lines written after
// the test ended (a worker stopping late) are dropped instead of panicking.
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// Ctx is a context that ends with the test (or after d).
func Ctx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
