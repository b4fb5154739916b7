package console

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/db"
)

type escalationView struct {
	db.EscalationRow
	Age     time.Duration
	OverSLA bool
}

func (cs *Console) escalations(c echo.Context) error {
	ctx := c.Request().Context()
	status := c.QueryParam("status")
	if status == "" {
		status = "pending"
	}
	if status != "all" && !slices.Contains(db.EscalationStatuses, status) {
		return badRequest("Unknown status %q.", status)
	}
	f := db.EscalationRowFilter{Status: status, Limit: 200}
	if status == "all" {
		f.Status = ""
	}
	rows, err := cs.Store.ListEscalationRows(ctx, f)
	if err != nil {
		return err
	}
	counts, err := cs.Store.EscalationCounts(ctx)
	if err != nil {
		return err
	}
	rec, err := cs.Store.Settings(ctx)
	if err != nil {
		return err
	}
	sla := rec.Settings.Escalation.SLA.D()
	now := cs.Now()
	views := make([]escalationView, len(rows))
	for i, e := range rows {
		v := escalationView{EscalationRow: e}
		// Age against the SLA: time to the first manager response (take), or until now
		// while nobody has taken it.
		switch {
		case e.TakenAt != nil:
			v.Age = e.TakenAt.Sub(e.CreatedAt)
		case e.ResolvedAt != nil:
			v.Age = e.ResolvedAt.Sub(e.CreatedAt)
		default:
			v.Age = now.Sub(e.CreatedAt)
		}
		v.OverSLA = v.Age > sla
		views[i] = v
	}
	return cs.render(c, http.StatusOK, "escalations", "Escalations", "escalations", map[string]any{
		"Rows": views, "Status": status, "Counts": counts, "SLA": sla,
		"Statuses": append(slices.Clone(db.EscalationStatuses), "all"), "ActionsAvailable": cs.Escalations != nil,
	})
}

func (cs *Console) escalationAction(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	if cs.Escalations == nil {
		return &httpError{http.StatusNotImplemented, "Taking and resolving escalations is not available in this process."}
	}
	ctx := c.Request().Context()
	note := strings.TrimSpace(c.FormValue("note"))
	if utf8.RuneCountInString(note) > 4000 {
		return badRequest("The note is limited to 4000 characters.")
	}
	action := c.Param("action")
	switch action {
	case "take":
		err = cs.Escalations.Take(ctx, id, actorOf(c))
	case "resolve":
		err = cs.Escalations.Resolve(ctx, id, actorOf(c), note)
	default:
		return errNotFound
	}
	if err != nil {
		return err
	}
	if err := cs.Store.Audit(ctx, auditEntry(c, "escalation."+action, strconv.FormatInt(id, 10)), nil,
		map[string]any{"note": note}); err != nil {
		return err
	}
	ok := map[string]string{"take": "taken", "resolve": "resolved"}[action]
	return c.Redirect(http.StatusSeeOther, "/console/escalations?status=all&ok="+ok)
}

func (cs *Console) catalog(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(1, min(page, 10000))
	f := db.ProductFilter{Text: q.Get("q"), Category: q.Get("category"), Zoho: q.Get("zoho"), Limit: pageSize,
		Offset: (page - 1) * pageSize}
	if err := checkSearch(f.Text); err != nil {
		return err
	}
	if f.Zoho != "" && !slices.Contains([]string{"linked", "unlinked", "mismatch"}, f.Zoho) {
		return badRequest("Unknown Zoho link state %q.", f.Zoho)
	}
	yesNo := func(name string) (*bool, error) {
		switch q.Get(name) {
		case "":
			return nil, nil
		case "yes":
			b := true
			return &b, nil
		case "no":
			b := false
			return &b, nil
		}
		return nil, badRequest("%s must be yes or no.", name)
	}
	var err error
	if f.InStock, err = yesNo("in_stock"); err != nil {
		return err
	}
	if f.Active, err = yesNo("active"); err != nil {
		return err
	}
	rows, total, err := cs.Store.ListProducts(ctx, f)
	if err != nil {
		return err
	}
	cats, err := cs.Store.ProductCategories(ctx)
	if err != nil {
		return err
	}
	pages := (total + pageSize - 1) / pageSize
	pageLink := func(n int) template.URL {
		v := url.Values{}
		for _, k := range []string{"q", "category", "in_stock", "active", "zoho"} {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		v.Set("page", strconv.Itoa(n))
		return template.URL(v.Encode()) //nolint:gosec // encoded by url.Values
	}
	data := map[string]any{"Rows": rows, "Total": total, "Cats": cats, "Q": q, "Page": page, "Pages": pages,
		"HasPrev": page > 1, "HasNext": page < pages, "PrevQuery": pageLink(page - 1), "NextQuery": pageLink(page + 1),
		"SyncAvailable": cs.Catalog != nil}
	if err := cs.syncData(c, data); err != nil {
		return err
	}
	return cs.render(c, http.StatusOK, "catalog", "Catalog", "catalog", data)
}

// providerView is one integration on the providers panel.
type providerView struct {
	Name, Using string
	Live        bool
	Status      db.ProviderStatus
	Recorded    bool
}

// localProviders are the names config.Providers reports for the built-in fallbacks.
var localProviders = []string{"simulator", "not-configured", "offline-hashed-ngrams", "local", "bundled-snapshot", "console"}

func (cs *Console) providers(c echo.Context) error {
	statuses, err := cs.Store.ProviderStatuses(c.Request().Context())
	if err != nil {
		return err
	}
	var list []providerView
	for name, using := range cs.Config.Providers() {
		st, ok := statuses[name]
		list = append(list, providerView{Name: name, Using: using, Live: !slices.Contains(localProviders, using),
			Status: st, Recorded: ok})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return cs.render(c, http.StatusOK, "providers", "Providers", "providers", map[string]any{"Rows": list})
}

func (cs *Console) users(c echo.Context) error {
	list, err := cs.Store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return cs.render(c, http.StatusOK, "users", "Users", "users", map[string]any{"Rows": list,
		"Roles": []string{db.RoleManager, db.RoleAdmin}, "Error": "", "Form": map[string]string{}})
}

func (cs *Console) userCreate(c echo.Context) error {
	ctx := c.Request().Context()
	u := db.User{Username: strings.TrimSpace(c.FormValue("username")), DisplayName: strings.TrimSpace(c.FormValue("display_name")),
		Role: c.FormValue("role")}
	fail := func(msg string) error {
		list, err := cs.Store.Users(ctx)
		if err != nil {
			return err
		}
		return cs.render(c, http.StatusUnprocessableEntity, "users", "Users", "users", map[string]any{"Rows": list,
			"Roles": []string{db.RoleManager, db.RoleAdmin}, "Error": msg,
			"Form": map[string]string{"username": u.Username, "display_name": u.DisplayName, "role": u.Role}})
	}
	if u.Role != db.RoleAdmin && u.Role != db.RoleManager {
		return fail("Role must be admin or manager.")
	}
	if !validUsername(u.Username) {
		return fail("Username: 2–64 letters, digits, dots, dashes, underscores or @.")
	}
	if len(u.DisplayName) > 100 {
		return fail("Display name: at most 100 characters.")
	}
	hash, err := cs.hashPassword(c.FormValue("password"))
	if err != nil {
		return fail("Password: " + err.Error() + ".")
	}
	u.PasswordHash = hash
	created, err := cs.Store.CreateUser(ctx, u)
	if errors.Is(err, db.ErrDuplicate) {
		return fail("That username is taken.")
	}
	if err != nil {
		return err
	}
	if err := cs.Store.Audit(ctx, auditEntry(c, "user.create", created.Username), nil, created); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/users?ok=created")
}

func validUsername(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return false
		}
	}
	return true
}

func (cs *Console) userUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	before, err := cs.Store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	if role != db.RoleAdmin && role != db.RoleManager {
		return badRequest("Role must be admin or manager.")
	}
	disabled := c.FormValue("disabled") == "on"
	if id == actorOf(c).ID && (disabled || role != db.RoleAdmin) {
		return badRequest("You cannot disable yourself or remove your own admin role.")
	}
	hash := ""
	if pw := c.FormValue("password"); pw != "" {
		if hash, err = cs.hashPassword(pw); err != nil {
			return badRequest("Password: %v.", err)
		}
	}
	after, err := cs.Store.UpdateUser(ctx, id, role, strings.TrimSpace(c.FormValue("display_name")), disabled, hash)
	if err != nil {
		return err
	}
	after2 := map[string]any{"user": after, "password_changed": hash != ""}
	if err := cs.Store.Audit(ctx, auditEntry(c, "user.update", after.Username), before, after2); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/users?ok=updated")
}

func (cs *Console) auditLog(c echo.Context) error {
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = max(1, min(page, 10000))
	prefix := c.QueryParam("action")
	if err := checkSearch(prefix); err != nil {
		return err
	}
	list, err := cs.Store.AuditLog(c.Request().Context(), prefix, 100, (page-1)*100)
	if err != nil {
		return err
	}
	return cs.render(c, http.StatusOK, "audit", "Audit log", "audit", map[string]any{"Rows": list, "Action": prefix,
		"Page": page, "HasNext": len(list) == 100})
}
