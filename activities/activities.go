// Package activities holds everything workflows do to the world: the database, the LLM,
// retrieval, WhatsApp, Zoho, Telegram, PDFs. Each group is a struct holding its clients;
// its exported methods are the activities. External clients live in sub-packages next to
// them, each with an in-repo fake (wazzup/wazzuptest, llm/llmtest, …).
package activities

import (
	"log/slog"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
)

// Set is every activity group a worker registers.
type Set struct {
	Settings *Settings
}

// All lists the activity structs for registration.
func (s *Set) All() []any {
	out := []any{}
	if s.Settings != nil {
		out = append(out, s.Settings)
	}
	return out
}

// Deps are the process-wide dependencies activity groups are built from.
type Deps struct {
	Config  config.Config
	Store   *db.Store
	Log     *slog.Logger
	Metrics *metrics.App
}

// Build creates every activity group, choosing each provider from the configuration:
// the live integration when it is configured, the built-in local one otherwise.
func Build(d Deps) (*Set, error) {
	return &Set{
		Settings: &Settings{Store: d.Store, Env: d.Config},
	}, nil
}
