package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/testenv"
)

func newConversation(t *testing.T, s *db.Store) string {
	var id string
	require.NoError(t, s.Pool.QueryRow(context.Background(),
		`INSERT INTO conversations (channel_id, chat_id) VALUES ('c', '971500000009') RETURNING id::text`).Scan(&id))
	return id
}

func TestEscalationTransitionsOnlyMoveForward(t *testing.T) {
	s := testenv.DB(t)
	ctx := context.Background()
	conv := newConversation(t, s)
	t0 := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	e, err := s.OpenEscalation(ctx, db.OpenEscalationParams{ConversationID: conv, Episode: 1, Reason: "r", At: t0})
	require.NoError(t, err)
	assert.Equal(t, "pending", e.Status)
	assert.Equal(t, "other", e.Kind)

	e, err = s.TakeEscalation(ctx, e.ID, "Sara", "telegram", t0.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "in_progress", e.Status)
	e, err = s.TakeEscalation(ctx, e.ID, "Omar", "api", t0.Add(2*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "Sara", e.TakenBy, "the first taker keeps it")

	e, err = s.ResolveEscalation(ctx, e.ID, "Sara", "api", "done", t0.Add(3*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "resolved", e.Status)
	e, err = s.ResolveEscalation(ctx, e.ID, "Omar", "api", "overwrite?", t0.Add(4*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "done", e.ResolutionNote, "a second resolve changes nothing")
	e, err = s.TakeEscalation(ctx, e.ID, "Omar", "api", t0.Add(5*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "resolved", e.Status)

	open, err := s.ListEscalations(ctx, db.EscalationFilter{Status: "open"})
	require.NoError(t, err)
	assert.Empty(t, open)
}

func TestFollowUpStepsCountOnceAndFinishOnce(t *testing.T) {
	s := testenv.DB(t)
	ctx := context.Background()
	conv := newConversation(t, s)
	f, err := s.StartFollowUp(ctx, db.StartFollowUpParams{ChainKey: conv + ":quote:SO-1", ConversationID: conv, Kind: "quote", Ref: "SO-1",
		WorkflowID: "wf", StartedAt: time.Now()})
	require.NoError(t, err)
	again, err := s.StartFollowUp(ctx, db.StartFollowUpParams{ChainKey: conv + ":quote:SO-1", ConversationID: conv, Kind: "quote", Ref: "SO-1",
		WorkflowID: "wf", StartedAt: time.Now()})
	require.NoError(t, err)
	assert.Equal(t, f.ID, again.ID)

	due := time.Now().Truncate(time.Second)
	deferred := db.FollowUpStep{Step: 0, DueAt: due, Status: "deferred", IdempotencyKey: "k0"}
	sent := db.FollowUpStep{Step: 0, DueAt: due, Status: "sent", Mode: "free_text", IdempotencyKey: "k0", MessageID: 5}
	for _, st := range []db.FollowUpStep{deferred, sent, sent, deferred} {
		require.NoError(t, s.RecordFollowUpStep(ctx, f.ID, st))
	}
	f, err = s.FollowUpByID(ctx, f.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, f.StepsSent, "a retried 'sent' is counted once")
	steps, err := s.FollowUpSteps(ctx, f.ID)
	require.NoError(t, err)
	require.Len(t, steps, 1)
	assert.Equal(t, "sent", steps[0].Status, "a sent step stays sent")

	f, err = s.FinishFollowUp(ctx, f.ID, "replied", "thanks", time.Now())
	require.NoError(t, err)
	assert.Equal(t, "finished", f.State)
	f, err = s.FinishFollowUp(ctx, f.ID, "no_response", "", time.Now())
	require.NoError(t, err)
	assert.Equal(t, "replied", f.Outcome, "the first outcome stands")
}

func TestNotificationKeyIsUnique(t *testing.T) {
	s := testenv.DB(t)
	ctx := context.Background()
	n1, created, err := s.CreateNotification(ctx, db.NewNotification{Key: "k", Kind: "x", Title: "t", Channel: "console"})
	require.NoError(t, err)
	assert.True(t, created)
	n2, created, err := s.CreateNotification(ctx, db.NewNotification{Key: "k", Kind: "x", Title: "other", Channel: "console"})
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, n1.ID, n2.ID)
	assert.Equal(t, "t", n2.Title)
}
