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

func TestAdminManagesUsersAndEveryWriteIsAudited(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	admin := e.admin()

	// Validation: weak password, bad username, unknown role.
	for _, f := range []url.Values{
		{"username": {"layla"}, "role": {"manager"}, "password": {"short"}},
		{"username": {"bad name!"}, "role": {"manager"}, "password": {"long-enough-password"}},
		{"username": {"layla"}, "role": {"root"}, "password": {"long-enough-password"}},
	} {
		r := admin.post("/console/users", f)
		assert.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
		assert.Contains(t, r.body, `id="user-error"`)
	}
	r := admin.post("/console/users", url.Values{"username": {"layla"}, "display_name": {"Layla"}, "role": {"manager"},
		"password": {"layla-password-1"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	r = admin.post("/console/users", url.Values{"username": {"LAYLA"}, "role": {"manager"}, "password": {"layla-password-1"}})
	assert.Contains(t, r.body, "taken")

	layla := e.client().login("layla", "layla-password-1")
	assert.Equal(t, http.StatusForbidden, layla.get("/console/settings").StatusCode)

	// Disabling the account ends its sessions at once.
	u, err := e.store.UserByName(ctx, "layla")
	require.NoError(t, err)
	r = admin.post("/console/users/"+itoa(u.ID), url.Values{"role": {"manager"}, "disabled": {"on"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.body)
	assert.Equal(t, http.StatusSeeOther, layla.get("/console/conversations").StatusCode, "back to the login page")
	assert.Equal(t, http.StatusUnauthorized, e.client().tryLogin("layla", "layla-password-1").StatusCode)

	// An admin cannot lock themselves out.
	me, err := e.store.UserByName(ctx, adminUser)
	require.NoError(t, err)
	r = admin.post("/console/users/"+itoa(me.ID), url.Values{"role": {"manager"}})
	assert.Equal(t, http.StatusBadRequest, r.StatusCode)

	log, err := e.store.AuditLog(ctx, "user.", 10, 0)
	require.NoError(t, err)
	require.Len(t, log, 2)
	assert.Equal(t, "user.update", log[0].Action)
	assert.Equal(t, adminUser, log[0].Actor)
	assert.Contains(t, string(log[0].Before), `"disabled": false`)
	assert.Contains(t, string(log[0].After), `"disabled": true`)
	assert.NotContains(t, string(log[1].After), "password_hash")
	assert.NotContains(t, string(log[1].After), "$2a$")

	page := admin.get("/console/audit?action=user.")
	assert.Equal(t, 200, page.StatusCode)
	assert.Contains(t, page.body, "user.update")
}

func TestBootstrapAdminFollowsTheConfiguredPassword(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	u, err := e.store.UserByName(ctx, adminUser)
	require.NoError(t, err)
	assert.Equal(t, db.RoleAdmin, u.Role)
	// Demoted and disabled by someone: the next start restores the bootstrap admin.
	_, err = e.store.UpdateUser(ctx, u.ID, db.RoleManager, "", true, "")
	require.NoError(t, err)
	require.NoError(t, e.srv.Console.Bootstrap(ctx))
	u, err = e.store.UserByName(ctx, adminUser)
	require.NoError(t, err)
	assert.Equal(t, db.RoleAdmin, u.Role)
	assert.False(t, u.Disabled)
	e.admin()
}
