package catalog

import (
	"context"
	"fmt"
	"time"
)

// SyncReport is the outcome of SyncNow.
type SyncReport struct {
	RunID  string
	Status string
	Counts Counts
	Errors []string
}

// SyncNow runs a complete sync in this process with the same steps as the CatalogSync
// workflow, in order (categories → pages → Zoho link → deactivation → embeddings). `noor
// seed` uses it before any worker is up; scheduled and API syncs use the workflow.
func (a *Activities) SyncNow(ctx context.Context, trigger string) (SyncReport, error) {
	rep := SyncReport{RunID: fmt.Sprintf("%s-%d", trigger, time.Now().UnixNano()), Status: "running"}
	begin, err := a.BeginCatalogSync(ctx, BeginSyncInput{RunID: rep.RunID, WorkflowID: "inline-" + trigger, Trigger: trigger})
	if err != nil {
		return rep, err
	}
	if !begin.Started {
		rep.Status = "skipped"
		return rep, nil
	}
	finish := func(status string) (SyncReport, error) {
		rep.Status = status
		return rep, a.FinishCatalogSync(ctx, FinishSyncInput{RunID: rep.RunID, Status: status, Counts: rep.Counts, Errors: rep.Errors})
	}
	slugs, err := a.CatalogCategories(ctx)
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		_, _ = finish("failed")
		return rep, err
	}
	rep.Counts.CategoriesTotal = len(slugs)
	complete := true
	for _, slug := range slugs {
		offset := 0
		for range 1000 {
			r, err := a.SyncCatalogPage(ctx, SyncPageInput{Slug: slug, Offset: offset, Limit: 100, SyncedAt: begin.SyncedAt})
			if err != nil {
				complete = false
				rep.Counts.Failed++
				rep.Errors = append(rep.Errors, err.Error())
				break
			}
			c := &rep.Counts
			c.Seen, c.Added, c.Updated, c.Unchanged, c.Failed = c.Seen+r.Seen, c.Added+r.Added, c.Updated+r.Updated, c.Unchanged+r.Unchanged, c.Failed+r.Failed
			rep.Errors = append(rep.Errors, r.Errors...)
			if r.Failed > 0 {
				complete = false
			}
			if !r.HasMore {
				break
			}
			offset = r.NextOffset
		}
		rep.Counts.CategoriesDone++
	}
	link, err := a.LinkZohoItems(ctx, LinkZohoInput{SyncedAt: begin.SyncedAt})
	if err != nil {
		rep.Errors = append(rep.Errors, "zoho: "+err.Error())
		_, _ = finish("failed")
		return rep, err
	}
	rep.Counts.ZohoLinked = link.Linked
	if complete {
		if rep.Counts.Deactivated, err = a.DeactivateMissingProducts(ctx, DeactivateInput{SyncedAt: begin.SyncedAt}); err != nil {
			return rep, err
		}
	}
	for range 1000 {
		emb, err := a.EmbedProducts(ctx, EmbedProductsInput{Max: 512})
		if err != nil {
			rep.Errors = append(rep.Errors, "embeddings: "+err.Error())
			complete = false
			break
		}
		rep.Counts.Embedded += emb.Embedded
		if emb.Remaining == 0 {
			break
		}
	}
	if complete {
		return finish("succeeded")
	}
	return finish("partial")
}
