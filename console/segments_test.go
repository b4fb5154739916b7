package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/db"
)

func TestAdminEditsSegmentsAndManagersCannot(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	admin := e.admin()

	page := admin.get("/console/segments")
	require.Equal(t, 200, page.StatusCode)
	assert.Contains(t, page.body, `data-segment="Wholesale"`, "the seeded segments are listed")

	r := admin.post("/console/segments", url.Values{"name": {"Wholesale"}, "discount_percent": {"12.5"}, "description": {"trade buyers"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	pct, _, err := e.store.SegmentDiscount(ctx, "wholesale")
	require.NoError(t, err)
	assert.Equal(t, 12.5, pct, "the new discount is what quotes use")

	for _, bad := range []url.Values{
		{"name": {"Wholesale"}, "discount_percent": {"75"}},
		{"name": {"Wholesale"}, "discount_percent": {"lots"}},
		{"name": {""}, "discount_percent": {"5"}},
	} {
		r := admin.post("/console/segments", bad)
		assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, bad.Encode())
		assert.Contains(t, r.body, `id="segment-error"`)
	}
	pct, _, err = e.store.SegmentDiscount(ctx, "wholesale")
	require.NoError(t, err)
	assert.Equal(t, 12.5, pct, "nothing half-written")

	r = admin.post("/console/segments", url.Values{"name": {"<script>alert(1)</script>"}, "discount_percent": {"3"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	page = admin.get("/console/segments")
	assert.NotContains(t, page.body, "<script>alert(1)</script>")
	assert.Contains(t, page.body, "&lt;script&gt;alert(1)&lt;/script&gt;")

	log, err := e.store.AuditLog(ctx, "segment.", 10, 0)
	require.NoError(t, err)
	require.Len(t, log, 2)
	assert.Equal(t, "segment.save", log[1].Action)
	assert.Contains(t, string(log[1].Before), `"discount_percent": 15`)
	assert.Contains(t, string(log[1].After), `"discount_percent": 12.5`)

	e.addUser("manager1", db.RoleManager, "manager-password-1")
	manager := e.client().login("manager1", "manager-password-1")
	assert.Equal(t, http.StatusForbidden, manager.get("/console/segments").StatusCode)
	assert.Equal(t, http.StatusForbidden, manager.post("/console/segments", url.Values{"name": {"Wholesale"}, "discount_percent": {"50"}}).StatusCode)
}
