package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/activities/quote"
	"github.com/treejar/noor/activities/retrieval"
	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/settings"
)

// crmAPI serves the CRM, stock and sale-order routes over the same providers and quotation
// service the worker uses (Zoho, or the built-in local CRM/inventory).
type crmAPI struct {
	s        *Server
	backends zoho.Backends
	quotes   *quote.Service
}

type settingsSource struct{ c *settingsCache }

func (s settingsSource) LoadSettings(ctx context.Context) (settings.Settings, error) {
	return s.c.get(ctx), nil
}

// registerCRM adds the CRM, inventory and quotation routes, and the public signed PDF routes.
func (s *Server) registerCRM() {
	b := zoho.NewBackends(s.Config.Zoho, s.Store, s.Log)
	a := &crmAPI{s: s, backends: b, quotes: &quote.Service{Store: s.Store, Catalog: s.retriever, CRM: b.CRM, Sales: b.Sales,
		Renderer: quote.NewRenderer(s.Log), Signer: quote.Signer{Key: []byte(s.Config.SigningKey.Reveal())},
		BaseURL: s.Config.PublicBaseURL, Settings: settingsSource{s.settings}, Log: s.Log}}
	s.V1.GET("/crm/contacts/:phone", a.getContact)
	s.V1.POST("/crm/contacts/", a.createContact)
	s.V1.POST("/crm/deals/", a.createDeal)
	s.V1.PATCH("/crm/deals/:deal_id", a.patchDeal)
	s.V1.GET("/inventory/stock/:sku", a.getStock)
	s.V1.GET("/inventory/stock/", a.bulkStock)
	s.V1.POST("/inventory/sale-orders/", a.createSaleOrder)
	s.V1.GET("/inventory/sale-orders/:id", a.getSaleOrder)
	// Public, signed and expiring: WhatsApp (Wazzup) and customers fetch these.
	s.Echo.GET("/quotes/:file", a.quotePDF)
	s.Echo.GET("/sale-orders/:file", a.saleOrderPDF)
}

// upstream turns a provider error into the API's answer: 404 for a missing record,
// 502 naming Zoho for Zoho failures (auth included), 500 for the local database.
func (a *crmAPI) upstream(err error, what string) error {
	switch {
	case errors.Is(err, zoho.ErrNotFound):
		return Errf(http.StatusNotFound, "not_found", what+" not found")
	case zoho.Terminal(err):
		return &Error{Status: http.StatusBadGateway, Code: "upstream_auth_failed",
			Message: "Zoho rejected Noor's credentials: an admin must issue a new ZOHO_REFRESH_TOKEN", Err: err}
	case a.backends.Client != nil:
		return Upstream("zoho", err)
	}
	return err
}

var digitsOnly = regexp.MustCompile(`^\+?[0-9 ()\-.]+$`)

// validPhone: 8 to 15 digits, written with optional +, spaces, dashes, dots or brackets.
func validPhone(p string) bool {
	n := len(zoho.NormalizePhone(p))
	return digitsOnly.MatchString(strings.TrimSpace(p)) && n >= 8 && n <= 15
}

func (a *crmAPI) segmentOf(ctx context.Context, name string) (map[string]any, error) {
	pct, canonical, err := a.s.Store.SegmentDiscount(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"name": canonical, "discount_percent": pct}, nil
}

func (a *crmAPI) getContact(c echo.Context) error {
	ctx := c.Request().Context()
	phone := c.Param("phone")
	if !validPhone(phone) {
		return BadRequest("phone", "must be a phone number with 8 to 15 digits")
	}
	ct, err := a.backends.CRM.FindContactByPhone(ctx, phone)
	if err != nil {
		return a.upstream(err, "CRM contact with this phone")
	}
	deals, err := a.backends.CRM.ContactDeals(ctx, ct.ID, 5)
	if err != nil {
		return a.upstream(err, "deals")
	}
	seg, err := a.segmentOf(ctx, ct.Segment)
	if err != nil {
		return err
	}
	if deals == nil {
		deals = []zoho.Deal{}
	}
	return c.JSON(http.StatusOK, map[string]any{"contact": ct, "segment": seg, "recent_deals": deals, "provider": a.backends.CRM.Name()})
}

type contactRequest struct {
	Phone       string `json:"phone"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Email       string `json:"email"`
	Company     string `json:"company"`
	Segment     string `json:"segment"`
	LeadSource  string `json:"lead_source"`
	Description string `json:"description"`
	utmFields
}

// utmFields are the campaign fields a contact or deal may carry from its source.
type utmFields struct {
	UTMSource   string `json:"utm_source"`
	UTMMedium   string `json:"utm_medium"`
	UTMCampaign string `json:"utm_campaign"`
	UTMContent  string `json:"utm_content"`
	UTMTerm     string `json:"utm_term"`
}

func (a *crmAPI) createContact(c echo.Context) error {
	ctx := c.Request().Context()
	var req contactRequest
	if err := bindStrict(c, &req); err != nil {
		return err
	}
	var fields []fieldError
	if !validPhone(req.Phone) {
		fields = append(fields, fieldError{"phone", "required: a phone number with 8 to 15 digits"})
	}
	if strings.TrimSpace(req.LastName) == "" {
		fields = append(fields, fieldError{"last_name", "required"})
	}
	if len(req.FirstName) > 80 || len(req.LastName) > 80 {
		fields = append(fields, fieldError{"last_name", "names are at most 80 characters"})
	}
	if req.Email != "" {
		if _, err := mail.ParseAddress(req.Email); err != nil || strings.ContainsAny(req.Email, "<> ") {
			fields = append(fields, fieldError{"email", "not a valid e-mail address"})
		}
	}
	segment := strings.TrimSpace(req.Segment)
	if segment != "" {
		segs, err := a.s.Store.Segments(ctx)
		if err != nil {
			return err
		}
		found := false
		for _, g := range segs {
			if strings.EqualFold(g.Name, segment) {
				segment, found = g.Name, true
			}
		}
		if !found {
			fields = append(fields, fieldError{"segment", "unknown segment (see the segments table)"})
		}
	}
	if len(fields) > 0 {
		return validation(fields)
	}
	phone := zoho.NormalizePhone(req.Phone)
	if existing, err := a.backends.CRM.FindContactByPhone(ctx, phone); err == nil {
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "a contact with this phone already exists: " + existing.ID,
			Fields: []settings.FieldError{{Field: "phone", Message: "already a contact (" + existing.ID + ")"}}}
	} else if !errors.Is(err, zoho.ErrNotFound) {
		return a.upstream(err, "CRM contact")
	}
	ct, err := a.backends.CRM.CreateContact(ctx, zoho.ContactInput{FirstName: strings.TrimSpace(req.FirstName),
		LastName: strings.TrimSpace(req.LastName), Phone: "+" + phone, Email: req.Email, Company: strings.TrimSpace(req.Company),
		Segment: segment, LeadSource: firstNonEmpty(req.LeadSource, "Chatbot"), Description: req.Description,
		UTM: zoho.UTM{Source: req.UTMSource, Medium: req.UTMMedium, Campaign: req.UTMCampaign, Content: req.UTMContent, Term: req.UTMTerm}})
	if err != nil {
		return a.upstream(err, "CRM contact")
	}
	if _, err := a.s.Store.LinkContact(ctx, a.backends.CRM.Name(), phone, ct.ID, true); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"contact": ct, "provider": a.backends.CRM.Name()})
}

// crmStage accepts our sales stage (mapped by the settings) or a stage of the CRM pipeline.
func (a *crmAPI) crmStage(ctx context.Context, stage string) (string, bool) {
	stage = strings.TrimSpace(stage)
	if mapped := a.s.settings.get(ctx).Pricing.CRMStageMapping[stage]; mapped != "" {
		return mapped, true
	}
	for _, st := range zoho.PipelineStages {
		if strings.EqualFold(st, stage) {
			return st, true
		}
	}
	return "", false
}

type dealRequest struct {
	ContactID   string   `json:"contact_id"`
	Phone       string   `json:"phone"`
	Name        string   `json:"name"`
	Amount      *float64 `json:"amount"`
	Stage       string   `json:"stage"`
	ClosingDate string   `json:"closing_date"`
	LeadSource  string   `json:"lead_source"`
	Description string   `json:"description"`
	utmFields
}

func (a *crmAPI) createDeal(c echo.Context) error {
	ctx := c.Request().Context()
	var req dealRequest
	if err := bindStrict(c, &req); err != nil {
		return err
	}
	var fields []fieldError
	if req.ContactID == "" && req.Phone == "" {
		fields = append(fields, fieldError{"contact_id", "required (or phone)"})
	}
	if req.Phone != "" && !validPhone(req.Phone) {
		fields = append(fields, fieldError{"phone", "must be a phone number with 8 to 15 digits"})
	}
	if strings.TrimSpace(req.Name) == "" || len(req.Name) > 120 {
		fields = append(fields, fieldError{"name", "required, at most 120 characters"})
	}
	if req.Amount != nil && *req.Amount < 0 {
		fields = append(fields, fieldError{"amount", "must not be negative"})
	}
	stage := ""
	if req.Stage == "" {
		stage, _ = a.crmStage(ctx, "greeting")
	} else if st, ok := a.crmStage(ctx, req.Stage); ok {
		stage = st
	} else {
		fields = append(fields, fieldError{"stage", "one of our sales stages or a CRM pipeline stage (" + strings.Join(zoho.PipelineStages, ", ") + ")"})
	}
	if req.ClosingDate != "" {
		if _, err := time.Parse("2006-01-02", req.ClosingDate); err != nil {
			fields = append(fields, fieldError{"closing_date", "must be a date YYYY-MM-DD"})
		}
	}
	if len(fields) > 0 {
		return validation(fields)
	}
	// The contact must exist before anything is written.
	var ct *zoho.Contact
	var err error
	if req.ContactID != "" {
		ct, err = a.backends.CRM.GetContact(ctx, req.ContactID)
	} else {
		ct, err = a.backends.CRM.FindContactByPhone(ctx, req.Phone)
	}
	if errors.Is(err, zoho.ErrNotFound) {
		field := "contact_id"
		if req.ContactID == "" {
			field = "phone"
		}
		return validation([]fieldError{{field, "no such CRM contact"}})
	}
	if err != nil {
		return a.upstream(err, "CRM contact")
	}
	d, err := a.backends.CRM.CreateDeal(ctx, zoho.DealInput{Name: strings.TrimSpace(req.Name), ContactID: ct.ID, Stage: stage,
		Amount: req.Amount, ClosingDate: req.ClosingDate, LeadSource: firstNonEmpty(req.LeadSource, "Chatbot"),
		Description: req.Description, UTM: zoho.UTM{Source: req.UTMSource, Medium: req.UTMMedium, Campaign: req.UTMCampaign,
			Content: req.UTMContent, Term: req.UTMTerm}})
	if err != nil {
		return a.upstream(err, "CRM deal")
	}
	return c.JSON(http.StatusCreated, map[string]any{"deal": d})
}

type dealPatch struct {
	Stage  string   `json:"stage"`
	Amount *float64 `json:"amount"`
	Name   string   `json:"name"`
}

func (a *crmAPI) patchDeal(c echo.Context) error {
	ctx := c.Request().Context()
	var req dealPatch
	if err := bindStrict(c, &req); err != nil {
		return err
	}
	var fields []fieldError
	if req.Stage == "" && req.Amount == nil && req.Name == "" {
		fields = append(fields, fieldError{"(body)", "nothing to change: give stage, amount and/or name"})
	}
	stage := ""
	if req.Stage != "" {
		st, ok := a.crmStage(ctx, req.Stage)
		if !ok {
			fields = append(fields, fieldError{"stage", "one of our sales stages or a CRM pipeline stage (" + strings.Join(zoho.PipelineStages, ", ") + ")"})
		}
		stage = st
	}
	if req.Amount != nil && *req.Amount < 0 {
		fields = append(fields, fieldError{"amount", "must not be negative"})
	}
	if len(req.Name) > 120 {
		fields = append(fields, fieldError{"name", "at most 120 characters"})
	}
	if len(fields) > 0 {
		return validation(fields)
	}
	d, err := a.backends.CRM.UpdateDeal(ctx, c.Param("deal_id"), zoho.DealUpdate{Stage: stage, Amount: req.Amount, Name: strings.TrimSpace(req.Name)})
	if err != nil {
		return a.upstream(err, "deal "+c.Param("deal_id"))
	}
	return c.JSON(http.StatusOK, map[string]any{"deal": d})
}

type retrievalProduct = retrieval.Product

// stockView is one SKU's stock as the API shows it.
type stockView struct {
	SKU             string   `json:"sku"`
	Found           bool     `json:"found"`
	CatalogSKU      string   `json:"catalog_sku,omitempty"`
	Name            string   `json:"name,omitempty"`
	InStock         bool     `json:"in_stock"`
	Quantity        *int     `json:"quantity,omitempty"`
	Source          string   `json:"source,omitempty"` // the inventory provider, or "catalog"
	CatalogPriceAED *float64 `json:"catalog_price_aed,omitempty"`
	Note            string   `json:"note,omitempty"`
}

func stockOf(requested string, p *retrievalProduct, it *zoho.Item, source string) stockView {
	v := stockView{SKU: requested, Found: true, CatalogSKU: p.SKU, Name: p.Name, InStock: p.InStock, Quantity: p.Stock, Source: "catalog"}
	if p.HasPrice {
		price := p.Price
		v.CatalogPriceAED = &price
	}
	if it == nil {
		v.Note = "not in the inventory system; stock from the catalog"
		return v
	}
	if q := it.Available(); q != nil {
		v.Quantity, v.InStock, v.Source = q, *q > 0, source
	}
	return v
}

func (a *crmAPI) getStock(c echo.Context) error {
	ctx := c.Request().Context()
	sku := strings.TrimSpace(c.Param("sku"))
	if sku == "" || len(sku) > 100 {
		return BadRequest("sku", "required, at most 100 characters")
	}
	p, err := a.s.retriever.ProductBySKU(ctx, sku)
	if err != nil {
		return err
	}
	if p == nil {
		return Errf(http.StatusNotFound, "not_found", "no catalog product with SKU "+sku)
	}
	it, err := a.backends.Sales.ItemBySKU(ctx, p.SKU)
	if err != nil && !errors.Is(err, zoho.ErrNotFound) {
		return a.upstream(err, "stock")
	}
	return c.JSON(http.StatusOK, stockOf(sku, p, it, a.backends.Sales.Name()))
}

// maxBulkSKUs bounds one bulk request (Zoho allows ~100 requests a minute).
const maxBulkSKUs = 50

func (a *crmAPI) bulkStock(c echo.Context) error {
	ctx := c.Request().Context()
	raw := c.QueryParam("skus")
	var skus []string
	for _, s := range strings.Split(raw, ",") {
		if s = strings.TrimSpace(s); s != "" {
			skus = append(skus, s)
		}
	}
	if len(skus) == 0 {
		return BadRequest("skus", "required: comma-separated SKUs")
	}
	if len(skus) > maxBulkSKUs {
		return validation([]fieldError{{"skus", fmt.Sprintf("at most %d SKUs per request", maxBulkSKUs)}})
	}
	out := make([]stockView, len(skus))
	var lookup []string
	var at []int
	prods := make([]*retrievalProduct, len(skus))
	for i, sku := range skus {
		p, err := a.s.retriever.ProductBySKU(ctx, sku)
		if err != nil {
			return err
		}
		if p == nil {
			out[i] = stockView{SKU: sku, Note: "no catalog product with this SKU"}
			continue
		}
		prods[i] = p
		lookup = append(lookup, p.SKU)
		at = append(at, i)
	}
	res, err := zoho.BulkStock(ctx, a.backends.Sales, lookup, 4)
	if err != nil {
		return a.upstream(err, "stock")
	}
	for j, r := range res {
		i := at[j]
		if r.Error != nil {
			return a.upstream(r.Error, "stock of "+r.SKU)
		}
		out[i] = stockOf(skus[i], prods[i], r.Item, a.backends.Sales.Name())
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

type saleOrderRequest struct {
	Customer db.QuoteCustomer `json:"customer"`
	Items    []quote.Item     `json:"items"`
}

func (a *crmAPI) createSaleOrder(c echo.Context) error {
	ctx := c.Request().Context()
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(raw))
	var req saleOrderRequest
	if err := bindStrict(c, &req); err != nil {
		return err
	}
	var fields []fieldError
	if !validPhone(req.Customer.Phone) {
		fields = append(fields, fieldError{"customer.phone", "required: a phone number with 8 to 15 digits"})
	}
	if req.Customer.Email != "" {
		if _, err := mail.ParseAddress(req.Customer.Email); err != nil {
			fields = append(fields, fieldError{"customer.email", "not a valid e-mail address"})
		}
	}
	for _, p := range quote.CheckCustomer(req.Customer) {
		fields = append(fields, fieldError{"customer." + p.Field, "required: " + p.Message})
	}
	if len(req.Items) == 0 {
		fields = append(fields, fieldError{"items", "at least one {sku, qty}"})
	}
	if len(req.Items) > 100 {
		fields = append(fields, fieldError{"items", "at most 100 lines"})
	}
	if len(fields) > 0 {
		return validation(fields)
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > 100 {
		return BadRequest("Idempotency-Key", "at most 100 characters")
	}
	if key == "" {
		// The same request body is the same sale order.
		sum := sha256.Sum256(raw)
		key = "body-" + hex.EncodeToString(sum[:12])
	}
	// The customer's segment (personal prices) comes from the CRM, never from the request.
	segment, contactID := "", ""
	ct, err := a.backends.CRM.FindContactByPhone(ctx, req.Customer.Phone)
	switch {
	case err == nil:
		segment, contactID = ct.Segment, ct.ID
	case !errors.Is(err, zoho.ErrNotFound):
		return a.upstream(err, "CRM contact")
	}
	req.Customer.Phone = "+" + zoho.NormalizePhone(req.Customer.Phone)
	p, err := a.quotes.Prepare(ctx, quote.Request{Key: "api:" + key, Customer: req.Customer, Items: req.Items, Segment: segment,
		ContactID: contactID, Status: "confirmed", Version: 1})
	if err != nil {
		return a.upstream(err, "inventory item")
	}
	if len(p.Missing) > 0 || len(p.Blocked) > 0 {
		for _, m := range append(p.Missing, p.Blocked...) {
			fields = append(fields, fieldError{m.Field, m.Message})
		}
		return validation(fields)
	}
	status := http.StatusCreated
	if p.Quote.SaleOrderID != "" {
		status = http.StatusOK // a repeated request: the same sale order
	}
	q, err := a.quotes.PlaceOrder(ctx, p.Quote.ID)
	if err != nil {
		if errors.Is(err, quote.ErrTotalMismatch) || errors.Is(err, quote.ErrReferenceTaken) {
			return &Error{Status: http.StatusBadGateway, Code: "upstream_mismatch", Message: err.Error(), Err: err}
		}
		return a.upstream(err, "sale order")
	}
	so, err := a.backends.Sales.GetSalesOrder(ctx, q.SaleOrderID)
	if err != nil {
		return a.upstream(err, "sale order")
	}
	url, _, err := a.quotes.URL(q)
	if err != nil {
		return err
	}
	return c.JSON(status, map[string]any{"sale_order": so, "quote": q, "pdf_url": url})
}

func (a *crmAPI) getSaleOrder(c echo.Context) error {
	ctx := c.Request().Context()
	id := strings.TrimSpace(c.Param("id"))
	if id == "" || len(id) > 100 {
		return BadRequest("id", "required")
	}
	so, err := a.backends.Sales.GetSalesOrder(ctx, id)
	if errors.Is(err, zoho.ErrNotFound) && strings.HasPrefix(strings.ToUpper(id), "SO-") {
		so, err = a.backends.Sales.SalesOrderByNumber(ctx, id)
	}
	if err != nil {
		return a.upstream(err, "sale order "+id)
	}
	out := map[string]any{"sale_order": so}
	q, err := a.s.Store.QuoteBySaleOrder(ctx, so.ID)
	switch {
	case err == nil:
		url, _, err := a.quotes.URL(q)
		if err != nil {
			return err
		}
		out["pdf_url"], out["quote"] = url, q
	case !errors.Is(err, db.ErrNotFound):
		return err
	case a.backends.Client != nil:
		// Not one of Noor's quotations: Zoho's own PDF, through a signed link.
		url, err := a.quotes.Signer.URL(a.s.Config.PublicBaseURL, quote.SaleOrderPath(so.ID), time.Now().Add(24*time.Hour))
		if err != nil {
			return err
		}
		out["pdf_url"] = url
	}
	return c.JSON(http.StatusOK, out)
}

// verifyLink checks a signed document link: forged → 403, expired → 403 (link_expired).
func (a *crmAPI) verifyLink(c echo.Context, path string) error {
	err := a.quotes.Signer.Verify(path, c.QueryParam("exp"), c.QueryParam("sig"), time.Now())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, quote.ErrExpired):
		return Errf(http.StatusForbidden, "link_expired", "this link has expired: ask Treejar for a new one")
	case errors.Is(err, quote.ErrNoKey):
		return Errf(http.StatusNotFound, "not_found", "document links are disabled (SIGNING_KEY is not set)")
	}
	return Errf(http.StatusForbidden, "forbidden", "invalid link")
}

func (a *crmAPI) quotePDF(c echo.Context) error {
	file := c.Param("file")
	ref, ok := strings.CutSuffix(file, ".pdf")
	if !ok || ref == "" {
		return Errf(http.StatusNotFound, "not_found", "no such document")
	}
	if err := a.verifyLink(c, quote.DocumentPath(ref)); err != nil {
		return err
	}
	ctx := c.Request().Context()
	q, err := a.s.Store.QuoteByRef(ctx, ref)
	if errors.Is(err, db.ErrNotFound) {
		return Errf(http.StatusNotFound, "not_found", "no such document")
	}
	if err != nil {
		return err
	}
	pdf, err := a.quotes.Document(ctx, q)
	if err != nil {
		return err
	}
	name := "Treejar-Quotation-" + firstNonEmpty(q.SaleOrderNumber, q.Ref) + ".pdf"
	c.Response().Header().Set("Content-Disposition", `inline; filename="`+name+`"`)
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

func (a *crmAPI) saleOrderPDF(c echo.Context) error {
	id, ok := strings.CutSuffix(c.Param("file"), ".pdf")
	if !ok || id == "" {
		return Errf(http.StatusNotFound, "not_found", "no such document")
	}
	if err := a.verifyLink(c, quote.SaleOrderPath(id)); err != nil {
		return err
	}
	if a.backends.Client == nil {
		return Errf(http.StatusNotFound, "not_found", "no such document")
	}
	pdf, err := a.backends.Client.Inventory.SalesOrderPDF(c.Request().Context(), id)
	if err != nil {
		return a.upstream(err, "sale order "+id)
	}
	c.Response().Header().Set("Content-Disposition", `inline; filename="`+id+`.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
