package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/prompts"
)

func TestAdminPromptsAPI(t *testing.T) {
	e := newEnv(t, false)
	h := map[string]string{"X-API-Key": apiKey, "X-Actor": "ops@treejar"}

	resp, body := e.do(t, "GET", "/api/v1/admin/prompts/", nil, h)
	require.Equal(t, 200, resp.StatusCode, string(body))
	var list struct {
		Prompts []db.Prompt `json:"prompts"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Prompts, len(prompts.Names()), "seeded from the embedded defaults at startup")
	var system *db.Prompt
	for i := range list.Prompts {
		if list.Prompts[i].Name == "system" {
			system = &list.Prompts[i]
		}
	}
	require.NotNil(t, system, "the system prompt is listed")
	assert.Equal(t, 1, system.ActiveVersion)

	resp, body = e.do(t, "PUT", "/api/v1/admin/prompts/system", strings.NewReader(`{"text":"You are Noor from Treejar.","note":"api edit","expect_version":1}`), h)
	require.Equal(t, 200, resp.StatusCode, string(body))
	var put struct {
		Prompt  db.Prompt `json:"prompt"`
		Created bool      `json:"created_version"`
	}
	require.NoError(t, json.Unmarshal(body, &put))
	assert.True(t, put.Created)
	assert.Equal(t, 2, put.Prompt.ActiveVersion)
	assert.Equal(t, "ops@treejar", put.Prompt.UpdatedBy)

	text, v, err := e.store.Prompt(context.Background(), "system")
	require.NoError(t, err)
	assert.Equal(t, "You are Noor from Treejar.", text)
	assert.Equal(t, 2, v)

	// Idempotent: the same text again creates nothing.
	resp, body = e.do(t, "PUT", "/api/v1/admin/prompts/system", strings.NewReader(`{"text":"You are Noor from Treejar."}`), h)
	require.Equal(t, 200, resp.StatusCode)
	require.NoError(t, json.Unmarshal(body, &put))
	assert.False(t, put.Created)
	assert.Equal(t, 2, put.Prompt.ActiveVersion)

	for _, c := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/api/v1/admin/prompts/system", `{"text":"stale","expect_version":1}`, 409, "conflict"},
		{"/api/v1/admin/prompts/system", `{"text":""}`, 400, "bad_request"},
		{"/api/v1/admin/prompts/system", `{"text":"x","extra":1}`, 400, "bad_request"},
		{"/api/v1/admin/prompts/system", `not json`, 400, "bad_request"},
		{"/api/v1/admin/prompts/nope", `{"text":"x"}`, 404, "not_found"},
	} {
		resp, body := e.do(t, "PUT", c.path, strings.NewReader(c.body), h)
		assert.Equal(t, c.status, resp.StatusCode, c.body)
		var eb struct {
			Error struct{ Code string } `json:"error"`
		}
		require.NoError(t, json.Unmarshal(body, &eb))
		assert.Equal(t, c.code, eb.Error.Code, c.body)
	}

	resp, body = e.do(t, "POST", "/api/v1/admin/prompts/system/rollback", strings.NewReader(`{"version":1}`), h)
	require.Equal(t, 200, resp.StatusCode, string(body))
	resp, body = e.do(t, "GET", "/api/v1/admin/prompts/system", nil, h)
	require.Equal(t, 200, resp.StatusCode)
	var one struct {
		Prompt   db.Prompt          `json:"prompt"`
		Versions []db.PromptVersion `json:"versions"`
	}
	require.NoError(t, json.Unmarshal(body, &one))
	assert.Equal(t, 3, one.Prompt.ActiveVersion)
	def, _ := prompts.Default("system")
	assert.Equal(t, def, one.Prompt.Text)
	assert.Len(t, one.Versions, 3)

	audit, err := e.store.AuditLog(context.Background(), "prompt.", 10, 0)
	require.NoError(t, err)
	require.Len(t, audit, 2)
	assert.Equal(t, "ops@treejar", audit[0].Actor)
	assert.Equal(t, "api", audit[0].Role)

	resp, _ = e.do(t, "PUT", "/api/v1/admin/prompts/system", strings.NewReader(`{"text":"x"}`), map[string]string{"X-API-Key": "wrong"})
	assert.Equal(t, 401, resp.StatusCode)
}

func TestAdminMetricsAPIReturnsTheDashboardNumbers(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	var conv string
	require.NoError(t, e.store.Pool.QueryRow(ctx, `INSERT INTO conversations (channel_id, chat_id) VALUES ('c', '971500000009') RETURNING id::text`).Scan(&conv))
	now := time.Now()
	_, err := e.store.Pool.Exec(ctx, `INSERT INTO messages (conversation_id, direction, author, created_at) VALUES
		($1::uuid, 'in', 'customer', $2), ($1::uuid, 'out', 'noor', $3)`, conv, now.Add(-10*time.Second), now.Add(-4*time.Second))
	require.NoError(t, err)
	_, err = e.store.Pool.Exec(ctx, `INSERT INTO escalations (conversation_id, episode, reason, kind) VALUES ($1::uuid, 1, 'angry', 'complaint')`, conv)
	require.NoError(t, err)

	h := map[string]string{"X-API-Key": apiKey}
	for _, period := range []string{"today", "week", "month"} {
		resp, body := e.do(t, "GET", "/api/v1/admin/metrics/?period="+period, nil, h)
		require.Equal(t, 200, resp.StatusCode, string(body))
		var d db.Dashboard
		require.NoError(t, json.Unmarshal(body, &d))
		assert.Equal(t, period, d.Period.Name)
		assert.Equal(t, 1, d.Conversations)
		assert.Equal(t, 1, d.NewCustomers)
		assert.Equal(t, 1, d.Escalations)
		assert.Equal(t, []db.Count{{Label: "complaint", Count: 1}}, d.EscalationsByReason)
		assert.Equal(t, 1, d.ReplyTime.Count)
		assert.InDelta(t, 6.0, d.ReplyTime.P50, 0.01)
		assert.Equal(t, "local_crm_deals (built-in CRM)", d.Sources["deals"])
	}
	resp, body := e.do(t, "GET", "/api/v1/admin/metrics/?period=decade", nil, h)
	assert.Equal(t, 400, resp.StatusCode)
	assert.Contains(t, string(body), "period")
}
