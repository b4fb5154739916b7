// Package db holds the schema (embedded SQL migrations), the connection pool and the
// repositories. Every query is parameterised.
package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"
)

// ErrNotFound is returned by repositories when a row does not exist.
var ErrNotFound = errors.New("not found")

// Store is the repository layer over one pool.
type Store struct {
	Pool *pgxpool.Pool
}

// Open connects a pool with pgvector types registered. The schema must be migrated first
// (the vector type comes from the first migration).
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		return pgxvec.RegisterTypes(ctx, conn)
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	if cfg.MaxConns < 10 {
		cfg.MaxConns = 10
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL (is the schema migrated? run `noor migrate`): %w", err)
	}
	return &Store{Pool: pool}, nil
}

// Close releases the pool.
func (s *Store) Close() { s.Pool.Close() }

// Ping checks the database and reports how long it took.
func (s *Store) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	var one int
	err := s.Pool.QueryRow(ctx, "SELECT 1").Scan(&one)
	return time.Since(start), err
}

// InTx runs fn in a transaction, committing on nil and rolling back on error.
func (s *Store) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, fn)
}
