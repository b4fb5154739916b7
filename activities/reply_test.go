package activities

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDetectLanguage(t *testing.T) {
	assert.Equal(t, "ar", DetectLanguage("أريد كرسي مكتب مريح"))
	assert.Equal(t, "ar", DetectLanguage("مرحبا، أحتاج CH 145 black لعشرة موظفين"))
	assert.Equal(t, "en", DetectLanguage("I need 12 chairs under 700 AED"))
	assert.Equal(t, "", DetectLanguage("👍 12"))
	assert.Equal(t, "", DetectLanguage(""))
}

func TestFormatWhatsApp(t *testing.T) {
	in := "## Options\n\n| SKU | Price |\n|---|---|\n| CH 145 black | 503 |\n\n**Best pick**: see [the page](https://treejar.ae/x)\n* one\n+ two"
	out := FormatWhatsApp(in)
	assert.NotContains(t, out, "##")
	assert.NotContains(t, out, "**")
	assert.NotContains(t, out, "|---")
	assert.Contains(t, out, "*Options*")
	assert.Contains(t, out, "- CH 145 black · 503")
	assert.Contains(t, out, "*Best pick*")
	assert.Contains(t, out, "the page: https://treejar.ae/x")
	assert.Contains(t, out, "- one")
	assert.Contains(t, out, "- two")
}

func TestGuardAcceptsNumbersFromTools(t *testing.T) {
	tool := []string{`{"products":[{"sku":"CH 145 black","name":"Executive Office Chair CH 145 black","price_aed_excl_vat":503,"stock":109},{"sku":"CH 616 NEW black","price_aed_excl_vat":610,"stock":3}]}`}
	customer := []string{"I need 12 chairs"}
	reply := "The *CH 145 black* is AED 503 excl. VAT and we have 109 in stock. For 12 chairs that is AED 6,036, or AED 6,337.80 with 5% VAT. Shall I prepare a quotation?"
	assert.Empty(t, CheckReply(reply, GuardInput{Language: "en", ToolText: tool, CustomerText: customer, KnownText: []string{"VAT 5 %"}}))
}

func TestGuardRejectsInventedNumbers(t *testing.T) {
	tool := []string{`{"products":[{"sku":"CH 145 black","price_aed_excl_vat":503}]}`}
	p := CheckReply("Chairs start from AED 480 and we have 40 units in stock.", GuardInput{Language: "en", ToolText: tool})
	if assert.Len(t, p, 1) {
		assert.Contains(t, p[0], "480")
		assert.Contains(t, p[0], "40")
	}
	// No tool this turn at all: any price is invented.
	p = CheckReply("It costs 503 AED.", GuardInput{Language: "en"})
	assert.Len(t, p, 1)
	// Model numbers in SKUs are not prices.
	assert.Empty(t, CheckReply("The CH 616 and NOVO 1200 are popular.", GuardInput{Language: "en"}))
	// A discount percentage nobody gave.
	p = CheckReply("I can give you 15% off.", GuardInput{Language: "en", ToolText: tool})
	assert.Len(t, p, 1)
}

func TestGuardQuestionsLanguageAndPromises(t *testing.T) {
	p := CheckReply("What is your name? And your company? Where to deliver?", GuardInput{Language: "en"})
	assert.Len(t, p, 1)
	assert.Contains(t, p[0], "3 questions")

	// An Arabic reply naming Latin products is Arabic.
	tool := []string{`{"products":[{"sku":"CH 120 Black","name":"Conference Chair CH 120 Black","price_aed_excl_vat":260}]}`}
	ar := "لدينا كرسي Conference Chair CH 120 Black بسعر 260 درهم بدون ضريبة. هل تود عرض سعر؟"
	assert.Empty(t, CheckReply(ar, GuardInput{Language: "ar", ToolText: tool}))
	p = CheckReply("We have the Conference Chair CH 120 Black at 260 AED.", GuardInput{Language: "ar", ToolText: tool})
	if assert.Len(t, p, 1) {
		assert.Contains(t, p[0], "Arabic")
	}
	p = CheckReply("Let me check with the warehouse and get back to you.", GuardInput{Language: "en"})
	if assert.Len(t, p, 1) {
		assert.True(t, strings.Contains(p[0], "check"))
	}
}

func TestGuardArabicIndicDigits(t *testing.T) {
	tool := []string{`{"price_aed_excl_vat":260}`}
	assert.Empty(t, CheckReply("السعر ٢٦٠ درهم", GuardInput{Language: "ar", ToolText: tool}))
	assert.Len(t, CheckReply("السعر ٢٥٠ درهم", GuardInput{Language: "ar", ToolText: tool}), 1)
}

func TestFactsMergeAndLines(t *testing.T) {
	f := Facts{Name: "Lina", Needs: "12 chairs"}
	yes := true
	f.Merge(Facts{Company: "Cedarline", Name: "", IsIndividual: &yes, Items: []FactItem{{SKU: "CH 145 black", Qty: 12}}})
	assert.Equal(t, "Lina", f.Name, "empty values do not erase known facts")
	assert.Equal(t, "Cedarline", f.Company)
	lines := strings.Join(f.Lines(), "\n")
	assert.Contains(t, lines, "12 × CH 145 black")
	assert.Contains(t, lines, "Company: Cedarline")
}
