package quote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/treejar/noor/activities/retrieval"
	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/settings"
)

// Catalog resolves SKUs against the synced catalog (retrieval.Retriever).
type Catalog interface {
	ProductBySKU(ctx context.Context, sku string) (*retrieval.Product, error)
	ResolveOrderLines(ctx context.Context, text string) ([]retrieval.OrderLine, error)
}

// SettingsSource gives the current settings document.
type SettingsSource interface {
	LoadSettings(ctx context.Context) (settings.Settings, error)
}

// Seller is the legal name on quotations.
const Seller = "Treejar Trading FZC LLC"

// Errors a caller must not retry.
var (
	// ErrTotalMismatch: the sale order's total differs from the quote's (Zoho priced it
	// differently); the customer must not get either number before a manager checks.
	ErrTotalMismatch = errors.New("the sale order total differs from the quotation total")
	// ErrReferenceTaken: a sale order with our reference belongs to another customer.
	ErrReferenceTaken = errors.New("a sale order with this reference belongs to another customer")
	// ErrNotConfirmed: the quote has no consent (or a newer version replaced it).
	ErrNotConfirmed = errors.New("the quotation is not confirmed")
)

// Service prepares quotes, places their draft sale orders, renders their PDFs and moves
// the CRM deal. Every step is safe to repeat.
type Service struct {
	Store    *db.Store
	Catalog  Catalog
	CRM      zoho.CRMBackend
	Sales    zoho.SalesBackend
	Renderer *Renderer
	Signer   Signer
	BaseURL  string // PUBLIC_BASE_URL
	Settings SettingsSource
	Log      *slog.Logger
	Now      func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Item is a requested product and quantity.
type Item struct {
	SKU string  `json:"sku"`
	Qty float64 `json:"qty"`
}

// Request is one quote version to prepare.
type Request struct {
	Key            string // idempotency key of the version ("conv:<id>:v<n>", or the API's key)
	ConversationID string
	Version        int
	Customer       db.QuoteCustomer
	Items          []Item
	Segment        string // the CRM contact's segment
	ContactID      string // the CRM contact, when known
	Status         string // awaiting_consent (chat) | confirmed (API)
}

// Prepared is the outcome: a stored quote, or what is missing / why it is blocked.
type Prepared struct {
	Quote   *db.Quote
	Lines   []db.QuoteLine
	Missing []Problem
	Blocked []Problem
}

// Discount returns a segment's discount and the table's spelling of its name.
func (s *Service) Discount(ctx context.Context, segment string) (float64, string, error) {
	return s.Store.SegmentDiscount(ctx, segment)
}

// Resolve turns requested items into priced quote lines. A code the catalog knows only as
// a family ("CH 616") or not at all, and a missing or odd quantity, are Missing (ask the
// customer); a product without a catalog price or absent from the inventory is Blocked (a
// manager prices it). The same SKU twice is one line.
func (s *Service) Resolve(ctx context.Context, items []Item, discountPct float64) ([]db.QuoteLine, []Problem, []Problem, error) {
	var lines []db.QuoteLine
	var missing, blocked []Problem
	index := map[string]int{}
	if len(items) == 0 {
		missing = append(missing, Problem{Field: "items", Message: "the exact products (SKUs) and quantities"})
	}
	for i, it := range items {
		field := fmt.Sprintf("items[%d]", i)
		sku := strings.TrimSpace(it.SKU)
		if sku == "" {
			missing = append(missing, Problem{Field: field + ".sku", Message: "which product"})
			continue
		}
		p, err := s.Catalog.ProductBySKU(ctx, sku)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("look up %q in the catalog: %w", sku, err)
		}
		if p == nil {
			ol, err := s.Catalog.ResolveOrderLines(ctx, sku)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("resolve %q: %w", sku, err)
			}
			var cands []string
			for _, l := range ol {
				if len(l.Candidates) > 0 {
					cands = append(cands, l.Candidates...)
				} else if l.SKU != "" {
					if pp, err := s.Catalog.ProductBySKU(ctx, l.SKU); err == nil && pp != nil {
						p = pp
					}
				}
			}
			if p == nil {
				if len(cands) > 0 {
					missing = append(missing, Problem{Field: field + ".sku", Candidates: cands,
						Message: fmt.Sprintf("%q matches several catalog products: ask which one (%s)", sku, strings.Join(cands, ", "))})
				} else {
					missing = append(missing, Problem{Field: field + ".sku", Message: fmt.Sprintf("%q is not a catalog SKU: find the exact product with search_products", sku)})
				}
				continue
			}
		}
		if it.Qty <= 0 || it.Qty != math.Trunc(it.Qty) || it.Qty > 100000 {
			missing = append(missing, Problem{Field: field + ".qty", Message: "the quantity of " + p.SKU + " (a whole number)"})
			continue
		}
		if !p.HasPrice {
			blocked = append(blocked, Problem{Field: field + ".sku", Message: p.SKU + " has no catalog price"})
			continue
		}
		item, err := s.Sales.ItemBySKU(ctx, p.SKU)
		if errors.Is(err, zoho.ErrNotFound) {
			blocked = append(blocked, Problem{Field: field + ".sku", Message: p.SKU + " is not in the inventory system (" + s.Sales.Name() + ")"})
			continue
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("inventory item %s: %w", p.SKU, err)
		}
		if k, ok := index[p.SKU]; ok {
			lines[k].Qty += int(it.Qty)
			continue
		}
		list := p.ListPrice
		if list <= 0 {
			list = p.Price
		}
		index[p.SKU] = len(lines)
		lines = append(lines, db.QuoteLine{SKU: p.SKU, Name: p.Name, Description: p.ShortDescription, ImageURL: p.ImageURL,
			ItemID: item.ItemID, Qty: int(it.Qty), ListPrice: p.Price, UnitPrice: CustomerPrice(list, p.Price, discountPct)})
	}
	return lines, missing, blocked, nil
}

// Prepare resolves and checks a quote and, when nothing is missing or blocked, stores it
// (once per Key).
func (s *Service) Prepare(ctx context.Context, r Request) (Prepared, error) {
	st, err := s.Settings.LoadSettings(ctx)
	if err != nil {
		return Prepared{}, err
	}
	pct, segment, err := s.Discount(ctx, r.Segment)
	if err != nil {
		return Prepared{}, err
	}
	lines, missing, blocked, err := s.Resolve(ctx, r.Items, pct)
	if err != nil {
		return Prepared{}, err
	}
	missing = append(CheckCustomer(r.Customer), missing...)
	out := Prepared{Lines: lines, Missing: missing, Blocked: blocked}
	if len(blocked) > 0 || len(missing) > 0 {
		return out, nil
	}
	t := Compute(lines, st.Pricing.VATPercent)
	status := r.Status
	if status == "" {
		status = "awaiting_consent"
	}
	q, err := s.Store.CreateQuote(ctx, db.Quote{IdempotencyKey: r.Key, ConversationID: r.ConversationID, Version: r.Version,
		Status: status, Provider: s.Sales.Name(), Customer: r.Customer, Segment: segment, DiscountPercent: pct, Lines: lines,
		Subtotal: t.Subtotal, VATPercent: t.VATPercent, VAT: t.VAT, Total: t.Total, Currency: "AED",
		ValidUntil: s.validUntil(st), CRMContactID: r.ContactID})
	if err != nil {
		return out, err
	}
	out.Quote, out.Lines = &q, q.Lines
	return out, nil
}

func (s *Service) validUntil(st settings.Settings) time.Time {
	loc, err := time.LoadLocation(st.BusinessHours.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	d := s.now().In(loc).AddDate(0, 0, st.Pricing.QuoteValidityDays)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// PlaceOrder creates the quote's draft sale order, once: the order is looked up by our
// reference before it is created, so a retry after a crash finds the first one. The
// order's total must equal the quote's.
func (s *Service) PlaceOrder(ctx context.Context, quoteID int64) (db.Quote, error) {
	q, err := s.Store.Quote(ctx, quoteID)
	if err != nil {
		return q, err
	}
	if q.SaleOrderID != "" {
		return q, nil
	}
	if q.Status != "confirmed" && q.Status != "ordered" {
		return q, fmt.Errorf("%w (status %s)", ErrNotConfirmed, q.Status)
	}
	cust, err := s.inventoryCustomer(ctx, q)
	if err != nil {
		return q, err
	}
	so, err := s.Sales.SalesOrderByReference(ctx, q.Ref)
	switch {
	case errors.Is(err, zoho.ErrNotFound):
		st, err := s.Settings.LoadSettings(ctx)
		if err != nil {
			return q, err
		}
		in := zoho.SalesOrderInput{CustomerID: cust.ID, ReferenceNumber: q.Ref, Date: s.now().Format("2006-01-02"),
			VATPercent: q.VATPercent, Notes: "Quotation " + q.Ref + " prepared by Noor (WhatsApp).",
			Terms: strings.Join(terms(st), "\n")}
		for _, l := range q.Lines {
			desc := l.Name
			if q.DiscountPercent > 0 && l.UnitPrice < l.ListPrice {
				desc += fmt.Sprintf(" (catalog price AED %s, %s price)", Money(l.ListPrice), q.Segment)
			}
			in.Lines = append(in.Lines, zoho.SalesOrderLine{ItemID: l.ItemID, SKU: l.SKU, Name: l.Name, Description: desc,
				Quantity: float64(l.Qty), Rate: l.UnitPrice})
		}
		if so, err = s.Sales.CreateSalesOrder(ctx, in); err != nil {
			return q, err
		}
	case err != nil:
		return q, fmt.Errorf("look up sale order %s: %w", q.Ref, err)
	case so.CustomerID != cust.ID:
		return q, fmt.Errorf("%w: %s (%s)", ErrReferenceTaken, so.Number, q.Ref)
	}
	if zoho.Fils(so.Total) != zoho.Fils(q.Total) {
		return q, fmt.Errorf("%w: sale order %s total AED %s, quotation %s total AED %s", ErrTotalMismatch,
			so.Number, Money(so.Total), q.Ref, Money(q.Total))
	}
	if err := s.Store.SetQuoteOrdered(ctx, db.QuoteOrdered{QuoteID: q.ID, InventoryCustomerID: cust.ID, SaleOrderID: so.ID,
		SaleOrderNumber: so.Number, SaleOrderTotal: so.Total}); err != nil {
		return q, err
	}
	if q.ConversationID != "" {
		if err := s.Store.SetIdentityInventoryCustomer(ctx, q.ConversationID, cust.ID); err != nil {
			return q, err
		}
	}
	return s.Store.Quote(ctx, q.ID)
}

// inventoryCustomer finds the quote's customer in the inventory by phone (reactivating an
// inactive one) or creates it.
func (s *Service) inventoryCustomer(ctx context.Context, q db.Quote) (*zoho.Customer, error) {
	c, err := s.Sales.FindCustomerByPhone(ctx, q.Customer.Phone)
	switch {
	case err == nil:
		if c.Status != "" && c.Status != "active" {
			if err := s.Sales.ActivateCustomer(ctx, c.ID); err != nil {
				return nil, err
			}
		}
		return c, nil
	case !errors.Is(err, zoho.ErrNotFound):
		return nil, fmt.Errorf("find inventory customer: %w", err)
	}
	first, last := SplitName(q.Customer.Name)
	name := q.Customer.Company
	if name == "" {
		name = q.Customer.Name
	}
	return s.Sales.CreateCustomer(ctx, zoho.CustomerInput{Name: name, Company: q.Customer.Company, FirstName: first,
		LastName: last, Phone: "+" + zoho.NormalizePhone(q.Customer.Phone), Email: q.Customer.Email, Address: q.Customer.Address})
}

// SplitName splits "Sara Ahmed Khan" into "Sara" and "Ahmed Khan".
func SplitName(full string) (first, last string) {
	parts := strings.Fields(full)
	switch len(parts) {
	case 0:
		return "", ""
	case 1:
		return "", parts[0]
	}
	return parts[0], strings.Join(parts[1:], " ")
}

func terms(st settings.Settings) []string {
	return []string{st.Pricing.DeliveryTerms, "Payment: " + st.Pricing.PaymentTerms,
		fmt.Sprintf("This quotation is valid for %d days.", st.Pricing.QuoteValidityDays),
		fmt.Sprintf("Prices in AED; VAT %s%% as shown.", Percent(st.Pricing.VATPercent))}
}

// Document returns the quote's PDF, rendering and storing it the first time.
func (s *Service) Document(ctx context.Context, q db.Quote) ([]byte, error) {
	pdf, _, err := s.Store.QuoteDocument(ctx, q.ID)
	if err == nil {
		return pdf, nil
	}
	if !errors.Is(err, db.ErrNotFound) {
		return nil, err
	}
	if q.SaleOrderNumber == "" {
		return nil, fmt.Errorf("quotation %s has no sale order yet", q.Ref)
	}
	st, err := s.Settings.LoadSettings(ctx)
	if err != nil {
		return nil, err
	}
	doc := Document{Number: q.SaleOrderNumber, Ref: q.Ref, Date: q.CreatedAt, ValidUntil: q.ValidUntil, Seller: Seller,
		TRN: st.Pricing.TRN, Customer: q.Customer, Currency: q.Currency, Lines: q.Lines,
		Totals: Totals{Subtotal: q.Subtotal, VATPercent: q.VATPercent, VAT: q.VAT, Total: q.Total}, Terms: terms(st)}
	if loc, err := time.LoadLocation(st.BusinessHours.TimeZone); err == nil {
		doc.Date = doc.Date.In(loc)
	}
	if q.DiscountPercent > 0 {
		doc.PriceNote = fmt.Sprintf("%s prices: %s%% off the catalog price.", q.Segment, Percent(q.DiscountPercent))
	}
	pdf, err = s.Renderer.Render(ctx, doc)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(pdf)
	if err := s.Store.SaveQuoteDocument(ctx, q.ID, pdf, hex.EncodeToString(sum[:])); err != nil {
		return nil, err
	}
	// Another attempt may have stored its rendering first: everyone serves the stored one.
	pdf, _, err = s.Store.QuoteDocument(ctx, q.ID)
	return pdf, err
}

// URL is the quote PDF's signed link, valid until a day after the quote expires.
func (s *Service) URL(q db.Quote) (string, time.Time, error) {
	exp := q.ValidUntil.Add(48 * time.Hour)
	if min := s.now().Add(24 * time.Hour); exp.Before(min) {
		exp = min
	}
	u, err := s.Signer.URL(s.BaseURL, DocumentPath(q.Ref), exp)
	return u, exp, err
}

// EnsureContact returns the CRM contact of a phone: the linked one, else the one the CRM
// finds, else a new one (Lead_Source "Chatbot"). It reports whether Noor created it.
func (s *Service) EnsureContact(ctx context.Context, in zoho.ContactInput) (*zoho.Contact, bool, error) {
	phone := zoho.NormalizePhone(in.Phone)
	if phone == "" {
		return nil, false, fmt.Errorf("a phone number is required")
	}
	provider := s.CRM.Name()
	if id, err := s.Store.ContactLink(ctx, provider, phone); err == nil {
		c, err := s.CRM.GetContact(ctx, id)
		if err == nil {
			return c, false, nil
		}
		if !errors.Is(err, zoho.ErrNotFound) {
			return nil, false, err
		}
		_ = s.Store.UnlinkContact(ctx, provider, phone) // deleted in the CRM
	} else if !errors.Is(err, db.ErrNotFound) {
		return nil, false, err
	}
	c, err := s.CRM.FindContactByPhone(ctx, phone)
	created := false
	switch {
	case errors.Is(err, zoho.ErrNotFound):
		if in.Phone == phone {
			in.Phone = "+" + phone
		}
		if c, err = s.CRM.CreateContact(ctx, in); err != nil {
			return nil, false, err
		}
		created = true
	case err != nil:
		return nil, false, err
	}
	if _, err := s.Store.LinkContact(ctx, provider, phone, c.ID, created); err != nil {
		return nil, false, err
	}
	return c, created, nil
}

// DealMarker tags the deals Noor creates, so a retry finds the deal it already made.
func DealMarker(conversationID, ref string) string {
	if conversationID != "" {
		return "[noor chat " + conversationID + "]"
	}
	return "[noor quote " + ref + "]"
}

// MoveDeal puts the quote's deal at crmStage with the quote's amount (excl. VAT): the
// chat's deal when it has one, else a deal Noor made earlier for it, else a new deal. The
// deal is read back and its stage checked.
func (s *Service) MoveDeal(ctx context.Context, q db.Quote, crmStage string) (*zoho.Deal, error) {
	contactID, dealID := q.CRMContactID, q.CRMDealID
	if q.ConversationID != "" {
		if id, err := s.Store.CustomerIdentity(ctx, q.ConversationID); err == nil {
			contactID = firstNonEmpty(contactID, id.ContactID)
			dealID = firstNonEmpty(dealID, id.DealID)
		} else if !errors.Is(err, db.ErrNotFound) {
			return nil, err
		}
	}
	if contactID == "" {
		first, last := SplitName(q.Customer.Name)
		c, _, err := s.EnsureContact(ctx, zoho.ContactInput{FirstName: first, LastName: last, Phone: q.Customer.Phone,
			Email: q.Customer.Email, Company: q.Customer.Company, LeadSource: "Chatbot"})
		if err != nil {
			return nil, fmt.Errorf("CRM contact for the deal: %w", err)
		}
		contactID = c.ID
	}
	amount := q.Subtotal
	marker := DealMarker(q.ConversationID, q.Ref)
	var deal *zoho.Deal
	var err error
	if dealID == "" {
		// A deal this chat (or quote) already made, created by an attempt that crashed before recording it.
		deals, err := s.CRM.ContactDeals(ctx, contactID, 20)
		if err != nil {
			return nil, err
		}
		for i := range deals {
			if strings.Contains(deals[i].Description, marker) {
				dealID = deals[i].ID
				break
			}
		}
	}
	if dealID != "" {
		deal, err = s.CRM.UpdateDeal(ctx, dealID, zoho.DealUpdate{Stage: crmStage, Amount: &amount})
		if errors.Is(err, zoho.ErrNotFound) {
			dealID, deal, err = "", nil, nil // deleted in the CRM: make a new one
		}
		if err != nil {
			return nil, err
		}
	}
	if deal == nil {
		deal, err = s.CRM.CreateDeal(ctx, zoho.DealInput{Name: DealName(q), ContactID: contactID, Stage: crmStage, Amount: &amount,
			ClosingDate: q.ValidUntil.Format("2006-01-02"), LeadSource: "Chatbot",
			Description: fmt.Sprintf("Quotation %s %s. %s", q.SaleOrderNumber, q.Ref, marker)})
		if err != nil {
			return nil, err
		}
	}
	if deal.Stage != crmStage {
		return deal, fmt.Errorf("the CRM deal %s is at %q after moving it to %q", deal.ID, deal.Stage, crmStage)
	}
	if q.ConversationID != "" {
		if err := s.Store.SetIdentityDeal(ctx, q.ConversationID, deal.ID); err != nil {
			return deal, err
		}
	}
	return deal, s.Store.SetQuoteDeal(ctx, q.ID, contactID, deal.ID)
}

// DealName is "<company or name>: 4 x CH 616 black, 2 x NOVO 2400".
func DealName(q db.Quote) string {
	who := firstNonEmpty(q.Customer.Company, q.Customer.Name, "WhatsApp customer")
	parts := make([]string, 0, len(q.Lines))
	for _, l := range q.Lines {
		parts = append(parts, fmt.Sprintf("%d x %s", l.Qty, l.SKU))
	}
	name := who + ": " + strings.Join(parts, ", ")
	if r := []rune(name); len(r) > 120 {
		name = string(r[:119]) + "…"
	}
	return name
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
