package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/treejar/noor/activities/embed"
	"github.com/treejar/noor/activities/llm"
	"github.com/treejar/noor/activities/retrieval"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/settings"
	"github.com/treejar/noor/workflows"
)

// registerProducts adds the catalog, search, sync and knowledge routes.
func (s *Server) registerProducts() {
	e := embed.New(s.Config.Embeddings)
	var x retrieval.FilterExtractor
	if s.Config.LLM.Configured() {
		x = retrieval.NewLLMExtractor(llm.New(s.Config.LLM.BaseURL, s.Config.LLM.APIKey.Reveal(), nil), s.Config.LLM.FastModel)
	}
	s.retriever = retrieval.New(s.Store, e, x, s.Log)
	s.V1.POST("/products/search", s.searchProducts)
	s.V1.GET("/products/", s.listProducts)
	s.V1.GET("/products/:id", s.getProduct)
	s.V1.POST("/products/sync", s.startSync)
	s.V1.GET("/products/sync/:run", s.getSync)
	s.V1.GET("/knowledge/search", s.searchKnowledge)
}

type searchRequest struct {
	Query       string   `json:"query"`
	Category    string   `json:"category"`
	MinPrice    *float64 `json:"min_price"`
	MaxPrice    *float64 `json:"max_price"`
	Colour      string   `json:"colour"`
	InStockOnly bool     `json:"in_stock_only"`
	SKU         string   `json:"sku"`
	Limit       int      `json:"limit"`
}

func (s *Server) searchProducts(c echo.Context) error {
	var req searchRequest
	if err := c.Bind(&req); err != nil {
		return BadRequest("(body)", "must be a JSON object")
	}
	var fields []fieldError
	if strings.TrimSpace(req.Query) == "" && req.Category == "" && req.SKU == "" && req.MinPrice == nil && req.MaxPrice == nil {
		fields = append(fields, fieldError{"query", "required (or at least one filter)"})
	}
	if len(req.Query) > 1000 {
		fields = append(fields, fieldError{"query", "at most 1000 characters"})
	}
	if req.Limit < 0 || req.Limit > 50 {
		fields = append(fields, fieldError{"limit", "must be between 1 and 50"})
	}
	if req.MinPrice != nil && *req.MinPrice < 0 {
		fields = append(fields, fieldError{"min_price", "must not be negative"})
	}
	if req.MaxPrice != nil && *req.MaxPrice < 0 {
		fields = append(fields, fieldError{"max_price", "must not be negative"})
	}
	if req.MinPrice != nil && req.MaxPrice != nil && *req.MinPrice > *req.MaxPrice {
		fields = append(fields, fieldError{"min_price", "must not exceed max_price"})
	}
	if len(fields) > 0 {
		return validation(fields)
	}
	res, err := s.retriever.Search(c.Request().Context(), retrieval.Query{Text: req.Query, Category: req.Category,
		MinPrice: req.MinPrice, MaxPrice: req.MaxPrice, Colour: req.Colour, InStockOnly: req.InStockOnly, SKU: req.SKU, Limit: req.Limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

type productList struct {
	Products []retrieval.Product `json:"products"`
	Total    int                 `json:"total"`
	Limit    int                 `json:"limit"`
	Offset   int                 `json:"offset"`
}

func (s *Server) listProducts(c echo.Context) error {
	q := c.QueryParams()
	var fields []fieldError
	num := func(name string) *float64 {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			fields = append(fields, fieldError{name, "must be a non-negative number"})
			return nil
		}
		return &f
	}
	integer := func(name string, def, lo, hi int) int {
		v := q.Get(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			fields = append(fields, fieldError{name, fmt.Sprintf("must be an integer between %d and %d", lo, hi)})
			return def
		}
		return n
	}
	boolean := func(name string) *bool {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			fields = append(fields, fieldError{name, "must be true or false"})
			return nil
		}
		return &b
	}
	f := db.ProductFilter{Category: q.Get("category"), MinPrice: num("min_price"), MaxPrice: num("max_price"),
		InStock: boolean("in_stock"), Active: boolean("active"), Text: q.Get("q"),
		Limit: integer("limit", 50, 1, 200), Offset: integer("offset", 0, 0, 1_000_000)}
	if f.MinPrice != nil && f.MaxPrice != nil && *f.MinPrice > *f.MaxPrice {
		fields = append(fields, fieldError{"min_price", "must not exceed max_price"})
	}
	if len(fields) > 0 {
		return validation(fields)
	}
	if f.Active == nil {
		t := true
		f.Active = &t
	}
	ids, total, err := s.Store.ListProductIDs(c.Request().Context(), f)
	if err != nil {
		return err
	}
	ps, err := s.retriever.Products(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, productList{Products: ps, Total: total, Limit: f.Limit, Offset: f.Offset})
}

func (s *Server) getProduct(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return BadRequest("id", "must be a positive integer product id")
	}
	ps, err := s.retriever.Products(c.Request().Context(), []int64{id})
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return Errf(http.StatusNotFound, "not_found", fmt.Sprintf("product %d does not exist", id))
	}
	return c.JSON(http.StatusOK, ps[0])
}

type syncStarted struct {
	RunID          string      `json:"run_id"`
	WorkflowID     string      `json:"workflow_id"`
	AlreadyRunning bool        `json:"already_running"`
	Run            *db.SyncRun `json:"run,omitempty"`
}

// startSync starts a catalog sync, or returns the one already running (there is only ever one).
func (s *Server) startSync(c echo.Context) error {
	st, err := s.startCatalogSync(c.Request().Context(), "api")
	if err != nil {
		return err
	}
	if st.AlreadyRunning {
		return c.JSON(http.StatusOK, st)
	}
	return c.JSON(http.StatusAccepted, st)
}

// startCatalogSync starts the CatalogSync workflow (the API's and the console's "sync now"),
// or returns the sync that is already running.
func (s *Server) startCatalogSync(ctx context.Context, trigger string) (syncStarted, error) {
	if run, err := s.Store.RunningSyncRun(ctx); err == nil {
		return syncStarted{RunID: run.ID, WorkflowID: run.WorkflowID, AlreadyRunning: true, Run: &run}, nil
	} else if !errors.Is(err, db.ErrNotFound) {
		return syncStarted{}, err
	}
	wr, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.Singleton(workflows.CatalogSyncWorkflowID, s.Config.TaskQueue), TaskQueue: s.Config.TaskQueue,
		// A second request while this one runs gets the running execution back.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionTimeout: 2 * time.Hour,
	}, workflows.CatalogSyncWorkflowName, workflows.CatalogSyncInput{Trigger: trigger})
	if err != nil {
		return syncStarted{}, Upstream("temporal", err)
	}
	return syncStarted{RunID: wr.GetRunID(), WorkflowID: wr.GetID()}, nil
}

type syncStatus struct {
	db.SyncRun
	Live *workflows.CatalogSyncProgress `json:"live,omitempty"`
}

// getSync returns a run's progress: the run row, plus the workflow's live state while it runs.
func (s *Server) getSync(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("run")
	run, err := s.Store.SyncRun(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		// Started but its first activity has not written the row yet?
		v, qerr := s.Temporal.QueryWorkflow(ctx, workflows.Singleton(workflows.CatalogSyncWorkflowID, s.Config.TaskQueue), id, workflows.QueryState)
		if qerr != nil {
			return Errf(http.StatusNotFound, "not_found", "no catalog sync run "+id)
		}
		var p workflows.CatalogSyncProgress
		if err := v.Get(&p); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, syncStatus{SyncRun: db.SyncRun{ID: id, WorkflowID: workflows.Singleton(workflows.CatalogSyncWorkflowID, s.Config.TaskQueue),
			Status: "running", Phase: p.Phase, Errors: []string{}}, Live: &p})
	}
	if err != nil {
		return err
	}
	out := syncStatus{SyncRun: run}
	if run.Status == "running" {
		if v, err := s.Temporal.QueryWorkflow(ctx, run.WorkflowID, run.ID, workflows.QueryState); err == nil {
			var p workflows.CatalogSyncProgress
			if v.Get(&p) == nil {
				out.Live = &p
			}
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) searchKnowledge(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	if q == "" {
		return BadRequest("q", "required")
	}
	limit := 4
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 20 {
			return BadRequest("limit", "must be an integer between 1 and 20")
		}
		limit = n
	}
	chunks, err := s.retriever.SearchKnowledge(c.Request().Context(), q, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"chunks": chunks})
}

type fieldError struct{ field, message string }

// validation is a 422 naming every bad field.
func validation(fs []fieldError) error {
	e := &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed"}
	var msgs []string
	for _, f := range fs {
		e.Fields = append(e.Fields, settingsFieldError(f.field, f.message))
		msgs = append(msgs, f.field+": "+f.message)
	}
	e.Message = strings.Join(msgs, "; ")
	return e
}

func settingsFieldError(field, message string) settings.FieldError {
	return settings.FieldError{Field: field, Message: message}
}
