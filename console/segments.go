package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/db"
)

// Segments: the customer segment → discount table behind personal prices (DOMAIN.md
// "Pricing"). Admins edit it; every write is audited with before/after.

func (cs *Console) segments(c echo.Context) error {
	return cs.renderSegments(c, http.StatusOK, "", map[string]string{})
}

func (cs *Console) renderSegments(c echo.Context, status int, msg string, form map[string]string) error {
	list, err := cs.Store.Segments(c.Request().Context())
	if err != nil {
		return err
	}
	return cs.render(c, status, "segments", "Segments", "segments", map[string]any{"Rows": list, "Error": msg, "Form": form})
}

func (cs *Console) segmentSave(c echo.Context) error {
	ctx := c.Request().Context()
	name := strings.TrimSpace(c.FormValue("name"))
	form := map[string]string{"name": name, "discount_percent": c.FormValue("discount_percent"), "description": c.FormValue("description")}
	pct, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(form["discount_percent"]), "%")), 64)
	if err != nil {
		return cs.renderSegments(c, http.StatusUnprocessableEntity, "Discount: a number from 0 to 50.", form)
	}
	if len(form["description"]) > 300 {
		return cs.renderSegments(c, http.StatusUnprocessableEntity, "Description: at most 300 characters.", form)
	}
	var before *db.Segment
	if list, err := cs.Store.Segments(ctx); err == nil {
		for i := range list {
			if strings.EqualFold(list[i].Name, name) {
				before = &list[i]
			}
		}
	}
	actor := actorOf(c)
	saved, err := cs.Store.SaveSegment(ctx, db.Segment{Name: name, DiscountPercent: pct, Description: strings.TrimSpace(form["description"])}, actor.Username)
	if errors.Is(err, db.ErrInvalidSegment) {
		return cs.renderSegments(c, http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), db.ErrInvalidSegment.Error()+": "), form)
	}
	if err != nil {
		return err
	}
	if err := cs.Store.Audit(ctx, auditEntry(c, "segment.save", saved.Name), before, saved); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/segments?ok=saved")
}

func (cs *Console) segmentDelete(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	var before *db.Segment
	if list, err := cs.Store.Segments(ctx); err == nil {
		for i := range list {
			if strings.EqualFold(list[i].Name, name) {
				before = &list[i]
			}
		}
	}
	if err := cs.Store.DeleteSegment(ctx, name); errors.Is(err, db.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	if err := cs.Store.Audit(ctx, auditEntry(c, "segment.delete", name), before, nil); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/segments?ok=deleted")
}
