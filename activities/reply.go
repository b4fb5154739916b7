package activities

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// DetectLanguage returns "ar" when the text is mostly Arabic script, "en" when it is mostly
// Latin, and "" when it cannot tell (digits, emoji, a SKU alone).
func DetectLanguage(text string) string {
	var arabic, latin int
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Arabic, r):
			arabic++
		case r < 0x250 && unicode.IsLetter(r):
			latin++
		}
	}
	switch {
	case arabic == 0 && latin == 0:
		return ""
	case arabic >= 3 && float64(arabic) >= 0.3*float64(arabic+latin):
		return "ar"
	case latin >= 2:
		return "en"
	case arabic > 0:
		return "ar"
	}
	return ""
}

var (
	mdHeader   = regexp.MustCompile(`(?m)^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$`)
	mdTableSep = regexp.MustCompile(`(?m)^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$\n?`)
	mdTableRow = regexp.MustCompile(`(?m)^\s*\|(.+)\|\s*$`)
	mdBold     = regexp.MustCompile(`\*\*(.+?)\*\*`)
	mdBoldU    = regexp.MustCompile(`__(.+?)__`)
	mdLink     = regexp.MustCompile(`\[([^\]]+)\]\((https?://[^)\s]+)\)`)
	mdBullet   = regexp.MustCompile(`(?m)^(\s*)[*+]\s+`)
	manyBlank  = regexp.MustCompile(`\n{3,}`)
)

// FormatWhatsApp turns Markdown a model may produce into WhatsApp formatting: no headers,
// no tables, *single* asterisks for bold, plain links, "- " bullets.
func FormatWhatsApp(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = mdHeader.ReplaceAllString(s, "*$1*")
	s = mdTableSep.ReplaceAllString(s, "")
	s = mdTableRow.ReplaceAllStringFunc(s, func(row string) string {
		cells := strings.Split(strings.Trim(strings.TrimSpace(row), "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		return "- " + strings.Join(cells, " · ")
	})
	s = mdBold.ReplaceAllString(s, "*$1*")
	s = mdBoldU.ReplaceAllString(s, "*$1*")
	s = mdLink.ReplaceAllString(s, "$1: $2")
	s = mdBullet.ReplaceAllString(s, "$1- ")
	s = manyBlank.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

// GuardInput is what a reply is checked against.
type GuardInput struct {
	Language string
	// ToolText is every tool output of this turn (JSON or text): the only source of
	// prices, stock figures and percentages.
	ToolText []string
	// CustomerText is what the customer wrote recently (quantities they stated may be repeated).
	CustomerText []string
	// KnownText is other trusted context (facts, summary) whose numbers may be repeated.
	KnownText []string
}

var (
	// A number in a price/stock/percent context.
	numberRe     = regexp.MustCompile(`\d[\d,]*(?:\.\d+)?`)
	moneyRe      = regexp.MustCompile(`(?i)(?:aed|dhs?|dirhams?|درهم|د\.إ)\s*\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s*(?:aed|dhs?|dirhams?|درهم|د\.إ)`)
	stockRe      = regexp.MustCompile(`(?i)\d[\d,]*\s*(?:units?|pcs|pieces?|chairs?|desks?|items?)?\s*(?:in stock|available|left|متوفر|متوفرة|متاحة|في المخزون)|(?:stock|available|متوفر|المخزون)[^\d\n]{0,12}\d[\d,]*`)
	pctRe        = regexp.MustCompile(`\d+(?:\.\d+)?\s*(?:%|٪|percent)`)
	promise      = regexp.MustCompile(`(?i)(i'?ll|i will|let me|we will|we'll)\s+(check|confirm|get back|come back|find out)|get back to you|سأتحقق|سأعود إليك|سأرجع إليك`)
	arabicDigits = strings.NewReplacer("٠", "0", "١", "1", "٢", "2", "٣", "3", "٤", "4", "٥", "5", "٦", "6", "٧", "7", "٨", "8", "٩", "9", "٫", ".", "٬", ",")
)

// CheckReply returns the problems that make a reply unsendable as it is (LESSONS 7, 9, 16,
// 17): numbers of prices, stock or discounts that no tool of this turn produced, more than
// one question, the wrong language, and promises to "check and come back".
func CheckReply(reply string, in GuardInput) []string {
	var problems []string
	text := arabicDigits.Replace(reply)

	allowed := numberSet(in.ToolText...)
	customer := numberSet(in.CustomerText...)
	known := numberSet(in.KnownText...)
	derived := deriveNumbers(allowed, customer)
	ok := func(n float64) bool {
		return allowed[key(n)] || customer[key(n)] || known[key(n)] || derived[key(n)]
	}
	var unknown []string
	seen := map[string]bool{}
	for _, re := range []*regexp.Regexp{moneyRe, stockRe, pctRe} {
		for _, m := range re.FindAllString(text, -1) {
			for _, ns := range numberRe.FindAllString(m, -1) {
				n, err := parseNumber(ns)
				if err != nil || ok(n) || seen[ns] {
					continue
				}
				seen[ns] = true
				unknown = append(unknown, ns)
			}
		}
	}
	if len(unknown) > 0 {
		problems = append(problems, fmt.Sprintf("the reply states %s, which no tool result of this turn contains: take every price, stock figure, discount and total from tool results (call search_products or get_stock), or leave the number out",
			strings.Join(unknown, ", ")))
	}
	if q := strings.Count(reply, "?") + strings.Count(reply, "؟"); q > 1 {
		problems = append(problems, fmt.Sprintf("the reply asks %d questions: ask at most one question", q))
	}
	if in.Language != "" {
		if got := replyLanguage(reply, in.ToolText); got != "" && got != in.Language {
			want := map[string]string{"en": "English", "ar": "Arabic"}[in.Language]
			problems = append(problems, "the reply is not in "+want+": write the whole reply in "+want+" (product names and SKUs may stay in Latin script)")
		}
	}
	if promise.MatchString(reply) {
		problems = append(problems, "the reply promises to check or come back later: do the check now with a tool, or say what the customer can expect without promising a later message")
	}
	return problems
}

// replyLanguage judges the language of a reply ignoring product names and SKUs quoted from
// the tools (an Arabic reply naming "Executive Chair CH 145" is still Arabic).
func replyLanguage(reply string, toolText []string) string {
	tools := strings.ToLower(strings.Join(toolText, " "))
	var kept []string
	for _, w := range strings.Fields(reply) {
		lw := strings.ToLower(strings.Trim(w, ".,:;!?()*\"'"))
		if lw == "" || strings.ContainsAny(lw, "0123456789") || (len(lw) > 1 && strings.Contains(tools, lw)) {
			continue
		}
		kept = append(kept, w)
	}
	return DetectLanguage(strings.Join(kept, " "))
}

func numberSet(texts ...string) map[string]bool {
	out := map[string]bool{}
	for _, t := range texts {
		for _, ns := range numberRe.FindAllString(arabicDigits.Replace(t), -1) {
			if n, err := parseNumber(ns); err == nil {
				out[key(n)] = true
			}
		}
	}
	return out
}

// deriveNumbers adds what a consultant may compute from tool numbers: quantity × unit
// price, VAT (5 %) and totals with VAT, and sums of two line totals.
func deriveNumbers(tool, customer map[string]bool) map[string]bool {
	vals := func(m map[string]bool) []float64 {
		out := make([]float64, 0, len(m))
		for k := range m {
			v, _ := strconv.ParseFloat(k, 64)
			out = append(out, v)
		}
		return out
	}
	prices := vals(tool)
	qtys := vals(customer)
	for _, q := range vals(tool) {
		if q > 0 && q <= 1000 && q == math.Trunc(q) {
			qtys = append(qtys, q)
		}
	}
	out := map[string]bool{}
	lines := []float64{}
	for _, p := range prices {
		for _, q := range qtys {
			if q <= 0 || q > 10000 {
				continue
			}
			lines = append(lines, p*q)
		}
		lines = append(lines, p)
	}
	if len(lines) > 400 {
		lines = lines[:400]
	}
	add := func(v float64) {
		out[key(v)] = true
		out[key(v*0.05)] = true
		out[key(v*1.05)] = true
	}
	for i, a := range lines {
		add(a)
		for _, b := range lines[i+1:] {
			add(a + b)
		}
	}
	return out
}

func parseNumber(s string) (float64, error) {
	return strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
}

// key rounds to cents so 1,234.50 and 1234.5 match.
func key(n float64) string { return strconv.FormatFloat(math.Round(n*100)/100, 'f', -1, 64) }
