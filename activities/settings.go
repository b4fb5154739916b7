package activities

import (
	"context"
	"fmt"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/settings"
)

// Settings reads the settings store for workflows (workflow code never touches the database).
type Settings struct {
	Store *db.Store
	Env   config.Config
}

// LoadSettings returns the current settings. Until an admin saves them, DEBOUNCE_WINDOW from
// the environment provides the debounce default.
func (a *Settings) LoadSettings(ctx context.Context) (settings.Settings, error) {
	rec, err := a.Store.Settings(ctx)
	if err != nil {
		return settings.Settings{}, fmt.Errorf("load settings: %w", err)
	}
	if rec.Version == 0 && a.Env.DebounceWindow > 0 {
		rec.Settings.Conversation.DebounceWindow = settings.Duration(a.Env.DebounceWindow)
		if rec.Settings.Conversation.DebounceCap < rec.Settings.Conversation.DebounceWindow {
			rec.Settings.Conversation.DebounceCap = rec.Settings.Conversation.DebounceWindow
		}
	}
	return rec.Settings, nil
}
