package escalation

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Line is one message shown to managers.
type Line struct {
	Author string // customer | noor | manager | system
	Text   string
	At     time.Time
}

// AlertData is everything an escalation alert shows. The phone is already masked.
type AlertData struct {
	EscalationID   int64
	Episode        int
	Kind           string
	Reason         string
	TriggeredBy    string
	ConversationID string
	CustomerName   string
	PhoneMasked    string
	Language       string
	Stage          string
	Summary        string
	Facts          json.RawMessage
	LastMessages   []Line
	Link           string
}

// Message is a plain-text alert: the notifier escapes it for Telegram's HTML.
type Message struct {
	Title string
	Body  string
}

// Opened is the first alert: who, why, what they need, the last messages and the link.
func Opened(d AlertData) Message {
	var b strings.Builder
	fmt.Fprintf(&b, "Customer: %s (%s)\n", orDash(d.CustomerName), orDash(d.PhoneMasked))
	fmt.Fprintf(&b, "Reason: %s [%s]\n", orDash(d.Reason), orDash(d.Kind))
	fmt.Fprintf(&b, "Language: %s · Stage: %s · Triggered by: %s\n", orDash(d.Language), orDash(d.Stage), orDash(d.TriggeredBy))
	if s := strings.TrimSpace(d.Summary); s != "" {
		fmt.Fprintf(&b, "\nSummary: %s\n", clip(s, 600))
	}
	if facts := FactLines(d.Facts); len(facts) > 0 {
		b.WriteString("\nKnown facts:\n")
		for _, f := range facts {
			b.WriteString("• " + f + "\n")
		}
	}
	if len(d.LastMessages) > 0 {
		b.WriteString("\nLast messages:\n")
		for _, m := range d.LastMessages {
			fmt.Fprintf(&b, "%s: %s\n", authorLabel(m.Author), clip(strings.TrimSpace(m.Text), 300))
		}
	}
	fmt.Fprintf(&b, "\nOpen: %s\nTake it with the button below, or: /take %d · /resolve %d <note>", d.Link, d.EscalationID, d.EscalationID)
	return Message{
		Title: fmt.Sprintf("🔔 Escalation #%d: %s", d.EscalationID, titleFor(d.Kind)),
		Body:  b.String(),
	}
}

// Reminder: the customer wrote again while nobody has taken the escalation.
func Reminder(d AlertData, waiting time.Duration, lastCustomerText string) Message {
	body := fmt.Sprintf("Still waiting for a manager for %s.\nCustomer: %s (%s)\nReason: %s",
		roundMinutes(waiting), orDash(d.CustomerName), orDash(d.PhoneMasked), orDash(d.Reason))
	if t := strings.TrimSpace(lastCustomerText); t != "" {
		body += "\nCustomer wrote again: " + clip(t, 300)
	}
	body += "\nOpen: " + d.Link
	return Message{Title: fmt.Sprintf("⏰ Reminder: escalation #%d is waiting", d.EscalationID), Body: body}
}

// SLAMissed: no manager responded within the SLA.
func SLAMissed(d AlertData, sla time.Duration) Message {
	return Message{
		Title: fmt.Sprintf("🚨 SLA missed: escalation #%d not taken within %s", d.EscalationID, roundMinutes(sla)),
		Body: fmt.Sprintf("Customer: %s (%s)\nReason: %s\nOpen: %s",
			orDash(d.CustomerName), orDash(d.PhoneMasked), orDash(d.Reason), d.Link),
	}
}

// Taken and Resolved close the loop in the managers' chat.
func Taken(d AlertData, by, via string) Message {
	return Message{Title: fmt.Sprintf("✅ Escalation #%d taken by %s", d.EscalationID, orDash(by)),
		Body: fmt.Sprintf("Via %s. Customer: %s (%s)\nOpen: %s", orDash(via), orDash(d.CustomerName), orDash(d.PhoneMasked), d.Link)}
}

func Resolved(d AlertData, by, via, note string) Message {
	body := fmt.Sprintf("Via %s. The bot is back in the chat.", orDash(via))
	if n := strings.TrimSpace(note); n != "" {
		body += "\nNote for the bot: " + clip(n, 600)
	}
	return Message{Title: fmt.Sprintf("☑️ Escalation #%d resolved by %s", d.EscalationID, orDash(by)), Body: body}
}

// FactLines renders the conversation's facts (a JSON object) as "key: value" lines in key
// order, skipping empty values.
func FactLines(raw json.RawMessage) []string {
	var m map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		v := m[k]
		var s string
		switch x := v.(type) {
		case nil:
			continue
		case string:
			s = x
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		if s == "" || s == "[]" || s == "{}" {
			continue
		}
		out = append(out, strings.ReplaceAll(k, "_", " ")+": "+clip(s, 200))
		if len(out) == 15 {
			break
		}
	}
	return out
}

func titleFor(kind string) string {
	switch kind {
	case KindHumanRequest:
		return "customer asks for a manager"
	case KindComplaint:
		return "complaint"
	case KindReturn:
		return "return / claim"
	case KindLegal:
		return "legal"
	case KindAggression:
		return "aggressive customer"
	case KindNonStandardTerms:
		return "non-standard terms"
	case KindLargeOrder:
		return "large order ready to proceed"
	case KindDrawings:
		return "drawings / floor plan"
	case KindBotFailed:
		return "the bot could not help"
	}
	if strings.HasPrefix(kind, "soft:") {
		return strings.ReplaceAll(strings.TrimPrefix(kind, "soft:"), "_", " ")
	}
	if kind == "" {
		return "manager needed"
	}
	return strings.ReplaceAll(kind, "_", " ")
}

func authorLabel(a string) string {
	switch a {
	case "customer":
		return "👤 Customer"
	case "noor":
		return "🤖 Noor"
	case "manager":
		return "🧑‍💼 Manager"
	}
	return a
}

func roundMinutes(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%dh %02dmin", m/60, m%60)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// clip shortens s to at most n runes, on a rune boundary.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
