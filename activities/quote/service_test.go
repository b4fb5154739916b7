package quote_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/quote"
	"github.com/treejar/noor/activities/zoho/zohotest"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/seed"
	"github.com/treejar/noor/internal/testenv"
)

// service builds the production quotation service over the demo catalog and the Zoho fake.
func service(t *testing.T) (*quote.Service, *zohotest.Server, *db.Store) {
	t.Helper()
	fake := zohotest.New()
	t.Cleanup(fake.Close)
	store := testenv.DB(t)
	cfg := config.Config{PublicBaseURL: "https://noor.example.com", SigningKey: "k-0123456789abcdef0123456789abcdef", Zoho: fake.Config()}
	_, err := seed.Run(testenv.Ctx(t, 5*time.Minute), seed.Deps{Store: store, Config: cfg, Log: testenv.Logger(t)})
	require.NoError(t, err)
	set, err := activities.Build(activities.Deps{Config: cfg, Store: store, Log: testenv.Logger(t)})
	require.NoError(t, err)
	t.Cleanup(set.Quotes.Renderer.Close)
	return set.Quotes, fake, store
}

var ahmed = db.QuoteCustomer{Name: "Ahmed Khalil", Company: "Khalil Furniture Trading", Phone: "+971552345671",
	Address: "Warehouse 14, Al Quoz Industrial Area 3, Dubai"}

// The customer's words, parsed into order lines and resolved against the catalog: a model
// number is never a quantity, look-alike letters do not matter, a price range is not a SKU.
func TestOrderLinesFromTheCustomersWords(t *testing.T) {
	svc, _, _ := service(t)
	ctx := testenv.Ctx(t, time.Minute)
	items := func(text string) []quote.Item {
		lines, err := svc.Catalog.ResolveOrderLines(ctx, text)
		require.NoError(t, err)
		var out []quote.Item
		for _, l := range lines {
			out = append(out, quote.Item{SKU: l.SKU, Qty: float64(l.Qty)})
		}
		return out
	}

	got := items("I need 4 CH 616")
	require.Len(t, got, 1)
	assert.Equal(t, quote.Item{SKU: "CH 616", Qty: 4}, got[0], "CH 616 is the SKU, 4 the quantity")
	lines, missing, blocked, err := svc.Resolve(ctx, got, 0)
	require.NoError(t, err)
	assert.Empty(t, lines)
	assert.Empty(t, blocked)
	require.Len(t, missing, 1, "a model family: ask which one")
	assert.Equal(t, "items[0].sku", missing[0].Field)
	assert.ElementsMatch(t, []string{"CH 616 black", "CH 616 NEW black", "CH 616 NEW grey"}, missing[0].Candidates)

	// Cyrillic С and Н: the same SKU.
	got = items("I need 4 СН 616 black")
	require.Len(t, got, 1)
	assert.Equal(t, quote.Item{SKU: "CH 616 black", Qty: 4}, got[0])
	lines, missing, _, err = svc.Resolve(ctx, []quote.Item{{SKU: "СН 616 black", Qty: 4}}, 15)
	require.NoError(t, err)
	require.Empty(t, missing)
	require.Len(t, lines, 1)
	assert.Equal(t, "CH 616 black", lines[0].SKU)
	assert.Equal(t, 187.0, lines[0].UnitPrice)
	assert.Equal(t, 220.0, lines[0].ListPrice)
	assert.NotEmpty(t, lines[0].ItemID, "the Zoho item the sale order line uses")

	assert.Empty(t, items("chairs from 500 to 600 AED"), "a price range is not a SKU")
	_, missing, _, err = svc.Resolve(ctx, []quote.Item{{SKU: "from 500 to 600 AED", Qty: 1}}, 0)
	require.NoError(t, err)
	require.Len(t, missing, 1)
	assert.Contains(t, missing[0].Message, "not a catalog SKU")

	// The same SKU twice is one line; a missing quantity is asked for.
	lines, missing, _, err = svc.Resolve(ctx, []quote.Item{{SKU: "NOVO 2400", Qty: 1}, {SKU: "novo-2400", Qty: 2}, {SKU: "CH 120 Grey"}}, 0)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	assert.Equal(t, 3, lines[0].Qty)
	require.Len(t, missing, 1)
	assert.Equal(t, "items[2].qty", missing[0].Field)
}

func TestItemsAManagerMustPrice(t *testing.T) {
	svc, _, _ := service(t)
	ctx := testenv.Ctx(t, time.Minute)
	p, err := svc.Prepare(ctx, quote.Request{Key: "t1", Customer: ahmed, Segment: "Wholesale",
		Items: []quote.Item{{SKU: "OF-HAI-Luma-Reception-RJ 9788-8-1600-Walnut", Qty: 1}, {SKU: "CH 145 white", Qty: 2}, {SKU: "NOVO 2400", Qty: 1}}})
	require.NoError(t, err)
	assert.Nil(t, p.Quote, "no quote")
	require.Len(t, p.Blocked, 2)
	assert.Contains(t, p.Blocked[0].Message, "no catalog price", "Zoho's rate 3200 is never used")
	assert.Contains(t, p.Blocked[1].Message, "not in the inventory system")
}

func TestPlaceOrderOnceAndDealOnce(t *testing.T) {
	svc, fake, store := service(t)
	ctx := testenv.Ctx(t, 2*time.Minute)
	p, err := svc.Prepare(ctx, quote.Request{Key: "api:po-1", Customer: ahmed, Segment: "wholesale", Status: "confirmed",
		Items: []quote.Item{{SKU: "CH 616 black", Qty: 4}}})
	require.NoError(t, err)
	require.NotNil(t, p.Quote)
	assert.Equal(t, "Wholesale", p.Quote.Segment)
	assert.Equal(t, 785.4, p.Quote.Total)
	again, err := svc.Prepare(ctx, quote.Request{Key: "api:po-1", Customer: ahmed, Status: "confirmed",
		Items: []quote.Item{{SKU: "CH 616 black", Qty: 9}}})
	require.NoError(t, err)
	assert.Equal(t, p.Quote.ID, again.Quote.ID, "a retried prepare gets the first row")
	assert.Equal(t, 785.4, again.Quote.Total)

	q1, err := svc.PlaceOrder(ctx, p.Quote.ID)
	require.NoError(t, err)
	// The quote row forgets its sale order (a crash before it was recorded): the order is
	// found by reference, not created again.
	_, err = store.Pool.Exec(ctx, `UPDATE quotes SET sale_order_id = NULL, status = 'confirmed' WHERE id = $1`, p.Quote.ID)
	require.NoError(t, err)
	q2, err := svc.PlaceOrder(ctx, p.Quote.ID)
	require.NoError(t, err)
	assert.Equal(t, q1.SaleOrderID, q2.SaleOrderID)
	assert.Len(t, fake.SalesOrdersByReference(p.Quote.Ref), 1)
	assert.Equal(t, 1, fake.Calls("POST", "/inventory/v1/salesorders"))

	d1, err := svc.MoveDeal(ctx, q2, "Offer sent")
	require.NoError(t, err)
	assert.Equal(t, "Offer sent", d1.Stage)
	assert.Equal(t, 748.0, *d1.Amount, "deal amounts exclude VAT")
	// The same crash for the deal: the quote forgets it; the marker finds it again.
	_, err = store.Pool.Exec(ctx, `UPDATE quotes SET crm_deal_id = '' WHERE id = $1`, p.Quote.ID)
	require.NoError(t, err)
	q3, err := store.Quote(ctx, p.Quote.ID)
	require.NoError(t, err)
	d2, err := svc.MoveDeal(ctx, q3, "Order confirmed")
	require.NoError(t, err)
	assert.Equal(t, d1.ID, d2.ID)
	assert.Equal(t, "Order confirmed", d2.Stage)
	assert.Equal(t, 1, fake.Calls("POST", "/crm/v7/Deals"))
	assert.Zero(t, fake.Calls("POST", "/crm/v7/Contacts"), "Ahmed is already a contact")
}

func TestSaleOrderTotalMismatchBlocksTheQuote(t *testing.T) {
	svc, fake, _ := service(t)
	ctx := testenv.Ctx(t, time.Minute)
	fake.SetTaxPercent(0) // Zoho's tax settings disagree with ours
	p, err := svc.Prepare(ctx, quote.Request{Key: "api:mismatch", Customer: ahmed, Status: "confirmed",
		Items: []quote.Item{{SKU: "NOVO 2400", Qty: 1}}})
	require.NoError(t, err)
	_, err = svc.PlaceOrder(ctx, p.Quote.ID)
	require.ErrorIs(t, err, quote.ErrTotalMismatch)
	assert.Contains(t, err.Error(), "AED 2,040.00")
	assert.Contains(t, err.Error(), "AED 2,142.00")
}
