package db_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/settings"
	"github.com/treejar/noor/internal/testenv"
)

func TestMigrationsAreRepeatableAndComplete(t *testing.T) {
	url := testenv.DatabaseURL(t)
	ctx := context.Background()
	applied, err := db.Migrate(ctx, url)
	require.NoError(t, err)
	assert.Empty(t, applied, "the template is already migrated: nothing to apply")
	cur, latest, err := db.SchemaVersion(ctx, url)
	require.NoError(t, err)
	assert.Equal(t, latest, cur)

	s, err := db.Open(ctx, url)
	require.NoError(t, err)
	defer s.Close()
	for _, table := range []string{"conversations", "messages", "products", "knowledge_base", "quality_reviews",
		"escalations", "inbound_ledger", "outbound_ledger", "app_settings", "settings_changes"} {
		var ok bool
		require.NoError(t, s.Pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok))
		assert.True(t, ok, table)
	}
	var typ string
	require.NoError(t, s.Pool.QueryRow(ctx,
		`SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'products'::regclass AND attname = 'embedding'`).Scan(&typ))
	assert.Equal(t, "vector(1024)", typ)
}

func TestMigrateConcurrentlyIsSafe(t *testing.T) {
	// A fresh, unmigrated database: API and worker may both migrate at start.
	url := testenv.DatabaseURL(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = db.Migrate(ctx, url) }()
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
}

func TestSettingsVersioningAndAudit(t *testing.T) {
	s := testenv.DB(t)
	ctx := context.Background()
	rec, err := s.Settings(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, rec.Version)

	next := rec.Settings
	next.Escalation.OrderThresholdAED = 20000
	saved, err := s.SaveSettings(ctx, next, 0, "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, saved.Version)

	_, err = s.SaveSettings(ctx, next, 0, "bob")
	assert.ErrorIs(t, err, db.ErrVersionConflict)

	bad := next
	bad.Pricing.VATPercent = -1
	_, err = s.SaveSettings(ctx, bad, 1, "mallory")
	var ve *settings.ValidationError
	assert.ErrorAs(t, err, &ve)

	changes, err := s.SettingsChanges(ctx, 10)
	require.NoError(t, err)
	require.Len(t, changes, 1)
	assert.Equal(t, "alice", changes[0].ChangedBy)
	got, err := s.Settings(ctx)
	require.NoError(t, err)
	assert.Equal(t, 20000.0, got.Settings.Escalation.OrderThresholdAED)
	assert.Equal(t, "alice", got.UpdatedBy)
}
