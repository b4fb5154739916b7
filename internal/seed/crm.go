package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/demodata"
)

// importCRM loads the Zoho CRM fixtures into the built-in local CRM, so returning customers
// of the demo (Lina, Omar, …) are recognised without Zoho.
func importCRM(ctx context.Context, store *db.Store) (contacts, deals int, err error) {
	var cs struct {
		Data []struct {
			ID          string  `json:"id"`
			FirstName   string  `json:"First_Name"`
			LastName    string  `json:"Last_Name"`
			Phone       string  `json:"Phone"`
			Email       *string `json:"Email"`
			Segment     *string `json:"Segment"`
			LeadSource  *string `json:"Lead_Source"`
			Designation *string `json:"Designation"`
			Account     *string `json:"Account_Name"`
		} `json:"data"`
	}
	if err := readJSON("zoho/crm-contacts.json", &cs); err != nil {
		return 0, 0, err
	}
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for _, c := range cs.Data {
		attrs, _ := json.Marshal(map[string]string{"designation": s(c.Designation), "zoho_id": c.ID})
		_, err := store.Pool.Exec(ctx, `
			INSERT INTO local_crm_contacts (id, phone, first_name, last_name, email, company, segment, lead_source, attributes)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (id) DO NOTHING`,
			c.ID, NormalizePhone(c.Phone), c.FirstName, c.LastName, s(c.Email), s(c.Account), s(c.Segment),
			orDefault(s(c.LeadSource), "Chatbot"), attrs)
		if err != nil {
			return contacts, deals, fmt.Errorf("seed CRM contact %s: %w", c.ID, err)
		}
		contacts++
	}
	var ds struct {
		Data []struct {
			ID      string   `json:"id"`
			Name    string   `json:"Deal_Name"`
			Stage   string   `json:"Stage"`
			Amount  *float64 `json:"Amount"`
			Contact *struct {
				ID string `json:"id"`
			} `json:"Contact_Name"`
		} `json:"data"`
	}
	if err := readJSON("zoho/crm-deals.json", &ds); err != nil {
		return contacts, deals, err
	}
	for _, d := range ds.Data {
		if d.Contact == nil {
			continue
		}
		_, err := store.Pool.Exec(ctx, `
			INSERT INTO local_crm_deals (id, contact_id, name, stage, amount)
			SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM local_crm_contacts WHERE id = $2)
			ON CONFLICT (id) DO NOTHING`, d.ID, d.Contact.ID, d.Name, d.Stage, d.Amount)
		if err != nil {
			return contacts, deals, fmt.Errorf("seed CRM deal %s: %w", d.ID, err)
		}
		deals++
	}
	return contacts, deals, nil
}

func readJSON(name string, into any) error {
	b, err := fs.ReadFile(demodata.FS, name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	return nil
}

// NormalizePhone keeps digits only: "+971 52 666 7788" -> "971526667788" (Wazzup's chatId form).
func NormalizePhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// importInventory loads the Zoho Inventory fixtures (customers and sale orders SO-00014 …
// SO-00021) into the built-in local inventory; new local sale orders continue at SO-00022.
func importInventory(ctx context.Context, store *db.Store) (customers, orders int, err error) {
	var cs struct {
		Contacts []struct {
			ID       string `json:"contact_id"`
			Name     string `json:"contact_name"`
			Company  string `json:"company_name"`
			Status   string `json:"status"`
			Email    string `json:"email"`
			Phone    string `json:"phone"`
			Mobile   string `json:"mobile"`
			Shipping struct {
				Address string `json:"address"`
			} `json:"shipping_address"`
		} `json:"contacts"`
	}
	if err := readJSON("zoho/inventory-contacts.json", &cs); err != nil {
		return 0, 0, err
	}
	for _, c := range cs.Contacts {
		// The mobile in international form is what WhatsApp chats match against.
		phone := NormalizePhone(c.Mobile)
		if len(phone) < 11 {
			phone = orDefault(NormalizePhone(c.Phone), phone)
		}
		phone = strings.TrimPrefix(phone, "00")
		_, err := store.Pool.Exec(ctx, `
			INSERT INTO local_inventory_customers (id, name, company, phone, email, address, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			c.ID, c.Name, c.Company, phone, c.Email, c.Shipping.Address, orDefault(c.Status, "active"))
		if err != nil {
			return customers, orders, fmt.Errorf("seed inventory customer %s: %w", c.ID, err)
		}
		customers++
	}
	var orderFile struct {
		Orders []struct {
			ID           string            `json:"salesorder_id"`
			Number       string            `json:"salesorder_number"`
			CustomerID   string            `json:"customer_id"`
			Status       string            `json:"status"`
			Date         string            `json:"date"`
			ShipmentDate string            `json:"shipment_date"`
			Reference    string            `json:"reference_number"`
			Lines        []json.RawMessage `json:"line_items"`
			SubTotal     float64           `json:"sub_total"`
			TaxTotal     float64           `json:"tax_total"`
			Total        float64           `json:"total"`
		} `json:"salesorders"`
	}
	if err := readJSON("zoho/inventory-salesorders.json", &orderFile); err != nil {
		return customers, orders, err
	}
	for _, o := range orderFile.Orders {
		lines, _ := json.Marshal(o.Lines)
		var ship *string
		if o.ShipmentDate != "" {
			ship = &o.ShipmentDate
		}
		_, err := store.Pool.Exec(ctx, `
			INSERT INTO local_sale_orders (id, number, customer_id, reference_number, status, date, shipment_date, line_items,
			    sub_total, tax_total, total, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $6::date)
			ON CONFLICT DO NOTHING`,
			o.ID, o.Number, o.CustomerID, o.Reference, o.Status, o.Date, ship, lines, o.SubTotal, o.TaxTotal, o.Total)
		if err != nil {
			return customers, orders, fmt.Errorf("seed sale order %s: %w", o.Number, err)
		}
		orders++
	}
	return customers, orders, nil
}
