// Package console is the server-rendered admin console under /console: html/template
// pages, a small embedded script and stylesheet (no inline script or style, so the
// Content-Security-Policy stays strict), server-side sessions with CSRF tokens, and the
// roles admin and manager.
//
// Pages read PostgreSQL directly; actions on the running system (workflows, the outbound
// gateway, the catalog sync, the knowledge indexer) go through the small interfaces in
// seams.go, which api.Build fills in.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
)

// Deps is what the console needs. Store, Config and Log are required.
type Deps struct {
	Config config.Config
	Store  *db.Store
	Log    *slog.Logger
	// Now is the clock (tests pin it); nil = time.Now.
	Now func() time.Time
	// BcryptCost for new password hashes; 0 = bcrypt.DefaultCost.
	BcryptCost int

	// Seams to the running system (see seams.go); nil marks the action as not available.
	Conversations ConversationActions
	Escalations   EscalationActions
	Catalog       CatalogSync
	Knowledge     KnowledgePreview
	Indexer       KnowledgeIndexer
}

// Console serves the pages.
type Console struct {
	Deps
	pages   *pages
	limiter *loginLimiter
	secure  bool // cookies always Secure (PUBLIC_BASE_URL is https)

	dummyOnce sync.Once
	dummy     []byte
}

// Login protection: after MaxFailures consecutive wrong passwords an account is locked for
// LockFor; one IP address may try at most IPAttempts logins per IPWindow.
const (
	MaxFailures = 5
	LockFor     = 15 * time.Minute
	IPAttempts  = 20
	IPWindow    = 10 * time.Minute

	sessionIdle     = 12 * time.Hour
	sessionAbsolute = 7 * 24 * time.Hour
)

// New parses the templates and prepares the console.
func New(d Deps) (*Console, error) {
	if d.Store == nil || d.Log == nil {
		return nil, errors.New("console: Store and Log are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.BcryptCost == 0 {
		d.BcryptCost = bcrypt.DefaultCost
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(d.Config.PublicBaseURL)
	return &Console{Deps: d, pages: p, limiter: newLoginLimiter(IPAttempts, IPWindow),
		secure: u != nil && u.Scheme == "https"}, nil
}

// Bootstrap creates or updates the admin from ADMIN_USERNAME / ADMIN_PASSWORD and seeds
// the prompts from the embedded defaults.
func (cs *Console) Bootstrap(ctx context.Context) error {
	if n, err := cs.Store.SeedPrompts(ctx); err != nil {
		return fmt.Errorf("seed prompts: %w", err)
	} else if n > 0 {
		cs.Log.Info("prompts seeded from the embedded defaults", "versions", n)
	}
	if n, err := cs.Store.DeleteExpiredSessions(ctx); err != nil {
		return err
	} else if n > 0 {
		cs.Log.Info("expired console sessions removed", "sessions", n)
	}
	name, pw := strings.TrimSpace(cs.Config.AdminUsername), cs.Config.AdminPassword.Reveal()
	if name == "" || pw == "" {
		cs.Log.Warn("ADMIN_USERNAME/ADMIN_PASSWORD not set: no bootstrap console admin (existing users still work)")
		return nil
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), cs.BcryptCost)
	if err != nil {
		return fmt.Errorf("hash admin password: %w", err)
	}
	created, err := cs.Store.EnsureAdmin(ctx, name, string(hash), func(stored string) bool {
		return bcrypt.CompareHashAndPassword([]byte(stored), []byte(pw)) == nil
	})
	if err != nil {
		return fmt.Errorf("bootstrap console admin: %w", err)
	}
	if created {
		cs.Log.Info("console admin created", "username", name)
	}
	return nil
}

// Mount adds /console to e.
func (cs *Console) Mount(e *echo.Echo) {
	g := e.Group("/console", cs.securityHeaders)
	g.GET("/static/*", cs.static)
	g.GET("/login", cs.loginPage)
	g.POST("/login", cs.login)
	g.POST("/logout", cs.logout, cs.auth(""))

	// Managers and admins.
	m := g.Group("", cs.auth(db.RoleManager))
	m.GET("", cs.page(cs.dashboard))
	m.GET("/", cs.page(cs.dashboard))
	m.GET("/conversations", cs.page(cs.conversations))
	m.GET("/conversations/:id", cs.page(cs.conversation))
	m.POST("/conversations/:id/:action", cs.page(cs.conversationAction))
	m.GET("/escalations", cs.page(cs.escalations))
	m.POST("/escalations/:id/:action", cs.page(cs.escalationAction))
	m.GET("/catalog", cs.page(cs.catalog))
	m.POST("/catalog/sync", cs.page(cs.catalogSync))
	m.GET("/catalog/sync/:id", cs.page(cs.catalogSyncProgress))
	m.GET("/knowledge", cs.page(cs.knowledge))
	m.GET("/notifications", cs.page(cs.notifications))
	m.GET("/providers", cs.page(cs.providers))
	m.GET("/export/:what", cs.page(cs.export))

	// Admins only.
	a := g.Group("", cs.auth(db.RoleAdmin))
	a.GET("/prompts", cs.page(cs.promptList))
	a.GET("/prompts/:name", cs.page(cs.promptEdit))
	a.POST("/prompts/:name", cs.page(cs.promptSave))
	a.POST("/prompts/:name/rollback", cs.page(cs.promptRollback))
	a.GET("/settings", cs.page(cs.settingsPage))
	a.POST("/settings", cs.page(cs.settingsSave))
	a.GET("/segments", cs.page(cs.segments))
	a.POST("/segments", cs.page(cs.segmentSave))
	a.POST("/segments/:name/delete", cs.page(cs.segmentDelete))
	a.GET("/users", cs.page(cs.users))
	a.POST("/users", cs.page(cs.userCreate))
	a.POST("/users/:id", cs.page(cs.userUpdate))
	a.GET("/audit", cs.page(cs.auditLog))
	a.GET("/knowledge/new", cs.page(cs.kbEdit))
	a.GET("/knowledge/edit/:name", cs.page(cs.kbEdit))
	a.POST("/knowledge/docs", cs.page(cs.kbSave))
	a.POST("/knowledge/docs/:name/delete", cs.page(cs.kbDelete))
	a.POST("/knowledge/reindex", cs.page(cs.kbReindex))

	m.GET("/*", cs.page(func(c echo.Context) error { return errNotFound }))
}

// securityHeaders applies to every console response: a strict CSP without inline script
// or style, no framing, no MIME sniffing, and no referrer leaking conversation ids.
func (cs *Console) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if cs.requestIsTLS(c.Request()) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// CSP is the console's Content-Security-Policy.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (cs *Console) requestIsTLS(r *http.Request) bool {
	return r.TLS != nil || cs.secure
}

// httpError is an error with a status for the HTML error page.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

var (
	errNotFound  = &httpError{http.StatusNotFound, "Not found."}
	errForbidden = &httpError{http.StatusForbidden, "Only admins can open this page."}
)

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// page renders handler errors as the console's HTML error page.
func (cs *Console) page(fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := fn(c)
		if err == nil || c.Response().Committed {
			if err != nil {
				cs.Log.Error("console handler failed after the response started", "path", c.Path(), "err", err)
			}
			return nil
		}
		status, msg := http.StatusInternalServerError, "Something went wrong; the error is in the server log."
		var he *httpError
		var ee *echo.HTTPError
		switch {
		case errors.As(err, &he):
			status, msg = he.status, he.msg
		case errors.Is(err, db.ErrNotFound):
			status, msg = http.StatusNotFound, "Not found."
		case errors.As(err, &ee):
			status, msg = ee.Code, http.StatusText(ee.Code)
		default:
			cs.Log.Error("console handler failed", "path", c.Path(), "request_id",
				c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
		}
		return cs.render(c, status, "error", "Error", "", map[string]any{"Status": status, "Message": msg})
	}
}
