package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Segment is one row of the personal-price table: a CRM segment and its discount.
type Segment struct {
	Name            string    `json:"name"`
	DiscountPercent float64   `json:"discount_percent"`
	Description     string    `json:"description"`
	UpdatedAt       time.Time `json:"updated_at"`
	UpdatedBy       string    `json:"updated_by"`
}

// ErrInvalidSegment is returned for a name or discount the table does not accept.
var ErrInvalidSegment = errors.New("invalid segment")

// Segments lists the segment table, by name.
func (s *Store) Segments(ctx context.Context) ([]Segment, error) {
	rows, err := s.Pool.Query(ctx, `SELECT name, discount_percent::float8, description, updated_at, updated_by
		FROM segments ORDER BY discount_percent DESC, lower(name)`)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Segment, error) {
		var g Segment
		err := r.Scan(&g.Name, &g.DiscountPercent, &g.Description, &g.UpdatedAt, &g.UpdatedBy)
		return g, err
	})
}

// SegmentDiscount returns the discount of a segment (matched case-insensitively and
// ignoring surrounding spaces) and the table's spelling of its name. A segment that is not
// in the table, or an empty one, has no discount.
func (s *Store) SegmentDiscount(ctx context.Context, name string) (float64, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return 0, "", nil
	}
	var pct float64
	var canonical string
	err := s.Pool.QueryRow(ctx, `SELECT discount_percent::float8, name FROM segments WHERE lower(name) = lower($1)`, name).
		Scan(&pct, &canonical)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, name, nil
	}
	if err != nil {
		return 0, name, fmt.Errorf("read segment %q: %w", name, err)
	}
	return pct, canonical, nil
}

// SaveSegment creates or updates a segment (the console edits them; the bot never does).
func (s *Store) SaveSegment(ctx context.Context, g Segment, by string) (Segment, error) {
	g.Name = strings.TrimSpace(g.Name)
	switch {
	case g.Name == "" || len(g.Name) > 80:
		return g, fmt.Errorf("%w: name must be 1..80 characters", ErrInvalidSegment)
	case g.DiscountPercent < 0 || g.DiscountPercent > 50:
		return g, fmt.Errorf("%w: discount_percent must be between 0 and 50", ErrInvalidSegment)
	}
	err := s.Pool.QueryRow(ctx, `
		INSERT INTO segments (name, discount_percent, description, updated_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (lower(name)) DO UPDATE SET discount_percent = EXCLUDED.discount_percent,
		    description = EXCLUDED.description, updated_by = EXCLUDED.updated_by, updated_at = now()
		RETURNING name, discount_percent::float8, description, updated_at, updated_by`,
		g.Name, g.DiscountPercent, g.Description, by).Scan(&g.Name, &g.DiscountPercent, &g.Description, &g.UpdatedAt, &g.UpdatedBy)
	if err != nil {
		return g, fmt.Errorf("save segment %q: %w", g.Name, err)
	}
	return g, nil
}

// DeleteSegment removes a segment; its customers then get no discount.
func (s *Store) DeleteSegment(ctx context.Context, name string) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM segments WHERE lower(name) = lower($1)`, strings.TrimSpace(name))
	if err != nil {
		return fmt.Errorf("delete segment %q: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// ContactLink returns the CRM contact id linked to a phone for a provider.
func (s *Store) ContactLink(ctx context.Context, provider, phone string) (string, error) {
	var id string
	err := s.Pool.QueryRow(ctx, `SELECT contact_id FROM crm_contact_links WHERE provider = $1 AND phone = $2`, provider, phone).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
}

// LinkContact records which contact a phone is (first writer wins) and returns the link.
func (s *Store) LinkContact(ctx context.Context, provider, phone, contactID string, createdByNoor bool) (string, error) {
	var id string
	err := s.Pool.QueryRow(ctx, `
		INSERT INTO crm_contact_links (provider, phone, contact_id, created_by_noor) VALUES ($1, $2, $3, $4)
		ON CONFLICT (provider, phone) DO UPDATE SET provider = EXCLUDED.provider
		RETURNING contact_id`, provider, phone, contactID, createdByNoor).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("link CRM contact: %w", err)
	}
	return id, nil
}

// UnlinkContact forgets a link whose contact no longer exists in the CRM.
func (s *Store) UnlinkContact(ctx context.Context, provider, phone string) error {
	_, err := s.Pool.Exec(ctx, `DELETE FROM crm_contact_links WHERE provider = $1 AND phone = $2`, provider, phone)
	return err
}

// CustomerIdentity is the customer behind a chat.
type CustomerIdentity struct {
	ConversationID      string    `json:"conversation_id"`
	Provider            string    `json:"provider"`
	ContactID           string    `json:"contact_id"`
	Returning           bool      `json:"returning"`
	Name                string    `json:"name"`
	Company             string    `json:"company"`
	Segment             string    `json:"segment"`
	DealID              string    `json:"deal_id,omitempty"`
	InventoryCustomerID string    `json:"inventory_customer_id,omitempty"`
	CreatedAt           time.Time `json:"created_at"`
}

const identityCols = `conversation_id::text, provider, contact_id, is_returning, name, company, segment,
	coalesce(deal_id, ''), coalesce(inventory_customer_id, ''), created_at`

func scanIdentity(r pgx.Row) (CustomerIdentity, error) {
	var c CustomerIdentity
	err := r.Scan(&c.ConversationID, &c.Provider, &c.ContactID, &c.Returning, &c.Name, &c.Company, &c.Segment,
		&c.DealID, &c.InventoryCustomerID, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// CustomerIdentity reads a chat's customer.
func (s *Store) CustomerIdentity(ctx context.Context, conversationID string) (CustomerIdentity, error) {
	return scanIdentity(s.Pool.QueryRow(ctx, `SELECT `+identityCols+` FROM customer_identities WHERE conversation_id = $1`, conversationID))
}

// SaveCustomerIdentity stores a chat's customer. The first identification wins: "returning"
// keeps the answer of the chat's first turn (a contact Noor created is not "returning" on
// the next run); name, company and segment follow the CRM.
func (s *Store) SaveCustomerIdentity(ctx context.Context, c CustomerIdentity) (CustomerIdentity, error) {
	return scanIdentity(s.Pool.QueryRow(ctx, `
		INSERT INTO customer_identities (conversation_id, provider, contact_id, is_returning, name, company, segment)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (conversation_id) DO UPDATE SET provider = EXCLUDED.provider, contact_id = EXCLUDED.contact_id,
		    name = EXCLUDED.name, company = EXCLUDED.company, segment = EXCLUDED.segment, updated_at = now()
		RETURNING `+identityCols, c.ConversationID, c.Provider, c.ContactID, c.Returning, c.Name, c.Company, c.Segment))
}

// SetIdentityDeal records the chat's deal (created once; later quotes move it).
func (s *Store) SetIdentityDeal(ctx context.Context, conversationID, dealID string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE customer_identities SET deal_id = $2, updated_at = now() WHERE conversation_id = $1`,
		conversationID, dealID)
	return err
}

// SetIdentityInventoryCustomer records the chat's Inventory customer.
func (s *Store) SetIdentityInventoryCustomer(ctx context.Context, conversationID, customerID string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE customer_identities SET inventory_customer_id = $2, updated_at = now()
		WHERE conversation_id = $1`, conversationID, customerID)
	return err
}

// QuoteCustomer is the customer block of a quotation.
type QuoteCustomer struct {
	Name       string `json:"name"`
	Company    string `json:"company,omitempty"`
	Individual bool   `json:"individual,omitempty"`
	Phone      string `json:"phone"`
	Email      string `json:"email,omitempty"`
	Address    string `json:"address"`
}

// QuoteLine is one line of a quotation; prices are AED excl. VAT.
type QuoteLine struct {
	SKU         string  `json:"sku"`
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	ImageURL    string  `json:"image_url,omitempty"`
	ItemID      string  `json:"item_id"`
	Qty         int     `json:"qty"`
	ListPrice   float64 `json:"list_price"` // the catalog price the customer would pay without a segment
	UnitPrice   float64 `json:"unit_price"` // the customer's price
	LineTotal   float64 `json:"line_total"`
}

// Quote is one version of a quotation.
type Quote struct {
	ID                  int64         `json:"id"`
	Ref                 string        `json:"ref"`
	IdempotencyKey      string        `json:"-"`
	ConversationID      string        `json:"conversation_id,omitempty"`
	Version             int           `json:"version"`
	Status              string        `json:"status"`
	Provider            string        `json:"provider"`
	Customer            QuoteCustomer `json:"customer"`
	Segment             string        `json:"segment,omitempty"`
	DiscountPercent     float64       `json:"discount_percent"`
	Lines               []QuoteLine   `json:"lines"`
	Subtotal            float64       `json:"subtotal"`
	VATPercent          float64       `json:"vat_percent"`
	VAT                 float64       `json:"vat"`
	Total               float64       `json:"total"`
	Currency            string        `json:"currency"`
	ValidUntil          time.Time     `json:"valid_until"`
	CRMContactID        string        `json:"crm_contact_id,omitempty"`
	CRMDealID           string        `json:"crm_deal_id,omitempty"`
	InventoryCustomerID string        `json:"inventory_customer_id,omitempty"`
	SaleOrderID         string        `json:"sale_order_id,omitempty"`
	SaleOrderNumber     string        `json:"sale_order_number,omitempty"`
	SaleOrderTotal      *float64      `json:"sale_order_total,omitempty"`
	CreatedAt           time.Time     `json:"created_at"`
	ConfirmedAt         *time.Time    `json:"confirmed_at,omitempty"`
	OrderedAt           *time.Time    `json:"ordered_at,omitempty"`
	SentAt              *time.Time    `json:"sent_at,omitempty"`
}

const quoteCols = `id, ref, idempotency_key, coalesce(conversation_id::text, ''), version, status, provider, customer, segment,
	discount_percent::float8, lines, subtotal::float8, vat_percent::float8, vat::float8, total::float8, currency,
	valid_until, crm_contact_id, crm_deal_id, inventory_customer_id, coalesce(sale_order_id, ''), sale_order_number,
	sale_order_total::float8, created_at, confirmed_at, ordered_at, sent_at`

func scanQuote(r pgx.Row) (Quote, error) {
	var q Quote
	var cust, lines []byte
	err := r.Scan(&q.ID, &q.Ref, &q.IdempotencyKey, &q.ConversationID, &q.Version, &q.Status, &q.Provider, &cust, &q.Segment,
		&q.DiscountPercent, &lines, &q.Subtotal, &q.VATPercent, &q.VAT, &q.Total, &q.Currency, &q.ValidUntil,
		&q.CRMContactID, &q.CRMDealID, &q.InventoryCustomerID, &q.SaleOrderID, &q.SaleOrderNumber, &q.SaleOrderTotal,
		&q.CreatedAt, &q.ConfirmedAt, &q.OrderedAt, &q.SentAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return q, ErrNotFound
	}
	if err != nil {
		return q, fmt.Errorf("read quote: %w", err)
	}
	if err := json.Unmarshal(cust, &q.Customer); err != nil {
		return q, fmt.Errorf("quote %s customer: %w", q.Ref, err)
	}
	if err := json.Unmarshal(lines, &q.Lines); err != nil {
		return q, fmt.Errorf("quote %s lines: %w", q.Ref, err)
	}
	return q, nil
}

// CreateQuote stores a quote version once per idempotency key: a retry gets the row the
// first attempt wrote (and its ref), whatever it passes.
func (s *Store) CreateQuote(ctx context.Context, q Quote) (Quote, error) {
	cust, _ := json.Marshal(q.Customer)
	lines, _ := json.Marshal(q.Lines)
	var conv *string
	if q.ConversationID != "" {
		conv = &q.ConversationID
	}
	if q.Currency == "" {
		q.Currency = "AED"
	}
	_, err := s.Pool.Exec(ctx, `
		INSERT INTO quotes (idempotency_key, conversation_id, version, status, provider, customer, segment, discount_percent,
		    lines, subtotal, vat_percent, vat, total, currency, valid_until, crm_contact_id, inventory_customer_id, crm_deal_id,
		    confirmed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
		    CASE WHEN $4 = 'confirmed' THEN now() END)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		q.IdempotencyKey, conv, q.Version, q.Status, q.Provider, cust, q.Segment, q.DiscountPercent, lines, q.Subtotal,
		q.VATPercent, q.VAT, q.Total, q.Currency, q.ValidUntil, q.CRMContactID, q.InventoryCustomerID, q.CRMDealID)
	if err != nil {
		return q, fmt.Errorf("create quote: %w", err)
	}
	if q.ConversationID != "" && q.Status == "awaiting_consent" {
		// Only the newest version of a chat's quote can be confirmed.
		if _, err := s.Pool.Exec(ctx, `UPDATE quotes SET status = 'superseded', updated_at = now()
			WHERE conversation_id = $1 AND version < $2 AND status = 'awaiting_consent'`, q.ConversationID, q.Version); err != nil {
			return q, fmt.Errorf("supersede older quotes: %w", err)
		}
	}
	return s.QuoteByKey(ctx, q.IdempotencyKey)
}

// Quote reads a quote by id.
func (s *Store) Quote(ctx context.Context, id int64) (Quote, error) {
	return scanQuote(s.Pool.QueryRow(ctx, `SELECT `+quoteCols+` FROM quotes WHERE id = $1`, id))
}

// QuoteByKey reads a quote by idempotency key.
func (s *Store) QuoteByKey(ctx context.Context, key string) (Quote, error) {
	return scanQuote(s.Pool.QueryRow(ctx, `SELECT `+quoteCols+` FROM quotes WHERE idempotency_key = $1`, key))
}

// QuoteByRef reads a quote by its ref.
func (s *Store) QuoteByRef(ctx context.Context, ref string) (Quote, error) {
	return scanQuote(s.Pool.QueryRow(ctx, `SELECT `+quoteCols+` FROM quotes WHERE ref = $1`, ref))
}

// QuoteBySaleOrder reads the quote a sale order was created from.
func (s *Store) QuoteBySaleOrder(ctx context.Context, saleOrderID string) (Quote, error) {
	return scanQuote(s.Pool.QueryRow(ctx, `SELECT `+quoteCols+` FROM quotes WHERE sale_order_id = $1`, saleOrderID))
}

// ConversationQuotes lists a chat's quotes, newest version first.
func (s *Store) ConversationQuotes(ctx context.Context, conversationID string) ([]Quote, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+quoteCols+` FROM quotes WHERE conversation_id = $1 ORDER BY version DESC`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("list quotes: %w", err)
	}
	defer rows.Close()
	var out []Quote
	for rows.Next() {
		q, err := scanQuote(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// ConfirmQuote records the customer's consent (idempotent).
func (s *Store) ConfirmQuote(ctx context.Context, id int64) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE quotes SET status = 'confirmed', confirmed_at = coalesce(confirmed_at, now()), updated_at = now()
		WHERE id = $1 AND status IN ('awaiting_consent', 'confirmed')`, id)
	if err != nil {
		return fmt.Errorf("confirm quote: %w", err)
	}
	if tag.RowsAffected() == 0 {
		var status string
		if err := s.Pool.QueryRow(ctx, `SELECT status FROM quotes WHERE id = $1`, id).Scan(&status); err != nil {
			return fmt.Errorf("confirm quote %d: %w", id, ErrNotFound)
		}
		if status == "superseded" {
			return fmt.Errorf("confirm quote %d: a newer version replaced it", id)
		}
	}
	return nil
}

// QuoteOrdered records the sale order created for a quote.
type QuoteOrdered struct {
	QuoteID             int64
	InventoryCustomerID string
	SaleOrderID         string
	SaleOrderNumber     string
	SaleOrderTotal      float64
}

// SetQuoteOrdered stores the sale order of a quote. A different sale order for the same
// quote is refused: one quote version, one sale order.
func (s *Store) SetQuoteOrdered(ctx context.Context, o QuoteOrdered) error {
	tag, err := s.Pool.Exec(ctx, `
		UPDATE quotes SET inventory_customer_id = $2, sale_order_id = $3, sale_order_number = $4, sale_order_total = $5,
		    status = CASE WHEN status = 'sent' THEN status ELSE 'ordered' END,
		    ordered_at = coalesce(ordered_at, now()), updated_at = now()
		WHERE id = $1 AND (sale_order_id IS NULL OR sale_order_id = $3)`,
		o.QuoteID, o.InventoryCustomerID, o.SaleOrderID, o.SaleOrderNumber, o.SaleOrderTotal)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return fmt.Errorf("sale order %s already belongs to another quote", o.SaleOrderNumber)
		}
		return fmt.Errorf("record sale order of quote %d: %w", o.QuoteID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("quote %d already has another sale order", o.QuoteID)
	}
	return nil
}

// SetQuoteDeal records the CRM deal a quote moved.
func (s *Store) SetQuoteDeal(ctx context.Context, id int64, contactID, dealID string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE quotes SET crm_contact_id = coalesce(nullif($2, ''), crm_contact_id), crm_deal_id = $3,
		updated_at = now() WHERE id = $1`, id, contactID, dealID)
	return err
}

// MarkQuoteSent records that the PDF went out.
func (s *Store) MarkQuoteSent(ctx context.Context, id int64) error {
	_, err := s.Pool.Exec(ctx, `UPDATE quotes SET status = 'sent', sent_at = coalesce(sent_at, now()), updated_at = now()
		WHERE id = $1`, id)
	return err
}

// MarkQuoteFailed records that a quote could not be completed (a manager takes it over).
func (s *Store) MarkQuoteFailed(ctx context.Context, id int64) error {
	_, err := s.Pool.Exec(ctx, `UPDATE quotes SET status = 'failed', updated_at = now() WHERE id = $1 AND status <> 'sent'`, id)
	return err
}

// SaveQuoteDocument stores a quote's rendered PDF (the first rendering wins).
func (s *Store) SaveQuoteDocument(ctx context.Context, quoteID int64, pdf []byte, sha string) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO quote_documents (quote_id, pdf, sha256) VALUES ($1, $2, $3)
		ON CONFLICT (quote_id) DO NOTHING`, quoteID, pdf, sha)
	if err != nil {
		return fmt.Errorf("store quote PDF: %w", err)
	}
	return nil
}

// QuoteDocument returns a quote's stored PDF.
func (s *Store) QuoteDocument(ctx context.Context, quoteID int64) ([]byte, string, error) {
	var pdf []byte
	var sha string
	err := s.Pool.QueryRow(ctx, `SELECT pdf, sha256 FROM quote_documents WHERE quote_id = $1`, quoteID).Scan(&pdf, &sha)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", ErrNotFound
	}
	return pdf, sha, err
}
