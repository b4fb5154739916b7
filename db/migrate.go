package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for goose
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// MigrationResult is one applied migration, for progress output.
type MigrationResult struct {
	Version int64
	Source  string
	Seconds float64
}

func provider(db *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	// A session lock lets the API and the worker start together: one migrates, the other waits.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	// Features land on parallel branches with their own version ranges, so allow out-of-order.
	return goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker), goose.WithAllowOutofOrder(true))
}

// Migrate applies every pending migration (embedded in the binary) and returns what it applied.
// Running it again applies nothing.
func Migrate(ctx context.Context, databaseURL string) ([]MigrationResult, error) {
	sqlDB, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return nil, fmt.Errorf("open database for migrations: %w", err)
	}
	defer sqlDB.Close()
	p, err := provider(sqlDB)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	results, err := p.Up(ctx)
	out := make([]MigrationResult, 0, len(results))
	for _, r := range results {
		out = append(out, MigrationResult{Version: r.Source.Version, Source: r.Source.Path, Seconds: r.Duration.Seconds()})
	}
	if err != nil {
		return out, fmt.Errorf("apply migrations: %w", err)
	}
	return out, nil
}

// SchemaVersion returns the current schema version and the newest embedded one.
func SchemaVersion(ctx context.Context, databaseURL string) (current, latest int64, err error) {
	sqlDB, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return 0, 0, fmt.Errorf("open database: %w", err)
	}
	defer sqlDB.Close()
	p, err := provider(sqlDB)
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	srcs := p.ListSources()
	if len(srcs) > 0 {
		latest = srcs[len(srcs)-1].Version
	}
	return current, latest, nil
}
