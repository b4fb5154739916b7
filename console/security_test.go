package console_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/treejar/noor/console"
	"github.com/treejar/noor/db"
)

func cookieNamed(r resp, name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSessionCookieIsHttpOnlySameSiteAndSecureBehindTLS(t *testing.T) {
	e := newEnv(t, envOpts{tls: true})
	cl := e.client()
	r := cl.tryLogin(adminUser, adminPass)
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	ck := cookieNamed(r, "noor_session")
	require.NotNil(t, ck)
	assert.True(t, ck.HttpOnly, "HttpOnly")
	assert.True(t, ck.Secure, "Secure behind TLS")
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	assert.Equal(t, "/console", ck.Path)
	assert.GreaterOrEqual(t, len(ck.Value), 40, "a long random token")
	assert.Contains(t, r.Header.Get("Strict-Transport-Security"), "max-age=")

	// The token is stored hashed: the raw value is nowhere in the database.
	var n int
	require.NoError(t, e.store.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM console_sessions WHERE token_hash = $1`, ck.Value).Scan(&n))
	assert.Zero(t, n)
}

func TestSessionCookieNotSecureOnPlainHTTPAndLogoutEndsSession(t *testing.T) {
	e := newEnv(t, envOpts{})
	cl := e.client()
	r := cl.tryLogin(adminUser, adminPass)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	ck := cookieNamed(r, "noor_session")
	require.NotNil(t, ck)
	assert.False(t, ck.Secure, "a plain-HTTP dev server cannot use Secure cookies")
	assert.True(t, ck.HttpOnly)

	home := cl.get("/console/")
	require.Equal(t, 200, home.StatusCode)
	cl.csrf = csrfFrom(t, home.body)
	out := cl.post("/console/logout", nil)
	assert.Equal(t, http.StatusSeeOther, out.StatusCode)

	// Replaying the old cookie after logout gets the login page, not the console.
	replay := e.client()
	u, _ := url.Parse(e.http.URL)
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "noor_session", Value: ck.Value, Path: "/console"}})
	r = replay.get("/console/conversations")
	assert.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.True(t, strings.HasPrefix(r.Header.Get("Location"), "/console/login"), r.Header.Get("Location"))
}

func TestUnauthenticatedIsRedirectedAndNextIsNotAnOpenRedirect(t *testing.T) {
	e := newEnv(t, envOpts{})
	cl := e.client()
	r := cl.get("/console/settings")
	assert.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, "/console/login?next=%2Fconsole%2Fsettings", r.Header.Get("Location"))

	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/console\\@evil", "javascript:alert(1)"} {
		cl := e.client()
		page := cl.get("/console/login")
		r := cl.do("POST", "/console/login", url.Values{"_csrf": {csrfFrom(t, page.body)}, "username": {adminUser},
			"password": {adminPass}, "next": {next}}, nil)
		require.Equal(t, http.StatusSeeOther, r.StatusCode)
		assert.Equal(t, "/console/", r.Header.Get("Location"), "next=%q", next)
	}
}

func TestLoginWithoutCSRFIsRefused(t *testing.T) {
	e := newEnv(t, envOpts{})
	cl := e.client()
	r := cl.do("POST", "/console/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil)
	assert.Equal(t, http.StatusForbidden, r.StatusCode)
	assert.Nil(t, cookieNamed(r, "noor_session"))
}

func TestLockOutAfterRepeatedWrongPasswords(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.addUser("sara", db.RoleManager, "sara-password-1")
	cl := e.client()
	for i := 0; i < console.MaxFailures; i++ {
		r := cl.tryLogin("sara", "wrong-password")
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
		assert.Contains(t, r.body, "Wrong username or password.")
	}
	// The right password no longer works while the account is locked.
	r := cl.tryLogin("sara", "sara-password-1")
	assert.Equal(t, http.StatusTooManyRequests, r.StatusCode)
	assert.Contains(t, r.body, "locked")
	assert.Nil(t, cookieNamed(r, "noor_session"))

	entries, err := e.store.AuditLog(context.Background(), "auth.", 50, 0)
	require.NoError(t, err)
	actions := map[string]int{}
	for _, a := range entries {
		actions[a.Action]++
	}
	assert.Equal(t, 1, actions["auth.locked"])
	assert.Equal(t, console.MaxFailures-1, actions["auth.login_failed"])
	assert.Equal(t, 1, actions["auth.login_locked"])

	// An admin resetting the password unlocks the account.
	u, err := e.store.UserByName(context.Background(), "sara")
	require.NoError(t, err)
	admin := e.admin()
	up := admin.post("/console/users/"+itoa(u.ID), url.Values{"role": {"manager"}, "password": {"sara-new-password"}})
	require.Equal(t, http.StatusSeeOther, up.StatusCode, up.body)
	e.client().login("sara", "sara-new-password")
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	e := newEnv(t, envOpts{})
	cl := e.client()
	limited := 0
	for i := 0; i < console.IPAttempts+3; i++ {
		r := cl.tryLogin("nobody-"+itoa(int64(i)), "x")
		if r.StatusCode == http.StatusTooManyRequests {
			limited++
			assert.NotEmpty(t, r.Header.Get("Retry-After"))
		} else {
			assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
		}
	}
	assert.Equal(t, 3, limited)
	// Even the right password is refused from this address until the window passes.
	assert.Equal(t, http.StatusTooManyRequests, cl.tryLogin(adminUser, adminPass).StatusCode)
}

func TestPostWithoutCSRFTokenIsRefused(t *testing.T) {
	e := newEnv(t, envOpts{})
	cl := e.admin()
	before, err := e.store.Settings(context.Background())
	require.NoError(t, err)

	form := url.Values{"version": {"0"}, "escalation.order_threshold_aed": {"1"}}
	for _, token := range []string{"", "forged-token"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if token != "" {
			f.Set("_csrf", token)
		}
		r := cl.do("POST", "/console/settings", f, nil)
		assert.Equal(t, http.StatusForbidden, r.StatusCode)
		assert.Contains(t, r.body, "security token")
	}
	r := cl.do("POST", "/console/prompts/system", url.Values{"text": {"pwned"}, "note": {"x"}}, nil)
	assert.Equal(t, http.StatusForbidden, r.StatusCode)
	r = cl.do("POST", "/console/users", url.Values{"username": {"mallory"}, "role": {"admin"}, "password": {"mallory-password"}}, nil)
	assert.Equal(t, http.StatusForbidden, r.StatusCode)

	after, err := e.store.Settings(context.Background())
	require.NoError(t, err)
	assert.Equal(t, before.Version, after.Version)
	p, err := e.store.PromptByName(context.Background(), "system")
	require.NoError(t, err)
	assert.Equal(t, 1, p.ActiveVersion)
	_, err = e.store.UserByName(context.Background(), "mallory")
	assert.ErrorIs(t, err, db.ErrNotFound)

	// The token in a header is accepted too (for script-driven POSTs).
	r = cl.do("POST", "/console/prompts/system", url.Values{"text": {"You are Noor, v2."}, "note": {"header token"},
		"active_version": {"1"}}, map[string]string{"X-CSRF-Token": cl.csrf})
	assert.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
}

func TestManagerCannotReachAdminPagesOrAPIs(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.addUser("manager1", db.RoleManager, "manager-password-1")
	cl := e.client().login("manager1", "manager-password-1")

	for _, p := range []string{"/console/", "/console/conversations", "/console/escalations", "/console/catalog",
		"/console/knowledge", "/console/providers", "/console/notifications"} {
		assert.Equal(t, 200, cl.get(p).StatusCode, p)
	}
	for _, p := range []string{"/console/prompts", "/console/prompts/system", "/console/settings", "/console/users", "/console/audit"} {
		r := cl.get(p)
		assert.Equal(t, http.StatusForbidden, r.StatusCode, p)
		assert.Contains(t, r.body, "Only admins")
	}
	for _, p := range []string{"/console/settings", "/console/prompts/system", "/console/prompts/system/rollback", "/console/users", "/console/users/1"} {
		r := cl.post(p, url.Values{"text": {"x"}, "note": {"x"}, "version": {"1"}, "role": {"admin"}, "username": {"x2"}, "password": {"xxxxxxxxxxxx"}})
		assert.Equal(t, http.StatusForbidden, r.StatusCode, p)
	}
	// The admin navigation is not offered to managers.
	home := cl.get("/console/")
	assert.NotContains(t, home.body, `href="/console/settings"`)
	// A console session is no API key.
	r := cl.get("/api/v1/admin/prompts/")
	assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
	r = cl.get("/api/v1/admin/metrics/")
	assert.Equal(t, http.StatusUnauthorized, r.StatusCode)

	p, err := e.store.PromptByName(context.Background(), "system")
	require.NoError(t, err)
	assert.Equal(t, 1, p.ActiveVersion)
}

func TestSecurityHeadersAndNoInlineScriptOrStyle(t *testing.T) {
	e := newEnv(t, envOpts{})
	conv := e.seedConv(convSeed{Chat: "971500000001", Name: "Header Test"})
	e.seedMsg(conv, "customer", "hello", time.Now().Add(-time.Minute), 0)
	login := e.client().get("/console/login")
	assert.Equal(t, console.CSP, login.Header.Get("Content-Security-Policy"))
	assert.Empty(t, htmlProblems(login.body))
	cl := e.admin()
	for _, p := range []string{"/console/", "/console/conversations", "/console/conversations/" + conv,
		"/console/escalations", "/console/catalog", "/console/knowledge", "/console/prompts", "/console/prompts/system",
		"/console/settings", "/console/users", "/console/audit", "/console/providers", "/console/notifications"} {
		r := cl.get(p)
		require.Equal(t, 200, r.StatusCode, p)
		csp := r.Header.Get("Content-Security-Policy")
		assert.Equal(t, console.CSP, csp, p)
		assert.Contains(t, csp, "script-src 'self'")
		assert.Contains(t, csp, "frame-ancestors 'none'")
		assert.Contains(t, csp, "default-src 'none'")
		assert.NotContains(t, csp, "unsafe-inline")
		assert.NotContains(t, csp, "unsafe-eval")
		assert.Equal(t, "DENY", r.Header.Get("X-Frame-Options"), p)
		assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"), p)
		assert.Equal(t, "same-origin", r.Header.Get("Referrer-Policy"), p)
		assert.Empty(t, htmlProblems(r.body), p)
	}
	js := cl.get("/console/static/console.js")
	assert.Equal(t, 200, js.StatusCode)
	assert.Contains(t, js.Header.Get("Content-Type"), "javascript")
	assert.Equal(t, 404, cl.get("/console/static/../templates/layout.html").StatusCode)
}

const (
	xssScript = `<script>alert("xss")</script>`
	xssImg    = `"><img src=x onerror=alert(1)>`
)

func TestHostileCustomerAndProductTextRendersInert(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	conv := e.seedConv(convSeed{Chat: "971500000002", Name: xssScript, Company: xssImg})
	e.seedMsg(conv, "customer", xssImg+" and "+xssScript, time.Now().Add(-2*time.Minute), 0)
	_, err := e.store.Pool.Exec(ctx, `UPDATE messages SET media_url = 'javascript:alert(1)' WHERE conversation_id = $1::uuid`, conv)
	require.NoError(t, err)
	_, err = e.store.Pool.Exec(ctx, `UPDATE conversations SET facts = jsonb_build_object('company', $2::text, 'note', $3::text)
		WHERE id = $1::uuid`, conv, xssImg, xssScript)
	require.NoError(t, err)
	e.seedEscalation(conv, 1, xssScript, xssImg, "pending", time.Now().Add(-time.Minute))
	_, err = e.store.Pool.Exec(ctx, `INSERT INTO products (slug, sku, name, category, category_slug, price, url)
		VALUES ('evil', 'EVIL-1', $1, $2, 'evil', 10, 'javascript:alert(1)')`, xssImg+xssScript, xssScript)
	require.NoError(t, err)

	cl := e.admin()
	for _, p := range []string{"/console/", "/console/conversations", "/console/conversations/" + conv,
		"/console/escalations", "/console/catalog", "/console/catalog?q=" + url.QueryEscape(xssImg)} {
		r := cl.get(p)
		require.Equal(t, 200, r.StatusCode, p)
		assert.NotContains(t, r.body, xssScript, p)
		assert.NotContains(t, r.body, "<img src=x", p)
		assert.NotContains(t, r.body, `href="javascript:`, p)
		assert.Empty(t, htmlProblems(r.body), p)
	}
	detail := cl.get("/console/conversations/" + conv)
	assert.Contains(t, detail.body, "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;", "shown as text")
	assert.Contains(t, detail.body, "&lt;img src=x onerror=alert(1)&gt;")
}

func TestHostileFilterAndSearchParametersAreSafe(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	a := e.seedConv(convSeed{Chat: "971501111111", Name: "Plain Customer"})
	b := e.seedConv(convSeed{Chat: "971502222222", Name: "100% Chairs_Ltd"})
	cl := e.admin()

	ids := func(r resp) []string {
		var out []string
		for _, m := range regexp.MustCompile(`data-id="([0-9a-f-]{36})"`).FindAllStringSubmatch(r.body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	// Wildcards are literal: "%" and "_" match only names that contain them.
	r := cl.get("/console/conversations?q=" + url.QueryEscape("%"))
	require.Equal(t, 200, r.StatusCode)
	assert.Equal(t, []string{b}, ids(r))
	r = cl.get("/console/conversations?q=" + url.QueryEscape("s_L"))
	assert.Equal(t, []string{b}, ids(r))

	hostile := []string{
		`' OR '1'='1`, `'; DROP TABLE conversations; --`, `\`, `%' UNION SELECT password_hash FROM users --`,
		`") OR 1=1 --`, "\x00", strings.Repeat("a", 100),
	}
	for _, h := range hostile {
		r := cl.get("/console/conversations?q=" + url.QueryEscape(h))
		assert.Contains(t, []int{200, 400}, r.StatusCode, h)
		assert.Empty(t, ids(r), "q=%q must match nothing", h)
		r = cl.get("/console/catalog?q=" + url.QueryEscape(h))
		assert.Contains(t, []int{200, 400}, r.StatusCode, h)
		r = cl.get("/console/export/conversations.csv?q=" + url.QueryEscape(h))
		assert.Contains(t, []int{200, 400}, r.StatusCode, h)
		if r.StatusCode == 200 {
			rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\xEF\xBB\xBF"))).ReadAll()
			require.NoError(t, err)
			assert.Len(t, rows, 1, "only the header for q=%q", h)
		}
	}
	// Enumerated filters reject anything but their values.
	for _, q := range []string{"status=" + url.QueryEscape("active' OR '1'='1"), "stage=x", "owner=" + url.QueryEscape("bot;--"),
		"language=fr", "escalated=1", "has_quote=true", "from=" + url.QueryEscape("2024-01-01' --"), "to=tomorrow"} {
		r := cl.get("/console/conversations?" + q)
		assert.Equal(t, http.StatusBadRequest, r.StatusCode, q)
		assert.Empty(t, ids(r))
	}
	for _, q := range []string{"zoho=" + url.QueryEscape("linked' --"), "in_stock=maybe", "active=1"} {
		assert.Equal(t, http.StatusBadRequest, cl.get("/console/catalog?"+q).StatusCode, q)
	}
	assert.Equal(t, http.StatusBadRequest, cl.get("/console/escalations?status="+url.QueryEscape("pending' --")).StatusCode)
	assert.Equal(t, http.StatusNotFound, cl.get("/console/conversations/"+url.PathEscape("1 OR 1=1")).StatusCode)

	// Everything is still there.
	var n int
	require.NoError(t, e.store.Pool.QueryRow(ctx, `SELECT count(*) FROM conversations`).Scan(&n))
	assert.Equal(t, 2, n)
	r = cl.get("/console/conversations")
	assert.ElementsMatch(t, []string{a, b}, ids(r))
}

func TestConversationFilters(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	now := time.Now()
	en := e.seedConv(convSeed{Chat: "971503333333", Name: "John Buyer", Company: "Acme Trading", Stage: "solution", Created: now.Add(-48 * time.Hour)})
	ar := e.seedConv(convSeed{Chat: "971504444444", Name: "أحمد", Lang: "ar", Stage: "qualifying", Status: "escalated", Owner: "human"})
	closed := e.seedConv(convSeed{Chat: "971505555555", Name: "Old Lead", Status: "closed", Created: now.AddDate(0, 0, -40)})
	e.seedMsg(en, "customer", "need chairs", now.Add(-47*time.Hour), 0)
	e.seedMsg(ar, "customer", "مرحبا", now.Add(-10*time.Minute), 0)
	e.seedEscalation(ar, 1, "complaint", "unhappy", "pending", now.Add(-5*time.Minute))
	_, err := e.store.Pool.Exec(ctx, `INSERT INTO outbound_ledger (idempotency_key, conversation_id, kind, provider, status)
		VALUES ('quote-1', $1::uuid, 'document', 'wazzup', 'sent')`, en)
	require.NoError(t, err)

	cl := e.admin()
	ids := func(q string) []string {
		r := cl.get("/console/conversations?" + q)
		require.Equal(t, 200, r.StatusCode, q)
		var out []string
		for _, m := range regexp.MustCompile(`data-id="([0-9a-f-]{36})"`).FindAllStringSubmatch(r.body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	day := func(t time.Time) string { return t.In(time.FixedZone("Dubai", 4*3600)).Format("2006-01-02") }
	cases := map[string][]string{
		"":                                    {ar, en, closed},
		"status=escalated":                    {ar},
		"status=closed":                       {closed},
		"stage=solution":                      {en},
		"owner=human":                         {ar},
		"owner=bot":                           {en, closed},
		"language=ar":                         {ar},
		"escalated=yes":                       {ar},
		"escalated=no":                        {en, closed},
		"has_quote=yes":                       {en},
		"has_quote=no":                        {ar, closed},
		"q=john":                              {en},
		"q=acme":                              {en},
		"q=" + url.QueryEscape("أحمد"):        {ar},
		"q=" + url.QueryEscape("+971 50 444"): {ar},
		"from=" + day(now.AddDate(0, 0, -3)):  {ar, en},
		"to=" + day(now.AddDate(0, 0, -30)):   {closed},
		"language=en&status=active&q=buyer":   {en},
		"from=" + day(now.AddDate(0, 0, -3)) + "&to=" + day(now.Add(-30*time.Hour)): {en},
	}
	for q, want := range cases {
		assert.ElementsMatch(t, want, ids(q), q)
	}
}

func TestExportCSVAppliesFiltersStreamsAndDefusesFormulas(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	ar := e.seedConv(convSeed{Chat: "971506666666", Name: "=HYPERLINK(\"http://evil\")", Lang: "ar"})
	en := e.seedConv(convSeed{Chat: "971507777777", Name: "English Buyer"})
	// Many messages: the export must stream them all.
	_, err := e.store.Pool.Exec(ctx, `INSERT INTO messages (conversation_id, direction, author, text, created_at)
		SELECT $1::uuid, 'in', 'customer', 'رسالة رقم ' || g, now() - (g || ' seconds')::interval FROM generate_series(1, 3000) g`, ar)
	require.NoError(t, err)
	e.seedMsg(en, "customer", "+1 call me", time.Now().Add(-time.Minute), 0)

	cl := e.admin()
	r := cl.get("/console/export/conversations.csv?language=ar")
	require.Equal(t, 200, r.StatusCode)
	assert.Contains(t, r.Header.Get("Content-Type"), "text/csv")
	assert.Contains(t, r.Header.Get("Content-Disposition"), "attachment; filename=\"noor-conversations-")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\xEF\xBB\xBF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "id", rows[0][0])
	assert.Equal(t, ar, rows[1][0])
	assert.Equal(t, `'=HYPERLINK("http://evil")`, rows[1][1], "formula defused")

	r = cl.get("/console/export/messages.csv?language=ar")
	require.Equal(t, 200, r.StatusCode)
	assert.Empty(t, r.Header.Get("Content-Length"), "streamed, not buffered")
	rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\xEF\xBB\xBF"))).ReadAll()
	require.NoError(t, err)
	assert.Len(t, rows, 3001)
	assert.Contains(t, rows[1][7], "رسالة رقم")

	r = cl.get("/console/export/messages.csv?language=en")
	rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\xEF\xBB\xBF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "'+1 call me", rows[1][7])

	e.seedEscalation(en, 1, "human_request", "asked for a human", "resolved", time.Now().Add(-time.Hour))
	e.seedEscalation(ar, 1, "complaint", "angry", "pending", time.Now().Add(-time.Minute))
	r = cl.get("/console/export/escalations.csv?status=pending")
	rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\xEF\xBB\xBF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "complaint", rows[1][4])

	_, err = e.store.Pool.Exec(ctx, `INSERT INTO quality_reviews (conversation_id, total_score, max_score, band) VALUES ($1::uuid, 22, 30, 'good')`, en)
	require.NoError(t, err)
	r = cl.get("/console/export/quality_reviews.csv")
	rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\xEF\xBB\xBF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "22", rows[1][3])

	entries, err := e.store.AuditLog(ctx, "export.", 10, 0)
	require.NoError(t, err)
	assert.Len(t, entries, 5, "every export is audited")
	assert.Equal(t, 404, cl.get("/console/export/users.csv").StatusCode)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// htmlProblems parses a page and lists anything that would run script or inline style:
// event-handler attributes, style attributes, inline <script> or <style>, javascript: URLs.
func htmlProblems(body string) []string {
	var out []string
	z := html.NewTokenizer(strings.NewReader(body))
	inScript := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out
		case html.TextToken:
			if inScript && strings.TrimSpace(string(z.Text())) != "" {
				out = append(out, "inline script")
			}
		case html.EndTagToken:
			inScript = false
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			hasSrc := false
			for _, a := range tok.Attr {
				k := strings.ToLower(a.Key)
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(k, "on"):
					out = append(out, "<"+tok.Data+" "+k+">")
				case k == "style":
					out = append(out, "style attribute on <"+tok.Data+">")
				case (k == "href" || k == "src" || k == "action" || k == "formaction") && strings.HasPrefix(v, "javascript:"):
					out = append(out, "javascript: URL on <"+tok.Data+">")
				case k == "src":
					hasSrc = true
				}
			}
			switch tok.Data {
			case "script":
				inScript = !hasSrc
				if !hasSrc {
					out = append(out, "<script> without src")
				}
			case "style":
				out = append(out, "<style> element")
			case "img", "iframe", "object", "embed":
				out = append(out, "<"+tok.Data+"> element")
			}
		}
	}
}

func TestCatalogFiltersAndPagerKeepFilters(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	_, err := e.store.Pool.Exec(ctx, `INSERT INTO products (slug, sku, name, category, category_slug, price, in_stock, zoho_item_id)
		SELECT 'p' || g, 'SKU-' || g, 'Chair ' || g, 'Chairs', 'chairs', 100 + g, g % 2 = 0, CASE WHEN g % 3 = 0 THEN 'z' || g END
		FROM generate_series(1, 120) g`)
	require.NoError(t, err)
	cl := e.admin()
	r := cl.get("/console/catalog?in_stock=yes&category=chairs")
	require.Equal(t, 200, r.StatusCode)
	assert.Contains(t, r.body, "<small class=\"muted\">60</small>")
	m := regexp.MustCompile(`id="catalog-next" href="([^"]+)"`).FindStringSubmatch(r.body)
	require.NotNil(t, m)
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	assert.Equal(t, "/console/catalog?category=chairs&in_stock=yes&page=2", next)
	r = cl.get(next)
	require.Equal(t, 200, r.StatusCode)
	assert.Equal(t, 10, strings.Count(r.body, "<code>SKU-"), "the second page of 60 in-stock chairs")
	r = cl.get("/console/catalog?zoho=linked")
	assert.Contains(t, r.body, "<small class=\"muted\">40</small>")
}
