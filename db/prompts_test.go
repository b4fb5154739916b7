package db_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/testenv"
	"github.com/treejar/noor/prompts"
)

func TestPromptVersionsSaveRollbackAndSource(t *testing.T) {
	s := testenv.DB(t)
	ctx := context.Background()
	def, err := prompts.Default("system")
	require.NoError(t, err)

	// Before seeding, the source serves the embedded default as version 0.
	text, v, err := s.Prompt(ctx, "system")
	require.NoError(t, err)
	assert.Equal(t, def, text)
	assert.Equal(t, 0, v)

	n, err := s.SeedPrompts(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(prompts.Names()), n)
	n, err = s.SeedPrompts(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "seeding twice writes nothing")

	var src prompts.Source = s
	text, v, err = src.Prompt(ctx, "system")
	require.NoError(t, err)
	assert.Equal(t, def, text)
	assert.Equal(t, 1, v)

	a := db.AuditEntry{Actor: "owner", Role: "admin", Action: "prompt.save"}
	v2, err := s.SavePrompt(ctx, "system", "You are Noor. Be brief.", "owner", "shorter", 1, a)
	require.NoError(t, err)
	assert.Equal(t, 2, v2.Version)
	text, v, err = src.Prompt(ctx, "system")
	require.NoError(t, err)
	assert.Equal(t, "You are Noor. Be brief.", text, "the next turn gets the new active version")
	assert.Equal(t, 2, v)

	_, err = s.SavePrompt(ctx, "system", "You are Noor. Be brief.", "owner", "same", 0, a)
	assert.ErrorIs(t, err, db.ErrPromptUnchanged)
	_, err = s.SavePrompt(ctx, "system", "stale edit", "other", "from v1", 1, a)
	assert.ErrorIs(t, err, db.ErrPromptVersionConflict)
	_, err = s.SavePrompt(ctx, "no-such-prompt", "x", "owner", "n", 0, a)
	assert.ErrorIs(t, err, db.ErrNotFound)
	_, err = s.SavePrompt(ctx, "bad name'; --", "x", "owner", "n", 0, a)
	assert.ErrorIs(t, err, db.ErrNotFound)

	v3, err := s.RollbackPrompt(ctx, "system", 1, "owner", 2, db.AuditEntry{Actor: "owner", Action: "prompt.rollback"})
	require.NoError(t, err)
	assert.Equal(t, 3, v3.Version, "a rollback is a new version")
	assert.Equal(t, "rollback to v1", v3.Note)
	text, v, err = src.Prompt(ctx, "system")
	require.NoError(t, err)
	assert.Equal(t, def, text)
	assert.Equal(t, 3, v)

	versions, err := s.PromptVersions(ctx, "system")
	require.NoError(t, err)
	require.Len(t, versions, 3)
	assert.Equal(t, []string{"owner", "owner", db.PromptAuthorSystem}, []string{versions[0].Author, versions[1].Author, versions[2].Author})

	// Both writes are in the audit log with before and after.
	log, err := s.AuditLog(ctx, "prompt.", 10, 0)
	require.NoError(t, err)
	require.Len(t, log, 2)
	assert.Equal(t, "prompt.rollback", log[0].Action)
	assert.Equal(t, "prompt:system", log[0].Target)
	assert.Contains(t, string(log[1].Before), `"version": 1`)
	assert.Contains(t, string(log[1].After), "Be brief")

	// A human-edited prompt is not overwritten by seeding.
	_, err = s.SeedPrompts(ctx)
	require.NoError(t, err)
	p, err := s.PromptByName(ctx, "system")
	require.NoError(t, err)
	assert.Equal(t, 3, p.ActiveVersion)

	_, _, err = s.Prompt(ctx, "nonexistent")
	assert.Error(t, err)
}

func TestSeedFollowsAChangedDefaultOnlyWhileNoHumanEdited(t *testing.T) {
	s := testenv.DB(t)
	ctx := context.Background()
	_, err := s.SeedPrompts(ctx)
	require.NoError(t, err)
	// Simulate an older release's default stored as v1.
	_, err = s.Pool.Exec(ctx, `UPDATE prompt_versions SET body = 'old default' WHERE name = 'system'`)
	require.NoError(t, err)
	n, err := s.SeedPrompts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	p, err := s.PromptByName(ctx, "system")
	require.NoError(t, err)
	assert.Equal(t, 2, p.ActiveVersion)
	def, _ := prompts.Default("system")
	assert.Equal(t, def, p.Text)
}
