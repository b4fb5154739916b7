package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// FollowUp is one follow-up chain (see migration 00031).
type FollowUp struct {
	ID             int64      `json:"id"`
	ChainKey       string     `json:"chain_key"`
	ConversationID string     `json:"conversation_id"`
	Kind           string     `json:"kind"`
	Ref            string     `json:"ref,omitempty"`
	WorkflowID     string     `json:"workflow_id"`
	State          string     `json:"state"`
	Outcome        string     `json:"outcome,omitempty"`
	OutcomeDetail  string     `json:"outcome_detail,omitempty"`
	StepsSent      int        `json:"steps_sent"`
	NextAt         *time.Time `json:"next_at,omitempty"`
	PausedUntil    *time.Time `json:"paused_until,omitempty"`
	StartedAt      time.Time  `json:"started_at"`
	FinishedAt     *time.Time `json:"finished_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// FollowUpStep is one step a chain sent, blocked, skipped or deferred.
type FollowUpStep struct {
	Step           int       `json:"step"`
	DueAt          time.Time `json:"due_at"`
	Status         string    `json:"status"`
	Mode           string    `json:"mode,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	IdempotencyKey string    `json:"idempotency_key"`
	MessageID      int64     `json:"message_id,omitempty"`
	RecordedAt     time.Time `json:"recorded_at"`
}

const followUpCols = `id, chain_key, conversation_id::text, kind, ref, workflow_id, state, outcome, outcome_detail,
	steps_sent, next_at, paused_until, started_at, finished_at, created_at, updated_at`

func scanFollowUp(r pgx.Row) (FollowUp, error) {
	var f FollowUp
	err := r.Scan(&f.ID, &f.ChainKey, &f.ConversationID, &f.Kind, &f.Ref, &f.WorkflowID, &f.State, &f.Outcome,
		&f.OutcomeDetail, &f.StepsSent, &f.NextAt, &f.PausedUntil, &f.StartedAt, &f.FinishedAt, &f.CreatedAt, &f.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, ErrNotFound
	}
	return f, err
}

// StartFollowUpParams identifies a chain.
type StartFollowUpParams struct {
	ChainKey       string
	ConversationID string
	Kind           string
	Ref            string
	WorkflowID     string
	StartedAt      time.Time
}

// StartFollowUp records a chain once per chain key and returns it.
func (s *Store) StartFollowUp(ctx context.Context, p StartFollowUpParams) (FollowUp, error) {
	f, err := scanFollowUp(s.Pool.QueryRow(ctx, `
		INSERT INTO follow_ups (chain_key, conversation_id, kind, ref, workflow_id, started_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (chain_key) DO UPDATE SET workflow_id = EXCLUDED.workflow_id
		RETURNING `+followUpCols, p.ChainKey, p.ConversationID, p.Kind, p.Ref, p.WorkflowID, p.StartedAt))
	if err != nil {
		return f, fmt.Errorf("start follow-up %s: %w", p.ChainKey, err)
	}
	return f, nil
}

// FollowUpByID returns one chain.
func (s *Store) FollowUpByID(ctx context.Context, id int64) (FollowUp, error) {
	f, err := scanFollowUp(s.Pool.QueryRow(ctx, `SELECT `+followUpCols+` FROM follow_ups WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("read follow-up %d: %w", id, err)
	}
	return f, err
}

// ScheduleFollowUp records when the next step is due, and whether the chain is paused.
func (s *Store) ScheduleFollowUp(ctx context.Context, id int64, nextAt time.Time, pausedUntil *time.Time) error {
	state := "active"
	if pausedUntil != nil {
		state = "paused"
	}
	_, err := s.Pool.Exec(ctx, `UPDATE follow_ups SET next_at = $2, paused_until = coalesce($3, paused_until), state = $4,
		updated_at = now() WHERE id = $1 AND state <> 'finished'`, id, nextAt, pausedUntil, state)
	if err != nil {
		return fmt.Errorf("schedule follow-up %d: %w", id, err)
	}
	return nil
}

// FinishFollowUp records the outcome once; later calls do not overwrite it.
func (s *Store) FinishFollowUp(ctx context.Context, id int64, outcome, detail string, at time.Time) (FollowUp, error) {
	_, err := s.Pool.Exec(ctx, `UPDATE follow_ups SET state = 'finished', outcome = $2, outcome_detail = left($3, 1000),
		finished_at = $4, next_at = NULL, updated_at = now() WHERE id = $1 AND state <> 'finished'`, id, outcome, detail, at)
	if err != nil {
		return FollowUp{}, fmt.Errorf("finish follow-up %d: %w", id, err)
	}
	return s.FollowUpByID(ctx, id)
}

// RecordFollowUpStep stores what happened to a step. A step recorded as sent stays sent,
// and steps_sent counts each step once.
func (s *Store) RecordFollowUpStep(ctx context.Context, followUpID int64, st FollowUpStep) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		var prev string
		err := tx.QueryRow(ctx, `SELECT status FROM follow_up_steps WHERE follow_up_id = $1 AND step = $2 FOR UPDATE`,
			followUpID, st.Step).Scan(&prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read follow-up step: %w", err)
		}
		if prev == "sent" {
			return nil
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO follow_up_steps (follow_up_id, step, due_at, status, mode, reason, idempotency_key, message_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, nullif($8, 0))
			ON CONFLICT (follow_up_id, step) DO UPDATE SET due_at = EXCLUDED.due_at, status = EXCLUDED.status,
			    mode = EXCLUDED.mode, reason = EXCLUDED.reason, idempotency_key = EXCLUDED.idempotency_key,
			    message_id = EXCLUDED.message_id, recorded_at = now()`,
			followUpID, st.Step, st.DueAt, st.Status, st.Mode, st.Reason, st.IdempotencyKey, st.MessageID)
		if err != nil {
			return fmt.Errorf("record follow-up step: %w", err)
		}
		if st.Status == "sent" {
			if _, err := tx.Exec(ctx, `UPDATE follow_ups SET steps_sent = steps_sent + 1, updated_at = now() WHERE id = $1`, followUpID); err != nil {
				return fmt.Errorf("count follow-up step: %w", err)
			}
		}
		return nil
	})
}

// FollowUpSteps lists a chain's steps in order.
func (s *Store) FollowUpSteps(ctx context.Context, followUpID int64) ([]FollowUpStep, error) {
	rows, err := s.Pool.Query(ctx, `SELECT step, due_at, status, mode, reason, idempotency_key, coalesce(message_id, 0), recorded_at
		FROM follow_up_steps WHERE follow_up_id = $1 ORDER BY step`, followUpID)
	if err != nil {
		return nil, fmt.Errorf("list follow-up steps: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FollowUpStep, error) {
		var st FollowUpStep
		err := r.Scan(&st.Step, &st.DueAt, &st.Status, &st.Mode, &st.Reason, &st.IdempotencyKey, &st.MessageID, &st.RecordedAt)
		return st, err
	})
}

// FollowUpFilter narrows ListFollowUps.
type FollowUpFilter struct {
	ConversationID string
	Kind           string
	State          string // active | paused | finished | "" (all)
	Limit          int
	BeforeID       int64
}

// ListFollowUps returns chains, newest first.
func (s *Store) ListFollowUps(ctx context.Context, f FollowUpFilter) ([]FollowUp, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+followUpCols+` FROM follow_ups
		WHERE ($1 = '' OR conversation_id = nullif($1, '')::uuid) AND ($2 = '' OR kind = $2) AND ($3 = '' OR state = $3)
		  AND ($4 = 0 OR id < $4)
		ORDER BY id DESC LIMIT $5`, f.ConversationID, f.Kind, f.State, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list follow-ups: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FollowUp, error) { return scanFollowUp(r) })
}

// Feedback is the post-delivery feedback of one order.
type Feedback struct {
	ID             int64     `json:"id"`
	ConversationID string    `json:"conversation_id"`
	OrderRef       string    `json:"order_ref,omitempty"`
	Overall        *int      `json:"overall,omitempty"`
	Delivery       *int      `json:"delivery,omitempty"`
	WouldRecommend *bool     `json:"would_recommend,omitempty"`
	Comment        string    `json:"comment,omitempty"`
	Language       string    `json:"language,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// SaveFeedback merges answers into the order's feedback row: fields given (non-nil, or a
// non-empty comment) replace stored ones, others are kept — customers answer in pieces.
func (s *Store) SaveFeedback(ctx context.Context, f Feedback) (Feedback, error) {
	var out Feedback
	err := s.Pool.QueryRow(ctx, `
		INSERT INTO feedback (conversation_id, order_ref, overall, delivery, would_recommend, comment, language)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (conversation_id, order_ref) DO UPDATE SET
		    overall = coalesce(EXCLUDED.overall, feedback.overall),
		    delivery = coalesce(EXCLUDED.delivery, feedback.delivery),
		    would_recommend = coalesce(EXCLUDED.would_recommend, feedback.would_recommend),
		    comment = CASE WHEN EXCLUDED.comment = '' THEN feedback.comment ELSE EXCLUDED.comment END,
		    language = CASE WHEN EXCLUDED.language = '' THEN feedback.language ELSE EXCLUDED.language END,
		    updated_at = now()
		RETURNING id, conversation_id::text, order_ref, overall, delivery, would_recommend, comment, language, created_at, updated_at`,
		f.ConversationID, f.OrderRef, f.Overall, f.Delivery, f.WouldRecommend, f.Comment, f.Language).
		Scan(&out.ID, &out.ConversationID, &out.OrderRef, &out.Overall, &out.Delivery, &out.WouldRecommend, &out.Comment,
			&out.Language, &out.CreatedAt, &out.UpdatedAt)
	if err != nil {
		return out, fmt.Errorf("save feedback: %w", err)
	}
	return out, nil
}
