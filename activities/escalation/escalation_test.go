package escalation_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/treejar/noor/activities/escalation"
	"github.com/treejar/noor/internal/settings"
)

func TestDetectHardTriggers(t *testing.T) {
	s := settings.Defaults().Escalation
	cases := []struct {
		text string
		kind string // "" = no escalation
	}{
		{"I want to talk to a person", "human_request"},
		{"Can I speak with a real human please?", "human_request"},
		{"connect me to your sales manager", "human_request"},
		{"human please", "human_request"},
		{"أريد التحدث مع موظف", "human_request"},
		{"ابغى اكلم شخص حقيقي", "human_request"},
		{"I will contact my lawyer", "legal"},
		{"we will report you to consumer protection", "legal"},
		{"you are idiots", "aggression"},
		{"I want to return the chairs", "return"},
		{"the desk arrived damaged", "return"},
		{"I need a refund", "return"},
		{"أريد استرجاع الطلب", "return"},
		{"This is unacceptable, still not delivered", "complaint"},
		{"عندي شكوى", "complaint"},
		{"can we pay net 30?", "non_standard_terms"},
		{"we need a special discount for this", "non_standard_terms"},
		{"can you make it in a custom size with our logo", "non_standard_terms"},
		{"ممكن تقسيط؟", "non_standard_terms"},
		// Sales questions the bot must answer (production lesson).
		{"5 x CH 190", ""},
		{"how much for 200 chairs?", ""},
		{"what is your return policy?", ""},
		{"do you have a manager desk in walnut?", ""},
		{"L-shape manager desk price", ""},
		{"any discount for 10 chairs?", ""},
		{"do you sell in bulk?", ""}, // soft trigger, off by default
		{"hello", ""},
		{"كم سعر الكرسي", ""},
	}
	for _, c := range cases {
		tr, ok := escalation.Detect(escalation.Input{Text: c.text}, s)
		if c.kind == "" {
			assert.False(t, ok, "%q should not escalate, got %+v", c.text, tr)
			continue
		}
		if assert.True(t, ok, "%q should escalate as %s", c.text, c.kind) {
			assert.Equal(t, c.kind, tr.Kind, c.text)
			assert.True(t, tr.Hard, c.text)
			assert.NotEmpty(t, tr.Reason)
		}
	}
}

func TestLargeOrderNeedsIntentQuantityLogisticsAndValue(t *testing.T) {
	s := settings.Defaults().Escalation // threshold 10 000 AED
	confirm := "we confirm, deliver 200 chairs to Dubai Marina next week"

	tr, ok := escalation.Detect(escalation.Input{Text: confirm, UnitPriceAED: 350}, s)
	assert.True(t, ok)
	assert.Equal(t, "large_order", tr.Kind)
	assert.Contains(t, tr.Reason, "70000")

	// The same confirmation below the threshold is the bot's to quote.
	_, ok = escalation.Detect(escalation.Input{Text: "we confirm, deliver 5 chairs to Dubai Marina next week", UnitPriceAED: 350}, s)
	assert.False(t, ok)
	// A known cart value wins over the estimate.
	_, ok = escalation.Detect(escalation.Input{Text: confirm, UnitPriceAED: 350, KnownOrderValueAED: 9000}, s)
	assert.False(t, ok)
	// No price known at all: the bot proceeds to the quotation, which knows the value.
	_, ok = escalation.Detect(escalation.Input{Text: confirm}, s)
	assert.False(t, ok)
	// The threshold is a setting.
	s.OrderThresholdAED = 100000
	_, ok = escalation.Detect(escalation.Input{Text: confirm, UnitPriceAED: 350}, s)
	assert.False(t, ok)
	// "5 x CH 190" with a price: no intent, no logistics.
	s.OrderThresholdAED = 10
	_, ok = escalation.Detect(escalation.Input{Text: "5 x CH 190", UnitPriceAED: 350}, s)
	assert.False(t, ok)
}

func TestParseOrder(t *testing.T) {
	cases := []struct {
		text string
		want escalation.Order
	}{
		{"5 x CH 190", escalation.Order{Quantity: 5}},
		{"CH 616 please", escalation.Order{}},
		{"I need CH 616 chairs", escalation.Order{}},
		{"we confirm, deliver 200 chairs to Dubai Marina next week", escalation.Order{Intent: true, Quantity: 200, Logistics: true, Noun: "chairs"}},
		{"Go ahead with NOVO 1200 x 12, address JLT cluster D", escalation.Order{Intent: true, Quantity: 12, Logistics: true}},
		{"10x AF 1400 and 3 pcs MA 2", escalation.Order{Quantity: 10}},
		{"can we proceed with 40 desks delivered next week?", escalation.Order{Quantity: 40, Logistics: true, Noun: "desks"}},
		{"from 500 to 600 AED", escalation.Order{}},
		{"نؤكد الطلب 150 كرسي توصيل إلى دبي", escalation.Order{Intent: true, Quantity: 150, Logistics: true, Noun: "كرسي"}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, escalation.ParseOrder(c.text), c.text)
	}
}

func TestDrawingsNeedMedia(t *testing.T) {
	s := settings.Defaults().Escalation
	_, ok := escalation.Detect(escalation.Input{Text: "I will send you the floor plan tomorrow"}, s)
	assert.False(t, ok, "a promise of a drawing is not a drawing")
	tr, ok := escalation.Detect(escalation.Input{Text: "here is our floor plan", MessageKinds: []string{"image"}}, s)
	assert.True(t, ok)
	assert.Equal(t, "drawings", tr.Kind)
	tr, ok = escalation.Detect(escalation.Input{MessageKinds: []string{"document"}, MediaNames: []string{"Office-Level3.DWG"}}, s)
	assert.True(t, ok)
	assert.Equal(t, "drawings", tr.Kind)
	_, ok = escalation.Detect(escalation.Input{Text: "like this chair", MessageKinds: []string{"image"}}, s)
	assert.False(t, ok, "a product photo is a sales question")
	tr, ok = escalation.Detect(escalation.Input{Text: "هذا المخطط", MessageKinds: []string{"document"}}, s)
	assert.True(t, ok)
	assert.Equal(t, "drawings", tr.Kind)
}

func TestSoftTriggersFollowSettings(t *testing.T) {
	s := settings.Defaults().Escalation
	// failed_twice and phone_call are on by default.
	tr, ok := escalation.Detect(escalation.Input{Text: "??", FailedTurns: 2}, s)
	assert.True(t, ok)
	assert.Equal(t, "bot_failed", tr.Kind)
	assert.False(t, tr.Hard)
	_, ok = escalation.Detect(escalation.Input{Text: "??", FailedTurns: 1}, s)
	assert.False(t, ok)
	tr, ok = escalation.Detect(escalation.Input{Text: "can you call me tomorrow?"}, s)
	assert.True(t, ok)
	assert.Equal(t, "soft:phone_call", tr.Kind)

	// Off by default, on when the admin switches it on.
	_, ok = escalation.Detect(escalation.Input{Text: "we need a wholesale price"}, s)
	assert.False(t, ok)
	s.SoftTriggers = map[string]bool{"bulk_wholesale": true}
	tr, ok = escalation.Detect(escalation.Input{Text: "we need a wholesale price"}, s)
	assert.True(t, ok)
	assert.Equal(t, "soft:bulk_wholesale", tr.Kind)
	// Switched off: failed twice no longer escalates.
	_, ok = escalation.Detect(escalation.Input{Text: "??", FailedTurns: 3}, s)
	assert.False(t, ok)
}

func TestOpenedAlertText(t *testing.T) {
	d := escalation.AlertData{
		EscalationID: 7, Episode: 1, Kind: "human_request", Reason: "customer asked for a human", TriggeredBy: "rule",
		ConversationID: "c-1", CustomerName: "Omar", PhoneMasked: "971*******65", Language: "ar", Stage: "solution",
		Summary: "Needs 12 desks for a new office in JLT.",
		Facts:   json.RawMessage(`{"company":"Acme LLC","headcount":12,"items":[{"sku":"NOVO-1200","qty":12}],"email":""}`),
		LastMessages: []escalation.Line{
			{Author: "customer", Text: "I want to talk to a person", At: time.Now()},
			{Author: "noor", Text: strings.Repeat("x", 400)},
		},
		Link: "https://noor.example.com/console/conversations/c-1",
	}
	m := escalation.Opened(d)
	assert.Equal(t, "🔔 Escalation #7: customer asks for a manager", m.Title)
	for _, want := range []string{"Omar (971*******65)", "customer asked for a human [human_request]", "Needs 12 desks",
		"• company: Acme LLC", "• headcount: 12", `• items: [{"qty":12,"sku":"NOVO-1200"}]`,
		"👤 Customer: I want to talk to a person", "https://noor.example.com/console/conversations/c-1", "/resolve 7"} {
		assert.Contains(t, m.Body, want)
	}
	assert.NotContains(t, m.Body, "email", "empty facts are left out")
	assert.Contains(t, m.Body, strings.Repeat("x", 300)+"…", "long messages are clipped")

	r := escalation.Reminder(d, 7*time.Minute, "hello??")
	assert.Contains(t, r.Title, "#7")
	assert.Contains(t, r.Body, "7 min")
	assert.Contains(t, r.Body, "hello??")
	assert.Contains(t, escalation.SLAMissed(d, 15*time.Minute).Title, "15 min")
	assert.Contains(t, escalation.Resolved(d, "Sara", "telegram", "offered 5% on 12 desks").Body, "offered 5% on 12 desks")
}
