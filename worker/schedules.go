package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/workflows"
)

// EnsureCatalogSyncSchedule creates or updates the Temporal Schedule that runs the catalog
// sync every `every` (overlapping runs are skipped; a manual sync running at the same time
// makes the scheduled one end as "skipped"). every == 0 pauses the schedule.
func EnsureCatalogSyncSchedule(ctx context.Context, c client.Client, taskQueue string, every time.Duration, log *slog.Logger) error {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	paused := every == 0
	if paused {
		spec = client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}}
	}
	action := &client.ScheduleWorkflowAction{
		ID:                       workflows.Singleton(workflows.CatalogSyncWorkflowID, taskQueue) + "-scheduled",
		Workflow:                 workflows.CatalogSyncWorkflowName,
		Args:                     []any{workflows.CatalogSyncInput{Trigger: "schedule"}},
		TaskQueue:                taskQueue,
		WorkflowExecutionTimeout: 2 * time.Hour,
	}
	note := "catalog sync: Treejar catalog → products, Zoho stock, embeddings"
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: workflows.Singleton(workflows.CatalogSyncScheduleID, taskQueue), Spec: spec, Action: action, Paused: paused, Note: note,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: time.Hour,
	})
	var exists *serviceerror.AlreadyExists
	if err == nil {
		log.Info("catalog sync schedule created", "every", every, "paused", paused)
		return nil
	}
	if !errors.As(err, &exists) && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create catalog sync schedule: %w", err)
	}
	h := c.ScheduleClient().GetHandle(ctx, workflows.Singleton(workflows.CatalogSyncScheduleID, taskQueue))
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Spec = &spec
		s.Action = action
		if s.Policy == nil {
			s.Policy = &client.SchedulePolicies{}
		}
		s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
		if s.State == nil {
			s.State = &client.ScheduleState{}
		}
		s.State.Paused = paused
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return fmt.Errorf("update catalog sync schedule: %w", err)
	}
	log.Info("catalog sync schedule updated", "every", every, "paused", paused)
	return nil
}
