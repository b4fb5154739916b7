package workflows_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/workflows"
)

// Histories of real runs (recorded with NOOR_RECORD_HISTORIES=workflows/testdata/histories
// by the integration tests) are replayed against today's workflow code: a change that would
// break conversations already running in production fails here.
func TestReplayCommittedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 2, "committed histories under workflows/testdata/histories")
	r := worker.NewWorkflowReplayer()
	for _, wf := range workflows.All() {
		r.RegisterWorkflowWithOptions(wf.Fn, workflow.RegisterOptions{Name: wf.Name})
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
