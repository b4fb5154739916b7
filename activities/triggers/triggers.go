// Package triggers detects, in code, the hard escalation triggers of DOMAIN.md in what a
// customer wrote: an explicit request for a person, complaints, returns, legal threats,
// aggression, and drawings or floor plans. It is deliberately narrow: product, bulk and
// price questions must be answered, not handed off (the production lesson).
package triggers

import (
	"regexp"
	"strings"
)

// Trigger is one reason to hand the chat to a manager.
type Trigger struct {
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// Message is what the detector looks at.
type Message struct {
	Kind     string // text, image, document, audio, …
	Text     string
	MediaURL string
}

type rule struct {
	kind, reason string
	re           *regexp.Regexp
}

var rules = []rule{
	{"human_request", "the customer asked to talk to a person", regexp.MustCompile(`(?i)\b(talk|speak|chat)\s+(to|with)\s+(a\s+|an\s+|your\s+|the\s+)?(real\s+)?(person|human|manager|agent|someone|sales\s*(person|rep)|representative)\b|\b(real|actual)\s+(person|human)\b|\bhuman\s+please\b`)},
	{"human_request", "the customer asked to talk to a person", regexp.MustCompile(`(أريد|اريد|ابغى|أبغى|ممكن)\s+(ال)?(تحدث|التكلم|اتكلم|أتكلم|أتحدث|اتحدث)\s+(مع|الى|إلى)\s+(شخص|موظف|مدير|إنسان|انسان|أحد)|شخص حقيقي|موظف حقيقي`)},
	{"complaint", "the customer is complaining", regexp.MustCompile(`(?i)\b(complain(t|ing)?|broken|damaged|defective|faulty|terrible service|very disappointed|unacceptable|scam)\b|شكوى|مكسور|تالف|معيب|سيئة جدا`)},
	{"return", "the customer wants a return, refund or claim", regexp.MustCompile(`(?i)\b(refund|return (it|them|the|my|this|these)|money back|(make|file|warranty) (a )?claim|replace(ment)? (it|them))\b|استرجاع|استرداد|إرجاع|ارجاع|تعويض`)},
	{"legal", "the customer mentions legal action", regexp.MustCompile(`(?i)\b(lawyer|legal action|court|sue|police|consumer protection)\b|محامي|محكمة|قضية|الشرطة|حماية المستهلك`)},
	{"aggression", "the customer is aggressive", regexp.MustCompile(`(?i)\b(idiot|stupid|useless|shut up|f+u+c+k+|damn you)\b|غبي|تافه|اسكت`)},
	{"drawings", "the customer sent drawings or a floor plan", regexp.MustCompile(`(?i)\b(floor\s*plan|layout plan|office plan|drawings?|blueprint|autocad|dwg)\b|مخطط|مخططات|رسومات`)},
}

// Detect returns the hard triggers found in a batch of customer messages, each kind once,
// in a fixed order.
func Detect(msgs []Message) []Trigger {
	var out []Trigger
	seen := map[string]bool{}
	add := func(kind, reason string) {
		if !seen[kind] {
			seen[kind] = true
			out = append(out, Trigger{Kind: kind, Reason: reason})
		}
	}
	for _, m := range msgs {
		text := strings.TrimSpace(m.Text)
		for _, r := range rules {
			if r.re.MatchString(text) {
				add(r.kind, r.reason)
			}
		}
		url := strings.ToLower(m.MediaURL)
		if m.Kind == "document" && (strings.HasSuffix(url, ".dwg") || strings.HasSuffix(url, ".dxf") ||
			strings.Contains(url, "plan") || strings.Contains(strings.ToLower(text), "plan")) {
			add("drawings", "the customer sent drawings or a floor plan")
		}
	}
	return out
}
