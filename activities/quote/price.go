// Package quote is the quotation: customer prices from the segment table, the quote gates
// (who, where, which exact SKUs, how many), reproducible totals, the branded PDF (headless
// Chromium) at a signed, expiring URL, and the service that turns a confirmed quote into a
// draft sale order and moves the CRM deal. Workflows reach it through activities; the API
// uses the same service.
package quote

import (
	"fmt"
	"math"
	"strings"

	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/db"
)

// CustomerPrice is the unit price a customer pays, AED excl. VAT: the segment discount
// applies to the catalog list price; when the product is on sale the customer pays the
// lower of the sale price and their discounted price (discounts never stack). No segment,
// no discount: the catalog price.
func CustomerPrice(listPrice, effectivePrice, discountPct float64) float64 {
	if discountPct <= 0 {
		return effectivePrice
	}
	list := zoho.Fils(listPrice)
	discounted := list - zoho.PercentOf(list, discountPct)
	if eff := zoho.Fils(effectivePrice); eff > 0 && eff < discounted {
		return float64(eff) / 100
	}
	return float64(discounted) / 100
}

// Totals of a quote (AED). Computed in whole fils, so the same lines always give the same
// numbers: line = unit × qty, subtotal = Σ lines, VAT = round(subtotal × rate).
type Totals struct {
	Subtotal   float64 `json:"subtotal"`
	VATPercent float64 `json:"vat_percent"`
	VAT        float64 `json:"vat"`
	Total      float64 `json:"total"`
}

// Compute fills each line's total and returns the quote's totals.
func Compute(lines []db.QuoteLine, vatPct float64) Totals {
	var sub int64
	for i := range lines {
		lt := zoho.Fils(lines[i].UnitPrice) * int64(lines[i].Qty)
		lines[i].LineTotal = float64(lt) / 100
		sub += lt
	}
	vat := zoho.PercentOf(sub, vatPct)
	return Totals{Subtotal: float64(sub) / 100, VATPercent: vatPct, VAT: float64(vat) / 100, Total: float64(sub+vat) / 100}
}

// Money formats an AED amount with two decimals and thousands separators: 12,096.00.
func Money(v float64) string {
	neg := v < 0
	f := zoho.Fils(math.Abs(v))
	s := fmt.Sprintf("%d", f/100)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := fmt.Sprintf("%s.%02d", b.String(), f%100)
	if neg {
		return "-" + out
	}
	return out
}

// Percent formats a percentage without trailing zeros: 15, 12.5.
func Percent(p float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", p), "0"), ".")
}
