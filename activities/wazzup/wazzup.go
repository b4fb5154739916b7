// Package wazzup speaks the Wazzup API v3 (the WhatsApp gateway): sending text, files and
// templates with an idempotency key, reading channel state, and parsing the webhook
// tolerantly. See docs/contracts/wazzup.md; the fake is in wazzuptest.
package wazzup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// OutboundMessage is one POST /v3/message. Exactly one of Text, ContentURI or TemplateID.
type OutboundMessage struct {
	ChannelID      string   `json:"channelId"`
	ChatType       string   `json:"chatType"`
	ChatID         string   `json:"chatId"`
	Text           string   `json:"text,omitempty"`
	ContentURI     string   `json:"contentUri,omitempty"`
	TemplateID     string   `json:"templateId,omitempty"`
	TemplateValues []string `json:"templateValues,omitempty"`
	CRMMessageID   string   `json:"crmMessageId"`
}

// Errors the gateway reacts to.
var (
	// ErrAlreadySent: REPEATED_CRM_MESSAGE_ID — this crmMessageId was sent before; success.
	ErrAlreadySent = errors.New("wazzup: message with this crmMessageId was already sent")
	// ErrChannelUnavailable: the WhatsApp session is disconnected; alert, do not spin.
	ErrChannelUnavailable = errors.New("wazzup: channel unavailable (WhatsApp session disconnected)")
	// ErrRateLimited: 429; retry with back-off.
	ErrRateLimited = errors.New("wazzup: rate limited")
)

// APIError is any other non-2xx answer.
type APIError struct {
	Status int
	Code   string
	Body   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wazzup: HTTP %d %s %s", e.Status, e.Code, e.Body)
}

// Retryable reports whether the same request may succeed later (5xx).
func (e *APIError) Retryable() bool { return e.Status >= 500 }

// Client calls the Wazzup API. It does not retry: sends are retried by Temporal with the
// same crmMessageId, which makes the retry safe.
type Client struct {
	BaseURL string // includes /v3
	APIKey  string
	HTTP    *http.Client
}

// NewClient returns a client with a 15 s per-request timeout.
func NewClient(baseURL, apiKey string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), APIKey: apiKey, HTTP: &http.Client{Timeout: 15 * time.Second}}
}

// Send posts one message and returns Wazzup's message id. ErrAlreadySent means a previous
// attempt with the same CRMMessageID went through.
func (c *Client) Send(ctx context.Context, m OutboundMessage) (string, error) {
	if m.ChatType == "" {
		m.ChatType = "whatsapp"
	}
	if m.CRMMessageID == "" || len(m.CRMMessageID) > 240 {
		return "", fmt.Errorf("wazzup: crmMessageId must be 1..240 characters")
	}
	var out struct {
		MessageID string `json:"messageId"`
	}
	if err := c.do(ctx, http.MethodPost, "/message", m, &out); err != nil {
		return "", err
	}
	return out.MessageID, nil
}

// Channel is one line from GET /v3/channels.
type Channel struct {
	ChannelID string `json:"channelId"`
	Transport string `json:"transport"`
	PlainID   string `json:"plainId"`
	State     string `json:"state"`
}

// Channels lists the account's channels; a state other than "active" means disconnected.
func (c *Client) Channels(ctx context.Context) ([]Channel, error) {
	var out []Channel
	err := c.do(ctx, http.MethodGet, "/channels", nil, &out)
	return out, err
}

// RegisterWebhook points Wazzup at our webhook (PATCH /v3/webhooks).
func (c *Client) RegisterWebhook(ctx context.Context, uri string) error {
	body := map[string]any{"webhooksUri": uri, "subscriptions": map[string]bool{"messagesAndStatuses": true, "channelsUpdates": true}}
	return c.do(ctx, http.MethodPatch, "/webhooks", body, nil)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("wazzup %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		if out != nil && len(raw) > 0 {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("wazzup %s %s: decode response: %w", method, path, err)
			}
		}
		return nil
	}
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	switch {
	case e.Error == "REPEATED_CRM_MESSAGE_ID":
		return ErrAlreadySent
	case e.Error == "MESSAGE_CHANNEL_UNAVAILABLE":
		return ErrChannelUnavailable
	case resp.StatusCode == http.StatusTooManyRequests:
		return ErrRateLimited
	}
	return &APIError{Status: resp.StatusCode, Code: e.Error, Body: truncate(string(raw), 300)}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
