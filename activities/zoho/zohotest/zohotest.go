// Package zohotest is an in-repo fake of Zoho Accounts (OAuth refresh-token grant), Zoho
// Inventory (items, customers, sale orders with accept=pdf) and Zoho CRM (contacts search/
// get/create, deals create/update/get and a contact's deals), serving the fixtures in
// internal/demodata/zoho. It can revoke the refresh token (`{"error":"invalid_code"}` with
// HTTP 200, like Zoho), expire access tokens, inject 401/429/5xx and delays, hold a
// sale-order create after the order exists, counts refreshes and logs every request.
package zohotest

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/demodata"
)

// Fixed credentials the fake accepts.
const (
	ClientID       = "1000.TESTCLIENT"
	ClientSecret   = "test-client-secret"
	RefreshToken   = "1000.test-refresh-token"
	OrganizationID = "20099999"
)

// Failure is an injected API answer.
type Failure struct {
	Status int           // 401, 429, 500, …; 0 = answer normally after Delay
	Delay  time.Duration // wait before answering (the client may time out first)
}

// Request is one request the fake received.
type Request struct {
	Method, Path string
	Query        map[string][]string
	Auth         string
	Status       int
	At           time.Time
}

// Server fakes accounts.zoho.* and www.zohoapis.*/inventory/v1 on one listener.
type Server struct {
	URL          string // root
	AccountsURL  string
	InventoryURL string
	CRMURL       string

	srv *httptest.Server
	mux *http.ServeMux

	mu         sync.Mutex
	items      []map[string]any
	tokens     map[string]time.Time // access token -> expiry
	tokenTTL   time.Duration
	tokenDelay time.Duration
	revoked    bool
	refreshes  int
	issued     int
	apiFail    []Failure
	routeFail  map[string][]Failure // "POST /inventory/v1/salesorders" -> failures
	tokenFail  []Failure
	requests   []Request
	sales      salesState
}

// New starts the fake with the demo Inventory items.
func New() *Server {
	raw, err := fs.ReadFile(demodata.FS, "zoho/inventory-items.json")
	if err != nil {
		panic(err)
	}
	var body struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		panic(err)
	}
	s := &Server{items: body.Items, tokens: map[string]time.Time{}, tokenTTL: time.Hour, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /oauth/v2/token", s.token)
	s.mux.HandleFunc("GET /inventory/v1/items", s.api(s.listItems))
	s.mux.HandleFunc("GET /inventory/v1/items/{id}", s.api(s.getItem))
	s.registerSales()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	s.AccountsURL = s.URL
	s.InventoryURL = s.URL + "/inventory/v1"
	s.CRMURL = s.URL + "/crm/v7"
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Config returns a Zoho configuration pointing at the fake with valid credentials.
func (s *Server) Config() config.Zoho {
	return config.Zoho{AccountsURL: s.AccountsURL, CRMURL: s.CRMURL, InventoryURL: s.InventoryURL,
		ClientID: ClientID, ClientSecret: ClientSecret, RefreshToken: RefreshToken, OrganizationID: OrganizationID}
}

// Handle adds an authenticated API route (e.g. "GET /crm/v7/Contacts/search"): the
// handler runs only for a valid access token, after injected failures.
func (s *Server) Handle(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, s.api(h)) }

// Revoke makes the refresh token invalid: the token endpoint answers HTTP 200 with
// {"error":"invalid_code"}, and every issued access token stops working.
func (s *Server) Revoke() {
	s.mu.Lock()
	s.revoked = true
	s.tokens = map[string]time.Time{}
	s.mu.Unlock()
}

// SetTokenTTL sets expires_in for tokens issued from now on.
func (s *Server) SetTokenTTL(d time.Duration) { s.mu.Lock(); s.tokenTTL = d; s.mu.Unlock() }

// SetTokenDelay slows the token endpoint (to make concurrent refreshes overlap).
func (s *Server) SetTokenDelay(d time.Duration) { s.mu.Lock(); s.tokenDelay = d; s.mu.Unlock() }

// ExpireAccessTokens invalidates every issued access token: the next API call gets 401.
func (s *Server) ExpireAccessTokens() { s.mu.Lock(); s.tokens = map[string]time.Time{}; s.mu.Unlock() }

// Refreshes counts successful refresh-token grants.
func (s *Server) Refreshes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.refreshes }

// FailNext queues failures for the next API calls (not the token endpoint).
func (s *Server) FailNext(fs ...Failure) {
	s.mu.Lock()
	s.apiFail = append(s.apiFail, fs...)
	s.mu.Unlock()
}

// FailNextOn queues failures for the next requests with this method and exact path
// (e.g. "POST", "/inventory/v1/salesorders"); other requests are not affected.
func (s *Server) FailNextOn(method, path string, fs ...Failure) {
	s.mu.Lock()
	if s.routeFail == nil {
		s.routeFail = map[string][]Failure{}
	}
	k := method + " " + path
	s.routeFail[k] = append(s.routeFail[k], fs...)
	s.mu.Unlock()
}

// FailTokenNext queues failures for the next token requests.
func (s *Server) FailTokenNext(fs ...Failure) {
	s.mu.Lock()
	s.tokenFail = append(s.tokenFail, fs...)
	s.mu.Unlock()
}

// SetItem changes fields of the item with this SKU (e.g. "available_stock").
func (s *Server) SetItem(sku string, fields map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.items {
		if it["sku"] == sku {
			for k, v := range fields {
				it[k] = v
			}
			return
		}
	}
	panic("zohotest: no item " + sku)
}

// Requests returns every request so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// APICalls counts requests under path prefix (e.g. "/inventory/v1/items").
func (s *Server) APICalls(prefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(c int) { w.status = c; w.ResponseWriter.WriteHeader(c) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: 200}
	s.mux.ServeHTTP(sw, r)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Auth: r.Header.Get("Authorization"), Status: sw.status, At: time.Now()})
	s.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func wait(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	var fail *Failure
	if len(s.tokenFail) > 0 {
		f := s.tokenFail[0]
		s.tokenFail = s.tokenFail[1:]
		fail = &f
	}
	delay, revoked := s.tokenDelay, s.revoked
	s.mu.Unlock()
	wait(r, delay)
	if fail != nil {
		wait(r, fail.Delay)
		if fail.Status != 0 {
			writeJSON(w, fail.Status, map[string]string{"error": "injected"})
			return
		}
	}
	switch {
	case r.Form.Get("grant_type") != "refresh_token":
		writeJSON(w, 200, map[string]string{"error": "unsupported_grant_type"})
		return
	case r.Form.Get("client_id") != ClientID || r.Form.Get("client_secret") != ClientSecret:
		writeJSON(w, 200, map[string]string{"error": "invalid_client"})
		return
	case revoked || r.Form.Get("refresh_token") != RefreshToken:
		// Zoho answers a revoked refresh token with HTTP 200 and an error body.
		writeJSON(w, 200, map[string]string{"error": "invalid_code"})
		return
	}
	s.mu.Lock()
	s.issued++
	s.refreshes++
	tok := fmt.Sprintf("1000.access-%d", s.issued)
	ttl := s.tokenTTL
	s.tokens[tok] = time.Now().Add(ttl)
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(ttl.Seconds()),
		"api_domain": "https://www.zohoapis.eu"})
}

// api wraps a route with failure injection, token and organisation checks.
func (s *Server) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		var fail *Failure
		k := r.Method + " " + r.URL.Path
		if q := s.routeFail[k]; len(q) > 0 {
			f := q[0]
			s.routeFail[k] = q[1:]
			fail = &f
		} else if len(s.apiFail) > 0 {
			f := s.apiFail[0]
			s.apiFail = s.apiFail[1:]
			fail = &f
		}
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Zoho-oauthtoken ")
		exp, ok := s.tokens[tok]
		s.mu.Unlock()
		if fail != nil {
			wait(r, fail.Delay)
			if fail.Status != 0 {
				writeJSON(w, fail.Status, map[string]any{"code": fail.Status, "message": "injected failure"})
				return
			}
		}
		if !ok || time.Now().After(exp) {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 57, "message": "You are not authorized to perform this operation"})
			return
		}
		if strings.HasPrefix(r.URL.Path, "/inventory/") && r.URL.Query().Get("organization_id") != OrganizationID {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 6041, "message": "organization_id is missing or wrong"})
			return
		}
		h(w, r)
	}
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	items := make([]map[string]any, 0, len(s.items))
	search := strings.ToLower(q.Get("search_text"))
	for _, it := range s.items {
		if search != "" {
			sku, _ := it["sku"].(string)
			name, _ := it["name"].(string)
			if !strings.Contains(strings.ToLower(sku), search) && !strings.Contains(strings.ToLower(name), search) {
				continue
			}
		}
		if st := q.Get("status"); st != "" && it["status"] != st {
			continue
		}
		items = append(items, copyMap(it))
	}
	s.mu.Unlock()
	sort.SliceStable(items, func(i, j int) bool { return fmt.Sprint(items[i]["name"]) < fmt.Sprint(items[j]["name"]) })
	page, _ := strconv.Atoi(q.Get("page"))
	per, _ := strconv.Atoi(q.Get("per_page"))
	if page < 1 {
		page = 1
	}
	if per < 1 || per > 200 {
		per = 200
	}
	start := min((page-1)*per, len(items))
	end := min(start+per, len(items))
	writeJSON(w, 200, map[string]any{"code": 0, "message": "success", "items": items[start:end],
		"page_context": map[string]any{"page": page, "per_page": per, "has_more_page": end < len(items)}})
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.items {
		if it["item_id"] == id {
			writeJSON(w, 200, map[string]any{"code": 0, "message": "success", "item": copyMap(it)})
			return
		}
	}
	writeJSON(w, 404, map[string]any{"code": 1002, "message": "Item does not exist."})
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
