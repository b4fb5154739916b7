package followup_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/followup"
)

func TestStepTexts(t *testing.T) {
	m := followup.Step("quote", 0, "en", "Omar", "SO-00042")
	assert.Equal(t, "quote_follow_up", m.TemplatePurpose)
	assert.Equal(t, []string{"Omar", "SO-00042"}, m.TemplateValues)
	assert.True(t, strings.HasPrefix(m.Text, "Hi Omar, did you have a chance"))
	assert.Contains(t, m.Text, "SO-00042")
	assert.NotEqual(t, m.Text, followup.Step("quote", 1, "en", "Omar", "SO-00042").Text, "later steps say something else")

	ar := followup.Step("quote", 0, "ar", "", "SO-1")
	assert.Contains(t, ar.Text, "عرض السعر")
	assert.Contains(t, ar.Text, "SO-1", "references stay in Latin script")
	assert.Equal(t, []string{"عميلنا العزيز", "SO-1"}, ar.TemplateValues)

	for kind, purpose := range map[string]string{"payment": "payment_reminder", "feedback": "feedback_request", "inactivity": "inactivity_follow_up"} {
		for _, lang := range []string{"en", "ar"} {
			s := followup.Step(kind, 0, lang, "Layla", "SO-2")
			assert.Equal(t, purpose, s.TemplatePurpose)
			assert.NotEmpty(t, s.Text)
			assert.Equal(t, lang == "ar", strings.ContainsAny(s.Text, "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"), "%s/%s language", kind, lang)
		}
	}
	assert.NotEqual(t, followup.EscalationAck("en"), followup.EscalationAck("ar"))
	assert.NotEqual(t, followup.WaitingAck("en"), followup.WaitingAck("ar"))
}

func TestSaveFeedbackArgs(t *testing.T) {
	var schema map[string]any
	require.NoError(t, json.Unmarshal(followup.SaveFeedbackToolParameters, &schema), "the tool schema is valid JSON")
	assert.Equal(t, "save_feedback", followup.SaveFeedbackToolName)

	a, err := followup.ParseSaveFeedbackArgs(json.RawMessage(`{"overall_rating":5,"would_recommend":true,"comment":"great"}`))
	require.NoError(t, err)
	assert.Equal(t, 5, *a.OverallRating)
	assert.True(t, *a.WouldRecommend)

	for raw, want := range map[string]string{
		`{"overall_rating":0}`:      "1..5",
		`{"delivery_rating":6}`:     "1..5",
		`{}`:                        "nothing to save",
		`{"stars":5}`:               "unknown field",
		`{"overall_rating":"five"}`: "cannot unmarshal",
		`not json`:                  "invalid character",
	} {
		_, err := followup.ParseSaveFeedbackArgs(json.RawMessage(raw))
		require.Error(t, err, raw)
		assert.Contains(t, err.Error(), want, raw)
	}
}
