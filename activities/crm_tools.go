package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/treejar/noor/activities/quote"
	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/db"
)

// Tool names of the sale (DOMAIN.md: the names are a contract).
const (
	ToolLookupCustomer   = "lookup_customer"
	ToolCreateDeal       = "create_deal"
	ToolCheckOrderStatus = "check_order_status"
	ToolCreateQuotation  = "create_quotation"
)

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return `{"error":"could not encode the result"}`
	}
	return string(b)
}

// crmTools are lookup_customer, create_deal, check_order_status (activities) and
// create_quotation (handled by the conversation workflow: consent, sale order, PDF).
func (a *CRM) crmTools() []Tool {
	return []Tool{
		{Name: ToolLookupCustomer,
			Description: "Look up the customer you are chatting with in the CRM: new or returning, name, company, segment (personal discount) and recent deals.",
			Parameters:  obj(map[string]any{"phone": str("optional; only the current customer's number can be looked up")}),
			Run:         a.lookupCustomerTool},
		{Name: ToolCreateDeal,
			Description: "Create (or update) this customer's deal in the CRM when they show clear buying intent. One deal per chat; the stage follows the sales stage.",
			Parameters: obj(map[string]any{
				"title":  str("short deal title, e.g. 'Blue Lagoon LLC: 12 task chairs'"),
				"amount": num("expected amount in AED excl. VAT, from tool results"),
			}, "title"),
			Run: a.createDealTool},
		{Name: ToolCheckOrderStatus,
			Description: "The status of the customer's orders (sale orders in the inventory system and the CRM deal), as a customer-facing sentence.",
			Parameters:  obj(map[string]any{"order_number": str("optional order/quotation number such as SO-00019; default: the latest orders")}),
			Run:         a.checkOrderStatusTool},
		{Name: ToolCreateQuotation, Workflow: true,
			Description: "Prepare the customer's quotation. Call it with the exact catalog SKUs and quantities once you know the customer's name, company (or that they buy as an individual) and a specific delivery address. " +
				"The first call sends the customer a summary with totals to confirm; after the customer explicitly agrees to that summary, call it again with confirmed=true (same items) to issue the PDF quotation. " +
				"If details are missing, the result says what to ask.",
			Parameters: obj(map[string]any{
				"items": map[string]any{"type": "array", "description": "the lines", "items": obj(map[string]any{
					"sku": str("exact catalog SKU, e.g. 'CH 616 black'"), "qty": num("quantity (whole number)")}, "sku", "qty")},
				"confirmed": map[string]any{"type": "boolean", "description": "true only when the customer has just said yes to the quotation summary"},
			}, "items")},
	}
}

func (a *CRM) identity(ctx context.Context, conversationID string) (db.CustomerIdentity, error) {
	id, err := a.Store.CustomerIdentity(ctx, conversationID)
	if errors.Is(err, db.ErrNotFound) {
		if _, err := a.identify(ctx, conversationID, ""); err != nil {
			return id, err
		}
		return a.Store.CustomerIdentity(ctx, conversationID)
	}
	return id, err
}

func (a *CRM) lookupCustomerTool(ctx context.Context, tc ToolCall) (ToolOutput, error) {
	var args struct {
		Phone string `json:"phone"`
	}
	_ = json.Unmarshal(tc.Args, &args)
	conv, err := a.Store.Conversation(ctx, tc.ConversationID)
	if err != nil {
		return ToolOutput{}, err
	}
	if args.Phone != "" && !zoho.SamePhone(args.Phone, conv.ChatID) {
		return ToolOutput{Content: map[string]string{"error": "only the customer of this chat can be looked up"}, Summary: "other phone refused"}, nil
	}
	c, err := a.identify(ctx, tc.ConversationID, "")
	if err != nil {
		return ToolOutput{}, a.activityError(ctx, err)
	}
	var deals []map[string]any
	if ds, err := a.Backends.CRM.ContactDeals(ctx, c.ContactID, 3); err == nil {
		for _, d := range ds {
			m := map[string]any{"name": d.Name, "stage": d.Stage}
			if d.Amount != nil {
				m["amount_aed"] = *d.Amount
			}
			deals = append(deals, m)
		}
	} else {
		return ToolOutput{}, a.activityError(ctx, err)
	}
	out := map[string]any{"found": true, "returning_customer": c.Returning, "name": c.Name, "company": c.Company,
		"segment": c.Segment, "personal_discount_percent": c.DiscountPercent, "recent_deals": deals}
	if c.DiscountPercent > 0 {
		out["note"] = "search_products shows this customer's personal price as customer_price_aed_excl_vat; quote that price, never another discount"
	}
	return ToolOutput{Content: out, Summary: fmt.Sprintf("returning=%v segment=%q deals=%d", c.Returning, c.Segment, len(deals))}, nil
}

// chatDeal creates the chat's deal or updates it (one deal per chat).
func (a *CRM) chatDeal(ctx context.Context, conversationID, title string, amount *float64) (*zoho.Deal, error) {
	ident, err := a.identity(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	conv, err := a.Store.Conversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	stage, err := a.crmStage(ctx, conv.Stage)
	if err != nil {
		return nil, err
	}
	crm := a.Backends.CRM
	dealID := ident.DealID
	marker := quote.DealMarker(conversationID, "")
	if dealID == "" {
		deals, err := crm.ContactDeals(ctx, ident.ContactID, 20)
		if err != nil {
			return nil, err
		}
		for _, d := range deals {
			if strings.Contains(d.Description, marker) {
				dealID = d.ID
			}
		}
	}
	var d *zoho.Deal
	if dealID != "" {
		d, err = crm.UpdateDeal(ctx, dealID, zoho.DealUpdate{Name: title, Amount: amount, Stage: stage})
		if errors.Is(err, zoho.ErrNotFound) {
			d, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if d == nil {
		d, err = crm.CreateDeal(ctx, zoho.DealInput{Name: title, ContactID: ident.ContactID, Stage: stage, Amount: amount,
			LeadSource: "Chatbot", Description: "Created by Noor from a WhatsApp chat. " + marker})
		if err != nil {
			return nil, err
		}
	}
	return d, a.Store.SetIdentityDeal(ctx, conversationID, d.ID)
}

func (a *CRM) createDealTool(ctx context.Context, tc ToolCall) (ToolOutput, error) {
	var args struct {
		Title  string   `json:"title"`
		Amount *float64 `json:"amount"`
	}
	if err := json.Unmarshal(tc.Args, &args); err != nil || strings.TrimSpace(args.Title) == "" {
		return ToolOutput{Content: map[string]string{"error": "title is required"}, Summary: "missing title"}, nil
	}
	if args.Amount != nil && *args.Amount < 0 {
		return ToolOutput{Content: map[string]string{"error": "amount must not be negative"}, Summary: "bad amount"}, nil
	}
	d, err := a.chatDeal(ctx, tc.ConversationID, truncate(strings.TrimSpace(args.Title), 120), args.Amount)
	if err != nil {
		return ToolOutput{}, a.activityError(ctx, err)
	}
	out := map[string]any{"deal_id": d.ID, "title": d.Name, "stage": d.Stage}
	if d.Amount != nil {
		out["amount_aed"] = *d.Amount
	}
	return ToolOutput{Content: out, Summary: fmt.Sprintf("deal %s at %s", d.ID, d.Stage)}, nil
}

func (a *CRM) checkOrderStatusTool(ctx context.Context, tc ToolCall) (ToolOutput, error) {
	var args struct {
		OrderNumber string `json:"order_number"`
	}
	_ = json.Unmarshal(tc.Args, &args)
	out, err := a.orderStatus(ctx, tc.ConversationID, strings.TrimSpace(args.OrderNumber), tc.Language)
	if err != nil {
		return ToolOutput{}, a.activityError(ctx, err)
	}
	return ToolOutput{Content: out, Summary: fmt.Sprintf("%d order(s)", len(out.Orders))}, nil
}

// OrderStatus is check_order_status's answer.
type OrderStatus struct {
	Orders    []OrderStatusLine `json:"orders"`
	DealStage string            `json:"crm_deal_stage,omitempty"`
	Note      string            `json:"note,omitempty"`
}

// OrderStatusLine is one sale order as the customer should hear it.
type OrderStatusLine struct {
	Number         string  `json:"number"`
	Status         string  `json:"status"`
	CustomerStatus string  `json:"customer_status"`
	ShipmentDate   string  `json:"shipment_date,omitempty"`
	TotalAED       float64 `json:"total_aed_incl_vat"`
}

func (a *CRM) orderStatus(ctx context.Context, conversationID, number, lang string) (OrderStatus, error) {
	conv, err := a.Store.Conversation(ctx, conversationID)
	if err != nil {
		return OrderStatus{}, err
	}
	sales := a.Backends.Sales
	var out OrderStatus
	ident, err := a.Store.CustomerIdentity(ctx, conversationID)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return out, err
	}
	custID := ident.InventoryCustomerID
	if custID == "" {
		c, err := sales.FindCustomerByPhone(ctx, conv.ChatID)
		switch {
		case errors.Is(err, zoho.ErrNotFound):
		case err != nil:
			return out, err
		default:
			custID = c.ID
		}
	}
	var orders []zoho.SalesOrder
	if number != "" {
		so, err := sales.SalesOrderByNumber(ctx, number)
		switch {
		case errors.Is(err, zoho.ErrNotFound):
		case err != nil:
			return out, err
		case custID != "" && so.CustomerID == custID:
			orders = append(orders, *so)
		}
		if len(orders) == 0 {
			out.Note = "no order " + number + " belongs to this customer: ask them to check the number, or offer a manager"
		}
	} else if custID != "" {
		if orders, err = sales.CustomerSalesOrders(ctx, custID, 3); err != nil {
			return out, err
		}
	}
	if number == "" && len(orders) == 0 {
		out.Note = "this customer has no orders yet"
	}
	for _, so := range orders {
		out.Orders = append(out.Orders, OrderStatusLine{Number: so.Number, Status: so.Status, ShipmentDate: so.ShipmentDate,
			TotalAED: so.Total, CustomerStatus: quote.StatusText(so.Status, so.ShipmentDate, lang)})
	}
	if ident.DealID != "" {
		if d, err := a.Backends.CRM.GetDeal(ctx, ident.DealID); err == nil {
			out.DealStage = d.Stage
		} else if !errors.Is(err, zoho.ErrNotFound) {
			return out, err
		}
	} else if ident.ContactID != "" {
		ds, err := a.Backends.CRM.ContactDeals(ctx, ident.ContactID, 1)
		if err != nil {
			return out, err
		}
		if len(ds) > 0 {
			out.DealStage = ds[0].Stage
		}
	}
	return out, nil
}

// PricedHit is a search result with the customer's personal price.
type PricedHit struct {
	ProductHit
	CustomerPriceAED *float64 `json:"customer_price_aed_excl_vat,omitempty"`
}

// PricedResults is search_products' answer for a customer with a segment discount.
type PricedResults struct {
	ProductResults
	Products []PricedHit   `json:"products"`
	Pricing  PricingDetail `json:"pricing"`
}

// PricingDetail says which prices the model may quote.
type PricingDetail struct {
	Segment         string  `json:"segment"`
	DiscountPercent float64 `json:"discount_percent"`
	Note            string  `json:"note"`
}

// withCustomerPrices adds the customer's personal price (their CRM segment's discount)
// to search_products results. Customers without a discount see the catalog answer as is.
func (a *CRM) withCustomerPrices(t Tool) Tool {
	run := t.Run
	t.Description = "Search Treejar's catalog. Returns real products with SKU, the catalog price in AED excl. VAT (and this customer's personal price when their segment has one) and stock. Use filters for price limits and categories."
	t.Run = func(ctx context.Context, tc ToolCall) (ToolOutput, error) {
		out, err := run(ctx, tc)
		if err != nil {
			return out, err
		}
		res, ok := out.Content.(ProductResults)
		if !ok || len(res.Products) == 0 {
			return out, nil
		}
		ident, err := a.Store.CustomerIdentity(ctx, tc.ConversationID)
		if errors.Is(err, db.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		pct, segment, err := a.Quotes.Discount(ctx, ident.Segment)
		if err != nil || pct <= 0 {
			return out, err
		}
		priced := PricedResults{ProductResults: res, Pricing: PricingDetail{Segment: segment, DiscountPercent: pct,
			Note: fmt.Sprintf("this customer's segment (%s) has personal prices %s%% below the catalog: quote customer_price_aed_excl_vat; never offer any other discount",
				segment, quote.Percent(pct))}}
		for _, h := range res.Products {
			ph := PricedHit{ProductHit: h}
			if h.PriceAED != nil {
				list := *h.PriceAED
				if h.ListPriceAED != nil {
					list = *h.ListPriceAED
				}
				p := quote.CustomerPrice(list, *h.PriceAED, pct)
				ph.CustomerPriceAED = &p
			}
			priced.Products = append(priced.Products, ph)
		}
		out.Content = priced
		out.Summary += fmt.Sprintf(" · %s −%s%%", segment, quote.Percent(pct))
		return out, nil
	}
	return t
}
