package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	pgvec "github.com/pgvector/pgvector-go"
)

// SyncCounts are a catalog sync's running totals.
type SyncCounts struct {
	CategoriesTotal int `json:"categories_total"`
	CategoriesDone  int `json:"categories_done"`
	Seen            int `json:"seen"`
	Added           int `json:"added"`
	Updated         int `json:"updated"`
	Unchanged       int `json:"unchanged"`
	Failed          int `json:"failed"`
	Deactivated     int `json:"deactivated"`
	ZohoLinked      int `json:"zoho_linked"`
	Embedded        int `json:"embedded"`
}

// SyncRun is one catalog sync as recorded in catalog_sync_runs.
type SyncRun struct {
	ID         string     `json:"id"`
	WorkflowID string     `json:"workflow_id"`
	Trigger    string     `json:"trigger"`
	Source     string     `json:"source"`
	Status     string     `json:"status"` // running | succeeded | partial | failed | skipped
	Phase      string     `json:"phase"`
	Counts     SyncCounts `json:"counts"`
	Errors     []string   `json:"errors"`
	StartedAt  time.Time  `json:"started_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// DurationMS is finished_at - started_at (or so far, while running).
	DurationMS int64 `json:"duration_ms"`
}

const syncRunCols = `id, workflow_id, trigger, source, status, phase, categories_total, categories_done, seen, added,
	updated, unchanged, failed, deactivated, zoho_linked, embedded, errors, started_at, updated_at, finished_at`

func scanSyncRun(row pgx.Row) (SyncRun, error) {
	var r SyncRun
	var errs []byte
	c := &r.Counts
	err := row.Scan(&r.ID, &r.WorkflowID, &r.Trigger, &r.Source, &r.Status, &r.Phase, &c.CategoriesTotal, &c.CategoriesDone,
		&c.Seen, &c.Added, &c.Updated, &c.Unchanged, &c.Failed, &c.Deactivated, &c.ZohoLinked, &c.Embedded, &errs,
		&r.StartedAt, &r.UpdatedAt, &r.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	_ = json.Unmarshal(errs, &r.Errors)
	if r.Errors == nil {
		r.Errors = []string{}
	}
	end := time.Now()
	if r.FinishedAt != nil {
		end = *r.FinishedAt
	}
	r.DurationMS = end.Sub(r.StartedAt).Milliseconds()
	return r, nil
}

// SyncStaleAfter: a running sync that recorded no progress for this long is considered
// dead (its worker vanished) and no longer blocks new syncs.
const SyncStaleAfter = 15 * time.Minute

// BeginSyncRun records a new running sync. If another sync is running it returns that
// one and started=false. Calling it again with the same id (an activity retry) returns
// started=true.
func (s *Store) BeginSyncRun(ctx context.Context, id, workflowID, trigger, source string) (run SyncRun, started bool, err error) {
	for range 3 {
		_, err = s.Pool.Exec(ctx, `INSERT INTO catalog_sync_runs (id, workflow_id, trigger, source) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, id, workflowID, trigger, source)
		if err != nil {
			return run, false, fmt.Errorf("begin sync run: %w", err)
		}
		run, err = s.SyncRun(ctx, id)
		if err == nil {
			return run, run.Status == "running", nil
		}
		if !errors.Is(err, ErrNotFound) {
			return run, false, err
		}
		// Not inserted: another sync holds the "one running" slot.
		other, err := scanSyncRun(s.Pool.QueryRow(ctx, `SELECT `+syncRunCols+` FROM catalog_sync_runs WHERE status = 'running'`))
		if errors.Is(err, ErrNotFound) {
			continue // it just finished: try again
		}
		if err != nil {
			return run, false, err
		}
		if time.Since(other.UpdatedAt) < SyncStaleAfter {
			return other, false, nil
		}
		_, err = s.Pool.Exec(ctx, `UPDATE catalog_sync_runs SET status = 'failed', finished_at = now(),
			errors = errors || to_jsonb('abandoned: no progress for 15 minutes (worker lost)'::text)
			WHERE id = $1 AND status = 'running'`, other.ID)
		if err != nil {
			return run, false, err
		}
	}
	return run, false, fmt.Errorf("begin sync run: could not claim the sync slot")
}

// RecordSyncProgress stores absolute totals and the phase (idempotent).
func (s *Store) RecordSyncProgress(ctx context.Context, id, phase string, c SyncCounts, errs []string) error {
	if errs == nil {
		errs = []string{}
	}
	eb, _ := json.Marshal(errs)
	_, err := s.Pool.Exec(ctx, `UPDATE catalog_sync_runs SET phase = $2, categories_total = $3, categories_done = $4,
		seen = $5, added = $6, updated = $7, unchanged = $8, failed = $9, deactivated = $10, zoho_linked = $11,
		embedded = $12, errors = $13, updated_at = now() WHERE id = $1`,
		id, phase, c.CategoriesTotal, c.CategoriesDone, c.Seen, c.Added, c.Updated, c.Unchanged, c.Failed,
		c.Deactivated, c.ZohoLinked, c.Embedded, eb)
	if err != nil {
		return fmt.Errorf("record sync progress: %w", err)
	}
	return nil
}

// FinishSyncRun closes a run with its final status.
func (s *Store) FinishSyncRun(ctx context.Context, id, status string, c SyncCounts, errs []string) error {
	if err := s.RecordSyncProgress(ctx, id, "done", c, errs); err != nil {
		return err
	}
	_, err := s.Pool.Exec(ctx, `UPDATE catalog_sync_runs SET status = $2, finished_at = coalesce(finished_at, now()) WHERE id = $1`, id, status)
	if err != nil {
		return fmt.Errorf("finish sync run: %w", err)
	}
	return nil
}

// SyncRun reads one run.
func (s *Store) SyncRun(ctx context.Context, id string) (SyncRun, error) {
	return scanSyncRun(s.Pool.QueryRow(ctx, `SELECT `+syncRunCols+` FROM catalog_sync_runs WHERE id = $1`, id))
}

// SyncRuns lists the latest runs, newest first (the console's sync history).
func (s *Store) SyncRuns(ctx context.Context, limit int) ([]SyncRun, error) {
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+syncRunCols+` FROM catalog_sync_runs ORDER BY started_at DESC, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list sync runs: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SyncRun, error) { return scanSyncRun(r) })
}

// RunningSyncRun returns the running sync, or ErrNotFound.
func (s *Store) RunningSyncRun(ctx context.Context) (SyncRun, error) {
	r, err := scanSyncRun(s.Pool.QueryRow(ctx, `SELECT `+syncRunCols+` FROM catalog_sync_runs WHERE status = 'running'`))
	if err == nil && time.Since(r.UpdatedAt) >= SyncStaleAfter {
		return SyncRun{}, ErrNotFound
	}
	return r, err
}

// ZohoLink is the Zoho Inventory data linked to a product by SKU.
type ZohoLink struct {
	SKU    string
	ItemID string
	Stock  *int
	Rate   float64
}

// LinkZohoItems stores item ids, stock and rate for the products whose SKU matches
// (case-insensitive), stamping zoho_checked_at; products linked before but absent now are
// unlinked. It returns how many products changed.
func (s *Store) LinkZohoItems(ctx context.Context, links []ZohoLink, checkedAt time.Time) (linked, changed int, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		for _, l := range links {
			var didChange bool
			err := tx.QueryRow(ctx, `
				WITH old AS (SELECT id, zoho_item_id, zoho_stock, zoho_rate FROM products WHERE lower(sku) = lower($1) FOR UPDATE)
				UPDATE products p SET zoho_item_id = $2, zoho_stock = $3, zoho_rate = $4, zoho_checked_at = $5
				FROM old WHERE p.id = old.id
				RETURNING old.zoho_item_id IS DISTINCT FROM $2 OR old.zoho_stock IS DISTINCT FROM $3
				    OR old.zoho_rate IS DISTINCT FROM $4::numeric`, l.SKU, l.ItemID, l.Stock, l.Rate, checkedAt).Scan(&didChange)
			if errors.Is(err, pgx.ErrNoRows) {
				continue // a Zoho-only item (service, spare part): never offered
			}
			if err != nil {
				return fmt.Errorf("link zoho item %s: %w", l.SKU, err)
			}
			linked++
			if didChange {
				changed++
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE products SET zoho_item_id = NULL, zoho_stock = NULL, zoho_rate = NULL, updated_at = now()
			WHERE zoho_item_id IS NOT NULL AND (zoho_checked_at IS NULL OR zoho_checked_at < $1)`, checkedAt)
		if err != nil {
			return fmt.Errorf("unlink zoho items: %w", err)
		}
		changed += int(tag.RowsAffected())
		return nil
	})
	return linked, changed, err
}

// EmbeddingCandidate is an active product with what its stored vector was computed from.
type EmbeddingCandidate struct {
	ID                                         int64
	SKU, Name, Category, ParentCategory, Brand string
	ShortDescription, Description              string
	Features                                   []string
	Specifications                             map[string]any
	EmbeddingModel, EmbeddedTextHash           string
}

// ProductsForEmbedding returns every active product with its embedding bookkeeping.
func (s *Store) ProductsForEmbedding(ctx context.Context) ([]EmbeddingCandidate, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, sku, name, category, parent_category, brand, short_description,
		description, features, specifications, embedding_model, embedded_text_hash FROM products WHERE active ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list products for embedding: %w", err)
	}
	defer rows.Close()
	var out []EmbeddingCandidate
	for rows.Next() {
		var c EmbeddingCandidate
		var feats, specs []byte
		if err := rows.Scan(&c.ID, &c.SKU, &c.Name, &c.Category, &c.ParentCategory, &c.Brand, &c.ShortDescription,
			&c.Description, &feats, &specs, &c.EmbeddingModel, &c.EmbeddedTextHash); err != nil {
			return nil, err
		}
		_ = json.Unmarshal(feats, &c.Features)
		_ = json.Unmarshal(specs, &c.Specifications)
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetProductEmbedding stores a product's vector with the model and text hash it came from.
func (s *Store) SetProductEmbedding(ctx context.Context, id int64, vec []float32, model, textHash string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE products SET embedding = $2, embedding_model = $3, embedded_text_hash = $4 WHERE id = $1`,
		id, pgvec.NewVector(vec), model, textHash)
	if err != nil {
		return fmt.Errorf("store embedding of product %d: %w", id, err)
	}
	return nil
}

// ClearEmbeddings forgets every stored text hash, so the next embedding pass recomputes all
// vectors (products and knowledge base). Used by `noor reembed`.
func (s *Store) ClearEmbeddings(ctx context.Context) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE products SET embedded_text_hash = '' WHERE embedded_text_hash <> ''`); err != nil {
		return err
	}
	_, err := s.Pool.Exec(ctx, `UPDATE kb_documents SET content_hash = '' WHERE content_hash <> ''`)
	return err
}
