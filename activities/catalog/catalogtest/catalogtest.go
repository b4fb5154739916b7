// Package catalogtest is an in-repo fake of the Treejar catalog API
// (GET ?action=categories|category_products|product|stats) serving a snapshot laid out
// like internal/demodata/catalog, with failure injection and a request log.
package catalogtest

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/treejar/noor/internal/demodata"
)

// Failure is an injected answer: an HTTP status (429, 500, 503, …) and/or a delay before
// answering (a timeout when the client gives up first). Status 0 with a delay answers
// normally after the delay.
type Failure struct {
	Status int
	Delay  time.Duration
}

// Request is one request the fake received, with the status it answered.
type Request struct {
	Action, Slug   string
	Limit, Offset  int
	Status         int
	InjectedFailed bool
	At             time.Time
}

// Server is the fake catalog API. Safe for concurrent use.
type Server struct {
	URL string
	srv *httptest.Server

	mu         sync.Mutex
	categories json.RawMessage
	stats      json.RawMessage
	listings   map[string][]map[string]any // category slug -> product summaries
	products   map[string]map[string]any   // product slug -> full product
	failCat    map[string]Failure
	failProd   map[string]Failure
	failAfter  map[int]Failure // absolute request number (1-based) -> failure
	failNext   []Failure
	requests   []Request
}

// NewDemo serves the bundled demo snapshot.
func NewDemo() *Server {
	sub, err := fs.Sub(demodata.FS, "catalog")
	if err != nil {
		panic(err)
	}
	return New(sub)
}

// New serves the snapshot in fsys (categories.json, stats.json, category_products/*.json,
// products/*.json). It panics on a malformed snapshot: it is a test helper.
func New(fsys fs.FS) *Server {
	s := &Server{listings: map[string][]map[string]any{}, products: map[string]map[string]any{},
		failCat: map[string]Failure{}, failProd: map[string]Failure{}, failAfter: map[int]Failure{}}
	s.categories = must(fs.ReadFile(fsys, "categories.json"))
	if b, err := fs.ReadFile(fsys, "stats.json"); err == nil {
		s.stats = b
	}
	for _, dir := range []string{"category_products", "products"} {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			panic(err)
		}
		for _, e := range entries {
			slug := strings.TrimSuffix(e.Name(), ".json")
			b := must(fs.ReadFile(fsys, path.Join(dir, e.Name())))
			if dir == "products" {
				var body struct {
					Product map[string]any `json:"product"`
				}
				mustDecode(b, &body)
				s.products[slug] = body.Product
			} else {
				var page struct {
					Products []map[string]any `json:"products"`
				}
				mustDecode(b, &page)
				s.listings[slug] = page.Products
			}
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/api/catalog"
	return s
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func mustDecode(b []byte, into any) {
	if err := json.Unmarshal(b, into); err != nil {
		panic(err)
	}
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// FailCategory makes every category_products request for slug answer f.
func (s *Server) FailCategory(slug string, f Failure) {
	s.mu.Lock()
	s.failCat[slug] = f
	s.mu.Unlock()
}

// FailProduct makes every product request for slug answer f.
func (s *Server) FailProduct(slug string, f Failure) {
	s.mu.Lock()
	s.failProd[slug] = f
	s.mu.Unlock()
}

// FailNth makes the n-th request from now (1 = the next one) answer f, once.
func (s *Server) FailNth(n int, f Failure) {
	s.mu.Lock()
	s.failAfter[len(s.requests)+n] = f
	s.mu.Unlock()
}

// FailNext queues failures for the next requests, in order.
func (s *Server) FailNext(fs ...Failure) {
	s.mu.Lock()
	s.failNext = append(s.failNext, fs...)
	s.mu.Unlock()
}

// Heal removes every injected failure.
func (s *Server) Heal() {
	s.mu.Lock()
	s.failCat, s.failProd, s.failAfter, s.failNext = map[string]Failure{}, map[string]Failure{}, map[int]Failure{}, nil
	s.mu.Unlock()
}

// Remove deletes a product from the snapshot (its page and every listing).
func (s *Server) Remove(productSlug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.products, productSlug)
	for cat, ps := range s.listings {
		kept := ps[:0:0]
		for _, p := range ps {
			if p["slug"] != productSlug {
				kept = append(kept, p)
			}
		}
		s.listings[cat] = kept
	}
}

// Update changes a product's full body (and the same keys of its summaries).
func (s *Server) Update(productSlug string, fn func(p map[string]any)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.products[productSlug]
	if !ok {
		panic("catalogtest: no product " + productSlug)
	}
	fn(p)
	for _, ps := range s.listings {
		for _, sum := range ps {
			if sum["slug"] != productSlug {
				continue
			}
			for k := range sum {
				if v, ok := p[k]; ok {
					sum[k] = v
				}
			}
		}
	}
}

// ProductSlugs lists the products currently served.
func (s *Server) ProductSlugs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.products))
	for k := range s.products {
		out = append(out, k)
	}
	return out
}

// Requests returns every request so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests had the given action ("" = all).
func (s *Server) Count(action string) int {
	n := 0
	for _, r := range s.Requests() {
		if action == "" || r.Action == action {
			n++
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := Request{Action: q.Get("action"), Slug: q.Get("slug"), At: time.Now()}
	req.Limit, _ = strconv.Atoi(q.Get("limit"))
	req.Offset, _ = strconv.Atoi(q.Get("offset"))

	s.mu.Lock()
	n := len(s.requests) + 1
	var fail *Failure
	if f, ok := s.failAfter[n]; ok {
		fail = &f
		delete(s.failAfter, n)
	} else if len(s.failNext) > 0 {
		f := s.failNext[0]
		s.failNext = s.failNext[1:]
		fail = &f
	} else if f, ok := s.failCat[req.Slug]; ok && req.Action == "category_products" {
		fail = &f
	} else if f, ok := s.failProd[req.Slug]; ok && req.Action == "product" {
		fail = &f
	}
	idx := len(s.requests)
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	status, body := http.StatusOK, []byte(nil)
	if fail != nil {
		if fail.Delay > 0 {
			select {
			case <-time.After(fail.Delay):
			case <-r.Context().Done():
			}
		}
		if fail.Status != 0 {
			status, body = fail.Status, []byte(fmt.Sprintf(`{"error":"injected %d"}`, fail.Status))
		}
	}
	if body == nil {
		status, body = s.answer(req)
	}
	s.mu.Lock()
	s.requests[idx].Status = status
	s.requests[idx].InjectedFailed = fail != nil && fail.Status != 0
	s.mu.Unlock()
	if r.Context().Err() != nil {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) answer(req Request) (int, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	notFound := func() (int, []byte) { return http.StatusNotFound, []byte(`{"error":"not found"}`) }
	switch req.Action {
	case "categories":
		return http.StatusOK, s.categories
	case "stats":
		if s.stats == nil {
			return notFound()
		}
		return http.StatusOK, s.stats
	case "category_products":
		ps, ok := s.listings[req.Slug]
		if !ok {
			return notFound()
		}
		limit := req.Limit
		if limit <= 0 {
			limit = 100
		}
		total := len(ps)
		off := min(max(req.Offset, 0), total)
		end := min(off+limit, total)
		b, _ := json.Marshal(map[string]any{"products": ps[off:end], "total": total, "limit": limit,
			"offset": off, "hasMore": end < total})
		return http.StatusOK, b
	case "product":
		p, ok := s.products[req.Slug]
		if !ok {
			return notFound()
		}
		b, _ := json.Marshal(map[string]any{"product": p})
		return http.StatusOK, b
	}
	return http.StatusBadRequest, []byte(`{"error":"unknown action"}`)
}
