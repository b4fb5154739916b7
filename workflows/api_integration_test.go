package workflows_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/api"
	"github.com/treejar/noor/internal/demodata"
	"github.com/treejar/noor/internal/stacktest"
)

func apiDo(t *testing.T, s *stacktest.Stack, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := newRequest(method, s.API.URL+path, body)
	require.NoError(t, err)
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The conversations API: list with filters, detail with messages, and PATCH routed through
// the workflow so its state and the database agree.
func TestConversationsAPI(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	echoReplies(s)
	s.Post(s.Customer("971500003001", "Hello, I need desks"))
	s.Post(s.Customer("971500003002", "مرحبا، أحتاج كراسي"))
	_, err := s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 2)
	require.NoError(t, err)
	en := s.Conversation("971500003001")
	s.WaitIdle(en.ID, 1, 20*time.Second)
	s.WaitIdle(s.Conversation("971500003002").ID, 1, 20*time.Second)

	list := func(q string) api.ConversationList {
		st, b := apiDo(t, s, "GET", "/api/v1/conversations/"+q, "")
		require.Equal(t, 200, st, string(b))
		var l api.ConversationList
		require.NoError(t, json.Unmarshal(b, &l))
		return l
	}
	assert.Equal(t, 2, list("").Total)
	ar := list("?language=ar")
	require.Equal(t, 1, ar.Total)
	assert.Equal(t, "971500003002", ar.Items[0].ChatID)
	assert.Equal(t, 1, list("?q=3001").Total, "search by phone digits")
	assert.Equal(t, 0, list("?q="+escape(`' OR 1=1 --`)).Total, "hostile search text matches literally")
	assert.Equal(t, 2, list("?owner=bot&status=active").Total)
	assert.Len(t, list("?limit=1").Items, 1)

	for _, bad := range []string{"?status=open", "?stage=celebration", "?language=fr", "?owner=robot", "?from=yesterday", "?limit=0", "?needs_human=maybe"} {
		st, b := apiDo(t, s, "GET", "/api/v1/conversations/"+bad, "")
		assert.Equal(t, 400, st, bad)
		var eb api.ErrorBody
		require.NoError(t, json.Unmarshal(b, &eb))
		assert.NotEmpty(t, eb.Error.Fields, bad)
	}

	st, b := apiDo(t, s, "GET", "/api/v1/conversations/"+en.ID, "")
	require.Equal(t, 200, st)
	var d api.ConversationDetail
	require.NoError(t, json.Unmarshal(b, &d))
	require.Len(t, d.Messages, 2)
	assert.Equal(t, "customer", d.Messages[0].Author)
	assert.Equal(t, "noor", d.Messages[1].Author)
	assert.Greater(t, d.Messages[1].PromptTokens, 0, "token usage recorded on the reply")
	assert.Greater(t, d.Messages[1].CostUSD, 0.0, "cost recorded on the reply")
	st, _ = apiDo(t, s, "GET", "/api/v1/conversations/00000000-0000-0000-0000-000000000000", "")
	assert.Equal(t, 404, st)
	st, _ = apiDo(t, s, "GET", "/api/v1/conversations/not-a-uuid", "")
	assert.Equal(t, 404, st)

	st, b = apiDo(t, s, "PATCH", "/api/v1/conversations/"+en.ID, `{"stage":"solution"}`)
	require.Equal(t, 200, st, string(b))
	assert.Equal(t, "solution", s.State(en.ID).Stage)
	c, err := s.Store.Conversation(context.Background(), en.ID)
	require.NoError(t, err)
	assert.Equal(t, "solution", c.Stage, "the database agrees with the workflow")
	st, _ = apiDo(t, s, "PATCH", "/api/v1/conversations/"+en.ID, `{"status":"closed"}`)
	assert.Equal(t, 200, st)
	assert.Equal(t, "closed", s.State(en.ID).Status)
	for _, bad := range []string{`{"stage":"celebration"}`, `{"status":"escalated"}`, `{}`, `{"colour":"red"}`, `{"stage":5}`} {
		st, _ := apiDo(t, s, "PATCH", "/api/v1/conversations/"+en.ID, bad)
		assert.Contains(t, []int{400, 422}, st, bad)
	}
	// A closed conversation reopens when the customer writes again.
	s.Post(s.Customer("971500003001", "One more question"))
	_, err = s.Wazzup.WaitForSent(s.Ctx(30*time.Second), 3)
	require.NoError(t, err)
	assert.Equal(t, "active", s.State(en.ID).Status)
}

func escape(s string) string {
	r := strings.NewReplacer(" ", "%20", "'", "%27", "=", "%3D")
	return r.Replace(s)
}

// The webhook's guards: the IP allowlist (not fooled by X-Forwarded-For), bad bodies
// counted in the metrics, and oversized texts truncated before storage.
func TestWebhookGuardsAndTruncation(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, NoWorker: true})
	huge, err := fs.ReadFile(demodata.FS, "wazzup/bad/huge-text.json")
	require.NoError(t, err)
	// The sample is for the demo channel; point it at the stack's channel.
	body := strings.ReplaceAll(string(huge), "4f3c6e2a-9b1d-4c8e-a7f5-2d6b8e9c1a30", s.Wazzup.ChannelID())
	st, err := s.Wazzup.PostRaw(context.Background(), s.WebhookURL, []byte(body))
	require.NoError(t, err)
	assert.Equal(t, 200, st)
	var n int
	require.NoError(t, s.Store.Pool.QueryRow(context.Background(), `SELECT max(length(text)) FROM messages`).Scan(&n))
	assert.Equal(t, 4000, n, "the 200 KB text is cut to settings.conversation.max_inbound_chars")

	st, err = s.Wazzup.PostRaw(context.Background(), s.WebhookURL, []byte(`{"messages": 42}`))
	require.NoError(t, err)
	assert.Equal(t, 200, st)
	resp, err := http.Get(s.API.URL + "/metrics")
	require.NoError(t, err)
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(m), `noor_webhook_errors_total{reason="invalid_message",source="wazzup"} 1`)
	assert.Contains(t, string(m), `noor_webhook_messages_total{result="truncated",source="wazzup"} 1`)
}

func TestWebhookIPAllowlist(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, NoWorker: true})
	cfg := s.Config
	cfg.Wazzup.AllowedIPs = []string{"10.20.0.0/16"}
	srv := newAPIWithConfig(t, s, cfg)
	req, err := http.NewRequest("POST", srv+"/api/v1/webhook/wazzup?token=hook-token", strings.NewReader(`{"test":true}`))
	require.NoError(t, err)
	req.Header.Set("X-Forwarded-For", "10.20.1.2") // a forged header must not pass
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 403, resp.StatusCode)

	cfg.Wazzup.AllowedIPs = []string{"127.0.0.1"}
	srv = newAPIWithConfig(t, s, cfg)
	resp, err = http.Post(srv+"/api/v1/webhook/wazzup?token=hook-token", "application/json", strings.NewReader(`{"test":true}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

// The simulator page's API goes through the same webhook code and workflow.
func TestSimulatorChatsThroughTheRealPath(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond})
	echoReplies(s)
	resp, err := http.Post(s.API.URL+"/simulator/api/messages", "application/json",
		strings.NewReader(`{"phone":"+971 50 123 0000","name":"Sim","text":"مرحبا"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var thread api.SimulatorThread
	require.Eventually(t, func() bool {
		resp, err := http.Get(s.API.URL + "/simulator/api/messages?phone=971501230000")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		thread = api.SimulatorThread{}
		_ = json.NewDecoder(resp.Body).Decode(&thread)
		// The language is saved right after the send: wait for both.
		return len(thread.Messages) == 2 && thread.Language == "ar"
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, "Reply to: مرحبا", thread.Messages[1].Text)
	assert.Equal(t, "ar", thread.Language)
	assert.Contains(t, thread.WorkflowURL, "/workflows/conversation-"+thread.ConversationID)
	assert.Empty(t, s.Wazzup.Sent(), "simulated chats never reach Wazzup")

	resp, err = http.Post(s.API.URL+"/simulator/api/messages", "application/json", strings.NewReader(`{"phone":"12","text":"x"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
	page, err := http.Get(s.API.URL + "/simulator")
	require.NoError(t, err)
	page.Body.Close()
	assert.Equal(t, 200, page.StatusCode)
	assert.Contains(t, page.Header.Get("Content-Security-Policy"), "script-src 'self'")
}
