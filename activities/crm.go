package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities/notify"
	"github.com/treejar/noor/activities/quote"
	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/pii"
)

// ErrTypeQuoteBlocked: a quotation cannot be completed automatically (the sale order's
// total differs, its reference belongs to someone else, the quote is not confirmed): a
// manager takes it over. Not retried.
const ErrTypeQuoteBlocked = "QuoteBlocked"

// NonRetryableCRMErrors are the error types CRM/quotation activities never retry.
var NonRetryableCRMErrors = []string{zoho.ErrTypeAuthRevoked, zoho.ErrTypeAuthClient, ErrTypeQuoteBlocked}

// IsCRMAuthFailure reports whether err (an activity error as the workflow sees it) is a
// terminal Zoho authentication failure: the refresh token was revoked or the client
// rejected. Retrying cannot help.
func IsCRMAuthFailure(err error) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && (ae.Type() == zoho.ErrTypeAuthRevoked || ae.Type() == zoho.ErrTypeAuthClient)
}

// CRM holds the activities of a sale: who the customer is (CRM contact, segment, recent
// deals), quotations (prepare, draft sale order, PDF) and the CRM deal. The providers are
// Zoho CRM/Inventory, or the built-in local ones.
type CRM struct {
	Store    *db.Store
	Backends zoho.Backends
	Quotes   *quote.Service
	Settings *Settings
	Notifier *notify.Notifier
	Log      *slog.Logger
}

// activityError converts terminal failures to non-retryable errors with a clear type, and
// alerts the managers once an hour when Zoho authentication is broken.
func (a *CRM) activityError(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case zoho.Terminal(err):
		a.alertAuth(ctx, err)
		return zoho.ActivityError(err)
	case errors.Is(err, quote.ErrTotalMismatch), errors.Is(err, quote.ErrReferenceTaken), errors.Is(err, quote.ErrNotConfirmed):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeQuoteBlocked, err)
	}
	return err
}

func (a *CRM) alertAuth(ctx context.Context, err error) {
	if a.Notifier == nil {
		return
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if _, nerr := a.Notifier.Notify(nctx, notify.Alert{
		Key:  "crm_auth:" + time.Now().UTC().Format("2006010215"),
		Kind: "crm_auth", Severity: notify.SeverityCritical,
		Title: "Zoho authentication failed",
		Body: "Zoho rejected Noor's credentials: " + err.Error() + ". Customer lookups, stock checks and quotations fail " +
			"until an admin issues a new ZOHO_REFRESH_TOKEN (docs/operations.md).",
	}); nerr != nil {
		a.Log.Error("Zoho auth alert could not be delivered", "err", nerr)
	}
}

// heartbeat keeps a long activity alive for the heartbeat timeout, so a worker that dies
// mid-call is noticed within seconds, not at the end of the start-to-close timeout.
func heartbeat(ctx context.Context, every time.Duration) func() {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// IdentifyInput asks who the customer of a chat is.
type IdentifyInput struct {
	ConversationID string `json:"conversation_id"`
	// Name is what the chat already knows (the WhatsApp profile or the customer's words).
	Name string `json:"name,omitempty"`
}

// CustomerIdentity is who the customer is, as the workflow keeps it across continue-as-new.
type CustomerIdentity struct {
	Provider        string  `json:"provider"`
	ContactID       string  `json:"contact_id"`
	Returning       bool    `json:"returning"`
	Name            string  `json:"name,omitempty"`
	Company         string  `json:"company,omitempty"`
	Segment         string  `json:"segment,omitempty"`
	DiscountPercent float64 `json:"discount_percent,omitempty"`
	// Context is the few lines for the prompt (segment, recent deals).
	Context string `json:"context,omitempty"`
}

// IdentifyCustomer looks the chat's phone up in the CRM on its first turn: a returning
// customer brings their segment (personal prices) and recent deals into the prompt; a new
// one is created as a contact (Lead_Source "Chatbot") — once, however often this runs.
func (a *CRM) IdentifyCustomer(ctx context.Context, in IdentifyInput) (CustomerIdentity, error) {
	id, err := a.identify(ctx, in.ConversationID, in.Name)
	return id, a.activityError(ctx, err)
}

func (a *CRM) identify(ctx context.Context, conversationID, name string) (CustomerIdentity, error) {
	conv, err := a.Store.Conversation(ctx, conversationID)
	if err != nil {
		return CustomerIdentity{}, fmt.Errorf("read conversation: %w", err)
	}
	crm := a.Backends.CRM
	if len(zoho.NormalizePhone(conv.ChatID)) < 7 {
		// Not a phone number (another chat type): nothing to look up, nothing to create.
		return CustomerIdentity{Provider: crm.Name(), Context: "New customer (no phone number to look up)."}, nil
	}
	stored, err := a.Store.CustomerIdentity(ctx, conversationID)
	var contact *zoho.Contact
	returning := false
	switch {
	case err == nil && stored.Provider == crm.Name():
		// Identified before (an earlier run): refresh from the CRM, never create again.
		returning = stored.Returning
		contact, err = crm.GetContact(ctx, stored.ContactID)
		if errors.Is(err, zoho.ErrNotFound) {
			contact, err = nil, nil
		}
		if err != nil {
			return CustomerIdentity{}, err
		}
	case err != nil && !errors.Is(err, db.ErrNotFound):
		return CustomerIdentity{}, err
	}
	if contact == nil {
		name = strings.TrimSpace(firstNonEmpty(name, conv.CustomerName))
		first, last := quote.SplitName(name)
		var created bool
		contact, created, err = a.Quotes.EnsureContact(ctx, zoho.ContactInput{FirstName: first, LastName: last,
			Phone: conv.ChatID, LeadSource: "Chatbot", Description: "Created by Noor from a WhatsApp chat."})
		if err != nil {
			return CustomerIdentity{}, fmt.Errorf("CRM contact for %s: %w", pii.MaskPhone(conv.ChatID), err)
		}
		if stored.ContactID == "" {
			returning = !created
		}
	}
	pct, segment, err := a.Quotes.Discount(ctx, contact.Segment)
	if err != nil {
		return CustomerIdentity{}, err
	}
	var deals []zoho.Deal
	if returning {
		if deals, err = crm.ContactDeals(ctx, contact.ID, 3); err != nil {
			return CustomerIdentity{}, err
		}
	}
	displayName := contact.FullName()
	if strings.EqualFold(displayName, "Unknown") || strings.EqualFold(displayName, "Unknown Client") {
		displayName = ""
	}
	if _, err := a.Store.SaveCustomerIdentity(ctx, db.CustomerIdentity{ConversationID: conversationID, Provider: crm.Name(),
		ContactID: contact.ID, Returning: returning, Name: displayName, Company: contact.Company, Segment: segment}); err != nil {
		return CustomerIdentity{}, err
	}
	out := CustomerIdentity{Provider: crm.Name(), ContactID: contact.ID, Returning: returning, Name: displayName,
		Company: contact.Company, Segment: segment, DiscountPercent: pct}
	out.Context = customerContext(out, deals)
	a.Log.Info("customer identified", "conversation_id", conversationID, "provider", crm.Name(), "returning", returning,
		"segment", segment)
	return out, nil
}

// customerContext is the bounded "customer record" block of the prompt.
func customerContext(c CustomerIdentity, deals []zoho.Deal) string {
	var b strings.Builder
	if c.Returning {
		b.WriteString("Returning customer")
		if c.Name != "" {
			b.WriteString(": " + c.Name)
		}
		if c.Company != "" {
			b.WriteString(" (" + c.Company + ")")
		}
		b.WriteString(".")
	} else {
		b.WriteString("New customer (first contact with Treejar).")
	}
	if c.Segment != "" {
		fmt.Fprintf(&b, "\nSegment: %s", c.Segment)
		if c.DiscountPercent > 0 {
			fmt.Fprintf(&b, " — personal prices %s%% below the catalog; search results show them as customer_price_aed_excl_vat.", quote.Percent(c.DiscountPercent))
		} else {
			b.WriteString(" — catalog prices, no personal discount.")
		}
	}
	for i, d := range deals {
		if i == 0 {
			b.WriteString("\nRecent deals:")
		}
		line := "\n- " + truncate(d.Name, 90) + " — " + d.Stage
		if d.Amount != nil {
			line += ", AED " + quote.Money(*d.Amount)
		}
		b.WriteString(line)
	}
	return b.String()
}

// PrepareQuoteInput asks for a quote version from the chat's facts and the requested items.
type PrepareQuoteInput struct {
	ConversationID string       `json:"conversation_id"`
	Version        int          `json:"version"`
	Items          []quote.Item `json:"items"`
	Facts          Facts        `json:"facts"`
	Language       string       `json:"language"`
}

// PrepareQuoteResult: ready (stored, with the confirmation message), missing (the model
// asks for it) or blocked (a manager must price it).
type PrepareQuoteResult struct {
	Status       string       `json:"status"` // ready | missing | blocked
	QuoteID      int64        `json:"quote_id,omitempty"`
	Ref          string       `json:"ref,omitempty"`
	Items        []quote.Item `json:"items,omitempty"` // the resolved catalog SKUs
	Confirmation string       `json:"confirmation,omitempty"`
	// ToolContent is what the model reads (lines, totals, what to ask).
	ToolContent string `json:"tool_content,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// PrepareQuote resolves the items against the catalog, checks the quote gates and, when
// everything is known, stores the quote version (awaiting the customer's consent) and
// writes the confirmation message.
func (a *CRM) PrepareQuote(ctx context.Context, in PrepareQuoteInput) (PrepareQuoteResult, error) {
	res, err := a.prepareQuote(ctx, in)
	return res, a.activityError(ctx, err)
}

func (a *CRM) prepareQuote(ctx context.Context, in PrepareQuoteInput) (PrepareQuoteResult, error) {
	conv, err := a.Store.Conversation(ctx, in.ConversationID)
	if err != nil {
		return PrepareQuoteResult{}, err
	}
	ident, err := a.Store.CustomerIdentity(ctx, in.ConversationID)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return PrepareQuoteResult{}, err
	}
	f := in.Facts
	cust := db.QuoteCustomer{Name: firstNonEmpty(f.Name, ident.Name), Company: f.Company, Phone: "+" + zoho.NormalizePhone(conv.ChatID),
		Email: f.Email, Address: f.DeliveryAddress}
	if f.IsIndividual != nil && *f.IsIndividual {
		cust.Individual, cust.Company = true, ""
	} else if cust.Company == "" && ident.Company != "" {
		cust.Company = ident.Company
	}
	p, err := a.Quotes.Prepare(ctx, quote.Request{Key: fmt.Sprintf("conv:%s:v%d", in.ConversationID, in.Version),
		ConversationID: in.ConversationID, Version: in.Version, Customer: cust, Items: in.Items, Segment: ident.Segment,
		ContactID: ident.ContactID})
	if err != nil {
		return PrepareQuoteResult{}, err
	}
	lines := make([]map[string]any, 0, len(p.Lines))
	for _, l := range p.Lines {
		lines = append(lines, map[string]any{"sku": l.SKU, "name": l.Name, "qty": l.Qty, "catalog_price_aed": l.ListPrice,
			"unit_price_aed": l.UnitPrice})
	}
	switch {
	case len(p.Blocked) > 0:
		reasons := make([]string, len(p.Blocked))
		for i, b := range p.Blocked {
			reasons[i] = b.Message
		}
		return PrepareQuoteResult{Status: "blocked", Reason: "quotation needs a manager: " + strings.Join(reasons, "; ")}, nil
	case len(p.Missing) > 0:
		ask := make([]string, len(p.Missing))
		for i, m := range p.Missing {
			ask[i] = m.Message
		}
		return PrepareQuoteResult{Status: "missing", ToolContent: toJSON(map[string]any{
			"status": "missing_details", "missing": p.Missing, "lines_so_far": lines,
			"instruction": "Do not create the quotation yet. Ask the customer for ONE missing item (" + ask[0] +
				"), briefly; record what they tell you with record_requirements, then call create_quotation again."})}, nil
	}
	q := p.Quote
	items := make([]quote.Item, len(q.Lines))
	for i, l := range q.Lines {
		items[i] = quote.Item{SKU: l.SKU, Qty: float64(l.Qty)}
	}
	return PrepareQuoteResult{Status: "ready", QuoteID: q.ID, Ref: q.Ref, Items: items,
		Confirmation: quote.ConfirmationText(*q, in.Language),
		ToolContent: toJSON(map[string]any{"status": "awaiting_customer_consent", "ref": q.Ref, "lines": q.Lines,
			"subtotal_aed": q.Subtotal, "vat_aed": q.VAT, "total_aed": q.Total, "segment": q.Segment,
			"discount_percent": q.DiscountPercent})}, nil
}

// QuoteInput names a quote.
type QuoteInput struct {
	QuoteID  int64  `json:"quote_id"`
	Language string `json:"language,omitempty"`
}

// SaleOrderResult is the draft sale order of a quote.
type SaleOrderResult struct {
	ID     string  `json:"id"`
	Number string  `json:"number"`
	Total  float64 `json:"total"`
}

// PlaceSaleOrder records the customer's consent and creates the quote's draft sale order,
// once per quote version (looked up by our reference before it is created).
func (a *CRM) PlaceSaleOrder(ctx context.Context, in QuoteInput) (SaleOrderResult, error) {
	defer heartbeat(ctx, 2*time.Second)()
	if err := a.Store.ConfirmQuote(ctx, in.QuoteID); err != nil {
		return SaleOrderResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeQuoteBlocked, err)
	}
	q, err := a.Quotes.PlaceOrder(ctx, in.QuoteID)
	if err != nil {
		if errors.Is(err, quote.ErrTotalMismatch) || errors.Is(err, quote.ErrReferenceTaken) {
			_ = a.Store.MarkQuoteFailed(ctx, in.QuoteID)
		}
		return SaleOrderResult{}, a.activityError(ctx, err)
	}
	return SaleOrderResult{ID: q.SaleOrderID, Number: q.SaleOrderNumber, Total: q.Total}, nil
}

// QuoteDocument is a quote's published PDF.
type QuoteDocument struct {
	URL     string `json:"url"`
	Caption string `json:"caption"`
	Number  string `json:"number"`
}

// RenderQuotePDF renders the quote's branded PDF (once; stored in PostgreSQL) and returns
// its signed, expiring URL under PUBLIC_BASE_URL and the one-line caption.
func (a *CRM) RenderQuotePDF(ctx context.Context, in QuoteInput) (QuoteDocument, error) {
	defer heartbeat(ctx, 2*time.Second)()
	q, err := a.Store.Quote(ctx, in.QuoteID)
	if err != nil {
		return QuoteDocument{}, err
	}
	if _, err := a.Quotes.Document(ctx, q); err != nil {
		return QuoteDocument{}, fmt.Errorf("quotation %s PDF: %w", q.Ref, err)
	}
	u, _, err := a.Quotes.URL(q)
	if errors.Is(err, quote.ErrNoKey) {
		return QuoteDocument{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeQuoteBlocked, err)
	}
	if err != nil {
		return QuoteDocument{}, err
	}
	return QuoteDocument{URL: u, Caption: quote.Caption(q, in.Language), Number: q.SaleOrderNumber}, nil
}

// FinishQuoteInput closes a sent quote.
type FinishQuoteInput struct {
	QuoteID int64  `json:"quote_id"`
	Stage   string `json:"stage"` // our sales stage (quoting)
}

// FinishQuoteResult is the deal as the CRM has it now.
type FinishQuoteResult struct {
	DealID    string `json:"deal_id"`
	DealStage string `json:"deal_stage"`
}

// FinishQuote marks the quote sent and moves the chat's CRM deal (created if there is none)
// to the stage mapped from our stage, with the quote's amount; the deal is read back.
func (a *CRM) FinishQuote(ctx context.Context, in FinishQuoteInput) (FinishQuoteResult, error) {
	if err := a.Store.MarkQuoteSent(ctx, in.QuoteID); err != nil {
		return FinishQuoteResult{}, err
	}
	q, err := a.Store.Quote(ctx, in.QuoteID)
	if err != nil {
		return FinishQuoteResult{}, err
	}
	stage, err := a.crmStage(ctx, in.Stage)
	if err != nil {
		return FinishQuoteResult{}, err
	}
	d, err := a.Quotes.MoveDeal(ctx, q, stage)
	if err != nil {
		return FinishQuoteResult{}, a.activityError(ctx, err)
	}
	return FinishQuoteResult{DealID: d.ID, DealStage: d.Stage}, nil
}

// crmStage maps our sales stage to the CRM stage (settings.Pricing.CRMStageMapping).
func (a *CRM) crmStage(ctx context.Context, stage string) (string, error) {
	st, err := a.Settings.LoadSettings(ctx)
	if err != nil {
		return "", err
	}
	if s := st.Pricing.CRMStageMapping[stage]; s != "" {
		return s, nil
	}
	return "", temporal.NewNonRetryableApplicationError("no CRM stage is mapped for the sales stage "+stage+
		" (settings: pricing.crm_stage_mapping)", ErrTypeQuoteBlocked, nil)
}
