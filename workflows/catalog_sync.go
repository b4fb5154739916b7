package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/activities/catalog"
	"github.com/treejar/noor/activities/zoho"
)

// CatalogSyncInput starts a catalog sync.
type CatalogSyncInput struct {
	Trigger string `json:"trigger"` // schedule | api | cli | seed
	// PageSize for category pages (default 100, the API's page size).
	PageSize int `json:"page_size,omitempty"`
	// Concurrency bounds category pages in flight (default 4).
	Concurrency int `json:"concurrency,omitempty"`
}

// CatalogSyncProgress is the answer of the QueryState query and the workflow result.
type CatalogSyncProgress struct {
	RunID     string         `json:"run_id"`
	Status    string         `json:"status"` // running | succeeded | partial | failed | skipped
	Phase     string         `json:"phase"`  // starting | products | zoho | deactivating | embedding | done
	Counts    catalog.Counts `json:"counts"`
	Errors    []string       `json:"errors"`
	RunningID string         `json:"running_id,omitempty"` // when skipped: the sync that was running
	Source    string         `json:"source,omitempty"`
	Zoho      string         `json:"zoho,omitempty"` // zoho-inventory | local
}

const maxSyncErrors = 50

type catalogSync struct {
	in       CatalogSyncInput
	progress CatalogSyncProgress
	acts     *catalog.Activities
}

// CatalogSync walks the catalog (categories → pages → products), links Zoho items by SKU,
// deactivates products missing from a complete run, and re-embeds changed products.
func CatalogSync(ctx workflow.Context, in CatalogSyncInput) (CatalogSyncProgress, error) {
	s := &catalogSync{in: in}
	return s.run(ctx)
}

func (s *catalogSync) run(ctx workflow.Context) (CatalogSyncProgress, error) {
	if s.in.PageSize <= 0 {
		s.in.PageSize = 100
	}
	if s.in.Concurrency <= 0 {
		s.in.Concurrency = 4
	}
	info := workflow.GetInfo(ctx)
	s.progress = CatalogSyncProgress{RunID: info.WorkflowExecution.RunID, Status: "running", Phase: "starting", Errors: []string{}}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (CatalogSyncProgress, error) { return s.progress, nil }); err != nil {
		return s.progress, err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 4},
	})

	var begin catalog.BeginSyncResult
	err := workflow.ExecuteActivity(ctx, s.acts.BeginCatalogSync, catalog.BeginSyncInput{
		RunID: info.WorkflowExecution.RunID, WorkflowID: info.WorkflowExecution.ID, Trigger: s.in.Trigger}).Get(ctx, &begin)
	if err != nil {
		s.progress.Status, s.progress.Phase = "failed", "done"
		s.addError(err)
		return s.progress, err
	}
	if !begin.Started {
		s.progress.Status, s.progress.Phase, s.progress.RunningID = "skipped", "done", begin.RunningID
		return s.progress, nil
	}
	s.progress.Source = begin.Source

	complete, err := s.products(ctx, begin.SyncedAt)
	if err != nil {
		return s.fail(ctx, err)
	}

	s.setPhase(ctx, "zoho")
	var link catalog.LinkZohoResult
	if err := workflow.ExecuteActivity(ctx, s.acts.LinkZohoItems, catalog.LinkZohoInput{SyncedAt: begin.SyncedAt}).Get(ctx, &link); err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && (appErr.Type() == zoho.ErrTypeAuthRevoked || appErr.Type() == zoho.ErrTypeAuthClient) {
			return s.fail(ctx, err) // terminal and alertable: the workflow fails with this error
		}
		// Zoho being down does not invalidate the catalog; stock stays as it was.
		s.addError(fmt.Errorf("zoho link: %w", err))
		complete = false
	} else {
		s.progress.Zoho = link.Provider
		s.progress.Counts.ZohoLinked = link.Linked
	}

	if complete {
		s.setPhase(ctx, "deactivating")
		var n int
		if err := workflow.ExecuteActivity(ctx, s.acts.DeactivateMissingProducts, catalog.DeactivateInput{SyncedAt: begin.SyncedAt}).Get(ctx, &n); err != nil {
			return s.fail(ctx, err)
		}
		s.progress.Counts.Deactivated = n
	}

	s.setPhase(ctx, "embedding")
	ectx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Minute, HeartbeatTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
	})
	for range 200 { // bounded: 200 × 512 products
		var emb catalog.EmbedProductsResult
		if err := workflow.ExecuteActivity(ectx, s.acts.EmbedProducts, catalog.EmbedProductsInput{Max: 512}).Get(ctx, &emb); err != nil {
			s.addError(fmt.Errorf("embeddings: %w", err))
			complete = false
			break
		}
		s.progress.Counts.Embedded += emb.Embedded
		s.recordProgress(ctx)
		if emb.Remaining == 0 {
			break
		}
	}

	s.progress.Status = "succeeded"
	if !complete {
		s.progress.Status = "partial"
	}
	s.progress.Phase = "done"
	s.finish(ctx)
	workflow.GetLogger(ctx).Info("catalog sync finished", "status", s.progress.Status, "added", s.progress.Counts.Added,
		"updated", s.progress.Counts.Updated, "deactivated", s.progress.Counts.Deactivated, "failed", s.progress.Counts.Failed)
	return s.progress, nil
}

type pageJob struct {
	slug   string
	offset int
}

// products syncs every page of every leaf category, a few pages at a time. It reports
// whether every page and product succeeded.
func (s *catalogSync) products(ctx workflow.Context, syncedAt time.Time) (bool, error) {
	var slugs []string
	if err := workflow.ExecuteActivity(ctx, s.acts.CatalogCategories).Get(ctx, &slugs); err != nil {
		return false, err
	}
	s.progress.Counts.CategoriesTotal = len(slugs)
	s.setPhase(ctx, "products")

	queue := make([]pageJob, 0, len(slugs))
	for _, sl := range slugs {
		queue = append(queue, pageJob{slug: sl})
	}
	complete := true
	inFlight := 0
	sel := workflow.NewSelector(ctx)
	start := func(j pageJob) {
		inFlight++
		f := workflow.ExecuteActivity(ctx, s.acts.SyncCatalogPage, catalog.SyncPageInput{
			Slug: j.slug, Offset: j.offset, Limit: s.in.PageSize, SyncedAt: syncedAt})
		sel.AddFuture(f, func(f workflow.Future) {
			inFlight--
			var r catalog.SyncPageResult
			if err := f.Get(ctx, &r); err != nil {
				complete = false
				s.progress.Counts.Failed++
				s.addError(fmt.Errorf("category %s page at %d: %w", j.slug, j.offset, err))
				s.progress.Counts.CategoriesDone++
				return
			}
			c := &s.progress.Counts
			c.Seen += r.Seen
			c.Added += r.Added
			c.Updated += r.Updated
			c.Unchanged += r.Unchanged
			c.Failed += r.Failed
			for _, e := range r.Errors {
				s.addError(errors.New(e))
			}
			if r.Failed > 0 {
				complete = false
			}
			if r.HasMore {
				queue = append(queue, pageJob{slug: j.slug, offset: r.NextOffset})
			} else {
				c.CategoriesDone++
			}
		})
	}
	for len(queue) > 0 || inFlight > 0 {
		for len(queue) > 0 && inFlight < s.in.Concurrency {
			j := queue[0]
			queue = queue[1:]
			start(j)
		}
		sel.Select(ctx)
		s.recordProgress(ctx)
	}
	return complete, nil
}

func (s *catalogSync) addError(err error) {
	if len(s.progress.Errors) < maxSyncErrors {
		s.progress.Errors = append(s.progress.Errors, err.Error())
	}
}

func (s *catalogSync) setPhase(ctx workflow.Context, phase string) {
	s.progress.Phase = phase
	s.recordProgress(ctx)
}

// recordProgress publishes progress: the workflow's current details (Temporal UI) and the
// run row (API), the latter through a local activity so history stays small.
func (s *catalogSync) recordProgress(ctx workflow.Context) {
	c := s.progress.Counts
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** — categories %d/%d, products seen %d (added %d, updated %d, unchanged %d, failed %d), embedded %d",
		s.progress.Phase, c.CategoriesDone, c.CategoriesTotal, c.Seen, c.Added, c.Updated, c.Unchanged, c.Failed, c.Embedded))
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3}})
	err := workflow.ExecuteLocalActivity(lctx, s.acts.RecordCatalogSyncProgress, catalog.ProgressInput{
		RunID: s.progress.RunID, Phase: s.progress.Phase, Counts: c, Errors: s.progress.Errors}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("could not record catalog sync progress", "err", err)
	}
}

func (s *catalogSync) finish(ctx workflow.Context) {
	// Runs on a disconnected context so a cancelled sync still closes its row.
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	dctx = workflow.WithActivityOptions(dctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5}})
	err := workflow.ExecuteActivity(dctx, s.acts.FinishCatalogSync, catalog.FinishSyncInput{RunID: s.progress.RunID,
		Status: s.progress.Status, Counts: s.progress.Counts, Errors: s.progress.Errors}).Get(dctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("could not close the catalog sync run", "err", err)
	}
}

func (s *catalogSync) fail(ctx workflow.Context, err error) (CatalogSyncProgress, error) {
	s.progress.Status, s.progress.Phase = "failed", "done"
	s.addError(err)
	s.finish(ctx)
	return s.progress, err
}
