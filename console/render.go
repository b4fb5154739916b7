package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/pii"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

type pages struct {
	byName map[string]*template.Template
}

func parsePages() (*pages, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("parse console layout: %w", err)
	}
	entries, err := fs.ReadDir(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, "templates/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("parse console page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what every page template receives.
type view struct {
	Title string
	Nav   string
	User  *db.User
	CSRF  string
	Flash string
	Data  any
	// Links to the other parts of the product.
	SimulatorURL string
}

// flashes are the fixed messages a redirect may ask for (?ok=…); free text is never
// reflected from the URL.
var flashes = map[string]string{
	"saved":       "Saved.",
	"rolled_back": "Rolled back: the old text is now the active version.",
	"created":     "Created.",
	"updated":     "Updated.",
	"done":        "Done.",
	"sync":        "Catalog sync started.",
	// Catalog and knowledge base.
	"sync_running":         "A catalog sync is already running; this is its progress.",
	"reindex":              "Saved. The knowledge base is being re-indexed.",
	"reindex_running":      "Saved. The indexer is already running; if this change is not indexed when it finishes, re-index again.",
	"kb_saved_not_indexed": "Saved, but the indexer could not be started; use “Re-index” to try again.",
	// Conversation and escalation actions.
	"taken_over":  "You own this chat now: Noor stays silent until you hand it back.",
	"replied":     "Sent on WhatsApp.",
	"handed_back": "Handed back: Noor answers the customer's next message.",
	"escalated":   "Escalated: the managers were alerted.",
	"closed":      "Conversation closed.",
	"taken":       "Escalation taken.",
	"resolved":    "Escalation resolved; the chat is back with Noor.",
}

func (cs *Console) render(c echo.Context, status int, name, title, nav string, data any) error {
	t, ok := cs.pages.byName[name]
	if !ok {
		return fmt.Errorf("no console template %q", name)
	}
	v := view{Title: title, Nav: nav, Data: data, Flash: flashes[c.QueryParam("ok")], SimulatorURL: "/simulator"}
	if s := sessionOf(c); s != nil {
		v.User, v.CSRF = &s.User, s.CSRFToken
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

func (cs *Console) static(c echo.Context) error {
	name := path.Clean("static/" + c.Param("*"))
	if !strings.HasPrefix(name, "static/") {
		return echo.ErrNotFound
	}
	b, err := staticFiles.ReadFile(name)
	if err != nil {
		return echo.ErrNotFound
	}
	ct := "application/octet-stream"
	switch path.Ext(name) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, ct, b)
}

var dubai = mustLoad("Asia/Dubai")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return l
}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.In(dubai).Format("2006-01-02 15:04")
		case *time.Time:
			if v == nil || v.IsZero() {
				return "—"
			}
			return v.In(dubai).Format("2006-01-02 15:04")
		}
		return "—"
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur": func(d time.Duration) string { return humanDuration(d) },
	"secs": func(s float64) string {
		return humanDuration(time.Duration(s * float64(time.Second)))
	},
	"money": func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"usd":   func(v float64) string { return fmt.Sprintf("$%.4f", v) },
	"pct":   func(v float64) string { return fmt.Sprintf("%.1f %%", v*100) },
	"price": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.2f", *p)
	},
	"f1p": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.1f", *p)
	},
	"intp": func(p *int) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprint(*p)
	},
	"mask":       pii.MaskPhone,
	"lang":       textLang,
	"add":        func(a, b int) int { return a + b },
	"sub":        func(a, b int) int { return a - b },
	"prettyjson": prettyJSON,
	"pctint":     func(n int) string { return fmt.Sprintf("%d %%", n) },
	"msdur":      func(ms int64) string { return humanDuration(time.Duration(ms) * time.Millisecond) },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"trunc": func(n int, s string) string {
		r := []rune(s)
		if len(r) <= n {
			return s
		}
		return string(r[:n]) + "…"
	},
	"safeURL":    safeURL,
	"trimprefix": func(s, prefix string) string { return strings.TrimPrefix(s, prefix) },
}

// textLang returns "ar" when the text is mostly Arabic script, else "".
func textLang(s string) string {
	ar, latin := 0, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Arabic, r):
			ar++
		case unicode.IsLetter(r):
			latin++
		}
	}
	if ar > 0 && ar >= latin {
		return "ar"
	}
	return ""
}

// safeURL keeps only http(s) links (media URLs come from outside).
func safeURL(s string) string {
	l := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "//") {
		return s
	}
	return ""
}

func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(math.Round(d.Minutes())))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f d", d.Hours()/24)
}
