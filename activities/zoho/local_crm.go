package zoho

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/treejar/noor/db"
)

// LocalCRM is the built-in CRM used without Zoho credentials: contacts and deals in
// PostgreSQL (local_crm_contacts, local_crm_deals; the demo fixtures are seeded there).
type LocalCRM struct {
	Store *db.Store
}

// Name identifies the provider.
func (l *LocalCRM) Name() string { return "local" }

const localContactCols = `id, first_name, last_name, phone, email, company, segment, lead_source, description,
	coalesce(attributes->>'designation', '')`

func scanLocalContact(r pgx.Row) (*Contact, error) {
	var c Contact
	err := r.Scan(&c.ID, &c.FirstName, &c.LastName, &c.Phone, &c.Email, &c.Company, &c.Segment, &c.LeadSource,
		&c.Description, &c.Designation)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("local CRM contact: %w", err)
	}
	return &c, nil
}

// FindContactByPhone matches the normalised phone (the table stores digits only).
func (l *LocalCRM) FindContactByPhone(ctx context.Context, phone string) (*Contact, error) {
	digits := NormalizePhone(phone)
	if digits == "" {
		return nil, ErrNotFound
	}
	return scanLocalContact(l.Store.Pool.QueryRow(ctx, `SELECT `+localContactCols+` FROM local_crm_contacts WHERE phone = $1`, digits))
}

// GetContact reads one contact.
func (l *LocalCRM) GetContact(ctx context.Context, id string) (*Contact, error) {
	return scanLocalContact(l.Store.Pool.QueryRow(ctx, `SELECT `+localContactCols+` FROM local_crm_contacts WHERE id = $1`, id))
}

// CreateContact inserts a contact; a phone that is already a contact returns that contact
// (like Zoho's DUPLICATE_DATA).
func (l *LocalCRM) CreateContact(ctx context.Context, in ContactInput) (*Contact, error) {
	digits := NormalizePhone(in.Phone)
	if digits == "" {
		return nil, fmt.Errorf("create local CRM contact: phone is required")
	}
	attrs, _ := json.Marshal(map[string]any{"utm": in.UTM})
	_, err := l.Store.Pool.Exec(ctx, `
		INSERT INTO local_crm_contacts (phone, first_name, last_name, email, company, segment, lead_source, description, attributes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (phone) DO NOTHING`,
		digits, in.FirstName, orDefault(in.LastName, "Unknown"), in.Email, in.Company, in.Segment,
		orDefault(in.LeadSource, "Chatbot"), contactDescription(in), attrs)
	if err != nil {
		return nil, fmt.Errorf("create local CRM contact: %w", err)
	}
	return l.FindContactByPhone(ctx, digits)
}

const localDealCols = `id, name, contact_id, stage, amount, coalesce(attributes->>'pipeline', ''),
	coalesce(attributes->>'closing_date', ''), coalesce(attributes->>'lead_source', ''),
	coalesce(attributes->>'description', ''), coalesce(attributes->'utm', '{}'::jsonb), created_at`

func scanLocalDeal(r pgx.Row) (*Deal, error) {
	var d Deal
	var utm []byte
	err := r.Scan(&d.ID, &d.Name, &d.ContactID, &d.Stage, &d.Amount, &d.Pipeline, &d.ClosingDate, &d.LeadSource,
		&d.Description, &utm, &d.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("local CRM deal: %w", err)
	}
	_ = json.Unmarshal(utm, &d.UTM)
	if d.Pipeline == "" {
		d.Pipeline = DefaultPipeline
	}
	return &d, nil
}

// ContactDeals lists a contact's deals, newest first.
func (l *LocalCRM) ContactDeals(ctx context.Context, contactID string, limit int) ([]Deal, error) {
	if limit <= 0 {
		limit = 5
	}
	rows, err := l.Store.Pool.Query(ctx, `SELECT `+localDealCols+` FROM local_crm_deals WHERE contact_id = $1
		ORDER BY created_at DESC, id LIMIT $2`, contactID, limit)
	if err != nil {
		return nil, fmt.Errorf("list local CRM deals: %w", err)
	}
	defer rows.Close()
	var out []Deal
	for rows.Next() {
		d, err := scanLocalDeal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// CreateDeal inserts a deal for an existing contact.
func (l *LocalCRM) CreateDeal(ctx context.Context, in DealInput) (*Deal, error) {
	attrs, _ := json.Marshal(map[string]any{"pipeline": DefaultPipeline, "closing_date": in.ClosingDate,
		"lead_source": orDefault(in.LeadSource, "Chatbot"), "description": in.Description, "utm": in.UTM})
	var id string
	err := l.Store.Pool.QueryRow(ctx, `
		INSERT INTO local_crm_deals (contact_id, name, stage, amount, attributes)
		SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM local_crm_contacts WHERE id = $1)
		RETURNING id`, in.ContactID, in.Name, in.Stage, in.Amount, attrs).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("create local CRM deal: contact %s: %w", in.ContactID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("create local CRM deal: %w", err)
	}
	return l.GetDeal(ctx, id)
}

// UpdateDeal changes stage, amount or name.
func (l *LocalCRM) UpdateDeal(ctx context.Context, id string, in DealUpdate) (*Deal, error) {
	tag, err := l.Store.Pool.Exec(ctx, `
		UPDATE local_crm_deals SET stage = coalesce(nullif($2, ''), stage), amount = coalesce($3, amount),
		       name = coalesce(nullif($4, ''), name), updated_at = now()
		WHERE id = $1`, id, in.Stage, in.Amount, in.Name)
	if err != nil {
		return nil, fmt.Errorf("update local CRM deal: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, ErrNotFound
	}
	return l.GetDeal(ctx, id)
}

// GetDeal reads one deal.
func (l *LocalCRM) GetDeal(ctx context.Context, id string) (*Deal, error) {
	return scanLocalDeal(l.Store.Pool.QueryRow(ctx, `SELECT `+localDealCols+` FROM local_crm_deals WHERE id = $1`, id))
}

// --- the local inventory's customers and sale orders ----------------------------------

const localCustomerCols = `id, name, company, phone, email, address, status`

func scanLocalCustomer(r pgx.Row) (*Customer, error) {
	var c Customer
	err := r.Scan(&c.ID, &c.Name, &c.Company, &c.Phone, &c.Email, &c.Address, &c.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("local inventory customer: %w", err)
	}
	return &c, nil
}

// FindCustomerByPhone matches the normalised phone; active customers first.
func (l *LocalInventory) FindCustomerByPhone(ctx context.Context, phone string) (*Customer, error) {
	digits := NormalizePhone(phone)
	if len(digits) < 7 {
		return nil, ErrNotFound
	}
	tail := digits[max(0, len(digits)-9):]
	rows, err := l.Store.Pool.Query(ctx, `SELECT `+localCustomerCols+` FROM local_inventory_customers
		WHERE right(phone, 9) = $1 ORDER BY status = 'active' DESC, created_at`, tail)
	if err != nil {
		return nil, fmt.Errorf("search local inventory customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanLocalCustomer(rows)
		if err != nil {
			return nil, err
		}
		if SamePhone(c.Phone, digits) {
			return c, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return nil, ErrNotFound
}

// CreateCustomer inserts a customer.
func (l *LocalInventory) CreateCustomer(ctx context.Context, in CustomerInput) (*Customer, error) {
	return scanLocalCustomer(l.Store.Pool.QueryRow(ctx, `
		INSERT INTO local_inventory_customers (name, company, phone, email, address) VALUES ($1, $2, $3, $4, $5)
		RETURNING `+localCustomerCols, in.Name, in.Company, NormalizePhone(in.Phone), in.Email, in.Address))
}

// ActivateCustomer marks a customer active.
func (l *LocalInventory) ActivateCustomer(ctx context.Context, id string) error {
	tag, err := l.Store.Pool.Exec(ctx, `UPDATE local_inventory_customers SET status = 'active' WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("activate local inventory customer: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

const localOrderCols = `o.id, o.number, o.customer_id, c.name, o.status, o.date::text, coalesce(o.shipment_date::text, ''),
	o.reference_number, o.line_items, o.sub_total::float8, o.tax_total::float8, o.total::float8`

func scanLocalOrder(r pgx.Row) (*SalesOrder, error) {
	var so SalesOrder
	var lines []byte
	err := r.Scan(&so.ID, &so.Number, &so.CustomerID, &so.CustomerName, &so.Status, &so.Date, &so.ShipmentDate,
		&so.ReferenceNumber, &lines, &so.SubTotal, &so.TaxTotal, &so.Total)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("local sale order: %w", err)
	}
	if err := json.Unmarshal(lines, &so.Lines); err != nil {
		return nil, fmt.Errorf("local sale order %s lines: %w", so.Number, err)
	}
	return &so, nil
}

func (l *LocalInventory) orderWhere(ctx context.Context, where string, arg any) (*SalesOrder, error) {
	return scanLocalOrder(l.Store.Pool.QueryRow(ctx, `SELECT `+localOrderCols+`
		FROM local_sale_orders o JOIN local_inventory_customers c ON c.id = o.customer_id WHERE `+where, arg))
}

// SalesOrderByReference finds the order with this reference number.
func (l *LocalInventory) SalesOrderByReference(ctx context.Context, ref string) (*SalesOrder, error) {
	if ref == "" {
		return nil, ErrNotFound
	}
	return l.orderWhere(ctx, `o.reference_number = $1`, ref)
}

// SalesOrderByNumber finds an order by number.
func (l *LocalInventory) SalesOrderByNumber(ctx context.Context, number string) (*SalesOrder, error) {
	return l.orderWhere(ctx, `upper(o.number) = upper($1)`, number)
}

// GetSalesOrder reads one order.
func (l *LocalInventory) GetSalesOrder(ctx context.Context, id string) (*SalesOrder, error) {
	return l.orderWhere(ctx, `o.id = $1`, id)
}

// CustomerSalesOrders lists a customer's latest orders.
func (l *LocalInventory) CustomerSalesOrders(ctx context.Context, customerID string, limit int) ([]SalesOrder, error) {
	if limit <= 0 {
		limit = 5
	}
	rows, err := l.Store.Pool.Query(ctx, `SELECT `+localOrderCols+`
		FROM local_sale_orders o JOIN local_inventory_customers c ON c.id = o.customer_id
		WHERE o.customer_id = $1 ORDER BY o.created_at DESC, o.number DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("list local sale orders: %w", err)
	}
	defer rows.Close()
	var out []SalesOrder
	for rows.Next() {
		so, err := scanLocalOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *so)
	}
	return out, rows.Err()
}

// CreateSalesOrder inserts a draft order numbered SO-000NN. Totals are computed the way
// Zoho does for a 5 % tax on every line: tax on the sub-total, rounded to the fils.
func (l *LocalInventory) CreateSalesOrder(ctx context.Context, in SalesOrderInput) (*SalesOrder, error) {
	if in.CustomerID == "" || len(in.Lines) == 0 {
		return nil, fmt.Errorf("create local sale order: customer and lines are required")
	}
	var subFils int64
	lines := make([]SalesOrderLine, len(in.Lines))
	for i, ln := range in.Lines {
		if ln.SKU == "" || ln.Name == "" {
			// Local item ids are "local-<product id>" (LocalInventory.ItemBySKU).
			err := l.Store.Pool.QueryRow(ctx, `SELECT sku, name FROM products WHERE 'local-' || id::text = $1`, ln.ItemID).
				Scan(&ln.SKU, &ln.Name)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil, fmt.Errorf("create local sale order: no item %s", ln.ItemID)
			}
			if err != nil {
				return nil, fmt.Errorf("create local sale order: item %s: %w", ln.ItemID, err)
			}
		}
		ln.ItemTotal = float64(Fils(ln.Rate)*int64(ln.Quantity)) / 100
		subFils += Fils(ln.ItemTotal)
		lines[i] = ln
	}
	taxFils := PercentOf(subFils, in.VATPercent)
	raw, _ := json.Marshal(lines)
	date := in.Date
	if date == "" {
		date = time.Now().Format("2006-01-02")
	}
	var id string
	err := l.Store.Pool.QueryRow(ctx, `
		INSERT INTO local_sale_orders (customer_id, reference_number, date, line_items, sub_total, tax_total, total)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (reference_number) WHERE reference_number <> '' DO UPDATE SET updated_at = local_sale_orders.updated_at
		RETURNING id`, in.CustomerID, strings.TrimSpace(in.ReferenceNumber), date, raw,
		float64(subFils)/100, float64(taxFils)/100, float64(subFils+taxFils)/100).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("create local sale order: %w", err)
	}
	return l.GetSalesOrder(ctx, id)
}

// Fils converts an AED amount to whole fils (1/100), rounding half away from zero.
func Fils(aed float64) int64 {
	if aed < 0 {
		return -Fils(-aed)
	}
	return int64(aed*100 + 0.5 + 1e-9)
}

// PercentOf is pct % of fils, rounded half away from zero to the fils.
func PercentOf(fils int64, pct float64) int64 {
	bp := int64(pct*100 + 0.5) // basis points
	return (fils*bp + 5000) / 10000
}
