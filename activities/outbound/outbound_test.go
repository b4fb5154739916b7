package outbound_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/treejar/noor/activities/outbound"
	"github.com/treejar/noor/internal/settings"
)

var dubai = time.FixedZone("GST", 4*3600)

func TestDecide(t *testing.T) {
	// Wednesday 30 Sep 2026, 12:00 Dubai: inside business hours.
	noon := time.Date(2026, 9, 30, 12, 0, 0, 0, dubai)
	night := time.Date(2026, 9, 30, 22, 0, 0, 0, dubai)
	withTemplates := settings.Defaults()
	withTemplates.FollowUps.TemplateIDs = settings.Templates{
		"quote_follow_up":  {"en": "tpl-quote-en", "ar": "tpl-quote-ar"},
		"payment_reminder": {"en": "tpl-pay-en"},
	}
	noTemplates := settings.Defaults()
	noQuietHours := withTemplates
	noQuietHours.FollowUps.ProactiveQuietHours = false

	cases := []struct {
		name string
		now  time.Time
		in   outbound.DecideInput
		s    settings.Settings
		want outbound.Decision
	}{
		{"reply inside the window is free text", noon,
			outbound.DecideInput{Purpose: "reply", LastCustomerMessageAt: noon.Add(-time.Hour)}, noTemplates,
			outbound.Decision{Action: "free_text", Reason: "inside_24h_window"}},
		{"reply 23h59m after the customer is still free text", noon,
			outbound.DecideInput{Purpose: "reply", LastCustomerMessageAt: noon.Add(-24*time.Hour + time.Minute)}, noTemplates,
			outbound.Decision{Action: "free_text", Reason: "inside_24h_window"}},
		{"exactly 24h later the window is closed", noon,
			outbound.DecideInput{Purpose: "follow_up", TemplatePurpose: "quote_follow_up", Proactive: true, Language: "en",
				LastCustomerMessageAt: noon.Add(-24 * time.Hour)}, withTemplates,
			outbound.Decision{Action: "template", TemplateID: "tpl-quote-en", Reason: "outside_24h_window_template"}},
		{"Arabic customer gets the Arabic template", noon,
			outbound.DecideInput{Purpose: "follow_up", TemplatePurpose: "quote_follow_up", Proactive: true, Language: "ar",
				LastCustomerMessageAt: noon.Add(-72 * time.Hour)}, withTemplates,
			outbound.Decision{Action: "template", TemplateID: "tpl-quote-ar", Reason: "outside_24h_window_template"}},
		{"missing Arabic template falls back to English, recorded", noon,
			outbound.DecideInput{Purpose: "payment_reminder", Proactive: true, Language: "ar",
				LastCustomerMessageAt: noon.Add(-72 * time.Hour)}, withTemplates,
			outbound.Decision{Action: "template", TemplateID: "tpl-pay-en", Reason: "outside_24h_window_template_en_fallback"}},
		{"unknown language counts as English", noon,
			outbound.DecideInput{Purpose: "follow_up", TemplatePurpose: "quote_follow_up", Proactive: true, Language: "ru",
				LastCustomerMessageAt: noon.Add(-72 * time.Hour)}, withTemplates,
			outbound.Decision{Action: "template", TemplateID: "tpl-quote-en", Reason: "outside_24h_window_template"}},
		{"outside the window without a template is blocked", noon,
			outbound.DecideInput{Purpose: "follow_up", TemplatePurpose: "quote_follow_up", Proactive: true, Language: "en",
				LastCustomerMessageAt: noon.Add(-72 * time.Hour)}, noTemplates,
			outbound.Decision{Action: "block", Reason: "outside_24h_window_no_template"}},
		{"a customer who never wrote has no window", noon,
			outbound.DecideInput{Purpose: "reply"}, noTemplates,
			outbound.Decision{Action: "block", Reason: "outside_24h_window_no_template"}},
		{"a reactive reply outside the window uses the purpose's template", noon,
			outbound.DecideInput{Purpose: "payment_reminder", LastCustomerMessageAt: noon.Add(-30 * time.Hour)}, withTemplates,
			outbound.Decision{Action: "template", TemplateID: "tpl-pay-en", Reason: "outside_24h_window_template"}},
		{"opt-out blocks proactive messages", noon,
			outbound.DecideInput{Purpose: "follow_up", Proactive: true, OptedOut: true, LastCustomerMessageAt: noon.Add(-time.Hour)}, withTemplates,
			outbound.Decision{Action: "block", Reason: "opted_out"}},
		{"opt-out does not block a reply to the customer", noon,
			outbound.DecideInput{Purpose: "reply", OptedOut: true, LastCustomerMessageAt: noon.Add(-time.Minute)}, withTemplates,
			outbound.Decision{Action: "free_text", Reason: "inside_24h_window"}},
		{"proactive at night is deferred to the next opening", night,
			outbound.DecideInput{Purpose: "follow_up", Proactive: true, LastCustomerMessageAt: night.Add(-time.Hour)}, withTemplates,
			outbound.Decision{Action: "defer", Reason: "outside_business_hours", DeferUntil: time.Date(2026, 10, 1, 10, 0, 0, 0, dubai)}},
		{"a reply at night goes out at once", night,
			outbound.DecideInput{Purpose: "reply", LastCustomerMessageAt: night.Add(-time.Minute)}, noTemplates,
			outbound.Decision{Action: "free_text", Reason: "inside_24h_window"}},
		{"quiet hours can be switched off", night,
			outbound.DecideInput{Purpose: "follow_up", Proactive: true, LastCustomerMessageAt: night.Add(-time.Hour)}, noQuietHours,
			outbound.Decision{Action: "free_text", Reason: "inside_24h_window"}},
		{"blocked at night is blocked now, not deferred", night,
			outbound.DecideInput{Purpose: "follow_up", Proactive: true, LastCustomerMessageAt: night.Add(-48 * time.Hour)}, noTemplates,
			outbound.Decision{Action: "block", Reason: "outside_24h_window_no_template"}},
		{"opt-out wins over quiet hours", night,
			outbound.DecideInput{Purpose: "follow_up", Proactive: true, OptedOut: true}, withTemplates,
			outbound.Decision{Action: "block", Reason: "opted_out"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := outbound.Decide(c.now, c.in, c.s)
			assert.Equal(t, c.want.Action, got.Action)
			assert.Equal(t, c.want.TemplateID, got.TemplateID)
			assert.Equal(t, c.want.Reason, got.Reason)
			assert.True(t, c.want.DeferUntil.Equal(got.DeferUntil), "defer until: want %s, got %s", c.want.DeferUntil, got.DeferUntil)
		})
	}
}

func TestDecideUsesConfiguredWindow(t *testing.T) {
	s := settings.Defaults()
	s.FollowUps.FreeTextWindow = settings.Duration(12 * time.Hour)
	now := time.Date(2026, 9, 30, 12, 0, 0, 0, dubai)
	got := outbound.Decide(now, outbound.DecideInput{Purpose: "reply", LastCustomerMessageAt: now.Add(-13 * time.Hour)}, s)
	assert.Equal(t, "block", got.Action)
}
