package zoho

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Customer is an Inventory customer (a "contact" of type customer).
type Customer struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Company string `json:"company,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Mobile  string `json:"mobile,omitempty"`
	Email   string `json:"email,omitempty"`
	Address string `json:"address,omitempty"`
	Status  string `json:"status"`
}

// CustomerInput creates an Inventory customer.
type CustomerInput struct {
	Name      string `json:"name"` // contact_name: the company, or the person for an individual
	Company   string `json:"company,omitempty"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	Phone     string `json:"phone"`
	Email     string `json:"email,omitempty"`
	Address   string `json:"address,omitempty"`
}

// SalesOrderLine is one line of a sale order.
type SalesOrderLine struct {
	ItemID      string  `json:"item_id"`
	SKU         string  `json:"sku,omitempty"`
	Name        string  `json:"name,omitempty"`
	Description string  `json:"description,omitempty"`
	Quantity    float64 `json:"quantity"`
	Rate        float64 `json:"rate"`
	ItemTotal   float64 `json:"item_total"`
}

// SalesOrder is an Inventory sale order.
type SalesOrder struct {
	ID              string           `json:"id"`
	Number          string           `json:"number"`
	CustomerID      string           `json:"customer_id"`
	CustomerName    string           `json:"customer_name,omitempty"`
	Status          string           `json:"status"` // draft | confirmed | open | fulfilled | void
	Date            string           `json:"date,omitempty"`
	ShipmentDate    string           `json:"shipment_date,omitempty"`
	ReferenceNumber string           `json:"reference_number,omitempty"`
	Lines           []SalesOrderLine `json:"line_items,omitempty"`
	SubTotal        float64          `json:"sub_total"`
	TaxTotal        float64          `json:"tax_total"`
	Total           float64          `json:"total"`
}

// SalesOrderInput creates a draft sale order. ReferenceNumber is our quote number: it is
// what makes the create idempotent (looked up before every create).
type SalesOrderInput struct {
	CustomerID      string           `json:"customer_id"`
	ReferenceNumber string           `json:"reference_number"`
	Date            string           `json:"date,omitempty"`
	Lines           []SalesOrderLine `json:"line_items"`
	Notes           string           `json:"notes,omitempty"`
	Terms           string           `json:"terms,omitempty"`
	VATPercent      float64          `json:"vat_percent"`
}

// SalesBackend is the inventory side of a sale: stock, customers and sale orders. Zoho
// Inventory when Zoho is configured, the built-in local inventory otherwise. Lookups answer
// ErrNotFound when there is no such record.
type SalesBackend interface {
	StockSource
	FindCustomerByPhone(ctx context.Context, phone string) (*Customer, error)
	CreateCustomer(ctx context.Context, in CustomerInput) (*Customer, error)
	ActivateCustomer(ctx context.Context, id string) error
	SalesOrderByReference(ctx context.Context, ref string) (*SalesOrder, error)
	SalesOrderByNumber(ctx context.Context, number string) (*SalesOrder, error)
	CustomerSalesOrders(ctx context.Context, customerID string, limit int) ([]SalesOrder, error)
	CreateSalesOrder(ctx context.Context, in SalesOrderInput) (*SalesOrder, error)
	GetSalesOrder(ctx context.Context, id string) (*SalesOrder, error)
}

type zContactPerson struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Mobile    string `json:"mobile,omitempty"`
	Email     string `json:"email,omitempty"`
	Primary   bool   `json:"is_primary_contact"`
}

type zAddress struct {
	Address string `json:"address,omitempty"`
}

type zInvContact struct {
	ID              string           `json:"contact_id,omitempty"`
	Name            string           `json:"contact_name"`
	Company         string           `json:"company_name,omitempty"`
	Type            string           `json:"contact_type,omitempty"`
	Status          string           `json:"status,omitempty"`
	Email           string           `json:"email,omitempty"`
	Phone           string           `json:"phone,omitempty"`
	Mobile          string           `json:"mobile,omitempty"`
	BillingAddress  *zAddress        `json:"billing_address,omitempty"`
	ShippingAddress *zAddress        `json:"shipping_address,omitempty"`
	Persons         []zContactPerson `json:"contact_persons,omitempty"`
}

func (z zInvContact) customer() Customer {
	c := Customer{ID: z.ID, Name: z.Name, Company: z.Company, Phone: z.Phone, Mobile: z.Mobile, Email: z.Email, Status: z.Status}
	if z.ShippingAddress != nil {
		c.Address = z.ShippingAddress.Address
	}
	for _, p := range z.Persons {
		if c.Phone == "" {
			c.Phone = p.Phone
		}
		if c.Mobile == "" {
			c.Mobile = p.Mobile
		}
		if c.Email == "" {
			c.Email = p.Email
		}
	}
	return c
}

// FindCustomerByPhone searches customers by the last nine digits (Inventory phones are
// messy: "+971 55 234 5671", "04 321 7788", "00971…") and compares every phone and mobile
// of the contact and its persons. Active customers win over inactive ones.
func (inv *Inventory) FindCustomerByPhone(ctx context.Context, phone string) (*Customer, error) {
	digits := NormalizePhone(phone)
	if len(digits) < 7 {
		return nil, ErrNotFound
	}
	tail := digits
	if len(tail) > 9 {
		tail = tail[len(tail)-9:]
	}
	var out struct {
		Contacts []zInvContact `json:"contacts"`
	}
	q := url.Values{"phone_contains": {tail}, "contact_type": {"customer"}}
	if err := inv.API.Do(ctx, http.MethodGet, "/contacts", q, nil, &out); err != nil {
		if IsNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("search inventory customers: %w", err)
	}
	var best *Customer
	for _, z := range out.Contacts {
		phones := []string{z.Phone, z.Mobile}
		for _, p := range z.Persons {
			phones = append(phones, p.Phone, p.Mobile)
		}
		for _, p := range phones {
			if SamePhone(p, digits) {
				c := z.customer()
				if best == nil || (best.Status != "active" && c.Status == "active") {
					best = &c
				}
				break
			}
		}
	}
	if best == nil {
		return nil, ErrNotFound
	}
	return best, nil
}

// CreateCustomer creates a customer with its primary contact person and reads it back.
func (inv *Inventory) CreateCustomer(ctx context.Context, in CustomerInput) (*Customer, error) {
	body := zInvContact{Name: in.Name, Company: in.Company, Type: "customer",
		Persons: []zContactPerson{{FirstName: in.FirstName, LastName: in.LastName, Phone: in.Phone, Mobile: in.Phone,
			Email: in.Email, Primary: true}}}
	if in.Address != "" {
		body.BillingAddress, body.ShippingAddress = &zAddress{in.Address}, &zAddress{in.Address}
	}
	var out struct {
		Contact zInvContact `json:"contact"`
	}
	if err := inv.API.Do(ctx, http.MethodPost, "/contacts", nil, body, &out); err != nil {
		return nil, fmt.Errorf("create inventory customer: %w", err)
	}
	if out.Contact.ID == "" {
		return nil, fmt.Errorf("create inventory customer: no contact_id in the answer")
	}
	return inv.getCustomer(ctx, out.Contact.ID)
}

func (inv *Inventory) getCustomer(ctx context.Context, id string) (*Customer, error) {
	var out struct {
		Contact zInvContact `json:"contact"`
	}
	if err := inv.API.Do(ctx, http.MethodGet, "/contacts/"+url.PathEscape(id), nil, nil, &out); err != nil {
		if IsNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read inventory customer %s: %w", id, err)
	}
	c := out.Contact.customer()
	return &c, nil
}

// ActivateCustomer marks an inactive customer active (a sale order needs an active one).
func (inv *Inventory) ActivateCustomer(ctx context.Context, id string) error {
	if err := inv.API.Do(ctx, http.MethodPost, "/contacts/"+url.PathEscape(id)+"/active", nil, nil, nil); err != nil {
		return fmt.Errorf("activate inventory customer %s: %w", id, err)
	}
	return nil
}

type zSalesOrder struct {
	ID              string           `json:"salesorder_id"`
	Number          string           `json:"salesorder_number"`
	CustomerID      string           `json:"customer_id"`
	CustomerName    string           `json:"customer_name"`
	Status          string           `json:"status"`
	Date            string           `json:"date"`
	ShipmentDate    string           `json:"shipment_date"`
	ReferenceNumber string           `json:"reference_number"`
	Lines           []SalesOrderLine `json:"line_items"`
	SubTotal        float64          `json:"sub_total"`
	TaxTotal        float64          `json:"tax_total"`
	Total           float64          `json:"total"`
}

func (z zSalesOrder) order() SalesOrder {
	return SalesOrder{ID: z.ID, Number: z.Number, CustomerID: z.CustomerID, CustomerName: z.CustomerName,
		Status: z.Status, Date: z.Date, ShipmentDate: z.ShipmentDate, ReferenceNumber: z.ReferenceNumber,
		Lines: z.Lines, SubTotal: z.SubTotal, TaxTotal: z.TaxTotal, Total: z.Total}
}

// listSalesOrders lists sale orders matching q (newest first, without line items).
func (inv *Inventory) listSalesOrders(ctx context.Context, q url.Values) ([]SalesOrder, error) {
	q.Set("sort_column", "created_time")
	q.Set("sort_order", "D")
	var out struct {
		SalesOrders []zSalesOrder `json:"salesorders"`
	}
	if err := inv.API.Do(ctx, http.MethodGet, "/salesorders", q, nil, &out); err != nil {
		if IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list sale orders: %w", err)
	}
	res := make([]SalesOrder, 0, len(out.SalesOrders))
	for _, z := range out.SalesOrders {
		res = append(res, z.order())
	}
	return res, nil
}

// SalesOrderByReference finds the sale order whose reference_number is exactly ref.
func (inv *Inventory) SalesOrderByReference(ctx context.Context, ref string) (*SalesOrder, error) {
	list, err := inv.listSalesOrders(ctx, url.Values{"reference_number": {ref}})
	if err != nil {
		return nil, err
	}
	for _, so := range list {
		if so.ReferenceNumber == ref {
			return inv.GetSalesOrder(ctx, so.ID)
		}
	}
	return nil, ErrNotFound
}

// SalesOrderByNumber finds a sale order by its number ("SO-00019").
func (inv *Inventory) SalesOrderByNumber(ctx context.Context, number string) (*SalesOrder, error) {
	list, err := inv.listSalesOrders(ctx, url.Values{"salesorder_number": {number}})
	if err != nil {
		return nil, err
	}
	for _, so := range list {
		if strings.EqualFold(so.Number, number) {
			return inv.GetSalesOrder(ctx, so.ID)
		}
	}
	return nil, ErrNotFound
}

// CustomerSalesOrders lists a customer's latest sale orders.
func (inv *Inventory) CustomerSalesOrders(ctx context.Context, customerID string, limit int) ([]SalesOrder, error) {
	if limit <= 0 {
		limit = 5
	}
	list, err := inv.listSalesOrders(ctx, url.Values{"customer_id": {customerID}, "per_page": {strconv.Itoa(limit)}})
	if err != nil {
		return nil, err
	}
	if len(list) > limit {
		list = list[:limit]
	}
	return list, nil
}

// CreateSalesOrder creates a draft sale order and reads it back. Callers look the reference
// up first (SalesOrderByReference): Zoho does not reject a second order with the same one.
func (inv *Inventory) CreateSalesOrder(ctx context.Context, in SalesOrderInput) (*SalesOrder, error) {
	type line struct {
		ItemID      string  `json:"item_id"`
		Description string  `json:"description,omitempty"`
		Quantity    float64 `json:"quantity"`
		Rate        float64 `json:"rate"`
	}
	body := struct {
		CustomerID      string `json:"customer_id"`
		Date            string `json:"date,omitempty"`
		ReferenceNumber string `json:"reference_number"`
		Status          string `json:"status"`
		LineItems       []line `json:"line_items"`
		Notes           string `json:"notes,omitempty"`
		Terms           string `json:"terms,omitempty"`
	}{CustomerID: in.CustomerID, Date: in.Date, ReferenceNumber: in.ReferenceNumber, Status: "draft", Notes: in.Notes, Terms: in.Terms}
	for _, l := range in.Lines {
		body.LineItems = append(body.LineItems, line{ItemID: l.ItemID, Description: l.Description, Quantity: l.Quantity, Rate: l.Rate})
	}
	var out struct {
		SalesOrder zSalesOrder `json:"salesorder"`
	}
	if err := inv.API.Do(ctx, http.MethodPost, "/salesorders", nil, body, &out); err != nil {
		return nil, fmt.Errorf("create sale order %s: %w", in.ReferenceNumber, err)
	}
	if out.SalesOrder.ID == "" {
		return nil, fmt.Errorf("create sale order %s: no salesorder_id in the answer", in.ReferenceNumber)
	}
	return inv.GetSalesOrder(ctx, out.SalesOrder.ID)
}

// GetSalesOrder reads a sale order with its lines.
func (inv *Inventory) GetSalesOrder(ctx context.Context, id string) (*SalesOrder, error) {
	var out struct {
		SalesOrder *zSalesOrder `json:"salesorder"`
	}
	if err := inv.API.Do(ctx, http.MethodGet, "/salesorders/"+url.PathEscape(id), nil, nil, &out); err != nil {
		if IsNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read sale order %s: %w", id, err)
	}
	if out.SalesOrder == nil {
		return nil, ErrNotFound
	}
	so := out.SalesOrder.order()
	return &so, nil
}

// SalesOrderPDF downloads Zoho's own PDF of a sale order (accept=pdf).
func (inv *Inventory) SalesOrderPDF(ctx context.Context, id string) ([]byte, error) {
	tok, err := inv.API.Auth.Token(ctx)
	if err != nil {
		return nil, err
	}
	q := url.Values{"accept": {"pdf"}}
	for k, v := range inv.API.Fixed {
		q[k] = v
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, inv.API.BaseURL+"/salesorders/"+url.PathEscape(id)+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Zoho-oauthtoken "+tok)
	resp, err := inv.API.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download sale order PDF: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 20<<20))
	if err != nil {
		return nil, fmt.Errorf("download sale order PDF: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, ErrNotFound
	case resp.StatusCode/100 != 2:
		return nil, &APIError{Status: resp.StatusCode, Message: truncate(string(body), 200)}
	case !strings.HasPrefix(string(body), "%PDF"):
		return nil, fmt.Errorf("download sale order PDF: the answer is not a PDF")
	}
	return body, nil
}
