package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/internal/app"
	"github.com/treejar/noor/workflows"
)

// runReplay replays workflow histories from the Temporal server against the workflow code
// of this binary: before a deploy, ops check that the new build can continue every running
// conversation (a non-deterministic change fails here, not in production).
func runReplay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	id := fs.String("w", "", "one workflow id to replay (e.g. conversation-<uuid>)")
	query := fs.String("query", `ExecutionStatus = "Running"`, "visibility query selecting the workflows to replay")
	limit := fs.Int("limit", 200, "replay at most this many workflows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	c, err := app.DialTemporal(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer c.Close()

	type target struct{ id, run string }
	var targets []target
	if *id != "" {
		targets = append(targets, target{id: *id})
	} else {
		var token []byte
		for len(targets) < *limit {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: cfg.TemporalNamespace, Query: *query, NextPageToken: token, PageSize: 100})
			if err != nil {
				return fmt.Errorf("list workflows: %w", err)
			}
			for _, e := range resp.Executions {
				if len(targets) < *limit {
					targets = append(targets, target{id: e.Execution.WorkflowId, run: e.Execution.RunId})
				}
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
	}
	r := sdkworker.NewWorkflowReplayer()
	for _, wf := range workflows.All() {
		r.RegisterWorkflowWithOptions(wf.Fn, workflow.RegisterOptions{Name: wf.Name})
	}
	quiet := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	failed := 0
	for _, t := range targets {
		h := &historypb.History{}
		it := c.GetWorkflowHistory(ctx, t.id, t.run, false, 0)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				return fmt.Errorf("history of %s: %w", t.id, err)
			}
			h.Events = append(h.Events, e)
		}
		if err := r.ReplayWorkflowHistory(quiet, h); err != nil {
			failed++
			fmt.Printf("FAIL %s (%d events): %v\n", t.id, len(h.Events), err)
			continue
		}
		fmt.Printf("ok   %s (%d events)\n", t.id, len(h.Events))
	}
	fmt.Printf("%d replayed, %d failed\n", len(targets), failed)
	if failed > 0 {
		return errors.New("some histories do not replay with this build: do not deploy it")
	}
	return nil
}
