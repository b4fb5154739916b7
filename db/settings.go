package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/treejar/noor/internal/settings"
)

// SettingsRecord is the stored settings document with its version.
type SettingsRecord struct {
	Settings  settings.Settings `json:"settings"`
	Version   int               `json:"version"`
	UpdatedAt time.Time         `json:"updated_at"`
	UpdatedBy string            `json:"updated_by"`
}

// SettingsChange is one audited write.
type SettingsChange struct {
	ID        int64           `json:"id"`
	Version   int             `json:"version"`
	ChangedAt time.Time       `json:"changed_at"`
	ChangedBy string          `json:"changed_by"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
}

// ErrVersionConflict means someone else saved the settings since they were read.
var ErrVersionConflict = errors.New("settings were changed by someone else; reload and retry")

// Settings returns the current settings; before the first save it returns the defaults
// (version 0).
func (s *Store) Settings(ctx context.Context) (SettingsRecord, error) {
	var doc []byte
	rec := SettingsRecord{}
	err := s.Pool.QueryRow(ctx,
		`SELECT doc, version, updated_at, updated_by FROM app_settings WHERE id = 1`).
		Scan(&doc, &rec.Version, &rec.UpdatedAt, &rec.UpdatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		rec.Settings = settings.Defaults()
		rec.UpdatedBy = "defaults"
		return rec, nil
	}
	if err != nil {
		return rec, fmt.Errorf("read settings: %w", err)
	}
	rec.Settings, err = settings.Decode(doc)
	return rec, err
}

// SaveSettings validates and stores next if the stored version is still expectVersion
// (0 = never saved), recording who changed what. It returns the new record.
func (s *Store) SaveSettings(ctx context.Context, next settings.Settings, expectVersion int, by string) (SettingsRecord, error) {
	if err := next.Validate(); err != nil {
		return SettingsRecord{}, err
	}
	after, err := json.Marshal(next)
	if err != nil {
		return SettingsRecord{}, err
	}
	var rec SettingsRecord
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		var before []byte
		version := 0
		err := tx.QueryRow(ctx, `SELECT doc, version FROM app_settings WHERE id = 1 FOR UPDATE`).Scan(&before, &version)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("lock settings: %w", err)
		}
		if version != expectVersion {
			return ErrVersionConflict
		}
		if errors.Is(err, pgx.ErrNoRows) {
			before = nil
			defaults, _ := json.Marshal(settings.Defaults())
			before = defaults
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO app_settings (id, doc, version, updated_at, updated_by)
			VALUES (1, $1, 1, now(), $2)
			ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, version = app_settings.version + 1,
			    updated_at = now(), updated_by = EXCLUDED.updated_by
			RETURNING version, updated_at, updated_by`, after, by).
			Scan(&rec.Version, &rec.UpdatedAt, &rec.UpdatedBy)
		if err != nil {
			return fmt.Errorf("save settings: %w", err)
		}
		_, err = tx.Exec(ctx,
			`INSERT INTO settings_changes (version, changed_by, before, after) VALUES ($1, $2, $3, $4)`,
			rec.Version, by, before, after)
		if err != nil {
			return fmt.Errorf("record settings change: %w", err)
		}
		return nil
	})
	if err != nil {
		return SettingsRecord{}, err
	}
	rec.Settings = next
	return rec, nil
}

// SettingsChanges lists the audit trail, newest first.
func (s *Store) SettingsChanges(ctx context.Context, limit int) ([]SettingsChange, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT id, version, changed_at, changed_by, coalesce(before, 'null'::jsonb), after
		FROM settings_changes ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list settings changes: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SettingsChange, error) {
		var c SettingsChange
		err := r.Scan(&c.ID, &c.Version, &c.ChangedAt, &c.ChangedBy, &c.Before, &c.After)
		return c, err
	})
}
