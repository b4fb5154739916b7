package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TurnView is one bot turn of a conversation for the console: the stage it moved, how it
// ended, its totals, and every LLM and tool call it made.
type TurnView struct {
	ID               int64      `json:"id"`
	Seq              int        `json:"seq"`
	Status           string     `json:"status"`
	StageBefore      string     `json:"stage_before"`
	StageAfter       string     `json:"stage_after"`
	Language         string     `json:"language"`
	Note             string     `json:"note"`
	StartedAt        time.Time  `json:"started_at"`
	FinishedAt       *time.Time `json:"finished_at"`
	ReplyMessageID   int64      `json:"reply_message_id"`
	PromptTokens     int        `json:"prompt_tokens"`
	CompletionTokens int        `json:"completion_tokens"`
	CostUSD          float64    `json:"cost_usd"`
	Steps            []TurnStep `json:"steps"`
}

// ConversationTurns returns a conversation's turns in order (at most limit, the latest),
// each with its steps. Running turns have no totals yet, so they are summed from the steps.
func (s *Store) ConversationTurns(ctx context.Context, conversationID string, limit int) ([]TurnView, error) {
	if !isUUID(conversationID) {
		return nil, ErrNotFound
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT * FROM (
		  SELECT t.id, t.seq, t.status, t.stage_before, t.stage_after, t.language, t.note, t.started_at, t.finished_at,
		         coalesce(t.reply_message_id, 0),
		         CASE WHEN t.finished_at IS NULL THEN coalesce(u.p, 0) ELSE t.prompt_tokens END,
		         CASE WHEN t.finished_at IS NULL THEN coalesce(u.c, 0) ELSE t.completion_tokens END,
		         (CASE WHEN t.finished_at IS NULL THEN coalesce(u.cost, 0) ELSE t.cost_usd END)::float8
		  FROM turns t
		  LEFT JOIN LATERAL (SELECT sum(prompt_tokens)::int p, sum(completion_tokens)::int c, sum(cost_usd) cost
		                     FROM turn_steps WHERE turn_id = t.id) u ON true
		  WHERE t.conversation_id = $1::uuid ORDER BY t.seq DESC LIMIT $2) x
		ORDER BY seq`, conversationID, limit)
	if err != nil {
		return nil, fmt.Errorf("list turns: %w", err)
	}
	turns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TurnView, error) {
		var t TurnView
		err := r.Scan(&t.ID, &t.Seq, &t.Status, &t.StageBefore, &t.StageAfter, &t.Language, &t.Note, &t.StartedAt,
			&t.FinishedAt, &t.ReplyMessageID, &t.PromptTokens, &t.CompletionTokens, &t.CostUSD)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list turns: %w", err)
	}
	if len(turns) == 0 {
		return turns, nil
	}
	ids := make([]int64, len(turns))
	byID := make(map[int64]int, len(turns))
	for i, t := range turns {
		ids[i], byID[t.ID] = t.ID, i
	}
	rows, err = s.Pool.Query(ctx, `
		SELECT id, turn_id, round, kind, name, call_id, input, output, summary, model, prompt_tokens,
		       completion_tokens, cost_usd::float8, duration_ms, error, created_at
		FROM turn_steps WHERE turn_id = ANY($1)
		ORDER BY turn_id, round, CASE kind WHEN 'llm' THEN 0 ELSE 1 END, id`, ids)
	if err != nil {
		return nil, fmt.Errorf("list turn steps: %w", err)
	}
	steps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TurnStep, error) {
		var t TurnStep
		err := r.Scan(&t.ID, &t.TurnID, &t.Round, &t.Kind, &t.Name, &t.CallID, &t.Input, &t.Output, &t.Summary,
			&t.Model, &t.PromptTokens, &t.CompletionTokens, &t.CostUSD, &t.DurationMS, &t.Error, &t.CreatedAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list turn steps: %w", err)
	}
	for _, st := range steps {
		i := byID[st.TurnID]
		turns[i].Steps = append(turns[i].Steps, st)
	}
	return turns, nil
}
