// Package activities holds everything workflows do to the world: the database, the LLM,
// retrieval, WhatsApp, Zoho, Telegram, PDFs. Each group is a struct holding its clients;
// its exported methods are the activities. External clients live in sub-packages next to
// them, each with an in-repo fake (wazzup/wazzuptest, llm/llmtest, …).
package activities

import (
	"log/slog"

	"github.com/treejar/noor/activities/notify"
	"github.com/treejar/noor/activities/telegram"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
)

// Set is every activity group a worker registers.
type Set struct {
	Settings    *Settings
	Escalations *Escalations
	FollowUps   *FollowUps
	Alerts      *Alerts
}

// All lists the activity structs for registration.
func (s *Set) All() []any {
	out := []any{}
	if s.Settings != nil {
		out = append(out, s.Settings)
	}
	if s.Escalations != nil {
		out = append(out, s.Escalations)
	}
	if s.FollowUps != nil {
		out = append(out, s.FollowUps)
	}
	if s.Alerts != nil {
		out = append(out, s.Alerts)
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
	notifier := NewNotifier(d)
	return &Set{
		Settings:    &Settings{Store: d.Store, Env: d.Config},
		Escalations: &Escalations{Store: d.Store, Notifier: notifier, PublicBaseURL: d.Config.PublicBaseURL, Log: d.Log},
		FollowUps:   &FollowUps{Store: d.Store, Log: d.Log},
		Alerts:      &Alerts{Notifier: notifier},
	}, nil
}

// NewNotifier is the process's manager-alert notifier: Telegram when TELEGRAM_BOT_TOKEN and
// TELEGRAM_CHAT_ID are set, the console (notifications table) otherwise.
func NewNotifier(d Deps) *notify.Notifier {
	n := &notify.Notifier{Store: d.Store, Log: d.Log, Metrics: d.Metrics}
	if d.Config.Telegram.Live() {
		n.Telegram = telegram.New(d.Config.Telegram.APIURL, d.Config.Telegram.BotToken.Reveal())
		n.ChatID = d.Config.Telegram.ChatID
	}
	return n
}
