package retrieval

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/treejar/noor/internal/textnorm"
)

// OrderLine is a product code with a quantity, as a customer wrote it.
type OrderLine struct {
	SKU string // the catalog SKU when resolved, else the normalised code as written
	Qty int    // 0 when the customer gave no quantity
	// Candidates are the catalog SKUs of the model family when the code is ambiguous
	// ("CH 616" → "CH 616 black", "CH 616 NEW black", …); filled by Retriever.ResolveOrderLines.
	Candidates []string `json:",omitempty"`
}

var (
	qtyBefore = regexp.MustCompile(`(?i)(\d{1,5})\s*(?:x|×|pcs|pieces|units|nos|qty|of|عدد|قطعة|قطعه)?\s*$`)
	qtyMarked = regexp.MustCompile(`(?i)^\s*(?:[-:,]\s*)?(?:x|×|qty|quantity|عدد)\s*[:=]?\s*(\d{1,5})\b`)
	qtyUnit   = regexp.MustCompile(`(?i)^\s*(?:[-:,]\s*)?(\d{1,5})\s*(?:pcs|pieces|units|nos|qty|x\b|قطع|قطعة|قطعه)`)
)

// ParseOrderLines finds product codes and their quantities: "I need 4 CH 616" → {CH 616, 4};
// "12 x CH 145 black" and "CH 145 black x 12" → {CH 145 black, 12}. known reports whether a
// normalised code is a catalog SKU: the longest known span wins ("CH 145 black" rather than
// "CH 145"), and a model number is never read as a quantity. Codes the catalog does not know
// are still returned (normalised) when they look like model codes.
func ParseOrderLines(text string, known func(sku string) bool) []OrderLine {
	folded := textnorm.Fold(text)
	toks := tokenSpans(folded)
	var out []OrderLine
	for i := 0; i < len(toks); {
		// Longest known span starting at token i (up to 7 tokens).
		best := -1
		if known != nil {
			for n := min(7, len(toks)-i); n >= 1; n-- {
				code := NormalizeSKU(folded[toks[i].start:toks[i+n-1].end])
				if hasLetter(code) && hasDigit(code) && known(code) {
					best = i + n - 1
					break
				}
			}
		}
		var start, end int
		var code string
		if best >= 0 {
			start, end = toks[i].start, toks[best].end
			code = NormalizeSKU(folded[start:end])
		} else {
			// Not known: a model-code pattern starting exactly here?
			spans := skuSpans(folded[toks[i].start:])
			if len(spans) == 0 || spans[0].start != 0 {
				i++
				continue
			}
			start, end = toks[i].start, toks[i].start+spans[0].end
			code = spans[0].code
		}
		line := OrderLine{SKU: code}
		if m := qtyBefore.FindStringSubmatch(folded[max(0, start-24):start]); m != nil {
			line.Qty, _ = strconv.Atoi(m[1])
		}
		if line.Qty == 0 {
			if m := qtyMarked.FindStringSubmatch(folded[end:]); m != nil {
				line.Qty, _ = strconv.Atoi(m[1])
			} else if m := qtyUnit.FindStringSubmatch(folded[end:]); m != nil {
				line.Qty, _ = strconv.Atoi(m[1])
			}
		}
		out = append(out, line)
		// Skip the tokens the code used.
		for i < len(toks) && toks[i].start < end {
			i++
		}
	}
	return out
}

type tokSpan struct{ start, end int }

// tokenSpans splits on spaces and commas, keeping "-" and "." inside codes.
func tokenSpans(s string) []tokSpan {
	var out []tokSpan
	start := -1
	for i, r := range s {
		sep := r == ' ' || r == ',' || r == ';' || r == '\n' || r == '\t' || r == '?' || r == '!' || r == '(' || r == ')'
		if sep {
			if start >= 0 {
				out = append(out, tokSpan{start, i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, tokSpan{start, len(s)})
	}
	return out
}

func hasLetter(s string) bool { return strings.IndexFunc(s, func(r rune) bool { return r > '9' }) >= 0 }
func hasDigit(s string) bool  { return strings.IndexAny(s, "0123456789") >= 0 }
