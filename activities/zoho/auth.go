// Package zoho is the Zoho client shared by every feature: OAuth (refresh-token grant with
// the access token cached in PostgreSQL and refreshed by one caller at a time across all
// processes), Zoho Inventory (items and stock) and — added by the CRM slice — Zoho CRM.
// See docs/contracts/zoho.md. zohotest is its in-repo fake.
package zoho

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/db"
)

// ErrAuthRevoked: the refresh token was revoked or is invalid (`invalid_code` /
// `invalid_grant`, often with HTTP 200). Terminal: retrying cannot help, a human must issue
// a new ZOHO_REFRESH_TOKEN.
var ErrAuthRevoked = errors.New("zoho: refresh token revoked or invalid (invalid_code/invalid_grant): issue a new ZOHO_REFRESH_TOKEN")

// ErrAuthClient: the client id/secret were rejected (`invalid_client`). Terminal too.
var ErrAuthClient = errors.New("zoho: client credentials rejected (invalid_client): check ZOHO_CLIENT_ID/ZOHO_CLIENT_SECRET")

// ErrNotFound: the item (or record) does not exist.
var ErrNotFound = errors.New("zoho: not found")

// Temporal error types for terminal Zoho failures (alert on these).
const (
	ErrTypeAuthRevoked = "ZohoAuthRevoked"
	ErrTypeAuthClient  = "ZohoAuthClient"
)

// Terminal reports whether err is an authentication failure that no retry can fix.
func Terminal(err error) bool { return errors.Is(err, ErrAuthRevoked) || errors.Is(err, ErrAuthClient) }

// ActivityError turns terminal Zoho errors into non-retryable Temporal application errors
// with a clear type; other errors are returned as they are (and retried by the policy).
func ActivityError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrAuthRevoked):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeAuthRevoked, err)
	case errors.Is(err, ErrAuthClient):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeAuthClient, err)
	}
	return err
}

// TokenStore is where the shared access token lives (db.Store implements it).
type TokenStore interface {
	ZohoToken(ctx context.Context, key string) (db.ZohoToken, error)
	LockedZohoToken(ctx context.Context, key string, fn func(cur db.ZohoToken) (db.ZohoToken, bool, error)) (db.ZohoToken, error)
	InvalidateZohoToken(ctx context.Context, key, accessToken string) error
}

// Credentials are one OAuth client (CRM and Inventory may use different ones).
type Credentials struct {
	AccountsURL  string
	ClientID     string
	ClientSecret string
	RefreshToken string
}

// Auth hands out access tokens. Within a process a mutex and an in-memory copy avoid a
// database read per call; across processes the PostgreSQL row lock makes refreshes
// single-flight.
type Auth struct {
	Creds Credentials
	Store TokenStore
	HTTP  *http.Client
	Log   *slog.Logger
	// RefreshMargin: a token is refreshed this long before it expires (default 60 s).
	RefreshMargin time.Duration
	// FailureHold: after a terminal auth failure (revoked refresh token, rejected client)
	// this process answers with the same error for this long without asking Zoho again, so
	// a revoked token cannot turn into a storm of refresh attempts (default 5 min).
	FailureHold time.Duration
	Now         func() time.Time

	mu       sync.Mutex
	cached   db.ZohoToken
	failed   error
	failedAt time.Time
}

// NewAuth returns an Auth with a 15 s timeout on the token endpoint.
func NewAuth(c Credentials, store TokenStore, log *slog.Logger) *Auth {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Auth{Creds: c, Store: store, HTTP: &http.Client{Timeout: 15 * time.Second}, Log: log,
		RefreshMargin: 60 * time.Second, Now: time.Now}
}

// key identifies the token of one client at one data centre.
func (a *Auth) key() string {
	return strings.TrimRight(a.Creds.AccountsURL, "/") + "|" + a.Creds.ClientID
}

func (a *Auth) fresh(t db.ZohoToken) bool {
	return t.AccessToken != "" && a.Now().Add(a.RefreshMargin).Before(t.ExpiresAt)
}

// Token returns a valid access token, refreshing it if it expires within the margin.
func (a *Auth) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fresh(a.cached) {
		return a.cached.AccessToken, nil
	}
	if a.failed != nil && a.Now().Before(a.failedAt.Add(a.hold())) {
		return "", a.failed
	}
	cur, err := a.Store.ZohoToken(ctx, a.key())
	if err != nil {
		return "", err
	}
	if a.fresh(cur) {
		a.cached = cur
		return cur.AccessToken, nil
	}
	tok, err := a.Store.LockedZohoToken(ctx, a.key(), func(cur db.ZohoToken) (db.ZohoToken, bool, error) {
		if a.fresh(cur) { // another process refreshed while we waited for the lock
			return cur, false, nil
		}
		next, err := a.refresh(ctx)
		return next, err == nil, err
	})
	if err != nil {
		if Terminal(err) {
			a.failed, a.failedAt = err, a.Now()
			a.Log.Error("ZOHO AUTHENTICATION FAILED: every Zoho call will fail until it is fixed",
				"alert", true, "err", err, "accounts_url", a.Creds.AccountsURL)
		}
		return "", err
	}
	a.failed = nil
	a.cached = tok
	return tok.AccessToken, nil
}

func (a *Auth) hold() time.Duration {
	if a.FailureHold > 0 {
		return a.FailureHold
	}
	return 5 * time.Minute
}

// Invalidate drops token (refused by an API with 401) so the next Token call refreshes.
func (a *Auth) Invalidate(ctx context.Context, token string) error {
	a.mu.Lock()
	if a.cached.AccessToken == token {
		a.cached = db.ZohoToken{}
	}
	a.mu.Unlock()
	return a.Store.InvalidateZohoToken(ctx, a.key(), token)
}

// refresh calls the token endpoint, retrying 429/5xx/network errors a few times.
func (a *Auth) refresh(ctx context.Context) (db.ZohoToken, error) {
	form := url.Values{
		"refresh_token": {a.Creds.RefreshToken}, "client_id": {a.Creds.ClientID},
		"client_secret": {a.Creds.ClientSecret}, "grant_type": {"refresh_token"},
	}
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt, 500*time.Millisecond)); err != nil {
				return db.ZohoToken{}, err
			}
		}
		tok, retry, err := a.refreshOnce(ctx, form)
		if err == nil {
			a.Log.Info("zoho access token refreshed", "expires_at", tok.ExpiresAt)
			return tok, nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			return db.ZohoToken{}, err
		}
	}
	return db.ZohoToken{}, fmt.Errorf("zoho token refresh after 4 attempts: %w", lastErr)
}

func (a *Auth) refreshOnce(ctx context.Context, form url.Values) (db.ZohoToken, bool, error) {
	u := strings.TrimRight(a.Creds.AccountsURL, "/") + "/oauth/v2/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return db.ZohoToken{}, false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return db.ZohoToken{}, true, fmt.Errorf("zoho token request: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
	}
	_ = json.Unmarshal(raw, &body)
	// Zoho reports auth errors in the body, often with HTTP 200: check it first.
	switch body.Error {
	case "":
	case "invalid_code", "invalid_grant":
		return db.ZohoToken{}, false, fmt.Errorf("%w (HTTP %d, %q)", ErrAuthRevoked, resp.StatusCode, body.Error)
	case "invalid_client", "invalid_client_secret", "unauthorized_client":
		return db.ZohoToken{}, false, fmt.Errorf("%w (HTTP %d, %q)", ErrAuthClient, resp.StatusCode, body.Error)
	default:
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return db.ZohoToken{}, true, fmt.Errorf("zoho token endpoint: HTTP %d %q", resp.StatusCode, body.Error)
		}
		// "Access Denied" / "too many requests" style errors are rate limiting: retry.
		return db.ZohoToken{}, strings.Contains(strings.ToLower(body.Error), "too many"),
			fmt.Errorf("zoho token endpoint error %q (HTTP %d)", body.Error, resp.StatusCode)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return db.ZohoToken{}, true, fmt.Errorf("zoho token endpoint: HTTP %d", resp.StatusCode)
	}
	if resp.StatusCode/100 != 2 || body.AccessToken == "" {
		return db.ZohoToken{}, false, fmt.Errorf("zoho token endpoint: HTTP %d without an access token", resp.StatusCode)
	}
	if body.ExpiresIn <= 0 {
		body.ExpiresIn = 3600
	}
	return db.ZohoToken{AccessToken: body.AccessToken, ExpiresAt: a.Now().Add(time.Duration(body.ExpiresIn) * time.Second)}, false, nil
}

func backoff(attempt int, base time.Duration) time.Duration {
	return base<<(attempt-1) + time.Duration(rand.Int64N(int64(base)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
