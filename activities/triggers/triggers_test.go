package triggers

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func kinds(ts []Trigger) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Kind)
	}
	return out
}

func TestHardTriggers(t *testing.T) {
	cases := map[string][]string{
		"I want to talk to a person":                        {"human_request"},
		"Can I speak with a real human please":              {"human_request"},
		"أريد التحدث مع شخص":                                {"human_request"},
		"Two armrests arrived broken, I want a refund":      {"complaint", "return"},
		"I will contact my lawyer":                          {"legal"},
		"Here is our office floor plan":                     {"drawings"},
		"5 x CH 190":                                        {},
		"Need 6 desks and 6 chairs. What do you have?":      {},
		"what's the price of CH 145 black? wholesale price": {},
		"Hi": {},
	}
	for text, want := range cases {
		assert.Equal(t, want, kinds(Detect([]Message{{Kind: "text", Text: text}})), text)
	}
	assert.Equal(t, []string{"drawings"}, kinds(Detect([]Message{{Kind: "document", Text: "our new office plan", MediaURL: "https://cdn/x.pdf"}})))
}
