package wazzuptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Wazzup's webhook time formats: messages carry a local-looking UTC time without a zone,
// statuses an RFC 3339 time with "Z".
const (
	messageTimeLayout = "2006-01-02T15:04:05.000"
	statusTimeLayout  = "2006-01-02T15:04:05.000Z"
)

// Status is one delivery status callback for an outbound message.
type Status struct {
	MessageID, Status string // status: sent, delivered, read, error
	At                time.Time
	Error             map[string]any // e.g. {"error": "24_HOURS_EXCEEDED", "description": "..."}
}

// Inbound is one message envelope entry as Wazzup posts it: a customer message (AuthorType
// "" or "client"), a manager writing from the Wazzup inbox ("manager", IsEcho) or the echo of
// our own API send ("bot", IsEcho). Empty fields get realistic defaults.
type Inbound struct {
	MessageID  string // default: a new UUID
	ChatID     string
	Text       string
	Type       string // default "text", or "document" when only ContentURI is set
	ContentURI string
	AuthorType string // omitted when empty, like Wazzup does for customers
	AuthorName string
	IsEcho     bool
	At         time.Time // default: now
	ChannelID  string    // default: the fake's channel
	// Additional fields.
	AuthorID    string
	Status      string // default "inbound", or "sent" for echoes
	ContactName string // sent as the "contact" object Wazzup adds to customer messages
}

type inboundJSON struct {
	MessageID  string       `json:"messageId"`
	ChannelID  string       `json:"channelId"`
	ChatType   string       `json:"chatType"`
	ChatID     string       `json:"chatId"`
	DateTime   string       `json:"dateTime"`
	Type       string       `json:"type"`
	IsEcho     bool         `json:"isEcho"`
	Status     string       `json:"status"`
	Text       string       `json:"text,omitempty"`
	ContentURI string       `json:"contentUri,omitempty"`
	AuthorType string       `json:"authorType,omitempty"`
	AuthorID   string       `json:"authorId,omitempty"`
	AuthorName string       `json:"authorName,omitempty"`
	Contact    *contactJSON `json:"contact,omitempty"`
}

type contactJSON struct {
	Name string `json:"name"`
}

type statusJSON struct {
	MessageID string         `json:"messageId"`
	Status    string         `json:"status"`
	Timestamp string         `json:"timestamp"`
	Error     map[string]any `json:"error,omitempty"`
}

// PostMessages posts {"messages": [...]} to our webhook and returns the HTTP status.
func (s *Server) PostMessages(ctx context.Context, webhookURL string, msgs ...Inbound) (int, error) {
	out := make([]inboundJSON, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, s.inboundJSON(m))
	}
	body, err := json.Marshal(map[string]any{"messages": out})
	if err != nil {
		return 0, fmt.Errorf("encode messages: %w", err)
	}
	return s.PostRaw(ctx, webhookURL, body)
}

// PostStatuses posts {"statuses": [...]} to our webhook and returns the HTTP status.
func (s *Server) PostStatuses(ctx context.Context, webhookURL string, statuses ...Status) (int, error) {
	out := make([]statusJSON, 0, len(statuses))
	for _, st := range statuses {
		at := st.At
		if at.IsZero() {
			at = time.Now()
		}
		out = append(out, statusJSON{
			MessageID: st.MessageID, Status: st.Status, Timestamp: at.UTC().Format(statusTimeLayout), Error: st.Error,
		})
	}
	body, err := json.Marshal(map[string]any{"statuses": out})
	if err != nil {
		return 0, fmt.Errorf("encode statuses: %w", err)
	}
	return s.PostRaw(ctx, webhookURL, body)
}

// PostRaw posts any body (for example a file from demodata's Wazzup samples) to our webhook
// as Wazzup would, and returns the HTTP status.
func (s *Server) PostRaw(ctx context.Context, webhookURL string, body []byte) (int, error) {
	return s.post(ctx, webhookURL, body)
}

// EchoOf is the webhook echo Wazzup posts after one of our API sends was delivered to
// WhatsApp: same messageId, authorType "bot", isEcho.
func (s *Server) EchoOf(m SentMessage) Inbound {
	return Inbound{
		MessageID: m.MessageID, ChatID: m.ChatID, Text: m.Text, ContentURI: m.ContentURI,
		AuthorType: "bot", IsEcho: true, At: m.At, ChannelID: m.ChannelID,
	}
}

func (s *Server) inboundJSON(m Inbound) inboundJSON {
	j := inboundJSON{
		MessageID: m.MessageID, ChannelID: m.ChannelID, ChatType: "whatsapp", ChatID: m.ChatID,
		Type: m.Type, IsEcho: m.IsEcho, Status: m.Status, Text: m.Text, ContentURI: m.ContentURI,
		AuthorType: m.AuthorType, AuthorID: m.AuthorID, AuthorName: m.AuthorName,
	}
	if j.MessageID == "" {
		j.MessageID = newUUID()
	}
	if j.ChannelID == "" {
		j.ChannelID = s.ChannelID()
	}
	if j.Type == "" {
		j.Type = "text"
		if m.Text == "" && m.ContentURI != "" {
			j.Type = "document"
		}
	}
	if j.Status == "" {
		j.Status = "inbound"
		if m.IsEcho {
			j.Status = "sent"
		}
	}
	at := m.At
	if at.IsZero() {
		at = time.Now()
	}
	j.DateTime = at.UTC().Format(messageTimeLayout)
	if m.ContactName != "" {
		j.Contact = &contactJSON{Name: m.ContactName}
	}
	return j
}

func (s *Server) post(ctx context.Context, target string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, nil
}
