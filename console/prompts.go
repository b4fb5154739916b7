package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/db"
)

// MaxPromptBytes bounds a prompt's text (the request body limit is 1 MB).
const MaxPromptBytes = 200_000

func (cs *Console) promptList(c echo.Context) error {
	list, err := cs.Store.Prompts(c.Request().Context())
	if err != nil {
		return err
	}
	return cs.render(c, http.StatusOK, "prompts", "Prompts", "prompts", map[string]any{"Rows": list})
}

// promptEdit shows the editor, the versions, and a diff between two versions
// (?from=&to=, default: the previous version against the active one).
func (cs *Console) promptEdit(c echo.Context) error {
	return cs.renderPromptEdit(c, http.StatusOK, "", "", "")
}

func (cs *Console) renderPromptEdit(c echo.Context, status int, errMsg, draft, note string) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	p, err := cs.Store.PromptByName(ctx, name)
	if err != nil {
		return err
	}
	versions, err := cs.Store.PromptVersions(ctx, name)
	if err != nil {
		return err
	}
	to, _ := strconv.Atoi(c.QueryParam("to"))
	from, _ := strconv.Atoi(c.QueryParam("from"))
	if to == 0 {
		to = p.ActiveVersion
	}
	if from == 0 {
		from = to - 1
	}
	data := map[string]any{"P": p, "Versions": versions, "Error": errMsg, "Note": note, "From": from, "To": to}
	if draft == "" {
		draft = p.Text
	}
	data["Draft"] = draft
	if from > 0 && from != to {
		a, errA := cs.Store.PromptVersion(ctx, name, from)
		b, errB := cs.Store.PromptVersion(ctx, name, to)
		if errA == nil && errB == nil {
			data["Diff"] = Diff(a.Text, b.Text)
		}
	}
	return cs.render(c, status, "prompt", "Prompt "+name, "prompts", data)
}

func (cs *Console) promptSave(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	text := strings.ReplaceAll(c.FormValue("text"), "\r\n", "\n")
	note := strings.TrimSpace(c.FormValue("note"))
	expect, _ := strconv.Atoi(c.FormValue("active_version"))
	switch {
	case strings.TrimSpace(text) == "":
		return cs.renderPromptEdit(c, http.StatusUnprocessableEntity, "The prompt cannot be empty.", text, note)
	case len(text) > MaxPromptBytes:
		return cs.renderPromptEdit(c, http.StatusUnprocessableEntity, "The prompt is too long (200 000 bytes at most).", text, note)
	case note == "":
		return cs.renderPromptEdit(c, http.StatusUnprocessableEntity, "Say in a few words what you changed and why (the note).", text, note)
	case len(note) > 500:
		return cs.renderPromptEdit(c, http.StatusUnprocessableEntity, "The note is limited to 500 characters.", text, note)
	}
	a := actorOf(c)
	_, err := cs.Store.SavePrompt(ctx, name, text, a.Username, note, expect, auditEntry(c, "prompt.save", ""))
	switch {
	case errors.Is(err, db.ErrPromptUnchanged), errors.Is(err, db.ErrPromptVersionConflict):
		return cs.renderPromptEdit(c, http.StatusConflict, err.Error(), text, note)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/prompts/"+url.PathEscape(name)+"?ok=saved")
}

func (cs *Console) promptRollback(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	to, err := strconv.Atoi(c.FormValue("version"))
	if err != nil || to < 1 {
		return badRequest("Choose the version to roll back to.")
	}
	expect, _ := strconv.Atoi(c.FormValue("active_version"))
	_, err = cs.Store.RollbackPrompt(ctx, name, to, actorOf(c).Username, expect, auditEntry(c, "prompt.rollback", ""))
	switch {
	case errors.Is(err, db.ErrPromptUnchanged), errors.Is(err, db.ErrPromptVersionConflict):
		return cs.renderPromptEdit(c, http.StatusConflict, err.Error(), "", "")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/prompts/"+url.PathEscape(name)+"?ok=rolled_back")
}
