package retrieval_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/treejar/noor/activities/retrieval"
)

func f(v float64) *float64 { return &v }

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		in       string
		min, max *float64
		category string
		colour   string
		sku      string
		inStock  bool
	}{
		{in: "executive chair under 700 AED", max: f(700), category: "executive-chair"},
		{in: "desks between 500 and 900", min: f(500), max: f(900), category: "desks-tables"},
		{in: "from 500 to 600 AED", min: f(500), max: f(600)},
		{in: "كرسي تنفيذي أقل من ٧٠٠ درهم", max: f(700), category: "executive-chair"},
		{in: "أريد كرسي مكتب مريح", category: "chairs"},
		{in: "CH 616", sku: "CH 616"},
		{in: "4 CH 616", sku: "CH 616"},
		{in: "СН 616 black", sku: "CH 616", colour: "black"},
		{in: "12 chairs under 1,200 dhs in stock", max: f(1200), category: "chairs", inStock: true},
		{in: "white cafeteria chairs", category: "cafeteria-furniture", colour: "white"},
		{in: "standing desk, budget 1.5k", max: f(1500), category: "height-adjustable-desks"},
		{in: "meeting table for 10 people", category: "meeting-tables"},
		{in: "a desk and a sofa", category: ""},
		{in: "طاولة اجتماعات رمادية", category: "meeting-tables", colour: "grey"},
		{in: "any update on SO-00019?"},
		{in: "over 2000 AED", min: f(2000)},
		{in: "around 500 aed", min: f(400), max: f(600)},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, _ := retrieval.ParseQuery(tc.in)
			assert.Equal(t, tc.min, got.MinPrice, "min")
			assert.Equal(t, tc.max, got.MaxPrice, "max")
			assert.Equal(t, tc.category, got.Category, "category")
			assert.Equal(t, tc.colour, got.Colour, "colour")
			assert.Equal(t, tc.sku, got.SKU, "sku")
			assert.Equal(t, tc.inStock, got.InStockOnly, "in stock")
			assert.Equal(t, "parser", got.Source)
		})
	}
	_, rest := retrieval.ParseQuery("executive chair under 700 AED in stock")
	assert.Equal(t, "executive chair", rest)
}

func TestNormalizeSKU(t *testing.T) {
	for in, want := range map[string]string{
		"CH 145 black": "CH 145 BLACK", "ch-145-Black": "CH 145 BLACK", "CH145black": "CH 145 BLACK",
		"СН 616": "CH 616", "NOVO 1200 - 2P WS": "NOVO 1200 2 P WS", "COMP CD.0850 White": "COMP CD 0850 WHITE",
	} {
		assert.Equal(t, want, retrieval.NormalizeSKU(in), in)
	}
}

func TestParseOrderLines(t *testing.T) {
	known := map[string]bool{"CH 145 BLACK": true, "CH 616 BLACK": true, "NOVO 1200": true, "AF 1200 WHITE": true}
	isKnown := func(s string) bool { return known[s] }
	for _, tc := range []struct {
		in   string
		want []retrieval.OrderLine
	}{
		{"I need 4 CH 616", []retrieval.OrderLine{{SKU: "CH 616", Qty: 4}}},
		{"CH 616", []retrieval.OrderLine{{SKU: "CH 616"}}},
		{"12 x CH 145 black", []retrieval.OrderLine{{SKU: "CH 145 BLACK", Qty: 12}}},
		{"CH 145 black x 12", []retrieval.OrderLine{{SKU: "CH 145 BLACK", Qty: 12}}},
		{"2 NOVO 1200 and 3 AF 1200 White", []retrieval.OrderLine{{SKU: "NOVO 1200", Qty: 2}, {SKU: "AF 1200 WHITE", Qty: 3}}},
		{"СН 616 black - 5 pcs", []retrieval.OrderLine{{SKU: "CH 616 BLACK", Qty: 5}}},
		{"from 500 to 600 AED", nil},
		{"Yes please, 12 x CH 145 black, for Cedarline Consulting.", []retrieval.OrderLine{{SKU: "CH 145 BLACK", Qty: 12}}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, retrieval.ParseOrderLines(tc.in, isKnown))
		})
	}
}
