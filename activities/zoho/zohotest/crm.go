package zohotest

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/internal/demodata"
)

// The CRM (contacts, deals) and the Inventory side of a sale (customers, sale orders) of the
// fake, from internal/demodata/zoho. Records are JSON objects as Zoho returns them.

type salesState struct {
	crmContacts []map[string]any
	crmDeals    []map[string]any
	invContacts []map[string]any
	orders      []map[string]any
	nextID      int64
	nextSO      int

	taxPercent float64 // the organisation's sales tax on every line (5)

	holdOrders bool
	held       chan map[string]any
	release    chan struct{}
}

func loadFixture(name, key string) []map[string]any {
	raw, err := fs.ReadFile(demodata.FS, "zoho/"+name)
	if err != nil {
		panic(err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		panic(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(body[key], &out); err != nil {
		panic(fmt.Sprintf("zohotest: %s: %v", name, err))
	}
	return out
}

func (s *Server) registerSales() {
	s.sales = salesState{
		crmContacts: loadFixture("crm-contacts.json", "data"),
		crmDeals:    loadFixture("crm-deals.json", "data"),
		invContacts: loadFixture("inventory-contacts.json", "contacts"),
		orders:      loadFixture("inventory-salesorders.json", "salesorders"),
		nextID:      7000000000000000000,
		nextSO:      22, // the fixtures end at SO-00021
		taxPercent:  5,
		held:        make(chan map[string]any, 16),
	}
	s.Handle("GET /crm/v7/Contacts/search", s.crmSearchContacts)
	s.Handle("GET /crm/v7/Contacts/{id}", s.crmGetContact)
	s.Handle("POST /crm/v7/Contacts", s.crmCreateContact)
	s.Handle("GET /crm/v7/Contacts/{id}/Deals", s.crmContactDeals)
	s.Handle("POST /crm/v7/Deals", s.crmCreateDeal)
	s.Handle("PUT /crm/v7/Deals/{id}", s.crmUpdateDeal)
	s.Handle("GET /crm/v7/Deals/{id}", s.crmGetDeal)
	s.Handle("GET /inventory/v1/contacts", s.invListContacts)
	s.Handle("GET /inventory/v1/contacts/{id}", s.invGetContact)
	s.Handle("POST /inventory/v1/contacts", s.invCreateContact)
	s.Handle("POST /inventory/v1/contacts/{id}/active", s.invActivateContact)
	s.Handle("GET /inventory/v1/salesorders", s.invListOrders)
	s.Handle("GET /inventory/v1/salesorders/{id}", s.invGetOrder)
	s.Handle("POST /inventory/v1/salesorders", s.invCreateOrder)
}

// digits keeps the digits of a phone, without an international "00".
func digits(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return strings.TrimPrefix(b.String(), "00")
}

func samePhone(a, b string) bool {
	a, b = digits(a), digits(b)
	if a == "" || b == "" {
		return false
	}
	return a == b || (len(a) >= 9 && len(b) >= 9 && a[len(a)-9:] == b[len(b)-9:])
}

func str(v any) string { s, _ := v.(string); return s }

func (s *Server) newID() string {
	s.sales.nextID++
	return fmt.Sprint(s.sales.nextID)
}

func readBody(r *http.Request, into any) error {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}

// crmRecordError is Zoho CRM's per-record error answer.
func crmRecordError(w http.ResponseWriter, status int, code, msg string, details map[string]any) {
	writeJSON(w, status, map[string]any{"data": []any{map[string]any{"code": code, "details": details, "message": msg, "status": "error"}}})
}

func crmRecordOK(w http.ResponseWriter, status int, id, msg string) {
	now := time.Now().Format(time.RFC3339)
	writeJSON(w, status, map[string]any{"data": []any{map[string]any{"code": "SUCCESS", "message": msg, "status": "success",
		"details": map[string]any{"id": id, "Created_Time": now, "Modified_Time": now}}}})
}

func (s *Server) crmSearchContacts(w http.ResponseWriter, r *http.Request) {
	phone := r.URL.Query().Get("phone")
	s.mu.Lock()
	var out []map[string]any
	for _, c := range s.sales.crmContacts {
		if phone != "" && samePhone(str(c["Phone"]), phone) {
			out = append(out, copyMap(c))
		}
	}
	s.mu.Unlock()
	if len(out) == 0 {
		w.WriteHeader(http.StatusNoContent) // Zoho's "no match": 204, no body
		return
	}
	writeJSON(w, 200, map[string]any{"data": out, "info": map[string]any{"count": len(out), "more_records": false}})
}

func (s *Server) findLocked(list []map[string]any, key, id string) map[string]any {
	for _, m := range list {
		if str(m[key]) == id {
			return m
		}
	}
	return nil
}

func (s *Server) crmGetContact(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c := s.findLocked(s.sales.crmContacts, "id", r.PathValue("id"))
	if c != nil {
		c = copyMap(c)
	}
	s.mu.Unlock()
	if c == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, 200, map[string]any{"data": []any{c}})
}

func (s *Server) crmCreateContact(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Data []map[string]any `json:"data"`
	}
	if err := readBody(r, &body); err != nil || len(body.Data) != 1 {
		writeJSON(w, 400, map[string]any{"code": "INVALID_DATA", "message": "body must be {\"data\":[one record]}", "status": "error"})
		return
	}
	rec := body.Data[0]
	if strings.TrimSpace(str(rec["Last_Name"])) == "" {
		crmRecordError(w, 400, "MANDATORY_NOT_FOUND", "required field not found", map[string]any{"api_name": "Last_Name"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.sales.crmContacts {
		if str(rec["Phone"]) != "" && samePhone(str(c["Phone"]), str(rec["Phone"])) {
			crmRecordError(w, 202, "DUPLICATE_DATA", "duplicate data", map[string]any{"api_name": "Phone", "id": c["id"]})
			return
		}
	}
	c := copyMap(rec)
	c["id"] = s.newID()
	c["Full_Name"] = strings.TrimSpace(str(c["First_Name"]) + " " + str(c["Last_Name"]))
	if a, ok := c["Account_Name"].(map[string]any); ok {
		c["Account_Name"] = str(a["name"])
	}
	c["Created_Time"] = time.Now().Format(time.RFC3339)
	s.sales.crmContacts = append(s.sales.crmContacts, c)
	crmRecordOK(w, 201, str(c["id"]), "record added")
}

func (s *Server) crmContactDeals(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	var out []map[string]any
	for _, d := range s.sales.crmDeals {
		if ct, ok := d["Contact_Name"].(map[string]any); ok && str(ct["id"]) == id {
			out = append(out, copyMap(d))
		}
	}
	s.mu.Unlock()
	if len(out) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	sort.SliceStable(out, func(i, j int) bool { return str(out[i]["Created_Time"]) > str(out[j]["Created_Time"]) })
	writeJSON(w, 200, map[string]any{"data": out})
}

func validStage(st string) bool {
	for _, x := range zoho.PipelineStages {
		if x == st {
			return true
		}
	}
	return false
}

func (s *Server) crmCreateDeal(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Data []map[string]any `json:"data"`
	}
	if err := readBody(r, &body); err != nil || len(body.Data) != 1 {
		writeJSON(w, 400, map[string]any{"code": "INVALID_DATA", "message": "body must be {\"data\":[one record]}", "status": "error"})
		return
	}
	rec := body.Data[0]
	switch {
	case strings.TrimSpace(str(rec["Deal_Name"])) == "":
		crmRecordError(w, 400, "MANDATORY_NOT_FOUND", "required field not found", map[string]any{"api_name": "Deal_Name"})
		return
	case !validStage(str(rec["Stage"])):
		crmRecordError(w, 400, "INVALID_DATA", "invalid data", map[string]any{"api_name": "Stage"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ct, _ := rec["Contact_Name"].(map[string]any)
	contact := s.findLocked(s.sales.crmContacts, "id", str(ct["id"]))
	if contact == nil {
		crmRecordError(w, 400, "INVALID_DATA", "invalid data", map[string]any{"api_name": "Contact_Name"})
		return
	}
	d := copyMap(rec)
	d["id"] = s.newID()
	d["Contact_Name"] = map[string]any{"id": contact["id"], "name": contact["Full_Name"]}
	d["Created_Time"] = time.Now().Format(time.RFC3339Nano)
	s.sales.crmDeals = append(s.sales.crmDeals, d)
	crmRecordOK(w, 201, str(d["id"]), "record added")
}

func (s *Server) crmUpdateDeal(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Data []map[string]any `json:"data"`
	}
	if err := readBody(r, &body); err != nil || len(body.Data) != 1 {
		writeJSON(w, 400, map[string]any{"code": "INVALID_DATA", "message": "body must be {\"data\":[one record]}", "status": "error"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.findLocked(s.sales.crmDeals, "id", r.PathValue("id"))
	if d == nil {
		crmRecordError(w, 202, "INVALID_DATA", "the id given seems to be invalid", map[string]any{"api_name": "id"})
		return
	}
	rec := body.Data[0]
	if st, ok := rec["Stage"]; ok && !validStage(str(st)) {
		crmRecordError(w, 202, "INVALID_DATA", "invalid data", map[string]any{"api_name": "Stage"})
		return
	}
	for k, v := range rec {
		if k != "id" {
			d[k] = v
		}
	}
	crmRecordOK(w, 200, str(d["id"]), "record updated")
}

func (s *Server) crmGetDeal(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d := s.findLocked(s.sales.crmDeals, "id", r.PathValue("id"))
	if d != nil {
		d = copyMap(d)
	}
	s.mu.Unlock()
	if d == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, 200, map[string]any{"data": []any{d}})
}

func invNotFound(w http.ResponseWriter, what string) {
	writeJSON(w, 404, map[string]any{"code": 1002, "message": what + " not found"})
}

func contactPhones(c map[string]any) []string {
	phones := []string{str(c["phone"]), str(c["mobile"])}
	if ps, ok := c["contact_persons"].([]any); ok {
		for _, p := range ps {
			if pm, ok := p.(map[string]any); ok {
				phones = append(phones, str(pm["phone"]), str(pm["mobile"]))
			}
		}
	}
	return phones
}

func (s *Server) invListContacts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	want := digits(q.Get("phone_contains"))
	email := strings.ToLower(q.Get("email"))
	s.mu.Lock()
	var out []map[string]any
	for _, c := range s.sales.invContacts {
		if t := q.Get("contact_type"); t != "" && str(c["contact_type"]) != t {
			continue
		}
		if email != "" && strings.ToLower(str(c["email"])) != email {
			continue
		}
		if want != "" {
			hit := false
			for _, p := range contactPhones(c) {
				if d := digits(p); d != "" && strings.Contains(d, want) {
					hit = true
				}
			}
			if !hit {
				continue
			}
		}
		out = append(out, copyMap(c))
	}
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"code": 0, "message": "success", "contacts": out})
}

func (s *Server) invGetContact(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c := s.findLocked(s.sales.invContacts, "contact_id", r.PathValue("id"))
	if c != nil {
		c = copyMap(c)
	}
	s.mu.Unlock()
	if c == nil {
		invNotFound(w, "Contact")
		return
	}
	writeJSON(w, 200, map[string]any{"code": 0, "message": "success", "contact": c})
}

func (s *Server) invCreateContact(w http.ResponseWriter, r *http.Request) {
	var rec map[string]any
	if err := readBody(r, &rec); err != nil {
		writeJSON(w, 400, map[string]any{"code": 4, "message": "invalid JSON"})
		return
	}
	if strings.TrimSpace(str(rec["contact_name"])) == "" {
		writeJSON(w, 400, map[string]any{"code": 4, "message": "Contact name is required"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := copyMap(rec)
	c["contact_id"] = s.newID()
	c["status"] = "active"
	if str(c["contact_type"]) == "" {
		c["contact_type"] = "customer"
	}
	if ps, ok := c["contact_persons"].([]any); ok && len(ps) > 0 {
		if p, ok := ps[0].(map[string]any); ok {
			c["phone"], c["mobile"], c["email"] = p["phone"], p["mobile"], p["email"]
		}
	}
	s.sales.invContacts = append(s.sales.invContacts, c)
	writeJSON(w, 201, map[string]any{"code": 0, "message": "The contact has been added.", "contact": copyMap(c)})
}

func (s *Server) invActivateContact(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.findLocked(s.sales.invContacts, "contact_id", r.PathValue("id"))
	if c == nil {
		invNotFound(w, "Contact")
		return
	}
	c["status"] = "active"
	writeJSON(w, 200, map[string]any{"code": 0, "message": "The contact has been marked as active."})
}

func orderSummary(o map[string]any) map[string]any {
	out := copyMap(o)
	delete(out, "line_items")
	return out
}

func (s *Server) invListOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	var out []map[string]any
	for _, o := range s.sales.orders {
		if v := q.Get("reference_number"); v != "" && str(o["reference_number"]) != v {
			continue
		}
		if v := q.Get("salesorder_number"); v != "" && !strings.EqualFold(str(o["salesorder_number"]), v) {
			continue
		}
		if v := q.Get("customer_id"); v != "" && str(o["customer_id"]) != v {
			continue
		}
		out = append(out, orderSummary(o))
	}
	s.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return str(out[i]["created_time"]) > str(out[j]["created_time"]) })
	writeJSON(w, 200, map[string]any{"code": 0, "message": "success", "salesorders": out,
		"page_context": map[string]any{"page": 1, "per_page": 200, "has_more_page": false}})
}

func (s *Server) invGetOrder(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	o := s.findLocked(s.sales.orders, "salesorder_id", r.PathValue("id"))
	if o != nil {
		o = copyMap(o)
	}
	s.mu.Unlock()
	if o == nil {
		invNotFound(w, "Sales Order")
		return
	}
	if r.URL.Query().Get("accept") == "pdf" {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = fmt.Fprintf(w, "%%PDF-1.4\n%% Zoho sale order %s (fake)\n%%%%EOF\n", str(o["salesorder_number"]))
		return
	}
	writeJSON(w, 200, map[string]any{"code": 0, "message": "success", "salesorder": o})
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func (s *Server) invCreateOrder(w http.ResponseWriter, r *http.Request) {
	var rec struct {
		CustomerID      string `json:"customer_id"`
		Date            string `json:"date"`
		ReferenceNumber string `json:"reference_number"`
		Status          string `json:"status"`
		Notes           string `json:"notes"`
		Terms           string `json:"terms"`
		LineItems       []struct {
			ItemID      string  `json:"item_id"`
			Description string  `json:"description"`
			Quantity    float64 `json:"quantity"`
			Rate        float64 `json:"rate"`
		} `json:"line_items"`
	}
	if err := readBody(r, &rec); err != nil {
		writeJSON(w, 400, map[string]any{"code": 4, "message": "invalid JSON"})
		return
	}
	s.mu.Lock()
	cust := s.findLocked(s.sales.invContacts, "contact_id", rec.CustomerID)
	switch {
	case cust == nil:
		s.mu.Unlock()
		writeJSON(w, 400, map[string]any{"code": 1002, "message": "Customer does not exist."})
		return
	case str(cust["status"]) != "active":
		s.mu.Unlock()
		writeJSON(w, 400, map[string]any{"code": 3011, "message": "The customer is inactive: mark it active first."})
		return
	case len(rec.LineItems) == 0:
		s.mu.Unlock()
		writeJSON(w, 400, map[string]any{"code": 15, "message": "Line items are required."})
		return
	}
	var lines []any
	var sub float64
	for _, l := range rec.LineItems {
		var item map[string]any
		for _, it := range s.items {
			if str(it["item_id"]) == l.ItemID {
				item = it
			}
		}
		if item == nil || l.Quantity <= 0 {
			s.mu.Unlock()
			writeJSON(w, 400, map[string]any{"code": 1003, "message": "Invalid line item " + l.ItemID})
			return
		}
		total := round2(l.Rate * l.Quantity)
		sub += total
		lines = append(lines, map[string]any{"line_item_id": s.newID(), "item_id": l.ItemID, "sku": item["sku"],
			"name": item["name"], "description": l.Description, "quantity": l.Quantity, "rate": l.Rate, "unit": "pcs",
			"tax_percentage": 5, "item_total": total})
	}
	sub = round2(sub)
	tax := round2(sub * s.sales.taxPercent / 100)
	date := rec.Date
	if date == "" {
		date = time.Now().Format("2006-01-02")
	}
	o := map[string]any{"salesorder_id": s.newID(), "salesorder_number": fmt.Sprintf("SO-%05d", s.sales.nextSO),
		"customer_id": rec.CustomerID, "customer_name": cust["contact_name"], "status": "draft", "date": date,
		"shipment_date": "", "reference_number": rec.ReferenceNumber, "currency_code": "AED", "line_items": lines,
		"sub_total": sub, "tax_total": tax, "total": round2(sub + tax), "notes": rec.Notes, "terms": rec.Terms,
		"created_time": time.Now().Format("2006-01-02T15:04:05.000000-0700")}
	s.sales.nextSO++
	s.sales.orders = append(s.sales.orders, o)
	hold := s.sales.holdOrders
	s.mu.Unlock()
	if hold {
		// The order exists in Zoho; the caller does not know yet (a crash here must not
		// lead to a second order).
		s.sales.held <- copyMap(o)
		select {
		case <-s.sales.release:
		case <-r.Context().Done():
			return
		}
	}
	writeJSON(w, 201, map[string]any{"code": 0, "message": "Sales Order has been created.", "salesorder": copyMap(o)})
}

// SetTaxPercent changes the tax Zoho applies to new sale orders (an organisation whose
// tax settings disagree with ours).
func (s *Server) SetTaxPercent(pct float64) { s.mu.Lock(); s.sales.taxPercent = pct; s.mu.Unlock() }

// HoldSalesOrders makes the next sale-order creates wait, after the order exists, until
// release is called (or the client goes away). Each held order is sent on HeldSalesOrders.
func (s *Server) HoldSalesOrders() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.sales.holdOrders, s.sales.release = true, ch
	s.mu.Unlock()
	var once bool
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !once {
			once = true
			s.sales.holdOrders = false
			close(ch)
		}
	}
}

// HeldSalesOrders delivers the orders created while holding.
func (s *Server) HeldSalesOrders() <-chan map[string]any { return s.sales.held }

// SalesOrders returns every sale order (fixtures and created ones).
func (s *Server) SalesOrders() []map[string]any {
	return s.copyAll(func() []map[string]any { return s.sales.orders })
}

// SalesOrdersByReference returns the orders with this reference number.
func (s *Server) SalesOrdersByReference(ref string) []map[string]any {
	var out []map[string]any
	for _, o := range s.SalesOrders() {
		if str(o["reference_number"]) == ref {
			out = append(out, o)
		}
	}
	return out
}

// CRMContacts returns every CRM contact.
func (s *Server) CRMContacts() []map[string]any {
	return s.copyAll(func() []map[string]any { return s.sales.crmContacts })
}

// CRMDeals returns every CRM deal.
func (s *Server) CRMDeals() []map[string]any {
	return s.copyAll(func() []map[string]any { return s.sales.crmDeals })
}

// InventoryContacts returns every Inventory contact.
func (s *Server) InventoryContacts() []map[string]any {
	return s.copyAll(func() []map[string]any { return s.sales.invContacts })
}

// CRMContactsByPhone returns the contacts with this phone (any format).
func (s *Server) CRMContactsByPhone(phone string) []map[string]any {
	var out []map[string]any
	for _, c := range s.CRMContacts() {
		if samePhone(str(c["Phone"]), phone) {
			out = append(out, c)
		}
	}
	return out
}

// Calls counts requests with this method whose path is exactly path.
func (s *Server) Calls(method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func (s *Server) copyAll(sel func() []map[string]any) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := sel()
	out := make([]map[string]any, len(list))
	for i, m := range list {
		out[i] = copyMap(m)
	}
	return out
}
