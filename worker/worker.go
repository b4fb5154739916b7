// Package worker registers every workflow and activity on one task queue and runs it.
package worker

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/activities"
	"github.com/treejar/noor/workflows"
)

// Register puts every workflow and activity of the product on w. Tests call it too, so a
// test worker is the production worker.
func Register(w sdkworker.Registry, acts *activities.Set) {
	for _, wf := range workflows.All() {
		w.RegisterWorkflowWithOptions(wf.Fn, workflow.RegisterOptions{Name: wf.Name})
	}
	for _, a := range acts.All() {
		w.RegisterActivity(a)
	}
}

// Options tunes the worker; zero values are sensible.
type Options struct {
	TaskQueue string
	// MaxConcurrentActivities bounds parallel activity executions (LLM calls dominate).
	MaxConcurrentActivities int
}

// Run starts a worker and blocks until ctx is cancelled, then stops it gracefully
// (in-flight activities get WorkerStopTimeout to finish).
func Run(ctx context.Context, c client.Client, acts *activities.Set, o Options, log *slog.Logger) error {
	if o.MaxConcurrentActivities == 0 {
		o.MaxConcurrentActivities = 100
	}
	w := sdkworker.New(c, o.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize: o.MaxConcurrentActivities,
		// Many short workflow and activity tasks per turn: more pollers cut the queueing
		// when many chats are answered at once (see BENCHMARKS.md).
		MaxConcurrentWorkflowTaskPollers: 8,
		MaxConcurrentActivityTaskPollers: 8,
		WorkerStopTimeout:                10e9,
	})
	Register(w, acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker on task queue %s: %w", o.TaskQueue, err)
	}
	log.Info("worker polling", "task_queue", o.TaskQueue)
	<-ctx.Done()
	w.Stop()
	log.Info("worker stopped")
	return nil
}
