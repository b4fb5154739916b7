package zoho

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Contact is a CRM contact (the fields we use).
type Contact struct {
	ID          string `json:"id"`
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name"`
	Phone       string `json:"phone"`
	Email       string `json:"email,omitempty"`
	Company     string `json:"company,omitempty"`
	Segment     string `json:"segment,omitempty"`
	LeadSource  string `json:"lead_source,omitempty"`
	Designation string `json:"designation,omitempty"`
	Description string `json:"description,omitempty"`
}

// FullName is "First Last", or the last name alone.
func (c Contact) FullName() string {
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// UTM are the campaign fields of a lead (when the inbound context has them).
type UTM struct {
	Source   string `json:"utm_source,omitempty"`
	Medium   string `json:"utm_medium,omitempty"`
	Campaign string `json:"utm_campaign,omitempty"`
	Content  string `json:"utm_content,omitempty"`
	Term     string `json:"utm_term,omitempty"`
}

// Empty reports whether no UTM field is set.
func (u UTM) Empty() bool { return u == UTM{} }

// ContactInput creates a contact. LastName is required by Zoho ("Unknown" when we do not know).
type ContactInput struct {
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name"`
	Phone       string `json:"phone"`
	Email       string `json:"email,omitempty"`
	Company     string `json:"company,omitempty"`
	Segment     string `json:"segment,omitempty"`
	LeadSource  string `json:"lead_source,omitempty"`
	Description string `json:"description,omitempty"`
	UTM         UTM    `json:"utm,omitzero"`
}

// Deal is a CRM deal.
type Deal struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ContactID   string    `json:"contact_id"`
	Stage       string    `json:"stage"`
	Pipeline    string    `json:"pipeline,omitempty"`
	Amount      *float64  `json:"amount,omitempty"`
	ClosingDate string    `json:"closing_date,omitempty"`
	LeadSource  string    `json:"lead_source,omitempty"`
	Description string    `json:"description,omitempty"`
	UTM         UTM       `json:"utm,omitzero"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
}

// DealInput creates a deal.
type DealInput struct {
	Name        string   `json:"name"`
	ContactID   string   `json:"contact_id"`
	Stage       string   `json:"stage"`
	Amount      *float64 `json:"amount,omitempty"`
	ClosingDate string   `json:"closing_date,omitempty"`
	LeadSource  string   `json:"lead_source,omitempty"`
	Description string   `json:"description,omitempty"`
	UTM         UTM      `json:"utm,omitzero"`
}

// DealUpdate moves a deal: empty/nil fields stay as they are.
type DealUpdate struct {
	Stage  string   `json:"stage,omitempty"`
	Amount *float64 `json:"amount,omitempty"`
	Name   string   `json:"name,omitempty"`
}

// DefaultPipeline is Treejar's only pipeline.
const DefaultPipeline = "Standard (Standard)"

// PipelineStages are the deal stages of Treejar's pipeline (contracts/zoho.md).
var PipelineStages = []string{"Qualification", "New Lead", "New Lead Saudi Arabia", "Negotiations", "Offer sent", "IN WORK",
	"Order confirmed", "Order sent to warehouse", "Consignment", "Order collected/delivered", "ON HOLD", "Closed Lost"}

// CRMBackend is the CRM the product talks to: Zoho CRM when Zoho is configured, the
// built-in local CRM otherwise. Every write reads the record back before returning it.
// Lookups answer ErrNotFound when there is no such record.
type CRMBackend interface {
	Name() string
	FindContactByPhone(ctx context.Context, phone string) (*Contact, error)
	GetContact(ctx context.Context, id string) (*Contact, error)
	CreateContact(ctx context.Context, in ContactInput) (*Contact, error)
	ContactDeals(ctx context.Context, contactID string, limit int) ([]Deal, error)
	CreateDeal(ctx context.Context, in DealInput) (*Deal, error)
	UpdateDeal(ctx context.Context, id string, in DealUpdate) (*Deal, error)
	GetDeal(ctx context.Context, id string) (*Deal, error)
}

// NormalizePhone keeps the digits of a phone number, without the international "00"
// prefix: "+971 52 666 7788" and "00971526667788" → "971526667788" (Wazzup's chatId form).
func NormalizePhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return strings.TrimPrefix(b.String(), "00")
}

// SamePhone compares two numbers written in any format. Local UAE forms ("052 666 7788")
// match their international form by the last nine digits.
func SamePhone(a, b string) bool {
	a, b = NormalizePhone(a), NormalizePhone(b)
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	const tail = 9
	return len(a) >= tail && len(b) >= tail && a[len(a)-tail:] == b[len(b)-tail:]
}

// Name identifies the provider.
func (c *CRM) Name() string { return "zoho-crm" }

// zContact is a Zoho CRM contact record.
type zContact struct {
	ID          string  `json:"id,omitempty"`
	FirstName   *string `json:"First_Name,omitempty"`
	LastName    string  `json:"Last_Name,omitempty"`
	Phone       string  `json:"Phone,omitempty"`
	Email       *string `json:"Email,omitempty"`
	Segment     *string `json:"Segment,omitempty"`
	LeadSource  *string `json:"Lead_Source,omitempty"`
	Designation *string `json:"Designation,omitempty"`
	Description *string `json:"Description,omitempty"`
	// Account_Name is a lookup ({"name": …}) in real Zoho; the fixtures have a string.
	Account any `json:"Account_Name,omitempty"`
}

func (z zContact) contact() Contact {
	c := Contact{ID: z.ID, FirstName: deref(z.FirstName), LastName: z.LastName, Phone: z.Phone, Email: deref(z.Email),
		Segment: deref(z.Segment), LeadSource: deref(z.LeadSource), Designation: deref(z.Designation),
		Description: deref(z.Description)}
	switch a := z.Account.(type) {
	case string:
		c.Company = a
	case map[string]any:
		c.Company, _ = a["name"].(string)
	}
	return c
}

// zDeal is a Zoho CRM deal record.
type zDeal struct {
	ID          string    `json:"id,omitempty"`
	Name        string    `json:"Deal_Name,omitempty"`
	Contact     *zLookup  `json:"Contact_Name,omitempty"`
	Stage       string    `json:"Stage,omitempty"`
	Pipeline    string    `json:"Pipeline,omitempty"`
	Amount      *float64  `json:"Amount,omitempty"`
	ClosingDate *string   `json:"Closing_Date,omitempty"`
	LeadSource  *string   `json:"Lead_Source,omitempty"`
	Description *string   `json:"Description,omitempty"`
	UTMSource   *string   `json:"utm_source,omitempty"`
	UTMMedium   *string   `json:"utm_medium,omitempty"`
	UTMCampaign *string   `json:"utm_campaign,omitempty"`
	UTMContent  *string   `json:"utm_content,omitempty"`
	UTMTerm     *string   `json:"utm_term,omitempty"`
	Created     time.Time `json:"Created_Time,omitzero"`
}

type zLookup struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

func (z zDeal) deal() Deal {
	d := Deal{ID: z.ID, Name: z.Name, Stage: z.Stage, Pipeline: z.Pipeline, Amount: z.Amount,
		ClosingDate: deref(z.ClosingDate), LeadSource: deref(z.LeadSource), Description: deref(z.Description),
		UTM: UTM{Source: deref(z.UTMSource), Medium: deref(z.UTMMedium), Campaign: deref(z.UTMCampaign),
			Content: deref(z.UTMContent), Term: deref(z.UTMTerm)}, CreatedAt: z.Created}
	if z.Contact != nil {
		d.ContactID = z.Contact.ID
	}
	return d
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// zWriteResult is one record's answer to a POST/PUT.
type zWriteResult struct {
	Code    string         `json:"code"`
	Status  string         `json:"status"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// writeOne sends one record and returns its id; a per-record error is an *APIError with
// Zoho's code in the message (DUPLICATE_DATA, INVALID_DATA, MANDATORY_NOT_FOUND, …).
func (c *CRM) writeOne(ctx context.Context, method, path string, record any) (string, error) {
	var out struct {
		Data []zWriteResult `json:"data"`
	}
	if err := c.API.Do(ctx, method, path, nil, map[string]any{"data": []any{record}}, &out); err != nil {
		return "", err
	}
	if len(out.Data) == 0 {
		return "", fmt.Errorf("zoho CRM %s %s: empty answer", method, path)
	}
	r := out.Data[0]
	id, _ := r.Details["id"].(string)
	if !strings.EqualFold(r.Status, "success") {
		return id, &APIError{Status: http.StatusBadRequest, Message: r.Code + ": " + r.Message + detailsText(r.Details)}
	}
	if id == "" {
		return "", fmt.Errorf("zoho CRM %s %s: no record id in the answer", method, path)
	}
	return id, nil
}

func detailsText(d map[string]any) string {
	if len(d) == 0 {
		return ""
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, d[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// FindContactByPhone searches contacts by phone. Zoho stores numbers as people typed them
// ("+971…", "971…"), so both forms are tried and matches are compared digit by digit.
func (c *CRM) FindContactByPhone(ctx context.Context, phone string) (*Contact, error) {
	digits := NormalizePhone(phone)
	if digits == "" {
		return nil, ErrNotFound
	}
	for _, q := range []string{"+" + digits, digits} {
		var out struct {
			Data []zContact `json:"data"`
		}
		err := c.API.Do(ctx, http.MethodGet, "/Contacts/search", url.Values{"phone": {q}}, nil, &out)
		if IsNotFound(err) { // 204: no match
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("search CRM contact by phone: %w", err)
		}
		for _, z := range out.Data {
			if SamePhone(z.Phone, digits) {
				ct := z.contact()
				return &ct, nil
			}
		}
	}
	return nil, ErrNotFound
}

// GetContact reads one contact.
func (c *CRM) GetContact(ctx context.Context, id string) (*Contact, error) {
	var out struct {
		Data []zContact `json:"data"`
	}
	if err := c.API.Do(ctx, http.MethodGet, "/Contacts/"+url.PathEscape(id), nil, nil, &out); err != nil {
		if IsNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read CRM contact %s: %w", id, err)
	}
	if len(out.Data) == 0 {
		return nil, ErrNotFound
	}
	ct := out.Data[0].contact()
	return &ct, nil
}

// CreateContact creates a contact and reads it back. A DUPLICATE_DATA answer (the phone or
// e-mail is already a contact) returns the existing contact.
func (c *CRM) CreateContact(ctx context.Context, in ContactInput) (*Contact, error) {
	rec := zContact{FirstName: ptr(in.FirstName), LastName: orDefault(in.LastName, "Unknown"), Phone: in.Phone,
		Email: ptr(in.Email), Segment: ptr(in.Segment), LeadSource: ptr(orDefault(in.LeadSource, "Chatbot")),
		Description: ptr(contactDescription(in))}
	if in.Company != "" {
		rec.Account = map[string]string{"name": in.Company}
	}
	id, err := c.writeOne(ctx, http.MethodPost, "/Contacts", rec)
	var ae *APIError
	if err != nil && !(errors.As(err, &ae) && strings.HasPrefix(ae.Message, "DUPLICATE_DATA") && id != "") {
		return nil, fmt.Errorf("create CRM contact: %w", err)
	}
	ct, err := c.GetContact(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read back the created CRM contact %s: %w", id, err)
	}
	return ct, nil
}

// contactDescription carries the lead's source details (Zoho contacts have no UTM fields).
func contactDescription(in ContactInput) string {
	d := in.Description
	if !in.UTM.Empty() {
		var parts []string
		for _, kv := range [][2]string{{"utm_source", in.UTM.Source}, {"utm_medium", in.UTM.Medium},
			{"utm_campaign", in.UTM.Campaign}, {"utm_content", in.UTM.Content}, {"utm_term", in.UTM.Term}} {
			if kv[1] != "" {
				parts = append(parts, kv[0]+"="+kv[1])
			}
		}
		d = strings.TrimSpace(d + "\nSource: " + strings.Join(parts, ", "))
	}
	return d
}

// ContactDeals lists a contact's deals, newest first (the related list; 204 = none).
func (c *CRM) ContactDeals(ctx context.Context, contactID string, limit int) ([]Deal, error) {
	if limit <= 0 {
		limit = 5
	}
	var out struct {
		Data []zDeal `json:"data"`
	}
	q := url.Values{"fields": {"Deal_Name,Stage,Amount,Closing_Date,Contact_Name,Pipeline,Description,Created_Time"},
		"sort_by": {"Created_Time"}, "sort_order": {"desc"}, "per_page": {fmt.Sprint(limit)}}
	err := c.API.Do(ctx, http.MethodGet, "/Contacts/"+url.PathEscape(contactID)+"/Deals", q, nil, &out)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list deals of CRM contact %s: %w", contactID, err)
	}
	deals := make([]Deal, 0, len(out.Data))
	for _, z := range out.Data {
		deals = append(deals, z.deal())
	}
	sort.SliceStable(deals, func(i, j int) bool { return deals[i].CreatedAt.After(deals[j].CreatedAt) })
	if len(deals) > limit {
		deals = deals[:limit]
	}
	return deals, nil
}

// CreateDeal creates a deal and reads it back.
func (c *CRM) CreateDeal(ctx context.Context, in DealInput) (*Deal, error) {
	rec := zDeal{Name: in.Name, Contact: &zLookup{ID: in.ContactID}, Stage: in.Stage, Pipeline: DefaultPipeline,
		Amount: in.Amount, ClosingDate: ptr(in.ClosingDate), LeadSource: ptr(orDefault(in.LeadSource, "Chatbot")),
		Description: ptr(in.Description), UTMSource: ptr(in.UTM.Source), UTMMedium: ptr(in.UTM.Medium),
		UTMCampaign: ptr(in.UTM.Campaign), UTMContent: ptr(in.UTM.Content), UTMTerm: ptr(in.UTM.Term)}
	id, err := c.writeOne(ctx, http.MethodPost, "/Deals", rec)
	if err != nil {
		return nil, fmt.Errorf("create CRM deal: %w", err)
	}
	d, err := c.GetDeal(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read back the created CRM deal %s: %w", id, err)
	}
	return d, nil
}

// UpdateDeal changes stage/amount/name and reads the deal back.
func (c *CRM) UpdateDeal(ctx context.Context, id string, in DealUpdate) (*Deal, error) {
	rec := zDeal{ID: id, Name: in.Name, Stage: in.Stage, Amount: in.Amount}
	if _, err := c.writeOne(ctx, http.MethodPut, "/Deals/"+url.PathEscape(id), rec); err != nil {
		var ae *APIError
		if IsNotFound(err) || (errors.As(err, &ae) && strings.HasPrefix(ae.Message, "INVALID_DATA") && strings.Contains(ae.Message, "api_name=id")) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("update CRM deal %s: %w", id, err)
	}
	d, err := c.GetDeal(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read back CRM deal %s: %w", id, err)
	}
	return d, nil
}

// GetDeal reads one deal.
func (c *CRM) GetDeal(ctx context.Context, id string) (*Deal, error) {
	var out struct {
		Data []zDeal `json:"data"`
	}
	if err := c.API.Do(ctx, http.MethodGet, "/Deals/"+url.PathEscape(id), nil, nil, &out); err != nil {
		if IsNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read CRM deal %s: %w", id, err)
	}
	if len(out.Data) == 0 {
		return nil, ErrNotFound
	}
	d := out.Data[0].deal()
	return &d, nil
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
