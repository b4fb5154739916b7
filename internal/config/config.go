// Package config reads the process configuration from the environment.
//
// The variable names are a contract (see docs/configuration.md and .env.example):
// operators, deployment files and black-box tests rely on them.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Secret is a string that never prints itself: logs, %v and JSON all see a placeholder.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from leaking the value.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON keeps the value out of any JSON dump of the config.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Reveal returns the secret itself; call it only where the value is sent to its owner.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// Wazzup is the WhatsApp gateway.
type Wazzup struct {
	APIURL       string   `envconfig:"WAZZUP_API_URL" default:"https://api.wazzup24.com/v3"`
	APIKey       Secret   `envconfig:"WAZZUP_API_KEY"`
	ChannelIDs   []string `envconfig:"WAZZUP_CHANNEL_ID"`
	WebhookToken Secret   `envconfig:"WAZZUP_WEBHOOK_TOKEN"`
	AllowedIPs   []string `envconfig:"WAZZUP_ALLOWED_IPS"`
}

// Live reports whether the real gateway is configured; otherwise the built-in simulator is used.
func (w Wazzup) Live() bool { return w.APIKey.IsSet() }

// LLM is the OpenAI-compatible chat endpoint.
type LLM struct {
	BaseURL         string `envconfig:"LLM_BASE_URL" default:"https://openrouter.ai/api/v1"`
	APIKey          Secret `envconfig:"LLM_API_KEY"`
	Model           string `envconfig:"LLM_MODEL" default:"openai/gpt-4.1-mini"`
	FastModel       string `envconfig:"LLM_FAST_MODEL" default:"deepseek/deepseek-chat"`
	TranscribeModel string `envconfig:"TRANSCRIBE_MODEL" default:"openai/gpt-4o-mini-transcribe"`
}

// Configured reports whether replies can be generated at all.
func (l LLM) Configured() bool { return l.APIKey.IsSet() && l.BaseURL != "" }

// Embeddings is the OpenAI-compatible embeddings endpoint (BGE-M3, 1024 dims).
type Embeddings struct {
	BaseURL string `envconfig:"EMBEDDINGS_BASE_URL"`
	APIKey  Secret `envconfig:"EMBEDDINGS_API_KEY"`
	Model   string `envconfig:"EMBEDDINGS_MODEL" default:"BAAI/bge-m3"`
}

// Live reports whether a remote embeddings server is configured; otherwise the
// built-in offline embedder is used.
func (e Embeddings) Live() bool { return e.BaseURL != "" }

// Zoho holds the CRM and Inventory endpoints and credentials.
type Zoho struct {
	AccountsURL    string `envconfig:"ZOHO_ACCOUNTS_URL" default:"https://accounts.zoho.eu"`
	CRMURL         string `envconfig:"ZOHO_CRM_URL" default:"https://www.zohoapis.eu/crm/v7"`
	InventoryURL   string `envconfig:"ZOHO_INVENTORY_URL" default:"https://www.zohoapis.eu/inventory/v1"`
	ClientID       string `envconfig:"ZOHO_CLIENT_ID"`
	ClientSecret   Secret `envconfig:"ZOHO_CLIENT_SECRET"`
	RefreshToken   Secret `envconfig:"ZOHO_REFRESH_TOKEN"`
	OrganizationID string `envconfig:"ZOHO_ORGANIZATION_ID"`
}

// Live reports whether Zoho credentials are present; otherwise the local CRM/inventory is used.
func (z Zoho) Live() bool {
	return z.ClientID != "" && z.ClientSecret.IsSet() && z.RefreshToken.IsSet()
}

// Telegram is the manager notification channel.
type Telegram struct {
	APIURL        string `envconfig:"TELEGRAM_API_URL" default:"https://api.telegram.org"`
	BotToken      Secret `envconfig:"TELEGRAM_BOT_TOKEN"`
	ChatID        string `envconfig:"TELEGRAM_CHAT_ID"`
	WebhookSecret Secret `envconfig:"TELEGRAM_WEBHOOK_SECRET"`
}

// Live reports whether alerts go to Telegram; otherwise they are shown in the console only.
func (t Telegram) Live() bool { return t.BotToken.IsSet() && t.ChatID != "" }

// Config is everything a process reads from its environment.
type Config struct {
	Env       string `envconfig:"APP_ENV" default:"development"`
	LogLevel  string `envconfig:"LOG_LEVEL" default:"info"`
	LogFormat string `envconfig:"LOG_FORMAT" default:"text"`

	HTTPAddr string `envconfig:"HTTP_ADDR" default:":8080"`
	// TrustedProxies (CIDRs) may set X-Forwarded-For; otherwise the peer address is the client.
	TrustedProxies []string `envconfig:"TRUSTED_PROXIES"`
	PublicBaseURL  string   `envconfig:"PUBLIC_BASE_URL" default:"http://localhost:8080"`
	DatabaseURL    Secret   `envconfig:"DATABASE_URL"`

	TemporalAddress   string `envconfig:"TEMPORAL_ADDRESS" default:"localhost:7233"`
	TemporalNamespace string `envconfig:"TEMPORAL_NAMESPACE" default:"default"`
	TemporalUIURL     string `envconfig:"TEMPORAL_UI_URL" default:"http://localhost:8233"`
	TaskQueue         string `envconfig:"TEMPORAL_TASK_QUEUE" default:"noor"`

	APIKey        Secret `envconfig:"API_KEY"`
	AdminUsername string `envconfig:"ADMIN_USERNAME" default:"admin"`
	AdminPassword Secret `envconfig:"ADMIN_PASSWORD"`
	// SigningKey signs expiring URLs (quotation PDFs) and console sessions.
	SigningKey Secret `envconfig:"SIGNING_KEY"`

	CatalogAPIURL string `envconfig:"CATALOG_API_URL"`
	// CatalogSyncInterval is how often the catalog sync Schedule runs (0 disables it).
	CatalogSyncInterval time.Duration `envconfig:"CATALOG_SYNC_INTERVAL" default:"1h"`
	// KnowledgeDir is an optional folder of extra knowledge-base documents (.md, .txt, .html).
	KnowledgeDir   string        `envconfig:"KB_DIR"`
	DebounceWindow time.Duration `envconfig:"DEBOUNCE_WINDOW" default:"4s"`

	Wazzup
	LLM
	Embeddings
	Zoho
	Telegram
}

// Production reports whether the process runs with production rules (required secrets).
func (c Config) Production() bool { return c.Env == "production" }

// DevDatabaseURL is the project-local cluster that `make run` starts.
const DevDatabaseURL = "postgres://noor:noor@127.0.0.1:54329/noor?sslmode=disable"

// Load reads the environment and validates the result.
func Load() (Config, error) {
	// An empty variable counts as unset (compose files often pass `NAME=`), so defaults apply.
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && v == "" {
			os.Unsetenv(k)
		}
	}
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("read configuration: %w", err)
	}
	// Production must name its database; elsewhere the project-local cluster is the default.
	if !c.DatabaseURL.IsSet() && !c.Production() {
		c.DatabaseURL = DevDatabaseURL
	}
	return c, c.Validate()
}

// Validate reports every problem at once, each naming the variable to fix.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, why string) { errs = append(errs, fmt.Errorf("%s: %s", name, why)) }

	switch c.Env {
	case "development", "production", "test":
	default:
		bad("APP_ENV", fmt.Sprintf("must be development, test or production, got %q", c.Env))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("LOG_LEVEL", fmt.Sprintf("must be debug, info, warn or error, got %q", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("LOG_FORMAT", fmt.Sprintf("must be text or json, got %q", c.LogFormat))
	}
	if u, err := url.Parse(c.PublicBaseURL); err != nil || u.Scheme == "" || u.Host == "" {
		bad("PUBLIC_BASE_URL", "must be an absolute URL such as https://noor.example.com")
	}
	if c.CatalogSyncInterval != 0 && c.CatalogSyncInterval < time.Minute {
		bad("CATALOG_SYNC_INTERVAL", fmt.Sprintf("must be 0 (off) or at least 1m, got %s", c.CatalogSyncInterval))
	}
	if c.DebounceWindow < 500*time.Millisecond || c.DebounceWindow > time.Minute {
		bad("DEBOUNCE_WINDOW", fmt.Sprintf("must be between 500ms and 1m, got %s", c.DebounceWindow))
	}
	for _, cidr := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(strings.TrimSpace(cidr)); err != nil {
			bad("TRUSTED_PROXIES", fmt.Sprintf("%q is not a CIDR", cidr))
		}
	}
	for _, cidr := range c.Wazzup.AllowedIPs {
		if _, _, err := net.ParseCIDR(strings.TrimSpace(cidr)); err != nil && net.ParseIP(strings.TrimSpace(cidr)) == nil {
			bad("WAZZUP_ALLOWED_IPS", fmt.Sprintf("%q is neither a CIDR nor an IP address", cidr))
		}
	}
	if c.Wazzup.Live() && len(c.Wazzup.ChannelIDs) == 0 {
		bad("WAZZUP_CHANNEL_ID", "required when WAZZUP_API_KEY is set (the channel id(s) of our WhatsApp line)")
	}
	if (c.Zoho.ClientID != "" || c.Zoho.RefreshToken.IsSet()) && !c.Zoho.Live() {
		bad("ZOHO_CLIENT_ID/ZOHO_CLIENT_SECRET/ZOHO_REFRESH_TOKEN", "set all three or none")
	}
	if c.Zoho.Live() && c.Zoho.OrganizationID == "" {
		bad("ZOHO_ORGANIZATION_ID", "required when Zoho credentials are set")
	}
	if c.Telegram.BotToken.IsSet() && c.Telegram.ChatID == "" {
		bad("TELEGRAM_CHAT_ID", "required when TELEGRAM_BOT_TOKEN is set")
	}

	if c.Production() {
		required := []struct {
			name string
			set  bool
		}{
			{"DATABASE_URL", c.DatabaseURL.IsSet()},
			{"API_KEY", c.APIKey.IsSet()},
			{"ADMIN_PASSWORD", c.AdminPassword.IsSet()},
			{"SIGNING_KEY", c.SigningKey.IsSet()},
		}
		for _, r := range required {
			if !r.set {
				bad(r.name, "required in production (APP_ENV=production)")
			}
		}
		if c.Wazzup.Live() && !c.Wazzup.WebhookToken.IsSet() {
			bad("WAZZUP_WEBHOOK_TOKEN", "required in production when WAZZUP_API_KEY is set: the webhook must not be open")
		}
		if c.Telegram.Live() && !c.Telegram.WebhookSecret.IsSet() {
			bad("TELEGRAM_WEBHOOK_SECRET", "required in production when TELEGRAM_BOT_TOKEN is set")
		}
		if len(c.APIKey.Reveal()) > 0 && len(c.APIKey.Reveal()) < 24 {
			bad("API_KEY", "must be at least 24 characters in production")
		}
		if len(c.SigningKey.Reveal()) > 0 && len(c.SigningKey.Reveal()) < 32 {
			bad("SIGNING_KEY", "must be at least 32 characters in production")
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration:\n  %w", errors.Join(errs...))
}

// Providers names which integrations are live and which run on the built-in local provider.
func (c Config) Providers() map[string]string {
	pick := func(live bool, remote, local string) string {
		if live {
			return remote
		}
		return local
	}
	return map[string]string{
		"messaging":  pick(c.Wazzup.Live(), "wazzup", "simulator"),
		"llm":        pick(c.LLM.Configured(), "openai-compatible", "not-configured"),
		"embeddings": pick(c.Embeddings.Live(), "openai-compatible", "offline-hashed-ngrams"),
		"crm":        pick(c.Zoho.Live(), "zoho-crm", "local"),
		"inventory":  pick(c.Zoho.Live(), "zoho-inventory", "local"),
		"catalog":    pick(c.CatalogAPIURL != "", "treejar-catalog-api", "bundled-snapshot"),
		"alerts":     pick(c.Telegram.Live(), "telegram", "console"),
	}
}

// LogValue lists the non-secret settings for the startup line.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("env", c.Env),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("public_base_url", c.PublicBaseURL),
		slog.String("temporal", c.TemporalAddress+"/"+c.TemporalNamespace),
		slog.String("task_queue", c.TaskQueue),
		slog.Any("providers", c.Providers()),
	)
}
