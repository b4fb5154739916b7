package zoho

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/treejar/noor/internal/config"
)

// Client is the Zoho client: one per process, shared by every activity group.
// Inventory is here; the CRM slice adds its methods on CRM (same transport and auth).
type Client struct {
	Inventory *Inventory
	CRM       *CRM
}

// New builds the client from the configuration. CRM and Inventory share one OAuth client
// here; Credentials allow separate ones if Treejar splits them.
func New(cfg config.Zoho, store TokenStore, log *slog.Logger) *Client {
	auth := NewAuth(Credentials{AccountsURL: cfg.AccountsURL, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret.Reveal(), RefreshToken: cfg.RefreshToken.Reveal()}, store, log)
	return &Client{
		Inventory: &Inventory{API: NewAPI(cfg.InventoryURL, auth, url.Values{"organization_id": {cfg.OrganizationID}})},
		CRM:       &CRM{API: NewAPI(cfg.CRMURL, auth, nil)},
	}
}

// CRM is Zoho CRM (contacts, deals). Its methods are added by the CRM feature.
type CRM struct {
	API *API
}

// APIError is a Zoho API failure: the HTTP status and Zoho's own code and message.
type APIError struct {
	Status  int
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("zoho API answered %d (code %d): %s", e.Status, e.Code, e.Message)
}

// Retryable reports whether another attempt may succeed.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// API is the transport for one Zoho product: base URL, auth, fixed query parameters
// (organization_id for Inventory), per-request timeout, one refresh-and-retry on 401, and
// bounded back-off on 429/5xx/network errors.
type API struct {
	BaseURL    string
	Auth       *Auth
	Fixed      url.Values
	HTTP       *http.Client
	MaxRetries int           // default 4
	Backoff    time.Duration // default 1s
}

// NewAPI returns a transport with a 20 s request timeout.
func NewAPI(baseURL string, auth *Auth, fixed url.Values) *API {
	return &API{BaseURL: strings.TrimRight(baseURL, "/"), Auth: auth, Fixed: fixed,
		HTTP: &http.Client{Timeout: 20 * time.Second}, MaxRetries: 4, Backoff: time.Second}
}

// Do sends one request and decodes a 2xx JSON answer into out (if not nil). It returns
// ErrNotFound for 404 and 204 (Zoho's "no match"), terminal auth errors as they are, and
// *APIError otherwise.
func (a *API) Do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	q := url.Values{}
	for k, v := range a.Fixed {
		q[k] = v
	}
	for k, v := range query {
		q[k] = v
	}
	u := a.BaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	// A POST that may have reached Zoho (a 5xx, a timeout) is not repeated here: the
	// caller looks the record up before creating it again (read-before-write). 429 means
	// Zoho did not process it, so that is retried for every method.
	idempotent := method != http.MethodPost
	refreshed := false
	var lastErr error
	for attempt := 0; attempt <= a.MaxRetries; attempt++ {
		if attempt > 0 && lastErr != nil {
			if err := sleep(ctx, backoff(attempt, a.Backoff)); err != nil {
				return err
			}
		}
		tok, err := a.Auth.Token(ctx)
		if err != nil {
			return err
		}
		status, raw, err := a.once(ctx, method, u, payload, tok)
		if err != nil {
			lastErr = err
			if ctx.Err() != nil || !idempotent {
				return err
			}
			continue
		}
		switch {
		case status == http.StatusUnauthorized && !refreshed:
			// The token was revoked or expired early: drop it, refresh once, retry now.
			refreshed = true
			if err := a.Auth.Invalidate(ctx, tok); err != nil {
				return err
			}
			lastErr = nil
			attempt-- // a refresh is not a failed attempt
			continue
		case status == http.StatusNotFound || status == http.StatusNoContent:
			return ErrNotFound
		case status/100 == 2:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("decode zoho response: %w", err)
			}
			return nil
		}
		ae := &APIError{Status: status}
		var eb struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &eb) == nil {
			ae.Code, ae.Message = eb.Code, eb.Message
		}
		if ae.Message == "" {
			ae.Message = crmErrorText(raw)
		}
		if !ae.Retryable() || (!idempotent && status != http.StatusTooManyRequests) {
			return ae
		}
		lastErr = ae
	}
	return fmt.Errorf("zoho %s %s after %d attempts: %w", method, path, a.MaxRetries+1, lastErr)
}

func (a *API) once(ctx context.Context, method, u string, payload []byte, tok string) (int, []byte, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Zoho-oauthtoken "+tok)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("zoho request: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("read zoho response: %w", err)
	}
	return resp.StatusCode, raw, nil
}

// crmErrorText reads Zoho CRM's error shapes ({"code":"…","message":"…"} or a per-record
// {"data":[{"code","message","details"}]}); anything else is shown truncated.
func crmErrorText(raw []byte) string {
	var rec struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Data    []zWriteResult `json:"data"`
	}
	if json.Unmarshal(raw, &rec) == nil {
		if len(rec.Data) > 0 && rec.Data[0].Code != "" {
			return rec.Data[0].Code + ": " + rec.Data[0].Message + detailsText(rec.Data[0].Details)
		}
		if rec.Code != "" {
			return rec.Code + ": " + rec.Message
		}
	}
	return truncate(string(raw), 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// IsNotFound reports whether err means "no such record".
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
