package zoho_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/activities/zoho/zohotest"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/seed"
	"github.com/treejar/noor/internal/testenv"
)

// backends runs a test against both providers of the same interfaces: Zoho (the fake) and
// the built-in local CRM/inventory (PostgreSQL, seeded from the same fixtures).
func backends(t *testing.T, fn func(t *testing.T, b zoho.Backends, fake *zohotest.Server, store *db.Store)) {
	t.Run("zoho", func(t *testing.T) {
		fake := zohotest.New()
		t.Cleanup(fake.Close)
		store := testenv.DB(t)
		c := newClient(t, fake, store)
		c.CRM.API.Backoff = 10 * time.Millisecond
		fn(t, zoho.Backends{CRM: c.CRM, Sales: c.Inventory, Client: c}, fake, store)
	})
	t.Run("local", func(t *testing.T) {
		store := testenv.DB(t)
		ctx := testenv.Ctx(t, 5*time.Minute)
		// The catalog (local items) and the CRM/inventory fixtures, like `noor seed`.
		_, err := seed.Run(ctx, seed.Deps{Store: store, Log: testenv.Logger(t)})
		require.NoError(t, err)
		fn(t, zoho.NewBackends(config.Zoho{}, store, testenv.Logger(t)), nil, store)
	})
}

func TestCRMContactsAndDeals(t *testing.T) {
	backends(t, func(t *testing.T, b zoho.Backends, fake *zohotest.Server, _ *db.Store) {
		ctx := testenv.Ctx(t, time.Minute)
		crm := b.CRM

		// Stored as "971552345671" (no plus): any spelling of the number finds it.
		for _, phone := range []string{"+971 55 234 5671", "971552345671", "00971552345671"} {
			c, err := crm.FindContactByPhone(ctx, phone)
			require.NoError(t, err, phone)
			assert.Equal(t, "Ahmed Khalil", c.FullName())
			assert.Equal(t, "Wholesale", c.Segment)
			assert.Equal(t, "Khalil Furniture Trading", c.Company)
		}
		_, err := crm.FindContactByPhone(ctx, "+971 55 200 0111") // a new number: Zoho answers 204
		assert.ErrorIs(t, err, zoho.ErrNotFound)

		created, err := crm.CreateContact(ctx, zoho.ContactInput{FirstName: "Sara", LastName: "Ahmed", Phone: "+971552000111",
			Email: "sara@bluelagoon.ae", LeadSource: "Chatbot", UTM: zoho.UTM{Source: "instagram", Campaign: "q4"}})
		require.NoError(t, err)
		assert.NotEmpty(t, created.ID)
		assert.Equal(t, "Sara Ahmed", created.FullName())
		assert.Equal(t, "Chatbot", created.LeadSource)
		assert.Contains(t, created.Description, "utm_source=instagram")
		again, err := crm.FindContactByPhone(ctx, "971552000111")
		require.NoError(t, err)
		assert.Equal(t, created.ID, again.ID)
		// The same phone again is the same contact (Zoho: DUPLICATE_DATA), never a second one.
		dup, err := crm.CreateContact(ctx, zoho.ContactInput{LastName: "Unknown", Phone: "971552000111"})
		require.NoError(t, err)
		assert.Equal(t, created.ID, dup.ID)

		omar, err := crm.FindContactByPhone(ctx, "971501234567")
		require.NoError(t, err)
		deals, err := crm.ContactDeals(ctx, omar.ID, 3)
		require.NoError(t, err)
		require.Len(t, deals, 1)
		assert.Equal(t, "Order confirmed", deals[0].Stage)
		none, err := crm.ContactDeals(ctx, created.ID, 3)
		require.NoError(t, err)
		assert.Empty(t, none)

		amount := 880.0
		d, err := crm.CreateDeal(ctx, zoho.DealInput{Name: "Blue Lagoon: 4 x CH 616 black", ContactID: created.ID, Stage: "New Lead",
			Amount: &amount, Description: "[noor chat x]", UTM: zoho.UTM{Source: "instagram"}})
		require.NoError(t, err)
		assert.Equal(t, "New Lead", d.Stage)
		assert.Equal(t, created.ID, d.ContactID)
		assert.Equal(t, zoho.DefaultPipeline, d.Pipeline)
		require.NotNil(t, d.Amount)
		assert.Equal(t, 880.0, *d.Amount)
		moved, err := crm.UpdateDeal(ctx, d.ID, zoho.DealUpdate{Stage: "Offer sent"})
		require.NoError(t, err)
		assert.Equal(t, "Offer sent", moved.Stage)
		assert.Equal(t, 880.0, *moved.Amount, "unchanged fields stay")
		got, err := crm.GetDeal(ctx, d.ID)
		require.NoError(t, err)
		assert.Equal(t, "Offer sent", got.Stage)
		list, err := crm.ContactDeals(ctx, created.ID, 5)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Contains(t, list[0].Description, "[noor chat x]")

		_, err = crm.UpdateDeal(ctx, "123", zoho.DealUpdate{Stage: "Offer sent"})
		assert.ErrorIs(t, err, zoho.ErrNotFound)
		_, err = crm.GetDeal(ctx, "123")
		assert.ErrorIs(t, err, zoho.ErrNotFound)

		if fake != nil {
			// Every write was read back: POST then GET of the same record.
			assert.Equal(t, 2, fake.Calls("POST", "/crm/v7/Contacts"), "the second create is answered DUPLICATE_DATA")
			assert.Len(t, fake.CRMContactsByPhone("971552000111"), 1)
			assert.GreaterOrEqual(t, fake.Calls("GET", "/crm/v7/Deals/"+d.ID), 3)
			_, err := crm.CreateDeal(ctx, zoho.DealInput{Name: "x", ContactID: created.ID, Stage: "Not a stage"})
			assert.ErrorContains(t, err, "INVALID_DATA")
		}
	})
}

func TestInventoryCustomersAndSaleOrders(t *testing.T) {
	backends(t, func(t *testing.T, b zoho.Backends, fake *zohotest.Server, _ *db.Store) {
		ctx := testenv.Ctx(t, time.Minute)
		inv := b.Sales

		// Messy phones: "04 321 7788" + mobile "971585551234", "00971529873410".
		for phone, name := range map[string]string{"+971585551234": "HomeNest Retail LLC", "971529873410": "Bluewave Fintech FZ-LLC",
			"+971 55 234 5671": "Khalil Furniture Trading"} {
			c, err := inv.FindCustomerByPhone(ctx, phone)
			require.NoError(t, err, phone)
			assert.Equal(t, name, c.Name)
		}
		saffron, err := inv.FindCustomerByPhone(ctx, "971554443322")
		require.NoError(t, err)
		assert.Equal(t, "inactive", saffron.Status)
		require.NoError(t, inv.ActivateCustomer(ctx, saffron.ID))
		saffron, err = inv.FindCustomerByPhone(ctx, "971554443322")
		require.NoError(t, err)
		assert.Equal(t, "active", saffron.Status)
		_, err = inv.FindCustomerByPhone(ctx, "+971552000111")
		assert.ErrorIs(t, err, zoho.ErrNotFound)

		cust, err := inv.CreateCustomer(ctx, zoho.CustomerInput{Name: "Blue Lagoon LLC", Company: "Blue Lagoon LLC", FirstName: "Sara",
			LastName: "Ahmed", Phone: "+971552000111", Address: "Office 1204, Bay Square 5, Business Bay, Dubai"})
		require.NoError(t, err)
		found, err := inv.FindCustomerByPhone(ctx, "971552000111")
		require.NoError(t, err)
		assert.Equal(t, cust.ID, found.ID)

		so19, err := inv.SalesOrderByNumber(ctx, "SO-00019")
		require.NoError(t, err)
		assert.Equal(t, "confirmed", so19.Status)
		assert.Equal(t, 12096.0, so19.Total)
		assert.Len(t, so19.Lines, 2)
		orders, err := inv.CustomerSalesOrders(ctx, so19.CustomerID, 3)
		require.NoError(t, err)
		require.NotEmpty(t, orders)
		assert.Equal(t, "SO-00019", orders[0].Number)

		_, err = inv.SalesOrderByReference(ctx, "NQ-000001-TEST")
		assert.ErrorIs(t, err, zoho.ErrNotFound)
		item, err := inv.ItemBySKU(ctx, "CH 616 black")
		require.NoError(t, err)
		in := zoho.SalesOrderInput{CustomerID: cust.ID, ReferenceNumber: "NQ-000001-TEST", VATPercent: 5,
			Lines: []zoho.SalesOrderLine{{ItemID: item.ItemID, Description: "Executive Office Chair CH 616 black", Quantity: 4, Rate: 187}}}
		so, err := inv.CreateSalesOrder(ctx, in)
		require.NoError(t, err)
		assert.Equal(t, "SO-00022", so.Number, "numbering continues after the fixtures")
		assert.Equal(t, "draft", so.Status)
		assert.Equal(t, 748.0, so.SubTotal)
		assert.Equal(t, 37.4, so.TaxTotal)
		assert.Equal(t, 785.4, so.Total)
		byRef, err := inv.SalesOrderByReference(ctx, "NQ-000001-TEST")
		require.NoError(t, err)
		assert.Equal(t, so.ID, byRef.ID)
		require.Len(t, byRef.Lines, 1)
		assert.Equal(t, "CH 616 black", byRef.Lines[0].SKU)
		assert.Equal(t, 4.0, byRef.Lines[0].Quantity)
		_, err = inv.GetSalesOrder(ctx, "does-not-exist")
		assert.ErrorIs(t, err, zoho.ErrNotFound)

		if fake != nil {
			pdf, err := b.Client.Inventory.SalesOrderPDF(ctx, so.ID)
			require.NoError(t, err)
			assert.Contains(t, string(pdf), "%PDF")
			assert.Contains(t, string(pdf), "SO-00022")
		}
	})
}

// A create that may have reached Zoho (5xx) is not repeated by the client; 429 is.
func TestSaleOrderCreateRetriesOnlyWhatZohoDidNotProcess(t *testing.T) {
	fake := zohotest.New()
	defer fake.Close()
	c := newClient(t, fake, testenv.DB(t))
	ctx := testenv.Ctx(t, time.Minute)
	item, err := c.Inventory.ItemBySKU(ctx, "NOVO 2400")
	require.NoError(t, err)
	in := zoho.SalesOrderInput{CustomerID: "5198463000001210000", ReferenceNumber: "NQ-RETRY", VATPercent: 5,
		Lines: []zoho.SalesOrderLine{{ItemID: item.ItemID, Quantity: 1, Rate: 2040}}}

	fake.FailNext(zohotest.Failure{Status: 503})
	_, err = c.Inventory.CreateSalesOrder(ctx, in)
	require.Error(t, err, "a 503 on a create is returned, not retried blindly")
	assert.Equal(t, 1, fake.Calls("POST", "/inventory/v1/salesorders"))

	fake.FailNext(zohotest.Failure{Status: 429})
	so, err := c.Inventory.CreateSalesOrder(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, 3, fake.Calls("POST", "/inventory/v1/salesorders"), "429 is retried: Zoho did not take it")
	assert.Len(t, fake.SalesOrdersByReference("NQ-RETRY"), 1)
	assert.Equal(t, 2142.0, so.Total)
}

// After a revoked refresh token the process does not ask Zoho again for a while.
func TestRevokedTokenIsNotRetriedInALoop(t *testing.T) {
	fake := zohotest.New()
	defer fake.Close()
	c := newClient(t, fake, testenv.DB(t))
	ctx := testenv.Ctx(t, time.Minute)
	fake.Revoke()
	for range 5 {
		_, err := c.CRM.FindContactByPhone(ctx, "971552345671")
		require.ErrorIs(t, err, zoho.ErrAuthRevoked)
		_, err = c.Inventory.ItemBySKU(ctx, "CH 616 black")
		require.ErrorIs(t, err, zoho.ErrAuthRevoked)
	}
	assert.Equal(t, 1, countPath(fake, "/oauth/v2/token"), "ten calls, one refresh attempt")
	assert.Equal(t, 0, fake.APICalls("/crm/"))
}
