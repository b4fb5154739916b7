package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/testenv"
)

func TestSegments(t *testing.T) {
	store := testenv.DB(t)
	ctx := testenv.Ctx(t, time.Minute)
	segs, err := store.Segments(ctx)
	require.NoError(t, err)
	byName := map[string]float64{}
	for _, g := range segs {
		byName[g.Name] = g.DiscountPercent
	}
	for name, pct := range map[string]float64{"Wholesale": 15, "Retail chain B2B": 15, "Horeca": 10, "Design Agency": 10,
		"Developer": 5, "End-client B2C": 0, "VIP": 0, "Regular": 0, "New": 0} {
		got, ok := byName[name]
		assert.True(t, ok, name)
		assert.Equal(t, pct, got, name)
	}

	pct, canonical, err := store.SegmentDiscount(ctx, "  wholesale ")
	require.NoError(t, err)
	assert.Equal(t, 15.0, pct)
	assert.Equal(t, "Wholesale", canonical)
	pct, _, err = store.SegmentDiscount(ctx, "Platinum")
	require.NoError(t, err)
	assert.Zero(t, pct, "a segment the table does not know gets no discount")
	pct, _, err = store.SegmentDiscount(ctx, "")
	require.NoError(t, err)
	assert.Zero(t, pct)

	// The console edits the table: update (any case), create, delete; bad values are refused.
	g, err := store.SaveSegment(ctx, db.Segment{Name: "vip", DiscountPercent: 7.5, Description: "approved by the owners"}, "admin")
	require.NoError(t, err)
	assert.Equal(t, "VIP", g.Name, "an existing segment keeps its spelling")
	assert.Equal(t, 7.5, g.DiscountPercent)
	assert.Equal(t, "admin", g.UpdatedBy)
	_, err = store.SaveSegment(ctx, db.Segment{Name: "Government", DiscountPercent: 3}, "admin")
	require.NoError(t, err)
	pct, _, err = store.SegmentDiscount(ctx, "GOVERNMENT")
	require.NoError(t, err)
	assert.Equal(t, 3.0, pct)
	for _, bad := range []db.Segment{{Name: " ", DiscountPercent: 1}, {Name: "Greedy", DiscountPercent: 60}, {Name: "Negative", DiscountPercent: -1}} {
		_, err := store.SaveSegment(ctx, bad, "admin")
		assert.ErrorIs(t, err, db.ErrInvalidSegment, bad.Name)
	}
	require.NoError(t, store.DeleteSegment(ctx, "government"))
	assert.ErrorIs(t, store.DeleteSegment(ctx, "government"), db.ErrNotFound)
	pct, _, err = store.SegmentDiscount(ctx, "Government")
	require.NoError(t, err)
	assert.Zero(t, pct)
}

func TestQuoteVersions(t *testing.T) {
	store := testenv.DB(t)
	ctx := context.Background()
	var conv string
	require.NoError(t, store.Pool.QueryRow(ctx, `INSERT INTO conversations (channel_id, chat_id) VALUES ('c', '971552000111')
		RETURNING id::text`).Scan(&conv))
	base := db.Quote{ConversationID: conv, Status: "awaiting_consent", Provider: "local", Customer: db.QuoteCustomer{Name: "Sara"},
		Lines: []db.QuoteLine{{SKU: "CH 616 black", Qty: 4, UnitPrice: 220, LineTotal: 880}}, Subtotal: 880, VATPercent: 5, VAT: 44,
		Total: 924, ValidUntil: time.Date(2026, 10, 16, 0, 0, 0, 0, time.UTC)}
	v1 := base
	v1.IdempotencyKey, v1.Version = "conv:"+conv+":v1", 1
	q1, err := store.CreateQuote(ctx, v1)
	require.NoError(t, err)
	assert.Regexp(t, `^NQ-\d{6}-[0-9A-F]{4}$`, q1.Ref)
	retry, err := store.CreateQuote(ctx, v1)
	require.NoError(t, err)
	assert.Equal(t, q1.ID, retry.ID, "one row per version")
	assert.Equal(t, q1.Ref, retry.Ref)

	v2 := base
	v2.IdempotencyKey, v2.Version, v2.Total = "conv:"+conv+":v2", 2, 1000
	q2, err := store.CreateQuote(ctx, v2)
	require.NoError(t, err)
	assert.NotEqual(t, q1.Ref, q2.Ref)
	old, err := store.Quote(ctx, q1.ID)
	require.NoError(t, err)
	assert.Equal(t, "superseded", old.Status, "only the newest version can be confirmed")
	assert.Error(t, store.ConfirmQuote(ctx, q1.ID))
	require.NoError(t, store.ConfirmQuote(ctx, q2.ID))
	require.NoError(t, store.ConfirmQuote(ctx, q2.ID), "idempotent")

	require.NoError(t, store.SetQuoteOrdered(ctx, db.QuoteOrdered{QuoteID: q2.ID, SaleOrderID: "so-1", SaleOrderNumber: "SO-00022", SaleOrderTotal: 1000}))
	require.NoError(t, store.SetQuoteOrdered(ctx, db.QuoteOrdered{QuoteID: q2.ID, SaleOrderID: "so-1", SaleOrderNumber: "SO-00022", SaleOrderTotal: 1000}))
	assert.Error(t, store.SetQuoteOrdered(ctx, db.QuoteOrdered{QuoteID: q2.ID, SaleOrderID: "so-2", SaleOrderNumber: "SO-00023"}),
		"one quote version, one sale order")
	got, err := store.QuoteBySaleOrder(ctx, "so-1")
	require.NoError(t, err)
	assert.Equal(t, "ordered", got.Status)
	assert.Equal(t, "SO-00022", got.SaleOrderNumber)

	require.NoError(t, store.SaveQuoteDocument(ctx, q2.ID, []byte("%PDF-first"), "a"))
	require.NoError(t, store.SaveQuoteDocument(ctx, q2.ID, []byte("%PDF-second"), "b"))
	pdf, _, err := store.QuoteDocument(ctx, q2.ID)
	require.NoError(t, err)
	assert.Equal(t, "%PDF-first", string(pdf), "the first rendering is the document")
}
