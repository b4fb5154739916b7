package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func clearEnv(t *testing.T) {
	for _, k := range []string{"APP_ENV", "DATABASE_URL", "API_KEY", "ADMIN_PASSWORD", "SIGNING_KEY",
		"WAZZUP_API_KEY", "WAZZUP_CHANNEL_ID", "WAZZUP_WEBHOOK_TOKEN", "DEBOUNCE_WINDOW", "LLM_API_KEY",
		"ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN", "ZOHO_ORGANIZATION_ID", "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID"} {
		t.Setenv(k, "")
	}
}

func TestDevelopmentDefaultsNeedNoSecrets(t *testing.T) {
	clearEnv(t)
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, ":8080", c.HTTPAddr)
	assert.Equal(t, DevDatabaseURL, c.DatabaseURL.Reveal())
	assert.Equal(t, "4s", c.DebounceWindow.String())
	assert.Equal(t, "simulator", c.Providers()["messaging"])
	assert.Equal(t, "not-configured", c.Providers()["llm"])
	assert.Equal(t, "offline-hashed-ngrams", c.Providers()["embeddings"])
}

func TestProductionNamesEveryMissingSecret(t *testing.T) {
	clearEnv(t)
	t.Setenv("APP_ENV", "production")
	_, err := Load()
	require.Error(t, err)
	for _, name := range []string{"DATABASE_URL", "API_KEY", "ADMIN_PASSWORD", "SIGNING_KEY"} {
		assert.Contains(t, err.Error(), name)
	}
}

func TestProductionWazzupNeedsWebhookToken(t *testing.T) {
	clearEnv(t)
	t.Setenv("APP_ENV", "production")
	t.Setenv("DATABASE_URL", "postgres://x@db/noor")
	t.Setenv("API_KEY", strings.Repeat("k", 32))
	t.Setenv("ADMIN_PASSWORD", "a-long-password")
	t.Setenv("SIGNING_KEY", strings.Repeat("s", 40))
	t.Setenv("WAZZUP_API_KEY", "wz")
	t.Setenv("WAZZUP_CHANNEL_ID", "4f3c6e2a-9b1d-4c8e-a7f5-2d6b8e9c1a30")
	_, err := Load()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WAZZUP_WEBHOOK_TOKEN")
	t.Setenv("WAZZUP_WEBHOOK_TOKEN", "tok")
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, []string{"4f3c6e2a-9b1d-4c8e-a7f5-2d6b8e9c1a30"}, c.Wazzup.ChannelIDs)
}

func TestBadValuesAreNamed(t *testing.T) {
	clearEnv(t)
	t.Setenv("DEBOUNCE_WINDOW", "3h")
	_, err := Load()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DEBOUNCE_WINDOW")

	clearEnv(t)
	t.Setenv("WAZZUP_ALLOWED_IPS", "10.0.0.0/8,not-an-ip")
	_, err = Load()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WAZZUP_ALLOWED_IPS")
}

func TestSecretsNeverPrint(t *testing.T) {
	clearEnv(t)
	const secret = "sk-live-super-secret-value"
	t.Setenv("LLM_API_KEY", secret)
	t.Setenv("API_KEY", secret)
	t.Setenv("DATABASE_URL", "postgres://noor:"+secret+"@db/noor")
	c, err := Load()
	require.NoError(t, err)

	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("startup", "config", c, "key", c.LLM.APIKey, "db", c.DatabaseURL)
	js, _ := json.Marshal(c)
	for name, out := range map[string]string{
		"slog": buf.String(), "json": string(js), "%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
	} {
		assert.NotContains(t, out, secret, "secret leaked through %s", name)
	}
	assert.Equal(t, secret, c.LLM.APIKey.Reveal())
	assert.Equal(t, "openai-compatible", c.Providers()["llm"])
}
