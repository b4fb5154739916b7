// Package telegramtest is an in-repo fake of the Telegram Bot API for tests: it implements
// the methods Noor uses, records what was sent, validates what Telegram validates (token,
// HTML entities, callback_data ≤ 64 bytes), injects 429 with retry_after or other
// failures, and simulates managers pressing buttons or writing commands by POSTing
// updates to our webhook with the secret header.
package telegramtest

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

	"github.com/treejar/noor/activities/telegram"
)

// Sent is a message the bot sent, with its current buttons.
type Sent struct {
	ChatID    string
	MessageID int64
	Text      string
	ParseMode string
	Keyboard  *telegram.Keyboard
	At        time.Time
}

// Request is one call in the request log.
type Request struct {
	Method string
	Status int
	Body   string
	At     time.Time
}

// Answer is an answerCallbackQuery call.
type Answer struct {
	CallbackQueryID string
	Text            string
}

type failure struct {
	method      string
	status      int
	retryAfter  int
	description string
}

// Server is the fake Bot API.
type Server struct {
	*httptest.Server
	Token string

	mu         sync.Mutex
	nextMsgID  int64
	nextUpdate int64
	nextCB     int64
	sent       []*Sent
	requests   []Request
	answers    []Answer
	failures   []failure
	webhookURL string
	secret     string
}

// New starts a fake for token; it stops with the test.
func New(t testing.TB, token string) *Server {
	s := &Server{Token: token, nextMsgID: 100, nextUpdate: 5000}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

// RateLimitNext makes the next n calls of method ("" = any) answer 429 with retry_after.
func (s *Server) RateLimitNext(method string, n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failures = append(s.failures, failure{method: method, status: 429, retryAfter: retryAfter, description: "Too Many Requests: retry after " + fmt.Sprint(retryAfter)})
	}
}

// FailNext makes the next n calls of method ("" = any) answer status with description.
func (s *Server) FailNext(method string, n, status int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failures = append(s.failures, failure{method: method, status: status, description: description})
	}
}

// Sent returns copies of the messages sent so far, in order.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Sent, len(s.sent))
	for i, m := range s.sent {
		out[i] = *m
	}
	return out
}

// Requests returns the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Answers returns the answerCallbackQuery calls.
func (s *Server) Answers() []Answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Answer(nil), s.answers...)
}

// Webhook returns what setWebhook registered.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL, s.secret
}

// SetWebhook registers the target for simulated updates (as if setWebhook had been called).
func (s *Server) SetWebhook(url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL, s.secret = url, secret
}

// PressButton simulates a manager pressing the button with callback data on message m:
// it POSTs a callback_query update to the webhook and returns the webhook's status.
func (s *Server) PressButton(ctx context.Context, m Sent, data string, from telegram.User) (int, error) {
	s.mu.Lock()
	s.nextCB++
	cbID := fmt.Sprintf("cb-%d", s.nextCB)
	s.mu.Unlock()
	msg := &telegram.Message{MessageID: m.MessageID, Chat: telegram.Chat{ID: chatInt(m.ChatID), Type: "supergroup"}, Text: m.Text}
	return s.post(ctx, telegram.Update{CallbackQuery: &telegram.CallbackQuery{ID: cbID, From: from, Message: msg, Data: data}})
}

// WriteInChat simulates a manager writing text (e.g. "/resolve 7 note") in chatID.
func (s *Server) WriteInChat(ctx context.Context, chatID, text string, from telegram.User) (int, error) {
	s.mu.Lock()
	s.nextMsgID++
	id := s.nextMsgID
	s.mu.Unlock()
	u := from
	return s.post(ctx, telegram.Update{Message: &telegram.Message{MessageID: id, Chat: telegram.Chat{ID: chatInt(chatID), Type: "supergroup"},
		From: &u, Date: time.Now().Unix(), Text: text}})
}

// PostUpdate sends an arbitrary update with the given secret header value.
func (s *Server) PostUpdate(ctx context.Context, u telegram.Update, secret string) (int, error) {
	s.mu.Lock()
	target := s.webhookURL
	s.mu.Unlock()
	return postJSON(ctx, target, u, secret)
}

func (s *Server) post(ctx context.Context, u telegram.Update) (int, error) {
	s.mu.Lock()
	s.nextUpdate++
	u.UpdateID = s.nextUpdate
	target, secret := s.webhookURL, s.secret
	s.mu.Unlock()
	if target == "" {
		return 0, fmt.Errorf("telegramtest: no webhook registered (call SetWebhook)")
	}
	return postJSON(ctx, target, u, secret)
}

func postJSON(ctx context.Context, target string, u telegram.Update, secret string) (int, error) {
	b, _ := json.Marshal(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func chatInt(id string) int64 {
	var n int64
	_, _ = fmt.Sscan(id, &n)
	return n
}

var pathRe = regexp.MustCompile(`^/bot([^/]+)/([A-Za-z]+)$`)

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m := pathRe.FindStringSubmatch(r.URL.Path)
	method := ""
	if m != nil {
		method = m[2]
	}
	status, resp := s.dispatch(m, method, body)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: method, Status: status, Body: string(body), At: time.Now()})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

func fail(status int, desc string) (int, map[string]any) {
	return status, map[string]any{"ok": false, "error_code": status, "description": desc}
}

func (s *Server) dispatch(m []string, method string, body []byte) (int, map[string]any) {
	if m == nil {
		return fail(404, "Not Found")
	}
	if m[1] != s.Token {
		return fail(401, "Unauthorized")
	}
	s.mu.Lock()
	for i, f := range s.failures {
		if f.method == "" || f.method == method {
			s.failures = append(s.failures[:i], s.failures[i+1:]...)
			s.mu.Unlock()
			st, resp := fail(f.status, f.description)
			if f.retryAfter > 0 {
				resp["parameters"] = map[string]any{"retry_after": f.retryAfter}
			}
			return st, resp
		}
	}
	s.mu.Unlock()

	switch method {
	case "sendMessage":
		var req struct {
			ChatID      json.RawMessage    `json:"chat_id"`
			Text        string             `json:"text"`
			ParseMode   string             `json:"parse_mode"`
			ReplyMarkup *telegram.Keyboard `json:"reply_markup"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return fail(400, "Bad Request: invalid JSON")
		}
		chat := strings.Trim(string(req.ChatID), `"`)
		if chat == "" {
			return fail(400, "Bad Request: chat_id is empty")
		}
		if strings.TrimSpace(req.Text) == "" {
			return fail(400, "Bad Request: message text is empty")
		}
		if req.ParseMode == "HTML" {
			if err := checkHTML(req.Text); err != nil {
				return fail(400, "Bad Request: can't parse entities: "+err.Error())
			}
		}
		if err := checkKeyboard(req.ReplyMarkup); err != nil {
			return fail(400, err.Error())
		}
		s.mu.Lock()
		s.nextMsgID++
		msg := &Sent{ChatID: chat, MessageID: s.nextMsgID, Text: req.Text, ParseMode: req.ParseMode, Keyboard: req.ReplyMarkup, At: time.Now()}
		s.sent = append(s.sent, msg)
		s.mu.Unlock()
		return 200, map[string]any{"ok": true, "result": telegram.Message{MessageID: msg.MessageID, Chat: telegram.Chat{ID: chatInt(chat)},
			Date: msg.At.Unix(), Text: req.Text, ReplyMarkup: req.ReplyMarkup}}
	case "answerCallbackQuery":
		var req struct {
			ID   string `json:"callback_query_id"`
			Text string `json:"text"`
		}
		if json.Unmarshal(body, &req) != nil || req.ID == "" {
			return fail(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
		}
		s.mu.Lock()
		s.answers = append(s.answers, Answer{CallbackQueryID: req.ID, Text: req.Text})
		s.mu.Unlock()
		return 200, map[string]any{"ok": true, "result": true}
	case "editMessageReplyMarkup":
		var req struct {
			ChatID      json.RawMessage    `json:"chat_id"`
			MessageID   int64              `json:"message_id"`
			ReplyMarkup *telegram.Keyboard `json:"reply_markup"`
		}
		if json.Unmarshal(body, &req) != nil {
			return fail(400, "Bad Request: invalid JSON")
		}
		if err := checkKeyboard(req.ReplyMarkup); err != nil {
			return fail(400, err.Error())
		}
		chat := strings.Trim(string(req.ChatID), `"`)
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, m := range s.sent {
			if m.ChatID == chat && m.MessageID == req.MessageID {
				if sameKeyboard(m.Keyboard, req.ReplyMarkup) {
					return fail(400, "Bad Request: message is not modified")
				}
				m.Keyboard = req.ReplyMarkup
				return 200, map[string]any{"ok": true, "result": true}
			}
		}
		return fail(400, "Bad Request: message to edit not found")
	case "setWebhook":
		var req struct {
			URL    string `json:"url"`
			Secret string `json:"secret_token"`
		}
		if json.Unmarshal(body, &req) != nil || req.URL == "" {
			return fail(400, "Bad Request: bad webhook: URL is empty")
		}
		s.mu.Lock()
		s.webhookURL, s.secret = req.URL, req.Secret
		s.mu.Unlock()
		return 200, map[string]any{"ok": true, "result": true, "description": "Webhook was set"}
	}
	return fail(404, "Not Found: method not found")
}

func checkKeyboard(kb *telegram.Keyboard) error {
	if kb == nil {
		return nil
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if len(b.CallbackData) > telegram.MaxCallbackData {
				return fmt.Errorf("Bad Request: BUTTON_DATA_INVALID")
			}
		}
	}
	return nil
}

func sameKeyboard(a, b *telegram.Keyboard) bool {
	ja, _ := json.Marshal(normKB(a))
	jb, _ := json.Marshal(normKB(b))
	return bytes.Equal(ja, jb)
}

func normKB(k *telegram.Keyboard) [][]telegram.Button {
	if k == nil || len(k.InlineKeyboard) == 0 {
		return nil
	}
	return k.InlineKeyboard
}

var (
	tagRe    = regexp.MustCompile(`</?(b|strong|i|em|u|ins|s|strike|del|code|pre|tg-spoiler|blockquote)>|<a href="[^"<>]*">|</a>`)
	entityRe = regexp.MustCompile(`&(amp|lt|gt|quot|#\d+);`)
)

// checkHTML accepts what Telegram's HTML parse mode accepts: the supported tags and
// entities; a bare < or & fails as it does on Telegram ("can't parse entities").
func checkHTML(s string) error {
	rest := tagRe.ReplaceAllString(s, "")
	rest = entityRe.ReplaceAllString(rest, "")
	if i := strings.IndexAny(rest, "<>&"); i >= 0 {
		return fmt.Errorf("unsupported start tag or unescaped character at byte offset %d", i)
	}
	return nil
}
