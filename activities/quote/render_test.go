package quote_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/quote"
	"github.com/treejar/noor/db"
)

// artifacts is the repository's gitignored folder for files a human may want to look at.
func artifacts(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	out := filepath.Join(dir, "testdata", "artifacts", "quote")
	require.NoError(t, os.MkdirAll(out, 0o755))
	return out
}

// PDFText extracts a PDF's text with pdftotext -layout.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	require.NoError(t, err, "pdftotext (poppler-utils, installed by scripts/bootstrap.sh)")
	return string(out)
}

func sampleDocument(name, company, address string) quote.Document {
	lines := []db.QuoteLine{
		{SKU: "CH 616 black", Name: "Executive Office Chair CH 616 black", Description: "Budget mid-back mesh chair", Qty: 4, ListPrice: 220, UnitPrice: 187},
		{SKU: "NOVO 2400", Name: "NOVO desk 2400", Description: "Bench desk for 4", Qty: 2, ListPrice: 2040, UnitPrice: 1734},
	}
	t := quote.Compute(lines, 5)
	return quote.Document{Number: "SO-00022", Ref: "NQ-000001-AB12", Date: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
		ValidUntil: time.Date(2026, 10, 16, 0, 0, 0, 0, time.UTC), Seller: quote.Seller, TRN: "100418386400003",
		Customer: db.QuoteCustomer{Name: name, Company: company, Phone: "+971552345671", Email: "ahmed@example.ae", Address: address},
		Currency: "AED", Lines: lines, Totals: t, PriceNote: "Wholesale prices: 15% off the catalog price.",
		Terms: []string{"Delivery in 2-8 working days after confirmation", "Payment: 50% advance, 50% after installation", "This quotation is valid for 15 days."}}
}

func TestRenderQuotationPDF(t *testing.T) {
	r := quote.NewRenderer(nil)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	doc := sampleDocument("أحمد خليل", "شركة خليل لتجارة الأثاث", "مستودع 14، منطقة القوز الصناعية 3، دبي")
	pdf, err := r.Render(ctx, doc)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF")))
	dir := artifacts(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "arabic.pdf"), pdf, 0o644))

	text := pdfText(t, pdf)
	for _, want := range []string{"QUOTATION", "SO-00022", "NQ-000001-AB12", "100418386400003", "CH 616 black", "NOVO 2400",
		"187.00", "748.00", "1,734.00", "3,468.00", "4,216.00", "210.80", "4,426.80", "VAT 5%", "Grand total",
		"valid for 15 days", "50% advance", "2-8 working days", "+971552345671"} {
		assert.Contains(t, text, want)
	}
	// The Arabic customer block is real text in the PDF (shaped glyphs map back to letters).
	assert.Contains(t, text, "خليل")
	assert.Contains(t, text, "القوز")

	// A picture of the first page, to look at (RTL, shaping, layout).
	cmd := exec.Command("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-", filepath.Join(dir, "arabic"))
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))

	// Rendering is repeatable and fast once the browser runs.
	start := time.Now()
	en := sampleDocument("Sara Ahmed", "", "Office 1204, Bay Square 5, Business Bay, Dubai")
	en.Customer.Individual = true
	pdf2, err := r.Render(ctx, en)
	require.NoError(t, err)
	t.Logf("second render: %s, %d bytes", time.Since(start), len(pdf2))
	text2 := pdfText(t, pdf2)
	assert.Contains(t, text2, "Sara Ahmed")
	assert.Contains(t, text2, "Individual")
	assert.True(t, strings.Contains(text2, "Office 1204"))
}

func TestIdleBrowserStops(t *testing.T) {
	r := quote.NewRenderer(nil)
	r.IdleTimeout = 300 * time.Millisecond
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := r.RenderHTML(ctx, []byte("<p>hello</p>"))
	require.NoError(t, err)
	assert.True(t, r.Running())
	require.Eventually(t, func() bool { return !r.Running() }, 10*time.Second, 50*time.Millisecond, "the idle browser stops")
	pdf, err := r.RenderHTML(ctx, []byte("<p>again</p>"))
	require.NoError(t, err, "and starts again on demand")
	assert.Contains(t, pdfText(t, pdf), "again")
}

// BenchmarkRenderQuotationPDF: one A4 quotation with a warm browser.
func BenchmarkRenderQuotationPDF(b *testing.B) {
	r := quote.NewRenderer(nil)
	defer r.Close()
	ctx := context.Background()
	doc := sampleDocument("أحمد خليل", "شركة خليل لتجارة الأثاث", "مستودع 14، منطقة القوز الصناعية 3، دبي")
	if _, err := r.Render(ctx, doc); err != nil { // start the browser
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Render(ctx, doc); err != nil {
			b.Fatal(err)
		}
	}
}
