// Package telegram is a small client for the Telegram Bot API methods Noor uses to alert
// managers: sendMessage (HTML, inline buttons), answerCallbackQuery,
// editMessageReplyMarkup and setWebhook. See docs/contracts/telegram.md.
//
// Every call has a timeout; 429 answers are retried after the server's retry_after
// (bounded), 5xx and network errors a bounded number of times. The bot token is part of
// the URL, so errors never include the URL.
package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxCallbackData is Telegram's limit for an inline button's callback_data, in bytes.
const MaxCallbackData = 64

// MaxText is Telegram's limit for a message text, in characters.
const MaxText = 4096

// Client calls {BaseURL}/bot{Token}/{method}.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
	// MaxRetries bounds retries after 429/5xx/network errors (default 3).
	MaxRetries int
	// MaxRetryAfter: a 429 asking to wait longer than this is returned as an error
	// (the activity's retry policy takes over) instead of blocking (default 30s).
	MaxRetryAfter time.Duration
	// Backoff before retrying a 5xx or network error, doubled each time (default 500ms).
	Backoff time.Duration
}

// New returns a client with a 15 s per-request timeout.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 15 * time.Second}}
}

// Button is an inline keyboard button: a callback button (CallbackData) or a link (URL).
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// Keyboard is an inline keyboard: rows of buttons.
type Keyboard struct {
	InlineKeyboard [][]Button `json:"inline_keyboard"`
}

// Chat, User and Message are the parts of Telegram objects we read.
type Chat struct {
	ID    int64  `json:"id"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

type User struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

// Name is how we record a Telegram user as a manager: "@username" or the first/last name.
func (u User) Name() string {
	if u.Username != "" {
		return "@" + u.Username
	}
	n := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if n == "" {
		return fmt.Sprintf("telegram:%d", u.ID)
	}
	return n
}

type Message struct {
	MessageID   int64     `json:"message_id"`
	Chat        Chat      `json:"chat"`
	From        *User     `json:"from,omitempty"`
	Date        int64     `json:"date,omitempty"`
	Text        string    `json:"text,omitempty"`
	ReplyMarkup *Keyboard `json:"reply_markup,omitempty"`
}

// CallbackQuery is a button press.
type CallbackQuery struct {
	ID      string   `json:"id"`
	From    User     `json:"from"`
	Message *Message `json:"message,omitempty"`
	Data    string   `json:"data,omitempty"`
}

// Update is what Telegram POSTs to our webhook.
type Update struct {
	UpdateID      int64          `json:"update_id"`
	Message       *Message       `json:"message,omitempty"`
	CallbackQuery *CallbackQuery `json:"callback_query,omitempty"`
}

// APIError is an answer with ok=false (or a non-2xx status).
type APIError struct {
	Method      string
	Code        int
	Description string
	RetryAfter  int // seconds, on 429
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("telegram %s: %d %s", e.Method, e.Code, e.Description)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %ds)", e.RetryAfter)
	}
	return s
}

// Retryable reports whether another attempt may succeed: rate limits and server errors.
func (e *APIError) Retryable() bool { return e.Code == http.StatusTooManyRequests || e.Code >= 500 }

// NotModified is Telegram's answer when an edit changes nothing; callers treat it as done.
func (e *APIError) NotModified() bool {
	return e.Code == http.StatusBadRequest && strings.Contains(e.Description, "message is not modified")
}

// ErrInvalid is returned, without calling Telegram, for requests Telegram would reject.
var ErrInvalid = errors.New("telegram: invalid request")

// SendMessageRequest is sendMessage's body.
type SendMessageRequest struct {
	ChatID      string    `json:"chat_id"`
	Text        string    `json:"text"`
	ParseMode   string    `json:"parse_mode,omitempty"`
	ReplyMarkup *Keyboard `json:"reply_markup,omitempty"`
	// LinkPreview is off for alerts: the console link would otherwise expand.
	LinkPreviewOptions *struct {
		IsDisabled bool `json:"is_disabled"`
	} `json:"link_preview_options,omitempty"`
}

// SendMessage sends a message (parse_mode HTML when the caller set it; escape with
// EscapeHTML). The returned Message carries the id needed to edit its buttons later.
func (c *Client) SendMessage(ctx context.Context, req SendMessageRequest) (Message, error) {
	if err := validateKeyboard(req.ReplyMarkup); err != nil {
		return Message{}, err
	}
	if req.ChatID == "" || strings.TrimSpace(req.Text) == "" {
		return Message{}, fmt.Errorf("%w: chat_id and text are required", ErrInvalid)
	}
	if n := len([]rune(req.Text)); n > MaxText {
		return Message{}, fmt.Errorf("%w: text has %d characters, the limit is %d", ErrInvalid, n, MaxText)
	}
	if req.LinkPreviewOptions == nil {
		req.LinkPreviewOptions = &struct {
			IsDisabled bool `json:"is_disabled"`
		}{IsDisabled: true}
	}
	var m Message
	err := c.call(ctx, "sendMessage", req, &m)
	return m, err
}

// AnswerCallbackQuery stops the button's spinner and shows text to the manager who pressed it.
func (c *Client) AnswerCallbackQuery(ctx context.Context, callbackQueryID, text string) error {
	body := map[string]any{"callback_query_id": callbackQueryID}
	if text != "" {
		body["text"] = text
	}
	return c.call(ctx, "answerCallbackQuery", body, nil)
}

// EditMessageReplyMarkup replaces a message's buttons (nil removes them). An edit that
// changes nothing is not an error.
func (c *Client) EditMessageReplyMarkup(ctx context.Context, chatID string, messageID int64, kb *Keyboard) error {
	if err := validateKeyboard(kb); err != nil {
		return err
	}
	if kb == nil {
		kb = &Keyboard{InlineKeyboard: [][]Button{}}
	}
	err := c.call(ctx, "editMessageReplyMarkup", map[string]any{"chat_id": chatID, "message_id": messageID, "reply_markup": kb}, nil)
	var ae *APIError
	if errors.As(err, &ae) && ae.NotModified() {
		return nil
	}
	return err
}

// SetWebhook registers our webhook URL with the secret Telegram echoes in
// X-Telegram-Bot-Api-Secret-Token.
func (c *Client) SetWebhook(ctx context.Context, webhookURL, secret string) error {
	body := map[string]any{"url": webhookURL, "allowed_updates": []string{"message", "callback_query"}}
	if secret != "" {
		body["secret_token"] = secret
	}
	return c.call(ctx, "setWebhook", body, nil)
}

func validateKeyboard(kb *Keyboard) error {
	if kb == nil {
		return nil
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if len(b.CallbackData) > MaxCallbackData {
				return fmt.Errorf("%w: callback_data %q is %d bytes, the limit is %d", ErrInvalid, b.CallbackData, len(b.CallbackData), MaxCallbackData)
			}
			if b.CallbackData == "" && b.URL == "" {
				return fmt.Errorf("%w: button %q needs callback_data or url", ErrInvalid, b.Text)
			}
		}
	}
	return nil
}

type envelope struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func (c *Client) call(ctx context.Context, method string, body, into any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("telegram %s: encode: %w", method, err)
	}
	maxRetries := c.MaxRetries
	if maxRetries <= 0 {
		maxRetries = 3
	}
	maxWait := c.MaxRetryAfter
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		lastErr = c.once(ctx, method, payload, into)
		if lastErr == nil {
			return nil
		}
		if attempt >= maxRetries || ctx.Err() != nil {
			break
		}
		var wait time.Duration
		var ae *APIError
		switch {
		case errors.As(lastErr, &ae) && ae.Code == http.StatusTooManyRequests:
			wait = time.Duration(ae.RetryAfter) * time.Second
			if wait <= 0 {
				wait = time.Second
			}
			if wait > maxWait {
				return lastErr // too long to block here; the caller's retry policy decides
			}
		case errors.As(lastErr, &ae) && !ae.Retryable():
			return lastErr
		default: // 5xx or network error
			wait = backoff << attempt
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("telegram %s: %w (last error: %v)", method, ctx.Err(), lastErr)
		case <-t.C:
		}
	}
	return lastErr
}

func (c *Client) once(ctx context.Context, method string, payload []byte, into any) error {
	u := c.BaseURL + "/bot" + c.Token + "/" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("telegram %s: build request: %w", method, redact(err, c.Token))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("telegram %s: %w", method, redact(err, c.Token))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("telegram %s: read response: %w", method, err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		if resp.StatusCode/100 != 2 {
			return &APIError{Method: method, Code: resp.StatusCode, Description: http.StatusText(resp.StatusCode)}
		}
		return fmt.Errorf("telegram %s: decode response: %w", method, err)
	}
	if !env.OK || resp.StatusCode/100 != 2 {
		ae := &APIError{Method: method, Code: env.ErrorCode, Description: env.Description}
		if ae.Code == 0 {
			ae.Code = resp.StatusCode
		}
		if env.Parameters != nil {
			ae.RetryAfter = env.Parameters.RetryAfter
		}
		return ae
	}
	if into != nil {
		if err := json.Unmarshal(env.Result, into); err != nil {
			return fmt.Errorf("telegram %s: decode result: %w", method, err)
		}
	}
	return nil
}

// redact drops the request URL (it contains the bot token) from transport errors.
func redact(err error, token string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	if token != "" && strings.Contains(err.Error(), token) {
		return errors.New(strings.ReplaceAll(err.Error(), token, "[token]"))
	}
	return err
}

// EscapeHTML escapes text for parse_mode HTML (Telegram needs &, < and > escaped).
func EscapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
