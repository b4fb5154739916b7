package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/treejar/noor/db"
)

const (
	sessionCookie    = "noor_session"
	loginCSRFCookie  = "noor_login_csrf"
	csrfField        = "_csrf"
	csrfHeader       = "X-CSRF-Token"
	ctxSession       = "console.session"
	genericLoginFail = "Wrong username or password."
)

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (cs *Console) cookie(c echo.Context, name, value, path string, maxAge int, sameSite http.SameSite) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		SameSite: sameSite, Secure: cs.requestIsTLS(c.Request())}
}

// Actor is the logged-in user acting in the console.
type Actor struct {
	ID       int64
	Username string
	Role     string
}

func sessionOf(c echo.Context) *db.Session {
	s, _ := c.Get(ctxSession).(*db.Session)
	return s
}

func actorOf(c echo.Context) Actor {
	if s := sessionOf(c); s != nil {
		return Actor{ID: s.User.ID, Username: s.User.Username, Role: s.User.Role}
	}
	return Actor{}
}

// auditEntry fills who and from where for an audit log line.
func auditEntry(c echo.Context, action, target string) db.AuditEntry {
	a := actorOf(c)
	return db.AuditEntry{Actor: a.Username, Role: a.Role, Action: action, Target: target, RemoteIP: c.RealIP()}
}

// auth requires a live session; role "" accepts any user, RoleManager managers and
// admins, RoleAdmin admins only. Unsafe methods also require the session's CSRF token.
func (cs *Console) auth(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			ck, err := c.Cookie(sessionCookie)
			var sess db.Session
			if err == nil && ck.Value != "" {
				sess, err = cs.Store.SessionByToken(ctx, ck.Value)
			} else {
				err = db.ErrNotFound
			}
			if errors.Is(err, db.ErrNotFound) {
				if c.Request().Method == http.MethodGet {
					next := c.Request().URL.RequestURI()
					return c.Redirect(http.StatusSeeOther, "/console/login?next="+url.QueryEscape(next))
				}
				return cs.page(func(echo.Context) error {
					return &httpError{http.StatusUnauthorized, "Your session has ended; log in again."}
				})(c)
			}
			if err != nil {
				return cs.page(func(echo.Context) error { return err })(c)
			}
			c.Set(ctxSession, &sess)
			if role == db.RoleAdmin && sess.User.Role != db.RoleAdmin {
				return cs.page(func(echo.Context) error { return errForbidden })(c)
			}
			if !safeMethod(c.Request().Method) {
				got := c.Request().Header.Get(csrfHeader)
				if got == "" {
					got = c.FormValue(csrfField)
				}
				if subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 || got == "" {
					return cs.page(func(echo.Context) error {
						return &httpError{http.StatusForbidden, "The form's security token is missing or out of date. Reload the page and try again."}
					})(c)
				}
			}
			if cs.Now().Sub(sess.LastSeen) > time.Minute {
				if err := cs.Store.TouchSession(ctx, ck.Value, sessionIdle, sessionAbsolute); err != nil {
					cs.Log.Warn("touch console session", "err", err)
				}
			}
			c.Response().Header().Set("Cache-Control", "no-store")
			return next(c)
		}
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// safeNext keeps the post-login redirect on this console (no open redirect).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/console/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/console/"
	}
	return next
}

func (cs *Console) loginPage(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if _, err := cs.Store.SessionByToken(c.Request().Context(), ck.Value); err == nil {
			return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
		}
	}
	return cs.renderLogin(c, http.StatusOK, "")
}

func (cs *Console) renderLogin(c echo.Context, status int, msg string) error {
	token := randomToken()
	c.SetCookie(cs.cookie(c, loginCSRFCookie, token, "/console/login", 3600, http.SameSiteStrictMode))
	c.Response().Header().Set("Cache-Control", "no-store")
	return cs.render(c, status, "login", "Log in", "", map[string]any{
		"Error": msg, "Next": safeNext(c.QueryParam("next")), "LoginCSRF": token,
		"Username": c.FormValue("username"),
	})
}

// login checks the password with bcrypt (also for unknown users, so timing does not tell
// which usernames exist), applies the per-IP limit and the per-account lock-out, and
// starts a server-side session.
func (cs *Console) login(c echo.Context) error {
	ctx := c.Request().Context()
	ck, err := c.Cookie(loginCSRFCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(c.FormValue(csrfField))) != 1 {
		return cs.renderLogin(c, http.StatusForbidden, "The login form expired. Please try again.")
	}
	ip := c.RealIP()
	if !cs.limiter.allow(ip, cs.Now()) {
		_ = cs.Store.Audit(ctx, db.AuditEntry{Actor: c.FormValue("username"), Action: "auth.rate_limited", RemoteIP: ip}, nil, nil)
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(IPWindow.Seconds())))
		return cs.renderLogin(c, http.StatusTooManyRequests, "Too many login attempts from your address. Wait a few minutes and try again.")
	}
	username := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	if len(username) > 64 || len(password) > 200 {
		return cs.renderLogin(c, http.StatusUnauthorized, genericLoginFail)
	}
	u, err := cs.Store.UserByName(ctx, username)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return cs.page(func(echo.Context) error { return err })(c)
	}
	if errors.Is(err, db.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(cs.dummyHash(), []byte(password))
		_ = cs.Store.Audit(ctx, db.AuditEntry{Actor: username, Action: "auth.login_failed", Target: "unknown user", RemoteIP: ip}, nil, nil)
		return cs.renderLogin(c, http.StatusUnauthorized, genericLoginFail)
	}
	now := cs.Now()
	if u.LockedUntil != nil && u.LockedUntil.After(now) {
		_ = bcrypt.CompareHashAndPassword(cs.dummyHash(), []byte(password))
		_ = cs.Store.Audit(ctx, db.AuditEntry{Actor: u.Username, Role: u.Role, Action: "auth.login_locked", RemoteIP: ip}, nil, nil)
		return cs.renderLogin(c, http.StatusTooManyRequests, fmt.Sprintf(
			"This account is locked after %d wrong passwords. Try again in %s or ask an admin.", MaxFailures, roundUp(u.LockedUntil.Sub(now))))
	}
	if u.Disabled || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		until, err := cs.Store.RecordLoginFailure(ctx, u.ID, MaxFailures, LockFor)
		if err != nil {
			return cs.page(func(echo.Context) error { return err })(c)
		}
		action := "auth.login_failed"
		if until != nil && until.After(now) {
			action = "auth.locked"
		}
		_ = cs.Store.Audit(ctx, db.AuditEntry{Actor: u.Username, Role: u.Role, Action: action, RemoteIP: ip}, nil, nil)
		return cs.renderLogin(c, http.StatusUnauthorized, genericLoginFail)
	}
	if err := cs.Store.RecordLoginSuccess(ctx, u.ID); err != nil {
		return cs.page(func(echo.Context) error { return err })(c)
	}
	token := randomToken()
	if err := cs.Store.CreateSession(ctx, token, randomToken(), u.ID, now.Add(sessionIdle), ip, c.Request().UserAgent()); err != nil {
		return cs.page(func(echo.Context) error { return err })(c)
	}
	_ = cs.Store.Audit(ctx, db.AuditEntry{Actor: u.Username, Role: u.Role, Action: "auth.login", RemoteIP: ip}, nil, nil)
	c.SetCookie(cs.cookie(c, sessionCookie, token, "/console", 0, http.SameSiteLaxMode))
	c.SetCookie(cs.cookie(c, loginCSRFCookie, "", "/console/login", -1, http.SameSiteStrictMode))
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

func (cs *Console) logout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := cs.Store.DeleteSession(c.Request().Context(), ck.Value); err != nil {
			return cs.page(func(echo.Context) error { return err })(c)
		}
	}
	_ = cs.Store.Audit(c.Request().Context(), auditEntry(c, "auth.logout", ""), nil, nil)
	c.SetCookie(cs.cookie(c, sessionCookie, "", "/console", -1, http.SameSiteLaxMode))
	return c.Redirect(http.StatusSeeOther, "/console/login")
}

func roundUp(d time.Duration) time.Duration {
	if d < time.Minute {
		return time.Minute
	}
	return d.Round(time.Minute)
}

// dummyHash is compared against for unknown or locked users so each attempt costs the
// same as a real check.
func (cs *Console) dummyHash() []byte {
	cs.dummyOnce.Do(func() {
		cs.dummy, _ = bcrypt.GenerateFromPassword([]byte(randomToken()), cs.BcryptCost)
	})
	return cs.dummy
}

// loginLimiter allows at most n attempts per window per client address.
type loginLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	seen   map[string][]time.Time
}

func newLoginLimiter(n int, window time.Duration) *loginLimiter {
	return &loginLimiter{n: n, window: window, seen: map[string][]time.Time{}}
}

func (l *loginLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	cutoff := now.Add(-l.window)
	if len(l.seen) > 10000 { // bound memory under a spray of addresses
		for k, ts := range l.seen {
			if len(ts) == 0 || ts[len(ts)-1].Before(cutoff) {
				delete(l.seen, k)
			}
		}
	}
	ts := l.seen[key]
	i := 0
	for i < len(ts) && ts[i].Before(cutoff) {
		i++
	}
	ts = ts[i:]
	if len(ts) >= l.n {
		l.seen[key] = ts
		return false
	}
	l.seen[key] = append(ts, now)
	return true
}

// hashPassword enforces the password policy and hashes with bcrypt.
func (cs *Console) hashPassword(pw string) (string, error) {
	if len(pw) < 10 {
		return "", errors.New("at least 10 characters")
	}
	if len(pw) > 72 {
		return "", errors.New("at most 72 characters (bcrypt's limit)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cs.BcryptCost)
	return string(h), err
}
