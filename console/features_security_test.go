package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/db"
)

// The pages and forms that act on the running system keep the console's guarantees: no
// POST without the session's CSRF token, admin-only writes for admins, hostile text inert.

func TestNewFormsRefuseAPostWithoutTheCSRFToken(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	conv := e.seedConv(convSeed{Chat: "971500000101", Name: "CSRF Target"})
	e.seedEscalation(conv, 1, "complaint", "unhappy", "pending", time.Now().Add(-time.Minute))
	_, err := e.store.Pool.Exec(ctx, `INSERT INTO kb_sources (source, title, kind, body, created_by, updated_by)
		VALUES ('console:faq.md', 'FAQ', 'markdown', 'old text', 'owner', 'owner')`)
	require.NoError(t, err)
	var escID int64
	require.NoError(t, e.store.Pool.QueryRow(ctx, `SELECT id FROM escalations`).Scan(&escID))
	cl := e.admin()

	posts := map[string]url.Values{
		"/console/conversations/" + conv + "/takeover":  {},
		"/console/conversations/" + conv + "/reply":     {"text": {"hi"}, "nonce": {"0123456789abcdef0123"}},
		"/console/conversations/" + conv + "/handback":  {"text": {"note"}},
		"/console/conversations/" + conv + "/escalate":  {"text": {"why"}},
		"/console/conversations/" + conv + "/close":     {},
		"/console/escalations/" + itoa(escID) + "/take": {},
		"/console/catalog/sync":                         {},
		"/console/knowledge/docs": {"mode": {"edit"}, "name": {"faq.md"}, "kind": {"markdown"},
			"body": {"pwned"}},
		"/console/knowledge/docs/faq.md/delete": {},
		"/console/knowledge/reindex":            {},
	}
	for path, form := range posts {
		for _, token := range []string{"", "forged-token"} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if token != "" {
				f.Set("_csrf", token)
			}
			r := cl.do("POST", path, f, nil)
			assert.Equal(t, http.StatusForbidden, r.StatusCode, path)
			assert.Contains(t, r.body, "security token", path)
		}
	}
	c, err := e.store.Conversation(ctx, conv)
	require.NoError(t, err)
	assert.Equal(t, "bot", c.Owner)
	assert.Equal(t, "active", c.Status)
	k, err := e.store.KBSource(ctx, "console:faq.md")
	require.NoError(t, err)
	assert.Equal(t, "old text", k.Body)
	var n int
	require.NoError(t, e.store.Pool.QueryRow(ctx, `SELECT count(*) FROM catalog_sync_runs`).Scan(&n))
	assert.Zero(t, n)
	require.NoError(t, e.store.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action NOT LIKE 'auth.%'`).Scan(&n))
	assert.Zero(t, n, "nothing was done")
	require.NoError(t, e.store.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE author = 'manager'`).Scan(&n))
	assert.Zero(t, n)
}

func TestManagersActOnConversationsButOnlyAdminsWriteTheKnowledgeBase(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	conv := e.seedConv(convSeed{Chat: "971500000102", Name: "Manager Target"})
	e.addUser("manager1", db.RoleManager, "manager-password-1")
	cl := e.client().login("manager1", "manager-password-1")

	// A manager takes a chat over (their job): the database says a human owns it.
	r := cl.post("/console/conversations/"+conv+"/takeover", nil)
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	c, err := e.store.Conversation(ctx, conv)
	require.NoError(t, err)
	assert.Equal(t, "human", c.Owner)
	audit, err := e.store.AuditLog(ctx, "conversation.", 5, 0)
	require.NoError(t, err)
	require.Len(t, audit, 1)
	assert.Equal(t, "manager1", audit[0].Actor)
	assert.Equal(t, conv, audit[0].Target)

	for _, p := range []string{"/console/knowledge", "/console/notifications", "/console/catalog"} {
		assert.Equal(t, 200, cl.get(p).StatusCode, p)
	}
	for _, p := range []string{"/console/knowledge/new", "/console/knowledge/edit/x.md"} {
		r := cl.get(p)
		assert.Equal(t, http.StatusForbidden, r.StatusCode, p)
		assert.Contains(t, r.body, "Only admins")
	}
	for _, p := range []string{"/console/knowledge/docs", "/console/knowledge/docs/x.md/delete", "/console/knowledge/reindex"} {
		r := cl.post(p, url.Values{"mode": {"create"}, "name": {"x.md"}, "kind": {"text"}, "body": {"manager text"}})
		assert.Equal(t, http.StatusForbidden, r.StatusCode, p)
	}
	list, err := e.store.KBSources(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestHostileTextIsInertOnTheNewPages(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	conv := e.seedConv(convSeed{Chat: "971500000103", Name: "XSS Target"})
	in := e.seedMsg(conv, "customer", "hello", time.Now().Add(-2*time.Minute), 0)
	out := e.seedMsg(conv, "noor", "answer", time.Now().Add(-time.Minute), 0.0004)

	// A turn whose tool input, output, summary, error and note are hostile.
	var turn int64
	require.NoError(t, e.store.Pool.QueryRow(ctx, `INSERT INTO turns (conversation_id, seq, status, stage_before, stage_after, note, finished_at, reply_message_id)
		VALUES ($1::uuid, 1, 'replied', 'greeting', 'qualifying', $2, now(), $3) RETURNING id`, conv, xssScript, out).Scan(&turn))
	_, err := e.store.Pool.Exec(ctx, `UPDATE messages SET turn_id = $1 WHERE id = ANY($2)`, turn, []int64{in, out})
	require.NoError(t, err)
	hostileJSON, _ := json.Marshal(map[string]string{"query": xssImg, "html": xssScript})
	_, err = e.store.SaveTurnStep(ctx, db.TurnStep{TurnID: turn, Round: 0, Kind: "tool", Name: "search_products", CallID: "c1",
		Input: hostileJSON, Output: hostileJSON, Summary: xssImg, Error: xssScript})
	require.NoError(t, err)

	// A knowledge document, a notification and a catalog sync run with hostile text.
	_, err = e.store.Pool.Exec(ctx, `INSERT INTO kb_sources (source, title, kind, body, created_by, updated_by)
		VALUES ('console:evil.md', $1, 'markdown', $2, 'owner', 'owner')`, xssScript, xssImg+xssScript)
	require.NoError(t, err)
	_, err = e.store.Pool.Exec(ctx, `INSERT INTO knowledge_base (source, title, heading, chunk_index, content, content_hash)
		VALUES ('console:evil.md', $1, $2, 0, $3, 'h')`, xssScript, xssImg, xssImg+xssScript)
	require.NoError(t, err)
	_, _, err = e.store.CreateNotification(ctx, db.NewNotification{Key: "evil", Kind: "escalation", Title: xssScript,
		Body: xssImg, Channel: "console", ConversationID: conv})
	require.NoError(t, err)
	_, err = e.store.Pool.Exec(ctx, `UPDATE notifications SET status = 'failed', error = $1`, xssImg)
	require.NoError(t, err)
	runID := "0f0e0d0c-0b0a-4909-8807-060504030201"
	_, err = e.store.Pool.Exec(ctx, `INSERT INTO catalog_sync_runs (id, workflow_id, trigger, status, errors, finished_at)
		VALUES ($1, 'catalog-sync', 'console', 'partial', jsonb_build_array($2::text, $3::text), now())`, runID, xssScript, xssImg)
	require.NoError(t, err)

	cl := e.admin()
	for _, p := range []string{"/console/conversations/" + conv, "/console/knowledge", "/console/knowledge?source=console:evil.md",
		"/console/knowledge/edit/evil.md", "/console/knowledge/new", "/console/notifications", "/console/notifications?status=failed",
		"/console/catalog", "/console/catalog?run=" + runID} {
		r := cl.get(p)
		require.Equal(t, 200, r.StatusCode, p)
		assert.NotContains(t, r.body, xssScript, p)
		assert.NotContains(t, r.body, "<img src=x", p)
		assert.Empty(t, htmlProblems(r.body), p)
		assert.Equal(t, "text/html; charset=UTF-8", r.Header.Get("Content-Type"), p)
	}
	detail := cl.get("/console/conversations/" + conv)
	assert.Contains(t, detail.body, "&lt;img src=x onerror=alert(1)&gt;", "the tool input is shown as text")

	// The progress JSON escapes markup too (a browser never renders it as HTML).
	r := cl.get("/console/catalog/sync/" + runID)
	require.Equal(t, 200, r.StatusCode)
	assert.Contains(t, r.Header.Get("Content-Type"), "application/json")
	assert.NotContains(t, r.body, "<script>")
	var p struct {
		Percent int      `json:"percent"`
		Done    bool     `json:"done"`
		Errors  []string `json:"errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &p))
	assert.Equal(t, 100, p.Percent)
	assert.True(t, p.Done)
	assert.Equal(t, []string{xssScript, xssImg}, p.Errors)
	assert.Equal(t, http.StatusNotFound, cl.get("/console/catalog/sync/"+url.PathEscape("x' OR 1=1 --")).StatusCode)
	assert.Equal(t, http.StatusNotFound, cl.get("/console/catalog?run="+url.QueryEscape("<script>")).StatusCode)
	assert.Equal(t, http.StatusNotFound, cl.get("/console/knowledge/edit/"+url.PathEscape("../../etc")).StatusCode)
	assert.Equal(t, http.StatusBadRequest, cl.get("/console/notifications?status="+url.QueryEscape("sent' --")).StatusCode)
	assert.Equal(t, http.StatusBadRequest, cl.get("/console/notifications?before=-1").StatusCode)
	assert.True(t, strings.Contains(cl.get("/console/notifications").body, "failed"))
}
