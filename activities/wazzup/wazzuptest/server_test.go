package wazzuptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

type response struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

func do(t *testing.T, ctx context.Context, method, url, key string, body any) (response, error) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.JSON)
	return out, nil
}

func send(t *testing.T, s *Server, body any) response {
	t.Helper()
	resp, err := do(t, context.Background(), http.MethodPost, s.URL+"/message", s.APIKey, body)
	require.NoError(t, err)
	return resp
}

func text(s *Server, chatID, txt, crmID string) map[string]any {
	return map[string]any{
		"channelId": s.ChannelID(), "chatType": "whatsapp", "chatId": chatID, "text": txt, "crmMessageId": crmID,
	}
}

func statuses(rs []Request) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Status
	}
	return out
}

func TestNewDefaults(t *testing.T) {
	s := New()
	defer s.Close()
	assert.True(t, strings.HasSuffix(s.URL, "/v3"), s.URL)
	assert.Equal(t, "test-wazzup-key", s.APIKey)
	assert.Equal(t, "4f3c6e2a-9b1d-4c8e-a7f5-2d6b8e9c1a30", s.ChannelID())
}

func TestAuthRequired(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()

	for _, key := range []string{"", "wrong-key"} {
		resp, err := do(t, ctx, http.MethodPost, s.URL+"/message", key, text(s, "971526667788", "hi", ""))
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, resp.Status)
		assert.Equal(t, ErrUnauthorized, resp.JSON["error"])
	}
	resp, err := do(t, ctx, http.MethodGet, s.URL+"/channels", "", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.Status)
	assert.Empty(t, s.Sent())

	s.APIKey = "rotated"
	resp, err = do(t, ctx, http.MethodPost, s.URL+"/message", "test-wazzup-key", text(s, "971526667788", "hi", ""))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.Status)
	resp = send(t, s, text(s, "971526667788", "hi", ""))
	assert.Equal(t, http.StatusCreated, resp.Status)

	assert.Equal(t, []int{401, 401, 401, 401, 201}, statuses(s.Requests()))
}

func TestSendTextIsRecorded(t *testing.T) {
	s := New()
	defer s.Close()
	before := time.Now().UTC()

	r1 := send(t, s, text(s, "971526667788", "Hello Lina", "bot:1"))
	r2 := send(t, s, map[string]any{
		"channelId": s.ChannelID(), "chatType": "whatsapp", "chatId": "971509876543",
		"contentUri": "https://files.example-noor.ae/q.pdf", "crmMessageId": "quotation:1:pdf",
	})
	r3 := send(t, s, text(s, "971526667788", "Second", "bot:2"))
	for _, r := range []response{r1, r2, r3} {
		require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
		assert.Regexp(t, uuidRe, r.JSON["messageId"])
	}
	assert.NotEqual(t, r1.JSON["messageId"], r3.JSON["messageId"])

	sent := s.Sent()
	require.Len(t, sent, 3)
	assert.Equal(t, r1.JSON["messageId"], sent[0].MessageID)
	assert.Equal(t, "Hello Lina", sent[0].Text)
	assert.Equal(t, "bot:1", sent[0].CRMMessageID)
	assert.Equal(t, "whatsapp", sent[0].ChatType)
	assert.Equal(t, s.ChannelID(), sent[0].ChannelID)
	assert.False(t, sent[0].At.Before(before))
	assert.Equal(t, "https://files.example-noor.ae/q.pdf", sent[1].ContentURI)
	assert.Empty(t, sent[1].Text)

	lina := s.SentTo("971526667788")
	require.Len(t, lina, 2)
	assert.Equal(t, []string{"Hello Lina", "Second"}, []string{lina[0].Text, lina[1].Text})
	assert.Empty(t, s.SentTo("971000000000"))

	reqs := s.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "/v3/message", reqs[0].Path)
	assert.Contains(t, string(reqs[0].Body), `"Hello Lina"`)
}

func TestSendTemplate(t *testing.T) {
	s := New()
	defer s.Close()
	resp := send(t, s, map[string]any{
		"channelId": s.ChannelID(), "chatType": "whatsapp", "chatId": "971526667788",
		"templateId": "tpl-followup", "templateValues": []string{"Lina", "CH 145"}, "crmMessageId": "fu:1",
	})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Raw))
	sent := s.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, "tpl-followup", sent[0].TemplateID)
	assert.Equal(t, []string{"Lina", "CH 145"}, sent[0].TemplateValues)
}

func TestSendValidation(t *testing.T) {
	s := New()
	defer s.Close()
	ch := s.ChannelID()
	cases := []struct {
		name  string
		body  any
		code  string
		field string
	}{
		{"missing channelId", map[string]any{"chatType": "whatsapp", "chatId": "971526667788", "text": "x"}, ErrValidation, "channelId"},
		{"missing chatId", map[string]any{"channelId": ch, "chatType": "whatsapp", "text": "x"}, ErrValidation, "chatId"},
		{"chatId with plus", map[string]any{"channelId": ch, "chatType": "whatsapp", "chatId": "+971526667788", "text": "x"}, ErrValidation, "chatId"},
		{"missing chatType", map[string]any{"channelId": ch, "chatId": "971526667788", "text": "x"}, ErrValidation, "chatType"},
		{"no content", map[string]any{"channelId": ch, "chatType": "whatsapp", "chatId": "971526667788"}, ErrValidation, "text"},
		{"text and contentUri", map[string]any{"channelId": ch, "chatType": "whatsapp", "chatId": "971526667788", "text": "caption", "contentUri": "https://x.ae/a.jpg"}, ErrValidation, "contentUri"},
		{"template and text", map[string]any{"channelId": ch, "chatType": "whatsapp", "chatId": "971526667788", "text": "x", "templateId": "t"}, ErrValidation, "templateId"},
		{"base64 contentUri", map[string]any{"channelId": ch, "chatType": "whatsapp", "chatId": "971526667788", "contentUri": "data:application/pdf;base64,AAAA"}, ErrValidation, "contentUri"},
		{"crmMessageId too long", text(s, "971526667788", "x", strings.Repeat("a", 241)), ErrValidation, "crmMessageId"},
		{"text too long", text(s, "971526667788", strings.Repeat("a", MaxTextLen+1), ""), ErrValidation, "text"},
		{"not json", `{"channelId":`, ErrValidation, ""},
		{"wrong types", `{"channelId": 5, "chatId": 971526667788}`, ErrValidation, ""},
		{"other channel", map[string]any{"channelId": "a1d2c3b4-5e6f-4a7b-9c8d-7e6f5a4b3c2d", "chatType": "whatsapp", "chatId": "971526667788", "text": "x"}, ErrChannelNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := send(t, s, tc.body)
			assert.Equal(t, http.StatusBadRequest, resp.Status)
			assert.Equal(t, tc.code, resp.JSON["error"], string(resp.Raw))
			if tc.field != "" {
				assert.Contains(t, string(resp.Raw), `"field":"`+tc.field+`"`)
			}
		})
	}
	assert.Empty(t, s.Sent(), "rejected sends must not be recorded")

	// The limits themselves are allowed.
	resp := send(t, s, text(s, "971526667788", strings.Repeat("b", MaxTextLen), strings.Repeat("a", 240)))
	assert.Equal(t, http.StatusCreated, resp.Status, string(resp.Raw))
}

func TestRepeatedCRMMessageID(t *testing.T) {
	s := New()
	defer s.Close()
	first := send(t, s, text(s, "971526667788", "Hello", "bot:turn-1"))
	require.Equal(t, http.StatusCreated, first.Status)

	dup := send(t, s, text(s, "971526667788", "Hello again", "bot:turn-1"))
	assert.Equal(t, http.StatusBadRequest, dup.Status)
	assert.Equal(t, ErrRepeatedCRMMessageID, dup.JSON["error"])
	assert.Equal(t, "bot:turn-1", dup.JSON["data"].(map[string]any)["crmMessageId"])

	// Without crmMessageId there is no idempotency: both are sent.
	send(t, s, text(s, "971526667788", "a", ""))
	send(t, s, text(s, "971526667788", "a", ""))

	sent := s.Sent()
	require.Len(t, sent, 3)
	assert.Equal(t, "Hello", sent[0].Text)
}

func TestFailNextInOrder(t *testing.T) {
	s := New()
	defer s.Close()
	s.FailNext(
		Failure{Status: 429, RetryAfter: 2 * time.Second},
		Failure{Status: 502},
		Failure{Status: 400, Error: ErrChannelUnavailable},
	)
	body := text(s, "971526667788", "Hello", "bot:1")

	r := send(t, s, body)
	assert.Equal(t, 429, r.Status)
	assert.Equal(t, ErrTooManyRequests, r.JSON["error"])
	assert.Equal(t, "2", r.Header.Get("Retry-After"))

	r = send(t, s, body)
	assert.Equal(t, 502, r.Status)
	assert.Contains(t, r.Header.Get("Content-Type"), "text/html")
	assert.Nil(t, r.JSON, "a gateway 5xx is not JSON")

	r = send(t, s, body)
	assert.Equal(t, 400, r.Status)
	assert.Equal(t, ErrChannelUnavailable, r.JSON["error"])
	assert.Empty(t, s.Sent(), "failed sends are not recorded")

	r = send(t, s, body)
	assert.Equal(t, http.StatusCreated, r.Status)
	require.Len(t, s.Sent(), 1)
	assert.Equal(t, []int{429, 502, 400, 201}, statuses(s.Requests()))
}

func TestFailureAcceptRecordsThenFails(t *testing.T) {
	s := New()
	defer s.Close()
	s.FailNext(Failure{Status: 500, Accept: true})
	body := text(s, "971526667788", "Hello", "bot:1")

	r := send(t, s, body)
	assert.Equal(t, 500, r.Status)
	require.Len(t, s.Sent(), 1, "the provider sent it although the client saw a 500")

	// The client's idempotent retry learns it was already sent.
	r = send(t, s, body)
	assert.Equal(t, 400, r.Status)
	assert.Equal(t, ErrRepeatedCRMMessageID, r.JSON["error"])
	assert.Len(t, s.Sent(), 1)
}

func TestFailureDelaySimulatesTimeout(t *testing.T) {
	s := New()
	defer s.Close()
	s.FailNext(
		Failure{Delay: time.Hour},               // client times out, nothing sent
		Failure{Delay: time.Hour, Accept: true}, // client times out, but it was sent
	)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := do(t, ctx, http.MethodPost, s.URL+"/message", s.APIKey, text(s, "971526667788", "one", "bot:1"))
	cancel()
	require.Error(t, err)
	require.Eventually(t, func() bool {
		rs := s.Requests()
		return len(rs) == 1 && rs[0].Status == StatusClientGone
	}, 5*time.Second, 10*time.Millisecond)
	assert.Empty(t, s.Sent())

	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err = do(t, ctx, http.MethodPost, s.URL+"/message", s.APIKey, text(s, "971526667788", "two", "bot:2"))
	cancel()
	require.Error(t, err)
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	sent, err := s.WaitForSent(wctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "two", sent[0].Text)

	// Failures are used up: the next send is answered at once.
	r := send(t, s, text(s, "971526667788", "three", "bot:3"))
	assert.Equal(t, http.StatusCreated, r.Status)
	// A short delay without a status is just a slow success.
	s.FailNext(Failure{Delay: 20 * time.Millisecond})
	r = send(t, s, text(s, "971526667788", "four", "bot:4"))
	assert.Equal(t, http.StatusCreated, r.Status)
	assert.Len(t, s.Sent(), 3)
}

// waitHeld waits until a send is held, with an upper bound so a broken Hold fails the test.
func waitHeld(t *testing.T, s *Server) SentMessage {
	t.Helper()
	select {
	case m := <-s.Held():
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no request was held")
		return SentMessage{}
	}
}

func TestHoldBlocksUntilRelease(t *testing.T) {
	s := New()
	defer s.Close()
	release := s.Hold()

	done := make(chan response, 1)
	go func() {
		resp, err := do(t, context.Background(), http.MethodPost, s.URL+"/message", s.APIKey, text(s, "971526667788", "held", "bot:1"))
		if err == nil {
			done <- resp
		}
		close(done)
	}()

	m := waitHeld(t, s)
	assert.Equal(t, "held", m.Text)
	assert.Empty(t, m.MessageID, "not recorded yet")
	assert.Empty(t, s.Sent(), "a held send is not recorded")
	select {
	case <-done:
		t.Fatal("held request answered before release")
	default:
	}

	release()
	release() // idempotent
	resp := <-done
	assert.Equal(t, http.StatusCreated, resp.Status)
	sent, err := s.WaitForSent(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, resp.JSON["messageId"], sent[0].MessageID)

	// After release sends go straight through.
	assert.Equal(t, http.StatusCreated, send(t, s, text(s, "971526667788", "free", "bot:2")).Status)
}

// The worker is killed while its send is held: the provider still sends it, and the retry by
// the next worker with the same crmMessageId is told it was already sent.
func TestHoldClientGoneStillSends(t *testing.T) {
	s := New()
	defer s.Close()
	release := s.Hold()

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := do(t, ctx, http.MethodPost, s.URL+"/message", s.APIKey, text(s, "971526667788", "held", "bot:1"))
		errc <- err
	}()
	waitHeld(t, s)
	cancel()
	require.Error(t, <-errc)
	release()

	sent, err := s.WaitForSent(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, "held", sent[0].Text)
	r := send(t, s, text(s, "971526667788", "held", "bot:1"))
	assert.Equal(t, ErrRepeatedCRMMessageID, r.JSON["error"])
	assert.Len(t, s.Sent(), 1)
}

func TestCloseReleasesHeldRequests(t *testing.T) {
	s := New()
	s.Hold()
	errc := make(chan error, 1)
	go func() {
		_, err := do(t, context.Background(), http.MethodPost, s.URL+"/message", s.APIKey, text(s, "971526667788", "held", "bot:1"))
		errc <- err
	}()
	waitHeld(t, s)
	s.Close() // must not hang on the held handler
	s.Close()
	<-errc
}

func TestWaitForSent(t *testing.T) {
	s := New()
	defer s.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := s.WaitForSent(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, got)

	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := do(t, context.Background(), http.MethodPost, s.URL+"/message", s.APIKey,
				text(s, "971526667788", "m", fmt.Sprintf("bot:%d", i)))
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusCreated, resp.Status)
			}
		}()
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	got, err = s.WaitForSent(wctx, n)
	require.NoError(t, err)
	assert.Len(t, got, n)
	wg.Wait()
}

func TestChannelState(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()

	channels := func() []map[string]any {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/channels", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+s.APIKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var out []map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	assert.Equal(t, []map[string]any{{
		"channelId": s.ChannelID(), "transport": "whatsapp", "plainId": "971500000000", "state": "active",
	}}, channels())

	s.SetChannelState("qridle")
	assert.Equal(t, "qridle", channels()[0]["state"])
	r := send(t, s, text(s, "971526667788", "hi", "bot:1"))
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, ErrChannelUnavailable, r.JSON["error"])
	assert.Empty(t, s.Sent())

	s.SetChannelState("active")
	r = send(t, s, text(s, "971526667788", "hi", "bot:1"))
	assert.Equal(t, http.StatusCreated, r.Status, "a rejected crmMessageId can be sent once the line is back")
}

// ourWebhook is a stand-in for our API's webhook endpoint.
type ourWebhook struct {
	*httptest.Server
	status int
	mu     sync.Mutex
	bodies [][]byte
}

func newOurWebhook(t *testing.T, status int) *ourWebhook {
	h := &ourWebhook{status: status}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
		w.WriteHeader(h.status)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *ourWebhook) received() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

func TestWebhookRegistrationPings(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	ok := newOurWebhook(t, http.StatusOK)
	uri := ok.URL + "/api/v1/webhook/wazzup?token=secret"

	resp, err := do(t, ctx, http.MethodPatch, s.URL+"/webhooks", s.APIKey, map[string]any{
		"webhooksUri": uri, "subscriptions": map[string]bool{"messagesAndStatuses": true, "channelsUpdates": true},
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.Status, string(resp.Raw))
	require.Len(t, ok.received(), 1)
	assert.JSONEq(t, `{"test":true}`, string(ok.received()[0]))
	assert.Equal(t, uri, s.WebhookURI())
	assert.Equal(t, http.StatusOK, s.WebhookPingStatus())
	assert.Equal(t, map[string]bool{"messagesAndStatuses": true, "channelsUpdates": true}, s.Webhook().Subscriptions)

	got, err := do(t, ctx, http.MethodGet, s.URL+"/webhooks", s.APIKey, nil)
	require.NoError(t, err)
	assert.Equal(t, uri, got.JSON["webhooksUri"])

	// An endpoint that does not answer 200 is not registered.
	bad := newOurWebhook(t, http.StatusInternalServerError)
	resp, err = do(t, ctx, http.MethodPatch, s.URL+"/webhooks", s.APIKey, map[string]any{"webhooksUri": bad.URL})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.Status)
	assert.Equal(t, ErrWebhookTestFailed, resp.JSON["error"])
	assert.Len(t, bad.received(), 1)
	assert.Equal(t, http.StatusInternalServerError, s.WebhookPingStatus())
	assert.Equal(t, uri, s.WebhookURI(), "the old registration stays")

	resp, err = do(t, ctx, http.MethodPatch, s.URL+"/webhooks", s.APIKey, map[string]any{"webhooksUri": "not a url"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.Status)
	assert.Equal(t, ErrValidation, resp.JSON["error"])
}

func TestPostMessages(t *testing.T) {
	s := New()
	defer s.Close()
	hook := newOurWebhook(t, http.StatusOK)
	at := time.Date(2026, 9, 14, 6, 2, 11, 0, time.UTC)

	status, err := s.PostMessages(context.Background(), hook.URL,
		Inbound{MessageID: "m-1", ChatID: "971552000111", Text: "Hi", At: at, ContactName: "Karim"},
		Inbound{ChatID: "971526667788", Text: "I'll take over", AuthorType: "manager", AuthorName: "Israullah", AuthorID: "a-1", IsEcho: true, At: at},
		Inbound{ChatID: "971509876543", Type: "audio", ContentURI: "https://cdn.example/v.ogg", At: at},
		Inbound{ChatID: "971507778899", ContentURI: "https://cdn.example/plan.pdf", At: at, ChannelID: "other"},
	)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	require.Len(t, hook.received(), 1)

	var env struct {
		Messages []map[string]any `json:"messages"`
	}
	require.NoError(t, json.Unmarshal(hook.received()[0], &env))
	require.Len(t, env.Messages, 4)

	customer := env.Messages[0]
	assert.Equal(t, map[string]any{
		"messageId": "m-1", "channelId": s.ChannelID(), "chatType": "whatsapp", "chatId": "971552000111",
		"dateTime": "2026-09-14T06:02:11.000", "type": "text", "isEcho": false, "status": "inbound",
		"text": "Hi", "contact": map[string]any{"name": "Karim"},
	}, customer, "authorType is absent for customers")

	manager := env.Messages[1]
	assert.Equal(t, "manager", manager["authorType"])
	assert.Equal(t, "Israullah", manager["authorName"])
	assert.Equal(t, "a-1", manager["authorId"])
	assert.Equal(t, true, manager["isEcho"])
	assert.Equal(t, "sent", manager["status"])
	assert.Regexp(t, uuidRe, manager["messageId"])

	voice := env.Messages[2]
	assert.Equal(t, "audio", voice["type"])
	assert.Equal(t, "https://cdn.example/v.ogg", voice["contentUri"])
	assert.NotContains(t, voice, "text")

	doc := env.Messages[3]
	assert.Equal(t, "document", doc["type"])
	assert.Equal(t, "other", doc["channelId"])

	// The status our endpoint answers is passed back.
	failing := newOurWebhook(t, http.StatusServiceUnavailable)
	status, err = s.PostMessages(context.Background(), failing.URL, Inbound{ChatID: "971552000111", Text: "Hi"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, status)

	_, err = s.PostMessages(context.Background(), "http://127.0.0.1:1/nowhere", Inbound{ChatID: "1", Text: "x"})
	assert.Error(t, err)
}

func TestPostStatusesAndEcho(t *testing.T) {
	s := New()
	defer s.Close()
	hook := newOurWebhook(t, http.StatusOK)

	r := send(t, s, text(s, "971526667788", "Hello Lina", "bot:1"))
	require.Equal(t, http.StatusCreated, r.Status)
	msg := s.Sent()[0]
	at := time.Date(2026, 9, 14, 6, 10, 21, 0, time.UTC)

	status, err := s.PostStatuses(context.Background(), hook.URL,
		Status{MessageID: msg.MessageID, Status: "delivered", At: at},
		Status{MessageID: "f1", Status: "error", At: at, Error: map[string]any{"error": "24_HOURS_EXCEEDED"}},
	)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"statuses":[
		{"messageId":"`+msg.MessageID+`","status":"delivered","timestamp":"2026-09-14T06:10:21.000Z"},
		{"messageId":"f1","status":"error","timestamp":"2026-09-14T06:10:21.000Z","error":{"error":"24_HOURS_EXCEEDED"}}
	]}`, string(hook.received()[0]))

	echo := s.EchoOf(msg)
	assert.Equal(t, Inbound{
		MessageID: msg.MessageID, ChatID: "971526667788", Text: "Hello Lina", AuthorType: "bot",
		IsEcho: true, At: msg.At, ChannelID: s.ChannelID(),
	}, echo)
	status, err = s.PostMessages(context.Background(), hook.URL, echo)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(hook.received()[1]), `"authorType":"bot"`)

	status, err = s.PostRaw(context.Background(), hook.URL, []byte(`{"test":true}`))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, `{"test":true}`, string(hook.received()[2]))
}

func TestUnknownEndpoint(t *testing.T) {
	s := New()
	defer s.Close()
	resp, err := do(t, context.Background(), http.MethodGet, s.URL+"/contacts", s.APIKey, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, resp.Status)
	resp, err = do(t, context.Background(), http.MethodGet, s.URL+"/message", s.APIKey, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.Status)
	assert.Equal(t, []int{404, 405}, statuses(s.Requests()))
}

func TestRespondWithList(t *testing.T) {
	s := New()
	defer s.Close()
	s.RespondWithList(true)
	r := send(t, s, text(s, "971526667788", "Hello", "bot:1"))
	assert.Equal(t, http.StatusOK, r.Status)
	var list []map[string]string
	require.NoError(t, json.Unmarshal(r.Raw, &list))
	require.Len(t, list, 1)
	assert.Equal(t, s.Sent()[0].MessageID, list[0]["messageId"])
	assert.Equal(t, "971526667788", list[0]["chatId"])

	s.RespondWithList(false)
	assert.Equal(t, http.StatusCreated, send(t, s, text(s, "971526667788", "Hello", "bot:2")).Status)
}

// Close must not wait out an injected delay: the request is dropped like a dying provider.
func TestCloseCutsDelays(t *testing.T) {
	s := New()
	s.FailNext(Failure{Delay: time.Hour})
	errc := make(chan error, 1)
	go func() {
		_, err := do(t, context.Background(), http.MethodPost, s.URL+"/message", s.APIKey, text(s, "971526667788", "x", "bot:1"))
		errc <- err
	}()
	require.Eventually(t, func() bool { return len(s.Requests()) == 1 }, 5*time.Second, 5*time.Millisecond)

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the injected delay")
	}
	assert.Error(t, <-errc, "the client sees a dropped connection, not an answer")
	assert.Equal(t, []int{StatusClientGone}, statuses(s.Requests()))
	assert.Empty(t, s.Sent())
}
