package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/db"
)

// getSettings returns the settings document, its version and the defaults for reference.
func (s *Server) getSettings(c echo.Context) error {
	rec, err := s.Store.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", strconv.Quote(strconv.Itoa(rec.Version)))
	return c.JSON(http.StatusOK, rec)
}

// patchSettings applies a JSON merge patch. If-Match (the version from GET's ETag) makes
// concurrent edits safe; without it the current version is assumed.
func (s *Server) patchSettings(c echo.Context) error {
	ctx := c.Request().Context()
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return BadRequest("(body)", "could not read the request body")
	}
	cur, err := s.Store.Settings(ctx)
	if err != nil {
		return err
	}
	expect := cur.Version
	if m := c.Request().Header.Get("If-Match"); m != "" {
		v, err := strconv.Atoi(trimQuotes(m))
		if err != nil {
			return BadRequest("If-Match", "must be the version number from the ETag header")
		}
		expect = v
	}
	next, err := cur.Settings.ApplyPatch(body)
	if err != nil {
		return err
	}
	by := c.Request().Header.Get("X-Actor")
	if by == "" {
		by = "api-key"
	}
	rec, err := s.Store.SaveSettings(ctx, next, expect, by)
	if errors.Is(err, db.ErrVersionConflict) {
		return Errf(http.StatusConflict, "conflict", err.Error())
	}
	if err != nil {
		return err
	}
	s.Log.Info("settings changed", "version", rec.Version, "by", by)
	c.Response().Header().Set("ETag", strconv.Quote(strconv.Itoa(rec.Version)))
	return c.JSON(http.StatusOK, rec)
}

func (s *Server) listSettingsChanges(c echo.Context) error {
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	changes, err := s.Store.SettingsChanges(c.Request().Context(), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"changes": changes})
}

func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }
