package quote_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/quote"
	"github.com/treejar/noor/db"
)

func TestCustomerPrice(t *testing.T) {
	for _, tc := range []struct {
		name           string
		list, eff, pct float64
		want           float64
	}{
		{"no segment: the catalog price", 220, 220, 0, 220},
		{"Wholesale 15 %", 220, 220, 15, 187},
		{"Developer 5 % rounds to the fils", 606.64, 606.64, 5, 576.31},
		{"Horeca 10 %", 2040, 2040, 10, 1836},
		{"on sale, no segment: the sale price", 175, 159, 0, 159},
		{"on sale below the discounted price: the sale price (no stacking)", 175, 159, 5, 159},
		{"sale price below the discounted price: the sale price", 289, 245, 15, 245},
		{"discounted price below the sale price: the discounted price", 289, 279, 15, 245.65},
		{"fractional percent", 100, 100, 12.5, 87.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, quote.CustomerPrice(tc.list, tc.eff, tc.pct))
		})
	}
}

func TestComputeIsReproducible(t *testing.T) {
	lines := func() []db.QuoteLine {
		return []db.QuoteLine{{SKU: "XWST 2470", Qty: 3, UnitPrice: 606.64}, {SKU: "COMP CD.0850 White", Qty: 7, UnitPrice: 58},
			{SKU: "CH 616 black", Qty: 4, UnitPrice: 187}}
	}
	a, b := lines(), lines()
	ta, tb := quote.Compute(a, 5), quote.Compute(b, 5)
	assert.Equal(t, ta, tb, "the same inputs give the same totals")
	assert.Equal(t, 1819.92, a[0].LineTotal)
	assert.Equal(t, 406.0, a[1].LineTotal)
	assert.Equal(t, 748.0, a[2].LineTotal)
	assert.Equal(t, 2973.92, ta.Subtotal)
	assert.Equal(t, 148.70, ta.VAT) // 148.696 → 148.70
	assert.Equal(t, 3122.62, ta.Total)
	assert.Equal(t, ta.Subtotal+ta.VAT, ta.Total)

	// Floating point never leaks: 0.1 + 0.2 style sums stay exact in fils.
	many := make([]db.QuoteLine, 30)
	for i := range many {
		many[i] = db.QuoteLine{Qty: 1, UnitPrice: 0.1}
	}
	assert.Equal(t, 3.0, quote.Compute(many, 0).Subtotal)
}

func TestMoneyAndPercent(t *testing.T) {
	assert.Equal(t, "12,096.00", quote.Money(12096))
	assert.Equal(t, "785.40", quote.Money(785.4))
	assert.Equal(t, "1,234,567.89", quote.Money(1234567.89))
	assert.Equal(t, "0.05", quote.Money(0.05))
	assert.Equal(t, "-3.50", quote.Money(-3.5))
	assert.Equal(t, "15", quote.Percent(15))
	assert.Equal(t, "12.5", quote.Percent(12.5))
}

func TestSpecificAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"Office 1204, Bay Square 5, Business Bay, Dubai": true,
		"Warehouse 14, Al Quoz Industrial Area 3, Dubai": true,
		"JLT Cluster D, Dubai":                           true,
		"Villa 8, Street 12, Mirdif":                     true,
		"مستودع 14، منطقة القوز الصناعية، دبي":           true,
		"شارع الشيخ زايد، برج الساحل":                    true,
		"Dubai":                                 false,
		"Abu Dhabi, UAE":                        false,
		"dubai marina":                          false,
		"JLT, Dubai":                            false,
		"دبي":                                   false,
		"":                                      false,
		"Deliver to our office in Dubai please": false,
	} {
		assert.Equal(t, want, quote.SpecificAddress(addr), addr)
	}
}

func TestCheckCustomerAsksOnlyForWhatIsMissing(t *testing.T) {
	fields := func(ps []quote.Problem) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Field)
		}
		return out
	}
	assert.Empty(t, quote.CheckCustomer(db.QuoteCustomer{Name: "Sara Ahmed", Company: "Blue Lagoon LLC", Address: "Office 1204, Bay Square 5, Business Bay"}))
	assert.Empty(t, quote.CheckCustomer(db.QuoteCustomer{Name: "Sara Ahmed", Individual: true, Address: "Villa 8, Street 12, Mirdif"}))
	assert.Equal(t, []string{"name", "company", "delivery_address"}, fields(quote.CheckCustomer(db.QuoteCustomer{})))
	assert.Equal(t, []string{"name"}, fields(quote.CheckCustomer(db.QuoteCustomer{Name: "Unknown", Company: "X", Address: "Office 5, Tower A, JLT"})))
	got := quote.CheckCustomer(db.QuoteCustomer{Name: "Sara", Company: "X", Address: "Dubai"})
	require.Len(t, got, 1)
	assert.Equal(t, "delivery_address", got[0].Field)
	assert.Contains(t, got[0].Message, "not only the city")
}

func TestSignedLinks(t *testing.T) {
	s := quote.Signer{Key: []byte("k-0123456789abcdef0123456789abcdef")}
	now := time.Date(2026, 10, 1, 10, 0, 0, 0, time.UTC)
	u, err := s.URL("https://noor.example.com/", quote.DocumentPath("NQ-000001-AB12"), now.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(u, "https://noor.example.com/quotes/NQ-000001-AB12.pdf?exp="), u)
	exp := strings.TrimPrefix(strings.Split(u, "exp=")[1], "")
	expStr, sig, _ := strings.Cut(exp, "&sig=")
	path := quote.DocumentPath("NQ-000001-AB12")
	assert.NoError(t, s.Verify(path, expStr, sig, now))
	assert.ErrorIs(t, s.Verify(path, expStr, sig, now.Add(2*time.Hour)), quote.ErrExpired)
	assert.ErrorIs(t, s.Verify(quote.DocumentPath("NQ-000002-AB12"), expStr, sig, now), quote.ErrForged, "another document")
	assert.ErrorIs(t, s.Verify(path, "9999999999", sig, now), quote.ErrForged, "a longer expiry")
	assert.ErrorIs(t, s.Verify(path, expStr, "", now), quote.ErrForged)
	assert.ErrorIs(t, s.Verify(path, "soon", sig, now), quote.ErrForged)
	other := quote.Signer{Key: []byte("another key")}
	assert.ErrorIs(t, other.Verify(path, expStr, sig, now), quote.ErrForged, "another key")
	_, err = quote.Signer{}.URL("https://x", path, now)
	assert.ErrorIs(t, err, quote.ErrNoKey, "no SIGNING_KEY, no links")
}

func TestTexts(t *testing.T) {
	q := db.Quote{Segment: "Wholesale", DiscountPercent: 15, Subtotal: 748, VATPercent: 5, VAT: 37.4, Total: 785.4,
		SaleOrderNumber: "SO-00022", ValidUntil: time.Date(2026, 10, 16, 0, 0, 0, 0, time.UTC),
		Customer: db.QuoteCustomer{Name: "أحمد خليل", Company: "شركة خليل", Address: "مستودع 14، القوز، دبي"},
		Lines:    []db.QuoteLine{{SKU: "CH 616 black", Name: "Executive Office Chair CH 616 black", Qty: 4, ListPrice: 220, UnitPrice: 187, LineTotal: 748}}}
	en := quote.ConfirmationText(q, "en")
	for _, w := range []string{"4 × CH 616 black", "AED 187.00 = AED 748.00", "Wholesale prices: 15% off", "Total: AED 785.40", "Reply *yes*"} {
		assert.Contains(t, en, w)
	}
	ar := quote.ConfirmationText(q, "ar")
	assert.Contains(t, ar, "CH 616 black", "SKUs stay Latin in Arabic")
	assert.Contains(t, ar, "AED 785.40")
	assert.Contains(t, ar, "نعم")
	assert.Equal(t, "Your Treejar quotation SO-00022: total AED 785.40 incl. VAT, valid until 16 Oct 2026.", quote.Caption(q, "en"))
	assert.NotContains(t, quote.Caption(q, "en"), "\n", "one line")
	assert.Equal(t, "the order is in progress; delivery is scheduled for 2026-09-15", quote.StatusText("open", "2026-09-15", "en"))
	assert.Equal(t, "تم توصيل الطلب", quote.StatusText("fulfilled", "", "ar"))
	assert.Equal(t, "this order was cancelled", quote.StatusText("void", "", "en"))
}
