package workflows_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/activities/llm/llmtest"
	"github.com/treejar/noor/activities/wazzup/wazzuptest"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/stacktest"
	"github.com/treejar/noor/workflows"
)

// sale is a scripted customer who buys qty × sku.
type sale struct {
	sku     string
	qty     int
	details map[string]any // what record_requirements saves before the quotation
}

// saleModel is the reply model of a whole sale: greeting → needs (search) → options →
// details and create_quotation (the workflow sends the summary) → the customer's yes →
// create_quotation confirmed (the workflow issues the PDF). Prices in its replies come
// from the tool results, like the real model must.
func saleModel(sl sale) func(llmtest.ChatRequest) llmtest.Reply {
	items := []map[string]any{{"sku": sl.sku, "qty": sl.qty}}
	return llmtest.Rules(
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool { return r.Model == stacktest.FastModel },
			Reply: llmtest.Say("{}")},
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool {
			return llmtest.UserSays("yes")(r) && !llmtest.HasToolResult(r, "create_quotation")
		}, Reply: llmtest.CallTools(llmtest.Call("create_quotation", map[string]any{"items": items, "confirmed": true}))},
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool {
			return llmtest.UserSays("please quote")(r) && !llmtest.HasToolResult(r, "create_quotation")
		}, Reply: func(llmtest.ChatRequest) llmtest.Reply {
			calls := []llmtest.ToolCall{llmtest.Call("create_quotation", map[string]any{"items": items})}
			if sl.details != nil {
				calls = append([]llmtest.ToolCall{llmtest.Call("record_requirements", sl.details),
					llmtest.Call("advance_stage", `{"stage":"company_details"}`)}, calls...)
			}
			return llmtest.Reply{ToolCalls: calls}
		}},
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool {
			return llmtest.UserSays("chairs")(r) && !llmtest.HasToolResult(r, "search_products")
		}, Reply: llmtest.CallTools(llmtest.Call("search_products", map[string]any{"query": sl.sku}),
			llmtest.Call("advance_stage", `{"stage":"solution"}`))},
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool { return llmtest.HasToolResult(r, "search_products") },
			Reply: func(r llmtest.ChatRequest) llmtest.Reply {
				var res struct {
					Products []struct {
						SKU           string   `json:"sku"`
						Price         *float64 `json:"price_aed_excl_vat"`
						CustomerPrice *float64 `json:"customer_price_aed_excl_vat"`
					} `json:"products"`
				}
				_ = json.Unmarshal([]byte(llmtest.ToolResult(r, "search_products")), &res)
				for _, p := range res.Products {
					if p.SKU == sl.sku && p.Price != nil {
						if p.CustomerPrice != nil {
							return llmtest.Reply{Content: fmt.Sprintf("The %s is AED %g excl. VAT; with your personal price it is AED %g. How many do you need?",
								p.SKU, *p.Price, *p.CustomerPrice)}
						}
						return llmtest.Reply{Content: fmt.Sprintf("The %s is AED %g excl. VAT. How many do you need?", p.SKU, *p.Price)}
					}
				}
				return llmtest.Reply{Content: "Let me know which chair you like."}
			}},
		llmtest.Rule{Reply: llmtest.Say("Hello! I'm Noor from Treejar. What are you furnishing?")},
	)
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	require.NoError(t, err, "pdftotext (poppler-utils, installed by scripts/bootstrap.sh)")
	return string(out)
}

func fetch(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	resp, err := httpClient.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// documents returns the sent messages that carry a file.
func documents(sent []wazzuptest.SentMessage) []wazzuptest.SentMessage {
	var out []wazzuptest.SentMessage
	for _, m := range sent {
		if m.ContentURI != "" {
			out = append(out, m)
		}
	}
	return out
}

// runSale drives the scripted chat and returns the conversation and the messages sent.
func runSale(t *testing.T, s *stacktest.Stack, chat string, turns []string) (db.Conversation, []wazzuptest.SentMessage) {
	t.Helper()
	var conv db.Conversation
	for i, text := range turns {
		start := time.Now()
		s.Post(s.Customer(chat, text))
		if i == 0 {
			conv = s.Conversation(chat)
		}
		st := s.WaitIdle(conv.ID, i+1, 90*time.Second)
		t.Logf("turn %d (%q): answered and idle after %s (debounce included)", i+1, text, time.Since(start).Round(time.Millisecond))
		if st.Status == "escalated" {
			s.LogHistory(conv.ID)
			t.Fatalf("turn %d escalated: %s", i+1, st.NeedsHumanReason)
		}
	}
	return conv, s.Wazzup.SentTo(chat)
}

var newCustomerTurns = []string{
	"Hello",
	"We need office chairs for our new team",
	"I'm Sara Ahmed from Blue Lagoon LLC. Please quote 4 CH 616 black, delivery to Office 1204, Bay Square 5, Business Bay, Dubai",
	"Yes, go ahead",
}

var saraDetails = map[string]any{"name": "Sara Ahmed", "company": "Blue Lagoon LLC",
	"delivery_address": "Office 1204, Bay Square 5, Business Bay, Dubai"}

// checkQuotePDF fetches the sent document and checks its lines and totals.
func checkQuotePDF(t *testing.T, s *stacktest.Stack, doc wazzuptest.SentMessage, number string, want []string) {
	t.Helper()
	status, ctype, body := fetch(t, s.Local(doc.ContentURI))
	require.Equal(t, http.StatusOK, status, string(body))
	assert.Equal(t, "application/pdf", ctype)
	text := pdfText(t, body)
	for _, w := range append([]string{number, "CH 616 black", "VAT 5%", "Grand total", "valid for 15 days"}, want...) {
		assert.Contains(t, text, w)
	}
}

func TestNewCustomerQuoteAgainstZoho(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true, Zoho: true})
	s.LLM.Handle(saleModel(sale{sku: "CH 616 black", qty: 4, details: saraDetails}))
	chat := "971552000111" // not in the CRM: Zoho's search answers 204
	conv, sent := runSale(t, s, chat, newCustomerTurns)
	ctx := context.Background()

	// The summary came before the document, and asked for consent with the exact totals.
	require.Len(t, sent, 5, "greeting, options, summary, document, caption")
	assert.Contains(t, sent[1].Text, "AED 220 excl. VAT", "the option is quoted from the search result")
	summary := sent[2].Text
	for _, w := range []string{"4 × CH 616 black", "AED 220.00 = AED 880.00", "VAT 5%: AED 44.00", "Total: AED 924.00", "Reply *yes*"} {
		assert.Contains(t, summary, w)
	}
	docs := documents(sent)
	require.Len(t, docs, 1, "one PDF document")
	caption := sent[4]
	assert.Equal(t, docs[0].CRMMessageID+":caption", caption.CRMMessageID)
	assert.Contains(t, caption.Text, "total AED 924.00 incl. VAT")

	// Exactly one CRM contact (created on the first turn, Lead_Source Chatbot).
	contacts := s.Zoho.CRMContactsByPhone(chat)
	require.Len(t, contacts, 1)
	assert.Equal(t, "Chatbot", contacts[0]["Lead_Source"])
	assert.Equal(t, 1, s.Zoho.Calls("POST", "/crm/v7/Contacts"))
	// One deal, at the stage mapped from "quoting", with the amount excl. VAT.
	require.Equal(t, 1, s.Zoho.Calls("POST", "/crm/v7/Deals"))
	var deal map[string]any
	for _, d := range s.Zoho.CRMDeals() {
		if ct, _ := d["Contact_Name"].(map[string]any); ct["id"] == contacts[0]["id"] {
			deal = d
		}
	}
	require.NotNil(t, deal)
	assert.Equal(t, "Offer sent", deal["Stage"])
	assert.EqualValues(t, 880, deal["Amount"])

	// One draft sale order whose total is the confirmed lines × price + 5 % VAT.
	quotes, err := s.Store.ConversationQuotes(ctx, conv.ID)
	require.NoError(t, err)
	require.Len(t, quotes, 1)
	q := quotes[0]
	assert.Equal(t, "sent", q.Status)
	orders := s.Zoho.SalesOrdersByReference(q.Ref)
	require.Len(t, orders, 1)
	so := orders[0]
	assert.Equal(t, 1, s.Zoho.Calls("POST", "/inventory/v1/salesorders"))
	assert.Equal(t, "draft", so["status"])
	assert.EqualValues(t, 924.0, so["total"])
	assert.Equal(t, 4.0*220*1.05, q.Total)
	assert.Equal(t, so["salesorder_number"], q.SaleOrderNumber)
	assert.Equal(t, 1, s.Zoho.Calls("POST", "/inventory/v1/contacts"), "the new customer is created in the inventory once")

	checkQuotePDF(t, s, docs[0], q.SaleOrderNumber, []string{"Sara Ahmed", "Blue Lagoon LLC", "Office 1204, Bay Square 5",
		"220.00", "880.00", "44.00", "924.00", "TRN 100418386400003"})

	st := s.State(conv.ID)
	assert.Equal(t, "quoting", st.Stage)
	assert.Contains(t, st.FollowUps, workflows.FollowUpWorkflowID(conv.ID, "quote", q.SaleOrderNumber), "the quote follow-ups started")
	require.NotNil(t, st.Customer)
	assert.False(t, st.Customer.Returning)
	assert.Contains(t, st.Facts.CustomerContext, "New customer")
}

func TestNewCustomerQuoteAgainstTheLocalCRM(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true})
	s.LLM.Handle(saleModel(sale{sku: "CH 616 black", qty: 4, details: saraDetails}))
	chat := "971552000111"
	conv, sent := runSale(t, s, chat, newCustomerTurns)
	ctx := context.Background()
	require.Len(t, sent, 5)
	docs := documents(sent)
	require.Len(t, docs, 1)

	var contacts, deals, orders int
	var stage string
	var total float64
	require.NoError(t, s.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM local_crm_contacts WHERE phone = $1`, chat).Scan(&contacts))
	require.NoError(t, s.Store.Pool.QueryRow(ctx, `SELECT count(*), max(d.stage) FROM local_crm_deals d
		JOIN local_crm_contacts c ON c.id = d.contact_id WHERE c.phone = $1`, chat).Scan(&deals, &stage))
	quotes, err := s.Store.ConversationQuotes(ctx, conv.ID)
	require.NoError(t, err)
	require.Len(t, quotes, 1)
	q := quotes[0]
	require.NoError(t, s.Store.Pool.QueryRow(ctx, `SELECT count(*), max(total)::float8 FROM local_sale_orders WHERE reference_number = $1`,
		q.Ref).Scan(&orders, &total))
	assert.Equal(t, 1, contacts)
	assert.Equal(t, 1, deals)
	assert.Equal(t, "Offer sent", stage)
	assert.Equal(t, 1, orders)
	assert.Equal(t, 924.0, total)
	assert.Equal(t, "SO-00022", q.SaleOrderNumber, "local numbering continues after the fixtures")
	checkQuotePDF(t, s, docs[0], "SO-00022", []string{"Sara Ahmed", "880.00", "924.00"})
	s.RecordHistory(conv.WorkflowID, "conversation-full-sale-with-quotation")
}

// Ahmed Khalil is a Wholesale customer in the CRM: search results and the quote show his
// 15 % lower prices, and he is not created again.
func TestReturningWholesaleCustomerGetsPersonalPrices(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true, Zoho: true})
	s.LLM.Handle(saleModel(sale{sku: "CH 616 black", qty: 4,
		details: map[string]any{"delivery_address": "Warehouse 14, Al Quoz Industrial Area 3, Dubai"}}))
	chat := "971552345671"
	conv, sent := runSale(t, s, chat, []string{
		"Hi, we need more chairs for the showroom",
		"Please quote 4 CH 616 black to our warehouse: Warehouse 14, Al Quoz Industrial Area 3, Dubai",
		"Yes",
	})
	require.Len(t, sent, 4, "options, summary, document, caption")

	// The search result the model read carries the personal price (220 − 15 % = 187).
	var searchResult, system string
	for _, r := range s.ReplyRequests() {
		if res := llmtest.ToolResult(r, "search_products"); res != "" {
			searchResult, system = res, r.System()
		}
	}
	var res struct {
		Pricing struct {
			Segment         string  `json:"segment"`
			DiscountPercent float64 `json:"discount_percent"`
		} `json:"pricing"`
		Products []struct {
			SKU           string   `json:"sku"`
			Price         float64  `json:"price_aed_excl_vat"`
			CustomerPrice *float64 `json:"customer_price_aed_excl_vat"`
		} `json:"products"`
	}
	require.NoError(t, json.Unmarshal([]byte(searchResult), &res), searchResult)
	require.NotEmpty(t, res.Products)
	assert.Equal(t, "Wholesale", res.Pricing.Segment)
	assert.Equal(t, 15.0, res.Pricing.DiscountPercent)
	for _, p := range res.Products {
		require.NotNil(t, p.CustomerPrice, p.SKU)
		assert.InDelta(t, p.Price*0.85, *p.CustomerPrice, 0.005, "every result shows the 15 %% lower price: %s", p.SKU)
	}
	assert.Equal(t, "CH 616 black", res.Products[0].SKU)
	assert.Equal(t, 187.0, *res.Products[0].CustomerPrice)
	assert.Contains(t, system, "Returning customer: Ahmed Khalil (Khalil Furniture Trading)")
	assert.Contains(t, system, "Segment: Wholesale")
	assert.Contains(t, system, "Consignment", "recent deals are in the prompt")
	assert.Contains(t, sent[0].Text, "AED 187")

	assert.Contains(t, sent[1].Text, "AED 187.00 = AED 748.00")
	assert.Contains(t, sent[1].Text, "Wholesale prices: 15% off")
	assert.Contains(t, sent[1].Text, "Total: AED 785.40")
	assert.Zero(t, s.Zoho.Calls("POST", "/crm/v7/Contacts"), "a known customer is not created again")
	assert.Zero(t, s.Zoho.Calls("POST", "/inventory/v1/contacts"), "the inventory customer exists too")

	quotes, err := s.Store.ConversationQuotes(context.Background(), conv.ID)
	require.NoError(t, err)
	require.Len(t, quotes, 1)
	q := quotes[0]
	assert.Equal(t, "Ahmed Khalil", q.Customer.Name)
	assert.Equal(t, "Khalil Furniture Trading", q.Customer.Company)
	assert.Equal(t, 15.0, q.DiscountPercent)
	assert.Equal(t, 785.4, q.Total)
	orders := s.Zoho.SalesOrdersByReference(q.Ref)
	require.Len(t, orders, 1)
	assert.EqualValues(t, 785.4, orders[0]["total"])
	assert.Equal(t, "5198463000001210000", orders[0]["customer_id"], "the order is Khalil Furniture Trading's")
	checkQuotePDF(t, s, documents(sent)[0], q.SaleOrderNumber, []string{"Ahmed Khalil", "220.00", "187.00", "748.00", "37.40", "785.40"})
	assert.True(t, s.State(conv.ID).Customer.Returning)
}

// The worker process dies after Zoho created the sale order and before it answered; a new
// worker finishes the quote: one sale order, one PDF message.
func TestWorkerKilledAfterTheSaleOrderStillSendsOneQuotation(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true, Zoho: true, NoWorker: true})
	s.LLM.Handle(saleModel(sale{sku: "CH 616 black", qty: 4, details: saraDetails}))
	first := s.StartWorkerProcess()
	chat := "971552000111"
	var conv db.Conversation
	for i, text := range newCustomerTurns[:3] {
		s.Post(s.Customer(chat, text))
		if i == 0 {
			conv = s.Conversation(chat)
		}
		s.WaitIdle(conv.ID, i+1, 90*time.Second)
	}
	release := s.Zoho.HoldSalesOrders()
	defer release()
	s.Post(s.Customer(chat, "Yes, go ahead"))
	var held map[string]any
	select {
	case held = <-s.Zoho.HeldSalesOrders():
	case <-time.After(90 * time.Second):
		s.LogHistory(conv.ID)
		t.Fatal("the sale order was never created")
	}
	first.Kill() // Zoho has the order; the worker never saw the answer
	release()
	s.StartWorkerProcess()

	_, err := s.Wazzup.WaitForSent(s.Ctx(120*time.Second), 5)
	if err != nil {
		s.LogHistory(conv.ID)
	}
	require.NoError(t, err)
	st := s.WaitIdle(conv.ID, 4, 60*time.Second)
	assert.Equal(t, "quoting", st.Stage)
	ref := held["reference_number"].(string)
	assert.Len(t, s.Zoho.SalesOrdersByReference(ref), 1, "one sale order for the quote")
	assert.Equal(t, 1, s.Zoho.Calls("POST", "/inventory/v1/salesorders"))
	sent := s.Wazzup.SentTo(chat)
	docs := documents(sent)
	require.Len(t, docs, 1, "one PDF message")
	q, err := s.Store.QuoteByRef(context.Background(), ref)
	require.NoError(t, err)
	assert.Equal(t, held["salesorder_number"], q.SaleOrderNumber)
	assert.Equal(t, "sent", q.Status)
	checkQuotePDF(t, s, docs[0], q.SaleOrderNumber, []string{"924.00"})
}

// Zoho revokes the refresh token mid-conversation: the customer gets one graceful message,
// the chat goes to a manager (crm_auth), and nothing retries in a loop.
func TestRevokedZohoTokenMidConversation(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true, Zoho: true})
	s.LLM.Handle(llmtest.Rules(
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool { return r.Model == stacktest.FastModel }, Reply: llmtest.Say("{}")},
		llmtest.Rule{Match: func(r llmtest.ChatRequest) bool {
			return llmtest.UserSays("stock")(r) && !llmtest.HasToolResult(r, "get_stock")
		}, Reply: llmtest.CallTools(llmtest.Call("get_stock", `{"sku":"CH 616 black"}`))},
		llmtest.Rule{Reply: llmtest.Say("Hello! I'm Noor from Treejar. How can I help?")},
	))
	chat := "971552000111"
	s.Post(s.Customer(chat, "Hello"))
	conv := s.Conversation(chat)
	s.WaitIdle(conv.ID, 1, 60*time.Second)
	require.Equal(t, 1, s.Zoho.Refreshes())
	itemCalls := s.Zoho.APICalls("/inventory/v1/items")

	s.Zoho.Revoke()
	s.Post(s.Customer(chat, "Is the CH 616 black in stock?"))
	require.Eventually(t, func() bool { return s.State(conv.ID).Status == "escalated" }, 60*time.Second, 100*time.Millisecond)
	st := s.WaitIdle(conv.ID, 2, 30*time.Second)
	assert.True(t, st.NeedsHuman)
	assert.Contains(t, st.NeedsHumanReason, "Zoho authentication failed")

	sent := s.Wazzup.SentTo(chat)
	require.Len(t, sent, 2, "the greeting and one graceful message")
	assert.Equal(t, activities.FixedText("crm_unavailable", "en"), sent[1].Text)
	// The escalation child writes its row asynchronously.
	assert.Equal(t, "crm_auth", waitEscalation(t, s, conv.ID, 1, "pending").Kind)

	// No retry storm: the tool ran once (one 401 on the items API, one refresh attempt).
	assert.Equal(t, itemCalls+1, s.Zoho.APICalls("/inventory/v1/items"))
	tokenCalls := 0
	for _, r := range s.Zoho.Requests() {
		if r.Path == "/oauth/v2/token" {
			tokenCalls++
		}
	}
	assert.Equal(t, 2, tokenCalls, "the first grant and one refused refresh")
}

// The token is revoked between the summary and the customer's yes: no sale order, one
// graceful message, a crm_auth escalation and one manager alert.
func TestRevokedZohoTokenAtConsent(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true, Zoho: true})
	s.LLM.Handle(saleModel(sale{sku: "CH 616 black", qty: 4, details: saraDetails}))
	chat := "971552000111"
	conv, _ := runSale(t, s, chat, newCustomerTurns[:3])
	s.Zoho.Revoke()
	s.Post(s.Customer(chat, "Yes, go ahead"))
	require.Eventually(t, func() bool { return s.State(conv.ID).Status == "escalated" }, 60*time.Second, 100*time.Millisecond)
	st := s.WaitIdle(conv.ID, 4, 30*time.Second)
	assert.Equal(t, "failed", st.Quote.Status)
	sent := s.Wazzup.SentTo(chat)
	require.Len(t, sent, 4, "greeting, options, summary, one graceful message")
	assert.Equal(t, activities.FixedText("crm_unavailable", "en"), sent[3].Text)
	assert.Empty(t, documents(sent))
	assert.Zero(t, s.Zoho.Calls("POST", "/inventory/v1/salesorders"))
	var alerts int
	ctx := context.Background()
	// The escalation child writes its row asynchronously.
	assert.Equal(t, "crm_auth", waitEscalation(t, s, conv.ID, 1, "pending").Kind)
	require.Eventually(t, func() bool {
		return s.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE kind = 'crm_auth'`).Scan(&alerts) == nil && alerts >= 1
	}, 30*time.Second, 50*time.Millisecond)
	assert.Equal(t, 1, alerts, "the managers are told once that Zoho authentication is broken")
}

// The LUMA reception desk has no catalog price (Zoho has a rate): no quote; a manager gets
// the chat with the reason, the customer one acknowledgement.
func TestItemWithoutCatalogPriceGoesToAManager(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Debounce: 500 * time.Millisecond, Seed: true, Zoho: true})
	luma := "OF-HAI-Luma-Reception-RJ 9788-8-1600-Walnut"
	s.LLM.Handle(saleModel(sale{sku: luma, qty: 1, details: saraDetails}))
	chat := "971552000111"
	s.Post(s.Customer(chat, "Hello"))
	conv := s.Conversation(chat)
	s.WaitIdle(conv.ID, 1, 60*time.Second)
	s.Post(s.Customer(chat, "I'm Sara Ahmed from Blue Lagoon LLC. Please quote 1 LUMA reception desk, delivery to Office 1204, Bay Square 5, Business Bay, Dubai"))
	require.Eventually(t, func() bool { return s.State(conv.ID).Status == "escalated" }, 60*time.Second, 100*time.Millisecond)
	st := s.WaitIdle(conv.ID, 2, 30*time.Second)
	assert.Contains(t, st.NeedsHumanReason, luma+" has no catalog price")
	sent := s.Wazzup.SentTo(chat)
	require.Len(t, sent, 2)
	assert.Equal(t, activities.FixedText("escalation_ack", "en"), sent[1].Text)
	assert.Equal(t, "quote_blocked", waitEscalation(t, s, conv.ID, 1, "pending").Kind)
	quotes, err := s.Store.ConversationQuotes(context.Background(), conv.ID)
	require.NoError(t, err)
	assert.Empty(t, quotes, "no quote")
	assert.Zero(t, s.Zoho.Calls("POST", "/inventory/v1/salesorders"))
}
