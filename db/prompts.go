package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/treejar/noor/prompts"
)

// PromptAuthorSystem marks versions written from the embedded defaults.
const PromptAuthorSystem = "system"

// Prompt is one prompt with its active version's text.
type Prompt struct {
	Name          string    `json:"id"`
	ActiveVersion int       `json:"active_version"`
	Text          string    `json:"text"`
	UpdatedAt     time.Time `json:"updated_at"`
	UpdatedBy     string    `json:"updated_by"`
	Versions      int       `json:"versions"`
	// DefaultChanged: a human edited this prompt and the release's default differs from
	// what they started from, so they may want to look at the new default.
	DefaultChanged bool `json:"default_changed"`
}

// PromptVersion is one saved text.
type PromptVersion struct {
	Name      string    `json:"id"`
	Version   int       `json:"version"`
	Text      string    `json:"text"`
	Author    string    `json:"author"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// SeedPrompts stores the embedded defaults: a prompt not yet in the database gets version 1
// from its default; a prompt only the system ever wrote follows a changed default with a
// new version; a prompt a human edited is left alone. It returns how many versions it wrote.
func (s *Store) SeedPrompts(ctx context.Context) (int, error) {
	written := 0
	for _, name := range prompts.Names() {
		text, err := prompts.Default(name)
		if err != nil {
			return written, err
		}
		err = s.InTx(ctx, func(tx pgx.Tx) error {
			var active int
			var activeText, lastHumanAuthor string
			err := tx.QueryRow(ctx, `
				SELECT p.active_version, v.body,
				       coalesce((SELECT author FROM prompt_versions WHERE name = p.name AND author <> $2 LIMIT 1), '')
				FROM prompts p JOIN prompt_versions v ON v.name = p.name AND v.version = p.active_version
				WHERE p.name = $1 FOR UPDATE OF p`, name, PromptAuthorSystem).Scan(&active, &activeText, &lastHumanAuthor)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				if _, err := tx.Exec(ctx, `INSERT INTO prompts (name, active_version, updated_by) VALUES ($1, 1, $2)
					ON CONFLICT (name) DO NOTHING`, name, PromptAuthorSystem); err != nil {
					return fmt.Errorf("seed prompt %s: %w", name, err)
				}
				tag, err := tx.Exec(ctx, `INSERT INTO prompt_versions (name, version, body, author, note)
					VALUES ($1, 1, $2, $3, 'embedded default') ON CONFLICT (name, version) DO NOTHING`, name, text, PromptAuthorSystem)
				if err != nil {
					return fmt.Errorf("seed prompt %s: %w", name, err)
				}
				written += int(tag.RowsAffected())
				return nil
			case err != nil:
				return fmt.Errorf("read prompt %s: %w", name, err)
			case lastHumanAuthor == "" && activeText != text:
				if _, err := savePromptVersion(ctx, tx, name, text, PromptAuthorSystem, "embedded default changed"); err != nil {
					return err
				}
				written++
			}
			return nil
		})
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// savePromptVersion appends a version and makes it active. The caller holds the row lock.
func savePromptVersion(ctx context.Context, tx pgx.Tx, name, text, author, note string) (PromptVersion, error) {
	v := PromptVersion{Name: name, Text: text, Author: author, Note: note}
	err := tx.QueryRow(ctx, `
		INSERT INTO prompt_versions (name, version, body, author, note)
		VALUES ($1, (SELECT coalesce(max(version), 0) + 1 FROM prompt_versions WHERE name = $1), $2, $3, $4)
		RETURNING version, created_at`, name, text, author, note).Scan(&v.Version, &v.CreatedAt)
	if err != nil {
		return v, fmt.Errorf("save prompt %s: %w", name, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE prompts SET active_version = $2, updated_at = now(), updated_by = $3 WHERE name = $1`,
		name, v.Version, author); err != nil {
		return v, fmt.Errorf("activate prompt %s v%d: %w", name, v.Version, err)
	}
	return v, nil
}

// Prompt implements prompts.Source: the active version's text, or the embedded default
// (version 0) for a prompt never stored.
func (s *Store) Prompt(ctx context.Context, name string) (string, int, error) {
	var text string
	var version int
	err := s.Pool.QueryRow(ctx, `
		SELECT v.body, v.version FROM prompts p
		JOIN prompt_versions v ON v.name = p.name AND v.version = p.active_version
		WHERE p.name = $1`, name).Scan(&text, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return prompts.Embedded{}.Prompt(ctx, name)
	}
	if err != nil {
		return "", 0, fmt.Errorf("read prompt %s: %w", name, err)
	}
	return text, version, nil
}

var _ prompts.Source = (*Store)(nil)

// Prompts lists every stored prompt with its active text.
func (s *Store) Prompts(ctx context.Context) ([]Prompt, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT p.name, p.active_version, v.body, p.updated_at, p.updated_by,
		       (SELECT count(*) FROM prompt_versions WHERE name = p.name)
		FROM prompts p JOIN prompt_versions v ON v.name = p.name AND v.version = p.active_version
		ORDER BY p.name`)
	if err != nil {
		return nil, fmt.Errorf("list prompts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Prompt, error) {
		var p Prompt
		err := r.Scan(&p.Name, &p.ActiveVersion, &p.Text, &p.UpdatedAt, &p.UpdatedBy, &p.Versions)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("list prompts: %w", err)
	}
	for i := range list {
		s.markDefaultChanged(ctx, &list[i])
	}
	return list, nil
}

// markDefaultChanged compares the embedded default with the last system-written version.
func (s *Store) markDefaultChanged(ctx context.Context, p *Prompt) {
	def, err := prompts.Default(p.Name)
	if err != nil || p.UpdatedBy == PromptAuthorSystem {
		return
	}
	var lastSystem string
	err = s.Pool.QueryRow(ctx, `SELECT body FROM prompt_versions WHERE name = $1 AND author = $2
		ORDER BY version DESC LIMIT 1`, p.Name, PromptAuthorSystem).Scan(&lastSystem)
	p.DefaultChanged = err == nil && lastSystem != def
}

// ValidPromptName reports whether name can be a prompt name (the table's CHECK).
func ValidPromptName(name string) bool {
	if name == "" || len(name) > 100 {
		return false
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '.' || r == '_' || r == '-')
		if !ok {
			return false
		}
	}
	return true
}

// PromptByName returns one prompt, ErrNotFound if it does not exist.
func (s *Store) PromptByName(ctx context.Context, name string) (Prompt, error) {
	var p Prompt
	if !ValidPromptName(name) {
		return p, ErrNotFound
	}
	err := s.Pool.QueryRow(ctx, `
		SELECT p.name, p.active_version, v.body, p.updated_at, p.updated_by,
		       (SELECT count(*) FROM prompt_versions WHERE name = p.name)
		FROM prompts p JOIN prompt_versions v ON v.name = p.name AND v.version = p.active_version
		WHERE p.name = $1`, name).Scan(&p.Name, &p.ActiveVersion, &p.Text, &p.UpdatedAt, &p.UpdatedBy, &p.Versions)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("read prompt %s: %w", name, err)
	}
	s.markDefaultChanged(ctx, &p)
	return p, nil
}

// PromptVersions lists a prompt's versions, newest first.
func (s *Store) PromptVersions(ctx context.Context, name string) ([]PromptVersion, error) {
	rows, err := s.Pool.Query(ctx, `SELECT name, version, body, author, note, created_at
		FROM prompt_versions WHERE name = $1 ORDER BY version DESC`, name)
	if err != nil {
		return nil, fmt.Errorf("list prompt versions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PromptVersion, error) {
		var v PromptVersion
		err := r.Scan(&v.Name, &v.Version, &v.Text, &v.Author, &v.Note, &v.CreatedAt)
		return v, err
	})
}

// PromptVersion reads one version.
func (s *Store) PromptVersion(ctx context.Context, name string, version int) (PromptVersion, error) {
	var v PromptVersion
	if !ValidPromptName(name) {
		return v, ErrNotFound
	}
	err := s.Pool.QueryRow(ctx, `SELECT name, version, body, author, note, created_at
		FROM prompt_versions WHERE name = $1 AND version = $2`, name, version).
		Scan(&v.Name, &v.Version, &v.Text, &v.Author, &v.Note, &v.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("read prompt %s v%d: %w", name, version, err)
	}
	return v, nil
}

// ErrPromptUnchanged means a save would store the active text again.
var ErrPromptUnchanged = errors.New("the text is the same as the active version")

// ErrPromptVersionConflict means someone saved the prompt since the editor loaded it.
var ErrPromptVersionConflict = errors.New("the prompt was changed by someone else since you opened it; reload and retry")

// SavePrompt stores text as a new active version of an existing prompt. expectActive > 0
// guards against overwriting someone else's save. The audit entry is written in the same
// transaction.
func (s *Store) SavePrompt(ctx context.Context, name, text, author, note string, expectActive int, a AuditEntry) (PromptVersion, error) {
	var out PromptVersion
	if !ValidPromptName(name) {
		return out, ErrNotFound
	}
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var active int
		var activeText string
		err := tx.QueryRow(ctx, `SELECT p.active_version, v.body FROM prompts p
			JOIN prompt_versions v ON v.name = p.name AND v.version = p.active_version
			WHERE p.name = $1 FOR UPDATE OF p`, name).Scan(&active, &activeText)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock prompt %s: %w", name, err)
		}
		if expectActive > 0 && expectActive != active {
			return ErrPromptVersionConflict
		}
		if activeText == text {
			return ErrPromptUnchanged
		}
		out, err = savePromptVersion(ctx, tx, name, text, author, note)
		if err != nil {
			return err
		}
		a.Target = "prompt:" + name
		return audit(ctx, tx, a,
			map[string]any{"version": active, "text": activeText},
			map[string]any{"version": out.Version, "text": text, "note": note})
	})
	return out, err
}

// RollbackPrompt makes a new version equal to version `to`.
func (s *Store) RollbackPrompt(ctx context.Context, name string, to int, author string, expectActive int, a AuditEntry) (PromptVersion, error) {
	old, err := s.PromptVersion(ctx, name, to)
	if err != nil {
		return PromptVersion{}, err
	}
	return s.SavePrompt(ctx, name, old.Text, author, fmt.Sprintf("rollback to v%d", to), expectActive, a)
}
