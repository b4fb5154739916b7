package console_test

// The console's actions on the running system over plain HTTP (a cookie-jar client), on the
// whole stack: manager replies through the outbound gateway, the knowledge base written in
// the console and indexed by the real indexer, the providers panel fed by the activities.

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/wazzup/wazzuptest"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/stacktest"
)

var nonceInPage = regexp.MustCompile(`name="nonce" value="([^"]+)"`)

func TestManagerReplyIsSentOncePerFormAndBlockedOutsideTheWindow(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	salesModel(s)
	ctx := context.Background()
	chat := "971507770010"
	s.Post(s.Customer(chat, "Hello, do you deliver to Sharjah?"))
	_, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 1)
	require.NoError(t, err)
	conv := s.Conversation(chat)
	s.WaitIdle(conv.ID, 1, 30*time.Second)

	cl := stackEnv(t, s).client().login(stackAdmin, stackAdminPass)
	page := cl.get("/console/conversations/" + conv.ID)
	require.Equal(t, 200, page.StatusCode)
	m := nonceInPage.FindStringSubmatch(page.body)
	require.NotNil(t, m, "the reply form carries a nonce")
	form := url.Values{"text": {"Sara here from Treejar sales."}, "nonce": {m[1]}}

	// A double submit of the same form (or a retry after a timeout) sends one message.
	for range 2 {
		r := cl.post("/console/conversations/"+conv.ID+"/reply", form)
		require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	}
	sent, err := s.Wazzup.WaitForSent(s.Ctx(20*time.Second), 2)
	require.NoError(t, err)
	var manager []wazzuptest.SentMessage
	for _, x := range s.Wazzup.Sent() {
		if strings.Contains(x.Text, "Sara here") {
			manager = append(manager, x)
		}
	}
	require.Len(t, manager, 1, "sent once: %+v", sent)
	assert.Equal(t, "console-reply:"+conv.ID+":"+m[1], manager[0].CRMMessageID)
	msgs, err := s.Store.Messages(ctx, conv.ID, 0, 0)
	require.NoError(t, err)
	var stored int
	for _, x := range msgs {
		if x.Author == "manager" {
			stored++
			assert.Equal(t, stackAdmin, x.AuthorName)
		}
	}
	assert.Equal(t, 1, stored, "stored once")
	c, err := s.Store.Conversation(ctx, conv.ID)
	require.NoError(t, err)
	assert.Equal(t, "human", c.Owner, "replying takes the chat over")

	// 25 hours after the customer's last message WhatsApp allows templates only; none is
	// configured for manager messages, so the reply is refused with the reason, visibly.
	_, err = s.Store.Pool.Exec(ctx, `UPDATE conversations SET last_customer_message_at = now() - interval '25 hours' WHERE id = $1`, conv.ID)
	require.NoError(t, err)
	page = cl.get("/console/conversations/" + conv.ID)
	m = nonceInPage.FindStringSubmatch(page.body)
	require.NotNil(t, m)
	r := cl.post("/console/conversations/"+conv.ID+"/reply", url.Values{"text": {"Are you still there?"}, "nonce": {m[1]}})
	assert.Equal(t, http.StatusConflict, r.StatusCode)
	assert.Contains(t, r.body, "more than 24 hours ago")
	rec, err := s.Store.OutboundByKey(ctx, "console-reply:"+conv.ID+":"+m[1])
	require.NoError(t, err)
	assert.Equal(t, "blocked", rec.Status, "recorded as blocked, never silently dropped")
	assert.Len(t, s.Wazzup.Sent(), 2, "nothing more reached WhatsApp")

	// Bad forms are refused before anything is sent.
	for _, f := range []url.Values{{"text": {""}, "nonce": {m[1]}}, {"text": {"hi"}, "nonce": {"short"}},
		{"text": {strings.Repeat("x", 4001)}, "nonce": {m[1]}}} {
		r := cl.post("/console/conversations/"+conv.ID+"/reply", f)
		assert.Equal(t, http.StatusBadRequest, r.StatusCode)
	}
	assert.Equal(t, http.StatusNotFound, cl.post("/console/conversations/"+conv.ID+"/explode", nil).StatusCode)
}

func TestKnowledgeDocumentsWrittenInTheConsoleAreIndexedAndRetrieved(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{})
	ctx := context.Background()
	e := stackEnv(t, s)
	admin := e.client().login(stackAdmin, stackAdminPass)
	e.addUser("manager1", db.RoleManager, "manager-password-1")
	manager := e.client().login("manager1", "manager-password-1")

	doc := url.Values{"mode": {"create"}, "name": {"Showroom-Hours.md"}, "title": {"Showroom"}, "kind": {"markdown"},
		"body": {"# Visiting the showroom\n\nOur showroom in Al Quoz is open Saturday to Thursday from 9 am to 6 pm. Parking is free for visitors.\n"}}
	r := admin.post("/console/knowledge/docs", doc)
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Contains(t, r.Header.Get("Location"), "ok=reindex")
	const src = "console:showroom-hours.md"
	indexed := func(want string) {
		t.Helper()
		require.Eventually(t, func() bool {
			k, err := s.Store.KBSource(ctx, src)
			if err != nil || !k.Indexed {
				return false
			}
			chunks, err := s.Store.KnowledgeChunks(ctx, src)
			return err == nil && len(chunks) > 0 && strings.Contains(chunks[0].Content, want)
		}, 60*time.Second, 100*time.Millisecond, "the indexer picks the document up")
	}
	indexed("Al Quoz")

	// The preview uses the agent's retrieval: the new document answers the question.
	p := manager.get("/console/knowledge?question=" + url.QueryEscape("when is the showroom open?"))
	require.Equal(t, 200, p.StatusCode)
	assert.Regexp(t, `(?s)id="kb-hits">\s*<li class="chunk" data-source="console:showroom-hours.md"`, p.body, "the first hit")
	assert.Contains(t, p.body, `<span class="badge badge-ok">indexed</span>`)

	// Edit: the new text replaces the old chunks.
	doc.Set("mode", "edit")
	doc.Set("body", "# Visiting the showroom\n\nThe showroom in Al Quoz is now open every day from 10 am to 8 pm.\n")
	r = admin.post("/console/knowledge/docs", doc)
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	indexed("every day")

	// A second document with the same name is refused; bad input keeps what was typed.
	doc.Set("mode", "create")
	r = admin.post("/console/knowledge/docs", doc)
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	assert.Contains(t, r.body, "exists")
	r = admin.post("/console/knowledge/docs", url.Values{"mode": {"create"}, "name": {"../etc/passwd"}, "kind": {"markdown"}, "body": {"x"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	assert.Contains(t, r.body, "Name:")
	r = admin.post("/console/knowledge/docs", url.Values{"mode": {"create"}, "name": {"big.md"}, "kind": {"markdown"},
		"body": {strings.Repeat("a", 200_001)}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	assert.Contains(t, r.body, strings.Repeat("a", 100), "the text is kept in the form")

	// Managers read and preview; only admins write.
	assert.Equal(t, http.StatusForbidden, manager.get("/console/knowledge/new").StatusCode)
	assert.Equal(t, http.StatusForbidden, manager.get("/console/knowledge/edit/showroom-hours.md").StatusCode)
	assert.Equal(t, http.StatusForbidden, manager.post("/console/knowledge/docs", url.Values{"mode": {"create"}, "name": {"m.md"},
		"kind": {"text"}, "body": {"manager text"}}).StatusCode)
	assert.Equal(t, http.StatusForbidden, manager.post("/console/knowledge/docs/showroom-hours.md/delete", nil).StatusCode)
	assert.Equal(t, http.StatusForbidden, manager.post("/console/knowledge/reindex", nil).StatusCode)
	assert.NotContains(t, manager.get("/console/knowledge").body, `id="kb-new"`)

	// Delete: the next index removes its chunks.
	r = admin.post("/console/knowledge/docs/showroom-hours.md/delete", nil)
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	require.Eventually(t, func() bool {
		chunks, err := s.Store.KnowledgeChunks(ctx, src)
		return err == nil && len(chunks) == 0
	}, 60*time.Second, 100*time.Millisecond, "the chunks are gone")
	_, err := s.Store.KBSource(ctx, src)
	assert.ErrorIs(t, err, db.ErrNotFound)

	audit, err := s.Store.AuditLog(ctx, "knowledge.", 10, 0)
	require.NoError(t, err)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	assert.Equal(t, []string{"knowledge.delete", "knowledge.update", "knowledge.create"}, actions)
	assert.Contains(t, string(audit[1].Before), "Saturday to Thursday")
	assert.Contains(t, string(audit[1].After), "every day")
}

func TestProvidersPanelShowsTheLastErrorOfEachProvider(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	salesModel(s)
	ctx := context.Background()
	// The LLM and Wazzup each fail once; the activities retry and the reply goes out.
	s.LLM.FailNext(1, 502)
	s.Wazzup.FailNext(wazzuptest.Failure{Status: 503})
	s.Post(s.Customer("971507770011", "Hello, do you deliver to Sharjah?"))
	_, err := s.Wazzup.WaitForSent(s.Ctx(60*time.Second), 1)
	require.NoError(t, err)
	s.WaitIdle(s.Conversation("971507770011").ID, 1, 30*time.Second)

	st, err := s.Store.ProviderStatuses(ctx)
	require.NoError(t, err)
	for _, name := range []string{"llm", "messaging"} {
		p, ok := st[name]
		require.True(t, ok, name)
		require.NotNil(t, p.LastErrorAt, name)
		require.NotNil(t, p.LastOKAt, name)
		assert.False(t, p.LastOKAt.Before(*p.LastErrorAt), "%s: the retry succeeded after the error", name)
	}
	assert.Contains(t, st["llm"].LastError, "502")
	assert.Contains(t, st["messaging"].LastError, "503")

	cl := stackEnv(t, s).client().login(stackAdmin, stackAdminPass)
	r := cl.get("/console/providers")
	require.Equal(t, 200, r.StatusCode)
	row := regexp.MustCompile(`(?s)<tr data-provider="messaging">.*?</tr>`).FindString(r.body)
	assert.Contains(t, row, "wazzup")
	assert.Contains(t, row, "live")
	assert.Contains(t, row, "503")
	row = regexp.MustCompile(`(?s)<tr data-provider="llm">.*?</tr>`).FindString(r.body)
	assert.Contains(t, row, "502")
	row = regexp.MustCompile(`(?s)<tr data-provider="crm">.*?</tr>`).FindString(r.body)
	assert.Contains(t, row, "built-in local")
}
