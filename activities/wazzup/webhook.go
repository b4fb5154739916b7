package wazzup

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Route says what an inbound webhook message is.
type Route string

const (
	RouteCustomer Route = "customer" // a customer wrote
	RouteManager  Route = "manager"  // a human wrote from the Wazzup inbox: manual takeover
	RouteEcho     Route = "echo"     // our own send echoed back: ignore
	RouteStatus   Route = "status"   // a status-shaped message about one of our sends
)

// InboundMessage is one element of "messages".
type InboundMessage struct {
	MessageID   string
	ChannelID   string
	ChatType    string
	ChatID      string
	Type        string
	Text        string
	ContentURI  string
	Status      string
	AuthorType  string
	AuthorID    string
	AuthorName  string
	ContactName string
	IsEcho      bool
	DateTime    time.Time
}

// Route applies the contract's routing: authorType wins over the status-shaped rule (a
// manager echo carries status "sent" and must still silence the bot).
func (m InboundMessage) Route() Route {
	switch strings.ToLower(m.AuthorType) {
	case "manager":
		return RouteManager
	case "bot":
		return RouteEcho
	}
	switch strings.ToLower(m.Status) {
	case "sent", "delivered", "read", "error", "edited":
		return RouteStatus
	}
	if m.IsEcho {
		return RouteEcho
	}
	return RouteCustomer
}

// StatusUpdate is one element of "statuses" (or a status-shaped message).
type StatusUpdate struct {
	MessageID string
	Status    string
	At        time.Time
	Error     string
}

// ItemError is an element we skipped, with the reason (logged and counted; never a crash).
type ItemError struct {
	Kind   string // message | status
	Index  int
	Reason string
}

// Envelope is a parsed webhook body.
type Envelope struct {
	Test     bool
	Messages []InboundMessage
	Statuses []StatusUpdate
	Invalid  []ItemError
}

// ErrNotObject is returned when the body is not a JSON object at all.
var ErrNotObject = errors.New("webhook body is not a JSON object")

// ParseWebhook reads a webhook body tolerantly: unknown keys are ignored, every element is
// validated on its own so one bad element never loses a good one in the same envelope.
func ParseWebhook(body []byte) (Envelope, error) {
	var env Envelope
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return env, fmt.Errorf("%w: %v", ErrNotObject, err)
	}
	if raw, ok := top["test"]; ok {
		var b bool
		if json.Unmarshal(raw, &b) == nil && b {
			env.Test = true
		}
	}
	if raw, ok := top["messages"]; ok && !isNull(raw) {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			env.Invalid = append(env.Invalid, ItemError{Kind: "message", Index: -1, Reason: "messages is not an array"})
		}
		for i, it := range items {
			m, err := parseMessage(it)
			if err != nil {
				env.Invalid = append(env.Invalid, ItemError{Kind: "message", Index: i, Reason: err.Error()})
				continue
			}
			if m.Route() == RouteStatus {
				env.Statuses = append(env.Statuses, StatusUpdate{MessageID: m.MessageID, Status: strings.ToLower(m.Status), At: m.DateTime})
				continue
			}
			env.Messages = append(env.Messages, m)
		}
	}
	if raw, ok := top["statuses"]; ok && !isNull(raw) {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			env.Invalid = append(env.Invalid, ItemError{Kind: "status", Index: -1, Reason: "statuses is not an array"})
		}
		for i, it := range items {
			s, err := parseStatus(it)
			if err != nil {
				env.Invalid = append(env.Invalid, ItemError{Kind: "status", Index: i, Reason: err.Error()})
				continue
			}
			env.Statuses = append(env.Statuses, s)
		}
	}
	return env, nil
}

func isNull(raw json.RawMessage) bool { return strings.TrimSpace(string(raw)) == "null" }

type fields map[string]json.RawMessage

func (f fields) str(key string) (string, error) {
	raw, ok := f[key]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s must be a string", key)
	}
	return s, nil
}

func (f fields) boolean(key string) (bool, error) {
	raw, ok := f[key]
	if !ok || isNull(raw) {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, fmt.Errorf("%s must be a boolean", key)
	}
	return b, nil
}

func parseMessage(raw json.RawMessage) (InboundMessage, error) {
	var f fields
	if err := json.Unmarshal(raw, &f); err != nil {
		return InboundMessage{}, errors.New("element is not an object")
	}
	var m InboundMessage
	var errs []string
	get := func(key string, dst *string) {
		v, err := f.str(key)
		if err != nil {
			errs = append(errs, err.Error())
		}
		*dst = v
	}
	get("messageId", &m.MessageID)
	get("channelId", &m.ChannelID)
	get("chatType", &m.ChatType)
	get("chatId", &m.ChatID)
	get("type", &m.Type)
	get("text", &m.Text)
	get("contentUri", &m.ContentURI)
	get("status", &m.Status)
	get("authorType", &m.AuthorType)
	get("authorId", &m.AuthorID)
	get("authorName", &m.AuthorName)
	var dt string
	get("dateTime", &dt)
	echo, err := f.boolean("isEcho")
	if err != nil {
		errs = append(errs, err.Error())
	}
	m.IsEcho = echo
	if c, ok := f["contact"]; ok {
		var contact struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(c, &contact) == nil {
			m.ContactName = contact.Name
		}
	}
	if len(errs) > 0 {
		return m, errors.New(strings.Join(errs, "; "))
	}
	if m.MessageID == "" {
		return m, errors.New("messageId is missing")
	}
	m.DateTime = ParseTime(dt)
	if m.Route() != RouteStatus && m.ChatID == "" {
		return m, errors.New("chatId is missing: nobody to reply to")
	}
	m.ChatID = digitsOnly(m.ChatID)
	if m.Type == "" {
		m.Type = "text"
	}
	return m, nil
}

func parseStatus(raw json.RawMessage) (StatusUpdate, error) {
	var f fields
	if err := json.Unmarshal(raw, &f); err != nil {
		return StatusUpdate{}, errors.New("element is not an object")
	}
	var s StatusUpdate
	var err error
	if s.MessageID, err = f.str("messageId"); err != nil {
		return s, err
	}
	if s.Status, err = f.str("status"); err != nil {
		return s, err
	}
	if s.MessageID == "" || s.Status == "" {
		return s, errors.New("messageId and status are required")
	}
	s.Status = strings.ToLower(s.Status)
	ts, _ := f.str("timestamp")
	if ts == "" {
		ts, _ = f.str("dateTime")
	}
	s.At = ParseTime(ts)
	if e, ok := f["error"]; ok && !isNull(e) {
		s.Error = truncate(string(e), 500)
	}
	return s, nil
}

// ParseTime reads Wazzup's times ("2026-03-13T11:07:27.000", UTC, sometimes with "Z").
// A missing or unreadable time is the zero time (the receiver uses its own clock).
func ParseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
