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
