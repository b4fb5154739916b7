package settings

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultsAreValidAndMatchDomain(t *testing.T) {
	d := Defaults()
	require.NoError(t, d.Validate())
	assert.Equal(t, 4*time.Second, d.Conversation.DebounceWindow.D())
	assert.Equal(t, 10000.0, d.Escalation.OrderThresholdAED)
	assert.Equal(t, 15*time.Minute, d.Escalation.SLA.D())
	assert.Equal(t, []Duration{Duration(23 * time.Hour), Duration(72 * time.Hour), Duration(168 * time.Hour)}, d.FollowUps.QuoteDelays)
	assert.Equal(t, 5.0, d.Pricing.VATPercent)
	assert.Equal(t, "Asia/Dubai", d.BusinessHours.TimeZone)
	assert.Equal(t, 2, d.Conversation.MaxSearchesPerTurn)
}

func TestPatchMergesAndValidates(t *testing.T) {
	d := Defaults()
	next, err := d.ApplyPatch([]byte(`{"conversation":{"debounce_window":"3s"},"escalation":{"order_threshold_aed":12000,"soft_triggers":{"bulk_wholesale":true}}}`))
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, next.Conversation.DebounceWindow.D())
	assert.Equal(t, 20*time.Second, next.Conversation.DebounceCap.D(), "untouched fields keep their value")
	assert.Equal(t, 12000.0, next.Escalation.OrderThresholdAED)
	assert.True(t, next.Escalation.SoftTriggers["bulk_wholesale"])
	assert.True(t, next.Escalation.SoftTriggers["failed_twice"], "merge keeps sibling map keys")
	assert.Equal(t, 4*time.Second, d.Conversation.DebounceWindow.D(), "the receiver is not modified")
}

func TestPatchErrorsNameTheField(t *testing.T) {
	cases := map[string]struct {
		patch string
		field string
	}{
		"unknown field":   {`{"conversation":{"debounce":"3s"}}`, "debounce"},
		"wrong type":      {`{"escalation":{"order_threshold_aed":"lots"}}`, "escalation.order_threshold_aed"},
		"bad duration":    {`{"conversation":{"debounce_window":"soon"}}`, "(body)"},
		"out of range":    {`{"conversation":{"debounce_window":"2m"}}`, "conversation.debounce_window"},
		"bad language":    {`{"conversation":{"default_language":"fr"}}`, "conversation.default_language"},
		"unknown trigger": {`{"escalation":{"soft_triggers":{"moon_phase":true}}}`, "escalation.soft_triggers.moon_phase"},
		"bad tz":          {`{"business_hours":{"time_zone":"Mars/Olympus"}}`, "business_hours.time_zone"},
		"close<open":      {`{"business_hours":{"open":"20:00","close":"10:00"}}`, "business_hours.close"},
		"not object":      {`[1,2]`, "(body)"},
		"not json":        {`{`, "(body)"},
		"delays order":    {`{"follow_ups":{"quote_delays":["72h","23h"]}}`, "follow_ups.quote_delays[1]"},
		"unknown stage":   {`{"pricing":{"crm_stage_mapping":{"celebration":"Paid"}}}`, "pricing.crm_stage_mapping.celebration"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Defaults().ApplyPatch([]byte(tc.patch))
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "want a ValidationError, got %v", err)
			fields := []string{}
			for _, f := range ve.Fields {
				fields = append(fields, f.Field)
			}
			assert.Contains(t, fields, tc.field)
		})
	}
}

func TestDecodeFillsNewFieldsFromDefaults(t *testing.T) {
	old := map[string]any{"conversation": map[string]any{"debounce_window": "5s"}}
	b, _ := json.Marshal(old)
	s, err := Decode(b)
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, s.Conversation.DebounceWindow.D())
	assert.Equal(t, Defaults().Pricing.TRN, s.Pricing.TRN)
}
