// Package wazzuptest is an in-process fake of the Wazzup API v3 (the WhatsApp gateway) for
// tests. It validates sends the way the contract in spec/contracts/wazzup.md describes,
// records every request, can inject the failures seen in production (429, 5xx, timeouts, a
// disconnected channel, "sent but we saw an error"), and posts webhook envelopes to our API
// like Wazzup does. It is safe for concurrent use.
package wazzuptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	// DefaultAPIKey is the key New expects in "Authorization: Bearer <key>".
	DefaultAPIKey = "test-wazzup-key"
	// DefaultChannelID is the demo deployment's WhatsApp channel (see internal/demodata).
	DefaultChannelID = "4f3c6e2a-9b1d-4c8e-a7f5-2d6b8e9c1a30"
	// DefaultPlainID is the phone number GET /v3/channels reports for the channel.
	DefaultPlainID = "971500000000"
	// MaxCRMMessageIDLen is Wazzup's limit on crmMessageId.
	MaxCRMMessageIDLen = 240
	// MaxTextLen bounds a text message; a longer one is rejected so a client that forwards a
	// huge payload unchecked fails loudly in tests.
	MaxTextLen = 10000
	// StatusClientGone is what Requests reports when the client hung up before we answered
	// (or Close cut the request short).
	StatusClientGone = 499

	maxBody = 1 << 20
)

// Error codes the fake answers with (in the "error" field of the body).
const (
	ErrRepeatedCRMMessageID = "REPEATED_CRM_MESSAGE_ID"
	ErrChannelUnavailable   = "MESSAGE_CHANNEL_UNAVAILABLE"
	ErrChannelNotFound      = "CHANNEL_NOT_FOUND"
	ErrValidation           = "VALIDATION_ERROR"
	ErrTooManyRequests      = "TOO_MANY_REQUESTS"
	ErrUnauthorized         = "UNAUTHORIZED"
	ErrWebhookTestFailed    = "WEBHOOK_TEST_FAILED"
)

// SentMessage is one message the fake accepted on POST /v3/message.
type SentMessage struct {
	MessageID, ChannelID, ChatType, ChatID, Text, ContentURI, CRMMessageID, TemplateID string
	TemplateValues                                                                     []string
	At                                                                                 time.Time
}

// Request is one HTTP request the fake received, with the status it answered (0 while the
// request is still in flight, StatusClientGone when the client hung up first).
type Request struct {
	Method, Path string
	Body         []byte
	Status       int
}

// Failure is an injected answer for one upcoming POST /v3/message; see FailNext.
type Failure struct {
	// Status is the HTTP status to answer, e.g. 429, 500, 502, or 400 with Error. Zero means
	// "answer normally" (useful with Delay alone).
	Status int
	// Error is the error code in the JSON body, e.g. "MESSAGE_CHANNEL_UNAVAILABLE". Empty: a
	// 429 gets TOO_MANY_REQUESTS, a 5xx an HTML page like a proxy's, others a generic code.
	Error string
	// Delay holds the answer this long, or until the client gives up, to simulate a timeout.
	Delay time.Duration
	// Accept records the message as sent and then answers the failure: the provider sent it
	// but the client saw an error, so only an idempotent retry avoids a duplicate.
	Accept bool
	// RetryAfter, when set, is sent as a Retry-After header (whole seconds).
	RetryAfter time.Duration
}

// WebhookSettings is what the last successful PATCH /v3/webhooks registered.
type WebhookSettings struct {
	URI           string          `json:"webhooksUri"`
	Subscriptions map[string]bool `json:"subscriptions"`
}

// Server is a fake Wazzup API v3 served by httptest.
type Server struct {
	// URL is the API base including "/v3", e.g. http://127.0.0.1:1234/v3.
	URL string
	// APIKey is the expected bearer token; change it before the first request if needed.
	APIKey string

	srv    *httptest.Server
	client *http.Client
	held   chan SentMessage
	done   chan struct{} // closed by Close: cuts injected delays short

	mu           sync.Mutex
	sent         []SentMessage
	crmIDs       map[string]string // crmMessageId -> messageId
	requests     []Request
	failures     []Failure
	changed      chan struct{} // closed and replaced each time sent grows
	gate         chan struct{} // non-nil while Hold is active; closed by its release
	releases     []func()
	channelID    string
	channelState string
	webhook      WebhookSettings
	pingStatus   int
	listReply    bool
	closed       bool
}

// New starts a fake with DefaultAPIKey, DefaultChannelID and the channel "active".
func New() *Server {
	s := &Server{
		APIKey:       DefaultAPIKey,
		client:       &http.Client{Timeout: 30 * time.Second},
		held:         make(chan SentMessage, 64),
		done:         make(chan struct{}),
		crmIDs:       map[string]string{},
		changed:      make(chan struct{}),
		channelID:    DefaultChannelID,
		channelState: "active",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/message", s.handleSend)
	mux.HandleFunc("GET /v3/channels", s.handleChannels)
	mux.HandleFunc("PATCH /v3/webhooks", s.handlePatchWebhooks)
	mux.HandleFunc("GET /v3/webhooks", s.handleGetWebhooks)
	s.srv = httptest.NewServer(s.middleware(mux))
	s.URL = s.srv.URL + "/v3"
	return s
}

// Close releases held sends, cuts injected delays short and stops the server. It is safe
// to call twice.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	releases := s.releases
	s.releases = nil
	s.mu.Unlock()
	close(s.done)
	for _, release := range releases {
		release()
	}
	s.srv.Close()
}

// RespondWithList makes successful sends answer 200 with the list form
// [{"messageId", "chatId"}] that Wazzup has also been seen to return, instead of 201
// {"messageId"}.
func (s *Server) RespondWithList(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listReply = on
}

// ChannelID is the one channel this fake account has.
func (s *Server) ChannelID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channelID
}

// SetChannelState sets the state GET /v3/channels reports ("active", "qridle", ...). While it
// is not "active", sends fail with MESSAGE_CHANNEL_UNAVAILABLE like a disconnected session.
func (s *Server) SetChannelState(state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channelState = state
}

// Sent returns the accepted sends in the order they were recorded.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneSent(s.sent)
}

// SentTo returns the accepted sends to one chat, in order.
func (s *Server) SentTo(chatID string) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SentMessage
	for _, m := range s.sent {
		if m.ChatID == chatID {
			out = append(out, cloneMsg(m))
		}
	}
	return out
}

// WaitForSent blocks until at least n sends were accepted and returns all of them, or returns
// ctx's error together with what was sent so far.
func (s *Server) WaitForSent(ctx context.Context, n int) ([]SentMessage, error) {
	for {
		s.mu.Lock()
		if len(s.sent) >= n {
			out := cloneSent(s.sent)
			s.mu.Unlock()
			return out, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Sent(), fmt.Errorf("wait for %d sent messages: %w", n, ctx.Err())
		}
	}
}

// Requests returns every request received, in arrival order, with the status answered.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// FailNext queues failures; each upcoming POST /v3/message consumes the first one.
func (s *Server) FailNext(fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, fs...)
}

// Hold makes every valid POST /v3/message block, before it is recorded, until release is
// called (release is idempotent; Close releases too). Each held request is reported on Held.
func (s *Server) Hold() (release func()) {
	gate := make(chan struct{})
	var once sync.Once
	release = func() {
		once.Do(func() {
			s.mu.Lock()
			if s.gate == gate {
				s.gate = nil
			}
			s.mu.Unlock()
			close(gate)
		})
	}
	s.mu.Lock()
	s.gate = gate
	s.releases = append(s.releases, release)
	s.mu.Unlock()
	return release
}

// Held receives the message of each request that Hold blocked (MessageID still empty), so a
// test can wait until a send is in flight.
func (s *Server) Held() <-chan SentMessage { return s.held }

// WebhookURI is the URI registered by the last successful PATCH /v3/webhooks ("" if none).
func (s *Server) WebhookURI() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook.URI
}

// Webhook returns the registered webhook settings.
func (s *Server) Webhook() WebhookSettings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneWebhook(s.webhook)
}

// WebhookPingStatus is the status our endpoint answered to the last {"test":true} ping
// (0 if it could not be reached, or no PATCH was made).
func (s *Server) WebhookPingStatus() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pingStatus
}

// middleware records each request and checks the bearer token.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		s.mu.Lock()
		idx := len(s.requests)
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Body: body})
		s.mu.Unlock()

		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			// Every handler path answers, so no status means the answer never left.
			status := rec.status
			if status == 0 || r.Context().Err() != nil {
				status = StatusClientGone
			}
			s.mu.Lock()
			s.requests[idx].Status = status
			s.mu.Unlock()
		}()

		switch {
		case err != nil:
			writeError(rec, http.StatusBadRequest, ErrValidation, "could not read body", nil)
			return
		case len(body) > maxBody:
			writeError(rec, http.StatusRequestEntityTooLarge, ErrValidation, "body too large", nil)
			return
		}
		want := "Bearer " + s.APIKey
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			writeError(rec, http.StatusUnauthorized, ErrUnauthorized, "invalid or missing API key", nil)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(rec, r)
	})
}

type sendRequest struct {
	ChannelID      string   `json:"channelId"`
	ChatType       string   `json:"chatType"`
	ChatID         string   `json:"chatId"`
	Text           string   `json:"text"`
	ContentURI     string   `json:"contentUri"`
	CRMMessageID   string   `json:"crmMessageId"`
	TemplateID     string   `json:"templateId"`
	TemplateValues []string `json:"templateValues"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (s *Server) handleSend(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var fail *Failure
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		fail = &f
	}
	s.mu.Unlock()

	if fail != nil && !fail.Accept {
		if !s.wait(r.Context(), fail.Delay) {
			return // the client gave up: nothing was sent
		}
		if fail.Status != 0 {
			writeFailure(w, *fail)
			return
		}
	}

	var req sendRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, ErrValidation, "Request body is invalid: "+err.Error(), nil)
		return
	}
	if errs := validateSend(req); len(errs) > 0 {
		writeError(w, http.StatusBadRequest, ErrValidation, "Request body is invalid", errs)
		return
	}
	s.mu.Lock()
	channelID, state := s.channelID, s.channelState
	s.mu.Unlock()
	if req.ChannelID != channelID {
		writeError(w, http.StatusBadRequest, ErrChannelNotFound, "Channel not found",
			map[string]string{"channelId": req.ChannelID})
		return
	}
	if state != "active" {
		writeError(w, http.StatusBadRequest, ErrChannelUnavailable,
			"Channel is not available: the WhatsApp session is not active",
			map[string]string{"channelId": req.ChannelID})
		return
	}

	msg := SentMessage{
		ChannelID: req.ChannelID, ChatType: req.ChatType, ChatID: req.ChatID, Text: req.Text,
		ContentURI: req.ContentURI, CRMMessageID: req.CRMMessageID, TemplateID: req.TemplateID,
		TemplateValues: req.TemplateValues,
	}
	s.waitGate(msg)

	s.mu.Lock()
	if prev, dup := s.crmIDs[req.CRMMessageID]; dup && req.CRMMessageID != "" {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, ErrRepeatedCRMMessageID,
			"A message with this crmMessageId has already been sent",
			map[string]string{"crmMessageId": req.CRMMessageID, "messageId": prev})
		return
	}
	msg.MessageID = newUUID()
	msg.At = time.Now().UTC()
	if req.CRMMessageID != "" {
		s.crmIDs[req.CRMMessageID] = msg.MessageID
	}
	s.sent = append(s.sent, msg)
	close(s.changed)
	s.changed = make(chan struct{})
	list := s.listReply
	s.mu.Unlock()

	if fail != nil && fail.Accept {
		s.wait(r.Context(), fail.Delay)
		if fail.Status != 0 {
			writeFailure(w, *fail)
			return
		}
	}
	if list {
		writeJSON(w, http.StatusOK, []map[string]string{{"messageId": msg.MessageID, "chatId": msg.ChatID}})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"messageId": msg.MessageID})
}

// waitGate blocks while Hold is active. It does not give up when the client does: the
// provider already has the request, which is exactly the case Hold exists to test.
func (s *Server) waitGate(msg SentMessage) {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate == nil {
		return
	}
	select {
	case s.held <- cloneMsg(msg):
	case <-gate:
	}
	<-gate
}

func validateSend(req sendRequest) []fieldError {
	var errs []fieldError
	add := func(field, msg string) { errs = append(errs, fieldError{field, msg}) }
	if req.ChannelID == "" {
		add("channelId", "channelId is required")
	}
	switch req.ChatType {
	case "":
		add("chatType", "chatType is required")
	case "whatsapp":
	default:
		add("chatType", "chatType must match the channel transport (whatsapp)")
	}
	if req.ChatID == "" {
		add("chatId", "chatId is required")
	} else if strings.Trim(req.ChatID, "0123456789") != "" {
		add("chatId", "chatId must be digits only, without +")
	}
	kinds := 0
	for _, v := range []string{req.Text, req.ContentURI, req.TemplateID} {
		if v != "" {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		add("text", "one of text, contentUri or templateId is required")
	case req.Text != "" && req.ContentURI != "":
		add("contentUri", "text and contentUri cannot be combined")
	case kinds > 1:
		add("templateId", "templateId cannot be combined with text or contentUri")
	}
	if utf8.RuneCountInString(req.Text) > MaxTextLen {
		add("text", fmt.Sprintf("text is longer than %d characters", MaxTextLen))
	}
	if req.ContentURI != "" {
		if u, err := url.Parse(req.ContentURI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("contentUri", "contentUri must be a public http(s) URL")
		}
	}
	if len(req.CRMMessageID) > MaxCRMMessageIDLen {
		add("crmMessageId", fmt.Sprintf("crmMessageId is longer than %d characters", MaxCRMMessageIDLen))
	}
	return errs
}

func (s *Server) handleChannels(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	ch := map[string]string{
		"channelId": s.channelID, "transport": "whatsapp", "plainId": DefaultPlainID, "state": s.channelState,
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, []map[string]string{ch})
}

func (s *Server) handleGetWebhooks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Webhook())
}

// handlePatchWebhooks registers the URI only after it answered the {"test":true} ping with
// 200, as Wazzup does.
func (s *Server) handlePatchWebhooks(w http.ResponseWriter, r *http.Request) {
	var req WebhookSettings
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, ErrValidation, "Request body is invalid: "+err.Error(), nil)
		return
	}
	u, err := url.Parse(req.URI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		writeError(w, http.StatusBadRequest, ErrValidation, "Request body is invalid",
			[]fieldError{{"webhooksUri", "webhooksUri must be an absolute http(s) URL"}})
		return
	}
	status, _ := s.post(r.Context(), req.URI, []byte(`{"test":true}`))
	s.mu.Lock()
	s.pingStatus = status
	if status == http.StatusOK {
		s.webhook = cloneWebhook(req)
	}
	s.mu.Unlock()
	if status != http.StatusOK {
		writeError(w, http.StatusBadRequest, ErrWebhookTestFailed,
			fmt.Sprintf("the test request to webhooksUri answered %d, want 200", status), nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func writeFailure(w http.ResponseWriter, f Failure) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	switch {
	case f.Error != "":
		writeError(w, f.Status, f.Error, "injected failure", nil)
	case f.Status == http.StatusTooManyRequests:
		writeError(w, f.Status, ErrTooManyRequests, "Rate limit exceeded, retry later", nil)
	case f.Status >= 500:
		// Gateways in front of Wazzup answer 5xx with HTML, not JSON.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", f.Status, http.StatusText(f.Status))
	default:
		code := strings.ToUpper(strings.ReplaceAll(http.StatusText(f.Status), " ", "_"))
		writeError(w, f.Status, code, "injected failure", nil)
	}
}

func writeError(w http.ResponseWriter, status int, code, description string, data any) {
	body := map[string]any{"error": code, "description": description}
	if data != nil {
		body["data"] = data
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// wait sleeps for d unless the client gives up or the server closes first; it reports
// whether the full delay passed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		// Drop the connection without an answer, like a provider going away.
		panic(http.ErrAbortHandler)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func cloneMsg(m SentMessage) SentMessage {
	if m.TemplateValues != nil {
		m.TemplateValues = append([]string(nil), m.TemplateValues...)
	}
	return m
}

func cloneSent(ms []SentMessage) []SentMessage {
	out := make([]SentMessage, len(ms))
	for i, m := range ms {
		out[i] = cloneMsg(m)
	}
	return out
}

func cloneWebhook(w WebhookSettings) WebhookSettings {
	if w.Subscriptions != nil {
		subs := make(map[string]bool, len(w.Subscriptions))
		for k, v := range w.Subscriptions {
			subs[k] = v
		}
		w.Subscriptions = subs
	}
	return w
}
