package console

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/db"
)

// The catalog sync, the knowledge base and the notifications log: what the console shows
// comes from PostgreSQL; starting a sync or an index goes through the seams.

// syncView is a catalog sync run with its progress as a percentage.
type syncView struct {
	db.SyncRun
	Percent int
}

// syncPercent turns a run's phase and counts into a percentage for the progress bar. The
// product pages are most of the work, so they take 5–80 %; the later phases have no
// totals and get fixed steps. A run that ended is at 100 % whatever its status.
func syncPercent(r db.SyncRun) int {
	if r.Status != "" && r.Status != "running" {
		return 100
	}
	switch r.Phase {
	case "starting", "":
		return 2
	case "products":
		if c := r.Counts; c.CategoriesTotal > 0 {
			return 5 + 75*min(c.CategoriesDone, c.CategoriesTotal)/c.CategoriesTotal
		}
		return 5
	case "zoho":
		return 82
	case "deactivating":
		return 88
	case "embedding":
		return 92
	}
	return 99 // "done" while the status is being written
}

var runIDRe = regexp.MustCompile(`^[0-9a-fA-F-]{1,64}$`)

// syncRun reads a run; a run whose workflow started but whose first activity has not
// written its row yet shows as starting.
func (cs *Console) syncRun(c echo.Context, id string) (syncView, error) {
	if !runIDRe.MatchString(id) {
		return syncView{}, errNotFound
	}
	r, err := cs.Store.SyncRun(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		r = db.SyncRun{ID: id, Status: "running", Phase: "starting", Errors: []string{}}
	} else if err != nil {
		return syncView{}, err
	}
	return syncView{SyncRun: r, Percent: syncPercent(r)}, nil
}

// syncData adds the sync history and the run being watched (?run=) to the catalog page.
func (cs *Console) syncData(c echo.Context, data map[string]any) error {
	hist, err := cs.Store.SyncRuns(c.Request().Context(), 10)
	if err != nil {
		return err
	}
	views := make([]syncView, len(hist))
	for i, r := range hist {
		views[i] = syncView{SyncRun: r, Percent: syncPercent(r)}
	}
	data["History"] = views
	if id := c.QueryParam("run"); id != "" {
		run, err := cs.syncRun(c, id)
		if err != nil {
			return err
		}
		data["Run"] = run
	}
	return nil
}

func (cs *Console) catalogSync(c echo.Context) error {
	if cs.Catalog == nil {
		return &httpError{http.StatusNotImplemented, "Sync now is not available in this process."}
	}
	ctx := c.Request().Context()
	id, running, err := cs.Catalog.Start(ctx, actorOf(c))
	if err != nil {
		return err
	}
	ok := "sync"
	if running {
		ok = "sync_running"
	} else if err := cs.Store.Audit(ctx, auditEntry(c, "catalog.sync", id), nil, nil); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/catalog?ok="+ok+"&run="+url.QueryEscape(id))
}

// syncProgress is what the progress bar polls.
type syncProgress struct {
	ID      string        `json:"id"`
	Status  string        `json:"status"`
	Phase   string        `json:"phase"`
	Percent int           `json:"percent"`
	Done    bool          `json:"done"`
	Counts  db.SyncCounts `json:"counts"`
	Errors  []string      `json:"errors"`
}

func (cs *Console) catalogSyncProgress(c echo.Context) error {
	run, err := cs.syncRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, syncProgress{ID: run.ID, Status: run.Status, Phase: run.Phase, Percent: run.Percent,
		Done: run.Status != "running", Counts: run.Counts, Errors: run.Errors})
}

// kbDocView is one indexed document; Editable when it was written in the console.
type kbDocView struct {
	db.KnowledgeDoc
	Name     string
	Editable bool
}

func (cs *Console) knowledge(c echo.Context) error {
	ctx := c.Request().Context()
	docs, err := cs.Store.KnowledgeDocs(ctx)
	if err != nil {
		return err
	}
	views := make([]kbDocView, len(docs))
	for i, d := range docs {
		name, ok := strings.CutPrefix(d.Source, db.KBSourcePrefix)
		views[i] = kbDocView{KnowledgeDoc: d, Name: name, Editable: ok}
	}
	written, err := cs.Store.KBSources(ctx)
	if err != nil {
		return err
	}
	pending := 0
	for _, k := range written {
		if !k.Indexed {
			pending++
		}
	}
	data := map[string]any{"Docs": views, "Written": written, "Pending": pending, "PreviewAvailable": cs.Knowledge != nil,
		"IndexAvailable": cs.Indexer != nil}
	if src := c.QueryParam("source"); src != "" {
		if len(src) > 500 || !utf8.ValidString(src) || strings.ContainsRune(src, 0) {
			return badRequest("Unknown document.")
		}
		chunks, err := cs.Store.KnowledgeChunks(ctx, src)
		if err != nil {
			return err
		}
		data["Source"], data["Chunks"] = src, chunks
	}
	if qq := strings.TrimSpace(c.QueryParam("question")); qq != "" && cs.Knowledge != nil {
		if len(qq) > 300 || !utf8.ValidString(qq) || strings.ContainsRune(qq, 0) {
			return badRequest("The question is limited to 300 characters of text.")
		}
		hits, err := cs.Knowledge.Preview(ctx, qq, 5)
		if err != nil {
			return err
		}
		data["Question"], data["Hits"] = qq, hits
	}
	return cs.render(c, http.StatusOK, "knowledge", "Knowledge base", "knowledge", data)
}

// kbKinds are the document formats the indexer parses.
var kbKinds = []string{"markdown", "text", "html"}

// MaxKBBytes bounds one document written in the console (the indexer chunks it whole).
const MaxKBBytes = 200_000

type kbForm struct {
	Name, Title, Kind, Body string
	Editing                 bool
}

func (cs *Console) renderKBForm(c echo.Context, status int, f kbForm, msg string) error {
	title := "New knowledge document"
	if f.Editing {
		title = "Edit " + f.Name
	}
	return cs.render(c, status, "knowledge_doc", title, "knowledge", map[string]any{"F": f, "Kinds": kbKinds, "Error": msg})
}

func (cs *Console) kbEdit(c echo.Context) error {
	name := c.Param("name")
	if name == "" {
		return cs.renderKBForm(c, http.StatusOK, kbForm{Kind: "markdown"}, "")
	}
	if !db.KBSourceNameRe.MatchString(name) {
		return errNotFound
	}
	k, err := cs.Store.KBSource(c.Request().Context(), db.KBSourcePrefix+name)
	if err != nil {
		return err
	}
	return cs.renderKBForm(c, http.StatusOK, kbForm{Name: name, Title: k.Title, Kind: k.Kind, Body: k.Body, Editing: true}, "")
}

// kbSave creates or updates a document written in the console and starts the indexer, so
// the agent retrieves the new text within moments.
func (cs *Console) kbSave(c echo.Context) error {
	ctx := c.Request().Context()
	f := kbForm{Name: strings.ToLower(strings.TrimSpace(c.FormValue("name"))), Title: strings.TrimSpace(c.FormValue("title")),
		Kind: c.FormValue("kind"), Body: strings.ReplaceAll(c.FormValue("body"), "\r\n", "\n"), Editing: c.FormValue("mode") == "edit"}
	var problem string
	switch {
	case !db.KBSourceNameRe.MatchString(f.Name):
		problem = "Name: 1–80 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit (e.g. showroom-hours.md)."
	case utf8.RuneCountInString(f.Title) > 200 || !utf8.ValidString(f.Title) || strings.ContainsRune(f.Title, 0):
		problem = "Title: at most 200 characters."
	case !slices.Contains(kbKinds, f.Kind):
		problem = "Format must be markdown, text or html."
	case strings.TrimSpace(f.Body) == "":
		problem = "Write the document's text."
	case len(f.Body) > MaxKBBytes:
		problem = "The document is limited to " + strconv.Itoa(MaxKBBytes/1000) + " kB; split it into several documents."
	case !utf8.ValidString(f.Body) || strings.ContainsRune(f.Body, 0):
		problem = "The text contains characters that cannot be stored."
	}
	if problem != "" {
		return cs.renderKBForm(c, http.StatusUnprocessableEntity, f, problem)
	}
	k := db.KBSource{Source: db.KBSourcePrefix + f.Name, Title: f.Title, Kind: f.Kind, Body: f.Body}
	by := actorOf(c).Username
	var err error
	if f.Editing {
		_, err = cs.Store.UpdateKBSource(ctx, k, by, auditEntry(c, "knowledge.update", ""))
	} else {
		_, err = cs.Store.CreateKBSource(ctx, k, by, auditEntry(c, "knowledge.create", ""))
	}
	switch {
	case errors.Is(err, db.ErrDuplicate):
		return cs.renderKBForm(c, http.StatusUnprocessableEntity, f, "A document with this name exists; choose another name or edit it.")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/knowledge?ok="+cs.startIndex(c)+"&source="+url.QueryEscape(k.Source))
}

func (cs *Console) kbDelete(c echo.Context) error {
	name := c.Param("name")
	if !db.KBSourceNameRe.MatchString(name) {
		return errNotFound
	}
	if err := cs.Store.DeleteKBSource(c.Request().Context(), db.KBSourcePrefix+name, auditEntry(c, "knowledge.delete", "")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/knowledge?ok="+cs.startIndex(c))
}

func (cs *Console) kbReindex(c echo.Context) error {
	if cs.Indexer == nil {
		return &httpError{http.StatusNotImplemented, "Re-indexing is not available in this process."}
	}
	if err := cs.Store.Audit(c.Request().Context(), auditEntry(c, "knowledge.reindex", ""), nil, nil); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/knowledge?ok="+cs.startIndex(c))
}

// startIndex starts the indexer and names the flash message for the outcome. A document is
// saved even when the indexer cannot start now: the page shows it as not indexed yet.
func (cs *Console) startIndex(c echo.Context) string {
	if cs.Indexer == nil {
		return "kb_saved_not_indexed"
	}
	running, err := cs.Indexer.Reindex(c.Request().Context(), actorOf(c))
	switch {
	case err != nil:
		cs.Log.Error("could not start the knowledge indexer", "err", err)
		return "kb_saved_not_indexed"
	case running:
		return "reindex_running"
	}
	return "reindex"
}

// notificationStatuses are the filter tabs of the notifications log.
var notificationStatuses = []string{"sent", "failed", "pending"}

func (cs *Console) notifications(c echo.Context) error {
	status := c.QueryParam("status")
	if status != "" && !slices.Contains(notificationStatuses, status) {
		return badRequest("Unknown status %q.", status)
	}
	var before int64
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return badRequest("before must be a notification id.")
		}
		before = n
	}
	const page = 100
	rows, err := cs.Store.ListNotifications(c.Request().Context(), db.NotificationFilter{Status: status, Limit: page, BeforeID: before})
	if err != nil {
		return err
	}
	data := map[string]any{"Rows": rows, "Status": status, "Statuses": notificationStatuses}
	if len(rows) == page {
		data["Older"] = rows[len(rows)-1].ID
	}
	return cs.render(c, http.StatusOK, "notifications", "Notifications", "notifications", data)
}
