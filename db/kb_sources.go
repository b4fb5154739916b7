package db

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
)

// KBSourcePrefix marks knowledge-base documents written in the console (table kb_sources).
const KBSourcePrefix = "console:"

// KBSourceNameRe is what may follow the prefix: a short file-like name.
var KBSourceNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,79}$`)

// KBSource is one knowledge-base document written in the console.
type KBSource struct {
	Source    string    `json:"source"` // "console:<name>"
	Title     string    `json:"title"`
	Kind      string    `json:"kind"` // markdown | text | html
	Body      string    `json:"body"`
	CreatedBy string    `json:"created_by"`
	UpdatedBy string    `json:"updated_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Indexed: the indexer has chunked this exact title and text (kb_documents holds their
	// hash, computed as knowledge.Document.Hash does).
	Indexed bool `json:"indexed"`
}

const kbSourceSelect = `
	SELECT s.source, s.title, s.kind, s.body, s.created_by, s.updated_by, s.created_at, s.updated_at,
	       coalesce(d.content_hash = encode(sha256(convert_to(
	           CASE WHEN s.title = '' THEN s.body ELSE s.title || E'\n' || s.body END, 'UTF8')), 'hex'), false)
	FROM kb_sources s LEFT JOIN kb_documents d ON d.source = s.source`

func scanKBSource(r pgx.Row) (KBSource, error) {
	var k KBSource
	err := r.Scan(&k.Source, &k.Title, &k.Kind, &k.Body, &k.CreatedBy, &k.UpdatedBy, &k.CreatedAt, &k.UpdatedAt, &k.Indexed)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, ErrNotFound
	}
	return k, err
}

// KBSources lists the console's documents by name.
func (s *Store) KBSources(ctx context.Context) ([]KBSource, error) {
	rows, err := s.Pool.Query(ctx, kbSourceSelect+` ORDER BY s.source`)
	if err != nil {
		return nil, fmt.Errorf("list knowledge documents: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (KBSource, error) { return scanKBSource(r) })
}

// KBSource reads one console document.
func (s *Store) KBSource(ctx context.Context, source string) (KBSource, error) {
	k, err := scanKBSource(s.Pool.QueryRow(ctx, kbSourceSelect+` WHERE s.source = $1`, source))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("read knowledge document: %w", err)
	}
	return k, err
}

// CreateKBSource stores a new document (ErrDuplicate when the name is taken) and audits it.
func (s *Store) CreateKBSource(ctx context.Context, k KBSource, by string, a AuditEntry) (KBSource, error) {
	var out KBSource
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO kb_sources (source, title, kind, body, created_by, updated_by)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (source) DO NOTHING`, k.Source, k.Title, k.Kind, k.Body, by)
		if err != nil {
			return fmt.Errorf("create knowledge document: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("knowledge document %s: %w", k.Source, ErrDuplicate)
		}
		if out, err = scanKBSource(tx.QueryRow(ctx, kbSourceSelect+` WHERE s.source = $1`, k.Source)); err != nil {
			return err
		}
		a.Target = k.Source
		return audit(ctx, tx, a, nil, out)
	})
	return out, err
}

// UpdateKBSource changes a document's title, kind and text (ErrNotFound when it is gone)
// and audits before and after.
func (s *Store) UpdateKBSource(ctx context.Context, k KBSource, by string, a AuditEntry) (KBSource, error) {
	var out KBSource
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		before, err := scanKBSource(tx.QueryRow(ctx, kbSourceSelect+` WHERE s.source = $1 FOR UPDATE OF s`, k.Source))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE kb_sources SET title = $2, kind = $3, body = $4, updated_by = $5, updated_at = now()
			WHERE source = $1`, k.Source, k.Title, k.Kind, k.Body, by); err != nil {
			return fmt.Errorf("update knowledge document: %w", err)
		}
		if out, err = scanKBSource(tx.QueryRow(ctx, kbSourceSelect+` WHERE s.source = $1`, k.Source)); err != nil {
			return err
		}
		a.Target = k.Source
		return audit(ctx, tx, a, before, out)
	})
	return out, err
}

// DeleteKBSource removes a document (its chunks go at the next index) and audits it.
func (s *Store) DeleteKBSource(ctx context.Context, source string, a AuditEntry) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		before, err := scanKBSource(tx.QueryRow(ctx, kbSourceSelect+` WHERE s.source = $1 FOR UPDATE OF s`, source))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM kb_sources WHERE source = $1`, source); err != nil {
			return fmt.Errorf("delete knowledge document: %w", err)
		}
		a.Target = source
		return audit(ctx, tx, a, before, nil)
	})
}
