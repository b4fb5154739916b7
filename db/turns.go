package db

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BeginTurn creates (or, on a retry, returns) the turn for a conversation's seq.
func (s *Store) BeginTurn(ctx context.Context, conversationID string, seq int, messageIDs []int64, stage string, debounceClosedAt time.Time) (int64, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `
		INSERT INTO turns (conversation_id, seq, message_ids, stage_before, debounce_closed_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (conversation_id, seq) DO UPDATE SET message_ids = EXCLUDED.message_ids
		RETURNING id`, conversationID, seq, messageIDs, stage, debounceClosedAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("begin turn: %w", err)
	}
	_, err = s.Pool.Exec(ctx, `UPDATE messages SET turn_id = $1 WHERE id = ANY($2) AND turn_id IS NULL`, id, messageIDs)
	return id, err
}

// TurnStep is one LLM call or tool call of a turn.
type TurnStep struct {
	ID               int64           `json:"id"`
	TurnID           int64           `json:"turn_id"`
	Round            int             `json:"round"`
	Kind             string          `json:"kind"` // llm | tool
	Name             string          `json:"name"`
	CallID           string          `json:"call_id"`
	Input            json.RawMessage `json:"input"`
	Output           json.RawMessage `json:"output"`
	Summary          string          `json:"summary"`
	Model            string          `json:"model"`
	PromptTokens     int             `json:"prompt_tokens"`
	CompletionTokens int             `json:"completion_tokens"`
	CostUSD          float64         `json:"cost_usd"`
	DurationMS       int             `json:"duration_ms"`
	Error            string          `json:"error"`
	CreatedAt        time.Time       `json:"created_at"`
}

// SaveTurnStep writes a step; a retried activity overwrites its own step.
func (s *Store) SaveTurnStep(ctx context.Context, st TurnStep) (int64, error) {
	if len(st.Input) == 0 {
		st.Input = json.RawMessage(`{}`)
	}
	if len(st.Output) == 0 {
		st.Output = json.RawMessage(`{}`)
	}
	var id int64
	err := s.Pool.QueryRow(ctx, `
		INSERT INTO turn_steps (turn_id, round, kind, name, call_id, input, output, summary, model, prompt_tokens,
		                        completion_tokens, cost_usd, duration_ms, error)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
		ON CONFLICT (turn_id, kind, round, call_id) DO UPDATE SET name = EXCLUDED.name, input = EXCLUDED.input,
		    output = EXCLUDED.output, summary = EXCLUDED.summary, model = EXCLUDED.model,
		    prompt_tokens = EXCLUDED.prompt_tokens, completion_tokens = EXCLUDED.completion_tokens,
		    cost_usd = EXCLUDED.cost_usd, duration_ms = EXCLUDED.duration_ms, error = EXCLUDED.error
		RETURNING id`,
		st.TurnID, st.Round, st.Kind, st.Name, st.CallID, st.Input, st.Output, st.Summary, st.Model,
		st.PromptTokens, st.CompletionTokens, st.CostUSD, st.DurationMS, st.Error).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("save turn step: %w", err)
	}
	return id, nil
}

// TurnSteps lists a turn's steps in order.
func (s *Store) TurnSteps(ctx context.Context, turnID int64) ([]TurnStep, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT id, turn_id, round, kind, name, call_id, input, output, summary, model, prompt_tokens,
		       completion_tokens, cost_usd::float8, duration_ms, error, created_at
		FROM turn_steps WHERE turn_id = $1 ORDER BY round, CASE kind WHEN 'llm' THEN 0 ELSE 1 END, id`, turnID)
	if err != nil {
		return nil, fmt.Errorf("list turn steps: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TurnStep, error) {
		var t TurnStep
		err := r.Scan(&t.ID, &t.TurnID, &t.Round, &t.Kind, &t.Name, &t.CallID, &t.Input, &t.Output, &t.Summary,
			&t.Model, &t.PromptTokens, &t.CompletionTokens, &t.CostUSD, &t.DurationMS, &t.Error, &t.CreatedAt)
		return t, err
	})
}

// TurnStep reads one step.
func (s *Store) TurnStep(ctx context.Context, id int64) (TurnStep, error) {
	var t TurnStep
	err := s.Pool.QueryRow(ctx, `
		SELECT id, turn_id, round, kind, name, call_id, input, output, summary, model, prompt_tokens,
		       completion_tokens, cost_usd::float8, duration_ms, error, created_at
		FROM turn_steps WHERE id = $1`, id).Scan(&t.ID, &t.TurnID, &t.Round, &t.Kind, &t.Name, &t.CallID, &t.Input,
		&t.Output, &t.Summary, &t.Model, &t.PromptTokens, &t.CompletionTokens, &t.CostUSD, &t.DurationMS, &t.Error, &t.CreatedAt)
	if err == pgx.ErrNoRows {
		return t, ErrNotFound
	}
	return t, err
}

// TurnUsage sums a turn's LLM usage.
func (s *Store) TurnUsage(ctx context.Context, turnID int64) (model string, prompt, completion int, cost float64, err error) {
	err = s.Pool.QueryRow(ctx, `
		SELECT coalesce(max(model) FILTER (WHERE kind = 'llm'), ''), coalesce(sum(prompt_tokens), 0),
		       coalesce(sum(completion_tokens), 0), coalesce(sum(cost_usd), 0)::float8
		FROM turn_steps WHERE turn_id = $1`, turnID).Scan(&model, &prompt, &completion, &cost)
	return
}

// FinishTurn closes a turn with its outcome and totals.
func (s *Store) FinishTurn(ctx context.Context, turnID int64, status, stageAfter, language, note string, replyMessageID int64) error {
	var reply *int64
	if replyMessageID > 0 {
		reply = &replyMessageID
	}
	_, err := s.Pool.Exec(ctx, `
		UPDATE turns t SET status = $2, stage_after = $3, language = $4, note = $5,
		    reply_message_id = coalesce($6, t.reply_message_id), finished_at = now(),
		    prompt_tokens = u.p, completion_tokens = u.c, cost_usd = u.cost
		FROM (SELECT coalesce(sum(prompt_tokens), 0) p, coalesce(sum(completion_tokens), 0) c, coalesce(sum(cost_usd), 0) cost
		      FROM turn_steps WHERE turn_id = $1) u
		WHERE t.id = $1`, turnID, status, stageAfter, language, note, reply)
	if err != nil {
		return fmt.Errorf("finish turn: %w", err)
	}
	return nil
}

// MarkTurnTime stamps one of the turn's latency checkpoints (reply_ready_at, send_started_at).
func (s *Store) MarkTurnTime(ctx context.Context, turnID int64, column string) error {
	switch column {
	case "reply_ready_at", "send_started_at":
	default:
		return fmt.Errorf("unknown turn checkpoint %q", column)
	}
	_, err := s.Pool.Exec(ctx, `UPDATE turns SET `+column+` = coalesce(`+column+`, now()) WHERE id = $1`, turnID)
	return err
}
