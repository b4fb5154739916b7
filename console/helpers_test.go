package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/treejar/noor/api"
	"github.com/treejar/noor/console"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/internal/testenv"
)

const (
	adminUser = "owner"
	adminPass = "owner-password-42"
	apiKey    = "console-test-api-key-0123456789"
)

type env struct {
	t     *testing.T
	store *db.Store
	srv   *api.Server
	http  *httptest.Server
	cfg   config.Config
}

type envOpts struct {
	tls   bool
	hooks func(*console.Deps)
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	store := testenv.DB(t)
	cfg := config.Config{Env: "test", APIKey: apiKey, PublicBaseURL: "http://localhost",
		AdminUsername: adminUser, AdminPassword: adminPass, TemporalUIURL: "http://temporal-ui.test:8233",
		TemporalNamespace: "default", TaskQueue: testenv.TaskQueue(t)}
	reg := metrics.NewRegistry()
	srv, err := api.Build(api.Deps{Config: cfg, Store: store, Temporal: testenv.Temporal(t), Log: testenv.Logger(t),
		Metrics: metrics.NewApp(reg), Gatherer: reg, ConsoleHooks: func(d *console.Deps) {
			d.BcryptCost = bcrypt.MinCost
			if o.hooks != nil {
				o.hooks(d)
			}
		}})
	require.NoError(t, err)
	var hs *httptest.Server
	if o.tls {
		hs = httptest.NewTLSServer(srv.Echo)
	} else {
		hs = httptest.NewServer(srv.Echo)
	}
	t.Cleanup(hs.Close)
	return &env{t: t, store: store, srv: srv, http: hs, cfg: cfg}
}

// client is a browser-like HTTP client with a cookie jar that does not follow redirects.
type client struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	hc := *e.http.Client() // a copy: each client has its own cookie jar
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{e: e, c: &hc}
}

type resp struct {
	*http.Response
	body string
}

func (cl *client) do(method, path string, form url.Values, headers map[string]string) resp {
	cl.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, cl.e.http.URL+path, body)
	require.NoError(cl.e.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	r, err := cl.c.Do(req)
	require.NoError(cl.e.t, err)
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{Response: r, body: string(b)}
}

func (cl *client) get(path string) resp { return cl.do("GET", path, nil, nil) }

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func csrfFrom(t *testing.T, html string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(html)
	require.NotNil(t, m, "no CSRF field in page")
	return m[1]
}

// post submits a form with the session's CSRF token.
func (cl *client) post(path string, form url.Values) resp {
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", cl.csrf)
	return cl.do("POST", path, form, nil)
}

func (cl *client) tryLogin(user, pass string) resp {
	cl.e.t.Helper()
	page := cl.get("/console/login")
	require.Equal(cl.e.t, 200, page.StatusCode)
	return cl.do("POST", "/console/login", url.Values{"_csrf": {csrfFrom(cl.e.t, page.body)},
		"username": {user}, "password": {pass}, "next": {"/console/"}}, nil)
}

func (cl *client) login(user, pass string) *client {
	cl.e.t.Helper()
	r := cl.tryLogin(user, pass)
	require.Equal(cl.e.t, http.StatusSeeOther, r.StatusCode, r.body)
	home := cl.get("/console/")
	require.Equal(cl.e.t, 200, home.StatusCode, home.body)
	cl.csrf = csrfFrom(cl.e.t, home.body)
	return cl
}

func (e *env) admin() *client { return e.client().login(adminUser, adminPass) }

// addUser creates a user directly in the store.
func (e *env) addUser(name, role, pass string) {
	e.t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	require.NoError(e.t, err)
	_, err = e.store.CreateUser(context.Background(), db.User{Username: name, Role: role, PasswordHash: string(h)})
	require.NoError(e.t, err)
}

// seedConv inserts a conversation and returns its id.
type convSeed struct {
	Chat, Name, Company, Lang, Stage, Status, Owner string
	Created                                         time.Time
}

func (e *env) seedConv(c convSeed) string {
	e.t.Helper()
	if c.Lang == "" {
		c.Lang = "en"
	}
	if c.Stage == "" {
		c.Stage = "greeting"
	}
	if c.Status == "" {
		c.Status = "active"
	}
	if c.Owner == "" {
		c.Owner = "bot"
	}
	if c.Created.IsZero() {
		c.Created = time.Now().Add(-time.Hour)
	}
	facts := "{}"
	if c.Company != "" {
		facts = fmt.Sprintf(`{"company": %q}`, c.Company)
	}
	var id string
	err := e.store.Pool.QueryRow(context.Background(), `
		INSERT INTO conversations (channel_id, chat_id, customer_name, language, stage, status, owner, facts, created_at, last_message_at)
		VALUES ('chan-1', $1, $2, $3, $4, $5, $6, $7::jsonb, $8, $8) RETURNING id::text`,
		c.Chat, c.Name, c.Lang, c.Stage, c.Status, c.Owner, facts, c.Created).Scan(&id)
	require.NoError(e.t, err)
	return id
}

func (e *env) seedMsg(conv, author, text string, at time.Time, cost float64) int64 {
	e.t.Helper()
	dir := "out"
	if author == "customer" {
		dir = "in"
	}
	var id int64
	err := e.store.Pool.QueryRow(context.Background(), `
		INSERT INTO messages (conversation_id, direction, author, text, cost_usd, created_at)
		VALUES ($1::uuid, $2, $3, $4, $5, $6) RETURNING id`, conv, dir, author, text, cost, at).Scan(&id)
	require.NoError(e.t, err)
	_, err = e.store.Pool.Exec(context.Background(), `UPDATE conversations SET last_message_at = greatest(last_message_at, $2)
		WHERE id = $1::uuid`, conv, at)
	require.NoError(e.t, err)
	return id
}

func (e *env) seedEscalation(conv string, episode int, kind, reason, status string, at time.Time) {
	e.t.Helper()
	_, err := e.store.Pool.Exec(context.Background(), `
		INSERT INTO escalations (conversation_id, episode, reason, kind, status, created_at)
		VALUES ($1::uuid, $2, $3, $4, $5, $6)`, conv, episode, reason, kind, status, at)
	require.NoError(e.t, err)
}
