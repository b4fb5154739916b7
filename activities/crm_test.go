package activities_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/zoho/zohotest"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/seed"
	"github.com/treejar/noor/internal/testenv"
)

type crmEnv struct {
	set   *activities.Set
	fake  *zohotest.Server
	store *db.Store
}

func newCRMEnv(t *testing.T) *crmEnv {
	t.Helper()
	fake := zohotest.New()
	t.Cleanup(fake.Close)
	store := testenv.DB(t)
	cfg := config.Config{PublicBaseURL: "https://noor.example.com", SigningKey: "k-0123456789abcdef0123456789abcdef", Zoho: fake.Config()}
	_, err := seed.Run(testenv.Ctx(t, 5*time.Minute), seed.Deps{Store: store, Config: cfg, Log: testenv.Logger(t)})
	require.NoError(t, err)
	set, err := activities.Build(activities.Deps{Config: cfg, Store: store, Log: testenv.Logger(t)})
	require.NoError(t, err)
	return &crmEnv{set: set, fake: fake, store: store}
}

func (e *crmEnv) conversation(t *testing.T, chat, name string) string {
	t.Helper()
	var id string
	require.NoError(t, e.store.Pool.QueryRow(context.Background(), `INSERT INTO conversations (channel_id, chat_id, customer_name, stage)
		VALUES ('chan-1', $1, $2, 'solution') RETURNING id::text`, chat, name).Scan(&id))
	return id
}

func (e *crmEnv) tool(t *testing.T, name, conv, args, lang string) map[string]any {
	t.Helper()
	tool, ok := e.set.Conversation.Tools.Get(name)
	require.True(t, ok, name)
	out, err := tool.Run(testenv.Ctx(t, time.Minute), activities.ToolCall{ConversationID: conv, Language: lang, Args: json.RawMessage(args)})
	require.NoError(t, err)
	raw, err := json.Marshal(out.Content)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func TestIdentifyCustomerCreatesANewContactOnce(t *testing.T) {
	e := newCRMEnv(t)
	ctx := testenv.Ctx(t, time.Minute)
	conv := e.conversation(t, "971552000111", "Sara Ahmed")
	first, err := e.set.CRM.IdentifyCustomer(ctx, activities.IdentifyInput{ConversationID: conv})
	require.NoError(t, err)
	assert.False(t, first.Returning)
	assert.Equal(t, "Sara Ahmed", first.Name, "the WhatsApp profile name goes into the CRM")
	assert.Contains(t, first.Context, "New customer")
	contacts := e.fake.CRMContactsByPhone("971552000111")
	require.Len(t, contacts, 1)
	assert.Equal(t, "Chatbot", contacts[0]["Lead_Source"])
	assert.Equal(t, "Ahmed", contacts[0]["Last_Name"])

	// A retry, a new run after continue-as-new, a second chat of the same phone: no second contact.
	for range 2 {
		again, err := e.set.CRM.IdentifyCustomer(ctx, activities.IdentifyInput{ConversationID: conv})
		require.NoError(t, err)
		assert.Equal(t, first.ContactID, again.ContactID)
		assert.False(t, again.Returning, "the first turn's answer is kept")
	}
	other := e.conversation(t, "+971 55 200 0111", "")
	second, err := e.set.CRM.IdentifyCustomer(ctx, activities.IdentifyInput{ConversationID: other})
	require.NoError(t, err)
	assert.Equal(t, first.ContactID, second.ContactID)
	assert.True(t, second.Returning, "known from the earlier chat")
	assert.Equal(t, 1, e.fake.Calls("POST", "/crm/v7/Contacts"))
}

func TestIdentifyReturningCustomer(t *testing.T) {
	e := newCRMEnv(t)
	conv := e.conversation(t, "971501234567", "Omar")
	id, err := e.set.CRM.IdentifyCustomer(testenv.Ctx(t, time.Minute), activities.IdentifyInput{ConversationID: conv})
	require.NoError(t, err)
	assert.True(t, id.Returning)
	assert.Equal(t, "Horeca", id.Segment)
	assert.Equal(t, 10.0, id.DiscountPercent)
	assert.Contains(t, id.Context, "Returning customer: Omar Al Hashimi (Al Noor Hospitality Group).")
	assert.Contains(t, id.Context, "Segment: Horeca — personal prices 10% below the catalog")
	assert.Contains(t, id.Context, "Al Noor Hospitality Group: 24 x CH 120 Grey, 2 x NOVO 2400 — Order confirmed, AED 11,520.00")
	assert.Less(t, len(id.Context), 600, "a few lines, bounded")
	assert.Zero(t, e.fake.Calls("POST", "/crm/v7/Contacts"))
}

func TestCRMTools(t *testing.T) {
	e := newCRMEnv(t)
	omar := e.conversation(t, "971501234567", "Omar")
	// Before the chat's first turn identified the customer: catalog prices only.
	res := e.tool(t, "search_products", omar, `{"query":"NOVO 2400"}`, "en")
	assert.Nil(t, res["products"].([]any)[0].(map[string]any)["customer_price_aed_excl_vat"])
	_, err := e.set.CRM.IdentifyCustomer(testenv.Ctx(t, time.Minute), activities.IdentifyInput{ConversationID: omar})
	require.NoError(t, err)

	// Personal prices in search results (Horeca −10 %).
	res = e.tool(t, "search_products", omar, `{"query":"NOVO 2400"}`, "en")
	prods := res["products"].([]any)
	require.NotEmpty(t, prods)
	first := prods[0].(map[string]any)
	assert.Equal(t, "NOVO 2400", first["sku"])
	assert.Equal(t, 2040.0, first["price_aed_excl_vat"])
	assert.Equal(t, 1836.0, first["customer_price_aed_excl_vat"])
	assert.Equal(t, "Horeca", res["pricing"].(map[string]any)["segment"])

	look := e.tool(t, "lookup_customer", omar, `{}`, "en")
	assert.Equal(t, true, look["returning_customer"])
	assert.Equal(t, 10.0, look["personal_discount_percent"])
	assert.Len(t, look["recent_deals"], 1)
	refused := e.tool(t, "lookup_customer", omar, `{"phone":"971552345671"}`, "en")
	assert.Contains(t, refused["error"], "only the customer of this chat", "another customer's record is never read out")

	// Order status: SO-00019 is Omar's (confirmed); SO-00014 is somebody else's.
	st := e.tool(t, "check_order_status", omar, `{"order_number":"SO-00019"}`, "en")
	orders := st["orders"].([]any)
	require.Len(t, orders, 1)
	o := orders[0].(map[string]any)
	assert.Equal(t, "confirmed", o["status"])
	assert.Equal(t, "the order is confirmed and being prepared", o["customer_status"])
	assert.Equal(t, 12096.0, o["total_aed_incl_vat"])
	assert.Equal(t, "Order confirmed", st["crm_deal_stage"])
	ar := e.tool(t, "check_order_status", omar, `{}`, "ar")
	assert.Equal(t, "تم تأكيد الطلب ويجري تجهيزه", ar["orders"].([]any)[0].(map[string]any)["customer_status"])
	other := e.tool(t, "check_order_status", omar, `{"order_number":"SO-00014"}`, "en")
	assert.Empty(t, other["orders"])
	assert.Contains(t, other["note"], "no order SO-00014 belongs to this customer")

	// create_deal: one deal per chat, at the stage mapped from the chat's stage.
	d1 := e.tool(t, "create_deal", omar, `{"title":"Al Noor: 12 x NOVO 2400","amount":22032}`, "en")
	assert.Equal(t, "Negotiations", d1["stage"], "solution → Negotiations")
	d2 := e.tool(t, "create_deal", omar, `{"title":"Al Noor: 14 x NOVO 2400","amount":25704}`, "en")
	assert.Equal(t, d1["deal_id"], d2["deal_id"])
	assert.Equal(t, 25704.0, d2["amount_aed"])
	assert.Equal(t, 1, e.fake.Calls("POST", "/crm/v7/Deals"))
	bad := e.tool(t, "create_deal", omar, `{"title":""}`, "en")
	assert.Equal(t, "title is required", bad["error"])

	// A revoked token is a terminal error, not a tool result to retry.
	e.fake.Revoke()
	tool, _ := e.set.Conversation.Tools.Get("lookup_customer")
	fresh := e.conversation(t, "971552000333", "")
	_, err = tool.Run(testenv.Ctx(t, time.Minute), activities.ToolCall{ConversationID: fresh, Args: json.RawMessage(`{}`)})
	require.Error(t, err)
	assert.True(t, activities.IsCRMAuthFailure(err))
}
