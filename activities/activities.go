// Package activities holds everything workflows do to the world: the database, the LLM,
// retrieval, WhatsApp, Zoho, Telegram, PDFs. Each group is a struct holding its clients;
// its exported methods are the activities. External clients live in sub-packages next to
// them, each with an in-repo fake (wazzup/wazzuptest, llm/llmtest, …).
package activities

import (
	"log/slog"

	"github.com/treejar/noor/activities/llm"
	"github.com/treejar/noor/activities/wazzup"
	"github.com/treejar/noor/prompts"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
)

// Set is every activity group a worker registers.
type Set struct {
	Settings     *Settings
	Conversation *Conversation
	Messaging    *Messaging
}

// All lists the activity structs for registration.
func (s *Set) All() []any {
	out := []any{}
	for _, g := range []any{s.Settings, s.Conversation, s.Messaging} {
		if g != nil {
			out = append(out, g)
		}
	}
	return out
}

// Deps are the process-wide dependencies activity groups are built from.
type Deps struct {
	Config  config.Config
	Store   *db.Store
	Log     *slog.Logger
	Metrics *metrics.App
	// Optional overrides (tests, and features that provide their own implementation).
	LLM      Chatter
	Prompts  prompts.Source
	Notifier Notifier
}

// Build creates every activity group, choosing each provider from the configuration:
// the live integration when it is configured, the built-in local one otherwise.
func Build(d Deps) (*Set, error) {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	set := &Set{Settings: &Settings{Store: d.Store, Env: d.Config}}

	// Catalog, stock and knowledge: the built-in PostgreSQL implementation.
	catalog := sqlCatalog{store: d.Store, lowStock: 5}
	tools := &ToolRegistry{}
	for _, t := range coreWorkflowTools() {
		tools.Register(t)
	}
	for _, t := range catalogTools(catalog, catalog, catalog) {
		tools.Register(t)
	}

	chat := d.LLM
	if chat == nil {
		chat = llm.New(d.Config.LLM.BaseURL, d.Config.LLM.APIKey.Reveal(), nil)
	}
	var prompter prompts.Source = prompts.Embedded{}
	if d.Prompts != nil {
		prompter = d.Prompts
	}
	set.Conversation = &Conversation{Store: d.Store, LLM: chat, Prompts: prompter, Tools: tools, Config: d.Config,
		Log: d.Log, Metrics: d.Metrics, Settings: set.Settings}

	notifier := Notifier(logNotifier{log: d.Log, m: d.Metrics})
	if d.Notifier != nil {
		notifier = d.Notifier
	}
	set.Messaging = &Messaging{Store: d.Store, Simulator: simulatorMessenger{}, Notifier: notifier, Log: d.Log, Metrics: d.Metrics}
	if d.Config.Wazzup.Live() {
		set.Messaging.Wazzup = wazzup.NewClient(d.Config.Wazzup.APIURL, d.Config.Wazzup.APIKey.Reveal())
	}
	return set, nil
}
