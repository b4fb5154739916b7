// Package prompts holds the default prompts, embedded in the binary. Admins edit them in
// the console (versions in PostgreSQL); a prompt never edited there is served from here.
//
// Names are the file names without ".md": "system", "stage.<stage>", "extraction",
// "summary", "judge.bot", "judge.manager", ….
package prompts

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.md
var files embed.FS

// Default returns the embedded prompt called name.
func Default(name string) (string, error) {
	b, err := fs.ReadFile(files, name+".md")
	if err != nil {
		return "", fmt.Errorf("no default prompt %q", name)
	}
	return string(b), nil
}

// Names lists the embedded prompts, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md") {
			out = append(out, strings.TrimSuffix(e.Name(), ".md"))
		}
	}
	sort.Strings(out)
	return out
}

// Source returns the active text of a prompt. The console's store implements it over
// PostgreSQL versions; Embedded serves the defaults.
type Source interface {
	Prompt(ctx context.Context, name string) (text string, version int, err error)
}

// Embedded serves the built-in defaults (version 0).
type Embedded struct{}

func (Embedded) Prompt(_ context.Context, name string) (string, int, error) {
	t, err := Default(name)
	return t, 0, err
}
