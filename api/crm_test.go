package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/quote"
	"github.com/treejar/noor/activities/zoho/zohotest"
	"github.com/treejar/noor/api"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/metrics"
	"github.com/treejar/noor/internal/seed"
	"github.com/treejar/noor/internal/testenv"
)

const signingKey = "api-test-signing-key-0123456789abcdef"

type crmEnv struct {
	*env
	zoho *zohotest.Server // nil for the local CRM/inventory
}

// newCRMEnv is the API over the demo catalog, with Zoho live against the fake or the
// built-in local CRM/inventory (seeded from the same fixtures).
func newCRMEnv(t *testing.T, live bool) *crmEnv {
	t.Helper()
	store := testenv.DB(t)
	cfg := config.Config{Env: "test", APIKey: apiKey, TaskQueue: testenv.TaskQueue(t), PublicBaseURL: "https://noor.example.com",
		SigningKey: signingKey}
	var fake *zohotest.Server
	if live {
		fake = zohotest.New()
		t.Cleanup(fake.Close)
		cfg.Zoho = fake.Config()
	}
	_, err := seed.Run(testenv.Ctx(t, 5*time.Minute), seed.Deps{Store: store, Config: cfg, Log: testenv.Logger(t)})
	require.NoError(t, err)
	reg := metrics.NewRegistry()
	srv, err := api.Build(api.Deps{Config: cfg, Store: store, Temporal: testenv.Temporal(t), Log: testenv.Logger(t),
		Metrics: metrics.NewApp(reg), Gatherer: reg})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Echo)
	t.Cleanup(hs.Close)
	return &crmEnv{env: &env{srv: srv, http: hs, store: store, cfg: cfg}, zoho: fake}
}

// bothProviders runs fn against Zoho (the fake) and the local CRM/inventory.
func bothProviders(t *testing.T, fn func(t *testing.T, e *crmEnv)) {
	t.Run("zoho", func(t *testing.T) { fn(t, newCRMEnv(t, true)) })
	t.Run("local", func(t *testing.T) { fn(t, newCRMEnv(t, false)) })
}

// apiCase is one request and what must come back.
type apiCase struct {
	name, method, path, body string
	status                   int
	code, field              string // the error's code and first field, when an error is expected
}

func (e *crmEnv) check(t *testing.T, cases []apiCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body *strings.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			} else {
				body = strings.NewReader("")
			}
			resp, raw := e.do(t, tc.method, tc.path, body, auth())
			require.Equal(t, tc.status, resp.StatusCode, string(raw))
			if tc.code == "" && tc.field == "" {
				return
			}
			var eb api.ErrorBody
			require.NoError(t, json.Unmarshal(raw, &eb), string(raw))
			if tc.code != "" {
				assert.Equal(t, tc.code, eb.Error.Code, string(raw))
			}
			if tc.field != "" {
				require.NotEmpty(t, eb.Error.Fields, string(raw))
				assert.Equal(t, tc.field, eb.Error.Fields[0].Field, string(raw))
			}
		})
	}
}

func decode[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(raw, &v), string(raw))
	return v
}

func TestCRMContactsAPI(t *testing.T) {
	bothProviders(t, func(t *testing.T, e *crmEnv) {
		resp, raw := e.do(t, "GET", "/api/v1/crm/contacts/"+url.PathEscape("+971 55 234 5671"), nil, auth())
		require.Equal(t, 200, resp.StatusCode, string(raw))
		got := decode[struct {
			Contact struct {
				ID, Segment, Company string
				LastName             string `json:"last_name"`
			} `json:"contact"`
			Segment struct {
				Name     string  `json:"name"`
				Discount float64 `json:"discount_percent"`
			} `json:"segment"`
			Deals []struct{ Stage string } `json:"recent_deals"`
		}](t, raw)
		assert.Equal(t, "Khalil", got.Contact.LastName)
		assert.Equal(t, "Wholesale", got.Segment.Name)
		assert.Equal(t, 15.0, got.Segment.Discount)
		require.Len(t, got.Deals, 1)
		assert.Equal(t, "Consignment", got.Deals[0].Stage)

		e.check(t, []apiCase{
			{"unknown phone", "GET", "/api/v1/crm/contacts/971552000111", "", 404, "not_found", ""},
			{"not a phone", "GET", "/api/v1/crm/contacts/abc", "", 400, "bad_request", "phone"},
			{"too short", "GET", "/api/v1/crm/contacts/12345", "", 400, "bad_request", "phone"},
			{"missing last name", "POST", "/api/v1/crm/contacts/", `{"phone":"+971552000111"}`, 422, "validation_failed", "last_name"},
			{"bad phone", "POST", "/api/v1/crm/contacts/", `{"phone":"call me","last_name":"Ahmed"}`, 422, "validation_failed", "phone"},
			{"bad email", "POST", "/api/v1/crm/contacts/", `{"phone":"+971552000111","last_name":"Ahmed","email":"not-an-email"}`, 422, "validation_failed", "email"},
			{"unknown segment", "POST", "/api/v1/crm/contacts/", `{"phone":"+971552000111","last_name":"Ahmed","segment":"Platinum"}`, 422, "validation_failed", "segment"},
			{"not JSON", "POST", "/api/v1/crm/contacts/", `{"phone":`, 400, "bad_request", "(body)"},
			{"unknown field", "POST", "/api/v1/crm/contacts/", `{"phone":"+971552000111","last_name":"A","vip":true}`, 400, "bad_request", "vip"},
			{"wrong type", "POST", "/api/v1/crm/contacts/", `{"phone":971552000111,"last_name":"A"}`, 400, "bad_request", "phone"},
			{"existing phone", "POST", "/api/v1/crm/contacts/", `{"phone":"971552345671","last_name":"Khalil"}`, 409, "conflict", "phone"},
		})
		// Nothing was written by the refused requests.
		e.check(t, []apiCase{{"still unknown", "GET", "/api/v1/crm/contacts/971552000111", "", 404, "not_found", ""}})

		resp, raw = e.do(t, "POST", "/api/v1/crm/contacts/", strings.NewReader(`{"phone":"+971 55 200 0111","first_name":"Sara",
			"last_name":"Ahmed","email":"sara@bluelagoon.ae","company":"Blue Lagoon LLC","segment":"horeca","utm_source":"instagram"}`), auth())
		require.Equal(t, 201, resp.StatusCode, string(raw))
		created := decode[struct {
			Contact struct {
				ID, Segment string
				LeadSource  string `json:"lead_source"`
			} `json:"contact"`
		}](t, raw)
		assert.NotEmpty(t, created.Contact.ID)
		assert.Equal(t, "Horeca", created.Contact.Segment, "the segment table's spelling")
		assert.Equal(t, "Chatbot", created.Contact.LeadSource)
		resp, raw = e.do(t, "GET", "/api/v1/crm/contacts/971552000111", nil, auth())
		require.Equal(t, 200, resp.StatusCode)
		assert.Contains(t, string(raw), created.Contact.ID)

		if e.zoho != nil {
			// Upstream failures: a 503 on the create is a 502 naming Zoho, and nothing is created.
			e.zoho.FailNextOn("POST", "/crm/v7/Contacts", zohotest.Failure{Status: 503})
			before := len(e.zoho.CRMContacts())
			e.check(t, []apiCase{{"zoho down", "POST", "/api/v1/crm/contacts/", `{"phone":"+971552000222","last_name":"X"}`, 502, "upstream_failed", ""}})
			assert.Len(t, e.zoho.CRMContacts(), before, "nothing half-written")
			e.zoho.Revoke()
			e.check(t, []apiCase{{"revoked token", "GET", "/api/v1/crm/contacts/971552345671", "", 502, "upstream_auth_failed", ""}})
		}
	})
}

func TestCRMDealsAPI(t *testing.T) {
	bothProviders(t, func(t *testing.T, e *crmEnv) {
		resp, raw := e.do(t, "GET", "/api/v1/crm/contacts/971501234567", nil, auth())
		require.Equal(t, 200, resp.StatusCode)
		omar := decode[struct {
			Contact struct{ ID string } `json:"contact"`
		}](t, raw).Contact.ID

		e.check(t, []apiCase{
			{"no contact", "POST", "/api/v1/crm/deals/", `{"name":"x"}`, 422, "validation_failed", "contact_id"},
			{"no name", "POST", "/api/v1/crm/deals/", `{"contact_id":"` + omar + `"}`, 422, "validation_failed", "name"},
			{"bad stage", "POST", "/api/v1/crm/deals/", `{"contact_id":"` + omar + `","name":"x","stage":"Won big"}`, 422, "validation_failed", "stage"},
			{"negative amount", "POST", "/api/v1/crm/deals/", `{"contact_id":"` + omar + `","name":"x","amount":-5}`, 422, "validation_failed", "amount"},
			{"bad closing date", "POST", "/api/v1/crm/deals/", `{"contact_id":"` + omar + `","name":"x","closing_date":"next week"}`, 422, "validation_failed", "closing_date"},
			{"unknown contact", "POST", "/api/v1/crm/deals/", `{"contact_id":"404404","name":"x"}`, 422, "validation_failed", "contact_id"},
			{"unknown phone", "POST", "/api/v1/crm/deals/", `{"phone":"971552000999","name":"x"}`, 422, "validation_failed", "phone"},
			{"not JSON", "POST", "/api/v1/crm/deals/", `[`, 400, "bad_request", "(body)"},
			{"patch nothing", "PATCH", "/api/v1/crm/deals/1", `{}`, 422, "validation_failed", "(body)"},
			{"patch bad stage", "PATCH", "/api/v1/crm/deals/1", `{"stage":"nope"}`, 422, "validation_failed", "stage"},
			{"patch unknown deal", "PATCH", "/api/v1/crm/deals/404404", `{"stage":"Offer sent"}`, 404, "not_found", ""},
		})

		// Our stage names map through the settings; the deal is read back.
		resp, raw = e.do(t, "POST", "/api/v1/crm/deals/", strings.NewReader(`{"contact_id":"`+omar+`","name":"Al Noor: 10 x CH 120 Grey",
			"amount":3100,"stage":"solution","closing_date":"2026-12-01","utm_source":"google"}`), auth())
		require.Equal(t, 201, resp.StatusCode, string(raw))
		deal := decode[struct {
			Deal struct {
				ID, Stage string
				Amount    float64
				ContactID string `json:"contact_id"`
			} `json:"deal"`
		}](t, raw).Deal
		assert.Equal(t, "Negotiations", deal.Stage)
		assert.Equal(t, 3100.0, deal.Amount)
		assert.Equal(t, omar, deal.ContactID)

		resp, raw = e.do(t, "PATCH", "/api/v1/crm/deals/"+deal.ID, strings.NewReader(`{"stage":"Offer sent","amount":3255}`), auth())
		require.Equal(t, 200, resp.StatusCode, string(raw))
		moved := decode[struct {
			Deal struct {
				Stage  string
				Amount float64
			} `json:"deal"`
		}](t, raw).Deal
		assert.Equal(t, "Offer sent", moved.Stage)
		assert.Equal(t, 3255.0, moved.Amount)

		if e.zoho != nil {
			e.zoho.FailNextOn("POST", "/crm/v7/Deals", zohotest.Failure{Status: 500})
			e.check(t, []apiCase{{"zoho fails the create", "POST", "/api/v1/crm/deals/", `{"phone":"971501234567","name":"y"}`, 502, "upstream_failed", ""}})
			e.zoho.Revoke()
			e.check(t, []apiCase{{"revoked token", "PATCH", "/api/v1/crm/deals/" + deal.ID, `{"stage":"IN WORK"}`, 502, "upstream_auth_failed", ""}})
		}
	})
}

func TestStockAPI(t *testing.T) {
	bothProviders(t, func(t *testing.T, e *crmEnv) {
		type view struct {
			SKU        string `json:"sku"`
			Found      bool   `json:"found"`
			CatalogSKU string `json:"catalog_sku"`
			InStock    bool   `json:"in_stock"`
			Quantity   *int   `json:"quantity"`
			Source     string `json:"source"`
		}
		// "СН 616 black" is written with Cyrillic letters: the same catalog SKU.
		resp, raw := e.do(t, "GET", "/api/v1/inventory/stock/"+url.PathEscape("СН 616 black"), nil, auth())
		require.Equal(t, 200, resp.StatusCode, string(raw))
		v := decode[view](t, raw)
		assert.Equal(t, "CH 616 black", v.CatalogSKU)
		require.NotNil(t, v.Quantity)
		if e.zoho != nil {
			assert.Equal(t, 0, *v.Quantity, "Zoho has 0 (the catalog says 3): Zoho wins")
			assert.Equal(t, "zoho-inventory", v.Source)
		} else {
			assert.Equal(t, 3, *v.Quantity)
			assert.Equal(t, "local", v.Source)
		}

		resp, raw = e.do(t, "GET", "/api/v1/inventory/stock/?skus="+url.QueryEscape("NOVO 2400, CH 145 white,NOPE 1,CH 120 Grey"), nil, auth())
		require.Equal(t, 200, resp.StatusCode, string(raw))
		items := decode[struct{ Items []view }](t, raw).Items
		require.Len(t, items, 4)
		assert.Equal(t, "NOVO 2400", items[0].CatalogSKU)
		assert.False(t, items[2].Found, "not a catalog SKU")
		if e.zoho != nil {
			assert.Equal(t, 6, *items[0].Quantity, "available_stock, net of open orders")
			assert.Equal(t, "catalog", items[1].Source, "CH 145 white is not in Zoho: the catalog's figure")
			assert.Equal(t, 9, *items[3].Quantity)
		}

		many := make([]string, 51)
		for i := range many {
			many[i] = fmt.Sprintf("X%d", i)
		}
		e.check(t, []apiCase{
			{"unknown SKU", "GET", "/api/v1/inventory/stock/NOPE%201", "", 404, "not_found", ""},
			{"no skus", "GET", "/api/v1/inventory/stock/", "", 400, "bad_request", "skus"},
			{"blank skus", "GET", "/api/v1/inventory/stock/?skus=,,", "", 400, "bad_request", "skus"},
			{"too many", "GET", "/api/v1/inventory/stock/?skus=" + strings.Join(many, ","), "", 422, "validation_failed", "skus"},
		})
		if e.zoho != nil {
			e.zoho.Revoke()
			e.check(t, []apiCase{
				{"revoked (one)", "GET", "/api/v1/inventory/stock/NOVO%202400", "", 502, "upstream_auth_failed", ""},
				{"revoked (bulk)", "GET", "/api/v1/inventory/stock/?skus=NOVO%202400,CH%20120%20Grey", "", 502, "upstream_auth_failed", ""},
			})
		}
	})
}

func TestSaleOrdersAPI(t *testing.T) {
	bothProviders(t, func(t *testing.T, e *crmEnv) {
		order := func(items string) string {
			return `{"customer":{"name":"Ahmed Khalil","company":"Khalil Furniture Trading","phone":"+971 55 234 5671",
				"address":"Warehouse 14, Al Quoz Industrial Area 3, Dubai"},"items":` + items + `}`
		}
		e.check(t, []apiCase{
			{"no items", "POST", "/api/v1/inventory/sale-orders/", order(`[]`), 422, "validation_failed", "items"},
			{"city only", "POST", "/api/v1/inventory/sale-orders/", `{"customer":{"name":"A B","individual":true,"phone":"971552000111","address":"Dubai"},"items":[{"sku":"NOVO 2400","qty":1}]}`, 422, "validation_failed", "customer.delivery_address"},
			{"no name", "POST", "/api/v1/inventory/sale-orders/", `{"customer":{"company":"X","phone":"971552000111","address":"Office 5, Tower A, JLT"},"items":[{"sku":"NOVO 2400","qty":1}]}`, 422, "validation_failed", "customer.name"},
			{"no company or individual", "POST", "/api/v1/inventory/sale-orders/", `{"customer":{"name":"A B","phone":"971552000111","address":"Office 5, Tower A, JLT"},"items":[{"sku":"NOVO 2400","qty":1}]}`, 422, "validation_failed", "customer.company"},
			{"no phone", "POST", "/api/v1/inventory/sale-orders/", `{"customer":{"name":"A B","individual":true,"address":"Office 5, Tower A, JLT"},"items":[{"sku":"NOVO 2400","qty":1}]}`, 422, "validation_failed", "customer.phone"},
			{"zero quantity", "POST", "/api/v1/inventory/sale-orders/", order(`[{"sku":"NOVO 2400","qty":0}]`), 422, "validation_failed", "items[0].qty"},
			{"fractional quantity", "POST", "/api/v1/inventory/sale-orders/", order(`[{"sku":"NOVO 2400","qty":1.5}]`), 422, "validation_failed", "items[0].qty"},
			{"a model family", "POST", "/api/v1/inventory/sale-orders/", order(`[{"sku":"CH 616","qty":4}]`), 422, "validation_failed", "items[0].sku"},
			{"not a SKU", "POST", "/api/v1/inventory/sale-orders/", order(`[{"sku":"from 500 to 600 AED","qty":1}]`), 422, "validation_failed", "items[0].sku"},
			{"no catalog price", "POST", "/api/v1/inventory/sale-orders/", order(`[{"sku":"OF-HAI-Luma-Reception-RJ 9788-8-1600-Walnut","qty":1}]`), 422, "validation_failed", "items[0].sku"},
			{"not JSON", "POST", "/api/v1/inventory/sale-orders/", `{"customer":`, 400, "bad_request", "(body)"},
			{"qty as text", "POST", "/api/v1/inventory/sale-orders/", order(`[{"sku":"NOVO 2400","qty":"two"}]`), 400, "bad_request", "items.qty"},
			{"unknown order", "GET", "/api/v1/inventory/sale-orders/404404", "", 404, "not_found", ""},
		})
		if e.zoho != nil {
			e.check(t, []apiCase{{"not in Zoho", "POST", "/api/v1/inventory/sale-orders/", order(`[{"sku":"CH 145 white","qty":2}]`), 422, "validation_failed", "items[0].sku"}})
		}

		// Ahmed is Wholesale in the CRM: 15 % off, the segment comes from the CRM.
		body := order(`[{"sku":"СН 616 black","qty":4},{"sku":"NOVO 2400","qty":1}]`)
		post := func() (int, []byte) {
			resp, raw := e.do(t, "POST", "/api/v1/inventory/sale-orders/", strings.NewReader(body),
				map[string]string{"X-API-Key": apiKey, "Content-Type": "application/json", "Idempotency-Key": "po-7781"})
			return resp.StatusCode, raw
		}
		if e.zoho != nil {
			// Zoho fails the create: 502 with the reason; the retry makes exactly one order.
			e.zoho.FailNextOn("POST", "/inventory/v1/salesorders", zohotest.Failure{Status: 503})
			status, raw := post()
			require.Equal(t, 502, status, string(raw))
			assert.Equal(t, "upstream_failed", decode[api.ErrorBody](t, raw).Error.Code)
		}
		status, raw := post()
		require.Equal(t, 201, status, string(raw))
		type result struct {
			SaleOrder struct {
				ID, Number, Status string
				Total              float64 `json:"total"`
				Ref                string  `json:"reference_number"`
			} `json:"sale_order"`
			Quote struct {
				Ref      string
				Total    float64
				Discount float64 `json:"discount_percent"`
				Lines    []struct {
					SKU       string  `json:"sku"`
					UnitPrice float64 `json:"unit_price"`
				}
			} `json:"quote"`
			PDFURL string `json:"pdf_url"`
		}
		r := decode[result](t, raw)
		assert.Equal(t, "draft", r.SaleOrder.Status)
		assert.Equal(t, "SO-00022", r.SaleOrder.Number)
		assert.Equal(t, r.Quote.Ref, r.SaleOrder.Ref)
		assert.Equal(t, 15.0, r.Quote.Discount)
		require.Len(t, r.Quote.Lines, 2)
		assert.Equal(t, "CH 616 black", r.Quote.Lines[0].SKU)
		assert.Equal(t, 187.0, r.Quote.Lines[0].UnitPrice)
		assert.Equal(t, 1734.0, r.Quote.Lines[1].UnitPrice)
		// (4 × 187 + 1734) × 1.05
		assert.Equal(t, 2606.1, r.SaleOrder.Total)
		assert.Equal(t, r.SaleOrder.Total, r.Quote.Total)
		assert.True(t, strings.HasPrefix(r.PDFURL, "https://noor.example.com/quotes/"+r.Quote.Ref+".pdf?exp="), r.PDFURL)

		// The same request again: the same sale order, not a second one.
		status, raw = post()
		require.Equal(t, 200, status, string(raw))
		assert.Equal(t, r.SaleOrder.ID, decode[result](t, raw).SaleOrder.ID)
		if e.zoho != nil {
			assert.Len(t, e.zoho.SalesOrdersByReference(r.Quote.Ref), 1)
		}

		resp, raw := e.do(t, "GET", "/api/v1/inventory/sale-orders/"+r.SaleOrder.ID, nil, auth())
		require.Equal(t, 200, resp.StatusCode, string(raw))
		got := decode[result](t, raw)
		assert.Equal(t, "SO-00022", got.SaleOrder.Number)
		require.NotEmpty(t, got.PDFURL)

		// The public PDF: signed and expiring.
		local := strings.Replace(got.PDFURL, "https://noor.example.com", "", 1)
		resp, pdf := e.do(t, "GET", local, nil, nil)
		require.Equal(t, 200, resp.StatusCode, string(pdf))
		assert.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
		text := pdfText(t, pdf)
		for _, w := range []string{"SO-00022", "CH 616 black", "NOVO 2400", "187.00", "748.00", "1,734.00", "2,482.00", "124.10", "2,606.10"} {
			assert.Contains(t, text, w)
		}
		u, err := url.Parse(local)
		require.NoError(t, err)
		q := u.Query()
		forged := u.Path + "?exp=" + q.Get("exp") + "&sig=" + strings.Repeat("A", len(q.Get("sig")))
		longer := u.Path + "?exp=" + fmt.Sprint(time.Now().Add(365*24*time.Hour).Unix()) + "&sig=" + q.Get("sig")
		signer := quote.Signer{Key: []byte(signingKey)}
		expired, err := signer.URL("", u.Path, time.Now().Add(-time.Minute))
		require.NoError(t, err)
		otherRef, err := signer.URL("", quote.DocumentPath("NQ-999999-ZZZZ"), time.Now().Add(time.Hour))
		require.NoError(t, err)
		for _, tc := range []struct {
			name, path string
			status     int
			code       string
		}{
			{"forged signature", forged, 403, "forbidden"},
			{"extended expiry", longer, 403, "forbidden"},
			{"no signature", u.Path, 403, "forbidden"},
			{"expired", expired, 403, "link_expired"},
			{"valid link, no such quote", otherRef, 404, "not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, raw := e.do(t, "GET", tc.path, nil, nil)
				assert.Equal(t, tc.status, resp.StatusCode, string(raw))
				assert.Equal(t, tc.code, decode[api.ErrorBody](t, raw).Error.Code)
			})
		}

		// A fixture order (not Noor's): found by number, with Zoho's own PDF when live.
		resp, raw = e.do(t, "GET", "/api/v1/inventory/sale-orders/SO-00019", nil, auth())
		require.Equal(t, 200, resp.StatusCode, string(raw))
		so19 := decode[result](t, raw)
		assert.Equal(t, 12096.0, so19.SaleOrder.Total)
		if e.zoho != nil {
			require.NotEmpty(t, so19.PDFURL)
			resp, pdf := e.do(t, "GET", strings.Replace(so19.PDFURL, "https://noor.example.com", "", 1), nil, nil)
			require.Equal(t, 200, resp.StatusCode)
			assert.Contains(t, string(pdf), "SO-00019")
		} else {
			assert.Empty(t, so19.PDFURL)
		}
	})
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	require.NoError(t, err, "pdftotext (poppler-utils, installed by scripts/bootstrap.sh)")
	return string(out)
}
