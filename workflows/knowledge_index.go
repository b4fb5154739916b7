package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/treejar/noor/activities/knowledge"
)

// KnowledgeIndexInput starts a knowledge-base indexing pass.
type KnowledgeIndexInput struct {
	Bundled bool `json:"bundled"`
}

// KnowledgeIndex (re)indexes the knowledge base; unchanged documents cost nothing.
func KnowledgeIndex(ctx workflow.Context, in KnowledgeIndexInput) (knowledge.Report, error) {
	var a *knowledge.Activities
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Minute, HeartbeatTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
	})
	var rep knowledge.Report
	err := workflow.ExecuteActivity(ctx, a.IndexKnowledgeBase, knowledge.IndexInput{Bundled: in.Bundled}).Get(ctx, &rep)
	return rep, err
}
